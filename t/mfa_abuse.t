# Failed MFA codes (issue 6): every code check counts in the rate-limit class mfa, per
# client address and per account (vhost mfalimits: 3/1h ip, 2/1h account, behind
# mod_remoteip with an address of each test's own), and a wrong code claims an attempt
# of the account lockout like a wrong password (mfalock: AuthsvcLockout 3 1h 1h;
# mfareveal: 2 1h 1h with AuthsvcLockoutReveal On). Audit mfa_failure {reason}.
# The accounts enroll on the vhost mfa (no limits), so that only the counted requests
# reach the throttled vhosts.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;



sub reason_of {
    my ($res) = @_;
    my ($row) = events_in($res, 'mfa_failure');
    return ((audit_detail($row) || {})->{reason}) // 'none';
}


# Sign-in step one on VHOST from IP: (client, mfa_token).
sub start_from {
    my ($a, $vhost, $ip) = @_;
    my $c = xff_client($vhost, $ip);
    my ($cl, $res, $token) = mfa_start($a, client => $c);
    problem_ok($res, 401, 'mfa_required', "step one from $ip");
    return ($cl, $token);
}

# ---- the rate limit, per client address ------------------------------------------------------------

{
    my $ip = random_ipv4();
    my @acc = map { mfa_account() } 1 .. 4;
    for my $i (0 .. 2) {
        my ($c, $t) = start_from($acc[$i], 'mfalimits', $ip);
        problem_ok($c->post('/auth/login/mfa', {mfa_token => $t, code => wrong_code($acc[$i])}), 401,
                   'invalid_mfa_code', 'mfa 3/1h ip: wrong code ' . ($i + 1) . ' (another account each time)');
    }
    my ($c, $t) = start_from($acc[3], 'mfalimits', $ip);
    my $res = $c->post('/auth/login/mfa', {mfa_token => $t, code => mfa_code($acc[3])});
    problem_ok($res, 429, 'rate_limited', 'the 4th code check from the address, a right code');
    retry_after_ok($res, 3600, '...');
    ok(!defined $res->header('Set-Cookie'), '... no cookie');
    # Nothing was done: the mfa_token and the code still work from another address.
    my $other = xff_client('mfalimits', random_ipv4());
    $res = $other->post('/auth/login/mfa', {mfa_token => $t, code => mfa_code($acc[3])});
    is($res->code, 200, '... the same mfa_token from another address: 200') or diag($res->content);
}

# ---- the rate limit, per account ----------------------------------------------------------------------

{
    my $a = mfa_account();
    for my $n (1 .. 2) {
        my ($c, $t) = start_from($a, 'mfalimits', random_ipv4());
        problem_ok($c->post('/auth/login/mfa', {mfa_token => $t, code => wrong_code($a)}), 401,
                   'invalid_mfa_code', "mfa 2/1h account: wrong code $n (from an address of its own)");
    }
    my ($c, $t) = start_from($a, 'mfalimits', random_ipv4());
    my $res = $c->post('/auth/login/mfa', {mfa_token => $t, code => mfa_code($a)});
    problem_ok($res, 429, 'rate_limited', 'the 3rd code check for the account, a right code, a new address');
    retry_after_ok($res, 3600, '...');
    $res = $c->post('/auth/login/mfa', {mfa_token => $t, recovery_code => $a->{recovery}[0]});
    problem_ok($res, 429, 'rate_limited', '... a recovery code too');
}

# Confirming an enrollment counts too (the signed-in account).
{
    my $ip = random_ipv4();
    my $c = xff_client('mfalimits', $ip);
    my ($f) = $c->signed_in();
    my $e = mfa_enroll($c);
    my $bad = totp_code_at($e->{secret}, totp_step() - 6);
    for my $n (1 .. 2) {
        problem_ok($c->post('/users/me/mfa/confirm', {code => $bad}), 401, 'invalid_mfa_code',
                   "confirm with a wrong code $n");
    }
    my $res = $c->post('/users/me/mfa/confirm', {code => totp_code($e->{secret})});
    problem_ok($res, 429, 'rate_limited', 'the 3rd confirm for the account');
    my $st = json_body($c->get('/users/me/mfa')) || {};
    ok(!$st->{enabled} && $st->{pending}, '... still pending, not enabled');
}

