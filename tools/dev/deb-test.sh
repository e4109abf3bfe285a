#!/bin/bash
# tools/dev/deb-test.sh - the Debian package's smoke test against the system apache2.
# TAP output (prove runs it); make test runs it first when it runs as root.
#
# As root on Debian 12: builds the package (make deb), installs it with apt-get,
# `a2enmod authsvc`, writes a site on 127.0.0.1:<free port> with an SQLite database
# under /var/lib/authsvc, migrates it with the installed authsvc-admin, starts the
# system apache2 (apache2ctl start, which reads /etc/apache2/envvars; no systemd),
# checks /health, register, sign-in, /users/me and a wrong password through curl,
# then a2dismod, stops apache2 and purges the package.
#
# It leaves the machine as it found it: /etc/apache2 and /var/lib/apache2 are saved
# first and put back at the end (links, ports.conf, state of a2enmod), files of an
# earlier `make install` that the package replaces are moved aside and put back, the
# system logs are cut back to their old length. ports.conf is emptied while the test
# runs so that apache2 does not need port 80 (Debian's default site stays as it is).
#
# The package is purged at the end in whatever state dpkg has it (apt-get purge, else
# dpkg --purge --force-remove-reinstreq); the files set aside are put back only once
# it is gone, and the packages apt-get pulled in for it are purged too. Whatever could
# not be put back is left in the work directory, which the last line names.
#
# It also checks that /usr/sbin/authsvc-admin was built hardened (hardening-check,
# else readelf: stack protector, _FORTIFY_SOURCE, PIE, relro and bind-now).
#
# Skips (exit 0, "1..0 # SKIP ...") when not root, not on Debian, when the system
# apache2 is already running (the test does not restart a server it did not start),
# or when dpkg knows libapache2-mod-authsvc already (installed, or its conffiles left).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PKG=libapache2-mod-authsvc
SITE=authsvc-debtest
N=0
FAILED=0

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"; }
check() { # description, command...
    local d=$1
    shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}
quiet() { "$@" >>"$WORK/quiet.log" 2>&1; }
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
diag() { sed 's/^/# /'; echo; }

[ "$(id -u)" -eq 0 ] || skip_all "the .deb smoke test installs a package: run it as root"
command -v dpkg >/dev/null && command -v apt-get >/dev/null && [ -x /usr/sbin/apache2ctl ] ||
    skip_all "needs Debian with apache2 installed"
command -v dh >/dev/null || skip_all "needs debhelper (make deps installs it)"
# dpkg's state of the package: not-installed when dpkg does not know it at all.
pkg_state() {
    local s
    s=$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null) || s=
    echo "${s:-not-installed}"
}
# The packages selected for installation, sorted.
selections() { dpkg --get-selections | awk '$2 == "install" { print $1 }' | sort; }
if [ "$(pkg_state)" != not-installed ]; then
    skip_all "dpkg has $PKG already ($(pkg_state)): not touching it"
fi
# shellcheck disable=SC1091
APACHE_PID_FILE=$(set +u; . /etc/apache2/envvars && echo "$APACHE_PID_FILE")
if [ -s "$APACHE_PID_FILE" ] && kill -0 "$(cat "$APACHE_PID_FILE")" 2>/dev/null; then
    skip_all "the system apache2 is running: not restarting a server this test did not start"
fi

WORK=$(mktemp -d /tmp/authsvc-debtest.XXXXXX) || exit 1
chmod 755 "$WORK"
STARTED=
INSTALLED=
VARLIB_EXISTED=
[ -e /var/lib/authsvc ] && VARLIB_EXISTED=1

# ---- leave the machine as found --------------------------------------------------

save_tree() { # dir -> $WORK/saved/<name>.tar and its file list
    local name
    name=$(echo "$1" | tr / _)
    tar -C / -cpf "$WORK/saved/$name.tar" "${1#/}" &&
        (cd / && find "${1#/}" -mindepth 1 | sort) >"$WORK/saved/$name.list"
}

restore_tree() { # dir: remove what was added, put back what was there
    local name
    name=$(echo "$1" | tr / _)
    [ -f "$WORK/saved/$name.tar" ] || return 0
    (cd / && find "${1#/}" -mindepth 1 | sort) |
        comm -13 "$WORK/saved/$name.list" - | sort -r |
        while read -r f; do rm -rf "/${f:?}"; done
    tar -C / -xpf "$WORK/saved/$name.tar"
}

