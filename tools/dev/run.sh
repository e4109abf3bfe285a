#!/bin/sh
# make run / make stop: the demo server on 127.0.0.1:8080, state under ./state.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STATE=${AUTHSVC_STATE:-$ROOT/state}
CONF=$STATE/httpd.conf
HTTPD=${HTTPD:-/usr/sbin/apache2}

stop() {
    if [ -f "$STATE/httpd.pid" ] && kill -0 "$(cat "$STATE/httpd.pid")" 2>/dev/null; then
        "$HTTPD" -f "$CONF" -k stop
        i=0
        while [ -f "$STATE/httpd.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        echo "demo server stopped"
    fi
}

# The key that seals the demo's TOTP secrets (AuthsvcSecretKeyFile): made once and then
# kept, since losing it would strand every account that turned two-step sign-in on.
# httpd reads it while it reads its configuration, as root (before the children drop
# to www-data), so it stays root's, mode 0600: the children never open it.
secret_key() {
    key=$STATE/authsvc.key
    if [ ! -s "$key" ]; then
        (
            umask 077 # before the file exists: it is never readable by others
            if command -v openssl >/dev/null 2>&1; then
                openssl rand -hex 32 >"$key.tmp"
            else
                { od -An -vtx1 -N32 /dev/urandom | tr -d ' \n'; echo; } >"$key.tmp"
            fi
        )
        mv "$key.tmp" "$key"
    fi
    if [ "$(id -u)" -eq 0 ]; then
        chown root:root "$key"
    fi
    chmod 600 "$key"
}

# The key that signs the demo's access tokens (AuthsvcTokenSigningKey): an Ed25519 key
# made once by authsvc-admin keygen (mode 0600, root's, as the secret key above).
# Losing it only signs everyone's API clients out.
token_key() {
    key=$STATE/token.pem
    if [ ! -s "$key" ]; then
        rm -f "$key"
        "$ROOT/tools/authsvc-admin" keygen --alg EdDSA --out "$key" 2>/dev/null
    fi
    if [ "$(id -u)" -eq 0 ]; then
        chown root:root "$key"
    fi
    chmod 600 "$key"
}

start() {
    mkdir -p "$STATE/mail"
    user_lines=""
    if [ "$(id -u)" -eq 0 ]; then
        # httpd's children drop to www-data; they must be able to write the database
        # (and SQLite's -wal/-shm files beside it).
        user_lines="User www-data
Group www-data"
    fi
    # shellcheck disable=SC2016
    awk -v root="$ROOT" -v state="$STATE" -v users="$user_lines" '
        { gsub(/@ROOT@/, root); gsub(/@STATE@/, state); sub(/^@USER@$/, users); print }
    ' "$ROOT/conf/demo.conf" > "$CONF"

    "$ROOT/tools/authsvc-admin" --driver sqlite3 --params "$STATE/authsvc.db" migrate up
    if [ "$(id -u)" -eq 0 ]; then
        chown -R www-data:www-data "$STATE"
    fi
    secret_key
    token_key
    stop
    "$HTTPD" -t -f "$CONF"
    "$HTTPD" -f "$CONF" -k start
    i=0
    until curl -fsS -o /dev/null http://127.0.0.1:8080/health 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 50 ]; then
            echo "the demo server did not become healthy; see $STATE/error.log" >&2
            tail -n 20 "$STATE/error.log" >&2 || true
            exit 1
        fi
        sleep 0.2
    done
    cat <<MSG

mod_authsvc demo is running (stop it with: make stop)
  public page    http://127.0.0.1:8080/
  sign in        http://127.0.0.1:8080/api/login        (pages: register, account, ...)
  private page   http://127.0.0.1:8080/private/   (Require authsvc)
  step-up page   http://127.0.0.1:8080/secure/    (Require authsvc mfa)
  JSON API       http://127.0.0.1:8080/api/
  health         http://127.0.0.1:8080/health   (?probe=live: without the database)
  metrics        http://127.0.0.1:8080/metrics  (Prometheus; from this machine only)
  admin API      http://127.0.0.1:8080/api/admin/users  (role admin and two-step sign-in)
  admin tool     tools/authsvc-admin --driver sqlite3 --params $STATE/authsvc.db user list
  database       $STATE/authsvc.db
  error log      $STATE/error.log
  mail           $STATE/mail/*.eml   (verification and reset links land here)
  secret key     $STATE/authsvc.key   (seals the TOTP secrets: without it, two-step sign-in fails)
  token key      $STATE/token.pem     (signs the access tokens; public at /api/.well-known/jwks.json)

Try it in a browser: http://localhost:8080/private/ sends you to the sign-in page;
http://localhost:8080/api/register creates an account (the link to verify it is in the
mail directory above); http://localhost:8080/api/account manages it (passkeys, remembered
devices, sessions). Use the name localhost: passkeys refuse an IP address.

Or with curl (a request that rides on the cookie must say where it comes from):
  curl -i -H 'Content-Type: application/json' -d '{"email":"ada@example.com","password":"correct horse battery"}' http://127.0.0.1:8080/api/auth/register
  curl -i -c /tmp/authsvc.jar -H 'Content-Type: application/json' -d '{"login":"ada@example.com","password":"correct horse battery"}' http://127.0.0.1:8080/api/auth/login
  curl -i -b /tmp/authsvc.jar http://127.0.0.1:8080/private/
  curl -i -b /tmp/authsvc.jar -H 'Origin: http://127.0.0.1:8080' -X POST http://127.0.0.1:8080/api/auth/logout
  # or with the access token of the login's answer instead of the cookie:
  curl -i -H "Authorization: Bearer \$ACCESS_TOKEN" http://127.0.0.1:8080/private/
MSG
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
