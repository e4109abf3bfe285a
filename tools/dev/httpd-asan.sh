#!/bin/sh
# tools/dev/httpd-asan.sh - Debian's httpd with the AddressSanitizer runtime preloaded,
# for the module `make asan` builds (.asan/mod_authsvc.so). tools/dev/test.sh gives it
# to Apache::Test as the httpd of a run spec ending in ":asan" (APACHE_TEST_HTTPD, which
# t/TEST.PL, httpd_bin() and the tests that start an httpd of their own all honour).
#
#   AUTHSVC_SANITIZER_DIR=DIR tools/dev/httpd-asan.sh [httpd arguments]
#
# httpd itself is not instrumented, so libasan must come first in its library list:
# LD_PRELOAD, here only, never in the environment of perl or the tests. The module's
# reports go to files DIR/asan.PID or DIR/ubsan.PID (DIR: $AUTHSVC_SANITIZER_DIR,
# default /tmp; a process that has both kinds writes both into one of them), one per
# process that had something to say; test.sh fails the run when any exists. httpd's children keep LD_PRELOAD: a program they start (t/bin/sendmail-
# stub, CGI scripts of t/guard_backend.t) runs with libasan too, which is harmless (it
# is not instrumented, so only its leaks could show, and detect_leaks is off below).
#
# detect_leaks=0: LeakSanitizer works here, but tried on a start, a sign-in and a stop
# it reports every httpd child (each exits with its apr_allocator unreachable:
# httpd's, not ours), and the allocation stacks stop two frames deep, inside the
# uninstrumented libapr/libcrypto (no frame pointers), so no suppression could tell a
# leak of ours from httpd's (full stacks need fast_unwind_on_malloc=0, a slow unwind at
# every malloc of the whole suite). Leaks are valgrind's part: make test-valgrind runs
# httpd -X, with full stacks, and counts only "definitely lost" blocks.
set -eu
dir=${AUTHSVC_SANITIZER_DIR:-/tmp}
# gcc's libasan: apxs builds the module with gcc (a clang libasan would not do).
lib=$(gcc -print-file-name=libasan.so)
case $lib in
/*) ;;
*) echo "httpd-asan.sh: no libasan.so (gcc -print-file-name=libasan.so: $lib)" >&2
   exit 1 ;;
esac
# halt_on_error (ASan's default): a child stops at its first memory error, with its
# report in the file. UBSan prints and goes on (the module is built without
# -fno-sanitize-recover), so that one run lists every report.
ASAN_OPTIONS="log_path=$dir/asan:detect_leaks=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:${ASAN_OPTIONS:-}"
UBSAN_OPTIONS="log_path=$dir/ubsan:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export ASAN_OPTIONS UBSAN_OPTIONS
LD_PRELOAD="$lib${LD_PRELOAD:+ $LD_PRELOAD}" exec /usr/sbin/apache2 "$@"
