# Step-up (issue 6): POST /auth/reauthenticate {password, code? | recovery_code?}
# refreshes the session's authentication time without a new session; the sensitive
# endpoints (PUT /users/me/password, POST /users/me/email, DELETE /users/me,
# POST and DELETE /users/me/mfa) answer 401 reauthentication_required, before any
# password check, when the last authentication (password, and second factor for an
# enrolled account) is older than AuthsvcFreshAuthMaxAge (vhost mfafresh: 3s; mfa: the
# default 10m).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $MAX = 3;    # AuthsvcFreshAuthMaxAge of the vhost mfafresh

sub reauth {
    my ($c, $body) = @_;
    return $c->post('/auth/reauthenticate', $body);
}


sub session_row_of {
    my ($c) = @_;
    return db_row('SELECT * FROM sessions WHERE token_hash = ' . sql_str(sha256_hex($c->jar->{authsvc} // '')));
}

sub stale_ok {
    my ($res, $name) = @_;
    my $p = problem_ok($res, 401, 'reauthentication_required', $name);
    is($p->{max_age}, $MAX, "$name: max_age $MAX") if $res->code == 401;
    ok(!defined $res->header('Set-Cookie'), "$name: no cookie");
    return $p;
}

sub past_max_age { sleep $MAX + 2 }

sub iso_epoch {
    my ($s) = @_;
    require Time::Local;
    my @t = ($s // '') =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$/ or return 0;
    return Time::Local::timegm($t[5], $t[4], $t[3], $t[2], $t[1] - 1, $t[0]);
}

# ---- /auth/reauthenticate without MFA ---------------------------------------------------------

{
    problem_ok(reauth(client(vhost => 'mfa'), {password => 'whatever it is'}), 401, 'unauthenticated',
               'reauthenticate without a session');
    my ($c, $f, $u) = account(vhost => 'mfa');
    my $cookie = $c->jar->{authsvc};
    my $before = session_row_of($c);
    my $n = scalar @{ session_rows($u->{id}) };
    sleep 2;
    my $wres = reauth($c, {password => $f->{password} . 'x'});
    problem_ok($wres, 401, 'invalid_credentials', 'reauthenticate with a wrong password');
    my ($lf) = events_in($wres, 'login_failure');
    my $d = audit_detail($lf) || {};
    is(($d->{reason} // '') . '/' . ($d->{action} // ''), 'bad_password/reauthenticate',
       '... audit: login_failure {"reason":"bad_password","action":"reauthenticate"} (docs/api.md)');
    is(session_row_of($c)->{auth_at}, $before->{auth_at}, '... auth_at unchanged');
    my $p = problem_ok(reauth($c, {}), 422, 'validation_failed', 'reauthenticate without a password');
    fields_ok($p, {password => 'required'}, 'reauthenticate without a password');
    wrong_type_ok(reauth($c, {password => 42}), 'password', 'reauthenticate with password as a number');
    problem_ok($c->post('/auth/reauthenticate', undef, body => '{"password":'), 400, 'invalid_json',
               'reauthenticate with broken JSON');
    problem_ok($c->post('/auth/reauthenticate', undef, body => '{}', ctype => 'text/plain'), 403,
               'csrf_failed', 'reauthenticate as text/plain, with the cookie');

    my $res = reauth($c, {password => $f->{password}});
    is($res->code, 200, 'reauthenticate with the password: 200') or diag($res->content);
    no_store_ok($res, '...');
    my $b = json_body($res) || {};
    ok(exists $b->{authenticated_at} && exists $b->{methods}, '... {authenticated_at, methods}');
    bool_is($b->{mfa}, 0, '... mfa (docs/api.md)');
    iso_time_ok($b->{authenticated_at}, '... authenticated_at');
    ok(abs(iso_epoch($b->{authenticated_at}) - time) <= 3, '... which is now');
    is_deeply($b->{methods}, ['pwd'], '... methods ["pwd"]');
    ok(!grep({ /^authsvc=/ } $res->header('Set-Cookie')), '... no new session cookie');
    is($c->jar->{authsvc}, $cookie, '... the same cookie');
    is($c->get('/users/me')->code, 200, '... which still works');
    is(scalar @{ session_rows($u->{id}) }, $n, '... no new session row');
    my $after = session_row_of($c);
    ok(($after->{auth_at} // 0) > ($before->{auth_at} // 0), '... sessions.auth_at moved forward')
        or diag("$before->{auth_at} -> $after->{auth_at}");
    is(scalar(events_in($res, 'reauthenticated')), 1, '... audit: reauthenticated');
    is_deeply(audit_detail((events_in($res, 'reauthenticated'))[0]), {methods => ['pwd']},
              '... with {"methods":["pwd"]} (docs/api.md)');
    my $s = (grep { $_->{current} } @{ (json_body($c->get('/users/me/sessions')) || {})->{sessions} || [] })[0] || {};
    is($s->{authenticated_at}, $b->{authenticated_at}, '... GET /users/me/sessions shows it');
    is_deeply($s->{methods}, ['pwd'], '... with methods ["pwd"]');
    bool_is($s->{mfa}, 0, '... and mfa');
}

# ---- /auth/reauthenticate with MFA -------------------------------------------------------------

{
    my $a = mfa_account();
    my $c = mfa_login($a);
    my $p = problem_ok(reauth($c, {password => $a->{f}{password}}), 422, 'validation_failed',
                       'MFA account: reauthenticate with the password only');
    fields_ok($p, {code => 'required'}, 'MFA account: reauthenticate with the password only');
    my $wrong = totp_code_at($a->{secret}, totp_step() - 9);
    my $res = reauth($c, {password => $a->{f}{password}, code => $wrong});
    problem_ok($res, 401, 'invalid_mfa_code', '... with a wrong code');
    my ($fail) = events_in($res, 'mfa_failure');
    is((audit_detail($fail) || {})->{reason}, 'bad_code', '... audit: mfa_failure {"reason":"bad_code"}');
    is((audit_detail($fail) || {})->{action}, 'reauthenticate', '... with "action":"reauthenticate" (docs/api.md)');
    problem_ok(reauth($c, {password => $a->{f}{password} . 'x', recovery_code => $a->{recovery}[0]}), 401,
               'invalid_credentials', '... with a wrong password and a right recovery code');
    my $q = problem_ok(reauth($c, {password => $a->{f}{password}, code => '123456', recovery_code => $a->{recovery}[1]}),
                       422, 'validation_failed', '... with both kinds of code');
    fields_ok($q, {recovery_code => 'conflict'}, '... with both kinds of code');
    wrong_type_ok(reauth($c, {password => $a->{f}{password}, code => 123456}), 'code', '... with code as a number');
    for my $case (['7 digits', '1234567'], ['letters', 'abcdef'], ['a huge string', '1' x 100_000],
                  ['an array', ['123456']]) {
        my ($what, $v) = @$case;
        client_error_ok(reauth($c, {password => $a->{f}{password}, code => $v}), "... with code as $what");
    }

    my $before = session_row_of($c);
    sleep 2;
    $res = reauth($c, {password => $a->{f}{password}, code => mfa_code($a)});
    is($res->code, 200, '... with the password and a code: 200') or diag($res->content);
    my $b = json_body($res) || {};
    is_deeply($b->{methods}, ['pwd', 'otp'], '... methods ["pwd","otp"]');
    bool_is($b->{mfa}, 1, '... mfa (docs/api.md)');
    is_deeply(audit_detail((events_in($res, 'reauthenticated'))[0]), {methods => ['pwd', 'otp']},
              '... audit: reauthenticated {"methods":["pwd","otp"]} (docs/api.md)');
    my $after = session_row_of($c);
    ok(($after->{auth_at} // 0) > ($before->{auth_at} // 0), '... sessions.auth_at moved forward');
    ok(($after->{mfa_at} // 0) > ($before->{mfa_at} // 0), '... and sessions.mfa_at');
    is(scalar(events_in($res, 'reauthenticated')), 1, '... audit: reauthenticated');

    $res = reauth($c, {password => $a->{f}{password}, recovery_code => $a->{recovery}[2]});
    is($res->code, 200, '... with the password and a recovery code: 200') or diag($res->content);
    is_deeply((json_body($res) || {})->{methods}, ['pwd', 'rc'], '... methods ["pwd","rc"]');
    problem_ok(reauth($c, {password => $a->{f}{password}, recovery_code => $a->{recovery}[2]}), 401,
               'invalid_mfa_code', '... the same recovery code again');
}

# ---- AuthsvcFreshAuthMaxAge: an account without MFA ------------------------------------------------

{
    my ($c, $f, $u) = account(vhost => 'mfafresh');
    past_max_age();
    # Refused before the password is looked at: a wrong one gets the same answer.
    stale_ok($c->put('/users/me/password', {current_password => $f->{password} . 'x',
                                            new_password => new_password()}),
             'PUT /users/me/password, signed in too long ago, wrong password');
    stale_ok($c->put('/users/me/password', {current_password => $f->{password}, new_password => new_password()}),
             'PUT /users/me/password, signed in too long ago');
    stale_ok($c->post('/users/me/email', {new_email => unique_email('fresh'), password => $f->{password}}),
             'POST /users/me/email, signed in too long ago');
    stale_ok($c->del('/users/me', json => {password => $f->{password}}), 'DELETE /users/me, signed in too long ago');
    stale_ok($c->post('/users/me/mfa', {}), 'POST /users/me/mfa, signed in too long ago');
    is(scalar @{ audit_rows("event = 'login_failure' AND user_id = " . sql_str($u->{id})) }, 0,
       '... no password was checked (no login_failure)');
    is(client(vhost => 'mfafresh')->login($f->{email}, $f->{password})->code, 200, '... the password is unchanged');
    is($c->get('/users/me')->code, 200, 'GET /users/me needs no fresh sign-in');

    is(reauth($c, {password => $f->{password}})->code, 200, 'reauthenticate');
    my $new = new_password();
    my $res = $c->put('/users/me/password', {current_password => $f->{password}, new_password => $new});
    is($res->code, 200, '... then PUT /users/me/password works') or diag($res->content);
    $f->{password} = $new;
    mail_ok('... its notice', to => $f->{email}, template => 'password_changed');

    is(reauth($c, {password => $f->{password}})->code, 200, 'reauthenticate');
    $res = $c->post('/users/me/email', {new_email => unique_email('fresh'), password => $f->{password}});
    is($res->code, 202, '... then POST /users/me/email works') or diag($res->content);

    past_max_age();
    stale_ok($c->del('/users/me', json => {password => $f->{password}}), 'DELETE /users/me, stale again');
    is(reauth($c, {password => $f->{password}})->code, 200, 'reauthenticate');
    $res = $c->post('/users/me/mfa', {});
    is($res->code, 200, '... then POST /users/me/mfa works') or diag($res->content);
    $res = $c->del('/users/me', json => {password => $f->{password}});
    is($res->code, 204, '... and DELETE /users/me') or diag($res->content);
}

# A new sign-in is fresh.
{
    my ($c, $f) = account(vhost => 'mfafresh');
    past_max_age();
    is($c->login($f->{email}, $f->{password})->code, 200, 'signing in again');
    my $res = $c->post('/users/me/email', {new_email => unique_email('fresh'), password => $f->{password}});
    is($res->code, 202, '... makes the session fresh') or diag($res->content);
}

# ---- AuthsvcFreshAuthMaxAge: an enrolled account ---------------------------------------------------

{
    my $a = mfa_account(vhost => 'mfafresh');
    my $c = mfa_login($a);
    my $res = $c->del('/users/me/mfa', json => {password => $a->{f}{password}, recovery_code => $a->{recovery}[0]});
    is($res->code, 204, 'MFA account, just signed in with a code: DELETE /users/me/mfa works')
        or diag($res->content);

    $a = mfa_account(vhost => 'mfafresh');
    $c = mfa_login($a);
    past_max_age();
    stale_ok($c->del('/users/me/mfa', json => {password => $a->{f}{password}, recovery_code => $a->{recovery}[0]}),
             'MFA account, signed in too long ago: DELETE /users/me/mfa');
    stale_ok($c->put('/users/me/password', {current_password => $a->{f}{password}, new_password => new_password()}),
             '... PUT /users/me/password');
    is(reauth($c, {password => $a->{f}{password}, recovery_code => $a->{recovery}[1]})->code, 200,
       'reauthenticate with the password and a recovery code');
    $res = $c->del('/users/me/mfa', json => {password => $a->{f}{password}, recovery_code => $a->{recovery}[0]});
    is($res->code, 204, '... then DELETE /users/me/mfa works') or diag($res->content);
}

# A session signed in with the password before the account enrolled has never passed the
# second factor: not fresh, on a vhost with the default 10 minutes too.
{
    my ($c, $f, $u) = account(vhost => 'mfa');
    my $early = client(vhost => 'mfa', agent => 'early-device/1.0');
    is($early->login($f->{email}, $f->{password})->code, 200, 'a session signed in before enrollment');
    my $e = mfa_enroll($c);
    my ($code, $step) = totp_code_step($e->{secret});
    is($c->post('/users/me/mfa/confirm', {code => $code})->code, 200, 'the account enrolls in another session');
    my $a = {c => $c, f => $f, u => $u, vhost => 'mfa', secret => $e->{secret}, last_step => $step};
    my $p = problem_ok($early->put('/users/me/password', {current_password => $f->{password},
                                                          new_password => new_password()}),
                       401, 'reauthentication_required',
                       'the early session (default AuthsvcFreshAuthMaxAge): PUT /users/me/password');
    is($p->{max_age}, 600, '... max_age 600 (10m)') if $p->{code};
    is($early->get('/users/me')->code, 200, '... the session itself still works');
    my $res = reauth($early, {password => $f->{password}, code => mfa_code($a)});
    is($res->code, 200, 'the early session reauthenticates with a code') or diag($res->content);
    my $new = new_password();
    $res = $early->put('/users/me/password', {current_password => $f->{password}, new_password => $new});
    is($res->code, 200, '... then PUT /users/me/password works') or diag($res->content);
}

done_testing();
