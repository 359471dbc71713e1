#!/usr/bin/env bash
# tests/lint/format.sh ROOT - fail when a C file is not clang-formatted.
set -u
root=${1:?usage: format.sh ROOT}
cd "$root" || exit 2
command -v clang-format >/dev/null || { echo "format: clang-format missing"; exit 1; }
bad=0
while IFS= read -r f; do
	clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || { echo "format: $f"; bad=1; }
done < <(find src tests bench -name '*.[ch]' 2>/dev/null | sort)
[ $bad -eq 0 ] && echo "format: ok"
exit $bad
