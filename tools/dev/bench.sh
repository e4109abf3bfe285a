#!/bin/sh
# make bench: throughput of mod_authsvc's core paths on this machine, under the event
# and the prefork MPM, against SQLite at the default Argon2id parameters (and, in the
# scale section, PostgreSQL); make soak: the children's memory over a million requests.
#
# For each MPM it starts the demo configuration on 127.0.0.1:$BENCH_PORT with a fresh
# database and runs wrk (2 threads, $BENCH_CONNS connections, $BENCH_SECS s) against:
#   register   POST /api/auth/register, a new account per request (Argon2id + INSERT)
#   login      POST /api/auth/login, one account (Argon2id verify + session INSERT)
#   me         GET /api/users/me with a session cookie (session lookup + user row)
#   static     GET /open/index.html, no guard
#   guarded    GET /private/index.html, the same file behind Require authsvc, with
#              the cookie
# and reports requests/s, p50/p99 latency, unexpected statuses, and how many
# "database is locked" lines reached the error log. These modes send hundreds of
# requests a second from one address for one account, which the default abuse
# protection would refuse after a handful: that server runs with
# tools/dev/bench/relaxed.conf (rate limits of login, register and forgot off,
# AuthsvcLoginBackoff off, AuthsvcLockout off; AuthsvcHashConcurrency at its default).
#
# Login against the hash: login runs alternated $BENCH_LOGIN_PAIRS times with
# tools/dev/bench/hashrate.c (A B A B ..., as single runs swing +-7% on a shared
# machine), reporting the median ratio of login requests/s to the raw Argon2id rate
# (cores x one core's hashes/s) with min and max; target >= 0.9.
#
# The guard's cost: static vs guarded, alternated $BENCH_PAIRS times, reporting the
# median ratio of requests/s with min and max, the median p50/p99 of each side, and
# the children's resident memory before and after.
#
# The guard with an access token (bearer): the same, with the guarded file asked for
# with "Authorization: Bearer <access token>" (the token of a sign-in of the same
# account, signed with the Ed25519 key the bench makes for conf/demo.conf's
# AuthsvcTokenSigningKey) and no cookie, against the file unguarded; target >= 0.9.
#
# A credential-stuffing flood: a second server with every abuse protection default
# and mod_remoteip trusting X-Forwarded-For from 127.0.0.1 (tools/dev/bench/flood.conf).
# tools/dev/bench/flood.lua sends wrong passwords for $BENCH_FLOOD_ACCOUNTS registered
# accounts and as many unknown names, from $BENCH_FLOOD_IPS addresses, at about
# $BENCH_FLOOD_RATE requests/s over $BENCH_FLOOD_CONNS connections (rate 0: as fast
# as the server answers) for $BENCH_SECS s, while wrk measures the guarded page;
# unloaded and loaded runs alternate $BENCH_FLOOD_PAIRS times. Every flood is a new
# wave, with names and addresses of its own, so each meets the throttles as the first
# seconds of an attack do. It reports the median ratio loaded/unloaded with min and
# max (target >= 0.8), what the flood got (401, 429, 503), the share of the cores its
# password checks took, and the audit rows written.
#
# Two-step sign-in (mfa): the guard with Require authsvc mfa against the plain guard,
# for the same session (one that passed a TOTP code), alternated $BENCH_PAIRS times;
# and the first step of a sign-in of an account with MFA (the password check and the
# challenge row: expects 401 mfa_required) next to a plain sign-in.
#
# The pages (pages): GET /api/login (a template rendered in the layout, with a CSRF
# token and its pre-session cookie), GET /api/account with the cookie (the account page:
# sessions, events and two-step state read, two templates rendered), next to GET
# /api/users/me (JSON, one session lookup) for scale.
#
# Metrics (metrics): a scrape storm, wrk on GET /metrics (every series written each
# time; the two database gauges are read at most every 5 s, whatever the storm); and
# GET /api/users/me, a cheap JSON path that counts (a route note, the log hook's
# histogram), alone against the same under a concurrent storm of scrapes (wrk -t1 -c2),
# alternated $BENCH_PAIRS times. The counting cannot be switched off to compare: on the
# sign-in path it is a few relaxed atomic adds and two clock reads beside an Argon2id
# hash of tens of ms, below what a run can tell (see login in modes).
#
# The breached-password corpus (breach; no server, no MPM): a made-up Pwned Passwords
# file of $BENCH_BREACH_LINES lines (default 10000000, about 450 MB; written once by
# tools/dev/breach-corpus.py into $BENCH_CACHE, default /tmp/authsvc-bench-cache, and
# reused), the time authsvc-admin breach-index takes to index it, then
# tools/dev/bench/breachrate.c on the text file and on the index, alternated
# $BENCH_BREACH_PAIRS times (default 3): the open (mapping and checks), then lookups/s
# and microseconds per lookup of 1000000 hashes in the corpus and of 1000000 random
# ones, on pages already in the page cache (one untimed pass first).
#
# Table size (scale; no MPM loop: BENCH_SCALE_MPM, default event): sign-in and the
# guard must not slow down as the tables grow. For each backend of BENCH_BACKENDS
# (default "sqlite pgsql"; PostgreSQL is a throwaway cluster made by tools/dev/pg.sh, as
# BENCH_PG_USER when root (default authsvc-test, made if missing, as tools/dev/test.sh
# does), on port BENCH_PG_PORT (default BENCH_PORT + 1000), removed afterwards), a
# database per size of BENCH_USERS (default "0 100000 1000000" accounts), filled by
# tools/dev/bench/bulk.sh: the accounts (all with the same real Argon2id hash, so that
# they can sign in), a session each, a refresh token per two, two audit rows each, an
# email token per ten, a seen device each. At 100000 accounts and more,
# tools/dev/explain-check.py EXPLAINs every statement src/store*.c prepares on it (any
# whole-table read of a big table fails, but for two listed reasons). Then
# BENCH_SCALE_RUNS rounds (default 3), each visiting the sizes in turn: with the session
# cache, the guarded file with the cookie and with an access token, and sign-ins of an
# account in the middle of the table; without it (AuthsvcCache none, nocache.conf), the
# guarded file with the cookie and the token, and GET /api/users/me: every request a
# session lookup in the database. BENCH_SCALE_SECS s per run (default 5). It reports the
# median req/s and p99 per figure and size, and the ratio largest size / smallest.
#
# Soak (soak; make soak, not in the default sections): SOAK_REQUESTS (default 1000000)
# requests of tools/dev/bench/soak.lua on one server per MPM: the guarded file with the
# cookie and with an access token, a refresh every SOAK_REFRESH_EVERY requests of a wrk
# thread (default 50), a sign-in every SOAK_LOGIN_EVERY (default 2000), from wrk -t2
# -c$BENCH_CONNS, with tools/dev/bench/soak.conf (children that live through it). Every
# SOAK_EVERY requests answered (default 100000, counted in the access log, while the
# load goes on) it reads each child's VmRSS from /proc; it prints the curve and fails
# when a child grew by more than SOAK_MAX_GROWTH KiB (default 4096) from the first
# reading at SOAK_FROM requests (default 200000, after the warm-up) to the end, or when
# the set of children changed.
#
# BENCH_MPMS (default "event prefork") chooses the MPMs, BENCH_SECTIONS (default
# "scale modes guard mfa bearer pages flood metrics breach") the parts to run; BENCH_CONF
# is a file of directives appended to both servers' configuration (to try other
# settings: AuthsvcHashConcurrency 1 ...). The whole run takes about 22 minutes with the
# defaults, plus the scale section's: 34 minutes on a busy 2-core machine, a third of it
# loading the million accounts (see docs/operations.md#capacity-and-figures).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${BENCH_PORT:-8090}
PAIRS=${BENCH_PAIRS:-5}
SECS=${BENCH_SECS:-10}
CONNS=${BENCH_CONNS:-16}
LOGIN_PAIRS=${BENCH_LOGIN_PAIRS:-3}
HASHES=${BENCH_HASHES:-20}
FLOOD_PAIRS=${BENCH_FLOOD_PAIRS:-3}
FLOOD_RATE=${BENCH_FLOOD_RATE:-1000}
FLOOD_CONNS=${BENCH_FLOOD_CONNS:-40}
FLOOD_ACCOUNTS=${BENCH_FLOOD_ACCOUNTS:-100}
FLOOD_IPS=${BENCH_FLOOD_IPS:-1000}
MPMS=${BENCH_MPMS:-event prefork}
SECTIONS=${BENCH_SECTIONS:-scale modes guard mfa bearer pages flood metrics breach}
SCALE_USERS=${BENCH_USERS:-0 100000 1000000}
SCALE_BACKENDS=${BENCH_BACKENDS:-sqlite pgsql}
SCALE_RUNS=${BENCH_SCALE_RUNS:-3}
SCALE_SECS=${BENCH_SCALE_SECS:-5}
SCALE_MPM=${BENCH_SCALE_MPM:-event}
PG_USER=${BENCH_PG_USER:-authsvc-test}
PG_PORT=${BENCH_PG_PORT:-$((PORT + 1000))}
SOAK_REQUESTS=${SOAK_REQUESTS:-1000000}
SOAK_EVERY=${SOAK_EVERY:-100000}
SOAK_FROM=${SOAK_FROM:-200000}
SOAK_MAX_GROWTH=${SOAK_MAX_GROWTH:-4096}
SOAK_LOGIN_EVERY=${SOAK_LOGIN_EVERY:-2000}
SOAK_REFRESH_EVERY=${SOAK_REFRESH_EVERY:-50}
soak_failed=
bench_failed=
EXTRA_CONF=${BENCH_CONF:-}
[ -z "$EXTRA_CONF" ] || EXTRA_CONF=$(cd "$(dirname "$EXTRA_CONF")" && pwd)/$(basename "$EXTRA_CONF")
CORES=$(nproc)
HTTPD=${HTTPD:-/usr/sbin/apache2}
B=$ROOT/tools/dev/bench
WORK=$(mktemp -d /tmp/authsvc-bench.XXXXXX)
chmod 755 "$WORK" # the children (www-data when run as root) must reach the state dir
trap 'stop_server; scale_db_stop; rm -rf "$WORK"' EXIT INT TERM

