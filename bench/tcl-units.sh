#!/usr/bin/env bash
# Runs Redis 7.0.15's own Tcl test units against tcached's default tenant
# (shared/REFERENCE.md §7) and prints how many tests pass.
#
#   bench/tcl-units.sh <redis git dir> [unit ...]     (default: unit/scripting unit/functions)
#
# <redis git dir> is a clone or snapshot of github.com/redis/redis with the
# 7.0.15 tag. Needs tclsh (Debian's tcl) and go. Tests that use a command
# tcached does not have raise an exception that would end the whole unit;
# bench/tcl-skip.txt lists them (with why), so the rest still runs. Not
# part of `make test`: a unit takes minutes and its count is a yardstick,
# not a pass/fail gate.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
gitdir="${1:?usage: $0 <redis git dir> [unit ...]}"
shift
units=("$@")
[ ${#units[@]} -gt 0 ] || units=(unit/scripting unit/functions)
work="$(mktemp -d)"
trap 'kill "${pid:-0}" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
git -C "$gitdir" archive --format=tar 7.0.15 tests runtest | tar -x -C "$work"
(cd "$here" && go build -o "$work/tcached" ./cmd/tcached)
port=$((20000 + RANDOM % 20000))
cat > "$work/tcached.yaml" <<YAML
listen: 127.0.0.1:$port
metrics_listen: off
maxmemory: 2GiB
default_tenant: tcl
default_role: admin
tiers:
  tcl: {default_ttl: 0, timeout: 0, max_concurrent: 0}
tenants:
  - id: tcl
    tier: tcl
    quota: 512MiB
YAML
"$work/tcached" --config "$work/tcached.yaml" > "$work/tcached.log" 2>&1 &
pid=$!
sleep 1
{ grep -v '^#' "$here/bench/tcl-skip.txt" || true; } | sed '/^$/d' > "$work/skip.txt"
total_ok=0
for u in "${units[@]}"; do
  (cd "$work" && timeout 900 tclsh tests/test_helper.tcl --host 127.0.0.1 --port "$port" \
    --singledb --ignore-encoding --ignore-digest --skipfile "$work/skip.txt" --baseport $((22000 + RANDOM % 20000)) \
    --tags "-needs:debug -needs:repl -needs:save -needs:config-maxmemory -needs:reset" \
    --single "$u" > "$work/out.txt" 2>&1) || true
  ok=$(grep -c '^\[.*ok.*\]:' "$work/out.txt" || true)
  err=$(grep -c '^\[.*err.*\]:' "$work/out.txt" || true)
  skip=$(grep -c '^\[.*skip.*\]:\|^\[.*ignore.*\]:' "$work/out.txt" || true)
  exc=$(grep -c '^\[.*exception.*\]:' "$work/out.txt" || true)
  echo "$u: ok $ok, err $err, skipped/ignored $skip, exceptions $exc"
  grep -a -A2 '^\[.*err.*\]:\|^\[.*exception.*\]:' "$work/out.txt" | sed 's/\x1b\[[0-9;]*m//g' | head -200 || true
  total_ok=$((total_ok + ok))
done
echo "total ok: $total_ok"
