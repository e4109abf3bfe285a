# tools/authsvc-admin user unlock LOGIN: clears an account's lockout columns (by
# email in any case, username in any case, or user id) and writes an account_unlocked
# audit row in the same transaction; other accounts untouched; exit 3 for an unknown
# account, exit 1 for a database below schema version 3, exit 2 for usage errors.
# Accounts are written straight into the server's database (no HTTP needed).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use POSIX ();
use Test::More;
use AuthsvcTest;

my $ADMIN = admin_bin();
plan skip_all => "no $ADMIN (run make)" unless -x $ADMIN;

sub admin { run_admin(@_) }

my $backend = backend();
my @live = $backend eq 'pgsql'
    ? ('--driver', 'pgsql', '--params', pg_admin_params($ENV{AUTHSVC_PG_DB} || 'authsvc'))
    : ('--driver', 'sqlite3', '--params', AuthsvcTest::sqlite_file());

sub iso { POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $_[0]) }

sub new_id {
    my @h = map { sprintf '%04x', int rand 65536 } 1 .. 8;
    return "$h[0]$h[1]-$h[2]-4" . substr($h[3], 1) . "-a" . substr($h[4], 1) . "-$h[5]$h[6]$h[7]";
}

# An account written directly: returns its id, email (stored lower-case) and username.
sub new_account {
    my ($tag) = @_;
    my $id = new_id();
    my $email = unique_email("unlock.$tag");
    my $username = 'Un_' . substr(unique_username($tag), 0, 28);
    my $now = time;
    db_do('INSERT INTO users (id, email, username, password_hash, created_at, updated_at) '
          . 'VALUES (' . join(', ', map { sql_str($_) } $id, $email, $username, 'x')
          . ", $now, $now)");
    return ($id, $email, $username);
}

my @LOCK_COLS = qw(failed_logins failed_window_start locked_until lockouts hour_failures
                   hour_start);

# Lock an account: 10 failures in the window, locked for 15 minutes (or until
# $until), the second lock since the last sign-in, 10 failures this hour.
sub lock_account {
    my ($id, $until) = @_;
    my $now = time;
    $until //= $now + 900;
    db_do("UPDATE users SET failed_logins = 10, failed_window_start = " . ($now - 60)
          . ", locked_until = $until, lockouts = 2, hour_failures = 10, hour_start = "
          . ($now - 60) . ' WHERE id = ' . sql_str($id));
    return $until;
}

sub lock_state {
    my ($id) = @_;
    return db_row('SELECT ' . join(', ', @LOCK_COLS) . ' FROM users WHERE id = ' . sql_str($id))
        || {};
}

sub cleared_ok {
    my ($id, $name) = @_;
    my $s = lock_state($id);
    my %want = (failed_logins => 0, failed_window_start => undef, locked_until => undef,
                lockouts => 0, hour_failures => 0, hour_start => undef);
    is_deeply({map { $_ => $s->{$_} } @LOCK_COLS}, \%want, "$name: lockout columns cleared")
        or diag(json_enc($s));
}