cc -std=c11 -D_GNU_SOURCE -O2 $(apr-1-config --cflags --cppflags --includes) \
    $(apu-1-config --includes) -I"$ROOT/src" -o "$WORK/hashrate" "$B/hashrate.c" \
    "$ROOT/src/password.c" $(apu-1-config --link-ld) $(apr-1-config --link-ld) -largon2 -lcrypto
# The statements of src/store*.c, for tools/dev/explain-check.py (scale section).
cc -std=c11 -D_GNU_SOURCE -O0 -ffunction-sections -fdata-sections -Wl,--gc-sections \
    -I"$(apxs -q INCLUDEDIR)" $(apr-1-config --cflags --cppflags --includes) \
    $(apu-1-config --includes) -I"$ROOT/src" -o "$WORK/stmts" "$B/stmts.c" "$ROOT"/src/store_*.c

stop_server() {
    if [ -f "$WORK/state/httpd.pid" ]; then
        "$HTTPD" -f "$WORK/state/httpd.conf" -k stop 2>/dev/null || true
        i=0
        while [ -f "$WORK/state/httpd.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    fi
}

# token_key FILE: a new Ed25519 key that signs access tokens (AuthsvcTokenSigningKey),
# mode 0600: made by authsvc-admin keygen where this build has it, else by openssl.
token_key() {
    (
        umask 077
        "$ROOT/tools/authsvc-admin" keygen --alg EdDSA --out "$1" > /dev/null 2>&1 ||
            openssl genpkey -algorithm ed25519 -out "$1"
    )
    chmod 600 "$1"
}

# A fresh state directory: keys, mail directory, no database yet.
new_state() {
    rm -rf "$WORK/state"
    mkdir -p "$WORK/state/mail"
    (umask 077; openssl rand -hex 32 > "$WORK/state/authsvc.key")
    token_key "$WORK/state/token.pem"
}

# $1 = event|prefork, $2 = "relaxed", "flood", "relaxed nocache" ... (each word a file
# tools/dev/bench/WORD.conf included at the end), $3 = "keep" to
# keep the state directory (its database and keys) of the last server. The database is
# SQLite under the state directory (or the file DB_PARAMS names), or PostgreSQL when
# DB_DRIVER is pgsql (DB_PARAMS, a connection string).
start_server() {
    stop_server
    [ "${3:-}" = keep ] || new_state
    users=""
    [ "$(id -u)" -eq 0 ] && users="User www-data
Group www-data"
    awk -v root="$ROOT" -v state="$WORK/state" -v users="$users" -v mpm="$1" \
        -v port="$PORT" -v b="$B" -v extra="$2" -v conf="$EXTRA_CONF" \
        -v driver="${DB_DRIVER:-sqlite3}" -v params="${DB_PARAMS:-}" '
        { gsub(/@ROOT@/, root); gsub(/@STATE@/, state); sub(/^@USER@$/, users)
          if (driver == "pgsql") sub(/^DBDriver .*/, "DBDriver pgsql")
          if (params != "") sub(/^DBDParams .*/, "DBDParams \"" params "\"")
          sub(/mpm_event_module +[^ ]+/, "mpm_" mpm "_module /usr/lib/apache2/modules/mod_mpm_" mpm ".so")
          sub(/^Listen .*/, "Listen 127.0.0.1:" port)
          sub(/^LogLevel .*/, "LogLevel warn")
          print }
        END { if (mpm == "prefork") print "StartServers 8\nMinSpareServers 8\nMaxSpareServers 32\nMaxRequestWorkers 64"
              else print "ThreadsPerChild 25\nMaxRequestWorkers 100"
              # the guarded page, reachable unguarded too: the same file both ways
              print "Alias /open/ " root "/conf/demo-site/private/"
              n = split(extra, e, " "); for (i = 1; i <= n; i++) print "Include " b "/" e[i] ".conf"
              if (conf != "") print "Include " conf }
    ' "$ROOT/conf/demo.conf" > "$WORK/state/httpd.conf"
    [ "$(id -u)" -eq 0 ] && chown -R www-data:www-data "$WORK/state"
    "$HTTPD" -f "$WORK/state/httpd.conf" -k start
    i=0
    until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 100 ] && { echo "server did not start" >&2; cat "$WORK/state/error.log" >&2; exit 1; }
        sleep 0.1
    done
}

