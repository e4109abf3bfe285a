#!/bin/bash
# tools/dev/test.sh - the whole test suite; `make test` runs it after building.
#
#   1. the C unit tests (t/unit/run.sh), the migration tool's TAP test
#      (prove tools/test-migrate.sh), as root the Debian package's smoke test
#      (tools/dev/deb-test.sh, run before handing over), if present, the docs
#      check (prove tools/dev/check-docs.sh), and the libFuzzer targets for 60 s each
#      (make fuzz; AUTHSVC_FUZZ_SECONDS changes it);
#   2. the Apache::Test suite in t/ four times: SQLite and PostgreSQL (a throwaway
#      cluster, tools/dev/pg.sh), each under the event and the prefork MPM, each run on
#      a fresh database. A run spec is BACKEND:MPM[:VARIANT]; the variants:
#        asan      the module `make asan` builds (.asan/mod_authsvc.so) in place of
#                  the plain one, httpd with libasan preloaded (tools/dev/httpd-asan.sh);
#                  the run fails on any ASan or UBSan report (report files under
#                  t/logs/sanitizer, report lines in error_log). The SQLite/event run
#                  of the default RUNS is this one.
#        valgrind  httpd -X under valgrind (tools/dev/httpd-valgrind.sh) with the plain
#                  module, a short list of test files ($VALGRIND_FILES, unless files
#                  are given); fails on a definite leak or an invalid access.
# The last line is "N passed, N failed" (totals over everything); the exit status is
# non-zero if anything failed. Logs of failed runs are kept, and their path printed;
# just before, "== what failed" names the failing tests (CI shows only the end).
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
#                                                    default is one lane per run, side
#                                                    by side, at most four)
#   tools/dev/test.sh t/login.t t/me.t               only these test files
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TEST_USER=${AUTHSVC_TEST_USER:-authsvc-test}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
# One lane per run, up to four: the fifth (valgrind, a few files) shares the first lane,
# not the ASan run's.
RUNS=${AUTHSVC_TEST_RUNS:-sqlite:prefork sqlite:event:asan pgsql:event pgsql:prefork sqlite:prefork:valgrind}
# The valgrind run's test files: sign-in, registration, two-step sign-in, tokens and the
# pages, which between them go through most of the module (each file is ~10x slower
# under valgrind).
VALGRIND_FILES=${AUTHSVC_VALGRIND_FILES:-t/login.t t/register.t t/mfa_login.t t/token_issue.t t/token_refresh.t t/pages_auth.t}
# The most seconds one Apache::Test run may take (a run takes about 17 minutes here).
RUN_LIMIT=${AUTHSVC_TEST_RUN_LIMIT:-2400}

# ---- as root: hand over to an unprivileged user -------------------------------------

as_root() {
    local work rc keep summary st
    if ! id -u "$TEST_USER" >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$TEST_USER" || {
            echo "cannot create the user $TEST_USER"; echo "0 passed, 1 failed"; exit 1; }
    fi
    local need=(mod_authsvc.so tools/authsvc-admin)
    if grep -q ':asan' <<<"$RUNS"; then
        need+=(.asan/mod_authsvc.so)
    fi
    for f in "${need[@]}"; do
        if [ ! -e "$ROOT/$f" ]; then
            echo "$ROOT/$f is missing: run make first (make asan for .asan/)"
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
    tar -C "$ROOT" --exclude=./.git --exclude=./state --exclude=./t/logs --exclude=./.asan/build \
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
        AUTHSVC_FUZZ_SECONDS="${AUTHSVC_FUZZ_SECONDS:-60}" \
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
LANE_DIRS=()
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
    restore_module
    for d in "${LANE_DIRS[@]}"; do
        (cd "$d" && stop_httpd)
    done
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
    [ "$f" -eq 0 ] || recap "$name" "$log"
    [ "$f" -eq 0 ]
}

