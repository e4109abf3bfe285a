#!/bin/bash
# t/unit/run.sh - build the C unit tests of the pure units and run them with prove.
# Run from the repository root: t/unit/run.sh   (exit status is prove's)
set -eu

cd "$(dirname "$0")/../.."
out=t/unit/build
mkdir -p "$out"

CC=${CC:-cc}
# apr-1-config --cflags on Debian is empty-ish; --cppflags gives -D_GNU_SOURCE etc.
CFLAGS="-D_GNU_SOURCE -std=c11 -Wall -Wextra -Werror -O1 -g
        $(apr-1-config --cflags --cppflags --includes) $(apu-1-config --includes)
        -Isrc -It/unit"
LIBS="-lapr-1 -laprutil-1 -lcrypto -ljansson -largon2 -lcurl -loath -lqrencode"
UNITS="src/password.c src/text.c src/policy.c src/blocklist_data.c src/mail.c src/mail_data.c
       src/mail_transport.c src/ratelimit.c src/crypto.c src/totp.c src/qr.c src/secretbox.c
       src/jwt.c src/json.c"

for t in t/unit/test_*.c; do
    name=$(basename "$t" .c)
    # shellcheck disable=SC2086  # word splitting of the flag lists is intended
    $CC $CFLAGS -o "$out/$name" "$t" $UNITS $LIBS
done

exec prove --exec '' "$out"/test_*
