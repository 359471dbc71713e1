#!/usr/bin/env bash
# bench/show.sh BUILD_DIR - issue 16's show benchmark: a 2-hour track
# (240 cues, one every 30 s, alternating two scents, every seat) played
# on 300 simulated seats (12 rows of 25, a gateway per row) through
# `scents gatewaysim` on loopback, compressed 60 times (2 minutes), then
# again 120 times with 2 ms +- 1 ms each way and 5% of datagrams lost.
# Reports the fire-time error (actual - planned) p50/p99/max and the
# share of fires acknowledged, next to the machine's timer resolution
# (bench/timer_res) measured in the same run.
set -euo pipefail
build=${1:-build-release}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
sim=""
cleanup() { [ -n "$sim" ] && kill "$sim" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ports=()
for _ in $(seq 12); do ports+=("$(free_port)"); done

python3 - "$tmp" "${ports[@]}" <<'PY'
import json, sys
tmp, ports = sys.argv[1], sys.argv[2:]
rows = "ABCDEFGHIJKL"
cues = []
for i in range(240):
    t = 30 + i * 30  # seconds
    cues.append({"id": f"c{i}", "start": t * 24, "duration": 48,
                 "scent": "SEA" if i % 2 == 0 else "PINE", "dose_ul": 2,
                 "zone": "all", "min_gap_ms": 5000, "purge_after_ms": 2000})
json.dump({"format": "scents-cue-track/1", "title": "Two hours", "edit_rate": "24/1",
           "palette": [{"sku": "SEA", "slot": 1}, {"sku": "PINE", "slot": 2}],
           "cues": cues}, open(f"{tmp}/track.json", "w"))
seats = ",".join(f"{r}1-{r}25" for r in rows)
json.dump({"format": "scents-venue/1", "name": "Bench room", "seats": seats,
           "occupied": seats, "capacity_ul": 100000, "latency_ms": 300,
           "scent_latency_ms": {"PINE": 200},
           "gateways": [{"address": f"127.0.0.1:{p}", "seats": f"{r}1-{r}25"}
                        for r, p in zip(rows, ports)],
           "devices": [{"seats": seats, "slots": [
               {"slot": 1, "sku": "SEA", "level_ul": 100000},
               {"slot": 2, "sku": "PINE", "level_ul": 100000}]}]},
          open(f"{tmp}/venue.json", "w"))
PY

timer=$("$build/bench/timer_res" 2000)
echo "  $timer" >&2

# run NAME SPEED SIM-OPTIONS...
rows_out=()
run() {
	local name=$1 speed=$2
	shift 2
	"$build/scents" gatewaysim "$tmp/venue.json" "$@" 2>/dev/null &
	sim=$!
	sleep 0.3
	"$build/scents" show "$tmp/track.json" "$tmp/venue.json" --speed "$speed" \
		--json >"$tmp/show.json" || true
	kill "$sim"; wait "$sim" 2>/dev/null || true; sim=""
	rows_out+=("$name|$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("%d|%.2f%%|%d|%.3f|%.3f|%.3f" % (r["fires"], 100.0 * r["acked"] / max(r["fires"], 1),
      r["resent"], r["error_p50_us"] / 1000, r["error_p99_us"] / 1000, r["error_max_us"] / 1000))
' "$tmp/show.json")")
	echo "  $name: done" >&2
}
run "300 seats, loopback, 60x" 60
run "300 seats, 2+-1 ms, 5% loss, 120x" 120 --latency-ms 2 --jitter-ms 1 --loss 5 --seed 7

read -r _ t50 t99 tmax _ <<<"$(echo "$timer" | tr '=' ' ' | awk '{print $1, $3, $5, $7, $9}')"
printf '\n%-36s %6s %8s %7s %9s %9s %9s\n' "show (2 h track)" fires acked resent "p50 ms" "p99 ms" "max ms"
for r in "${rows_out[@]}"; do
	IFS='|' read -r name fires acked resent p50 p99 max <<<"$r"
	printf '%-36s %6s %8s %7s %9s %9s %9s\n' "$name" "$fires" "$acked" "$resent" "$p50" "$p99" "$max"
done
printf '%-36s %6s %8s %7s %9.3f %9.3f %9.3f\n' "timer: ppoll 1 ms, lateness" - - - \
	"$(awk -v v="$t50" 'BEGIN{print v/1000}')" "$(awk -v v="$t99" 'BEGIN{print v/1000}')" \
	"$(awk -v v="$tmax" 'BEGIN{print v/1000}')"
