#!/usr/bin/env bash
# scripts/pg.sh start DIR PORT | stop DIR | resume DIR | restart-immediate DIR
#
# A private PostgreSQL for tests and benchmarks: a cluster made by initdb in
# DIR/data, listening on 127.0.0.1:PORT only (its socket in DIR too), run as
# the unprivileged user `postgres` (PostgreSQL refuses root; CI runs as
# root).  `start` prints the DATABASE_URL to use; `stop` stops the server by
# the PID in its postmaster.pid.  Nothing here touches a system cluster.
set -euo pipefail
cmd=${1:?usage: pg.sh start DIR PORT | stop DIR | restart-immediate DIR}
dir=${2:?DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "pg.sh: no PostgreSQL server installed (apt-get install postgresql)" >&2; exit 1; }
run_pg() { # run as postgres, from a directory it can read
	if [ "$(id -un)" = postgres ]; then (cd / && "$@"); else (cd / && runuser -u postgres -- "$@"); fi
}
data="$dir/data"

case "$cmd" in
start)
	port=${3:?PORT}
	mkdir -p "$dir"
	chmod 755 "$dir"
	# postgres must reach DIR: open the path's directories for traversal
	p=$dir
	while [ "$p" != / ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
	chown postgres "$dir"
	printf '%s\n' scents-test-pw >"$dir/pwfile"
	chown postgres "$dir/pwfile"
	run_pg "$bin/initdb" -D "$data" -U scents --pwfile="$dir/pwfile" \
		--auth-local=trust --auth-host=scram-sha-256 -E UTF8 \
		--locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
logging_collector = off
CONF
	run_pg "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 start >/dev/null ||
		{ cat "$dir/server.log" >&2; exit 1; }
	PGPASSWORD=scents-test-pw "$bin/psql" -q -h 127.0.0.1 -p "$port" -U scents -d postgres \
		-c "CREATE DATABASE scents" >/dev/null
	echo "postgresql://scents:scents-test-pw@127.0.0.1:$port/scents"
	;;
stop)
	[ -f "$data/postmaster.pid" ] || exit 0
	pid=$(head -1 "$data/postmaster.pid")
	kill -INT "$pid" 2>/dev/null || exit 0 # fast shutdown
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	;;
resume)
	# start again a cluster that `stop` stopped (tests of an outage)
	run_pg "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 start >/dev/null
	;;
restart-immediate)
	# what a crash looks like to clients: no checkpoint, connections cut
	run_pg "$bin/pg_ctl" -D "$data" -m immediate -w -t 30 restart \
		-l "$dir/server.log" >/dev/null
	;;
*)
	echo "pg.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
