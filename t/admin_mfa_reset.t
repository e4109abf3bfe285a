# tools/authsvc-admin mfa reset LOGIN: for a user who lost the authenticator and every
# recovery code. In one transaction it clears the TOTP columns of users, deletes the
# recovery codes and the pending sign-in challenges, and writes an mfa_disabled audit
# row {"reason":"admin","via":"authsvc-admin"}; the next sign-in is one step. An account
# without two-step sign-in is left as it is (no audit row). Other accounts untouched; no
# mail; exit 3 for an unknown account, exit 1 for a database below schema version 4,
# exit 2 for usage errors.
# Accounts are enrolled through the API (vhost mfa of extra.conf.in, codes from oathtool).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $ADMIN = admin_bin();
plan skip_all => "no $ADMIN (run make)" unless -x $ADMIN;
plan skip_all => 'no oathtool' unless system('sh', '-c', 'command -v oathtool >/dev/null') == 0;

sub admin { run_admin(@_) }

my $backend = backend();
my @live = $backend eq 'pgsql'
    ? ('--driver', 'pgsql', '--params', pg_admin_params($ENV{AUTHSVC_PG_DB} || 'authsvc'))
    : ('--driver', 'sqlite3', '--params', AuthsvcTest::sqlite_file());

my @MFA_COLS = qw(totp_secret totp_pending totp_pending_at totp_last_step mfa_enabled_at);

sub mfa_cols {
    my ($id) = @_;
    return db_row('SELECT ' . join(', ', @MFA_COLS, 'updated_at') . ' FROM users WHERE id = '
                  . sql_str($id)) || {};
}

sub count_of {
    my ($table, $id) = @_;
    return db_value("SELECT count(*) AS n FROM $table WHERE user_id = " . sql_str($id));
}

sub reset_rows {
    my ($id) = @_;
    return audit_rows("event = 'mfa_disabled' AND user_id = " . sql_str($id));
}

sub outbox_count {
    return db_value("SELECT count(*) AS n FROM mail_outbox WHERE template = 'mfa_disabled'");
}

