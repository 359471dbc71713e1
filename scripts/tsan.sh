#!/usr/bin/env bash
# scripts/tsan.sh - ThreadSanitizer pass over the threaded code: build with
# clang -fsanitize=thread in build-tsan/, run the C suites that start
# threads (contract races, group commit, bus), then the black-box suites
# against the TSan binary (HTTP pool, relay, consumer).  Any report fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
CC=clang cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_C_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
	-DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build build-tsan -j "$(nproc)" --target scents ltcgen test_uow_contract \
	test_handlers >/dev/null
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
for t in test_uow_contract test_handlers; do
	if ! ./build-tsan/tests/$t >build-tsan/$t.log 2>&1; then
		grep -A20 "ThreadSanitizer" build-tsan/$t.log | head -40 || tail -20 build-tsan/$t.log
		echo "tsan: $t FAILED"
		exit 1
	fi
	echo "tsan: $t ok"
done
SCENTS_BIN="$root/build-tsan/scents" /usr/bin/python3 -m pytest -q \
	-p no:cacheprovider tests/integration tests/e2e
