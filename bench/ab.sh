#!/usr/bin/env bash
# ab.sh: two revisions of tcached side by side under the same redis-benchmark
# load, interleaved, in one run: throughput and server CPU per request.
#
#   bench/ab.sh REV_A [REV_B]        # REV_B defaults to the working tree
#   REPS=5 N=300000 bench/ab.sh d5dc466 HEAD
#
# What a change costs per request, which a throughput figure on 2 shared
# cores hides (tcached spreads over both cores). For each of REPS
# repetitions, alternating which revision goes first, it runs
# `redis-benchmark -t TESTS -c C -d 100 -r 1000000 -n N -P P` for P in 1
# and 16 against each server, and reads the server's user+sys CPU ticks
# from /proc/PID/stat around each run: CPU per request = ticks / requests.
# It prints the medians and B/A ratios (throughput: above 1 means B is
# faster; CPU: above 1 means B costs more).
#
# Both servers serve one tenant (no default TTL, no in-flight cap), with
# EXTRA_A / EXTRA_B appended to its YAML (e.g. EXTRA_B="fair_share: false").
# Environment: N (default 200000), REPS (default 5), C (default 50), TESTS
# (default get,set), GO, REDIS_BENCHMARK, REDIS_CLI. Every server listens on
# 127.0.0.1 only, is wrapped in `timeout` and is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

REV_A=${1:?usage: bench/ab.sh REV_A [REV_B]}
REV_B=${2:-}
N=${N:-200000}
REPS=${REPS:-5}
C=${C:-50}
TESTS=${TESTS:-get,set}
GO=${GO:-go}
REDIS_CLI=${REDIS_CLI:-redis-cli}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
MAX_LIFE=${MAX_LIFE:-1800}
PASS=bench-ab-pw

. bench/lib.sh
bench_need "$REDIS_CLI" "$REDIS_BENCHMARK" "$GO" python3
bench_tmp

# build REV OUT: builds cmd/tcached at REV (a git revision, or "" for the
# working tree) into OUT.
build() {
	local rev=$1 out=$2
	if [ -z "$rev" ]; then
		"$GO" build -o "$out" ./cmd/tcached
		return
	fi
	local src="$tmp/src-$(basename "$out")"
	mkdir -p "$src"
	git archive "$rev" | tar -x -C "$src"
	(cd "$src" && "$GO" build -o "$out" ./cmd/tcached)
}

echo "building A=${REV_A} B=${REV_B:-working tree}" >&2
build "$REV_A" "$tmp/tcached-a"
build "$REV_B" "$tmp/tcached-b"

# start NAME EXTRA: starts tcached-NAME; sets PORT_NAME and PID_NAME.
start() {
	local name=$1 extra=$2 port
	port=$(free_port)
	cat >"$tmp/$name.yaml" <<EOF
listen: 127.0.0.1:$port
metrics_listen: off
maxmemory: 2GiB
tiers:
  bench: {default_ttl: 0, timeout: 0, max_concurrent: 0}
tenants:
  - id: bench
    tier: bench
    quota: 1GiB
    users:
      - name: bench
        password_sha256: $(printf %s "$PASS" | sha256sum | cut -d' ' -f1)
        role: admin
$extra
EOF
	timeout "$MAX_LIFE" "$tmp/tcached-$name" --config "$tmp/$name.yaml" >"$tmp/$name.log" 2>&1 &
	local pid=$!
	pids+=("$pid")
	for _ in $(seq 1 100); do
		if [ "$(timeout 5 "$REDIS_CLI" -p "$port" --user bench --pass "$PASS" --no-auth-warning PING 2>/dev/null)" = PONG ]; then
			# The server's own pid (not timeout's), for /proc/PID/stat.
			pid=$(timeout 5 "$REDIS_CLI" -p "$port" --user bench --pass "$PASS" --no-auth-warning INFO server |
				awk -F: '/^process_id:/ {print $2+0}')
			eval "PORT_$name=$port PID_$name=$pid"
			return
		fi
		sleep 0.05
	done
	echo "ab.sh: tcached-$name never answered PING" >&2
	cat "$tmp/$name.log" >&2
	exit 1
}

start a "${EXTRA_A:-}"
start b "${EXTRA_B:-}"

HZ=$(getconf CLK_TCK)

: >"$tmp/results.txt"
for rep in $(seq 1 "$REPS"); do
	for p in 1 16; do
		if [ $((rep % 2)) = 1 ]; then order="a b"; else order="b a"; fi
		for s in $order; do
			port_var=PORT_$s pid_var=PID_$s
			port=${!port_var} pid=${!pid_var}
			echo "  rep $rep/$REPS -P $p $s" >&2
			t0=$(ticks "$pid")
			timeout 600 "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$port" --user bench -a "$PASS" \
				-t "$TESTS" -c "$C" -d 100 -r 1000000 -n "$N" -P "$p" -q --csv >"$tmp/out.csv" 2>/dev/null
			t1=$(ticks "$pid")
			ntests=$(awk 'NR > 1' "$tmp/out.csv" | wc -l)
			# CPU is read around the whole run (all tests), so it is per
			# request over the tests together.
			cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v n="$N" -v k="$ntests" 'BEGIN {printf "%.3f", d / hz * 1e6 / (n * k)}')
			awk -F'","' -v s="$s" -v p="$p" -v cpu="$cpu_us" 'NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $2); print s "\t" p "\t" $1 "\t" $2 "\t" cpu }' \
				"$tmp/out.csv" >>"$tmp/results.txt"
		done
	done
done

echo "## ab.sh: A=${REV_A} B=${REV_B:-working tree} ($(date -u '+%Y-%m-%d %H:%M UTC'); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "redis-benchmark -t $TESTS -c $C -d 100 -r 1000000 -n $N, $REPS reps interleaved; medians; CPU = server user+sys per request over the run's tests; EXTRA_A=\"${EXTRA_A:-}\" EXTRA_B=\"${EXTRA_B:-}\""
echo
echo "| test | -P | A req/s | B req/s | B/A | A CPU/req | B CPU/req | B/A |"
echo "|---|---|---|---|---|---|---|---|"
[ -n "${AB_RESULTS:-}" ] && cp "$tmp/results.txt" "$AB_RESULTS" # raw rows, for a closer look
python3 - "$tmp/results.txt" <<'EOF'
import sys, statistics as st
rows = {}
for line in open(sys.argv[1]):
    s, p, test, rps, cpu = line.rstrip("\n").split("\t")
    rows.setdefault((test, int(p)), {}).setdefault(s, []).append((float(rps), float(cpu)))
for (test, p), v in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    a_r = st.median(x[0] for x in v["a"]); b_r = st.median(x[0] for x in v["b"])
    a_c = st.median(x[1] for x in v["a"]); b_c = st.median(x[1] for x in v["b"])
    print(f"| {test} | {p} | {a_r:.0f} | {b_r:.0f} | {b_r / a_r:.3f} | {a_c:.2f} µs | {b_c:.2f} µs | {b_c / a_c:.3f} |")
EOF
