#!/usr/bin/env bash
# scripts/install-deps.sh - install the Debian packages scents needs.
#
# Idempotent and quick when nothing is missing: it asks dpkg first and runs
# apt-get only for what is absent.  Non-interactive; needs root (or sudo) only
# when something must be installed.
set -euo pipefail

PKGS=(
	build-essential cmake pkg-config clang-format clang-tidy clang
	libcmocka-dev libsqlite3-dev libjansson-dev libmicrohttpd-dev
	libhiredis-dev libcurl4-openssl-dev libsodium-dev libhttp-parser-dev
	python3 python3-pytest python3-requests python3-redis python3-jsonschema
	python3-prometheus-client
	redis-server python3-aiosmtpd wrk openssl scdoc lintian
	libpq-dev postgresql nginx-light libltc-dev
	chromium chromium-driver python3-selenium
)

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Tests run their own cluster (scripts/pg.sh): keep the package from
# creating and starting a system one on port 5432.
if [[ " ${missing[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
	$SUDO mkdir -p /etc/postgresql-common
	echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
# Servers (redis, postgresql, nginx) are started by the tests themselves,
# on private ports: keep their packages from starting system services.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
	guard=/usr/sbin/policy-rc.d
fi
trap '[ -z "$guard" ] || $SUDO rm -f "$guard"' EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
