# Sign-in with a code sent by mail (issue 11): POST /auth/email-code (202 whoever
# asks; a code mailed to live, verified accounts only) and POST /auth/email-code/verify
# (the code together with the code_token of its request: a session, or mfa_required).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;
use URI::Escape ();

my $V = 'emailcode';

sub ask {
    my ($c, $email) = @_;
    return $c->post('/auth/email-code', {email => $email});
}

sub verify {
    my ($c, %b) = @_;
    return $c->post('/auth/email-code/verify', \%b);
}

# The code of the next email_code mail to $email ('' when none arrives).
sub code_mail {
    my ($name, $email, $digits) = @_;
    my $m = mail_ok($name, to => $email, template => 'email_code');
    my ($code) = ($m->{text} // '') =~ /^[ \t]+([0-9]+)[ \t]*$/m;
    like($code // '', qr/^[0-9]{$digits}$/, "$name: a $digits-digit code");
    unlike($m->{html} // '', qr/code_token|$code\d/, "$name: nothing but the code") if $code;
    return $code // '';
}

sub bad {
    my ($res, $want, $name) = @_;
    fields_ok(problem_ok($res, 422, 'validation_failed', $name), $want, $name);
}

# A code other than $code of the same length.
sub other { my ($code) = @_; return sprintf '%0*d', length $code, ($code + 1) % 10**length $code }

sub accepted_ok {
    my ($res, $name) = @_;
    is($res->code, 202, "$name: 202") or diag($res->content);
    my $b = eval { json_body($res) } || {};
    like($b->{code_token} // '', qr/^[A-Za-z0-9_-]{43}$/, "$name: a code_token");
    ok(($b->{expires_in} // 0) > 0 && $b->{expires_in} <= 600,
       "$name: expires_in, at most 10 minutes");
    my ($sc) = grep { /^[\w-]+-code=/ } $res->header('Set-Cookie');
    like($sc // '', qr/HttpOnly/i, "$name: the code_token cookie is HttpOnly");
    return $b->{code_token} // '';
}

# ---- off: like no endpoint ------------------------------------------------------------

{
    my $c = client(vhost => 'emailoff');
    problem_ok(ask($c, unique_email('off')), 404, 'not_found', 'off: request');
    problem_ok(verify($c, email => unique_email('off'), code => '123456'), 404, 'not_found',
               'off: verify');
    problem_ok(ask(client(), unique_email('off')), 404, 'not_found', 'default vhost: off');
}

# ---- bad input --------------------------------------------------------------------------

{
    my $c = client(vhost => $V);
    bad(ask($c, undef), {email => 'required'}, 'request: email null');
    bad($c->post('/auth/email-code', {}), {email => 'required'}, 'request: no email');
    bad(ask($c, 'not-an-address'), {email => 'invalid_email'}, 'request: bad email');
    problem_ok($c->post('/auth/email-code', undef, body => '{', ctype => 'application/json'),
               400, 'invalid_json', 'request: broken JSON');
    bad(verify($c, code => '123456'), {email => 'required'}, 'verify: no email');
    bad(verify($c, email => 'a@example.org'), {code => 'required'}, 'verify: no code');
    bad(verify($c, email => 'a@example.org', code => '12a456'), {code => 'invalid_code'},
              'verify: letters');
    bad(verify($c, email => 'a@example.org', code => '12345'), {code => 'invalid_code'},
              'verify: too short');
    bad(verify($c, email => 'a@example.org', code => '123456789'),
              {code => 'invalid_code'}, 'verify: too long');
    bad(verify($c, email => 'a@example.org', code => '123456', code_token => undef),
              {code_token => 'wrong_type'}, 'verify: null code_token');
    bad(verify($c, email => 'a@example.org', code => 123456), {code => 'wrong_type'},
              'verify: a number');
}

# ---- the same answer for everybody ----------------------------------------------------

{
    my ($c1, $unverified) = AuthsvcTest::registered(vhost => $V);
    my ($c2, $disabled) = AuthsvcTest::registered(vhost => $V, verified => 1);
    db_do("UPDATE users SET status = 'disabled' WHERE email = " . sql_str($disabled->{email}));
    my $unknown = unique_email('nobody');
    my ($c3, $known) = AuthsvcTest::registered(vhost => $V, verified => 1);
    my %t;
    for my $case ([unknown => $unknown], [unverified => $unverified->{email}],
                  [disabled => $disabled->{email}], [known => $known->{email}]) {
        $t{ $case->[0] } = accepted_ok(ask(client(vhost => $V), $case->[1]), $case->[0]);
    }
    code_mail('known', $known->{email}, 6);
    # The known address's mail came after the others were asked for (delivered in order).
    no_mail_ok("unknown $_", to => $_->[1], template => 'email_code')
        for [unknown => $unknown], [unverified => $unverified->{email}],
            [disabled => $disabled->{email}];
    is(scalar(audit_rows('event = ' . sql_str('email_code_requested') . ' AND login IN ('
                         . join(',', map { sql_str($_) } $unknown, $unverified->{email},
                                $disabled->{email}) . ')')->@*),
       0, 'no audit row for the others');
    my $uid = user_row($known->{email})->{id};
    is(scalar @{ audit_events($uid, 'email_code_requested') }, 1, 'known: audited');
    my $row = db_row('SELECT * FROM email_codes WHERE user_id = ' . sql_str($uid));
    is($row->{token_hash}, sha256_hex($t{known}), 'the code_token is stored hashed');
    like($row->{code_hash}, qr/^[0-9a-f]{64}$/, 'the code is stored hashed');
    is(db_value('SELECT COUNT(*) FROM email_codes WHERE user_id IN (SELECT id FROM users WHERE '
                . 'email IN (' . join(',', map { sql_str($_) } $unverified->{email},
                                      $disabled->{email}) . '))'),
       0, 'no code for the unverified and the disabled account');
}

# ---- sign-in ------------------------------------------------------------------------------

{
    my ($reg, $f) = AuthsvcTest::registered(vhost => $V, verified => 1);
    my $c = client(vhost => $V);
    my $token = accepted_ok(ask($c, $f->{email}), 'ask');
    my $code = code_mail('ask', $f->{email}, 6);
    my $uid = user_row($f->{email})->{id};
    my $row = db_row('SELECT * FROM email_codes WHERE user_id = ' . sql_str($uid));
    isnt($row->{code_hash}, sha256_hex($code), 'not the bare SHA-256 of the code');

    my $res = verify(client(vhost => $V), email => $f->{email}, code => $code);
    problem_ok($res, 401, 'invalid_credentials', 'the code without its code_token');
    $res = verify(client(vhost => $V), email => $f->{email}, code => $code,
                  code_token => random_token());
    problem_ok($res, 401, 'invalid_credentials', 'the code with another code_token');
    $res = verify($c, email => $f->{email}, code => other($code), code_token => $token);
    problem_ok($res, 401, 'invalid_credentials', 'a wrong code');
    my ($fail) = events_in($res, 'login_failure');
    is(audit_detail($fail)->{reason}, 'bad_code', 'a wrong code: audited');
    $res = verify($c, email => unique_email('x'), code => $code, code_token => $token);
    problem_ok($res, 401, 'invalid_credentials', 'another address');

    $res = verify($c, email => uc $f->{email}, code => $code, code_token => $token);
    is($res->code, 200, 'the right code: 200') or diag($res->content);
    my $b = json_body($res);
    is($b->{user}{email}, $f->{email}, 'signed in as the account');
    ok($b->{access_token}, 'tokens for API clients, as a password sign-in');
    ok($c->jar->{authsvc}, 'the session cookie');
    ok(!exists $c->jar->{'authsvc-code'}, 'the code_token cookie is cleared');
    is($c->get('/users/me')->code, 200, 'the session works');
    my ($ok) = events_in($res, 'login_success');
    is_deeply(audit_detail($ok)->{methods}, ['email'], 'login_success: method email');
    is(db_value('SELECT amr FROM sessions WHERE user_id = ' . sql_str($uid)
                . ' ORDER BY created_at DESC LIMIT 1'), 'email', 'the session amr');

    problem_ok(verify(client(vhost => $V), email => $f->{email}, code => $code,
                      code_token => $token), 401, 'invalid_credentials', 'used again');
}

# ---- the cookie carries the code_token; a new request replaces the older code ------------

{
    my ($reg, $f) = AuthsvcTest::registered(vhost => $V, verified => 1);
    my $c = client(vhost => $V);
    my $t1 = accepted_ok(ask($c, $f->{email}), 'first');
    my $code1 = code_mail('first', $f->{email}, 6);
    my $c2 = client(vhost => $V);
    my $t2 = accepted_ok(ask($c2, $f->{email}), 'second');
    my $code2 = code_mail('second', $f->{email}, 6);
    problem_ok(verify($c, email => $f->{email}, code => $code1), 401, 'invalid_credentials',
               'the older code is dead');
    my $res = verify($c2, email => $f->{email}, code => $code2);
    is($res->code, 200, 'the newer one works with the cookie alone') or diag($res->content);
}

# ---- a code survives 5 wrong tries, no more ------------------------------------------------

{
    my ($reg, $f) = AuthsvcTest::registered(vhost => $V, verified => 1);
    my $c = client(vhost => $V);
    my $t = accepted_ok(ask($c, $f->{email}), 'tries');
    my $code = code_mail('tries', $f->{email}, 6);
    problem_ok(verify($c, email => $f->{email}, code => other($code)), 401,
               'invalid_credentials', "wrong try $_") for 1 .. 5;
    problem_ok(verify($c, email => $f->{email}, code => $code), 401, 'invalid_credentials',
               'the right code after 5 wrong ones');
}

# ---- expiry; length ----------------------------------------------------------------------------

{
    my ($reg, $f) = AuthsvcTest::registered(vhost => 'emailcode8', verified => 1);
    my $c = client(vhost => 'emailcode8');
    my $t = accepted_ok(ask($c, $f->{email}), 'short-lived');
    my $code = code_mail('short-lived', $f->{email}, 8);
    sleep 3;
    problem_ok(verify($c, email => $f->{email}, code => $code), 401, 'invalid_credentials',
               'expired');
}

# ---- lockout: wrong codes count like wrong passwords ---------------------------------------

{
    my ($reg, $f) = AuthsvcTest::registered(vhost => 'emaillock', verified => 1);
    my $c = client(vhost => 'emaillock');
    accepted_ok(ask($c, $f->{email}), 'lock');
    my $code = code_mail('lock', $f->{email}, 6);
    problem_ok(verify($c, email => $f->{email}, code => other($code)), 401,
               'invalid_credentials', "lock: wrong try $_") for 1 .. 3;
    my $uid = user_row($f->{email})->{id};
    is(scalar @{ audit_events($uid, 'account_locked') }, 1, 'the account is locked');
    problem_ok(verify($c, email => $f->{email}, code => $code), 423, 'account_locked',
               'the right code on a locked account');
    problem_ok($reg->login($f->{email}, $f->{password}), 423, 'account_locked',
               'the password too');
}

# ---- an account with a second factor; a disabled account ----------------------------------------

{
    my $a = mfa_account(vhost => $V, verified => 1);
    my $c = client(vhost => $V);
    accepted_ok(ask($c, $a->{f}{email}), 'mfa');
    my $code = code_mail('mfa', $a->{f}{email}, 6);
    my $res = verify($c, email => $a->{f}{email}, code => $code);
    problem_ok($res, 401, 'mfa_required', 'MFA account: mfa_required');
    my $p = json_body($res);
    ok($p->{mfa_token}, 'an mfa_token');
    ok(!$c->jar->{authsvc}, 'no session yet');
    problem_ok(verify($c, email => $a->{f}{email}, code => $code), 401, 'invalid_credentials',
               'the code is used up by the first step');
    # (The account's set-up signed in with its password in the same second, maybe:
    # the new session is the one that was not there before, not the newest.)
    my $sessions = sub {
        return { map { $_->{id} => $_->{amr} } @{ db_rows(
            'SELECT id, amr FROM sessions WHERE user_id = ' . sql_str($a->{u}{id})) } };
    };
    my $old = $sessions->();
    $res = $c->post('/auth/login/mfa', {mfa_token => $p->{mfa_token}, code => mfa_code($a)});
    is($res->code, 200, 'the second step signs in') or diag($res->content);
    my $now = $sessions->();
    is_deeply([map { $now->{$_} } grep { !exists $old->{$_} } sort keys %$now], ['email otp'],
              'one new session, naming the mailed code and the app code, not a password');

    my ($reg, $f) = AuthsvcTest::registered(vhost => $V, verified => 1);
    $c = client(vhost => $V);
    accepted_ok(ask($c, $f->{email}), 'disabled later');
    $code = code_mail('disabled later', $f->{email}, 6);
    db_do("UPDATE users SET status = 'disabled' WHERE email = " . sql_str($f->{email}));
    problem_ok(verify($c, email => $f->{email}, code => $code), 401, 'invalid_credentials',
               'disabled after the code was sent');
}

# ---- the pages --------------------------------------------------------------------------------

{
    my $html = page_answer_ok(client(vhost => $V)->page_get('/login'), 200, 'login-form', 'login page');
    like($html, qr{id="email-code-link" href="/api/email-code"}, 'login page: the link to the code');
    {
        my $rt = '/app/?a=1&b=2';
        my $h = client(vhost => $V)->page_get('/login?return_to=' . URI::Escape::uri_escape($rt))->content;
        my ($q) = $h =~ /id="email-code-link" href="\/api\/email-code\?return_to=([^"]*)"/;
        ok(defined $q && $q !~ /[&#?]/, 'login page: return_to in the link is one escaped value')
            or diag($q // $h);
        is(URI::Escape::uri_unescape($q // ''), $rt, '... which is the whole return_to');
    }
    $html = page_answer_ok(client(vhost => 'emailoff')->page_get('/login'), 200, 'login-form',
                           'login page, off');
    unlike($html, qr{email-code}, 'login page, off: no link');
    message_page_ok(client(vhost => 'emailoff')->page_get('/email-code'), 404, 'not_found',
                    'GET /email-code, off');

    my ($reg, $f) = AuthsvcTest::registered(vhost => $V, verified => 1);
    my $b = client(vhost => $V);
    page_answer_ok($b->page_get('/email-code?return_to=/private/x'), 200, 'email-code-form',
                   'GET /email-code');
    my ($res) = $b->page_submit('/email-code?return_to=/private/x', {email => 'nope'},
                                form => 'email-code-form');
    page_failed_ok($res, 422, 'email-code-form', ['email'], 'POST /email-code, a bad address');
    ($res) = $b->page_submit('/email-code?return_to=/private/x', {email => $f->{email}},
                             form => 'email-code-form');
    $html = page_answer_ok($res, 200, 'email-code-verify-form', 'POST /email-code');
    ok($b->jar->{'authsvc-code'}, 'the code_token cookie');
    my $code = code_mail('page', $f->{email}, 6);
    my $form = form_fields($html, 'email-code-verify-form') || {};
    is($form->{email}, $f->{email}, 'the code form carries the address');
    is($form->{return_to}, '/private/x', '... and return_to');

    $res = $b->page_post('/email-code/verify', {%$form, code => other($code)});
    page_failed_ok($res, 401, 'email-code-verify-form', [], 'a wrong code');
    $res = $b->page_post('/email-code/verify', {%$form, code => $code});
    redirect_ok($b, $res, '/private/x', 'the right code');
    ok(session_set_cookie($res), 'a session cookie');
    ok(!exists $b->jar->{'authsvc-code'}, 'the code_token cookie is gone');
    is($b->get('/users/me')->code, 200, 'signed in');

    # Without the form's CSRF token: refused.
    my $x = client(vhost => $V);
    message_page_ok($x->page_post('/email-code', {email => $f->{email}}), 403, 'csrf_failed',
                    'POST /email-code without a CSRF token');

    # An account with a second factor goes on to /mfa.
    my $a = mfa_account(vhost => $V, verified => 1);
    my $m = client(vhost => $V);
    ($res) = $m->page_submit('/email-code', {email => $a->{f}{email}}, form => 'email-code-form');
    $html = page_answer_ok($res, 200, 'email-code-verify-form', 'MFA account: POST /email-code');
    $code = code_mail('page, MFA', $a->{f}{email}, 6);
    $form = form_fields($html, 'email-code-verify-form') || {};
    $res = $m->page_post('/email-code/verify', {%$form, code => $code});
    redirect_ok($m, $res, '/api/mfa', 'MFA account: on to the second factor');
    ok(!session_set_cookie($res), 'MFA account: no session yet');
}

done_testing();
