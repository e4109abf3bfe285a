#!/bin/sh
# tools/dev/httpd-valgrind.sh - Debian's httpd under valgrind's memcheck when it runs as
# one process (-X or -D ONE_PROCESS), for the valgrind run of tools/dev/test.sh
# (t/TEST -one-process -httpd tools/dev/httpd-valgrind.sh). Any other invocation
# (httpd -V, -t, the tests' own throwaway servers) runs plain.
#
#   AUTHSVC_SANITIZER_DIR=DIR tools/dev/httpd-valgrind.sh -D ONE_PROCESS [httpd arguments]
#
# One log per process, DIR/valgrind.PID (a process httpd forks without exec gets its
# own; --keep-debuginfo: httpd unloads the module before the leak check, and the
# stacks would lose its names). test.sh fails the run on a log whose ERROR SUMMARY is
# not 0: an invalid read or write, a use of an uninitialised value, a bad free, or a
# "definitely lost" block (--errors-for-leak-kinds=definite; memory still reachable
# from httpd's pools and the libraries' globals when the process exits is not a leak
# of ours). No suppression is needed (none of httpd, APR, OpenSSL, SQLite, libcurl...
# showed anything); should one be, it goes in a file here, with its reason, given by
# --suppressions=.
set -eu
dir=${AUTHSVC_SANITIZER_DIR:-/tmp}
case " $* " in
*" -X "*|*" ONE_PROCESS "*)
    exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
        --errors-for-leak-kinds=definite --num-callers=40 --error-limit=no --keep-debuginfo=yes \
        --log-file="$dir/valgrind.%p" \
        /usr/sbin/apache2 "$@" ;;
esac
exec /usr/sbin/apache2 "$@"
