#!/bin/sh
# Install the Debian packages mod_authsvc needs to build, run, test and bench.
# As root: installs what is missing with apt-get. Otherwise: prints the command and
# stops, so nothing is half set up.
set -eu

PKGS="apache2 apache2-dev libaprutil1-dbd-sqlite3 libaprutil1-dbd-pgsql
libjansson-dev libargon2-dev libssl-dev libcurl4-openssl-dev sqlite3 postgresql
libapache2-mod-perl2 libwww-perl libjson-perl curl wrk bc python3 procps
liboath-dev libqrencode-dev oathtool zbar-tools librsvg2-bin libxml2-utils
python3-cryptography python3-jwt openssl argon2 python3-bcrypt prometheus
chromium chromium-driver python3-selenium libfido2-dev libcbor-dev python3-cbor2
debhelper python3-yaml python3-jsonschema redis-server pgbouncer valgrind
clang-14 libclang-rt-14-dev llvm-14"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "mod_authsvc needs these Debian packages:$missing" >&2
    echo "Install them as root, then run make again:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The apache2 package would start a system httpd on port 80; we only want its files.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.authsvc
if [ ! -e /usr/sbin/policy-rc.d ]; then
    cp /usr/sbin/policy-rc.d.authsvc /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
rm -f /usr/sbin/policy-rc.d.authsvc
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
