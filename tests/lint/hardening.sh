#!/usr/bin/env bash
# tests/lint/hardening.sh BINARY - fail unless BINARY was built with the
# release hardening of CMakeLists.txt: PIE, full RELRO (relro + BIND_NOW),
# a non-executable stack, stack protector and FORTIFY_SOURCE.  Read off
# the ELF file with readelf (binutils), as Debian's hardening-check does.
set -u
bin=${1:?usage: hardening.sh BINARY}
[ -x "$bin" ] || { echo "hardening: no binary '$bin'"; exit 1; }
bad=0
fail() { echo "hardening: $bin: $*"; bad=1; }

readelf -h "$bin" | grep -Eq 'Type:[[:space:]]+DYN' ||
	fail "not position independent (-fPIE -pie)"
readelf -lW "$bin" | grep -q 'GNU_RELRO' ||
	fail "no RELRO segment (-Wl,-z,relro)"
readelf -dW "$bin" | grep -Eq 'BIND_NOW|FLAGS_1.*NOW' ||
	fail "lazy binding (-Wl,-z,now)"
readelf -lW "$bin" | grep 'GNU_STACK' | grep -q 'RWE' &&
	fail "executable stack"
syms=$(readelf -sW --dyn-syms "$bin")
grep -q '__stack_chk_fail' <<<"$syms" ||
	fail "no stack protector (-fstack-protector-strong)"
grep -Eq '__[a-z]+_chk@' <<<"$syms" ||
	fail "no fortified calls (-D_FORTIFY_SOURCE)"
[ $bad -eq 0 ] && echo "hardening: $bin: PIE, RELRO, BIND_NOW, NX stack, stack protector, FORTIFY_SOURCE"
exit $bad
