#!/usr/bin/env bash
# charged.sh: how much of the server's CPU fair sharing sees, per load shape.
#
#   bench/charged.sh
#
# Fair sharing divides a contended server by what it charges each tenant:
# the service time of its commands (admission, "Fair sharing when
# contended"). Work outside any command is charged to nobody: accepting and
# closing connections, socket copies the kernel does between commands, the
# garbage collector's background work. This script serves one tenant of
# the example config, runs one redis-benchmark load at a time against it,
# and prints, per load, the server's user+sys CPU (/proc/PID/stat) beside
# what /metrics says was charged (tcached_tenant_cpu_seconds_total, and
# tcached_unattributed_cpu_seconds_total for connections before AUTH).
# Above 100% means service time (wall time) counted waits for a core too.
#
# Environment: GO, REDIS_BENCHMARK, REDIS_CLI, CURL. The server listens on
# 127.0.0.1 only, on free ports, under `timeout`, and is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
REDIS_CLI=${REDIS_CLI:-redis-cli}
CURL=${CURL:-curl}
. bench/lib.sh
bench_need "$GO" "$REDIS_BENCHMARK" "$REDIS_CLI" "$CURL" python3
bench_tmp
PORT=$(free_port)
MPORT=$(free_port)
"$GO" build -o "$tmp/tcached" ./cmd/tcached
timeout 600 "$tmp/tcached" --config tcached.example.yaml --listen "127.0.0.1:$PORT" \
	--metrics-listen "127.0.0.1:$MPORT" >"$tmp/tcached.log" 2>&1 &
pids+=($!)
AUTH=(--user pay-app -a pay-secret)
for _ in $(seq 1 100); do
	[ "$(timeout 5 "$REDIS_CLI" -p "$PORT" "${AUTH[@]}" --no-auth-warning PING 2>/dev/null)" = PONG ] && break
	sleep 0.05
done
SPID=$(timeout 5 "$REDIS_CLI" -p "$PORT" "${AUTH[@]}" --no-auth-warning INFO server | awk -F: '/^process_id:/ {print $2+0}')
HZ=$(getconf CLK_TCK)

# charged: "tenants unattributed" seconds so far.
charged() {
	"$CURL" -s "127.0.0.1:$MPORT/metrics" | awk '
		/^tcached_tenant_cpu_seconds_total/ { s += $2 }
		/^tcached_unattributed_cpu_seconds_total/ { u += $2 }
		END { printf "%.6f %.6f\n", s, u }'
}

run() {
	local name=$1 c0 u0 c1 u1 t0 t1
	shift
	read -r c0 u0 < <(charged)
	t0=$(ticks "$SPID")
	timeout 600 "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$PORT" "${AUTH[@]}" -r 100000 "$@" >/dev/null 2>&1
	t1=$(ticks "$SPID")
	read -r c1 u1 < <(charged)
	awk -v n="$name" -v c0="$c0" -v c1="$c1" -v u0="$u0" -v u1="$u1" -v dt=$((t1 - t0)) -v hz="$HZ" 'BEGIN {
		cpu = dt / hz
		printf "| %s | %.2f s | %.2f s | %.3f s | %.0f%% |\n", n, cpu, c1 - c0, u1 - u0, (cpu > 0 ? 100 * (c1 - c0) / cpu : 0)
	}'
}

echo "## charged.sh ($(date -u '+%Y-%m-%d %H:%M UTC'); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg); $(git describe --always --dirty))"
echo
echo "| load (redis-benchmark) | server CPU | charged to the tenant | unattributed | charged / CPU |"
echo "|---|---|---|---|---|"
run "SET 2 KB, -c 100" -t set -d 2000 -c 100 -n 200000
run "SET 2 KB, -c 4 -P 64" -t set -d 2000 -c 4 -P 64 -n 400000
run "GET, -c 50" -t get -c 50 -n 200000
run "SET 512 KB, -c 4" -t set -d 524288 -c 4 -n 2000
run "SET, a new connection per request (-k 0), -c 8" -t set -c 8 -k 0 -n 20000
