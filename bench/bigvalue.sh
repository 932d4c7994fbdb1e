#!/usr/bin/env bash
# bigvalue.sh: server CPU per request for big values, tcached next to
# redis-server, in one run.
#
#   bench/bigvalue.sh                          # 512 KiB values
#   SIZE=131072 REPS=5 N=20000 bench/bigvalue.sh
#
# Both servers start on free 127.0.0.1 ports (tcached: one default tenant,
# quota 512MiB; redis-server: no persistence), KEYS keys of SIZE bytes are
# written, then `redis-benchmark -t get|set -c 4 -d SIZE -r KEYS -n N` runs
# REPS times against each, alternating, and the server's user+sys CPU
# ticks (/proc/PID/stat) around each run give CPU per request. Prints the
# median req/s and CPU per request of each, and tcached/redis.
#
# Environment: SIZE (524288), KEYS (128), N (10000), REPS (3), GO,
# REDIS_SERVER, REDIS_BENCHMARK.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-524288} KEYS=${KEYS:-128} N=${N:-10000} REPS=${REPS:-3}
GO=${GO:-go}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
. bench/lib.sh
bench_need "$GO" "$REDIS_SERVER" "$REDIS_BENCHMARK" python3 timeout
bench_tmp
"$GO" build -o "$tmp/tcached" ./cmd/tcached
tport=$(free_port)
rport=$(free_port)
cat >"$tmp/tcached.yaml" <<YAML
listen: 127.0.0.1:$tport
metrics_listen: off
maxmemory: 2GiB
default_tenant: big
tenants:
  - id: big
    tier: gold
    quota: 512MiB
YAML
timeout 3600 "$tmp/tcached" --config "$tmp/tcached.yaml" >"$tmp/tcached.log" 2>&1 &
tpid=$!
pids+=("$tpid")
timeout 3600 "$REDIS_SERVER" --port "$rport" --bind 127.0.0.1 --save '' --appendonly no >"$tmp/redis.log" 2>&1 &
rpid=$!
pids+=("$rpid")
sleep 1
# The servers run under timeout: their CPU is their child's.
tcpu=$(pgrep -P "$tpid")
rcpu=$(pgrep -P "$rpid")
hz=$(getconf CLK_TCK)
for port in "$tport" "$rport"; do
	timeout 600 "$REDIS_BENCHMARK" -p "$port" -t set -c 4 -d "$SIZE" -r "$KEYS" -n $((KEYS * 4)) -q >/dev/null
done
# run NAME PORT PID TEST: one load; appends "name test rps us_per_req".
run() {
	local c0 c1 rps
	c0=$(ticks "$3")
	rps=$(timeout 600 "$REDIS_BENCHMARK" -p "$2" -t "$4" -c 4 -d "$SIZE" -r "$KEYS" -n "$N" -q --csv | tail -1 | cut -d, -f2 | tr -d '"')
	c1=$(ticks "$3")
	echo "$1 $4 $rps $(awk -v d=$((c1 - c0)) -v hz="$hz" -v n="$N" 'BEGIN{printf "%.1f", d*1e6/hz/n}')" >>"$tmp/res"
}
for rep in $(seq "$REPS"); do
	for test in get set; do
		if ((rep % 2)); then
			run tcached "$tport" "$tcpu" "$test"
			run redis "$rport" "$rcpu" "$test"
		else
			run redis "$rport" "$rcpu" "$test"
			run tcached "$tport" "$tcpu" "$test"
		fi
	done
done
median() { sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "## bigvalue.sh ($(date -u '+%Y-%m-%d %H:%M UTC'); nproc $(nproc); SIZE=$SIZE KEYS=$KEYS N=$N REPS=$REPS; $(git rev-parse --short HEAD 2>/dev/null))"
echo
echo "| test | tcached req/s | redis req/s | ratio | tcached CPU/req | redis CPU/req | ratio |"
echo "|---|---|---|---|---|---|---|"
for test in get set; do
	tr=$(awk -v t=$test '$1=="tcached" && $2==t {print $3}' "$tmp/res" | median)
	rr=$(awk -v t=$test '$1=="redis" && $2==t {print $3}' "$tmp/res" | median)
	tc=$(awk -v t=$test '$1=="tcached" && $2==t {print $4}' "$tmp/res" | median)
	rc=$(awk -v t=$test '$1=="redis" && $2==t {print $4}' "$tmp/res" | median)
	awk -v t="$test" -v tr="$tr" -v rr="$rr" -v tc="$tc" -v rc="$rc" 'BEGIN{printf "| %s | %.0f | %.0f | %.2fx | %.1f µs | %.1f µs | %.2fx |\n", toupper(t), tr, rr, tr/rr, tc, rc, tc/rc}'
done