# wrk_measure MODE ARGS... -> sets rps p50 p99 bad errs (modes: see bench/bench.lua)
wrk_measure() {
    out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$B/bench.lua" \
        "http://127.0.0.1:$PORT" -- "$@" 2>&1)
    rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    bad=$(echo "$out" | awk '/^BENCH_NON_EXPECTED/ {print $2}')
    # requests/s with the expected status only (wrk's figure counts every answer)
    good=$(echo "$out" | awk -v bad="${bad:-0}" '/ requests in / {d = $4; sub(/s,?$/, "", d); printf "%.2f", ($1 - bad) / d}')
    n429=$(echo "$out" | awk '/^BENCH_THROTTLED/ {print $2}')
    n503=$(echo "$out" | awk '/^BENCH_THROTTLED/ {print $3}')
    errs=$(echo "$out" | awk '/Socket errors/ {print}' | tr -s ' ')
}

# wrk_run NAME MODE ARGS... -> one result line
wrk_run() {
    name=$1; shift
    wrk_measure "$@"
    printf '  %-9s %10s req/s   p50 %9s   p99 %9s   unexpected %s%s %s\n' \
        "$name" "$rps" "$p50" "$p99" "${bad:-?}" "$(throttled)" "$errs"
}

# " (429: n, 503: n)" when the last wrk_measure saw any, else nothing
throttled() {
    if [ "${n429:-0}" != 0 ] || [ "${n503:-0}" != 0 ]; then
        printf ' (429: %s, 503: %s)' "${n429:-0}" "${n503:-0}"
    fi
}

# wrk's latencies ("812.00us", "1.21ms", "2.00s") in microseconds
to_us() {
    echo "$1" | awk '/us$/ {sub(/us/, ""); print $1; next} /ms$/ {sub(/ms/, ""); print $1 * 1000; next}
                     /s$/ {sub(/s/, ""); print $1 * 1000000}'
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# "median M (min A, max B)" of the numbers on stdin
spread() {
    sort -g > "$WORK/spread"
    printf 'median %s (min %s, max %s)' "$(median < "$WORK/spread")" \
        "$(head -n 1 "$WORK/spread")" "$(tail -n 1 "$WORK/spread")"
}

# has WORD: is WORD one of BENCH_SECTIONS?
has() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }

# Column $1 of file $2, one number a line
col() { awk -v c="$1" '{print $c}' "$2"; }

# Sum of the resident memory (KiB) of the server's children.
children_rss() {
    ppid=$(cat "$WORK/state/httpd.pid")
    ps -o rss= --ppid "$ppid" | awk '{s += $1} END {print s + 0}'
}

# A vs B, alternated PAIRS times: $1 = credential (a session cookie "authsvc=...", or a
# header "Authorization: Bearer ..."), $2 $3 = path and label of A (without the
# credential, unless $6 is "both"), $4 $5 = path and label of B (with it), $7 = the
# target of the ratio B/A (default 0.95). Also the children's resident memory before
# and after.
guard_pairs() {
    cred=$1; a=${2:-/open/index.html}; an=${3:-static}; b=${4:-/private/index.html}
    bn=${5:-guarded}; acred=""; target=${7:-0.95}
    [ "${6:-}" = both ] && acred=$cred
    rss0=$(children_rss)
    : > "$WORK/pairs"
    i=0
    while [ $i -lt "$PAIRS" ]; do
        wrk_measure get "$a" "$acred"
        s_rps=$rps; s50=$(to_us "$p50"); s99=$(to_us "$p99"); s_bad=$bad
        wrk_measure get "$b" "$cred"
        echo "$s_rps $rps $s50 $(to_us "$p50") $s99 $(to_us "$p99") $s_bad $bad" >> "$WORK/pairs"
        i=$((i + 1))
    done
    ratios=$(awk '{printf "%.3f\n", $2 / $1}' "$WORK/pairs")
    printf '  %s vs %s over %s alternated pairs of %ss:\n' "$bn" "$an" "$PAIRS" "$SECS"
    printf '    req/s    %s median %s, %s median %s\n' \
        "$an" "$(awk '{print $1}' "$WORK/pairs" | median)" "$bn" "$(awk '{print $2}' "$WORK/pairs" | median)"
    printf '    ratio    median %s (min %s, max %s)   target >= %s\n' \
        "$(echo "$ratios" | median)" "$(echo "$ratios" | sort -g | head -1)" \
        "$(echo "$ratios" | sort -g | tail -1)" "$target"
    printf '    p50 us   %s %s, %s %s\n' \
        "$an" "$(awk '{print $3}' "$WORK/pairs" | median)" "$bn" "$(awk '{print $4}' "$WORK/pairs" | median)"
    printf '    p99 us   %s %s, %s %s (difference %s us; target within 1000)\n' \
        "$an" "$(awk '{print $5}' "$WORK/pairs" | median)" "$bn" "$(awk '{print $6}' "$WORK/pairs" | median)" \
        "$(awk '{print $6 - $5}' "$WORK/pairs" | median)"
    printf '    unexpected statuses: %s\n' "$(awk '{s += $7 + $8} END {print s}' "$WORK/pairs")"
    printf '    children RSS: %s KiB before these runs, %s KiB after\n' "$rss0" "$(children_rss)"
}

# An account with two-step sign-in on: prints the session cookie (which passed the
# second factor at the confirmation). Needs oathtool.
sign_up_mfa() { # $1 = email
    c=$(sign_up "$1")
    secret=$(curl -fsS -X POST -H "Cookie: $c" "http://127.0.0.1:$PORT/api/users/me/mfa" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')
    curl -fsS -o /dev/null -H "Cookie: $c" -H 'Content-Type: application/json' \
        -d "{\"code\":\"$(oathtool --totp -b "$secret")\"}" \
        "http://127.0.0.1:$PORT/api/users/me/mfa/confirm"
    echo "$c"
}

# Two-step sign-in: the guard's step-up check (Require authsvc mfa on /secure/, the
# same file as /private/) against the plain guard, and the first step of a sign-in of
# an account with MFA (password check + challenge) against a plain sign-in.
mfa_section() { # $1 = event|prefork
    start_server "$1" relaxed
    cookie=$(sign_up_mfa "bench-mfa@bench.example.com")
    sign_up "bench-plain@bench.example.com" > /dev/null
    echo "  two-step sign-in (the session passed a TOTP code at enrollment):"
    guard_pairs "$cookie" /private/index.html guarded /secure/index.html mfa-guarded both
    wrk_run login login "bench-plain@bench.example.com"
    wrk_run mfa-step1 mfastep1 "bench-mfa@bench.example.com"
    challenges=$(sqlite3 "$WORK/state/authsvc.db" 'SELECT COUNT(*) FROM mfa_challenges')
    errors=$(grep -c ':error\]' "$WORK/state/error.log" || true)
    printf '  challenges stored: %s; error lines: %s\n' "$challenges" "$errors"
    grep ':error\]' "$WORK/state/error.log" | head -n 5 | sed 's/^/    /'
    stop_server
}

# sign_up EMAIL -> prints the session cookie of a new account (from 127.0.0.1)
sign_up() {
    curl -fsS -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"correct horse battery staple\"}" \
        "http://127.0.0.1:$PORT/api/auth/register"
    sign_in "$1"
}

# sign_in EMAIL -> prints the session cookie of a new sign-in; the answer's body (with
# the access token) is left in $WORK/signin.json
sign_in() {
    curl -fsS -D - -o "$WORK/signin.json" -H 'Content-Type: application/json' \
        -d "{\"login\":\"$1\",\"password\":\"correct horse battery staple\"}" \
        "http://127.0.0.1:$PORT/api/auth/login" | awk -F'[:;] *' 'tolower($1) == "set-cookie" && $2 ~ /^authsvc=/ {print $2; exit}'
}

# The access token of the last sign_in.
access_token() {
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])' < "$WORK/signin.json"
}

