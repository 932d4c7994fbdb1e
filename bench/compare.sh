#!/usr/bin/env bash
# compare.sh: tcached next to redis-server, measured with redis-benchmark and
# redis-cli on this machine, in one run.
#
#   bench/compare.sh                    # or: make bench-compare
#   N=500000 REPS=5 bench/compare.sh    # longer, steadier
#
# 0. Machine facts: nproc, CPU model, go version, redis-server and
#    redis-benchmark versions, tcached git revision (+dirty), settings.
# 1. Throughput: `redis-benchmark -t set,get,incr,mset -c 50 -d 100
#    -r 1000000 -n N -q --csv` at -P 1 and -P 16, REPS repetitions,
#    alternating which server goes first; prints the median req/s of each
#    and tcached/redis (req/s ratio: above 1 means tcached is faster).
#    tcached runs with GOMAXPROCS=$TCACHED_GOMAXPROCS (unset: Go's default).
# 1b. The same again with tcached at GOMAXPROCS=1 (COMPARE_GOMAXPROCS1=1,
#    the default; 0 skips it): Redis executes commands on one thread and
#    redis-benchmark needs a core too, so on a 2-core box this is the "same
#    CPU budget" row. Fresh servers, its own redis column.
# 2. Latency: `redis-benchmark -t set,get -c 50 -d 100 -r 1000000 -n N
#    -P 1 --precision 3` (no -q/--csv), REPS repetitions alternating; p50 and
#    p99 from the "latency summary", p99.9 from the "Latency by percentile
#    distribution" (the first line whose cumulative count reaches 99.9% of
#    the requests: an upper bound at HdrHistogram's resolution); medians and
#    tcached/redis (latency ratio: above 1 means tcached is slower).
# 2b. CPU per request (COMPARE_CPU=1, the default; 0 skips it): for each
#    of CPU_TESTS (get,set,incr,mget,hset; mget is MGET of 10 random keys,
#    hset is HSET h:<random> f <random>: many small hashes), -P 1
#    and -P 16, -c 50 and -c 1000: `redis-benchmark -t TEST -c C -d 100
#    -r 1000000 -n CPU_N` (x4 at -P 16) against each server, REPS times
#    alternating, reading the server's user+sys CPU ticks from
#    /proc/PID/stat around each run. Prints medians of req/s, server CPU
#    per request, p50/p99/p99.9 and the tcached/redis ratios; CPU/req
#    above 1 means tcached spends more per request. The figure to
#    optimise: throughput on 2 cores hides it (tcached uses both, Redis
#    executes on one).
# 3. Memory: fresh servers, 1,000,000 SETs of key:%07d (11 B) -> 100-byte
#    value through `redis-cli --pipe`; prints DBSIZE, VmRSS before/after,
#    bytes per key = (RSS after - RSS before) / keys and overhead per key =
#    bytes per key - (11 + 100).
#
# Environment: N (default 200000), REPS (default 3), KEYS (default 1000000),
# COMPARE_CPU (default 1), CPU_N (default 100000), CPU_TESTS, CPU_CONNS
# (default "50 1000"),
# TCACHED_GOMAXPROCS (default unset), COMPARE_GOMAXPROCS1 (default 1),
# REDIS_SERVER / REDIS_CLI / REDIS_BENCHMARK (default: from PATH), GO.
# Every process it starts listens on 127.0.0.1 only, is wrapped in `timeout`
# and is killed on exit. The default run takes about 8 minutes on 2 cores
# (COMPARE_CPU=0: 3-4). At -c 1000 the CPU read around a run includes
# accepting (and, on tcached, authenticating) its 1000 connections: about
# 3% of the run at the default CPU_N.
set -euo pipefail

N=${N:-200000}
REPS=${REPS:-3}
KEYS=${KEYS:-1000000}
GO=${GO:-go}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_CLI=${REDIS_CLI:-redis-cli}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
MAX_LIFE=${MAX_LIFE:-1200} # seconds any started server may live
TCACHED_GOMAXPROCS=${TCACHED_GOMAXPROCS:-}
COMPARE_CPU=${COMPARE_CPU:-1}
CPU_N=${CPU_N:-100000}
CPU_TESTS=${CPU_TESTS:-get,set,incr,mget,hset}
CPU_CONNS=${CPU_CONNS:-50 1000}
COMPARE_GOMAXPROCS1=${COMPARE_GOMAXPROCS1:-1}

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