# ---- the lockout -------------------------------------------------------------------------------------------

{
    my $a = mfa_account();
    my $uid = $a->{u}{id};
    my ($c, $t) = start_from($a, 'mfalock', random_ipv4());
    for my $n (1 .. 2) {
        my $res = $c->post('/auth/login/mfa', {mfa_token => $t, code => wrong_code($a)});
        problem_ok($res, 401, 'invalid_mfa_code', "AuthsvcLockout 3: wrong code $n");
        is(reason_of($res), 'bad_code', "... audit: mfa_failure {\"reason\":\"bad_code\"}");
    }
    is(scalar @{ audit_events($uid, 'account_locked') }, 0, '... not locked after 2');
    my $res = $c->post('/auth/login/mfa', {mfa_token => $t, code => wrong_code($a)});
    problem_ok($res, 401, 'invalid_mfa_code', 'wrong code 3');
    is(scalar @{ audit_events($uid, 'account_locked') }, 1, '... locks the account (account_locked)');
    ok((user_row($a->{f}{email})->{locked_until} // 0) > time, '... users.locked_until is ahead');

    $res = $c->post('/auth/login/mfa', {mfa_token => $t, code => mfa_code($a)});
    problem_ok($res, 401, 'invalid_mfa_code', 'locked: the right code');
    is(reason_of($res), 'locked', '... audit: mfa_failure {"reason":"locked"}');
    ok(!defined $res->header('Set-Cookie'), '... no cookie');
    problem_ok($c->post('/auth/login/mfa', {mfa_token => $t, recovery_code => $a->{recovery}[0]}), 401,
               'invalid_mfa_code', 'locked: a recovery code');
    problem_ok(client(vhost => 'mfalock')->login($a->{f}{email}, $a->{f}{password}), 401,
               'invalid_credentials', 'locked: the password at sign-in');
}

# A right password is no failure: step one, again and again, locks nothing.
{
    my $a = mfa_account();
    my ($c, $t);
    for my $n (1 .. 4) {
        ($c, $t) = start_from($a, 'mfalock', random_ipv4());
    }
    is(scalar @{ audit_events($a->{u}{id}, 'account_locked') }, 0, 'AuthsvcLockout 3: 4 times the right password, no lock');
    my $res = $c->post('/auth/login/mfa', {mfa_token => $t, code => mfa_code($a)});
    is($res->code, 200, '... then the right code signs in') or diag($res->content);
}

# Wrong passwords and wrong codes add up.
{
    my $a = mfa_account();
    my $uid = $a->{u}{id};
    problem_ok(client(vhost => 'mfalock')->login($a->{f}{email}, 'Not the password 12'), 401,
               'invalid_credentials', 'a wrong password');
    my ($c, $t) = start_from($a, 'mfalock', random_ipv4());
    problem_ok($c->post('/auth/login/mfa', {mfa_token => $t, code => wrong_code($a)}), 401, 'invalid_mfa_code',
               '... a wrong code');
    is(scalar @{ audit_events($uid, 'account_locked') }, 0, '... not locked after 2 failures');
    problem_ok($c->post('/auth/login/mfa', {mfa_token => $t, code => wrong_code($a)}), 401, 'invalid_mfa_code',
               '... another wrong code');
    is(scalar @{ audit_events($uid, 'account_locked') }, 1, '... the 3rd failure locks');
}

# AuthsvcLockoutReveal On: 423 once locked.
{
    my $a = mfa_account();
    my ($c, $t) = start_from($a, 'mfareveal', random_ipv4());
    for my $n (1 .. 2) {
        problem_ok($c->post('/auth/login/mfa', {mfa_token => $t, code => wrong_code($a)}), 401,
                   'invalid_mfa_code', "AuthsvcLockout 2, revealed: wrong code $n");
    }
    my $res = $c->post('/auth/login/mfa', {mfa_token => $t, code => mfa_code($a)});
    problem_ok($res, 423, 'account_locked', 'locked, revealed: the right code');
    retry_after_ok($res, 3600, '...');
}

done_testing();
