#!/bin/sh
# make bench: throughput of mod_authsvc's core paths on this machine, under the event
# and the prefork MPM, against SQLite at the default Argon2id parameters.
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
# "database is locked" lines reached the error log.
#
# Then the guard's cost: static vs guarded, alternated $BENCH_PAIRS times (A B A B ...,
# as single runs swing +-7% on a shared machine), reporting the median ratio of
# requests/s with min and max, the median p50/p99 of each side, and the children's
# resident memory before and after.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${BENCH_PORT:-8090}
PAIRS=${BENCH_PAIRS:-5}
SECS=${BENCH_SECS:-10}
CONNS=${BENCH_CONNS:-16}
HTTPD=${HTTPD:-/usr/sbin/apache2}
B=$ROOT/tools/dev/bench
WORK=$(mktemp -d /tmp/authsvc-bench.XXXXXX)
chmod 755 "$WORK" # the children (www-data when run as root) must reach the state dir
trap 'stop_server; rm -rf "$WORK"' EXIT INT TERM

cc -std=c11 -D_GNU_SOURCE -O2 $(apr-1-config --cflags --cppflags --includes) \
    $(apu-1-config --includes) -I"$ROOT/src" -o "$WORK/hashrate" "$B/hashrate.c" \
    "$ROOT/src/password.c" $(apu-1-config --link-ld) $(apr-1-config --link-ld) -largon2 -lcrypto

stop_server() {
    if [ -f "$WORK/state/httpd.pid" ]; then
        "$HTTPD" -f "$WORK/state/httpd.conf" -k stop 2>/dev/null || true
        i=0
        while [ -f "$WORK/state/httpd.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    fi
}

start_server() { # $1 = event|prefork
    stop_server
    rm -rf "$WORK/state"
    mkdir -p "$WORK/state/mail"
    users=""
    [ "$(id -u)" -eq 0 ] && users="User www-data
Group www-data"
    awk -v root="$ROOT" -v state="$WORK/state" -v users="$users" -v mpm="$1" \
        -v port="$PORT" '
        { gsub(/@ROOT@/, root); gsub(/@STATE@/, state); sub(/^@USER@$/, users)
          sub(/mpm_event_module +[^ ]+/, "mpm_" mpm "_module /usr/lib/apache2/modules/mod_mpm_" mpm ".so")
          sub(/^Listen .*/, "Listen 127.0.0.1:" port)
          sub(/^LogLevel .*/, "LogLevel warn")
          print }
        END { if (mpm == "prefork") print "StartServers 8\nMinSpareServers 8\nMaxSpareServers 32\nMaxRequestWorkers 64"
              else print "ThreadsPerChild 25\nMaxRequestWorkers 100"
              # the guarded page, reachable unguarded too: the same file both ways
              print "Alias /open/ " root "/conf/demo-site/private/" }
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
    errs=$(echo "$out" | awk '/Socket errors/ {print}' | tr -s ' ')
}

# wrk_run NAME MODE ARGS... -> one result line
wrk_run() {
    name=$1; shift
    wrk_measure "$@"
    printf '  %-9s %10s req/s   p50 %9s   p99 %9s   unexpected %s %s\n' \
        "$name" "$rps" "$p50" "$p99" "${bad:-?}" "$errs"
}

# wrk's latencies ("812.00us", "1.21ms", "2.00s") in microseconds
to_us() {
    echo "$1" | awk '/us$/ {sub(/us/, ""); print $1; next} /ms$/ {sub(/ms/, ""); print $1 * 1000; next}
                     /s$/ {sub(/s/, ""); print $1 * 1000000}'
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# Sum of the resident memory (KiB) of the server's children.
children_rss() {
    ppid=$(cat "$WORK/state/httpd.pid")
    ps -o rss= --ppid "$ppid" | awk '{s += $1} END {print s + 0}'
}

# static vs guarded, alternated PAIRS times
guard_pairs() { # $1 = cookie
    : > "$WORK/pairs"
    i=0
    while [ $i -lt "$PAIRS" ]; do
        wrk_measure get /open/index.html ""
        s_rps=$rps; s50=$(to_us "$p50"); s99=$(to_us "$p99"); s_bad=$bad
        wrk_measure get /private/index.html "$1"
        echo "$s_rps $rps $s50 $(to_us "$p50") $s99 $(to_us "$p99") $s_bad $bad" >> "$WORK/pairs"
        i=$((i + 1))
    done
    ratios=$(awk '{printf "%.3f\n", $2 / $1}' "$WORK/pairs")
    printf '  guard vs static over %s alternated pairs of %ss:\n' "$PAIRS" "$SECS"
    printf '    req/s    static median %s, guarded median %s\n' \
        "$(awk '{print $1}' "$WORK/pairs" | median)" "$(awk '{print $2}' "$WORK/pairs" | median)"
    printf '    ratio    median %s (min %s, max %s)   target >= 0.95\n' \
        "$(echo "$ratios" | median)" "$(echo "$ratios" | sort -g | head -1)" \
        "$(echo "$ratios" | sort -g | tail -1)"
    printf '    p50 us   static %s, guarded %s\n' \
        "$(awk '{print $3}' "$WORK/pairs" | median)" "$(awk '{print $4}' "$WORK/pairs" | median)"
    printf '    p99 us   static %s, guarded %s (difference %s us; target within 1000)\n' \
        "$(awk '{print $5}' "$WORK/pairs" | median)" "$(awk '{print $6}' "$WORK/pairs" | median)" \
        "$(awk '{print $6 - $5}' "$WORK/pairs" | median)"
    printf '    unexpected statuses: %s\n' "$(awk '{s += $7 + $8} END {print s}' "$WORK/pairs")"
}

printf 'mod_authsvc bench: %s cores, wrk -t2 -c%s -d%ss, SQLite, Argon2id m=19456 t=2 p=1\n' \
    "$(nproc)" "$CONNS" "$SECS"
rate=$("$WORK/hashrate" 20)
printf 'Argon2id hash rate, one core: %s hashes/s (so at most ~%s logins/s on %s cores)\n' \
    "$rate" "$(echo "$rate * $(nproc)" | bc)" "$(nproc)"

for mpm in event prefork; do
    start_server "$mpm"
    email="bench-user@bench.example.com"
    curl -fsS -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"correct horse battery staple\"}" \
        "http://127.0.0.1:$PORT/api/auth/register"
    cookie=$(curl -fsS -D - -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"login\":\"$email\",\"password\":\"correct horse battery staple\"}" \
        "http://127.0.0.1:$PORT/api/auth/login" | awk -F'[:;] *' 'tolower($1) == "set-cookie" {print $2; exit}')
    echo "$mpm MPM:"
    wrk_run register register "$mpm"
    wrk_run login login "$email"
    wrk_run me get /api/users/me "$cookie"
    # forgot-password must not tell a known address from an unknown one by its time
    wrk_run forgot-known forgot "$email"
    wrk_run forgot-unknown forgot "nobody-$mpm@bench.example.com"
    rss0=$(children_rss)
    guard_pairs "$cookie"
    printf '    children RSS: %s KiB before the guard runs, %s KiB after\n' "$rss0" "$(children_rss)"
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
done