# start_servers [GOMAXPROCS] sets RPORT/TPORT and RPID/TPID (the servers' own
# pids, from INFO, for /proc/PID/status). tcached gets GOMAXPROCS when the
# argument is not empty, and Go's default otherwise (an inherited GOMAXPROCS
# is removed).
start_servers() {
	local gmp=${1:-} genv=(env -u GOMAXPROCS)
	[ -n "$gmp" ] && genv=(env "GOMAXPROCS=$gmp")
	RPORT=$(free_port)
	timeout "$MAX_LIFE" "$REDIS_SERVER" --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$tmp" --daemonize no --loglevel warning >"$tmp/redis.log" 2>&1 &
	pids+=($!)
	TPORT=$(free_port)
	"${genv[@]}" timeout "$MAX_LIFE" "$tmp/tcached" --config "$tmp/tcached.yaml" --listen "127.0.0.1:$TPORT" \
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

# gmp_label GOMAXPROCS: how a tcached GOMAXPROCS setting reads in a title.
gmp_label() {
	if [ -n "$1" ]; then echo "GOMAXPROCS=$1"; else echo "GOMAXPROCS unset (Go default, nproc=$(nproc))"; fi
}

# throughput GOMAXPROCS TITLE: the throughput section on fresh servers with
# tcached at GOMAXPROCS (empty: Go default); prints a table headed TITLE.
throughput() {
	local gmp=$1 title=$2
	echo "throughput ($title): N=$N REPS=$REPS, redis-benchmark -c 50 -d 100 -r 1000000" >&2
	start_servers "$gmp"
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
	echo "## Throughput: $title"
	echo
	echo "Median of $REPS, req/s; ratio = tcached/redis req/s, >1 means tcached faster."
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
}

# latency_run SERVER PORT: one redis-benchmark -t set,get -P 1 run without
# -q/--csv; appends "server test p50 p99 p999" (ms) to lat.txt.
latency_run() {
	local server=$1 port=$2 auth=()
	[ "$server" = tcached ] && auth=(--user bench -a "$PASS")
	timeout 600 "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$port" "${auth[@]}" \
		-t set,get -c 50 -d 100 -r 1000000 -n "$N" -P 1 --precision 3 >"$tmp/lat-out.txt" 2>"$tmp/err.txt" || {
		echo "compare.sh: redis-benchmark (latency) failed against $server:" >&2
		cat "$tmp/lat-out.txt" "$tmp/err.txt" >&2
		exit 1
	}
	if grep -qi error "$tmp/lat-out.txt" "$tmp/err.txt"; then
		echo "compare.sh: redis-benchmark (latency) reported an error against $server:" >&2
		cat "$tmp/err.txt" >&2
		exit 1
	fi
	summary "$tmp/lat-out.txt" | awk -F'\t' -v s="$server" '{ print s "\t" $1 "\t" $3 "\t" $4 "\t" $5 }' >>"$tmp/lat.txt"
}

# summary FILE: one line per test of a redis-benchmark run without
# -q/--csv: "test rps p50 p99 p999" (ms). p50 and p99 come from the
# "latency summary"; p99.9 from the "Latency by percentile distribution"
# (the first line whose cumulative count reaches 99.9% of the requests).
summary() {
	# Progress lines end in \r; one block per test starts "====== SET ======".
	tr '\r' '\n' <"$1" | awk '
		/^====== .* ======$/ { test = $2; total = 0; p999 = ""; rps = ""; dist = 0; next }
		/requests completed in/ { total = $1 + 0 }
		/^Latency by percentile distribution:/ { dist = 1; next }
		/^Cumulative distribution of latencies:/ { dist = 0; next }
		dist && /cumulative count/ {
			c = $NF; sub(/\)$/, "", c)
			if (p999 == "" && c + 0 >= total * 0.999) p999 = $3
		}
		/throughput summary:/ { rps = $3 }
		/^ *avg +min +p50 +p95 +p99 +max/ { want = 1; next }
		want { want = 0
			if (test == "" || p999 == "" || rps == "") { print "compare.sh: cannot parse redis-benchmark output" > "/dev/stderr"; exit 1 }
			print test "\t" rps "\t" $3 "\t" $5 "\t" p999 }
	'
}

