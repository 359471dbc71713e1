#!/usr/bin/env bash
# tests/lint/layering.sh SRC - fail when a layer includes what it must not.
#   domain/  : only domain/ and common/ headers, and the C library
#   service/ : only service/, domain/, common/ and the C library
# "The C library" is the list below; anything else in <> is third party.
set -u
src=${1:?usage: layering.sh SRC}
libc='assert|ctype|errno|inttypes|limits|math|pthread|setjmp|stdalign|stdarg|stdatomic|stdbool|stddef|stdint|stdio|stdlib|string|time|unistd'
bad=0
check() { # dir allowed-prefix-regex
	local dir=$1 allowed=$2
	while IFS= read -r line; do
		file=${line%%:*}
		inc=$(sed -E 's/^[^:]*:[0-9]+:[[:space:]]*#[[:space:]]*include[[:space:]]*//' <<<"$line")
		case "$inc" in
		\"*) path=${inc#\"}; path=${path%%\"*}
			if ! grep -Eq "^($allowed)/" <<<"$path"; then
				echo "layering: $file includes \"$path\""; bad=1
			fi ;;
		\<*) path=${inc#<}; path=${path%%>*}
			if ! grep -Eq "^($libc)\.h$" <<<"$path"; then
				echo "layering: $file includes <$path> (third party)"; bad=1
			fi ;;
		esac
	done < <(grep -Hn -E '^[[:space:]]*#[[:space:]]*include' -r "$src/$dir" --include='*.[ch]')
}
check domain 'domain|common'
check service 'service|domain|common'
[ $bad -eq 0 ] && echo "layering: ok"
exit $bad
