#!/bin/bash
# t/unit/run.sh - build the C unit tests of the pure units and run them with prove.
# Run from the repository root: t/unit/run.sh   (exit status is prove's)
# It builds into t/unit/build only; the module and tools/ are left alone.
set -eu

cd "$(dirname "$0")/../.."
out=t/unit/build
mkdir -p "$out"

CC=${CC:-cc}
# apr-1-config --cflags on Debian is empty-ish; --cppflags gives -D_GNU_SOURCE etc.
CFLAGS="-D_GNU_SOURCE -std=c11 -Wall -Wextra -Werror -O1 -g
        $(apr-1-config --cflags --cppflags --includes) $(apu-1-config --includes)
        -Isrc -It/unit"
LIBS="-lapr-1 -laprutil-1 -lcrypto -ljansson -largon2 -lcurl -loath -lqrencode -lfido2 -lcbor"

# The units to link: the Makefile's UNIT_SRCS (its PURE list plus the other httpd-free
# units), one list rather than a copy here. The generated ones among them
# (src/*_data.c) are brought up to date first, as `make unit` would.
make_eval() {
    make -s --no-print-directory --eval "$1" "${1%%:*}"
}
# shellcheck disable=SC2016  # $(...) is make's, not the shell's
make_eval 'unit-gen: $(filter $(GEN),$(UNIT_SRCS))' >&2
# shellcheck disable=SC2016
UNITS=$(make_eval 'print-unit-srcs: ; @echo $(UNIT_SRCS)')
if [ -z "$UNITS" ]; then
    echo "Bail out! the Makefile's UNIT_SRCS is empty" >&2
    exit 1
fi

for t in t/unit/test_*.c; do
    name=$(basename "$t" .c)
    # shellcheck disable=SC2086  # word splitting of the flag lists is intended
    $CC $CFLAGS -o "$out/$name" "$t" $UNITS $LIBS
done

exec prove --exec '' "$out"/test_*
