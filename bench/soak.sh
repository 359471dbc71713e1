#!/usr/bin/env bash
# bench/soak.sh BUILD_DIR - durable allocation at 64 connections for
# SOAK_MINUTES (default 10) against one `scents serve` (release build,
# temp SQLite, synchronous=FULL, the defaults otherwise), sampling each
# minute: requests/s over that minute, the server's RSS, the WAL's size
# and the outbox backlog.  Memory and the WAL must stay flat
# (docs/benchmarks.md).  wrk and the server share the machine's cores.
set -euo pipefail
build=$(cd "${1:-build-release}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
minutes=${SOAK_MINUTES:-10}
tmp=$(mktemp -d /tmp/scents-soak.XXXXXX)
pid=
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
db="$tmp/soak.db"
for i in $(seq 0 99); do
	DATABASE_URL="sqlite:$db" "$build/scents" add-batch "b$i" "SKU-$i" 1000000000 2>/dev/null
done
DATABASE_URL="sqlite:$db" HTTP_PORT=$port LOG_LEVEL=warn "$build/scents" serve 2>"$tmp/serve.log" &
pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
metric() { curl -fs "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
echo "soak: $minutes min of POST /allocate, 64 conns, 100 skus, FULL; $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)" >&2
BENCH_LUA="$here" wrk -t2 -c64 -d"$((minutes * 60 + 5))s" -s "$here/allocate.lua" \
	"http://127.0.0.1:$port" >"$tmp/wrk.out" 2>&1 &
wrk_pid=$!
printf '%-7s %10s %9s %9s %12s\n' minute "req/s" "RSS MiB" "WAL MiB" "outbox due"
prev=$(metric scents_writer_commands_total)
for m in $(seq "$minutes"); do
	sleep 60
	now=$(metric scents_writer_commands_total)
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
	wal=$(stat -c %s "$db-wal" 2>/dev/null || echo 0)
	printf '%-7s %10d %9.1f %9.1f %12s\n' "$m" "$(( (now - prev) / 60 ))" \
		"$(awk -v k="$rss" 'BEGIN {print k / 1024}')" \
		"$(awk -v b="$wal" 'BEGIN {print b / 1048576}')" \
		"$(metric scents_outbox_pending)"
	prev=$now
done
wait "$wrk_pid" || true
grep -E "RESULT|Socket errors" "$tmp/wrk.out" || tail -3 "$tmp/wrk.out"
# what the server warned about (a non-2xx has a reason there)
grep -E "level=(warn|error)" "$tmp/serve.log" | tail -5 || true
