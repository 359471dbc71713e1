#!/usr/bin/env bash
# scripts/test.sh BUILD_DIR - run every test in CI order (conventions B10):
# a private PostgreSQL first (scripts/pg.sh), then lint, unit and contract
# tests under ASan/UBSan (the contract suite on memory, SQLite and that
# PostgreSQL); the libFuzzer targets for a bounded time; a ThreadSanitizer
# pass; then the integration and end-to-end tests (ASan/UBSan build)
# against real processes and servers, each started in a private temp dir
# on loopback and stopped by PID on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
PY=/usr/bin/python3

tmp=$(mktemp -d /tmp/scents-test.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	bash "$root/scripts/pg.sh" stop "$tmp/pg" || true
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "== PostgreSQL, private (initdb in $tmp/pg, 127.0.0.1 only)"
pg_port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SCENTS_PG_URL=$(bash "$root/scripts/pg.sh" start "$tmp/pg" "$pg_port")
export SCENTS_PG_URL SCENTS_PG_DIR="$tmp/pg"
echo "postgresql on 127.0.0.1:$pg_port"

echo "== lint, unit, contract (ASan+UBSan; memory, sqlite, postgresql)"
(cd "$build" && ctest -L 'lint|unit|contract' --output-on-failure)

echo "== hardening of the release binary"
rel="$root/build-release"
cmake -S "$root" -B "$rel" -DCMAKE_BUILD_TYPE=Release \
	-DSC_WERROR="${SC_WERROR:-OFF}" >/dev/null
cmake --build "$rel" -j "$(nproc)" >/dev/null
bash "$root/tests/lint/hardening.sh" "$rel/scents"

echo "== Debian package (CPack), checked by lintian"
rm -f "$rel"/scents_*.deb
(cd "$rel" && cpack >/dev/null)
lintian --fail-on error,warning --tag-display-limit 0 "$rel"/scents_*.deb
echo "lintian: $(basename "$rel"/scents_*.deb): no errors, no warnings"

echo "== fuzz (libFuzzer, ASan+UBSan, ${FUZZ_SECONDS:-20}s per target)"
bash "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-20}"

echo "== ThreadSanitizer (threaded C suites, then black-box against a TSan build)"
bash "$root/scripts/tsan.sh"

export SCENTS_BIN="$build/scents"
export SCENTS_RELEASE_BUILD="$rel"
export SCENTS_TMP="$tmp"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "== integration and end-to-end (real processes)"
cd "$root"
"$PY" -m pytest -q -p no:cacheprovider tests/integration tests/e2e

echo "== the dashboard in a real browser (chromium, chromedriver, selenium)"
export SCENTS_ARTIFACTS="$build/artifacts"
"$PY" -m pytest -q -p no:cacheprovider tests/browser
echo "   screenshots: $SCENTS_ARTIFACTS/dashboard/"
