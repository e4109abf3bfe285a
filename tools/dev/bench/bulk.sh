#!/bin/sh
# tools/dev/bench/bulk.sh - fill a migrated mod_authsvc database with N accounts and
# the rows such accounts leave behind, fast, for make bench and tools/dev/explain-check.py.
#
#   bulk.sh sqlite3 DBFILE FROM TO   (the sqlite3 command-line shell)
#   bulk.sh pgsql   -      FROM TO   (psql; the connection from PGHOST, PGPORT, PGUSER,
#                                     PGDATABASE)
#
# Adds accounts FROM .. TO (so a database grows in steps: 1 100000, then 100001
# 1000000). Every account bulk-N@bulk.example.com has the password "correct horse
# battery staple": the hash is a real Argon2id hash at the default parameters, copied
# from the account bulk-seed@bulk.example.com, which must exist already (authsvc-admin
# user add makes it), so that these accounts can sign in. Beside the accounts, one
# statement per table (a recursive CTE in SQLite, generate_series in PostgreSQL):
#   sessions        one per account: a quarter revoked, half past their end, a quarter live
#   refresh_tokens  one per two accounts, on that account's session
#   audit_log       two per account (a sign-in and a failed one, over 90 days)
#   tokens          one per ten accounts (expired email verification links)
#   devices_seen    one per account
# Token hashes are 64 hex digits spread over the key space, as SHA-256 hex digests are.
# Then ANALYZE on PostgreSQL (what autovacuum does soon after such a load); SQLite is
# left as a server's database is, without statistics.
set -eu

driver=$1; db=$2; from=$3; n=$4
now=$(date +%s)

# Per backend: gen, the rows' generator (FROM ... giving i); uid and sid, the account's
# and the session's id of row i; hex SALT, 64 hex digits from i and SALT; run, the shell.
if [ "$driver" = sqlite3 ]; then
    gen="FROM (WITH RECURSIVE n(i) AS (SELECT $from UNION ALL SELECT i + 1 FROM n WHERE i < $n) SELECT i FROM n)"
    uid="printf('00000000-0000-4000-8000-%012d', i)"
    # 64 hex digits from i and a salt letter, spread by multiplicative hashing
    hex() { echo "printf('%016x%016x%016x%016x', ((i * 2654435761) % 2147483647) * 4294967296 + i, i * 40503 + $1, i * 2246822519 % 4294967291, $1 * 1000003 + i)"; }
    sid="printf('10000000-0000-4000-8000-%012d', i)"
    run() { sqlite3 "$db"; }
else
    gen="FROM generate_series($from, $n) AS i"
    uid="'00000000-0000-4000-8000-' || lpad(i::text, 12, '0')"
    hex() { echo "(md5('$1' || i) || md5(i || '$1'))"; }
    sid="'10000000-0000-4000-8000-' || lpad(i::text, 12, '0')"
    run() { psql -q -v ON_ERROR_STOP=1 > /dev/null; }
fi

# Load settings of this connection only: SQLite's page cache large enough for the
# indexes (the default 2 MB makes every random key a read), no fsync; PostgreSQL's
# foreign-key triggers off (the rows are made consistent).
if [ "$driver" = sqlite3 ]; then
    pre="PRAGMA cache_size = -1000000; PRAGMA synchronous = OFF;"
else
    pre="SET session_replication_role = replica;"
fi

run <<EOF
$pre
INSERT INTO users (id, email, username, password_hash, email_verified_at, status, roles,
                   created_at, updated_at)
SELECT $uid, 'bulk-' || i || '@bulk.example.com', 'bulk' || i,
       (SELECT password_hash FROM users WHERE email = 'bulk-seed@bulk.example.com'),
       $now - i % 86400, 'active', '', $now - 86400 * 30 - i % 86400, $now - 86400 * 30
$gen;

INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at, idle_expires_at,
                      expires_at, ip, user_agent, revoked_at, auth_at, amr)
SELECT $(hex 1), $sid, $uid, $now - 86400 * (i % 28) - 3600, $now - 86400 * (i % 28),
       $now - 86400 * (i % 28) + 1800, $now - 86400 * (i % 28) + 86400 * 14 - 3600,
       '192.0.2.' || (i % 250), 'bench/1.0',
       CASE WHEN i % 4 = 0 THEN $now - 86400 * (i % 28) END, $now - 86400 * (i % 28) - 3600, 'pwd'
$gen;

INSERT INTO refresh_tokens (token_hash, family_id, session_hash, user_id, created_at,
                            expires_at, rotated_at, revoked_at)
SELECT $(hex 2), $(hex 3), $(hex 1), $uid, $now - 86400 * (i % 28),
       $now - 86400 * (i % 28) + 86400 * 30, NULL, NULL
$gen WHERE i % 2 = 0;

INSERT INTO audit_log (at, event, user_id, login, ip, user_agent, request_id, detail)
SELECT $now - 86400 * (i % 90) - i % 86400, 'login_success', $uid, NULL, '192.0.2.' || (i % 250),
       'bench/1.0', NULL, NULL
$gen;
INSERT INTO audit_log (at, event, user_id, login, ip, user_agent, request_id, detail)
SELECT $now - 86400 * (i % 90) - i % 3600, 'login_failure', $uid,
       'bulk-' || i || '@bulk.example.com', '198.51.100.' || (i % 250), 'bench/1.0', NULL, NULL
$gen;

INSERT INTO tokens (token_hash, user_id, purpose, email, created_at, expires_at, used_at)
SELECT $(hex 4), $uid, 'verify_email', NULL, $now - 86400 * 29, $now - 86400 * 28, NULL
$gen WHERE i % 10 = 0;

INSERT INTO devices_seen (user_id, device_key, first_seen, last_seen, expires_at)
SELECT $uid, $(hex 5), $now - 86400 * 30, $now - 86400 * (i % 28), $now + 86400 * 60
$gen;
EOF
[ "$driver" = sqlite3 ] || echo "ANALYZE;" | run