latency() {
	local gmp=$1
	echo "latency: N=$N REPS=$REPS, redis-benchmark -t set,get -c 50 -d 100 -r 1000000 -P 1" >&2
	start_servers "$gmp"
	: >"$tmp/lat.txt"
	for rep in $(seq 1 "$REPS"); do
		if [ $((rep % 2)) = 1 ]; then order="redis tcached"; else order="tcached redis"; fi
		for s in $order; do
			port=$RPORT
			[ "$s" = tcached ] && port=$TPORT
			echo "  rep $rep/$REPS latency $s" >&2
			latency_run "$s" "$port"
		done
	done
	stop_servers
	if [ "$(wc -l <"$tmp/lat.txt")" -ne $((REPS * 4)) ]; then
		echo "compare.sh: expected $((REPS * 4)) latency rows, got:" >&2
		cat "$tmp/lat.txt" >&2
		exit 1
	fi

	echo
	echo "## Latency at -P 1, -c 50: tcached $(gmp_label "$gmp")"
	echo
	echo "Median of $REPS, ms; ratio = tcached/redis latency, >1 means tcached slower."
	echo
	printf '| %-4s | %-5s | %9s | %9s | %6s |\n' test pct redis tcached ratio
	printf '|%s|%s|%s|%s|%s|\n' ------ ------- ----------- ----------- --------
	awk -F'\t' '
		{ for (f = 3; f <= 5; f++) { key = $1 SUBSEP $2 SUBSEP f; n[key]++; v[key, n[key]] = $f } }
		function median(key,   i, j, t, a, m) {
			m = n[key]; for (i = 1; i <= m; i++) a[i] = v[key, i] + 0
			for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
			return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
		}
		END {
			split("GET SET", tests, " "); name[3] = "p50"; name[4] = "p99"; name[5] = "p99.9"
			for (i = 1; i <= 2; i++) for (f = 3; f <= 5; f++) {
				r = median("redis" SUBSEP tests[i] SUBSEP f); c = median("tcached" SUBSEP tests[i] SUBSEP f)
				printf "| %-4s | %-5s | %9.3f | %9.3f | %6.2f |\n", tests[i], name[f], r, c, (r > 0 ? c / r : 0)
			}
		}' "$tmp/lat.txt"
}

# ticks PID: user+sys CPU ticks of a process so far.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# cpu_run SERVER PORT PID TEST P C: one redis-benchmark run without
# -q/--csv; appends "server test P C rps cpu_us p50 p99 p999" to cpu.txt.
cpu_run() {
	local server=$1 port=$2 pid=$3 test=$4 p=$5 c=$6 auth=() args n t0 t1
	[ "$server" = tcached ] && auth=(--user bench -a "$PASS")
	n=$CPU_N
	[ "$p" -gt 1 ] && n=$((CPU_N * 4)) # enough CPU ticks at 100 Hz
	case "$test" in
	mget) args=(MGET key:__rand_int__ key:__rand_int__ key:__rand_int__ key:__rand_int__ key:__rand_int__
		key:__rand_int__ key:__rand_int__ key:__rand_int__ key:__rand_int__ key:__rand_int__) ;;
	# Many small hashes, not redis-benchmark's -t hset (one hash that grows
	# by every request: that measures the encoding at size, issue 16's
	# matter, and is quadratic over a run on tcached's flat encoding).
	hset) args=(HSET h:__rand_int__ f __rand_int__) ;;
	*) args=(-t "$test") ;;
	esac
	t0=$(ticks "$pid")
	timeout 600 "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$port" "${auth[@]}" -c "$c" -d 100 -r 1000000 -n "$n" -P "$p" \
		--precision 3 "${args[@]}" >"$tmp/cpu-out.txt" 2>"$tmp/err.txt" || {
		echo "compare.sh: redis-benchmark ($test -P $p -c $c) failed against $server:" >&2
		cat "$tmp/cpu-out.txt" "$tmp/err.txt" >&2
		exit 1
	}
	t1=$(ticks "$pid")
	if grep -qi error "$tmp/cpu-out.txt" "$tmp/err.txt"; then
		echo "compare.sh: redis-benchmark ($test) reported an error against $server:" >&2
		cat "$tmp/err.txt" >&2
		exit 1
	fi
	summary "$tmp/cpu-out.txt" | awk -F'\t' -v s="$server" -v t="$test" -v p="$p" -v c="$c" \
		-v dt=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$n" '
		{ printf "%s\t%s\t%s\t%s\t%s\t%.3f\t%s\t%s\t%s\n", s, t, p, c, $2, dt / hz * 1e6 / n, $3, $4, $5 }' >>"$tmp/cpu.txt"
}

