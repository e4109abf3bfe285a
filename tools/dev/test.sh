#!/bin/bash
# tools/dev/test.sh - the whole test suite; `make test` runs it after building.
#
#   1. the C unit tests (t/unit/run.sh), the migration tool's TAP test
#      (prove tools/test-migrate.sh), as root the Debian package's smoke test
#      (tools/dev/deb-test.sh, run before handing over) and, if present, the docs
#      check (prove tools/dev/check-docs.sh);
#   2. the Apache::Test suite in t/ four times: SQLite and PostgreSQL (a throwaway
#      cluster, tools/dev/pg.sh), each under the event and the prefork MPM, each run on
#      a fresh database.
# The last line is "N passed, N failed" (totals over everything); the exit status is
# non-zero if anything failed. Logs of failed runs are kept, and their path printed.
#
# As root, it creates an unprivileged user (authsvc-test, or $AUTHSVC_TEST_USER),
# copies the built tree to a temporary directory owned by that user and runs itself
# there as that user: Apache::Test refuses to run as root, PostgreSQL too, and a
# checkout under /root is not readable by anybody else.
#
# Options for development (all optional):
#   AUTHSVC_TEST_RUNS="sqlite:event pgsql:prefork"   only these Apache::Test runs
#   AUTHSVC_TEST_SKIP_PRE=1                          skip step 1
#   AUTHSVC_TEST_LANES=1                             the runs one after another (the
#                                                    default is two lanes side by side)
#   tools/dev/test.sh t/login.t t/me.t               only these test files
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TEST_USER=${AUTHSVC_TEST_USER:-authsvc-test}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
RUNS=${AUTHSVC_TEST_RUNS:-sqlite:event sqlite:prefork pgsql:event pgsql:prefork}

# ---- as root: hand over to an unprivileged user -------------------------------------

as_root() {
    local work rc keep summary st
    if ! id -u "$TEST_USER" >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$TEST_USER" || {
            echo "cannot create the user $TEST_USER"; echo "0 passed, 1 failed"; exit 1; }
    fi
    for f in mod_authsvc.so tools/authsvc-admin; do
        if [ ! -e "$ROOT/$f" ]; then
            echo "$ROOT/$f is missing: run make first"
            echo "0 passed, 1 failed"
            exit 1
        fi
    done
    work=$(mktemp -d /tmp/authsvc-test.XXXXXX) || exit 1
    trap 'rm -rf "$work"' EXIT
    trap 'exit 130' INT TERM HUP
    mkdir "$work/tree" "$work/tmp"
    # The built module and tool come along; VCS data, local state, old logs and old
    # test artefacts (screenshots) do not.
    tar -C "$ROOT" --exclude=./.git --exclude=./state --exclude=./t/logs \
        --exclude=./t/state --exclude=./t/artefacts --warning=no-file-changed -cf - . |
        tar -C "$work/tree" --no-same-owner -xf -
    st=("${PIPESTATUS[@]}")
    # GNU tar exits 1 when a file changed while it was read: not fatal here.
    if [ "${st[0]}" -gt 1 ] || [ "${st[1]}" -ne 0 ]; then
        echo "cannot copy the tree to $work"; echo "0 passed, 1 failed"; exit 1
    fi
    # The .deb smoke test needs root: run here, its TAP counted with step 1 below.
    if [ -z "${AUTHSVC_TEST_SKIP_PRE:-}" ] && [ -x "$ROOT/tools/dev/deb-test.sh" ]; then
        echo "== Debian package (tools/dev/deb-test.sh, as root)"
        "$ROOT/tools/dev/deb-test.sh" >"$work/deb.tap" 2>&1
    fi
    chown -R "$TEST_USER:" "$work"
    chmod 755 "$work"
    echo "running the suite as $TEST_USER in $work/tree"
    runuser -u "$TEST_USER" -- env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME="$work" TMPDIR="$work/tmp" LANG=C.UTF-8 PGBIN="$PGBIN" \
        AUTHSVC_TEST_RUNS="$RUNS" AUTHSVC_TEST_SKIP_PRE="${AUTHSVC_TEST_SKIP_PRE:-}" \
        AUTHSVC_TEST_KEEP="$work/failed-runs" AUTHSVC_TEST_SUMMARY="$work/summary" \
        AUTHSVC_TEST_DEB_TAP="$([ -f "$work/deb.tap" ] && echo "$work/deb.tap")" \
        bash "$work/tree/tools/dev/test.sh" "$@"
    rc=$?
    # Test artefacts (t/e2e.t's screenshots) replace those of the last run in the tree.
    if [ -d "$work/tree/t/artefacts" ]; then
        rm -rf "$ROOT/t/artefacts"
        cp -R "$work/tree/t/artefacts" "$ROOT/t/artefacts" &&
            chmod -R a+rX "$ROOT/t/artefacts" &&
            echo "test artefacts: $ROOT/t/artefacts"
    fi
    summary=$(cat "$work/summary" 2>/dev/null || echo "0 passed, 1 failed")
    if [ -d "$work/failed-runs" ]; then
        keep=$(mktemp -d /tmp/authsvc-test-logs.XXXXXX)
        cp -a "$work/failed-runs/." "$keep/"
        chmod -R go+rX "$keep"
        echo "logs of the failed runs: $keep"
    fi
    if [ $rc -eq 0 ] && ! grep -q ' 0 failed$' <<<"$summary"; then
        rc=1
    fi
    echo "$summary"
    exit $rc
}

