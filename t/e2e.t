# The HTML pages end to end in a real browser (issue 8): t/e2e/browser.py drives
# headless Chromium (Debian's chromium and chromium-driver, python3-selenium) through
# register -> verify by the mailed link -> sign in from a guarded page -> MFA set-up
# with an oathtool code -> sign out -> sign in with a code -> reset the password by the
# mailed link -> sign in with the new password and a code. Vhost e2e of
# t/conf/extra.conf.in (its mail in state/mail/e2e, its guarded page /e2e-private/).
#
# Each step of the script is one test here (its TAP is read back from a file);
# screenshots of every page go to t/artefacts/e2e/BACKEND-MPM/ (tools/dev/test.sh
# copies t/artefacts back into the source tree after a run).
#
# `make test` installs the browser (tools/dev/deps.sh): on a machine set up that way
# this file never skips.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Basename qw(basename);
use File::Path qw(make_path);
use File::Spec::Functions qw(catfile catdir);
use File::Temp qw(tempdir);
use Test::More;
use AuthsvcTest;

my $PY = '/usr/bin/python3';
my @missing = grep { !-x $_ } '/usr/bin/chromium', '/usr/bin/chromedriver', $PY,
    '/usr/bin/oathtool';
push @missing, 'python3-selenium'
    if -x $PY && system("$PY -c 'import selenium' >/dev/null 2>&1") != 0;
plan skip_all => "not installed: @missing (tools/dev/deps.sh installs them: make test "
    . 'runs it, so this only skips on a machine not set up by make)'
    if @missing;

# The MPM of this run, from the inherit file (t/conf/inherit-event.conf ...).
sub mpm {
    my $conf = Apache::Test::vars('httpd_conf') // '';
    if (open(my $fh, '<', $conf)) {
        while (<$fh>) {
            return $1 if /^\s*LoadModule\s+mpm_(\w+)_module/;
        }
    }
    return $1 if basename($conf) =~ /inherit-(\w+)\.conf$/;
    return 'unknown';
}

my $t = serverroot();
my $shots = catdir($t, 'artefacts', 'e2e', backend() . '-' . mpm());
make_path($shots);
my $mail = mail_dir('e2e');
my $tmp = tempdir('authsvc-e2e.XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $tap = catfile($tmp, 'browser.tap');
my $log = catfile($tmp, 'browser.log');

# At most 5 minutes: the script waits 10 s per page, 20 s per mail and up to 30 s
# twice for a new TOTP step; a hung browser must not hang the suite.
my @cmd = ('timeout', '-k', '10', '300', $PY, catfile($t, 'e2e', 'browser.py'),
           '--base', 'http://' . AuthsvcTest::hostport('e2e'), '--mount', '/api',
           '--guarded', '/e2e-private/', '--mail-dir', $mail, '--shots', $shots,
           '--tap', $tap);
my $pid = fork // die "fork: $!\n";
if (!$pid) {
    open(STDOUT, '>', $log) or die "$log: $!\n";
    open(STDERR, '>&', \*STDOUT) or die "stderr: $!\n";
    local $ENV{TMPDIR} = $tmp;
    exec @cmd or die "exec @cmd: $!\n";
}
waitpid($pid, 0);
my $rc = $? >> 8;

my @lines;
if (open(my $fh, '<', $tap)) {
    chomp(@lines = <$fh>);
}
my ($planned) = map { /^1\.\.(\d+)/ ? $1 : () } @lines;
my $output = '';
if (open(my $fh, '<', $log)) {
    local $/;
    $output = <$fh> // '';
}

if (!$planned) {
    plan tests => 1;
    ok(0, "browser.py gave a plan (exit status $rc)");
    diag("$_\n") for @lines;
    diag($output) if length $output;
    exit;
}

plan tests => $planned + 1;
my ($seen, $failed) = (0, 0);
for my $l (@lines) {
    if ($l =~ /^(not )?ok (\d+)(?: - (.*?))?(?:\s+# SKIP\s*(.*))?$/) {
        my ($not, $desc, $skip) = ($1, $3 // "step $2", $4);
        $seen++;
        if (defined $skip) {
            SKIP: { skip("$desc: $skip", 1) }
        }
        else {
            $failed++ if $not;
            ok(!$not, $desc);
        }
    }
    elsif ($l =~ /^#\s?(.*)$/) {
        # A failed step's diagnostic, or a note of a passed one.
        $failed ? diag($1) : note($1);
    }
}
for my $n ($seen + 1 .. $planned) {
    ok(0, "step $n: no result from browser.py (exit status $rc)");
    $failed++;
}
ok($rc == 0 || ($rc == 1 && $failed), "browser.py ended normally (exit status $rc)")
    or diag($output);
diag("browser.py output:\n$output") if $failed && length $output && $rc <= 1;
note("screenshots: $shots");
