#!/usr/bin/env bash
# compare.sh: tcached next to redis-server, measured with redis-benchmark and
# redis-cli on this machine, in one run.
#
#   bench/compare.sh                    # or: make bench-compare
#   N=500000 REPS=5 bench/compare.sh    # longer, steadier
#
# 1. Throughput: `redis-benchmark -t set,get,incr,mset -c 50 -d 100
#    -r 1000000 -n N -q --csv` at -P 1 and -P 16, REPS repetitions,
#    alternating which server goes first; prints the median req/s of each
#    and tcached/redis (req/s ratio: above 1 means tcached is faster).
# 2. Memory: fresh servers, 1,000,000 SETs of key:%07d (11 B) -> 100-byte
#    value through `redis-cli --pipe`; prints DBSIZE, VmRSS before/after,
#    bytes per key = (RSS after - RSS before) / keys and overhead per key =
#    bytes per key - (11 + 100).
#
# Environment: N (default 200000), REPS (default 3), KEYS (default 1000000),
# REDIS_SERVER / REDIS_CLI / REDIS_BENCHMARK (default: from PATH), GO.
# Every process it starts listens on 127.0.0.1 only, is wrapped in `timeout`
# and is killed on exit.
set -euo pipefail

N=${N:-200000}
REPS=${REPS:-3}
KEYS=${KEYS:-1000000}
GO=${GO:-go}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_CLI=${REDIS_CLI:-redis-cli}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
MAX_LIFE=${MAX_LIFE:-1200} # seconds any started server may live