# Login vs the raw hash rate, alternated LOGIN_PAIRS times: hashrate (raw, and with a
# fresh mmap per hash as the server's children do), then a login run.
login_pairs() { # $1 = email
    : > "$WORK/login"
    i=0
    while [ $i -lt "$LOGIN_PAIRS" ]; do
        raw=$("$WORK/hashrate" "$HASHES")
        mm=$("$WORK/hashrate" "$HASHES" mmap)
        wrk_measure login "$1"
        echo "$raw $mm $good $(to_us "$p50") $(to_us "$p99") ${bad:-0} ${n429:-0} ${n503:-0} $rps" >> "$WORK/login"
        i=$((i + 1))
    done
    printf '  %-9s %10s req/s   p50 %7.2fms   p99 %7.2fms   unexpected %s%s   (median of %s runs)\n' \
        login "$(col 9 "$WORK/login" | median)" "$(col 4 "$WORK/login" | median | awk '{print $1 / 1000}')" \
        "$(col 5 "$WORK/login" | median | awk '{print $1 / 1000}')" "$(awk '{s += $6} END {print s}' "$WORK/login")" \
        "$(n429=$(awk '{s += $7} END {print s}' "$WORK/login") n503=$(awk '{s += $8} END {print s}' "$WORK/login") throttled)" \
        "$LOGIN_PAIRS"
    printf '  login vs the raw Argon2id rate over %s alternated pairs (%s hashes, then %ss of wrk):\n' \
        "$LOGIN_PAIRS" "$HASHES" "$SECS"
    printf '    raw      %s cores x one core: %s hashes/s\n' "$CORES" \
        "$(awk -v c="$CORES" '{printf "%.1f\n", $1 * c}' "$WORK/login" | spread)"
    printf '    mmap     the same with a fresh 19 MiB mapping per hash, as in the children: %s hashes/s\n' \
        "$(awk -v c="$CORES" '{printf "%.1f\n", $2 * c}' "$WORK/login" | spread)"
    printf '    login    200s only: %s req/s\n' "$(col 3 "$WORK/login" | spread)"
    printf '    ratio    login (200s) / raw: %s   target >= 0.9\n' \
        "$(awk -v c="$CORES" '{printf "%.3f\n", $3 / ($1 * c)}' "$WORK/login" | spread)"
    printf '             login (200s) / mmap: %s\n' \
        "$(awk -v c="$CORES" '{printf "%.3f\n", $3 / ($2 * c)}' "$WORK/login" | spread)"
}

# Registers FLOOD_ACCOUNTS accounts flood-N@bench.example.com for every wave, each from
# its own address (198.19.x.y through X-Forwarded-For: registration allows 10 an hour
# per address by default), four at a time. Prints how many got 201.
register_flood_accounts() {
    : > "$WORK/reg"
    i=1
    while [ $i -le $((FLOOD_ACCOUNTS * FLOOD_PAIRS)) ]; do
        curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
            -H "X-Forwarded-For: 198.19.$((i / 256)).$((i % 256))" \
            -d "{\"email\":\"flood-$i@bench.example.com\",\"password\":\"correct horse battery staple\"}" \
            "http://127.0.0.1:$PORT/api/auth/register" >> "$WORK/reg" &
        [ $((i % 4)) -eq 0 ] && wait
        i=$((i + 1))
    done
    wait
    grep -c '^201$' "$WORK/reg" || true
}

# The guarded page unloaded, then under the flood, FLOOD_PAIRS times.
flood_pairs() { # $1 = cookie
    pause=0
    [ "$FLOOD_RATE" -gt 0 ] && pause=$((FLOOD_CONNS * 1000 / FLOOD_RATE))
    : > "$WORK/flood"
    i=0
    while [ $i -lt "$FLOOD_PAIRS" ]; do
        wrk_measure get /private/index.html "$1"
        u_rps=$rps; u50=$(to_us "$p50"); u99=$(to_us "$p99"); u_bad=$bad
        sleep 1
        wrk -t1 -c"$FLOOD_CONNS" -d"${SECS}s" -s "$B/flood.lua" "http://127.0.0.1:$PORT" \
            -- "$FLOOD_ACCOUNTS" "$FLOOD_ACCOUNTS" "$FLOOD_IPS" "$pause" "$i" > "$WORK/flood.out" 2>&1 &
        fpid=$!
        wrk_measure get /private/index.html "$1"
        wait "$fpid" || true
        f=$(awk '/^FLOOD_STATUS/ {printf "%s ", $3} / requests in / {n = $1} END {print n + 0}' "$WORK/flood.out")
        echo "$u_rps $rps $u50 $(to_us "$p50") $u99 $(to_us "$p99") $u_bad $bad $f" >> "$WORK/flood"
        sleep 2 # let queued hashes and audit writes finish before the next unloaded run
        i=$((i + 1))
    done
}