# recap NAME LOG [PATTERN]: note what failed in a log, for the recap printed just before
# the last line (CI shows only the end of the output): the lines matching PATTERN
# (by default TAP's "Failed test" comments and the harness's summary report), at
# most 40.
recap() {
    local name=$1 log=$2 pat=${3:-}
    {
        echo "-- $name"
        if [ -n "$pat" ]; then
            grep -P -e "$pat" "$log" 2>/dev/null | head -n 40
        else
            perl -ne '
                $r = 1 if /^Test Summary Report/;
                $r = 0 if /^Files=\d+/;
                print if ($r && !/^Test Summary Report|^-+$/)
                    || /^\s*#\s+Failed test/ || /^Bail out/
                    || /^\((the run was ended|no |cannot )/;' "$log" 2>/dev/null | head -n 40
        fi
    } >>"$SCRATCH/recap"
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

# fuzz: `make fuzz` (every libFuzzer target for FUZZ_SECONDS, default 60, FUZZ_JOBS at a
# time, default 2; t/fuzz/run.sh), one test per target: passed when it found nothing.
# A target that did not build or run counts as failed. Before the Apache::Test runs, not
# beside them: the fuzzers keep both CPUs busy, and the suite's timers would suffer.
fuzz() {
    local log=$SCRATCH/fuzz.log rc p f
    echo "== fuzzing (make fuzz, t/fuzz/README.md)"
    make -s fuzz FUZZ_SECONDS="${AUTHSVC_FUZZ_SECONDS:-60}" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    read -r p f < <(RC=$rc perl -ne '
        if (/^target\s+execs/) { $t = 1; next }
        if ($t && /^(fuzz_\w+)\s+\S+\s+\S+\s+\S+\s+\S+\s+(.+)$/) {
            $2 eq "0" ? $p++ : $f++;
            next;
        }
        $t = 0;
        END { $f++ if !$p && !$f; $f++ if $ENV{RC} && !$f; print $p + 0, " ", $f + 0, "\n" }' "$log")
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    printf '== %-28s %5d passed, %d failed\n' "fuzzing:" "$p" "$f"
    [ "$f" -eq 0 ] || {
        keep_logs fuzz "$log" t/fuzz/build/log
        recap fuzzing "$log" '^fuzz_\w+(\s+\S+){4}\s+(?!0\s*$)|^== fuzz_|^INFO: Seed:|^SUMMARY:|runtime error:|ERROR: libFuzzer|^-- input|^\d{7} '
    }
}

# ---- 1. unit tests, migration tool, docs, fuzzing -----------------------------------

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
    fuzz
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

# The name of a run spec's log: BACKEND-MPM[-VARIANT].
run_log() {
    local spec=$1
    echo "$SCRATCH/${spec//:/-}.log"
}

# One run: a fresh database, httpd with the run's MPM, every test file. Its output goes
# to $SCRATCH/BACKEND-MPM[-VARIANT].log, its exit status and seconds to .rc and .time
# beside it, its sanitizer or valgrind findings (if any) to .san.
# Runs in the lane's tree (the current directory); PORT is the lane's first port.
one_run() {
    local spec=$1 port=$2 db=$3 backend mpm variant log t1 rc files env_run opts
    IFS=: read -r backend mpm variant <<<"$spec"
    log=$(run_log "$spec")
    files=("${FILES[@]}")
    env_run=()
    opts=()
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
    # The variants: the ASan module in place of the plain one (restored after the run,
    # also by cleanup), or httpd -X under valgrind on a few files. Their findings land
    # in t/logs/sanitizer (AUTHSVC_SANITIZER_DIR; t/zz_errorlog.t looks there too).
    case $variant in
    asan)
        if [ ! -f .asan/mod_authsvc.so ]; then
            echo "(no .asan/mod_authsvc.so: run make asan)" >"$log"; echo 1 >"$log.rc"; return
        fi
        cp -p mod_authsvc.so mod_authsvc.so.plain && cp .asan/mod_authsvc.so mod_authsvc.so || {
            echo "(cannot put the ASan module in place)" >"$log"; echo 1 >"$log.rc"; return; }
        # Start-up (the migrations, every vhost's keys) is several times slower.
        env_run=(APACHE_TEST_HTTPD="$PWD/tools/dev/httpd-asan.sh"
            APACHE_TEST_STARTUP_TIMEOUT=300 AUTHSVC_SANITIZER_DIR="$PWD/t/logs/sanitizer")
        opts=(-httpd "$PWD/tools/dev/httpd-asan.sh")
        ;;
    valgrind)
        # httpd takes a minute to start under valgrind on a busy machine.
        env_run=(APACHE_TEST_HTTPD="$PWD/tools/dev/httpd-valgrind.sh"
            APACHE_TEST_STARTUP_TIMEOUT=600 AUTHSVC_SANITIZER_DIR="$PWD/t/logs/sanitizer")
        opts=(-httpd "$PWD/tools/dev/httpd-valgrind.sh")
        opts+=(-one-process)
        [ ${#files[@]} -gt 0 ] || read -r -a files <<<"$VALGRIND_FILES"
        ;;
    esac
    mkdir -p t/logs/sanitizer
    rm -f t/logs/sanitizer/*
    t1=$(date +%s)
    export AUTHSVC_TEST_BACKEND=$backend
    # A run that hangs (a test waiting on a server that never answers) is ended, and
    # fails, rather than holding CI forever: no run takes half of RUN_LIMIT.
    timeout -k 30 "$RUN_LIMIT" env "${env_run[@]}" \
        perl t/TEST -httpd_conf "$PWD/t/conf/inherit-$mpm.conf" -port "$port" \
        "${opts[@]}" "${defines[@]}" "${files[@]}" >"$log" 2>&1
    rc=$?
    [ "$rc" -eq 124 ] && echo "(the run was ended after $RUN_LIMIT s)" >>"$log"
    echo "$rc" >"$log.rc"
    echo "$(($(date +%s) - t1))" >"$log.time"
    stop_httpd
    if [ -n "$variant" ]; then
        [ "$variant" = asan ] && restore_module
        findings "$variant" >"$log.san"
    fi
    if [ "$rc" -ne 0 ] || ! grep -q '^Result: PASS' "$log" || [ -s "$log.san" ]; then
        keep_logs "${spec//:/-}" "$log" "$log.san" t/logs/error_log t/logs/access_log \
            t/conf/httpd.conf t/conf/extra.conf t/logs/sanitizer
    fi
}

# The plain module back in place after an ASan run (a no-op when it is there).
restore_module() {
    if [ -f mod_authsvc.so.plain ]; then
        mv -f mod_authsvc.so.plain mod_authsvc.so
    fi
}

# findings VARIANT: what a sanitized run found, once httpd has stopped (a report written
# at exit comes after the last test): every ASan/UBSan report file and report line in
# error_log, or every valgrind log with errors (a definite leak counts as one). Empty
# output: nothing found.
findings() {
    local f
    if [ "$1" = valgrind ]; then
        for f in t/logs/sanitizer/valgrind.*; do
            [ -f "$f" ] || continue
            # valgrind writes its summary when the process has exited (the leak check
            # takes a while after httpd's SIGTERM).
            for _ in $(seq 120); do
                grep -q 'ERROR SUMMARY:' "$f" && break
                sleep 1
            done
            if ! grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
                echo "--- $f"
                cat "$f"
            fi
        done
        if ! ls t/logs/sanitizer/valgrind.* >/dev/null 2>&1; then
            echo "--- no valgrind log: did httpd run under valgrind?"
        fi
        return
    fi
    for f in t/logs/sanitizer/*; do
        [ -f "$f" ] || continue
        echo "--- $f"
        cat "$f"
    done
    grep -n -e 'runtime error:' -e 'ERROR: AddressSanitizer' -e 'LeakSanitizer' \
        t/logs/error_log 2>/dev/null | sed 's/^/--- error_log:/'
}

# A lane: some of the runs, one after another, in a tree of its own (its own t/state,
# t/logs and generated config), on ports and a PostgreSQL database of its own. The
# suite mostly waits (timers, restarts, polling: a run keeps a quarter of a CPU busy),
# so lanes side by side (one per run, up to four) take a fraction of the time of one.
lane() {
    local dir=$1 port=$2 db=$3 run
    shift 3
    cd "$dir" || return
    perl -MApache::TestMM -e 'Apache::TestMM::generate_script("t/TEST")' >/dev/null 2>&1 || {
        for run in "$@"; do
            echo "cannot generate t/TEST (is libapache2-mod-perl2 installed?)" \
                >"$(run_log "$run")"
        done
        return
    }
    for run in "$@"; do
        one_run "$run" "$port" "$db"
    done
    stop_httpd
    restore_module
}

FILES=("$@")
read -r -a ALL <<<"$RUNS"
LANES=${AUTHSVC_TEST_LANES:-${#ALL[@]}}
[ "$LANES" -gt 4 ] && LANES=4
[ "$LANES" -lt 1 ] && LANES=1
[ -n "$KEEP" ] || { KEEP=$(mktemp -d /tmp/authsvc-test-logs.XXXXXX) && KEPT_HERE=1; }
# Lane 1 runs in the tree itself; lane N (N >= 2) in a copy of its own, on ports from
# 8529 + 2000 (N - 1) and the database authsvc_laneN. Run i goes to lane i mod LANES.
# Every copy is made before any lane starts: an ASan run puts its module in place of
# the plain one in its lane's tree.
LANE_RUNS=()
for ((n = 1; n <= LANES; n++)); do
    runs=()
    for i in "${!ALL[@]}"; do
        [ $((i % LANES + 1)) -eq "$n" ] && runs+=("${ALL[$i]}")
    done
    LANE_RUNS[n]="${runs[*]}"
    if [ "$n" -ge 2 ] && [ ${#runs[@]} -gt 0 ]; then
        dir=$SCRATCH/lane$n
        mkdir -p "$dir"
        tar -C "$ROOT" --exclude=./t/logs --exclude=./t/state --exclude=./t/artefacts \
            --exclude=./.asan/build --exclude=./mod_authsvc.so.plain -cf - . |
            tar -C "$dir" -xf -
        LANE_DIRS+=("$dir")
    fi
done
pids=()
for ((n = 1; n <= LANES; n++)); do
    read -r -a runs <<<"${LANE_RUNS[n]}"
    [ ${#runs[@]} -gt 0 ] || continue
    if [ "$n" -eq 1 ]; then
        ( lane "$ROOT" select authsvc "${runs[@]}" ) &
    else
        ( lane "$SCRATCH/lane$n" $((8529 + 2000 * (n - 1))) "authsvc_lane$n" "${runs[@]}" ) &
    fi
    pids+=($!)
done
wait "${pids[@]}"
# The other lanes' screenshots join the first's.
for d in "${LANE_DIRS[@]}"; do
    if [ -d "$d/t/artefacts" ]; then
        mkdir -p "$ROOT/t/artefacts"
        cp -R "$d/t/artefacts/." "$ROOT/t/artefacts/"
    fi
done

# The runs' output, in the order of RUNS.
for run in "${ALL[@]}"; do
    IFS=: read -r backend mpm variant <<<"$run"
    name="Apache::Test $backend/$mpm${variant:+/$variant}"
    log=$(run_log "$run")
    echo "== $name"
    cat "$log" 2>/dev/null
    if [ -s "$log.san" ]; then
        echo "== $name: $variant findings (the first 200 lines; all in the kept logs)"
        head -n 200 "$log.san"
        printf '== %-28s %5d passed, %d failed (%s findings)\n' "$name $variant:" 0 1 "$variant"
        recap "$name: $variant findings" "$log.san" '.'
        FAILED=$((FAILED + 1))
    fi
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
# What failed, last but one: the first 16 lines, all of it in the kept logs.
if [ -s "$SCRATCH/recap" ]; then
    keep_logs recap "$SCRATCH/recap"
    echo "== what failed"
    head -n 16 "$SCRATCH/recap"
    n=$(wc -l <"$SCRATCH/recap")
    [ "$n" -gt 16 ] && echo "   ($((n - 16)) more lines: recap/recap in the kept logs)"
fi
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