if [ "$(id -u)" -eq 0 ]; then
    as_root "$@"
fi

# ---- as an ordinary user ------------------------------------------------------------

cd "$ROOT" || exit 1
KEEP=${AUTHSVC_TEST_KEEP:-}
KEPT_HERE=
SUMMARY=${AUTHSVC_TEST_SUMMARY:-}
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/authsvc-suite.XXXXXX") || exit 1
PGDIR=
PASSED=0
FAILED=0
T0=$(date +%s)

stop_httpd() {
    if [ -f t/logs/httpd.pid ] && [ -f t/TEST ]; then
        perl t/TEST -stop-httpd >/dev/null 2>&1 || true
    fi
}

cleanup() {
    stop_httpd
    if [ -n "${LANE2_DIR:-}" ]; then
        (cd "$LANE2_DIR" && stop_httpd)
    fi
    if [ -n "$PGDIR" ]; then
        tools/dev/pg.sh stop "$PGDIR" >/dev/null 2>&1 || true
    fi
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# tally NAME LOG RC: add a TAP::Harness run's counts (from its summary) to the totals.
# A test file that died after its last ok counts as one failure; a run that never
# reached the summary (httpd did not start, say) counts as one failure.
tally() {
    local name=$1 log=$2 rc=$3 counts p f
    counts=$(RC=$rc perl -ne '
        $t = $1 if /^Files=\d+, Tests=(\d+),/;
        if (/^\S+\s+\(Wstat: (\d+).*Tests: \d+ Failed: (\d+)\)/) {
            $f += $2 ? $2 : 1;
        }
        END {
            if (!defined $t) { print "0 1\n"; exit }
            $f //= 0;
            $f = 1 if !$f && $ENV{RC};
            print $t - ($f > $t ? $t : $f), " $f\n";
        }' "$log")
    read -r p f <<<"$counts"
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    printf '== %-28s %5d passed, %d failed\n' "$name:" "$p" "$f"
    [ "$f" -eq 0 ]
}

# harness NAME LOG CMD...: run a TAP::Harness command, show and keep its output.
harness() {
    local name=$1 log=$2 rc
    shift 2
    echo "== $name"
    "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    tally "$name" "$log" "$rc"
}

keep_logs() {
    if [ -z "$KEEP" ]; then
        KEEP=$(mktemp -d /tmp/authsvc-test-logs.XXXXXX) || return
        KEPT_HERE=1
    fi
    local dest="$KEEP/$1"
    shift
    mkdir -p "$dest"
    cp -a "$@" "$dest/" 2>/dev/null || true
}

# ---- 1. unit tests, migration tool, docs --------------------------------------------

if [ -z "${AUTHSVC_TEST_SKIP_PRE:-}" ]; then
    harness "C unit tests" "$SCRATCH/unit.log" t/unit/run.sh ||
        keep_logs unit "$SCRATCH/unit.log"
    harness "migration tool" "$SCRATCH/migrate.log" prove -fo tools/test-migrate.sh ||
        keep_logs migrate "$SCRATCH/migrate.log"
    if [ -n "${AUTHSVC_TEST_DEB_TAP:-}" ]; then
        harness "Debian package" "$SCRATCH/deb.log" prove -fo --exec cat "$AUTHSVC_TEST_DEB_TAP" ||
            keep_logs deb "$SCRATCH/deb.log"
    else
        echo "== Debian package: skipped (tools/dev/deb-test.sh installs a package: run make test as root)"
    fi
    if [ -x tools/dev/check-docs.sh ]; then
        harness "docs" "$SCRATCH/docs.log" prove -fo tools/dev/check-docs.sh ||
            keep_logs docs "$SCRATCH/docs.log"
    fi
fi

# ---- 2. Apache::Test: {sqlite, pgsql} x {event, prefork} ----------------------------

PG_OK=
if grep -q pgsql <<<"$RUNS"; then
    PGDIR=$SCRATCH/pg
    if PGENV=$(tools/dev/pg.sh start "$PGDIR" 2>"$SCRATCH/pg.err"); then
        eval "$PGENV"
        PG_OK=1
    else
        echo "== PostgreSQL: the throwaway cluster did not start:"
        cat "$SCRATCH/pg.err"
        keep_logs postgresql "$SCRATCH/pg.err"
        PGDIR=
    fi
fi

# One run: a fresh database, httpd with the run's MPM, every test file. Its output goes
# to $SCRATCH/BACKEND-MPM.log, its exit status and seconds to .rc and .time beside it.
# Runs in the lane's tree (the current directory); PORT is the lane's first port.
one_run() {
    local backend=$1 mpm=$2 port=$3 db=$4 log t1 rc
    log=$SCRATCH/$backend-$mpm.log
    if [ "$backend" = pgsql ] && [ -z "$PG_OK" ]; then
        echo "(no PostgreSQL)" >"$log"; echo nopg >"$log.rc"; return
    fi
    stop_httpd
    # The MPM comes from the inherit file: a clean start after switching.
    perl t/TEST -clean >/dev/null 2>&1
    rm -rf t/state
    mkdir -p t/state
    defines=()
    if [ "$backend" = pgsql ]; then
        export AUTHSVC_PG_DB=$db
        export AUTHSVC_PG_PARAMS="host=$AUTHSVC_PG_HOST port=$AUTHSVC_PG_PORT dbname=$db user=$AUTHSVC_PG_USER"
        "$PGBIN/dropdb" -h "$AUTHSVC_PG_HOST" -p "$AUTHSVC_PG_PORT" --if-exists "$db" &&
            "$PGBIN/createdb" -h "$AUTHSVC_PG_HOST" -p "$AUTHSVC_PG_PORT" "$db" || {
            echo "(no fresh database)" >"$log"; echo nodb >"$log.rc"; return; }
        defines=(-defines AUTHSVC_PGSQL)
    fi
    t1=$(date +%s)
    export AUTHSVC_TEST_BACKEND=$backend
    perl t/TEST -httpd_conf "$PWD/t/conf/inherit-$mpm.conf" -port "$port" \
        "${defines[@]}" "${FILES[@]}" >"$log" 2>&1
    rc=$?
    echo "$rc" >"$log.rc"
    echo "$(($(date +%s) - t1))" >"$log.time"
    if [ "$rc" -ne 0 ] || ! grep -q '^Result: PASS' "$log"; then
        stop_httpd
        keep_logs "$backend-$mpm" "$log" t/logs/error_log t/logs/access_log \
            t/conf/httpd.conf t/conf/extra.conf
    fi
}

# A lane: some of the runs, one after another, in a tree of its own (its own t/state,
# t/logs and generated config), on ports and a PostgreSQL database of its own. The
# suite mostly waits (timers, restarts, polling: a run keeps a quarter of a CPU busy),
# so two lanes side by side take about half the time of one.
lane() {
    local dir=$1 port=$2 db=$3 run
    shift 3
    cd "$dir" || return
    perl -MApache::TestMM -e 'Apache::TestMM::generate_script("t/TEST")' >/dev/null 2>&1 || {
        for run in "$@"; do
            echo "cannot generate t/TEST (is libapache2-mod-perl2 installed?)" \
                >"$SCRATCH/${run%%:*}-${run##*:}.log"
        done
        return
    }
    for run in "$@"; do
        one_run "${run%%:*}" "${run##*:}" "$port" "$db"
    done
    stop_httpd
}

FILES=("$@")
LANES=${AUTHSVC_TEST_LANES:-2}
read -r -a ALL <<<"$RUNS"
LANE1=() LANE2=()
for i in "${!ALL[@]}"; do
    if [ "$LANES" -ge 2 ] && [ $((i % 2)) -eq 1 ]; then
        LANE2+=("${ALL[$i]}")
    else
        LANE1+=("${ALL[$i]}")
    fi
done
[ -n "$KEEP" ] || { KEEP=$(mktemp -d /tmp/authsvc-test-logs.XXXXXX) && KEPT_HERE=1; }
pids=()
( lane "$ROOT" select authsvc "${LANE1[@]}" ) &
pids+=($!)
if [ ${#LANE2[@]} -gt 0 ]; then
    LANE2_DIR=$SCRATCH/lane2
    mkdir -p "$LANE2_DIR"
    tar -C "$ROOT" --exclude=./t/logs --exclude=./t/state --exclude=./t/artefacts -cf - . |
        tar -C "$LANE2_DIR" -xf -
    ( lane "$LANE2_DIR" 10529 authsvc_lane2 "${LANE2[@]}" ) &
    pids+=($!)
fi
wait "${pids[@]}"
# The second lane's screenshots join the first's.
if [ -n "${LANE2_DIR:-}" ] && [ -d "$LANE2_DIR/t/artefacts" ]; then
    mkdir -p "$ROOT/t/artefacts"
    cp -R "$LANE2_DIR/t/artefacts/." "$ROOT/t/artefacts/"
fi

# The runs' output, in the order of RUNS.
for run in "${ALL[@]}"; do
    backend=${run%%:*}
    mpm=${run##*:}
    name="Apache::Test $backend/$mpm"
    log=$SCRATCH/$backend-$mpm.log
    echo "== $name"
    cat "$log" 2>/dev/null
    case $(cat "$log.rc" 2>/dev/null) in
    nopg) printf '== %-28s %5d passed, %d failed (no PostgreSQL)\n' "$name:" 0 1
        FAILED=$((FAILED + 1)) ;;
    nodb) printf '== %-28s %5d passed, %d failed (no fresh database)\n' "$name:" 0 1
        FAILED=$((FAILED + 1)) ;;
    *) tally "$name" "$log" "$(cat "$log.rc" 2>/dev/null || echo 1)"
        echo "== $name took $(cat "$log.time" 2>/dev/null || echo '?')s" ;;
    esac
done

echo "== total time $(($(date +%s) - T0))s"
if [ -n "$KEPT_HERE" ]; then
    if [ -n "$(ls -A "$KEEP" 2>/dev/null)" ]; then
        echo "logs of the failed runs: $KEEP"
    else
        rmdir "$KEEP" 2>/dev/null
    fi
fi
line="$PASSED passed, $FAILED failed"
[ -n "$SUMMARY" ] && echo "$line" >"$SUMMARY"
echo "$line"
[ "$FAILED" -eq 0 ]