flood_section() { # $1 = event|prefork
    start_server "$1" flood
    cookie=$(sign_up "bench-user@bench.example.com")
    reg=$(register_flood_accounts)
    flood_pairs "$cookie"
    printf '  credential-stuffing flood, abuse protection at its defaults (tools/dev/bench/flood.conf):\n'
    printf '    flood    wrk -t1 -c%s, %s, %ss per wave: wrong passwords for %s registered accounts\n' \
        "$FLOOD_CONNS" "$([ "$FLOOD_RATE" -gt 0 ] && echo "about $FLOOD_RATE req/s" || echo "unpaced")" \
        "$SECS" "$FLOOD_ACCOUNTS"
    printf '             and %s unknown names from %s addresses (X-Forwarded-For, mod_remoteip), new ones\n' \
        "$FLOOD_ACCOUNTS" "$FLOOD_IPS"
    printf '             every wave (%s of %s accounts registered)\n' "$reg" "$((FLOOD_ACCOUNTS * FLOOD_PAIRS))"
    printf '    req/s    guarded unloaded median %s, under the flood median %s (%s alternated pairs)\n' \
        "$(col 1 "$WORK/flood" | median)" "$(col 2 "$WORK/flood" | median)" "$FLOOD_PAIRS"
    printf '    ratio    %s   target >= 0.8\n' "$(awk '{printf "%.3f\n", $2 / $1}' "$WORK/flood" | spread)"
    printf '    p50 us   unloaded %s, under the flood %s\n' \
        "$(col 3 "$WORK/flood" | median)" "$(col 4 "$WORK/flood" | median)"
    printf '    p99 us   unloaded %s, under the flood %s\n' \
        "$(col 5 "$WORK/flood" | median)" "$(col 6 "$WORK/flood" | median)"
    printf '    unexpected statuses of the guarded runs: %s\n' "$(awk '{s += $7 + $8} END {print s}' "$WORK/flood")"
    awk -v secs="$SECS" -v one="$rate" -v c="$CORES" '
        {printf "    wave %d   %6d requests (%5.0f/s): 401 %d, 429 %d, 503 %d, other %d; password checks took ~%.2f of %d cores\n",
                NR, $13, $13 / secs, $9, $10, $11, $12, $9 / secs / one, c}' "$WORK/flood"
    printf '    flood total: %s\n' "$(awk '{a += $9; b += $10; c += $11; d += $12; n += $13}
        END {printf "%d requests: 401 %d (%.1f%%), 429 %d (%.1f%%), 503 %d, other %d", n, a, 100 * a / (n ? n : 1), b, 100 * b / (n ? n : 1), c, d}' "$WORK/flood")"
    sleep 1
    audit=$(sqlite3 "$WORK/state/authsvc.db" "SELECT event || ' ' || COUNT(*) FROM audit_log
        WHERE event IN ('login_failure', 'rate_limited', 'hash_busy', 'account_locked', 'account_unlocked', 'honeypot')
        GROUP BY event ORDER BY event" 2>&1 | tr '\n' ',' | sed 's/,$//; s/,/, /g')
    locked=$(sqlite3 "$WORK/state/authsvc.db" \
        "SELECT COUNT(*) FROM users WHERE locked_until > CAST(strftime('%s', 'now') AS INTEGER)" 2>&1 || true)
    printf '    audit rows: %s; accounts locked now: %s\n' "$audit" "$locked"
    dblocked=$(grep -c 'database is locked' "$WORK/state/error.log" || true)
    errors=$(grep -c ':error\]' "$WORK/state/error.log" || true)
    printf '    "database is locked" in error log: %s; error lines: %s\n' "$dblocked" "$errors"
    grep ':error\]' "$WORK/state/error.log" | head -n 5 | sed 's/^/      /'
    stop_server
}

# GET /metrics under a storm, and its cost to a cheap counted path (see the top).
metrics_section() { # $1 = event|prefork
    start_server "$1" relaxed
    cookie=$(sign_up "bench-metrics@bench.example.com")
    echo "  metrics:"
    wrk_run scrape get /metrics ""
    printf '    (%s lines a scrape)\n' "$(curl -fsS "http://127.0.0.1:$PORT/metrics" | wc -l)"
    : > "$WORK/mpairs"
    i=0
    while [ $i -lt "$PAIRS" ]; do
        wrk_measure get /api/users/me "$cookie"
        alone=$rps
        wrk -t1 -c2 -d"${SECS}s" -s "$B/bench.lua" "http://127.0.0.1:$PORT" -- get /metrics \
            > "$WORK/storm.out" 2>&1 &
        spid=$!
        wrk_measure get /api/users/me "$cookie"
        wait "$spid" || true
        echo "$alone $rps $(awk '/^Requests\/sec/ {print $2}' "$WORK/storm.out") ${bad:-0}" >> "$WORK/mpairs"
        i=$((i + 1))
    done
    printf '  me alone vs me under a storm of scrapes, over %s alternated pairs of %ss:\n' "$PAIRS" "$SECS"
    printf '    req/s    me alone median %s, under the storm median %s; scrapes/s median %s\n' \
        "$(col 1 "$WORK/mpairs" | median)" "$(col 2 "$WORK/mpairs" | median)" "$(col 3 "$WORK/mpairs" | median)"
    printf '    ratio    %s\n' "$(awk '{printf "%.3f\n", $2 / $1}' "$WORK/mpairs" | spread)"
    printf '    unexpected statuses: %s\n' "$(awk '{s += $4} END {print s}' "$WORK/mpairs")"
    errors=$(grep -c ':error\]' "$WORK/state/error.log" || true)
    printf '  error lines: %s\n' "$errors"
    grep ':error\]' "$WORK/state/error.log" | head -n 5 | sed 's/^/    /'
    stop_server
}

breach_section() {
    cache=${BENCH_CACHE:-/tmp/authsvc-bench-cache}
    lines=${BENCH_BREACH_LINES:-10000000}
    text=$cache/breach-$lines.txt
    mkdir -p "$cache"
    if [ ! -s "$text" ]; then
        echo "  writing $text (once, then cached)"
        "$ROOT/tools/dev/breach-corpus.py" "$lines" > "$text.tmp" && mv "$text.tmp" "$text"
    fi
    cc -std=c11 -D_GNU_SOURCE -O2 $(apr-1-config --cflags --cppflags --includes) \
        $(apu-1-config --includes) -I"$ROOT/src" -o "$WORK/breachrate" "$B/breachrate.c" \
        "$ROOT/src/breach.c" $(apr-1-config --link-ld) -lcrypto
    t0=$(date +%s.%N)
    "$ROOT/tools/authsvc-admin" breach-index "$text" "$WORK/breach.idx" > /dev/null
    t1=$(date +%s.%N)
    printf '  corpus: %s lines, text %s MB, index %s MB; breach-index took %.1f s\n' "$lines" \
        "$(($(stat -c %s "$text") / 1000000))" "$(($(stat -c %s "$WORK/breach.idx") / 1000000))" \
        "$(echo "$t1 - $t0" | bc)"
    : > "$WORK/btext"
    : > "$WORK/bindex"
    i=0
    while [ $i -lt "${BENCH_BREACH_PAIRS:-3}" ]; do
        "$WORK/breachrate" "$text" "$text" >> "$WORK/btext"
        "$WORK/breachrate" "$text" "$WORK/breach.idx" >> "$WORK/bindex"
        i=$((i + 1))
    done
    echo "  (CPU time of the lookups; lookups/s are medians)"
    for f in text index; do
        printf '  %-5s open: ms %s\n' "$f" "$(col 1 "$WORK/b$f" | spread)"
        printf '        in the corpus: %s lookups/s, us %s\n' "$(col 2 "$WORK/b$f" | median)" \
            "$(col 3 "$WORK/b$f" | spread)"
        printf '        absent:        %s lookups/s, us %s\n' "$(col 4 "$WORK/b$f" | median)" \
            "$(col 5 "$WORK/b$f" | spread)"
    done
    rm -f "$WORK/breach.idx"
}

# The databases of the scale section, one per size: $1 = sqlite3|pgsql. For PostgreSQL,
# a throwaway cluster (tools/dev/pg.sh, as $PG_USER: PostgreSQL refuses root) under
# $WORK/pg, stopped and removed by scale_db_stop, and psql's PG* variables.
scale_db_start() {
    DB_DRIVER=$1
    mkdir -p "$WORK/db"
    if [ "$1" = pgsql ]; then
        mkdir -p "$WORK/pg"
        if [ "$(id -u)" -eq 0 ]; then
            # the same unprivileged user as tools/dev/test.sh's, made the same way
            id -u "$PG_USER" > /dev/null 2>&1 || useradd --system --user-group --no-create-home \
                --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER"
            chown "$PG_USER" "$WORK/pg"
        fi
        env=$(as_pg_user "$ROOT/tools/dev/pg.sh" start "$WORK/pg/c" "$PG_PORT")
        eval "$env"
        export PGHOST=$AUTHSVC_PG_HOST PGPORT=$AUTHSVC_PG_PORT PGUSER=$AUTHSVC_PG_USER
    fi
}

# scale_db N: sets DB_PARAMS (and PGDATABASE) to the database of N accounts, made
# (migrated, the account bulk-seed whose Argon2id hash tools/dev/bench/bulk.sh copies,
# then the N accounts) the first time; $load is the seconds bulk.sh took.
scale_db() {
    if [ "$DB_DRIVER" = pgsql ]; then
        export PGDATABASE=authsvc_$1
        DB_PARAMS="host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=$PGUSER"
        made=$(psql -X -A -t -d authsvc -c "SELECT 1 FROM pg_database WHERE datname = '$PGDATABASE'")
    else
        DB_PARAMS=$WORK/db/authsvc-$1.db
        made=$([ -f "$DB_PARAMS" ] && echo 1 || true)
    fi
    load=0
    [ -z "$made" ] || return 0
    [ "$DB_DRIVER" = pgsql ] && psql -X -q -d authsvc -c "CREATE DATABASE $PGDATABASE"
    "$ROOT/tools/authsvc-admin" --driver "$DB_DRIVER" --params "$DB_PARAMS" migrate up > /dev/null
    echo 'correct horse battery staple' | "$ROOT/tools/authsvc-admin" --driver "$DB_DRIVER" \
        --params "$DB_PARAMS" user add bulk-seed@bulk.example.com > /dev/null
    t0=$(date +%s.%N)
    [ "$1" -eq 0 ] || "$B/bulk.sh" "$DB_DRIVER" "$DB_PARAMS" 1 "$1"
    load=$(echo "$(date +%s.%N) - $t0" | bc)
    [ "$(id -u)" -eq 0 ] && [ "$DB_DRIVER" = sqlite3 ] && chown -R www-data:www-data "$WORK/db"
    return 0
}

# Run a command as PG_USER when root (PostgreSQL refuses root), else as oneself.
as_pg_user() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

scale_db_stop() {
    if [ "${DB_DRIVER:-}" = pgsql ] && [ -d "$WORK/pg/c" ]; then
        as_pg_user "$ROOT/tools/dev/pg.sh" stop "$WORK/pg/c"
    fi
    rm -rf "$WORK/db"
    DB_DRIVER=sqlite3
    DB_PARAMS=
}

# CPU time (clock ticks, user + system) of the server's children and of PostgreSQL's
# processes: what a request costs, less sensitive to the neighbours than req/s.
server_cpu() {
    pids=$(ps -o pid= --ppid "$(cat "$WORK/state/httpd.pid")")
    [ "$DB_DRIVER" = pgsql ] && pids="$pids $(head -n 1 "$WORK/pg/c/data/postmaster.pid")
        $(ps -o pid= --ppid "$(head -n 1 "$WORK/pg/c/data/postmaster.pid")")"
    for pid in $pids; do
        sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null || true
    done | awk '{t += $12 + $13} END {print t + 0}'
}

# scale_figure SIZE NAME MODE ARGS...: one wrk run, its "SIZE NAME req/s p99-us
# unexpected cpu-us-per-request" appended to $WORK/scale.runs
scale_figure() {
    size=$1; fig=$2; shift 2
    c0=$(server_cpu)
    wrk_measure "$@"
    c1=$(server_cpu)
    cpu=$(echo "$out" | awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" \
        '/ requests in / {printf "%.0f", $1 ? c * 1000000 / hz / $1 : 0}')
    echo "$size $fig $good $(to_us "$p99") ${bad:-0} $cpu" >> "$WORK/scale.runs"
}

# The figures of the scale section, in the order of its tables.
SCALE_FIGS="cookie bearer login cookie-nc bearer-nc me-nc"

# The median of column $3 of the scale section's runs of size $1, figure $2.
scale_med() {
    awk -v n="$1" -v f="$2" -v c="$3" '$1 == n && $2 == f {print $c}' "$WORK/scale.runs" | median
}

# The row of ratios largest size / smallest of the medians of column $1 ($2 names it).
scale_ratios() {
    printf '  %8s ' "$last/$first"
    for f in $SCALE_FIGS; do
        [ "$f" = cookie-nc ] && printf ' |'
        printf ' %13s' "$(awk -v a="$(scale_med "$first" "$f" "$1")" -v z="$(scale_med "$last" "$f" "$1")" \
            'BEGIN {printf "%.3f", (a > 0 ? z / a : 0)}')"
    done
    printf '  (ratio of the medians, %s)\n' "$2"
}

# Sign-in and the guard at each size of BENCH_USERS on backend $1 (see the top): the
# sizes' databases are made first; then SCALE_RUNS rounds, each visiting every size in
# turn (so that the machine's noise falls on every size alike), each visit a server
# with the session cache (guard-cookie, guard-bearer, login) and one without
# (nocache.conf: guard-cookie, guard-bearer, me).
scale_section() { # $1 = sqlite3|pgsql
    secs=$SECS
    SECS=$SCALE_SECS
    new_state
    scale_db_start "$1"
    : > "$WORK/scale.runs"
    : > "$WORK/scale.errors"
    sizes=$(echo "$SCALE_USERS" | tr ' ' '\n' | sort -n | tr '\n' ' ')
    for n in $sizes; do
        scale_db "$n"
        # Planners scan small tables whatever their indexes: plans from 100000 accounts.
        explain="not below 100000 accounts"
        : > "$WORK/explain.bad"
        if [ "$n" -ge 100000 ]; then
            "$WORK/stmts" > "$WORK/stmts.txt"
            python3 "$ROOT/tools/dev/explain-check.py" "$WORK/stmts.txt" "$DB_DRIVER" "$DB_PARAMS" \
                > "$WORK/explain" || bench_failed="a statement reads a whole table (EXPLAIN above)"
            explain=$(tail -n 1 "$WORK/explain" | sed 's/^[a-z0-9]*: //')
            grep -v '^ok      [a-z_]*$' "$WORK/explain" | grep -v 'statements use an index' |
                sed 's/^/      /' > "$WORK/explain.bad" || true
        fi
        printf '  %8s accounts: loaded in %.1f s; EXPLAIN: %s\n' "$n" "$load" "$explain"
        cat "$WORK/explain.bad"
    done
    r=0
    while [ $r -lt "$SCALE_RUNS" ]; do
        for n in $sizes; do
            scale_db "$n"
            email=bulk-seed@bulk.example.com
            [ "$n" -gt 0 ] && email=bulk-$(((n + 1) / 2))@bulk.example.com
            : > "$WORK/state/error.log"
            start_server "$SCALE_MPM" relaxed keep
            cookie=$(sign_in "$email")
            bearer="Authorization: Bearer $(access_token)"
            scale_figure "$n" cookie get /private/index.html "$cookie"
            scale_figure "$n" bearer get /private/index.html "$bearer"
            scale_figure "$n" login login "$email"
            sleep 2 # the sign-ins wrk left queued behind the hash cap
            grep -c ':error\]' "$WORK/state/error.log" >> "$WORK/scale.errors" || true
            : > "$WORK/state/error.log"
            start_server "$SCALE_MPM" "relaxed nocache" keep
            scale_figure "$n" cookie-nc get /private/index.html "$cookie"
            scale_figure "$n" bearer-nc get /private/index.html "$bearer"
            scale_figure "$n" me-nc get /api/users/me "$cookie"
            grep -c ':error\]' "$WORK/state/error.log" >> "$WORK/scale.errors" || true
            grep ':error\]' "$WORK/state/error.log" | head -n 3 | sed 's/^/    /'
            stop_server
        done
        r=$((r + 1))
    done
    scale_db_stop
    SECS=$secs
    first=$(echo "$sizes" | awk '{print $1}')
    last=$(echo "$sizes" | awk '{print $NF}')
    printf '  req/s (200s only; median of %s rounds of %ss runs, the sizes alternated) and p99 ms;\n' \
        "$SCALE_RUNS" "$SCALE_SECS"
    printf '  the session cache on (left of |), then off (AuthsvcCache none):\n'
    printf '  %8s  %-14s%-14s%-14s| %-14s%-14s%-14s\n' accounts guard-cookie guard-bearer login \
        guard-cookie guard-bearer me
    for n in $sizes; do
        printf '  %8s ' "$n"
        for f in $SCALE_FIGS; do
            [ "$f" = cookie-nc ] && printf ' |'
            printf ' %7.1f %5.1f' "$(scale_med "$n" "$f" 3)" "$(scale_med "$n" "$f" 4 | awk '{print $1 / 1000}')"
        done
        printf '\n'
    done
    scale_ratios 3 req/s
    printf '  CPU time per request, microseconds (the server'"'"'s children%s; median):\n' \
        "$([ "$1" = pgsql ] && echo " and PostgreSQL's processes")"
    for n in $sizes; do
        printf '  %8s ' "$n"
        for f in $SCALE_FIGS; do
            [ "$f" = cookie-nc ] && printf ' |'
            printf ' %13s' "$(scale_med "$n" "$f" 6)"
        done
        printf '\n'
    done
    scale_ratios 6 CPU
    printf '  unexpected statuses: %s; error lines: %s\n' \
        "$(awk '{s[$2] += $5; t += $5} END {printf "%d", t; if (t) {printf " ("; for (f in s) if (s[f]) printf " %s %d", f, s[f]; printf " )"}}' "$WORK/scale.runs")" \
        "$(awk '{s += $1} END {print s + 0}' "$WORK/scale.errors")"
}

# The memory of each of the server's children, as "pid KiB" lines: resident (Rss) less
# the pages given back with MADV_FREE and not yet taken by the kernel (LazyFree, both
# from /proc/PID/smaps_rollup). The Argon2id blocks the children keep for their next
# hash (hashcap.c, a bounded number machine-wide) are such pages: they count in RSS
# until the kernel needs the memory, and which child keeps one changes from hash to hash.
children_mem_each() {
    for pid in $(ps -o pid= --ppid "$(cat "$WORK/state/httpd.pid")"); do
        awk -v pid="$pid" '/^Rss:/ {r = $2} /^LazyFree:/ {l = $2} END {if (r) print pid, r - l}' \
            "/proc/$pid/smaps_rollup" 2>/dev/null || true
    done
}

# "RSS LazyFree" of all the server's children together, KiB.
children_rss_lazy() {
    for pid in $(ps -o pid= --ppid "$(cat "$WORK/state/httpd.pid")"); do
        cat "/proc/$pid/smaps_rollup" 2>/dev/null || true
    done | awk '/^Rss:/ {r += $2} /^LazyFree:/ {l += $2} END {print r + 0, l + 0}'
}

# One reading of the soak: "REQUESTS RSS LAZYFREE pid KiB pid KiB ..." (see above).
soak_reading() {
    printf '%s %s %s\n' "$1" "$(children_rss_lazy)" "$(children_mem_each | sort -n | tr '\n' ' ')" >> "$WORK/soak"
}

# The soak (make soak, see the top): SOAK_REQUESTS requests of tools/dev/bench/soak.lua
# on one server, in stretches of SOAK_EVERY requests answered (counted in the access
# log): at the end of each, wrk stops, the requests under way finish (a sign-in holds a
# 19 MiB Argon2id block while it hashes), and each child's resident memory is read.
soak_section() { # $1 = event|prefork
    start_server "$1" "relaxed soak"
    email=bench-soak@bench.example.com
    cookie=$(sign_up "$email")
    : > "$WORK/soak"
    : > "$WORK/soak.out"
    soak_reading 0
    base=$(wc -l < "$WORK/state/access.log")
    t0=$(date +%s)
    done_n=0
    next=$SOAK_EVERY
    while [ "$done_n" -lt "$SOAK_REQUESTS" ]; do
        sign_in "$email" > /dev/null # an access token for this stretch's first requests
        wrk -t2 -c"$CONNS" -d100000s -s "$B/soak.lua" "http://127.0.0.1:$PORT" -- "$email" \
            "$cookie" "$(access_token)" "$SOAK_LOGIN_EVERY" "$SOAK_REFRESH_EVERY" \
            > "$WORK/soak.part" 2>&1 &
        wpid=$!
        while [ $(($(wc -l < "$WORK/state/access.log") - base)) -lt "$next" ] &&
                kill -0 "$wpid" 2>/dev/null; do
            sleep 0.5
        done
        kill -INT "$wpid" 2>/dev/null || true
        wait "$wpid" || true
        cat "$WORK/soak.part" >> "$WORK/soak.out"
        sleep 2
        done_n=$(($(wc -l < "$WORK/state/access.log") - base))
        soak_reading "$done_n"
        if [ "$done_n" -lt "$next" ]; then
            echo "  wrk stopped early:"; sed 's/^/    /' "$WORK/soak.part"; soak_failed=1; break
        fi
        next=$((next + SOAK_EVERY))
    done
    took=$(($(date +%s) - t0))
    printf '  soak, %s MPM: %s requests in %s s (%s req/s) over %s connections\n' \
        "$1" "$done_n" "$took" "$((done_n / (took > 0 ? took : 1)))" "$CONNS"
    printf '  (MaxConnectionsPerChild 0, tools/dev/bench/soak.conf; %s pauses of 2 s included)\n' \
        "$(($(wc -l < "$WORK/soak") - 1))"
    printf '  sent: %s\n' "$(awk '/^SOAK_KIND/ {n[$2] += $3} END {for (k in n) printf "%s %d, ", k, n[k]}' \
        "$WORK/soak.out" | sed 's/, $//')"
    printf '  statuses: %s\n' "$(awk '/^SOAK_STATUS/ {n[$2] += $3} END {for (k in n) printf "%s %d, ", k, n[k]}' \
        "$WORK/soak.out" | sed 's/, $//')"
    # The curve: one line per reading, every child's memory (same pids, same order).
    awk '{n = 0; for (i = 4; i < NF; i += 2) m[NR, ++n] = $(i + 1); cnt[NR] = n}
         {req[NR] = $1; rss[NR] = $2; lazy[NR] = $3}
         END {
            printf "  memory of the children in KiB: resident less LazyFree (see tools/dev/bench.sh)\n"
            printf "  %9s %8s %8s %8s %8s  %8s %8s   each child\n", "requests", "total", "min", "max", "mean", "RSS", "LazyFree"
            for (r = 1; r <= NR; r++) {
                t = 0; lo = 1e12; hi = 0
                for (j = 1; j <= cnt[r]; j++) {t += m[r, j]; if (m[r, j] < lo) lo = m[r, j]; if (m[r, j] > hi) hi = m[r, j]}
                printf "  %9d %8d %8d %8d %8d  %8d %8d  ", req[r], t, lo, hi, t / (cnt[r] ? cnt[r] : 1), rss[r], lazy[r]
                for (j = 1; j <= cnt[r] && j <= 6; j++) printf " %d", m[r, j]
                printf "%s\n", (cnt[r] > 6 ? " ..." : "")
            }
         }' "$WORK/soak"
    # Growth of each child from the first reading at or past SOAK_FROM requests to the
    # last; a child that is not there at the end (or a new one) fails the soak.
    awk -v from="$SOAK_FROM" -v limit="$SOAK_MAX_GROWTH" '
        {pids[NR] = ""; for (i = 4; i < NF; i += 2) {m[NR, $i] = $(i + 1); pids[NR] = pids[NR] " " $i}
         if (!start && $1 >= from) {start = NR; sreq = $1}}
        END {
            n = split(pids[start], a, " "); worst = 0; sum = 0; fail = 0
            if (pids[start] != pids[NR]) {print "  FAIL: the children changed during the soak"; fail = 1}
            for (j = 1; j <= n; j++) {g = m[NR, a[j]] - m[start, a[j]]; sum += g; if (g > worst) worst = g}
            printf "  growth from %d requests to the end: largest child %+d KiB, all children %+d KiB (limit %d KiB a child): %s\n",
                sreq, worst, sum, limit, (worst > limit || fail) ? "FAIL" : "ok"
            exit (worst > limit || fail) ? 1 : 0
        }' "$WORK/soak" || soak_failed=1
    errors=$(grep -c ':error\]' "$WORK/state/error.log" || true)
    signals=$(grep -c 'exit signal' "$WORK/state/error.log" || true)
    printf '  error lines: %s; "exit signal" lines: %s\n' "$errors" "$signals"
    grep ':error\]' "$WORK/state/error.log" | head -n 3 | sed 's/^/    /'
    # Memory is not all: a soak whose answers went wrong, or whose children died, fails.
    bad=$(awk '/^SOAK_STATUS/ && $2 !~ /^2/ {n += $3} END {print n + 0}' "$WORK/soak.out")
    if [ "$bad" -gt 0 ] || [ "$signals" -gt 0 ]; then
        printf '  FAIL: %s answers not 2xx, %s children died of a signal\n' "$bad" "$signals"
        soak_failed=1
    fi
    stop_server
}

printf 'mod_authsvc bench: %s cores, wrk -t2 -c%s -d%ss, SQLite, Argon2id m=19456 t=2 p=1\n' \
    "$CORES" "$CONNS" "$SECS"
rate=$("$WORK/hashrate" "$HASHES")
printf 'Argon2id hash rate, one core: %s hashes/s (so at most ~%s logins/s on %s cores)\n' \
    "$rate" "$(echo "$rate * $CORES" | bc)" "$CORES"

if has breach; then
    echo "breached-password corpus (breach):"
    breach_section
fi

if has scale; then
    for be in $SCALE_BACKENDS; do
        case $be in sqlite | sqlite3) drv=sqlite3 name=SQLite ;; pgsql) drv=pgsql name=PostgreSQL ;;
            *) echo "BENCH_BACKENDS: $be is neither sqlite nor pgsql" >&2; exit 2 ;; esac
        echo "scale ($name, $SCALE_MPM MPM, accounts in the table: $SCALE_USERS):"
        scale_section "$drv"
    done
