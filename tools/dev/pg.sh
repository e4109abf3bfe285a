#!/bin/bash
# tools/dev/pg.sh - a throwaway PostgreSQL cluster for the test suite.
#
#   tools/dev/pg.sh start DIR [PORT]   initdb into DIR/data, start it listening only on
#                                      a Unix socket in DIR, create database "authsvc";
#                                      prints the settings as shell assignments:
#                                        eval "$(tools/dev/pg.sh start /tmp/x)"
#   tools/dev/pg.sh stop DIR           stop the cluster and remove DIR
#   tools/dev/pg.sh env DIR [PORT]     print the settings again
#
# Run it as an ordinary user (PostgreSQL refuses to run as root); tools/dev/test.sh
# does. The cluster trusts local connections, skips fsync and is meant to be thrown
# away. PGBIN names the PostgreSQL binaries (default /usr/lib/postgresql/15/bin).
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

usage() {
    echo "usage: $0 start DIR [PORT] | stop DIR | env DIR [PORT]" >&2
    exit 2
}

settings() {
    local dir=$1 port=$2 user
    user=$(id -un)
    cat <<EOF
export PGBIN='$PGBIN'
export AUTHSVC_PG_HOST='$dir'
export AUTHSVC_PG_PORT='$port'
export AUTHSVC_PG_USER='$user'
export AUTHSVC_PG_DB='authsvc'
export AUTHSVC_PG_PARAMS='host=$dir port=$port dbname=authsvc user=$user'
EOF
}

start() {
    local dir=$1 port=$2
    if [ "$(id -u)" -eq 0 ]; then
        echo "$0: PostgreSQL does not run as root; run this as an ordinary user" >&2
        exit 1
    fi
    if [ ! -x "$PGBIN/initdb" ]; then
        echo "$0: no $PGBIN/initdb (install postgresql, or set PGBIN)" >&2
        exit 1
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # A Unix socket path is limited to about 107 bytes.
    if [ ${#dir} -gt 80 ]; then
        echo "$0: $dir is too long for a socket directory" >&2
        exit 1
    fi
    if ! "$PGBIN/initdb" -D "$dir/data" -A trust -U "$(id -un)" -E UTF8 --locale=C \
            --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        exit 1
    fi
    if ! "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
            -o "-k $dir -c listen_addresses='' -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null; then
        cat "$dir/postgres.log" >&2
        exit 1
    fi
    "$PGBIN/createdb" -h "$dir" -p "$port" authsvc
    settings "$dir" "$port"
}

stop() {
    local dir=$1
    if [ -f "$dir/data/postmaster.pid" ]; then
        "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

[ $# -ge 2 ] || usage
case $1 in
start) start "$2" "${3:-5432}" ;;
stop) stop "$2" ;;
env) settings "$(cd "$2" && pwd)" "${3:-5432}" ;;
*) usage ;;
esac
