#!/bin/bash
# test-migrate.sh — round trip of the migration runner through authsvc-admin:
# status/up/down/up, schema behaviour, refusal of a newer database, rollback
# of a failing migration, concurrent runs; on a temporary SQLite file and on
# a throwaway PostgreSQL cluster (initdb + pg_ctl, unix socket in a temp
# dir, removed afterwards). Also checks tools/embed-sql.pl's refusals.
# Prints TAP: run it directly or with `prove tools/test-migrate.sh`.
#
# Environment:
#   AUTHSVC_ADMIN  authsvc-admin binary to test (default: build one in the
#                  temp dir from tools/ and src/, like the Makefile does)
#   PGBIN          PostgreSQL binaries (default /usr/lib/postgresql/15/bin);
#                  the PostgreSQL part is skipped when initdb is missing.
#                  As root, the cluster runs as the "postgres" user.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
TMP=$(mktemp -d /tmp/authsvc-migrate.XXXXXX) || exit 1
PGDIR=$TMP/pg
PG_STARTED=
RUNAS=

cleanup() {
    if [ -n "$PG_STARTED" ]; then
        $RUNAS "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop \
            >/dev/null 2>&1
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Keep a caller's libpq settings out of the throwaway cluster's way.
unset PGHOST PGPORT PGUSER PGDATABASE PGSERVICE AUTHSVC_DBD_DRIVER \
      AUTHSVC_DBD_PARAMS

# --- TAP helpers -----------------------------------------------------------
n=0
failed=0
OUT=$TMP/out
ERR=$TMP/err

pass() { n=$((n + 1)); echo "ok $n - $1"; }
flunk() {
    n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
    [ -s "$OUT" ] && sed 's/^/#   stdout: /' "$OUT"
    [ -s "$ERR" ] && sed 's/^/#   stderr: /' "$ERR"
    return 0
}
skip() { n=$((n + 1)); echo "ok $n # skip $1"; }

# run RC DESC CMD...: CMD must exit with RC; output kept in $OUT/$ERR.
run() {
    local want=$1 desc=$2 rc
    shift 2
    "$@" >"$OUT" 2>"$ERR"
    rc=$?
    if [ "$rc" = "$want" ]; then pass "$desc"; else
        echo "# exit status $rc, wanted $want"; flunk "$desc"; fi
}
# like FILE REGEX DESC: the file matches the extended regex.
like() {
    if grep -Eq -- "$2" "$1"; then pass "$3"; else
        echo "# no match for /$2/"; flunk "$3"; fi
}

# --- build -----------------------------------------------------------------
EMBED=$ROOT/tools/embed-sql.pl
CFLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(apr-1-config --cflags --cppflags --includes) $(apu-1-config --includes) -I$ROOT/src"
LIBS="$(apu-1-config --link-ld) $(apr-1-config --link-ld) -ljansson -largon2 -lcrypto"
# The httpd-free units the tool is built from: the Makefile's PURE list (one list, not
# a copy), with the migrations embedded from the directory under test instead.
PURE=$(make -s -C "$ROOT" --no-print-directory --eval 'print-pure: ; @echo $(PURE)' print-pure |
    tr ' ' '\n' | grep -v '^src/migrations_data.c$' | sed "s|^|$ROOT/|" | tr '\n' ' ')

# ... and the tool's own files (the Makefile's ADMIN_SRCS).
ADMIN_SRCS=$(make -s -C "$ROOT" --no-print-directory --eval 'print-admin: ; @echo $(ADMIN_SRCS)' print-admin |
    tr ' ' '\n' | sed "s|^|$ROOT/|" | tr '\n' ' ')

# build SQLDIR OUTDIR: embed SQLDIR's migrations, compile OUTDIR/authsvc-admin.
build() {
    mkdir -p "$2" &&
    perl "$EMBED" --sql-dir "$1" "$2/migrations_data.c" &&
    cc $CFLAGS -o "$2/authsvc-admin" $ADMIN_SRCS $PURE \
        "$2/migrations_data.c" $LIBS
}

if [ -n "${AUTHSVC_ADMIN:-}" ]; then
    ADMIN=$AUTHSVC_ADMIN
    pass "using AUTHSVC_ADMIN=$ADMIN"
else
    ADMIN=$TMP/build/authsvc-admin
    run 0 "embed-sql.pl and cc build authsvc-admin from sql/" \
        build "$ROOT/sql" "$TMP/build"
    [ -x "$ADMIN" ] || { echo "Bail out! cannot build authsvc-admin"; exit 1; }
fi
LATEST=$(ls "$ROOT/sql/sqlite" | grep -c '\.up\.sql$')

# A second build with an extra migration that fails half-way at run time
# (duplicate key in statement 3), to see it rolled back whole.
BAD=$TMP/badsql
for d in sqlite pgsql; do
    mkdir -p "$BAD/$d"
    cp "$ROOT/sql/$d"/*.sql "$BAD/$d/"
    next=$(printf '%04d' $((LATEST + 1)))
    cat >"$BAD/$d/${next}_broken.up.sql" <<'EOF'
CREATE TABLE broken_t (x INTEGER UNIQUE);
INSERT INTO broken_t (x) VALUES (1);
INSERT INTO broken_t (x) VALUES (1);
CREATE TABLE broken_after (x INTEGER);
EOF
    printf 'DROP TABLE broken_after;\nDROP TABLE broken_t;\n' \
        >"$BAD/$d/${next}_broken.down.sql"
done
run 0 "build with a broken extra migration" build "$BAD" "$TMP/badbuild"
BADADMIN=$TMP/badbuild/authsvc-admin

# --- embed-sql.pl refusals -------------------------------------------------
# embed_case DESC REGEX SETUP...: copy sql/, apply the setup commands inside
# the copy, expect embed-sql.pl to fail with REGEX and write nothing.
embed_case() {
    local desc=$1 re=$2 dir=$TMP/case$n
    shift 2
    mkdir -p "$dir" && cp -r "$ROOT/sql/sqlite" "$ROOT/sql/pgsql" "$dir/"
    (cd "$dir" && eval "$*")
    run 1 "embed-sql.pl refuses $desc" perl "$EMBED" --sql-dir "$dir" "$dir/out.c"
    like "$ERR" "$re" "... with a clear message"
    if [ -e "$dir/out.c" ] || [ -e "$dir/out.c.tmp" ]; then
        flunk "... and writes no output"; else pass "... and writes no output"; fi
}
ok_sql='CREATE TABLE t (x INTEGER);'
N1=$(printf '%04d' $((LATEST + 1)))   # the next version
N2=$(printf '%04d' $((LATEST + 2)))   # one after it: a gap
embed_case "a gap in numbering" "gap in numbering: expected $N1, found $N2" \
    "for d in sqlite pgsql; do echo '$ok_sql' >\$d/${N2}_x.up.sql; echo 'DROP TABLE t;' >\$d/${N2}_x.down.sql; done"
embed_case "a duplicate version" 'duplicate version 0001' \
    "for d in sqlite pgsql; do echo '$ok_sql' >\$d/0001_other.up.sql; echo 'DROP TABLE t;' >\$d/0001_other.down.sql; done"
embed_case "an up without a down" "${N1}_x.up.sql: no matching .down.sql" \
    "for d in sqlite pgsql; do echo '$ok_sql' >\$d/${N1}_x.up.sql; done"
embed_case "drivers with different versions" 'drivers disagree' \
    "echo '$ok_sql' >sqlite/${N1}_x.up.sql; echo 'DROP TABLE t;' >sqlite/${N1}_x.down.sql"
embed_case "a bad file name" "${N1}-x.up.sql: bad file name" \
    "echo '$ok_sql' >sqlite/${N1}-x.up.sql"
embed_case "a statement without its ';'" 'text after the last statement' \
    "echo 'DROP TABLE users' >>sqlite/0001_core.down.sql"
embed_case "a PRAGMA" "'PRAGMA' is not allowed" \
    "echo 'PRAGMA foreign_keys = ON;' >>sqlite/0001_core.up.sql"

# --- the round trip, run once per driver ------------------------------------
# Needs: DRIVER, PARAMS, dbsql (run SQL, print rows one per line, non-zero on
# error), OBJQ (SQL counting our tables and indexes, schema_migrations aside).
admin() { "$ADMIN" --driver "$DRIVER" --params "$PARAMS" "$@"; }
badadmin() { "$BADADMIN" --driver "$DRIVER" --params "$PARAMS" "$@"; }

# sql_is DESC SQL EXPECTED
sql_is() {
    local got
    got=$(dbsql "$2" 2>"$ERR")
    if [ "$got" = "$3" ]; then pass "$1"; else
        echo "# got '$got', wanted '$3'"; flunk "$1"; fi
}
# sql_fails DESC SQL: the database must refuse SQL.
sql_fails() {
    if dbsql "$2" >"$OUT" 2>"$ERR"; then flunk "$1"; else pass "$1"; fi
}

roundtrip() {
    local t="[$DRIVER]"

    run 0 "$t status on an empty database" admin migrate status
    like "$OUT" '^current version: 0$' "$t ... says version 0"
    like "$OUT" "^latest version: +$LATEST\$" "$t ... says latest $LATEST"
    like "$OUT" '^  0001_core$' "$t ... lists 0001_core as pending"
    sql_is "$t status created nothing" "$OBJQ_ALL" 0

    run 0 "$t up" admin migrate up
    like "$OUT" "^applied $LATEST migration" "$t ... applied $LATEST"
    like "$OUT" "^schema version now $LATEST\$" "$t ... reports version $LATEST"
    run 0 "$t status after up" admin migrate status
    like "$OUT" '^up to date$' "$t ... says up to date"
    sql_is "$t schema_migrations has the row" \
        "SELECT version || ' ' || name FROM schema_migrations WHERE version = 1" \
        "1 core"
    sql_is "$t applied_at is a Unix time" \
        "SELECT count(*) FROM schema_migrations WHERE applied_at > 1600000000" \
        "$LATEST"

    # The schema behaves the same on both drivers.
    sql_is "$t user insert gets status and roles defaults" \
        "INSERT INTO users (id, email, username, password_hash, created_at, updated_at)
         VALUES ('u1', 'a@example.org', 'Alice', 'h', 1, 1);
         SELECT status || '|' || roles || '|' || COALESCE(first_name, 'null') FROM users;" \
        "active||null"
    sql_fails "$t username is unique case-insensitively" \
        "INSERT INTO users (id, email, username, password_hash, created_at, updated_at)
         VALUES ('u2', 'b@example.org', 'ALICE', 'h', 1, 1);"
    sql_is "$t several users without username are fine" \
        "INSERT INTO users (id, email, password_hash, created_at, updated_at)
         VALUES ('u3', 'c@example.org', 'h', 1, 1), ('u4', 'd@example.org', 'h', 1, 1);
         SELECT count(*) FROM users;" 3
    sql_fails "$t email is unique" \
        "INSERT INTO users (id, email, password_hash, created_at, updated_at)
         VALUES ('u5', 'a@example.org', 'h', 1, 1);"
    sql_fails "$t status is checked" "UPDATE users SET status = 'gone' WHERE id = 'u1';"
    sql_fails "$t users.id may not be NULL" \
        "INSERT INTO users (id, email, password_hash, created_at, updated_at)
         VALUES (NULL, 'n@example.org', 'h', 1, 1);"
    sql_is "$t 64-bit timestamps fit" \
        "UPDATE users SET email_verified_at = 9000000000 WHERE id = 'u1';
         SELECT email_verified_at FROM users WHERE id = 'u1';" 9000000000
    sql_is "$t session insert" \
        "INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at,
                               idle_expires_at, expires_at)
         VALUES ('th1', 's1', 'u1', 1, 1, 2, 3), ('th2', 's2', 'u1', 1, 1, 2, 3);
         SELECT count(*) FROM sessions;" 2
    sql_fails "$t session needs an existing user" \
        "INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at,
                               idle_expires_at, expires_at)
         VALUES ('th3', 's3', 'nobody', 1, 1, 2, 3);"
    sql_fails "$t session public id is unique" \
        "INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at,
                               idle_expires_at, expires_at)
         VALUES ('th4', 's1', 'u1', 1, 1, 2, 3);"
    sql_is "$t audit ids increase, user_id has no foreign key" \
        "INSERT INTO audit_log (at, event, user_id, login, detail)
         VALUES (1, 'login', 'u1', 'Alice', '{}');
         INSERT INTO audit_log (at, event, user_id) VALUES (2, 'login_failed', 'ghost');
         SELECT count(*) FROM audit_log a JOIN audit_log b ON b.id > a.id;" 1
    sql_is "$t deleting a user cascades to sessions, not to audit_log" \
        "DELETE FROM users WHERE id = 'u1';
         SELECT (SELECT count(*) FROM sessions) || ' ' || (SELECT count(*) FROM audit_log);" \
        "0 2"

    run 0 "$t up again does nothing" admin migrate up
    like "$OUT" '^applied 0 migration' "$t ... applied 0"
    run 1 "$t down above the current version fails" admin migrate down $((LATEST + 1))
    like "$ERR" 'cannot roll back to version' "$t ... and says why"

    run 0 "$t down 0" admin migrate down 0
    like "$OUT" "^reverted $LATEST migration" "$t ... reverted $LATEST"
    sql_is "$t down 0 dropped every table and index" "$OBJQ" 0
    sql_is "$t schema_migrations is empty" "SELECT count(*) FROM schema_migrations" 0
    run 0 "$t status after down" admin migrate status
    like "$OUT" '^current version: 0$' "$t ... says version 0"
    run 0 "$t down 0 again does nothing" admin migrate down 0
    like "$OUT" '^reverted 0 migration' "$t ... reverted 0"

    run 0 "$t up after down" admin migrate up
    sql_is "$t tables are back, empty" \
        "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM sessions)
              + (SELECT count(*) FROM audit_log)" 0

    # A database newer than the build is refused, never downgraded.
    dbsql "INSERT INTO schema_migrations (version, name, applied_at)
           VALUES ($((LATEST + 1)), 'future', 1)" >/dev/null 2>&1
    run 1 "$t up refuses a newer database" admin migrate up
    like "$ERR" 'newer than this build' "$t ... with a clear message"
    run 0 "$t status reports a newer database" admin migrate status
    like "$OUT" 'newer than this build' "$t ... says so"
    run 1 "$t down refuses a newer database" admin migrate down 0
    sql_is "$t ... and changed nothing" "SELECT count(*) FROM users" 0
    dbsql "DELETE FROM schema_migrations WHERE version > $LATEST" >/dev/null 2>&1

    # A migration failing half-way is rolled back whole; the ones before stay.
    run 0 "$t reset to 0" admin migrate down 0
    run 1 "$t up with a failing migration fails" badadmin migrate up
    like "$OUT" "^applied $LATEST migration" "$t ... after applying the good ones"
    like "$ERR" "_broken up, statement 3 \\(INSERT INTO broken_t" \
        "$t ... naming the statement"
    like "$ERR" '(UNIQUE constraint failed|duplicate key)' "$t ... with the driver's message"
    sql_is "$t ... and rolled it back whole" \
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations" "$LATEST"
    sql_fails "$t ... its first table is gone" "SELECT count(*) FROM broken_t"
    sql_fails "$t ... its last table never came" "SELECT count(*) FROM broken_after"
    run 0 "$t up N stops at N" badadmin migrate up "$LATEST"
    like "$OUT" '^applied 0 migration' "$t ... applied 0"
}

# race: rounds of K processes running "migrate up" at once on a fresh
# database (down 0 between rounds). Without BEGIN IMMEDIATE (SQLite) or the
# advisory lock (PostgreSQL) some of them fail or apply a migration twice.
race() {
    local t="[$DRIVER]" i r got total=0 bad=0 k=8 rounds=3 pids
    for r in $(seq $rounds); do
        [ $r = 1 ] || admin migrate down 0 >/dev/null 2>&1
        pids=
        for i in $(seq $k); do
            admin migrate up >"$TMP/race$i.out" 2>"$TMP/race$i.err" &
            pids="$pids $!"
        done
        for i in $pids; do
            wait "$i"
        done
        for i in $(seq $k); do
            if ! grep -q '^schema version now' "$TMP/race$i.out"; then
                bad=$((bad + 1)); sed 's/^/#   /' "$TMP/race$i.err"
            fi
            got=$(sed -n 's/^applied \([0-9]*\) .*/\1/p' "$TMP/race$i.out")
            total=$((total + ${got:-0}))
        done
    done
    if [ $bad = 0 ]; then pass "$t $rounds x $k concurrent ups all succeed"; else
        flunk "$t $rounds x $k concurrent ups all succeed ($bad failed)"; fi
    if [ $total = $((rounds * LATEST)) ]; then
        pass "$t ... applying each migration once per round"; else
        echo "# applied $total in all"
        flunk "$t ... applying each migration once per round"; fi
    sql_is "$t ... to version $LATEST" \
        "SELECT COALESCE(MAX(version), 0) || ' ' || count(*) FROM schema_migrations" \
        "$LATEST $LATEST"
}

