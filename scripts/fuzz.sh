#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] - build the libFuzzer targets with clang
# (ASan+UBSan) in build-fuzz/ and run each for SECONDS (default 20) from
# the seed corpus in tests/fuzz/corpus.  New inputs go to a temp copy; a
# crash leaves its input in build-fuzz/ and fails the script.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-20}
cd "$root"
CC=clang cmake -S . -B build-fuzz -DSC_FUZZ=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_research_csv fuzz_routes fuzz_http fuzz_analytics_csv fuzz_dispensing \
	>/dev/null
tmp=$(mktemp -d /tmp/scents-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for t in research_csv:csv routes:routes http:http analytics_csv:analytics \
	dispensing:dispensing; do
	name=${t%%:*}
	corpus=${t##*:}
	mkdir -p "$tmp/$corpus"
	cp tests/fuzz/corpus/"$corpus"/* "$tmp/$corpus/"
	echo "fuzz_$name: ${secs}s"
	if ! (cd build-fuzz && ./tests/fuzz/fuzz_"$name" -max_total_time="$secs" \
		-max_len=8192 -print_final_stats=1 "$tmp/$corpus" \
		>"$tmp/$name.log" 2>&1); then
		grep -E "ERROR|SUMMARY|#[0-9]+ .* in " "$tmp/$name.log" | head -20
		echo "fuzz_$name: FAILED (input saved in build-fuzz/)"
		exit 1
	fi
	grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "$tmp/$name.log"
done
