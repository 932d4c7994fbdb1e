#!/usr/bin/env bash
# evloop.sh: the connection-model comparison of issue 15 (bench/README.md,
# "Connection model"). Three servers under the same redis-benchmark load,
# interleaved in one run:
#
#   goroutine  tcached as shipped: a goroutine per connection (Serve)
#   evloop     tcached built with -tags evloop: the prototype epoll front
#              end, one loop per GOMAXPROCS (server/evloop_linux.go)
#   redis      redis-server 7 (requirepass, so both pay an AUTH per client)
#
#   bench/evloop.sh                          # about 15 minutes on 2 cores
#   REPS=5 CONNS="50 1000" bench/evloop.sh   # longer, or narrower
#
# 1. For each of REPS repetitions, each -c in CONNS, -P 1 and -P 16, and
#    each of TESTS (get, set): `redis-benchmark -t TEST -c C -d 100 -r KEYS
#    -n N -P P --csv` (N x4 at -P 16) against each server, rotating which
#    server goes first, reading the server's user+sys CPU ticks from
#    /proc/PID/stat around each run. Before the first run each server gets
#    KEYS keys (so GETs hit). Prints medians of req/s, server CPU per
#    request, redis-benchmark's p50/p99, and ratios to Redis. The CPU read
#    around a run includes accepting and authenticating its C clients.
# 2. Memory per idle connection, on fresh servers one at a time: VmRSS with
#    IDLE authenticated connections (a python3 client AUTHs each, reads
#    +OK, then holds them) minus VmRSS with none, divided by IDLE; median
#    of REPS.
#
# Environment: N (default 200000), REPS (3), CONNS ("50 1000 10000"),
# TESTS (get,set), KEYS (100000), IDLE (10000), EVLOOP_LOOPS (unset: one
# per GOMAXPROCS), GO, REDIS_SERVER, REDIS_CLI, REDIS_BENCHMARK, MAX_LIFE
# (2400 s, the most any started server may live). 10,000 connections need
# `ulimit -n` above 10,000 for the servers and redis-benchmark: the script
# raises the soft limit to the hard one (at most 65536) and fails if that
# is not enough. Every server listens on 127.0.0.1 only, is wrapped in
# `timeout` and is killed on exit. Progress goes to stderr, the report to
# stdout; RAW=FILE keeps the raw rows.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-200000}
REPS=${REPS:-3}
CONNS=${CONNS:-50 1000 10000}
TESTS=${TESTS:-get,set}
KEYS=${KEYS:-100000}
IDLE=${IDLE:-10000}
GO=${GO:-go}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_CLI=${REDIS_CLI:-redis-cli}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
MAX_LIFE=${MAX_LIFE:-2400}
PASS=bench-evloop-pw
SERVERS="goroutine evloop redis"

for bin in "$REDIS_SERVER" "$REDIS_CLI" "$REDIS_BENCHMARK" "$GO" python3 timeout sha256sum; do
	command -v "$bin" >/dev/null || { echo "evloop.sh: $bin not found" >&2; exit 1; }
done
[ "$(uname -s)" = Linux ] || { echo "evloop.sh: the event loop needs Linux" >&2; exit 1; }

# Enough descriptors for the largest client count, plus slack.
need=$(( $(printf '%s\n' $CONNS "$IDLE" | sort -n | tail -1) + 1000 ))
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=65536
want=$(( hard < 65536 ? hard : 65536 ))
ulimit -n "$want"
if [ "$want" -lt "$need" ]; then
	echo "evloop.sh: ulimit -n is at most $want, $need needed (lower CONNS/IDLE or raise the hard limit)" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcached-evloop.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building tcached (goroutine) and tcached -tags evloop..." >&2
"$GO" build -o "$tmp/tcached-goroutine" ./cmd/tcached
"$GO" build -tags evloop -o "$tmp/tcached-evloop" ./cmd/tcached

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

cat >"$tmp/tcached.yaml" <<EOF
listen: 127.0.0.1:0
metrics_listen: off
maxmemory: 4GiB
maxclients: $((need + 1000))
tiers:
  # No default TTL, no in-flight cap, no connection cap.
  bench: {default_ttl: 0, timeout: 0, max_concurrent: 0, max_connections: 0}
tenants:
  - id: bench
    tier: bench
    quota: 2GiB
    users:
      - name: bench
        password_sha256: $(printf %s "$PASS" | sha256sum | cut -d' ' -f1)
        role: admin
EOF

auth_args() { # SERVER: redis-benchmark / redis-cli credentials
	if [ "$1" = redis ]; then echo "-a $PASS"; else echo "--user bench -a $PASS"; fi
}

cli() { # SERVER PORT ARGS...
	local s=$1 port=$2
	shift 2
	# shellcheck disable=SC2046
	timeout 30 "$REDIS_CLI" -h 127.0.0.1 -p "$port" $(auth_args "$s") --no-auth-warning "$@"
}