# --- SQLite ------------------------------------------------------------------
DRIVER=sqlite3
PARAMS=$TMP/authsvc.db
dbsql() { printf 'PRAGMA foreign_keys = ON;\n%s\n' "$1" | sqlite3 -bail -batch "$PARAMS"; }
OBJQ="SELECT count(*) FROM sqlite_master WHERE name <> 'schema_migrations'
      AND name <> 'sqlite_sequence' AND name NOT LIKE 'sqlite_autoindex%'"
OBJQ_ALL="SELECT count(*) FROM sqlite_master"
if command -v sqlite3 >/dev/null; then
    roundtrip
    PARAMS=$TMP/race.db
    race
else
    skip "sqlite3 command-line tool not installed"
fi

# --- PostgreSQL --------------------------------------------------------------
start_pg() {
    if [ ! -x "$PGBIN/initdb" ]; then
        echo "no initdb in $PGBIN"; return 1
    fi
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || { echo "root and no postgres user"; return 1; }
        RUNAS="runuser -u postgres --"
        chmod 755 "$TMP"
        mkdir -p "$PGDIR" && chown postgres "$PGDIR"
    else
        mkdir -p "$PGDIR"
    fi
    $RUNAS "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres --no-sync \
        >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log"; return 1; }
    $RUNAS "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
        -o "-c listen_addresses='' -c unix_socket_directories='$PGDIR' -c fsync=off -p 5432" \
        start >/dev/null 2>&1 || { cat "$PGDIR/log"; return 1; }
    PG_STARTED=1
}

if start_pg >"$TMP/pgstart.log" 2>&1; then
    DRIVER=pgsql
    PGDB=postgres
    PARAMS="host=$PGDIR port=5432 user=postgres dbname=postgres"
    dbsql() {
        "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PGDIR" -p 5432 \
            -U postgres -d "$PGDB" -c "$1"
    }
    OBJQ="SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relname NOT LIKE 'schema_migrations%'"
    OBJQ_ALL="SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public'"
    roundtrip
    dbsql "CREATE DATABASE race" >/dev/null
    PGDB=race
    PARAMS="host=$PGDIR port=5432 user=postgres dbname=race"
    race
else
    sed 's/^/# /' "$TMP/pgstart.log"
    skip "PostgreSQL cluster could not be started"
fi

echo "1..$n"
[ $failed = 0 ]