cleanup() {
    local f size purged='' kept=''
    if [ -n "$STARTED" ]; then
        apache2ctl stop >/dev/null 2>&1
        for _ in $(seq 300); do
            [ -s "$APACHE_PID_FILE" ] && kill -0 "$(cat "$APACHE_PID_FILE")" 2>/dev/null || break
            sleep 0.2
        done
    fi
    if [ -n "$INSTALLED" ] && [ "$(pkg_state)" != not-installed ]; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=300 "$PKG" \
            >>"$WORK/cleanup.log" 2>&1 ||
            dpkg --purge --force-remove-reinstreq "$PKG" >>"$WORK/cleanup.log" 2>&1
    fi
    [ "$(pkg_state)" = not-installed ] && purged=1
    if [ -z "$purged" ]; then
        echo "# cleanup: $PKG could not be purged ($(pkg_state)), see $WORK/cleanup.log"
        kept=1
    elif [ -s "$WORK/pulled-in" ]; then
        # The packages apt-get installed with ours (none of them was there before).
        # shellcheck disable=SC2046
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=300 \
            $(cat "$WORK/pulled-in") >>"$WORK/cleanup.log" 2>&1 || {
            echo "# cleanup: could not purge the packages pulled in: $(tr '\n' ' ' <"$WORK/pulled-in")"
            kept=1
        }
    fi
    restore_tree /etc/apache2
    restore_tree /var/lib/apache2
    if [ -z "$VARLIB_EXISTED" ]; then
        rm -rf /var/lib/authsvc
    elif [ -f "$WORK/saved/varlib-authsvc.tar" ]; then
        rm -rf /var/lib/authsvc
        tar -C / -xpf "$WORK/saved/varlib-authsvc.tar"
    fi
    # Files of an earlier `make install` that the package replaced: back only once the
    # package is gone (dpkg still owns those paths otherwise).
    if [ -n "$(ls -A "$WORK/aside" 2>/dev/null)" ]; then
        if [ -n "$purged" ]; then
            tar -C "$WORK/aside" -cpf - . | tar -C / -xpf - || kept=1
        else
            echo "# cleanup: the files of an earlier make install are still in $WORK/aside"
            kept=1
        fi
    fi
    # The system logs, back to their length before the test.
    if [ -f "$WORK/saved/logs" ]; then
        while read -r size f; do
            [ -f "$f" ] && truncate -s "$size" "$f"
        done <"$WORK/saved/logs"
    fi
    if [ -n "$kept" ]; then
        echo "# cleanup: not everything could be put back: $WORK kept"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mkdir -p "$WORK/saved" "$WORK/aside" "$WORK/logs"
save_tree /etc/apache2 && save_tree /var/lib/apache2 || {
    echo "1..1"; not_ok "cannot save /etc/apache2 and /var/lib/apache2"; exit 1; }
if [ -n "$VARLIB_EXISTED" ] && ! tar -C / -cpf "$WORK/saved/varlib-authsvc.tar" var/lib/authsvc \
    2>"$WORK/varlib-tar.log"; then
    # Nothing is changed yet; without the copy, no cleanup may touch /var/lib/authsvc.
    echo "1..1"
    not_ok "cannot back up the existing /var/lib/authsvc: not installing"
    diag <"$WORK/varlib-tar.log"
    trap - EXIT
    rm -rf "$WORK"
    exit 1
fi
for f in /var/log/apache2/*; do
    [ -f "$f" ] && echo "$(stat -c %s "$f") $f"
done >"$WORK/saved/logs"

# ---- build and install ----------------------------------------------------------

if ! make -s -C "$ROOT" deb >"$WORK/make-deb.log" 2>&1; then
    not_ok "make deb"
    diag <"$WORK/make-deb.log"
    echo "1..$N"
    exit 1
fi
DEB=$(ls "$ROOT"/${PKG}_*.deb 2>/dev/null | head -n 1)
check "make deb built $(basename "${DEB:-nothing}")" test -f "$DEB"

# Files the package ships that are on disk already, unowned (make install): aside.
dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' |
    while read -r f; do
        case $f in etc/apache2/*) continue ;; esac  # restore_tree puts those back
        if [ -e "/$f" ] || [ -L "/$f" ]; then
            mkdir -p "$WORK/aside/$(dirname "$f")" && mv "/$f" "$WORK/aside/$f"
        fi
    done
rm -f /etc/apache2/mods-available/authsvc.load /etc/apache2/mods-available/authsvc.conf

selections >"$WORK/selections.before"
INSTALLED=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "$DEB" \
    >"$WORK/apt.log" 2>&1
rc=$?
# What apt-get added besides the package: the cleanup purges it.
selections | comm -13 "$WORK/selections.before" - | grep -vx "$PKG" >"$WORK/pulled-in"
if [ "$rc" -eq 0 ]; then
    ok "apt-get install ./$(basename "$DEB")"
else
    not_ok "apt-get install ./$(basename "$DEB")"
    diag <"$WORK/apt.log"
    echo "1..$N"
    exit 1
fi

for f in /usr/lib/apache2/modules/mod_authsvc.so /usr/sbin/authsvc-admin \
    /etc/apache2/mods-available/authsvc.load /etc/apache2/mods-available/authsvc.conf \
    /usr/share/authsvc/sql/sqlite/0001_core.up.sql /usr/share/authsvc/templates/login.html \
    /usr/share/authsvc/mail/verify_email.txt /usr/share/doc/$PKG/directives.md; do
    check "installed $f" test -f "$f"
done
# hardened ELF: the tool is built with dpkg-buildflags (debian/rules).
hardened() { # file: hardening-check, or readelf's view of the same properties
    local f=$1 dyn syms hdr phdr
    if command -v hardening-check >/dev/null; then
        hardening-check "$f" >"$WORK/hardening.log" 2>&1 || { diag <"$WORK/hardening.log"; return 1; }
        return 0
    fi
    dyn=$(readelf -d "$f") && syms=$(readelf --dyn-syms -W "$f") || return 1
    hdr=$(readelf -h "$f") && phdr=$(readelf -l -W "$f") || return 1
    grep -q 'Type:[[:space:]]*DYN' <<<"$hdr" || { echo "# $f: not PIE"; return 1; }
    grep -q GNU_RELRO <<<"$phdr" || { echo "# $f: no relro"; return 1; }
    grep -q 'BIND_NOW\|FLAGS.*[[:space:]]NOW' <<<"$dyn" || { echo "# $f: no bind-now"; return 1; }
    grep -q '__stack_chk_fail' <<<"$syms" || { echo "# $f: no stack protector"; return 1; }
    grep -q '__[a-z_]*_chk@' <<<"$syms" || { echo "# $f: no _FORTIFY_SOURCE"; return 1; }
}
check "/usr/sbin/authsvc-admin is hardened (PIE, relro, bind-now, stack protector, fortify)" \
    hardened /usr/sbin/authsvc-admin
check "/etc/apache2/mods-available/authsvc.load is a conffile" \
    grep -qx /etc/apache2/mods-available/authsvc.load "/var/lib/dpkg/info/$PKG.conffiles"
check "/var/lib/authsvc belongs to www-data" \
    test "$(stat -c %U /var/lib/authsvc 2>/dev/null)" = www-data
check "the module is not enabled by the installation" \
    test ! -e /etc/apache2/mods-enabled/authsvc.load

# ---- enable, configure, migrate, start ------------------------------------------

check "a2enmod authsvc" quiet a2enmod -q authsvc
check "a2enmod enabled its dependency dbd" test -e /etc/apache2/mods-enabled/dbd.load
check "a2enmod enabled its dependency socache_shmcb" \
    test -e /etc/apache2/mods-enabled/socache_shmcb.load

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
install -d -o www-data -g www-data "$WORK/mail"
chmod 755 "$WORK/logs"
# No Listen 80 (nor 443): the test must not need Debian's default port.
echo "# emptied by tools/dev/deb-test.sh while it runs" >/etc/apache2/ports.conf
cat >/etc/apache2/sites-available/$SITE.conf <<EOF
# tools/dev/deb-test.sh: removed when the test ends.
Listen 127.0.0.1:$PORT
<VirtualHost 127.0.0.1:$PORT>
    ServerName 127.0.0.1
    ErrorLog $WORK/logs/error.log
    CustomLog $WORK/logs/access.log combined
    LogLevel warn authsvc:info
    DBDriver sqlite3
    DBDParams /var/lib/authsvc/authsvc.db
    AuthsvcPublicURL $BASE/api
    AuthsvcMailTransport file:$WORK/mail
    <Location /api>
        SetHandler authsvc
    </Location>
    <Location /health>
        SetHandler authsvc-health
    </Location>
</VirtualHost>
EOF
check "a2ensite $SITE" quiet a2ensite -q $SITE

if runuser -u www-data -- /usr/sbin/authsvc-admin --driver sqlite3 \
    --params /var/lib/authsvc/authsvc.db migrate up >"$WORK/migrate.log" 2>&1; then
    ok "authsvc-admin migrate up (as www-data)"
else
    not_ok "authsvc-admin migrate up (as www-data)"
    diag <"$WORK/migrate.log"
fi

if apache2ctl configtest >"$WORK/configtest.log" 2>&1; then
    ok "apache2ctl configtest"
else
    not_ok "apache2ctl configtest"
    diag <"$WORK/configtest.log"
fi
# The list is read whole before grep looks at it: httpd writes it a line at a time, and
# `apache2ctl -M | grep -q` under pipefail fails whenever grep stops reading before
# httpd has written its last line (SIGPIPE, exit 141).
apache2ctl -M >"$WORK/modules.log" 2>&1
if grep -q 'authsvc_module' "$WORK/modules.log"; then
    ok "apache2ctl -M lists authsvc_module"
else
    not_ok "apache2ctl -M lists authsvc_module"
    diag <"$WORK/modules.log"
fi
STARTED=1
check "apache2ctl start" quiet apache2ctl start
up=
# Up to a minute: on a loaded machine apache2 may take a while to answer.
for _ in $(seq 300); do
    curl -s -m 5 -o /dev/null "$BASE/health" && { up=1; break; }
    sleep 0.2
done
check "apache2 answers on 127.0.0.1:$PORT" test -n "$up"

# ---- smoke ----------------------------------------------------------------------

# status METHOD PATH [BODY]: the HTTP status; the body in $WORK/body; cookies kept
# ($NOJAR set: none sent, as a JSON client without a session would).
status() {
    local args=(-s -m 60 -o "$WORK/body" -w '%{http_code}' -X "$1")
    [ -z "${NOJAR:-}" ] && args+=(-b "$WORK/jar" -c "$WORK/jar")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data "$3")
    curl "${args[@]}" "$BASE$2"
}
expect() { # description, want, got
    if [ "$3" = "$2" ]; then ok "$1: $3"; else
        not_ok "$1: want $2, got $3"
        diag <"$WORK/body"
    fi
}

EMAIL=debtest-$$@example.com
PASS='correct horse battery staple'
expect "GET /health" 200 "$(status GET /health)"
expect "POST /api/auth/register" 201 \
    "$(status POST /api/auth/register "{\"email\":\"$EMAIL\",\"password\":\"$PASS\"}")"
check "the new user's email is in the answer" grep -q "\"$EMAIL\"" "$WORK/body"
expect "POST /api/auth/register, same email again" 409 \
    "$(status POST /api/auth/register "{\"email\":\"$EMAIL\",\"password\":\"$PASS\"}")"
expect "POST /api/auth/login" 200 \
    "$(status POST /api/auth/login "{\"login\":\"$EMAIL\",\"password\":\"$PASS\"}")"
expect "GET /api/users/me with the session cookie" 200 "$(status GET /api/users/me)"
check "/users/me names the user" grep -q "\"$EMAIL\"" "$WORK/body"
# Last: a wrong password starts the sign-in back-off for this address.
expect "POST /api/auth/login, wrong password" 401 \
    "$(NOJAR=1 status POST /api/auth/login "{\"login\":\"$EMAIL\",\"password\":\"not the password\"}")"
check "the wrong password's problem says invalid_credentials" \
    grep -q '"code":"invalid_credentials"' "$WORK/body"
check "the verification mail was queued in the database" \
    test "$(sqlite3 /var/lib/authsvc/authsvc.db 'SELECT count(*) FROM mail_outbox' 2>/dev/null || echo 1)" -ge 1
if grep -q '\[authsvc:\(crit\|alert\|emerg\)\]' "$WORK/logs/error.log" 2>/dev/null; then
    not_ok "no critical authsvc line in the error log"
    diag <"$WORK/logs/error.log"
else
    ok "no critical authsvc line in the error log"
fi

# ---- take it all down -----------------------------------------------------------

check "a2dissite $SITE" quiet a2dissite -q $SITE
check "a2dismod authsvc" quiet a2dismod -q authsvc
check "apache2ctl stop" quiet apache2ctl stop
gone=
for _ in $(seq 300); do
    [ -s "$APACHE_PID_FILE" ] && kill -0 "$(cat "$APACHE_PID_FILE")" 2>/dev/null || { gone=1; break; }
    sleep 0.2
done
check "apache2 stopped" test -n "$gone"
[ -n "$gone" ] && STARTED=
if DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=300 "$PKG" >"$WORK/purge.log" 2>&1; then
    ok "apt-get purge $PKG"
else
    not_ok "apt-get purge $PKG"
    diag <"$WORK/purge.log"
fi
check "purged: no module, no conffile, no tool" test ! -e /usr/lib/apache2/modules/mod_authsvc.so \
    -a ! -e /etc/apache2/mods-available/authsvc.load -a ! -e /usr/sbin/authsvc-admin
check "purged: /var/lib/authsvc and its database kept" test -s /var/lib/authsvc/authsvc.db
INSTALLED=

echo "1..$N"
[ "$FAILED" -eq 0 ]