# start SERVER: starts it on a free port; sets PORT_<s> and PID_<s> (the
# server's own pid, from INFO, not timeout's).
start() {
	local s=$1 port
	port=$(free_port)
	case $s in
	redis)
		timeout "$MAX_LIFE" "$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
			--requirepass "$PASS" --maxclients $((need + 1000)) --dir "$tmp" --loglevel warning >"$tmp/$s.log" 2>&1 &
		;;
	*)
		env -u GOMAXPROCS ${EVLOOP_LOOPS:+TCACHED_EVLOOP_LOOPS=$EVLOOP_LOOPS} timeout "$MAX_LIFE" "$tmp/tcached-$s" \
			--config "$tmp/tcached.yaml" --listen "127.0.0.1:$port" >"$tmp/$s.log" 2>&1 &
		;;
	esac
	pids+=($!)
	for _ in $(seq 1 200); do
		if [ "$(cli "$s" "$port" PING 2>/dev/null)" = PONG ]; then
			eval "PORT_$s=$port PID_$s=$(cli "$s" "$port" INFO server | awk -F: '/^process_id:/ {print $2+0}')"
			return
		fi
		sleep 0.05
	done
	echo "evloop.sh: $s never answered PING" >&2
	cat "$tmp/$s.log" >&2
	exit 1
}

stop_all() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
}

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
HZ=$(getconf CLK_TCK)

