#!/usr/bin/env bash
# tests/lint/tidy.sh ROOT BUILD - clang-tidy (.clang-tidy at ROOT, every
# warning an error) over the product's sources, with BUILD's
# compile_commands.json.  Tests are left out: cmocka's macros trip it.
set -u
root=${1:?usage: tidy.sh ROOT BUILD}
build=${2:?usage: tidy.sh ROOT BUILD}
command -v clang-tidy >/dev/null || { echo "tidy: clang-tidy missing"; exit 1; }
cd "$root" || exit 2
mapfile -t files < <(find src -name '*.c' | sort)
if clang-tidy -p "$build" --quiet "${files[@]}" >"$build/tidy.log" 2>&1 &&
	! grep -qE "(warning|error):" "$build/tidy.log"; then
	echo "tidy: ok (${#files[@]} files)"
	exit 0
fi
grep -E "(warning|error):" "$build/tidy.log" | head -40
exit 1