fi

for mpm in $MPMS; do
    if has modes || has guard || has bearer || has pages; then
        start_server "$mpm" relaxed
        email="bench-user@bench.example.com"
        cookie=$(sign_up "$email")
        echo "$mpm MPM:"
        [ -z "$EXTRA_CONF" ] || echo "  (with $EXTRA_CONF)"
        if has modes; then
            echo "  (register, login, forgot: AuthsvcRateLimit login|register|forgot off, AuthsvcLoginBackoff off,"
            echo "   AuthsvcLockout off, from tools/dev/bench/relaxed.conf; AuthsvcHashConcurrency at its default)"
            wrk_run register register "$mpm"
            login_pairs "$email"
            wrk_run me get /api/users/me "$cookie"
            # forgot-password must not tell a known address from an unknown one by its time
            wrk_run forgot-known forgot "$email"
            wrk_run forgot-unknown forgot "nobody-$mpm@bench.example.com"
        fi
        if has guard; then
            guard_pairs "$cookie"
        fi
        if has bearer; then
            # A new sign-in of the same account, for a token far from its expiry.
            sign_in "$email" > /dev/null
            echo "  the guard with an access token (Authorization: Bearer, EdDSA; no cookie):"
            guard_pairs "Authorization: Bearer $(access_token)" "" "" "" bearer "" 0.9
        fi
        if has pages; then
            echo "  the HTML pages:"
            wrk_run login-page get /api/login ""
            wrk_run account get /api/account "$cookie"
            wrk_run me get /api/users/me "$cookie"
        fi
        users=$(sqlite3 "$WORK/state/authsvc.db" 'SELECT COUNT(*) FROM users')
        sessions=$(sqlite3 "$WORK/state/authsvc.db" 'SELECT COUNT(*) FROM sessions')
        sleep 3 # let the outbox drain what it can
        mail=$(sqlite3 "$WORK/state/authsvc.db" \
            "SELECT status || ' ' || COUNT(*) FROM mail_outbox GROUP BY status" | tr '\n' ' ')
        locked=$(grep -c 'database is locked' "$WORK/state/error.log" || true)
        errors=$(grep -c ':error\]' "$WORK/state/error.log" || true)
        printf '  rows: %s users, %s sessions; outbox: %s\n' "$users" "$sessions" "$mail"
        printf '  "database is locked" in error log: %s; error lines: %s\n' "$locked" "$errors"
        grep ':error\]' "$WORK/state/error.log" | head -n 5 | sed 's/^/    /'
        stop_server
    else
        echo "$mpm MPM:"
    fi
    if has mfa; then
        mfa_section "$mpm"
    fi
    if has flood; then
        flood_section "$mpm"
    fi
    if has metrics; then
        metrics_section "$mpm"
    fi
    if has soak; then
        soak_section "$mpm"
    fi
done
[ -z "$soak_failed" ] || { echo "soak: FAILED (memory grew past the limit, answers not 2xx, or a child died: above)"; exit 1; }
[ -z "$bench_failed" ] || { echo "bench: FAILED: $bench_failed"; exit 1; }
