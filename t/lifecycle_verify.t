# Email verification: registration mails a link, POST /auth/verify-email uses it,
# POST /auth/verify-email/resend mails a new one, AuthsvcRequireVerifiedEmail (vhost
# verified) keeps unverified accounts out. Mail lands in state/mail/main.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $URL = 'https://accounts.example.test/api';
my $mark = error_log_mark();
my @tokens;    # every token mailed here: none may reach the error log

sub token_row {
    my ($token) = @_;
    return db_row('SELECT * FROM tokens WHERE token_hash = ' . sql_str(sha256_hex($token // '')));
}

sub verify_mail {
    my ($name, $email, %o) = @_;
    my $m = mail_ok($name, to => $email, template => 'verify_email', %o);
    push @tokens, $m->{token} if defined $m->{token};
    return $m;
}

my $anon = client();

sub accepted_ok {
    my ($res) = @_;
    is_deeply(json_body($res), {status => 'accepted'}, '... {"status":"accepted"}');
}

# ---- registration mails a link; the link verifies ----------------------------------

{
    my $t0 = time;
    my ($res, $f) = client()->register(first_name => 'Vera');
    is($res->code, 201, 'register: 201');
    my $uid = user_row($f->{email})->{id};
    my $m = verify_mail('register', $f->{email});
    like($m->{token} // '', qr/^[A-Za-z0-9_-]{43}$/, '... the text part has "Code: " and a 43-character token');
    is($m->{link}, "$URL/verify-email?token=" . ($m->{token} // ''),
       '... and the link AuthsvcPublicURL/verify-email?token=TOKEN');
    my $tr = token_row($m->{token});
    ok($tr, '... stored under the SHA-256 of the token');
    is($tr->{purpose}, 'verify_email', '... purpose verify_email');
    is($tr->{user_id}, $uid, '... for the account');
    ok(!defined $tr->{used_at}, '... unused');
    is(($tr->{expires_at} // 0) - ($tr->{created_at} // 0), 24 * 3600,
       '... valid for 24h (AuthsvcVerifyTokenTTL default)');
    ok(!defined user_row($f->{email})->{email_verified_at}, '... the account is not verified yet');

    $res = $anon->post('/auth/verify-email', {token => $m->{token}});
    is($res->code, 200, 'verify-email with the mailed token: 200') or diag($res->content);
    like($res->header('Content-Type') // '', qr{^application/json\b}, '... JSON');
    no_store_ok($res, '...');
    my $b = json_body($res) || {};
    is_deeply([sort keys %$b], ['user'], '... body {user}');
    my $u = $b->{user} || {};
    is_deeply([sort keys %$u],
              [sort qw(id email username first_name last_name email_verified mfa_enabled roles created_at)],
              '... the public user fields');
    is($u->{id}, $uid, '... the account');
    is($u->{email}, lc $f->{email}, '... its email');
    ok(JSON::PP::is_bool($u->{email_verified}) && $u->{email_verified}, '... email_verified true');
    my $row = user_row($f->{email});
    ok(defined $row->{email_verified_at} && $row->{email_verified_at} >= $t0 - 5,
       '... email_verified_at set now');
    ok(defined token_row($m->{token})->{used_at}, '... the token is marked used');

    problem_ok($anon->post('/auth/verify-email', {token => $m->{token}}), 400, 'token_invalid',
               'the same token again');
    is(user_row($f->{email})->{email_verified_at}, $row->{email_verified_at},
       '... verification time unchanged');

    my $c = client();
    is($c->login($f->{email}, $f->{password})->code, 200, 'sign in');
    my $me = json_body($c->get('/users/me')) || {};
    ok($me->{email_verified}, '... /users/me says email_verified');
}

# A session that exists before the address is verified sees the change at once, on
# /users/me and in guards (the main server caches sessions for 30s).
{
    my ($c, $f) = account();
    is($c->get('/users/me')->code, 200, 'a signed-in, unverified account (session looked up)');
    is(guard_code($c, path => '/gf/verified/index.html'), 403,
       '... "Require authsvc verified" refuses it (and caches the session)');
    is($c->get('/gf/any/index.html', abs => 1)->code, 200, '... "Require authsvc" lets it in');
    my $m = verify_mail('its verify mail', $f->{email});
    is($anon->post('/auth/verify-email', {token => $m->{token}})->code, 200,
       '... verified by another client');
    my $me = json_body($c->get('/users/me')) || {};
    ok($me->{email_verified}, '... the existing session\'s /users/me says verified at once');
    is(guard_code($c, path => '/gf/verified/index.html'), 200,
       '... and "Require authsvc verified" lets it in at once');
}

# Verification works through any mount and virtual host of the same database, and needs
# no session (a cookie of another account changes nothing).
{
    my ($res, $f) = client()->register();
    my $m = verify_mail('another account', $f->{email});
    my ($other, $of) = account();
    $res = client(prefix => '/v1/accounts', vhost => 'fresh')
        ->post('/auth/verify-email', {token => $m->{token}}, cookie => $other->cookie_header);
    is($res->code, 200, 'verify-email on another mount and vhost: 200');
    is((json_body($res) || {})->{user}{email}, lc $f->{email},
       '... verifies the token\'s account');
    ok(defined user_row($f->{email})->{email_verified_at}, '... which is verified');
    ok(!defined user_row($of->{email})->{email_verified_at}, '... and not the caller\'s');
}

# ---- bad tokens ------------------------------------------------------------------------

{
    my ($res, $f) = client()->register();
    my $m = verify_mail('an account for bad tokens', $f->{email});
    bad_tokens_ok($anon, '/auth/verify-email', {}, 'verify-email');
    ok(!defined user_row($f->{email})->{email_verified_at}, '... none of them verified anything');
    (my $swapped = $m->{token} // '') =~ tr/a-zA-Z/A-Za-z/;
    problem_ok($anon->post('/auth/verify-email', {token => $swapped}), 400, 'token_invalid',
               'the token with its letters in the other case');
    is($anon->post('/auth/verify-email', {token => $m->{token}})->code, 200,
       'the real one still works after all that');
}

# Single use under a race.
{
    my ($res, $f) = client()->register();
    my $m = verify_mail('an account for the race', $f->{email});
    my @codes = parallel_posts(undef, '/auth/verify-email', [({token => $m->{token}}) x 6]);
    is(scalar(grep { $_ eq '200' } @codes), 1, '6 verifications with one token at once: one 200')
        or diag("@codes");
    is(scalar(grep { $_ eq '400' } @codes), 5, '... the others 400') or diag("@codes");
}

# A reset token is not a verify token (wrong purpose: the same 400).
{
    my ($res, $f) = client()->register();
    my $vm = verify_mail('account for the wrong purpose', $f->{email});
    is($anon->post('/auth/forgot-password', {email => $f->{email}})->code, 202, 'forgot-password');
    my $rm = mail_ok('the reset mail', to => $f->{email}, template => 'reset_password');
    push @tokens, $rm->{token} if defined $rm->{token};
    problem_ok($anon->post('/auth/verify-email', {token => $rm->{token}}), 400, 'token_invalid',
               'a reset token at verify-email');
    ok(!defined user_row($f->{email})->{email_verified_at}, '... does not verify');
}

# Expired (vhost shortttl: AuthsvcVerifyTokenTTL 2s).
{
    my $s = client(vhost => 'shortttl');
    my $t0 = time;
    my ($res, $f) = $s->register();
    is($res->code, 201, 'register on the short-TTL vhost');
    my $m = verify_mail('... its verify mail', $f->{email});
    my $tr = token_row($m->{token}) || {};
    is(($tr->{expires_at} // 0) - ($tr->{created_at} // 0), 2, '... the token lives 2s');
    sleep 1 while time <= ($tr->{expires_at} // $t0 + 2) + 1;
    problem_ok($s->post('/auth/verify-email', {token => $m->{token}}), 400, 'token_invalid',
               'an expired verify token');
    ok(!defined user_row($f->{email})->{email_verified_at}, '... does not verify');
}

# ---- resend ------------------------------------------------------------------------------

{
    problem_ok($anon->post('/auth/verify-email/resend'), 401, 'unauthenticated',
               'resend without a session');
    problem_ok($anon->post('/auth/verify-email/resend', undef, cookie => 'authsvc=' . random_token()),
               401, 'unauthenticated', 'resend with an unknown session');
    my $res = $anon->get('/auth/verify-email/resend');
    problem_ok($res, 405, 'method_not_allowed', 'GET resend');
    problem_ok($anon->get('/auth/verify-email'), 405, 'method_not_allowed', 'GET verify-email');
}

{
    my ($c, $f) = account();
    my $m1 = verify_mail('resend: the registration mail', $f->{email});
    my $res = $c->post('/auth/verify-email/resend');
    is($res->code, 202, 'resend (no body): 202') or diag($res->content);
    no_store_ok($res, '...');
    accepted_ok($res);
    my $m2 = verify_mail('... a new verify mail', $f->{email});
    ok(defined $m2->{token} && ($m1->{token} // '') ne $m2->{token}, '... with a new token');
    $res = $c->post('/auth/verify-email/resend', {});
    is($res->code, 202, 'resend with {}: 202');
    my $m3 = verify_mail('... another one', $f->{email});
    problem_ok($anon->post('/auth/verify-email', {token => $m1->{token}}), 400, 'token_invalid',
               'the first token after a resend');
    problem_ok($anon->post('/auth/verify-email', {token => $m2->{token}}), 400, 'token_invalid',
               'the second token after another resend');
    ok(!defined user_row($f->{email})->{email_verified_at}, '... still unverified');
    is($anon->post('/auth/verify-email', {token => $m3->{token}})->code, 200,
       'the newest token verifies');

    # Verified: 202, and no mail. A reset mail queued after it shows the outbox ran.
    $res = $c->post('/auth/verify-email/resend');
    is($res->code, 202, 'resend when verified: 202');
    accepted_ok($res);
    $anon->post('/auth/forgot-password', {email => $f->{email}});
    my $rm = mail_ok('... a later reset mail', to => $f->{email}, template => 'reset_password');
    push @tokens, $rm->{token} if defined $rm->{token};
    no_mail_ok('resend when verified', to => $f->{email}, template => 'verify_email');
}

# ---- AuthsvcRequireVerifiedEmail On (vhost verified) -----------------------------------

{
    my $v = client(vhost => 'verified');
    my ($res, $f) = $v->register();
    is($res->code, 201, 'verified vhost: register');
    my $uid = user_row($f->{email})->{id};
    my $m = verify_mail('... the verify mail', $f->{email});

    $res = $v->login($f->{email}, $f->{password});
    problem_ok($res, 403, 'verification_required', 'unverified account, right password');
    ok(!defined $res->header('Set-Cookie'), '... no cookie');
    is(db_value('SELECT count(*) AS n FROM sessions WHERE user_id = ' . sql_str($uid)), 0,
       '... no session');
    $res = $v->login($f->{email}, $f->{password} . 'x');
    problem_ok($res, 401, 'invalid_credentials', 'unverified account, wrong password');
    $res = $v->login($f->{email}, 'short');
    problem_ok($res, 401, 'invalid_credentials', 'unverified account, short wrong password');
    is(client()->login($f->{email}, $f->{password})->code, 200,
       'the same account on the main server (not required there): 200');

    # (Whether the 403 mails a fresh link is left open: the registration's still works.)
    is($v->post('/auth/verify-email', {token => $m->{token}})->code, 200,
       'verify with the registration\'s link');
    $res = $v->login($f->{email}, $f->{password});
    is($res->code, 200, 'verified account: 200') or diag($res->content);
    like(scalar($res->header('Set-Cookie')) // '', qr/^authsvc=[A-Za-z0-9_-]{43};/, '... a session');
    problem_ok($v->login($f->{email}, $f->{password} . 'x'), 401, 'invalid_credentials',
               'verified account, wrong password');
}

# ---- no token in the error log -----------------------------------------------------------

{
    my $log = error_log_since($mark);
    my @leaked = grep { defined && index($log, $_) >= 0 } @tokens;
    ok(@tokens >= 8, 'tokens were mailed (' . scalar(@tokens) . ')');
    is(scalar @leaked, 0, 'no mailed token appears in the error log (LogLevel authsvc:debug)');
    my @hashes = grep { index($log, sha256_hex($_)) >= 0 } grep { defined } @tokens;
    is(scalar @hashes, 0, '... nor its SHA-256');
}

done_testing();