# run SERVER TEST P C: one redis-benchmark run; appends
# "server test P C rps cpu_us p50 p99" to rows.txt.
run() {
	local s=$1 test=$2 p=$3 c=$4 port pid n t0 t1
	port=PORT_$s pid=PID_$s
	port=${!port} pid=${!pid}
	n=$N
	[ "$p" -gt 1 ] && n=$((N * 4)) # enough CPU ticks at 100 Hz
	t0=$(ticks "$pid")
	# shellcheck disable=SC2046
	timeout 600 "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$port" $(auth_args "$s") -t "$test" -c "$c" -d 100 \
		-r "$KEYS" -n "$n" -P "$p" --csv >"$tmp/out.csv" 2>"$tmp/err.txt" || {
		echo "evloop.sh: redis-benchmark failed against $s ($test -c $c -P $p):" >&2
		cat "$tmp/out.csv" "$tmp/err.txt" >&2
		exit 1
	}
	t1=$(ticks "$pid")
	if grep -qi error "$tmp/out.csv" "$tmp/err.txt"; then
		echo "evloop.sh: redis-benchmark reported an error against $s:" >&2
		cat "$tmp/out.csv" "$tmp/err.txt" >&2
		exit 1
	fi
	# CSV: "test","rps","avg","min","p50","p95","p99","max" (ms).
	awk -F'","' -v s="$s" -v t="$test" -v p="$p" -v c="$c" -v d=$((t1 - t0)) -v hz="$HZ" -v n="$n" '
		NR == 2 { gsub(/"/, "", $8); printf "%s\t%s\t%s\t%s\t%s\t%.3f\t%s\t%s\n", s, t, p, c, $2, d / hz * 1e6 / n, $5, $7 }' \
		"$tmp/out.csv" >>"$tmp/rows.txt"
}

echo "## evloop.sh: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); kernel $(uname -r)"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $("$GO" version); $("$REDIS_SERVER" --version | cut -d' ' -f1-3); tcached git $(git describe --always --dirty 2>/dev/null || echo unknown)"
echo "- N=$N (x4 at -P 16) REPS=$REPS CONNS=\"$CONNS\" TESTS=$TESTS KEYS=$KEYS IDLE=$IDLE ulimit -n $(ulimit -n); evloop loops: ${EVLOOP_LOOPS:-GOMAXPROCS}"
echo

for s in $SERVERS; do start "$s"; done
for s in $SERVERS; do
	port=PORT_$s
	# shellcheck disable=SC2046
	timeout 300 "$REDIS_BENCHMARK" -h 127.0.0.1 -p "${!port}" $(auth_args "$s") -t set -c 50 -d 100 \
		-r "$KEYS" -n $((KEYS * 3)) -P 16 -q >/dev/null 2>&1
done
: >"$tmp/rows.txt"
rot=0
for rep in $(seq 1 "$REPS"); do
	for c in $CONNS; do
		for p in 1 16; do
			for test in ${TESTS//,/ }; do
				set -- $SERVERS
				order=$(for i in 0 1 2; do j=$(((i + rot) % 3 + 1)); echo "${!j}"; done)
				rot=$((rot + 1))
				for s in $order; do
					echo "  rep $rep/$REPS -c $c -P $p $test $s (load $(cut -d' ' -f1 /proc/loadavg))" >&2
					run "$s" "$test" "$p" "$c"
				done
			done
		done
	done
done
stop_all
echo "- load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# Memory per idle connection, one fresh server at a time.
cat >"$tmp/idle.py" <<'EOF'
import socket, sys
port, n, auth = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(auth)
    socks.append(s)
for s in socks:
    buf = b""
    while not buf.endswith(b"\r\n"):
        chunk = s.recv(64)
        if not chunk:
            sys.exit("connection closed before +OK")
        buf += chunk
    if buf != b"+OK\r\n":
        sys.exit("AUTH answered %r" % buf)
print("ready", flush=True)
sys.stdin.read()  # hold the connections until the script closes our stdin
EOF
: >"$tmp/mem.txt"
for rep in $(seq 1 "$REPS"); do
	for s in $SERVERS; do
		echo "  idle memory rep $rep/$REPS $s" >&2
		start "$s"
		pid=PID_$s port=PORT_$s
		pid=${!pid} port=${!port}
		sleep 1
		before=$(rss_kib "$pid")
		if [ "$s" = redis ]; then auth="AUTH $PASS"; else auth="AUTH bench $PASS"; fi
		mkfifo "$tmp/hold"
		timeout 300 python3 "$tmp/idle.py" "$port" "$IDLE" "$auth"$'\r\n' <"$tmp/hold" >"$tmp/idle.out" 2>&1 &
		ipid=$!
		exec 3>"$tmp/hold"
		for _ in $(seq 1 1200); do
			grep -q ready "$tmp/idle.out" && break
			kill -0 "$ipid" 2>/dev/null || break
			sleep 0.1
		done
		grep -q ready "$tmp/idle.out" || { echo "evloop.sh: idle client failed against $s:" >&2; cat "$tmp/idle.out" >&2; exit 1; }
		sleep 2
		after=$(rss_kib "$pid")
		exec 3>&-
		wait "$ipid" || true
		rm -f "$tmp/hold"
		printf '%s\t%s\t%s\n' "$s" "$before" "$after" >>"$tmp/mem.txt"
		stop_all
	done
done

[ -n "${RAW:-}" ] && cat "$tmp/rows.txt" "$tmp/mem.txt" >"$RAW"

python3 - "$tmp/rows.txt" "$tmp/mem.txt" "$IDLE" "$REPS" <<'EOF'
import sys, statistics as st
rows, mem, idle, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
d = {}
for line in open(rows):
    s, t, p, c, rps, cpu, p50, p99 = line.split("\t")
    d.setdefault((t, int(p), int(c)), {}).setdefault(s, []).append(tuple(map(float, (rps, cpu, p50, p99))))
med = lambda v, i: st.median(x[i] for x in v)
print(f"### Requests (median of {reps}; ratios to redis: req/s above 1 is faster, CPU and latency above 1 cost more)")
print()
print("| test | -c | -P | redis req/s | goroutine | evloop | redis CPU/req | goroutine | evloop | redis p50 / p99 ms | goroutine | evloop |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for (t, p, c) in sorted(d, key=lambda k: (k[2], k[1], k[0])):
    v = d[(t, p, c)]
    R = [med(v["redis"], i) for i in range(4)]
    cells = []
    for s in ("goroutine", "evloop"):
        x = [med(v[s], i) for i in range(4)]
        cells.append((x, [x[i] / R[i] if R[i] else float("nan") for i in range(4)]))
    (g, gr), (e, er) = cells
    print(f"| {t.upper()} | {c} | {p} | {R[0]:.0f} | {g[0]:.0f} ({gr[0]:.2f}) | {e[0]:.0f} ({er[0]:.2f}) "
          f"| {R[1]:.2f} µs | {g[1]:.2f} ({gr[1]:.2f}) | {e[1]:.2f} ({er[1]:.2f}) "
          f"| {R[2]:.3f} / {R[3]:.3f} | {g[2]:.3f} / {g[3]:.3f} ({gr[2]:.2f} / {gr[3]:.2f}) | {e[2]:.3f} / {e[3]:.3f} ({er[2]:.2f} / {er[3]:.2f}) |")
print()
m = {}
for line in open(mem):
    s, before, after = line.split()
    m.setdefault(s, []).append((int(before), int(after)))
print(f"### Memory per idle connection ({idle} authenticated idle clients; median of {reps} fresh servers)")
print()
print("| server | RSS with none | RSS with them | per connection | ratio to redis |")
print("|---|---|---|---|---|")
per = {s: st.median((a - b) * 1024 / idle for b, a in v) for s, v in m.items()}
for s in ("redis", "goroutine", "evloop"):
    v = m[s]
    print(f"| {s} | {st.median(b for b, _ in v) / 1024:.1f} MiB | {st.median(a for _, a in v) / 1024:.1f} MiB "
          f"| {per[s]:.0f} B | {per[s] / per['redis']:.2f} |")
EOF