sub still_locked_ok {
    my ($id, $until, $name) = @_;
    my $s = lock_state($id);
    ok(($s->{locked_until} // 0) == $until && ($s->{lockouts} // 0) == 2
       && ($s->{failed_logins} // 0) == 10, "$name: still locked") or diag(json_enc($s));
}

sub unlock_rows {
    my ($id) = @_;
    return db_rows("SELECT * FROM audit_log WHERE event = 'account_unlocked' AND user_id = "
                   . sql_str($id) . ' ORDER BY id');
}

# The newest account_unlocked row of $id is the admin's, written between $t0 and now.
sub audit_ok {
    my ($id, $login, $t0, $count, $name) = @_;
    my $rows = unlock_rows($id);
    is(scalar @$rows, $count, "$name: $count account_unlocked row(s) for the user")
        or diag(json_enc($rows));
    my $r = $rows->[-1] || {};
    my $d = defined $r->{detail} ? eval { JSON::PP->new->decode($r->{detail}) } : undef;
    is_deeply($d, {reason => 'admin', via => 'authsvc-admin'},
              "$name: detail {\"reason\":\"admin\",\"via\":\"authsvc-admin\"}")
        or diag('detail: ' . ($r->{detail} // 'NULL'));
    is($r->{login}, $login, "$name: login as given");
    ok(defined $r->{at} && $r->{at} >= $t0 && $r->{at} <= time,
       "$name: at is now (epoch seconds)") or diag('at: ' . ($r->{at} // 'NULL') . ", t0 $t0");
    ok(!defined $r->{ip} && !defined $r->{user_agent} && !defined $r->{request_id},
       "$name: no ip, user agent or request id") or diag(json_enc($r));
}

my ($rc, $out, $err);

# ---- by email, in another case --------------------------------------------------------

my ($id, $email, $username) = new_account('a');
my ($other) = new_account('b');
my $until = lock_account($id);
my $other_until = lock_account($other);
my $t0 = time;
($rc, $out, $err) = admin(@live, qw(user unlock), uc $email);
is($rc, 0, "[$backend] unlock by email in upper case: exit 0") or diag($err);
is($out, "unlocked $id (was locked until " . iso($until) . ")\n",
   '... says unlocked, and until when');
is($err, '', '... nothing on stderr');
cleared_ok($id, 'by email');
audit_ok($id, uc $email, $t0, 1, 'by email');
still_locked_ok($other, $other_until, 'another account');
is(scalar @{ unlock_rows($other) }, 0, 'another account: no audit row');

# ---- again: nothing was locked ---------------------------------------------------------

$t0 = time;
($rc, $out, $err) = admin(@live, qw(user unlock), $email);
is($rc, 0, 'unlock an account that is not locked: exit 0') or diag($err);
is($out, "$id was not locked; failure counter cleared\n", '... says it was not locked');
cleared_ok($id, 'not locked');
audit_ok($id, $email, $t0, 2, 'not locked');

# ---- by username, in another case ------------------------------------------------------

$until = lock_account($id);
$t0 = time;
($rc, $out, $err) = admin(@live, qw(user unlock), uc $username);
is($rc, 0, 'unlock by username in upper case: exit 0') or diag($err);
is($out, "unlocked $id (was locked until " . iso($until) . ")\n", '... unlocked');
cleared_ok($id, 'by username');
audit_ok($id, uc $username, $t0, 3, 'by username');

# ---- by id -----------------------------------------------------------------------------

$until = lock_account($id);
$t0 = time;
($rc, $out, $err) = admin(@live, qw(user unlock), $id);
is($rc, 0, 'unlock by user id: exit 0') or diag($err);
is($out, "unlocked $id (was locked until " . iso($until) . ")\n", '... unlocked');
cleared_ok($id, 'by id');
audit_ok($id, $id, $t0, 4, 'by id');

# ---- a lock that has ended: counters cleared, "not locked" ----------------------------

lock_account($id, time - 5);
($rc, $out, $err) = admin(@live, qw(user unlock), $email);
is($rc, 0, 'a lock that has ended: exit 0') or diag($err);
is($out, "$id was not locked; failure counter cleared\n", '... not locked (any more)');
cleared_ok($id, 'ended lock');
audit_ok($id, $email, $t0, 5, 'ended lock');
still_locked_ok($other, $other_until, 'another account, after all that');

# ---- unknown accounts: exit 3, nothing written ----------------------------------------

for my $case ([unique_email('nobody'), 'an unknown email'],
              [unique_username('nobody'), 'an unknown username'],
              [new_id(), 'an unknown id'],
              ["x' OR '1'='1", 'SQL in the login'],
              ['%', 'a LIKE wildcard']) {
    my ($login, $name) = @$case;
    ($rc, $out, $err) = admin(@live, qw(user unlock), $login);
    is($rc, 3, "$name: exit 3");
    like($err, qr/no such user/, "... $name: says no such user") or diag($err);
    is($out, '', "... $name: nothing on stdout");
    is(db_value("SELECT count(*) AS n FROM audit_log WHERE event = 'account_unlocked' AND login = "
                . sql_str($login)), 0, "... $name: no audit row");
}
still_locked_ok($other, $other_until, 'another account, after the unknown ones');

# ---- usage errors: exit 2 -------------------------------------------------------------

for my $case ([[@live, qw(user unlock)], 'no LOGIN'],
              [[@live, qw(user unlock), $email, $id], 'two LOGINs'],
              [[@live, qw(user unlock), ''], 'an empty LOGIN'],
              [[@live, qw(user unlock), 'someone@localhost'], 'an invalid email'],
              [[@live, qw(user unlock), 'a@b@example.org'], 'two @'],
              [[@live, qw(user unlock), "\xff\xfe"], 'LOGIN not UTF-8'],
              [[@live, qw(user frobnicate), $email], 'an unknown user command'],
              [[@live, 'user'], 'the group alone'],
              [[qw(--driver nosuch --params x user unlock), $email], 'an unknown driver']) {
    my ($args, $name) = @$case;
    ($rc, $out, $err) = admin(@$args);
    is($rc, 2, "usage error, $name: exit 2");
    ok(length $err, "... $name: says so on stderr");
}
is(scalar @{ unlock_rows($id) }, 5, 'usage errors wrote no audit row');

($rc, $out, $err) = admin(qw(user unlock --help));
is($rc, 0, 'user unlock --help: exit 0 (no database needed)');
like($out, qr/user unlock LOGIN/, '... prints the synopsis');
($rc, $out, $err) = admin('--help');
like($out, qr/^\s+user unlock LOGIN\s+\S/m, '--help lists user unlock');

# ---- a database below schema version 3: exit 1 ----------------------------------------

{
    my ($dbargs, $cleanup) = scratch_db('unlock');
    my @db = @$dbargs;
    ($rc, $out, $err) = admin(@db, qw(migrate up 2));
    is($rc, 0, "[$backend] a database at version 2") or diag($err);
    ($rc, $out, $err) = admin(@db, qw(user unlock), $email);
    is($rc, 1, '... user unlock: exit 1');
    like($err, qr/schema version 2\b.*version 3/, '... says the version is too old')
        or diag($err);
    is($out, '', '... nothing on stdout');
    ($rc, $out, $err) = admin(@db, qw(migrate down 0));
    ($rc, $out, $err) = admin(@db, qw(user unlock), $email);
    is($rc, 1, '... an empty database: exit 1');
    like($err, qr/schema version 0\b/, '... says version 0') or diag($err);
    $cleanup->();
}

done_testing();
