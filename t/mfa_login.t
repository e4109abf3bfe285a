# Sign-in with MFA (issue 6): POST /auth/login answers 401 mfa_required with an
# mfa_token (no session yet), POST /auth/login/mfa {mfa_token, code | recovery_code}
# signs in. A TOTP code is accepted once (replays refused on any endpoint, audited
# totp_replay); the window is AuthsvcTOTPWindow steps either side (vhosts mfa: 1,
# mfawin0: 0, mfawin2: 2); recovery codes are single use; sessions say how they were
# authenticated. Codes come from oathtool.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $TOKEN = qr/^[A-Za-z0-9_-]{43}$/;


sub session_count { scalar @{ session_rows($_[0]) } }

# The current session of a client as GET /users/me/sessions lists it.
sub current_session {
    my ($c) = @_;
    my $b = json_body($c->get('/users/me/sessions')) || {};
    my ($s) = grep { $_->{current} } @{ $b->{sessions} || [] };
    return $s || {};
}


# Let the next code of any step be accepted again (as if no code had been used yet):
# the window edges need steps before the one of the confirming code.
sub forget_steps {
    my ($a) = @_;
    db_do('UPDATE users SET totp_last_step = 0 WHERE id = ' . sql_str($a->{u}{id}));
    $a->{last_step} = undef;
}

# ---- step one ---------------------------------------------------------------------------------

my $a = mfa_account(username => unique_username('mfl'));
my $uid = $a->{u}{id};

