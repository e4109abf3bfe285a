# AuthsvcMFARequired and the step-up forms never widen access: a negated Require line
# ("Require not authsvc ...", <RequireNone>) stays a plain test of the account, and
# AuthsvcUnauthAction pass passes a session that lacks the second factor as anonymous.
# Also: the sessions that passed a factor forget it when the factor is turned off and
# another enrolled; new recovery codes need a fresh session; wrong codes at the
# confirmation count toward the lockout like any other.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

# ---- negated lines -----------------------------------------------------------------

my ($sus) = account(vhost => 'mfa', roles => 'suspended');
my ($plain) = account(vhost => 'mfa');
my $mfa_sus = mfa_account(roles => 'suspended');
my $mfa_ok = mfa_account();

for my $path ('/mg/not-suspended/', '/mg/none-suspended/') {
    is(guard_code($sus, path => $path), 403,
       "$path: a suspended account without MFA is refused (the line is a plain test)");
    is(guard_code($mfa_sus->{c}, path => $path), 403,
       "$path: a suspended account with MFA is refused");
    is(guard_code($mfa_ok->{c}, path => $path), 200,
       "$path: an account with MFA that is not suspended gets in");
    is(guard_code($plain, path => $path), 403,
       "$path: one without MFA does not (AuthsvcMFARequired On: enrollment first)");
    problem_ok($plain->get($path, abs => 1), 403, 'mfa_enrollment_required', "$path: ... the code");
}

# ---- AuthsvcUnauthAction pass --------------------------------------------------------

my $res = $plain->get('/mg/pass/whoami.shtml', abs => 1);
is($res->code, 200, 'pass: a session without MFA gets the page ...');
like($res->content, qr/^user=\(none\);/, '... as anonymous: no identity reaches the backend')
    or diag($res->content);
$res = $mfa_ok->{c}->get('/mg/pass/whoami.shtml', abs => 1);
is($res->code, 200, 'pass: a session that passed MFA gets the page ...');
like($res->content, qr/^user=\Q$mfa_ok->{f}{email}\E;type=authsvc;/, '... with its identity')
    or diag($res->content);
$res = client(vhost => 'mfa')->get('/mg/pass/whoami.shtml', abs => 1);
is($res->code, 200, 'pass: no session: the page ...');
like($res->content, qr/^user=\(none\);/, '... anonymous');

# ---- a factor turned off and on again ------------------------------------------------

my $a = mfa_account();
my $other = mfa_login($a);     # a second session, which passed the (first) factor
is(guard_code($other, path => '/mg/mfa-api/'), 200, 'a session that passed MFA meets "mfa"');
$res = $a->{c}->del('/users/me/mfa', json => {password => $a->{f}{password}, code => mfa_code($a)});
is($res->code, 204, 'MFA turned off') or diag($res->content);
my $e = mfa_enroll($a->{c});
$a->{secret} = $e->{secret};
delete $a->{last_step};
$res = $a->{c}->post('/users/me/mfa/confirm', {code => mfa_code($a)});
is($res->code, 200, '... and on again with a new authenticator') or diag($res->content);
problem_ok($other->get('/mg/mfa-api/', abs => 1), 401, 'reauthentication_required',
           'the other session passed the old factor only: it must pass the new one');
is(guard_code($a->{c}, path => '/mg/mfa-api/'), 200,
   'the session that confirmed the new factor meets "mfa"');
my $s = db_row('SELECT mfa_at FROM sessions WHERE user_id = ' . sql_str($a->{u}{id})
               . ' AND mfa_at IS NOT NULL');
ok($s, 'one session of the account has passed a factor ...');
is(db_value('SELECT COUNT(*) FROM sessions WHERE user_id = ' . sql_str($a->{u}{id})
            . ' AND mfa_at IS NOT NULL'), 1, '... and only one');

# ---- new recovery codes need a fresh session -------------------------------------------

my $f = mfa_account(vhost => 'mfafresh');
sleep 4;
problem_ok($f->{c}->post('/users/me/mfa/recovery-codes', {code => '000000'}), 401,
           'reauthentication_required', 'new recovery codes from a stale session: 401');
# The next two requests within the 3 s the vhost allows: no wait for a code between.
AuthsvcTest::totp_wait_margin(8);
$res = $f->{c}->post('/auth/reauthenticate',
                     {password => $f->{f}{password}, recovery_code => $f->{recovery}[0]});
is($res->code, 200, '... after re-authenticating') or diag($res->content);
$res = $f->{c}->post('/users/me/mfa/recovery-codes', {code => mfa_code($f)});
is($res->code, 200, '... they come') or diag($res->content);

# ---- the confirmation's wrong codes count toward the lockout ---------------------------

my ($lc, $lf) = account(vhost => 'mfalock');   # AuthsvcLockout 3 1h 1h
my $le = mfa_enroll($lc);
my $right = AuthsvcTest::totp_code($le->{secret});
my $wrong = $right eq '000000' ? '111111' : '000000';
problem_ok($lc->post('/users/me/mfa/confirm', {code => $wrong}), 401, 'invalid_mfa_code',
           "confirmation, wrong code $_") for 1 .. 3;
problem_ok($lc->post('/users/me/mfa/confirm', {code => $right}), 401, 'invalid_mfa_code',
           'after three, the account is locked: the right code is refused too');
ok(db_value('SELECT locked_until FROM users WHERE email = ' . sql_str($lf->{email})),
   '... locked in the database');

done_testing();
