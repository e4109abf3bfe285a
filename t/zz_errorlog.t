# Runs last (t/ runs in name order): the error log of the whole run holds no sign of a
# fault no single test would see. A statement a process uses but never prepared (the
# mail deliverer's pruning once missed the passkey challenges: nothing failed, nothing
# was pruned), and a child that died of a signal (a crash the client saw only as a
# dropped connection, if at all). Under the ASan module (tools/dev/test.sh's ":asan"
# run): no sanitizer report in the error log, nor in a report file of
# $AUTHSVC_SANITIZER_DIR (test.sh looks again once httpd has stopped).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More tests => 5;
use AuthsvcTest;

my $log = error_log_since(0);
ok(length $log, 'the error log of this run was read');
my @missing = $log =~ /(prepared statement \S+ is missing)/g;
ok(!@missing, 'every statement a process ran was prepared for it')
    or diag(join "\n", @missing[0 .. ($#missing < 9 ? $#missing : 9)]);
my @crashes = $log =~ /^(.*exit signal.*)$/mg;
ok(!@crashes, 'no child died of a signal') or diag(join "\n", @crashes[0 .. ($#crashes < 9 ? $#crashes : 9)]);
my @reports = $log =~ /^(.*(?:runtime error:|ERROR: AddressSanitizer|LeakSanitizer).*)$/mg;
ok(!@reports, 'no sanitizer report in the error log')
    or diag(join "\n", @reports[0 .. ($#reports < 9 ? $#reports : 9)]);
SKIP: {
    my $dir = $ENV{AUTHSVC_SANITIZER_DIR};
    skip 'not a sanitized run (no AUTHSVC_SANITIZER_DIR)', 1 unless $dir && -d $dir;
    my @files = grep { -s } glob "$dir/asan.* $dir/ubsan.*";
    ok(!@files, 'no sanitizer report file') or diag(join "\n", @files);
}