cpu_per_request() {
	local gmp=$1
	echo "cpu per request: CPU_N=$CPU_N REPS=$REPS tests=$CPU_TESTS conns=$CPU_CONNS" >&2
	start_servers "$gmp"
	# HSET and INCR need nothing preloaded; GET and MGET read what SET wrote
	# (misses and hits cost alike here: both servers see the same keys).
	: >"$tmp/cpu.txt"
	for rep in $(seq 1 "$REPS"); do
		for test in ${CPU_TESTS//,/ }; do
			for c in $CPU_CONNS; do
				for p in 1 16; do
					if [ $((rep % 2)) = 1 ]; then order="redis tcached"; else order="tcached redis"; fi
					for s in $order; do
						port=$RPORT pid=$RPID
						[ "$s" = tcached ] && port=$TPORT pid=$TPID
						echo "  rep $rep/$REPS $test -c $c -P $p $s" >&2
						cpu_run "$s" "$port" "$pid" "$test" "$p" "$c"
					done
				done
			done
		done
	done
	stop_servers

	echo
	echo "## CPU per request: tcached $(gmp_label "$gmp")"
	echo
	echo "Median of $REPS; CPU = server user+sys per request (µs); latency in ms; ratios tcached/redis (CPU and latency: >1 means tcached costs more; req/s: >1 means tcached faster)."
	echo
	echo "| test | -c | -P | redis req/s | tcached req/s | ratio | redis CPU/req | tcached CPU/req | **CPU ratio** | p50 r / t | p99 r / t | p99.9 r / t |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' '
		{ key = $2 SUBSEP $4 SUBSEP $3; if (!(key in seen)) { seen[key] = 1; keys[++nk] = key }
		  for (f = 5; f <= 9; f++) { k = $1 SUBSEP key SUBSEP f; n[k]++; v[k, n[k]] = $f } }
		function median(k,   i, j, t, a, m) {
			m = n[k]; for (i = 1; i <= m; i++) a[i] = v[k, i] + 0
			for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
			return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
		}
		function r(x, y) { return y > 0 ? x / y : 0 }
		END {
			for (i = 1; i <= nk; i++) {
				key = keys[i]; split(key, kp, SUBSEP)
				for (f = 5; f <= 9; f++) { R[f] = median("redis" SUBSEP key SUBSEP f); T[f] = median("tcached" SUBSEP key SUBSEP f) }
				printf "| %s | %s | %s | %.0f | %.0f | %.2f | %.2f | %.2f | **%.2f** | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f |\n",
					toupper(kp[1]), kp[2], kp[3], R[5], T[5], r(T[5], R[5]), R[6], T[6], r(T[6], R[6]), R[7], T[7], R[8], T[8], R[9], T[9]
			}
		}' "$tmp/cpu.txt"
}

# Machine facts.
rev=$(git describe --always --dirty 2>/dev/null || echo unknown)
echo "## Machine"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- nproc: $(nproc); CPU: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo); RAM: $(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); kernel $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $("$GO" version)"
echo "- $("$REDIS_SERVER" --version)"
echo "- $("$REDIS_BENCHMARK" --version 2>&1 | head -1)"
echo "- tcached: git $rev$(case "$rev" in *-dirty) echo " (working tree has uncommitted changes)" ;; esac); $(gmp_label "$TCACHED_GOMAXPROCS")"
echo "- settings: N=$N REPS=$REPS KEYS=$KEYS COMPARE_GOMAXPROCS1=$COMPARE_GOMAXPROCS1 COMPARE_CPU=$COMPARE_CPU CPU_N=$CPU_N"

throughput "$TCACHED_GOMAXPROCS" "tcached $(gmp_label "$TCACHED_GOMAXPROCS") (main pass)"
if [ "$COMPARE_GOMAXPROCS1" = 1 ] && [ "$TCACHED_GOMAXPROCS" != 1 ]; then
	throughput 1 "tcached GOMAXPROCS=1 (same CPU budget as Redis's one command thread; second pass, fresh servers)"
fi
latency "$TCACHED_GOMAXPROCS"
if [ "$COMPARE_CPU" = 1 ]; then
	cpu_per_request "$TCACHED_GOMAXPROCS"
fi

echo
echo "memory: $KEYS keys of 100-byte values via redis-cli --pipe" >&2
start_servers "$TCACHED_GOMAXPROCS"
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
echo "## Memory ($KEYS SETs, 11-byte keys, 100-byte values; tcached $(gmp_label "$TCACHED_GOMAXPROCS"))"
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
