#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - run the benchmarks on a release build.
set -euo pipefail
build=$(cd "${1:-build-release}" && pwd)
tmp=$(mktemp -d /tmp/scents-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d)"
"$build/bench/allocate_growth" "$tmp"
