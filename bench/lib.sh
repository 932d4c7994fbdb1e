# lib.sh: what the bench scripts share; sourced, not run.
#
#   . "$(dirname "$0")/lib.sh"
#   bench_need go redis-benchmark     # exit 1 naming the first missing command
#   bench_tmp                         # $tmp, a scratch dir; $pids, killed on exit
#   port=$(free_port)                 # a free loopback port
#   ticks PID                         # user+sys CPU ticks of PID so far

# bench_need exits 1, naming it, when one of the commands is missing.
bench_need() {
	local cmd
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null || { echo "$(basename "$0"): $cmd not found" >&2; exit 1; }
	done
}

# bench_tmp makes $tmp and the $pids array, and on exit kills every pid
# in $pids and removes $tmp.
bench_tmp() {
	tmp=$(mktemp -d)
	pids=()
	trap bench_cleanup EXIT
}

bench_cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}

# free_port binds :0 on loopback, prints the port and releases it.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ticks prints the user+sys CPU ticks process $1 has used.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