sub cleared_ok {
    my ($id, $t0, $name) = @_;
    my $s = mfa_cols($id);
    is_deeply({map { $_ => $s->{$_} } @MFA_COLS},
              {totp_secret => undef, totp_pending => undef, totp_pending_at => undef,
               totp_last_step => 0, mfa_enabled_at => undef},
              "$name: the TOTP columns cleared") or diag(json_enc($s));
    ok(($s->{updated_at} // 0) >= $t0 && $s->{updated_at} <= time, "$name: updated_at is now")
        or diag('updated_at: ' . ($s->{updated_at} // 'NULL') . ", t0 $t0");
    is(count_of('mfa_recovery_codes', $id), 0, "$name: no recovery code left");
    is(count_of('mfa_challenges', $id), 0, "$name: no sign-in challenge left");
}

sub enrolled_ok {
    my ($id, $name) = @_;
    my $s = mfa_cols($id);
    ok(defined $s->{totp_secret} && defined $s->{mfa_enabled_at} && $s->{totp_last_step} > 0,
       "$name: still enrolled") or diag(json_enc($s));
    is(count_of('mfa_recovery_codes', $id), 10, "$name: its 10 recovery codes kept");
}

# The newest mfa_disabled row of $id is the admin's, written between $t0 and now.
sub audit_ok {
    my ($id, $login, $t0, $count, $name) = @_;
    my $rows = reset_rows($id);
    is(scalar @$rows, $count, "$name: $count mfa_disabled row(s) for the user")
        or diag(json_enc($rows));
    my $r = $rows->[-1] || {};
    is_deeply(audit_detail($r), {reason => 'admin', via => 'authsvc-admin'},
              "$name: detail {\"reason\":\"admin\",\"via\":\"authsvc-admin\"}")
        or diag('detail: ' . ($r->{detail} // 'NULL'));
    is($r->{login}, $login, "$name: login as given");
    ok(defined $r->{at} && $r->{at} >= $t0 && $r->{at} <= time,
       "$name: at is now (epoch seconds)") or diag('at: ' . ($r->{at} // 'NULL') . ", t0 $t0");
    ok(!defined $r->{ip} && !defined $r->{user_agent} && !defined $r->{request_id},
       "$name: no ip, user agent or request id") or diag(json_enc($r));
}

# Sign-in with the password alone: 200, a session cookie, the user; not 401 mfa_required.
sub one_step_ok {
    my ($a, $name) = @_;
    my $c = client(vhost => 'mfa');
    my $res = $c->login($a->{f}{email}, $a->{f}{password});
    is($res->code, 200, "$name: sign-in with the password alone: 200") or diag($res->content);
    ok(scalar $res->header('Set-Cookie'), "$name: ... sets a cookie");
    is((json_body($res) || {})->{user}{id}, $a->{u}{id}, "$name: ... as the user");
    my $me = json_body($c->get('/users/me')) || {};
    bool_is($me->{mfa_enabled}, 0, "$name: GET /users/me mfa_enabled");
    return $c;
}

sub two_step_ok {
    my ($a, $name) = @_;
    my ($c, $res, $token) = mfa_start($a);
    problem_ok($res, 401, 'mfa_required', "$name: sign-in asks for the second step");
    ok(defined $token, "$name: ... with an mfa_token");
    ok(!$res->header('Set-Cookie'), "$name: ... and no cookie");
    return ($c, $token);
}

my ($rc, $out, $err, $t0);

# ---- an enrolled account, by email in another case -----------------------------------

my $a = mfa_account(username => 'Mr_' . substr(unique_username('r'), 0, 28));
my $b = mfa_account();
my $id = $a->{u}{id};
enrolled_ok($id, "[$backend] enrolled through the API");
my (undef, $stale) = two_step_ok($a, 'before the reset');
ok(count_of('mfa_challenges', $id) >= 1, '... a sign-in challenge is pending');
my $mails = outbox_count();

$t0 = time;
($rc, $out, $err) = admin(@live, qw(mfa reset), uc $a->{f}{email});
is($rc, 0, 'mfa reset by email in upper case: exit 0') or diag($err);
is($out, "two-step sign-in turned off for $id\n", '... says it turned two-step sign-in off');
is($err, '', '... nothing on stderr');
cleared_ok($id, $t0, 'by email');
audit_ok($id, uc $a->{f}{email}, $t0, 1, 'by email');
is(outbox_count(), $mails, 'no mfa_disabled mail queued');
enrolled_ok($b->{u}{id}, 'another account');
is(scalar @{ reset_rows($b->{u}{id}) }, 0, 'another account: no audit row');
two_step_ok($b, 'another account');

# The sign-in started before the reset cannot be finished.
problem_ok(client(vhost => 'mfa')->post('/auth/login/mfa',
                                        {mfa_token => $stale, code => mfa_code($a)}),
           400, 'token_invalid', 'the mfa_token of before the reset');

my $c = one_step_ok($a, 'after the reset');
my $st = json_body($c->get('/users/me/mfa')) || {};
bool_is($st->{enabled}, 0, 'GET /users/me/mfa enabled');
is($st->{recovery_codes_remaining}, 0, '... no recovery codes remaining');

# ---- again, by username in another case: nothing to do -------------------------------

my $before = mfa_cols($id);
($rc, $out, $err) = admin(@live, qw(mfa reset), uc $a->{f}{username});
is($rc, 0, 'mfa reset of an account without it: exit 0') or diag($err);
is($out, "$id had no two-step sign-in; nothing changed\n", '... says nothing changed');
is($err, '', '... nothing on stderr');
is_deeply(mfa_cols($id), $before, '... the row unchanged (updated_at too)');
is(scalar @{ reset_rows($id) }, 1, '... no second audit row');

# ---- enrolled again, then reset by id --------------------------------------------------

my $e = mfa_enroll($c);
my ($code, $step) = totp_code_step($e->{secret});
my $res = $c->post('/users/me/mfa/confirm', {code => $code});
is($res->code, 200, 'the user enrolls again: 200') or diag($res->content);
$a = {%$a, secret => $e->{secret}, last_step => $step};
is(count_of('mfa_recovery_codes', $id), 10, '... 10 new recovery codes');
two_step_ok($a, 'enrolled again');

$t0 = time;
($rc, $out, $err) = admin(@live, qw(mfa reset), $id);
is($rc, 0, 'mfa reset by user id: exit 0') or diag($err);
is($out, "two-step sign-in turned off for $id\n", '... turned off');
cleared_ok($id, $t0, 'by id');
audit_ok($id, $id, $t0, 2, 'by id');
one_step_ok($a, 'after the second reset');

# ---- an enrollment started but not confirmed is not two-step sign-in ---------------

{
    my ($pc, undef, $pu) = account(vhost => 'mfa');
    mfa_enroll($pc);
    ($rc, $out, $err) = admin(@live, qw(mfa reset), $pu->{id});
    is($rc, 0, 'a pending enrollment only: exit 0') or diag($err);
    is($out, "$pu->{id} had no two-step sign-in; nothing changed\n", '... nothing changed');
    ok(defined mfa_cols($pu->{id})->{totp_pending}, '... the pending secret left to expire');
    is(scalar @{ reset_rows($pu->{id}) }, 0, '... no audit row');
}

# ---- unknown accounts: exit 3, nothing written ----------------------------------------

for my $case ([unique_email('nobody'), 'an unknown email'],
              [unique_username('nobody'), 'an unknown username'],
              ['00000000-0000-4000-8000-000000000000', 'an unknown id'],
              ["x' OR '1'='1", 'SQL in the login']) {
    my ($login, $name) = @$case;
    ($rc, $out, $err) = admin(@live, qw(mfa reset), $login);
    is($rc, 3, "$name: exit 3");
    like($err, qr/no such user/, "... $name: says no such user") or diag($err);
    is($out, '', "... $name: nothing on stdout");
    is(db_value("SELECT count(*) AS n FROM audit_log WHERE event = 'mfa_disabled' AND login = "
                . sql_str($login)), 0, "... $name: no audit row");
}
enrolled_ok($b->{u}{id}, 'another account, after all that');

# ---- usage errors: exit 2 -------------------------------------------------------------

for my $case ([[@live, qw(mfa reset)], 'no LOGIN'],
              [[@live, qw(mfa reset), $id, $b->{u}{id}], 'two LOGINs'],
              [[@live, qw(mfa reset), ''], 'an empty LOGIN'],
              [[@live, qw(mfa reset), 'someone@localhost'], 'an invalid email'],
              [[@live, qw(mfa frobnicate), $id], 'an unknown mfa command'],
              [[@live, 'mfa'], 'the group alone']) {
    my ($args, $name) = @$case;
    ($rc, $out, $err) = admin(@$args);
    is($rc, 2, "usage error, $name: exit 2");
    ok(length $err, "... $name: says so on stderr");
}
is(scalar @{ reset_rows($id) }, 2, 'usage errors wrote no audit row');
enrolled_ok($b->{u}{id}, 'another account, after the usage errors');

($rc, $out, $err) = admin(qw(mfa reset --help));
is($rc, 0, 'mfa reset --help: exit 0 (no database needed)');
like($out, qr/mfa reset LOGIN/, '... prints the synopsis');
like($out, qr/No mail is sent/, '... says no mail is sent');
($rc, $out, $err) = admin('--help');
like($out, qr/^\s+mfa reset LOGIN\s+\S/m, '--help lists mfa reset');

# ---- a database below schema version 4: exit 1 ----------------------------------------

{
    my ($dbargs, $cleanup) = scratch_db('mfareset');
    my @db = @$dbargs;
    ($rc, $out, $err) = admin(@db, qw(migrate up 3));
    is($rc, 0, "[$backend] a database at version 3") or diag($err);
    ($rc, $out, $err) = admin(@db, qw(mfa reset), $a->{f}{email});
    is($rc, 1, '... mfa reset: exit 1');
    like($err, qr/schema version 3\b.*version 4/, '... says the version is too old')
        or diag($err);
    is($out, '', '... nothing on stdout');
    $cleanup->();
}

done_testing();