{
    my $n0 = session_count($uid);
    my ($c, $res, $token) = mfa_start($a);
    my $p = problem_ok($res, 401, 'mfa_required', 'the right password of an MFA account');
    like($token // '', $TOKEN, '... mfa_token: 43 characters of base64url');
    is($p->{expires_in}, 300, '... expires_in 300');
    is_deeply($p->{methods}, ['totp', 'recovery_code'], '... methods ["totp","recovery_code"]');
    ok(!defined $res->header('Set-Cookie'), '... no Set-Cookie');
    is(session_count($uid), $n0, '... no session row');
    is(scalar(events_in($res, 'mfa_challenge')), 1, '... audit: mfa_challenge');
    my $rows = db_rows('SELECT * FROM mfa_challenges WHERE user_id = ' . sql_str($uid));
    ok(scalar @$rows >= 1, '... an mfa_challenges row');
    ok(!grep({ grep { defined && index($_, $token // 'none') >= 0 } values %$_ } @$rows),
       '... the token is not stored in clear');
    ok(!grep({ abs(($_->{expires_at} // 0) - ($_->{created_at} // 0) - 300) > 1 } @$rows),
       '... expires_at = created_at + 300');
    problem_ok($c->get('/users/me'), 401, 'unauthenticated', '... the client is not signed in');

    $res = client(vhost => 'mfa')->login($a->{f}{email}, $a->{f}{password} . 'x');
    my $q = problem_ok($res, 401, 'invalid_credentials', 'a wrong password of an MFA account');
    ok(!exists $q->{mfa_token}, '... no mfa_token');
    $res = client(vhost => 'mfa')->login(uc $a->{f}{username}, $a->{f}{password});
    problem_ok($res, 401, 'mfa_required', 'the right password by username');
}

# ---- step two ----------------------------------------------------------------------------------

my ($c, $signed);
{
    my $n0 = session_count($uid);
    my ($cl, $r1, $token) = mfa_start($a);
    $c = $cl;
    my $res = $c->post('/auth/login/mfa', {mfa_token => $token, code => wrong_code($a)});
    problem_ok($res, 401, 'invalid_mfa_code', 'a wrong code');
    ok(!defined $res->header('Set-Cookie'), '... no cookie');
    my ($fail) = events_in($res, 'mfa_failure');
    is((audit_detail($fail) || {})->{reason}, 'bad_code', '... audit: mfa_failure {"reason":"bad_code"}');
    is(session_count($uid), $n0, '... no session');

    my $code = mfa_code($a);
    my $typed = substr($code, 0, 3) . ' ' . substr($code, 3);
    $res = $c->post('/auth/login/mfa', {mfa_token => $token, code => $typed});
    is($res->code, 200, 'then the right code (typed "123 456") with the same mfa_token: 200')
        or diag($res->content);
    no_store_ok($res, '...');
    my $b = json_body($res) || {};
    is_deeply([sort keys %$b], [qw(session user)], '... {user, session} like a sign-in');
    is($b->{user}{id}, $uid, '... the account');
    bool_is($b->{user}{mfa_enabled}, 1, '... user.mfa_enabled') if exists $b->{user}{mfa_enabled};
    my @sc = grep { /^authsvc=[A-Za-z0-9_-]{43};/ } $res->header('Set-Cookie');
    is(scalar @sc, 1, '... Set-Cookie with a session token');
    is($c->get('/users/me')->code, 200, '... the cookie works');
    is(session_count($uid), $n0 + 1, '... one new session row');
    my ($tok) = ($sc[0] // '') =~ /^authsvc=([^;]+)/;
    my $srow = db_row('SELECT * FROM sessions WHERE token_hash = ' . sql_str(sha256_hex($tok // '')));
    is(join(' ', sort split ' ', $srow->{amr} // ''), 'otp pwd', '... sessions.amr "pwd otp"');
    ok(defined $srow->{mfa_at} && abs($srow->{mfa_at} - time) <= 5, '... sessions.mfa_at is now');
    ok(abs(($srow->{auth_at} // 0) - time) <= 5, '... sessions.auth_at is now');
    my ($ok) = events_in($res, 'login_success');
    is_deeply(audit_detail($ok), {methods => ['pwd', 'otp']}, '... audit: login_success {"methods":["pwd","otp"]}');

    my $s = current_session($c);
    is_deeply($s->{methods}, ['pwd', 'otp'], 'GET /users/me/sessions: methods ["pwd","otp"]');
    bool_is($s->{mfa}, 1, '... mfa');
    iso_time_ok($s->{authenticated_at}, '... authenticated_at');

    problem_ok(client(vhost => 'mfa')->post('/auth/login/mfa', {mfa_token => $token, code => wrong_code($a)}),
               400, 'token_invalid', 'the mfa_token once more, after it succeeded');

    # The same code again, with a new mfa_token: a replay.
    my ($c2, $r2, $t2) = mfa_start($a);
    $res = $c2->post('/auth/login/mfa', {mfa_token => $t2, code => $code});
    problem_ok($res, 401, 'invalid_mfa_code', 'the code that was just accepted, again');
    ok(!defined $res->header('Set-Cookie'), '... no cookie');
    is(scalar(events_in($res, 'totp_replay')), 1, '... audit: totp_replay');
    my ($rf) = events_in($res, 'mfa_failure');
    is((audit_detail($rf) || {})->{reason}, 'replay', '... audit: mfa_failure {"reason":"replay"}');
    # ... and on another endpoint.
    problem_ok($c->post('/auth/reauthenticate', {password => $a->{f}{password}, code => $code}), 401,
               'invalid_mfa_code', '... at /auth/reauthenticate too');
    is(db_value('SELECT totp_last_step AS s FROM users WHERE id = ' . sql_str($uid)), $a->{last_step},
       'users.totp_last_step is the step of the last accepted code');
}

# ---- the mfa_token -----------------------------------------------------------------------------------

{
    my $cl = client(vhost => 'mfa');
    problem_ok($cl->post('/auth/login/mfa', {mfa_token => random_token(), code => '123456'}), 400,
               'token_invalid', 'an unknown mfa_token');
    for my $case (['42 characters', substr(random_token(), 0, 42)], ['an empty string', ''],
                  ['standard base64', substr(random_token(), 0, 41) . '+/'], ['10000 characters', 'A' x 10000]) {
        my ($what, $v) = @$case;
        problem_ok($cl->post('/auth/login/mfa', {mfa_token => $v, code => '123456'}), 400, 'token_invalid',
                   "an mfa_token of $what");
    }
    my $p = problem_ok($cl->post('/auth/login/mfa', {code => '123456'}), 422, 'validation_failed',
                       'no mfa_token');
    fields_ok($p, {mfa_token => 'required'}, 'no mfa_token');
    wrong_type_ok($cl->post('/auth/login/mfa', {mfa_token => 42, code => '123456'}), 'mfa_token',
                  'mfa_token as a number');

    # Expired.
    my ($c1, $r1, $t1) = mfa_start($a);
    db_do('UPDATE mfa_challenges SET expires_at = ' . (time - 1) . ' WHERE user_id = ' . sql_str($uid)
          . ' AND used_at IS NULL');
    problem_ok($c1->post('/auth/login/mfa', {mfa_token => $t1, recovery_code => $a->{recovery}[0]}), 400,
               'token_invalid', 'an expired mfa_token');

    # Neither or both kinds of code.
    my ($c2, $r2, $t2) = mfa_start($a);
    # (the fields as docs/api.md names them)
    my $q = problem_ok($c2->post('/auth/login/mfa', {mfa_token => $t2}), 422, 'validation_failed', 'neither code');
    fields_ok($q, {code => 'required'}, 'neither code');
    $q = problem_ok($c2->post('/auth/login/mfa', {mfa_token => $t2, code => undef, recovery_code => undef}), 422,
                    'validation_failed', 'both codes null');
    fields_ok($q, {code => 'required'}, 'both codes null');
    $q = problem_ok($c2->post('/auth/login/mfa', {mfa_token => $t2, code => '123456',
                                                   recovery_code => $a->{recovery}[0]}),
                    422, 'validation_failed', 'both a code and a recovery code');
    fields_ok($q, {recovery_code => 'conflict'}, 'both a code and a recovery code');

    # Bound to its account: another account's good code does not open it.
    my $b = mfa_account();
    problem_ok($c2->post('/auth/login/mfa', {mfa_token => $t2, code => mfa_code($b)}), 401, 'invalid_mfa_code',
               'the mfa_token of one account with the code of another');
    problem_ok($c2->post('/auth/login/mfa', {mfa_token => $t2, recovery_code => $b->{recovery}[0]}), 401,
               'invalid_mfa_code', '... or its recovery code');
    is($c2->get('/users/me')->code, 401, '... not signed in');

    # Bad input: never a 500, never a session. (Another account: malformed codes may
    # count as wrong ones, and ten lock an account.)
    my $x = mfa_account();
    my ($c3, $r3, $t3) = mfa_start($x);
    for my $case (['7 digits', '1234567'], ['5 digits', '12345'], ['letters', 'abcdef'],
                  ['a huge string', '9' x 100_000], ['an array', ['123456']], ['a number', 123456],
                  ['an object', {}], ['true', JSON::PP::true()], ['a NUL inside', "123\x{0}456"],
                  ['non-ASCII digits', "\x{ff11}\x{ff12}\x{ff13}\x{ff14}\x{ff15}\x{ff16}"]) {
        my ($what, $v) = @$case;
        client_error_ok($c3->post('/auth/login/mfa', {mfa_token => $t3, code => $v}), "step two with code as $what");
    }
    for my $case (['a number', 1234], ['too short', 'abcd-efgh'], ['a huge string', 'a' x 100_000],
                  ['letters outside base32', 'abcd-efgh-ijkl-mno1']) {
        my ($what, $v) = @$case;
        client_error_ok($c3->post('/auth/login/mfa', {mfa_token => $t3, recovery_code => $v}),
                        "step two with recovery_code as $what");
    }
    is($c3->get('/users/me')->code, 401, '... not signed in after all that');
    problem_ok($c3->post('/auth/login/mfa', undef, body => '{"mfa_token":'), 400, 'invalid_json',
               'step two with broken JSON');
    problem_ok($c3->post('/auth/login/mfa', undef, body => '{}', ctype => 'text/plain'), 415,
               'unsupported_media_type', 'step two as text/plain');
    client_error_ok($c3->post('/auth/login/mfa', undef, body => 'not json'), 'step two with a body that is not JSON');
    # After all that the mfa_token still works.
    my $res = $c2->post('/auth/login/mfa', {mfa_token => $t2, code => mfa_code($a)});
    is($res->code, 200, 'the mfa_token still works after the refusals') or diag($res->content);
}

# ---- recovery codes -----------------------------------------------------------------------------------

{
    my $r = mfa_account();
    my $ruid = $r->{u}{id};
    my $code = $r->{recovery}[1];
    my ($c1, $res) = mfa_login($r, recovery_code => $code);
    is($res->code, 200, 'sign-in with a recovery code: 200');
    my ($used) = events_in($res, 'recovery_code_used');
    ok($used, '... audit: recovery_code_used');
    is((audit_detail($used) || {})->{remaining}, 9, '... with remaining 9');
    my ($ok) = events_in($res, 'login_success');
    is_deeply(audit_detail($ok), {methods => ['pwd', 'rc']}, '... login_success {"methods":["pwd","rc"]}');
    my $s = current_session($c1);
    is_deeply($s->{methods}, ['pwd', 'rc'], '... the session\'s methods ["pwd","rc"]');
    bool_is($s->{mfa}, 1, '... mfa');
    my $hash = sha256_hex($code =~ s/-//gr);
    my $row = db_row('SELECT * FROM mfa_recovery_codes WHERE user_id = ' . sql_str($ruid)
                     . ' AND code_hash = ' . sql_str($hash));
    ok($row && defined $row->{used_at}, '... its row is marked used');
    is((json_body($c1->get('/users/me/mfa')) || {})->{recovery_codes_remaining}, 9, '... 9 remaining');

    my ($c2, $r2, $t2) = mfa_start($r);
    $res = $c2->post('/auth/login/mfa', {mfa_token => $t2, recovery_code => $code});
    problem_ok($res, 401, 'invalid_mfa_code', 'the same recovery code again');
    $res = $c2->post('/auth/login/mfa', {mfa_token => $t2, recovery_code => uc($r->{recovery}[2] =~ s/-//gr)});
    is($res->code, 200, 'a recovery code in upper case without dashes: 200') or diag($res->content);
    my ($c3, $r3, $t3) = mfa_start($r);
    my $spaced = join ' ', split /-/, $r->{recovery}[3];
    $res = $c3->post('/auth/login/mfa', {mfa_token => $t3, recovery_code => $spaced});
    is($res->code, 200, 'a recovery code with spaces for dashes: 200') or diag($res->content);
    is((json_body($c3->get('/users/me/mfa')) || {})->{recovery_codes_remaining}, 7, '... 7 remaining');
}

# ---- at the same moment: a code, a recovery code and an mfa_token each work once ----------

{
    my $r = mfa_account();
    my @tokens = map { (mfa_start($r))[2] } 1 .. 4;
    my $code = mfa_code($r);
    my @codes = parallel_posts('mfa', '/auth/login/mfa', [map { {mfa_token => $_, code => $code} } @tokens]);
    is(scalar(grep { $_ eq '200' } @codes), 1, 'one TOTP code sent with 4 mfa_tokens at once: one sign-in')
        or diag("@codes");
    is(scalar(grep { $_ eq '401' } @codes), 3, '... the others 401') or diag("@codes");

    my $n0 = scalar @{ session_rows($r->{u}{id}) };
    my @t2 = map { (mfa_start($r))[2] } 1 .. 4;
    @codes = parallel_posts('mfa', '/auth/login/mfa',
                            [map { {mfa_token => $_, recovery_code => $r->{recovery}[5]} } @t2]);
    is(scalar(grep { $_ eq '200' } @codes), 1, 'one recovery code sent with 4 mfa_tokens at once: one sign-in')
        or diag("@codes");
    my ($c3, $r3, $t3) = mfa_start($r);
    @codes = parallel_posts('mfa', '/auth/login/mfa',
                            [map { {mfa_token => $t3, recovery_code => $r->{recovery}[$_]} } 6 .. 9]);
    is(scalar(grep { $_ eq '200' } @codes), 1, 'one mfa_token sent with 4 recovery codes at once: one sign-in')
        or diag("@codes");
    is(scalar(grep { $_ eq '400' } @codes), 3, '... the others 400 token_invalid') or diag("@codes");
    is(scalar @{ session_rows($r->{u}{id}) }, $n0 + 2, '... two sessions in all');
}

# ---- a password reset leaves MFA on ----------------------------------------------------------------

{
    my $r = mfa_account();
    is(client(vhost => 'mfa')->post('/auth/forgot-password', {email => $r->{f}{email}})->code, 202, 'forgot-password');
    my $m = mail_ok('... the reset mail', to => $r->{f}{email}, template => 'reset_password');
    my $new = new_password();
    is(client(vhost => 'mfa')->post('/auth/reset-password', {token => $m->{token}, password => $new})->code, 200,
       '... reset-password');
    $r->{f}{password} = $new;
    my ($cl, $res, $token) = mfa_start($r);
    problem_ok($res, 401, 'mfa_required', 'signing in with the new password still asks for a code');
    ok(!defined $res->header('Set-Cookie'), '... no cookie');
    is($cl->post('/auth/login/mfa', {mfa_token => $token, code => mfa_code($r)})->code, 200, '... and takes one');
}

# ---- a server without the key ---------------------------------------------------------------------

{
    my $r = mfa_account();
    my ($cl, $res, $token) = mfa_start($r, vhost => 'default');
    problem_ok($res, 401, 'mfa_required', 'an MFA account on the server without a key: step one');
    $res = $cl->post('/auth/login/mfa', {mfa_token => $token, code => mfa_code($r)});
    is($res->code, 503, '... an authenticator code: 503') or diag($res->content);
    is((json_body($res) || {})->{code}, 'mfa_unavailable', '... mfa_unavailable');
    ok(!defined $res->header('Set-Cookie'), '... no cookie');
    $res = $cl->post('/auth/login/mfa', {mfa_token => $token, recovery_code => $r->{recovery}[0]});
    is($res->code, 200, '... a recovery code still works (docs/api.md)') or diag($res->content);
}

# ---- the window: AuthsvcTOTPWindow ------------------------------------------------------------------
# Each accepted code makes the earlier steps replays: a fresh account for each edge.

sub second_step {
    my ($acct, $offset, $vhost) = @_;
    forget_steps($acct);
    my ($cl, $r1, $t) = mfa_start($acct, vhost => $vhost);
    return $cl->post('/auth/login/mfa', {mfa_token => $t, code => totp_code($acct->{secret}, $offset)});
}

{
    my $w = mfa_account();
    is(second_step($w, -1, 'mfa')->code, 200, 'window 1 (default): the code of the step before: 200');
    $w = mfa_account();
    is(second_step($w, 1, 'mfa')->code, 200, 'window 1: the code of the step after: 200');
    $w = mfa_account();
    problem_ok(second_step($w, -2, 'mfa'), 401, 'invalid_mfa_code', 'window 1: two steps before');
    problem_ok(second_step($w, 2, 'mfa'), 401, 'invalid_mfa_code', 'window 1: two steps after');
    is(second_step($w, 0, 'mfa')->code, 200, '... the current code still works');

    $w = mfa_account(vhost => 'mfawin0');
    problem_ok(second_step($w, -1, 'mfawin0'), 401, 'invalid_mfa_code', 'AuthsvcTOTPWindow 0: the step before');
    problem_ok(second_step($w, 1, 'mfawin0'), 401, 'invalid_mfa_code', '... the step after');
    is(second_step($w, 0, 'mfawin0')->code, 200, '... the current step: 200');

    $w = mfa_account(vhost => 'mfawin2');
    is(second_step($w, -2, 'mfawin2')->code, 200, 'AuthsvcTOTPWindow 2: two steps before: 200');
    $w = mfa_account(vhost => 'mfawin2');
    is(second_step($w, 2, 'mfawin2')->code, 200, '... two steps after: 200');
    problem_ok(second_step($w, 3, 'mfawin2'), 401, 'invalid_mfa_code', '... three steps after');
}

# ---- a later step makes earlier codes replays ------------------------------------------------------

{
    my $w = mfa_account();
    forget_steps($w);
    is(second_step($w, 1, 'mfa')->code, 200, 'the code of the next step');
    my ($cl, $r1, $t) = mfa_start($w);
    my $res = $cl->post('/auth/login/mfa', {mfa_token => $t, code => totp_code($w->{secret}, 0)});
    problem_ok($res, 401, 'invalid_mfa_code', '... then the current one (an earlier step) is refused');
    is(scalar(events_in($res, 'totp_replay')), 1, '... audited as totp_replay');
}

done_testing();