cd "$(dirname "$0")/.."
for bin in "$REDIS_SERVER" "$REDIS_CLI" "$REDIS_BENCHMARK" "$GO" awk sort timeout sha256sum; do
	command -v "$bin" >/dev/null || { echo "compare.sh: $bin not found" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcached-compare.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASS=bench-compare-pw
USER_ARGS=(--user bench --pass "$PASS" --no-auth-warning)

echo "building tcached..." >&2
"$GO" build -o "$tmp/tcached" ./cmd/tcached

# free_port binds :0 on loopback, reads the port and releases it.
free_port() {
	if command -v python3 >/dev/null && python3 -c 'import socket' 2>/dev/null; then
		python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
		return
	fi
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
}

cat >"$tmp/tcached.yaml" <<EOF
listen: 127.0.0.1:0
metrics_listen: off
maxmemory: 3GiB
tiers:
  # No default TTL and no in-flight cap: 50 clients must not be throttled.
  bench: {default_ttl: 0, timeout: 0, max_concurrent: 0}
tenants:
  - id: bench
    tier: bench
    quota: 2GiB
    users:
      - name: bench
        password_sha256: $(printf %s "$PASS" | sha256sum | cut -d' ' -f1)
        role: admin
EOF

# cli PORT [auth...] ARGS...: redis-cli against a local port, bounded.
cli() {
	local port=$1
	shift
	timeout 30 "$REDIS_CLI" -h 127.0.0.1 -p "$port" "$@"
}

wait_ping() {
	local port=$1
	shift
	for _ in $(seq 1 100); do
		if [ "$(cli "$port" "$@" PING 2>/dev/null)" = PONG ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "compare.sh: server on port $port never answered PING" >&2
	return 1
}

# start_servers sets RPORT/TPORT and RPID/TPID (the servers' own pids, from
# INFO, for /proc/PID/status).
start_servers() {
	RPORT=$(free_port)
	timeout "$MAX_LIFE" "$REDIS_SERVER" --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$tmp" --daemonize no --loglevel warning >"$tmp/redis.log" 2>&1 &
	pids+=($!)
	TPORT=$(free_port)
	timeout "$MAX_LIFE" "$tmp/tcached" --config "$tmp/tcached.yaml" --listen "127.0.0.1:$TPORT" \
		--metrics-listen off >"$tmp/tcached.log" 2>&1 &
	pids+=($!)
	wait_ping "$RPORT"
	wait_ping "$TPORT" "${USER_ARGS[@]}"
	RPID=$(cli "$RPORT" INFO server | awk -F: '/^process_id:/ {print $2+0}')
	TPID=$(cli "$TPORT" "${USER_ARGS[@]}" INFO server | awk -F: '/^process_id:/ {print $2+0}')
}

stop_servers() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	pids=()
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# bench SERVER PORT P REP: one redis-benchmark run, appended to results as
# "server P test rps".
bench() {
	local server=$1 port=$2 p=$3 auth=()
	[ "$server" = tcached ] && auth=(--user bench -a "$PASS")
	timeout 600 "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$port" "${auth[@]}" \
		-t set,get,incr,mset -c 50 -d 100 -r 1000000 -n "$N" -P "$p" -q --csv >"$tmp/out.csv" 2>"$tmp/err.txt" || {
		echo "compare.sh: redis-benchmark failed against $server (-P $p):" >&2
		cat "$tmp/out.csv" "$tmp/err.txt" >&2
		exit 1
	}
	if grep -qi error "$tmp/out.csv" "$tmp/err.txt"; then
		echo "compare.sh: redis-benchmark reported an error against $server:" >&2
		cat "$tmp/out.csv" "$tmp/err.txt" >&2
		exit 1
	fi
	# CSV: "test","rps","avg_latency_ms",...; the first line is the header.
	awk -F'","' -v s="$server" -v p="$p" 'NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $2); print s "\t" p "\t" $1 "\t" $2 }' \
		"$tmp/out.csv" >>"$tmp/results.txt"
}

echo "throughput: N=$N REPS=$REPS, redis-benchmark -c 50 -d 100 -r 1000000" >&2
start_servers
: >"$tmp/results.txt"
for rep in $(seq 1 "$REPS"); do
	for p in 1 16; do
		if [ $((rep % 2)) = 1 ]; then order="redis tcached"; else order="tcached redis"; fi
		for s in $order; do
			port=$RPORT
			[ "$s" = tcached ] && port=$TPORT
			echo "  rep $rep/$REPS -P $p $s" >&2
			bench "$s" "$port" "$p"
		done
	done
done
stop_servers

echo
echo "## Throughput (median of $REPS, req/s; ratio = tcached/redis, >1 means tcached faster)"
echo
printf '| %-14s | %3s | %12s | %12s | %6s |\n' test P redis tcached ratio
printf '|%s|%s|%s|%s|%s|\n' ---------------- ----- -------------- -------------- --------
# median over reps of each (server, P, test)
awk -F'\t' '
	{ key = $1 SUBSEP $2 SUBSEP $3; n[key]++; v[key, n[key]] = $4; tests[$2 SUBSEP $3] = 1; if (!($3 in order)) order[$3] = ++no }
	function median(key,   i, j, t, a, m) {
		m = n[key]; for (i = 1; i <= m; i++) a[i] = v[key, i] + 0
		for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	END {
		for (tk in tests) {
			split(tk, parts, SUBSEP); p = parts[1]; test = parts[2]
			r = median("redis" SUBSEP p SUBSEP test); c = median("tcached" SUBSEP p SUBSEP test)
			printf "%d\t%02d\t| %-14s | %3s | %12.0f | %12.0f | %6.2f |\n", p, order[test], test, p, r, c, (r > 0 ? c / r : 0)
		}
	}' "$tmp/results.txt" | sort -t "$(printf '\t')" -k1,1n -k2,2n | cut -f3-

echo
echo "memory: $KEYS keys of 100-byte values via redis-cli --pipe" >&2
start_servers
declare -A before after dbsize used
before[redis]=$(rss_kib "$RPID")
before[tcached]=$(rss_kib "$TPID")
gen() {
	awk -v n="$KEYS" 'BEGIN {
		v = sprintf("%100s", ""); gsub(/ /, "v", v)
		for (i = 0; i < n; i++) printf "*3\r\n$3\r\nSET\r\n$11\r\nkey:%07d\r\n$100\r\n%s\r\n", i, v
	}'
}
gen | timeout 300 "$REDIS_CLI" -h 127.0.0.1 -p "$RPORT" --pipe >"$tmp/pipe-redis.txt"
gen | timeout 300 "$REDIS_CLI" -h 127.0.0.1 -p "$TPORT" "${USER_ARGS[@]}" --pipe >"$tmp/pipe-tcached.txt"
for s in redis tcached; do
	if ! grep -q "errors: 0, replies: $KEYS" "$tmp/pipe-$s.txt"; then
		echo "compare.sh: loading $s failed:" >&2
		cat "$tmp/pipe-$s.txt" >&2
		exit 1
	fi
done
sleep 1 # let RSS settle (Go's background GC, jemalloc purge)
after[redis]=$(rss_kib "$RPID")
after[tcached]=$(rss_kib "$TPID")
dbsize[redis]=$(cli "$RPORT" DBSIZE)
dbsize[tcached]=$(cli "$TPORT" "${USER_ARGS[@]}" DBSIZE)
used[redis]=$(cli "$RPORT" INFO memory | awk -F: '/^used_memory:/ {print $2+0}')
used[tcached]=$(cli "$TPORT" "${USER_ARGS[@]}" INFO memory | awk -F: '/^used_memory:/ {print $2+0}')
stop_servers

echo
echo "## Memory ($KEYS SETs, 11-byte keys, 100-byte values)"
echo
printf '| %-8s | %9s | %13s | %12s | %9s | %12s | %18s |\n' server keys "RSS before" "RSS after" "B/key" "overhead/key" "used_memory/key"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ---------- ----------- --------------- -------------- ----------- -------------- --------------------
for s in redis tcached; do
	awk -v s="$s" -v k="${dbsize[$s]}" -v b="${before[$s]}" -v a="${after[$s]}" -v u="${used[$s]}" 'BEGIN {
		bpk = (a - b) * 1024 / k
		printf "| %-8s | %9d | %9.1f MiB | %8.1f MiB | %9.1f | %12.1f | %18.1f |\n", s, k, b / 1024, a / 1024, bpk, bpk - 111, u / k
	}'
done
awk -v rb="${before[redis]}" -v ra="${after[redis]}" -v rk="${dbsize[redis]}" \
	-v tb="${before[tcached]}" -v ta="${after[tcached]}" -v tk="${dbsize[tcached]}" 'BEGIN {
	r = (ra - rb) * 1024 / rk; t = (ta - tb) * 1024 / tk
	printf "\nbytes per key tcached/redis: %.2f; overhead per key tcached/redis: %.2f\n", t / r, (t - 111) / (r - 111)
}'
