# Issue 7: the guard and the API with "Authorization: Bearer <access token>" (AuthsvcBearer
# On, the default): the token alone signs the request in (no cookie), the identity comes
# from its claims (r->user, AUTHSVC_* for backends, Require authsvc role / verified / mfa
# / fresh N); with a cookie too, the token decides. Other schemes are ignored, and so is
# the header where AuthsvcBearer is Off. A session ended on this server refuses its
# access tokens at once; one ended in the database, within AuthsvcCacheTTL (tokhs: 1s).
# Sections /tg/NAME/ and /nbapi in t/conf/extra.conf.in.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
my $anon = client(vhost => 'tok');

sub bget { my ($t, $path, %o) = @_; bearer_get($anon, $t, $path, %o) }
sub bcode { bget(@_)->code }

# The status of PATH with the token, asked 8 times on fresh connections (several
# server processes, each with its own cache): one status if all agree.
sub bguard {
    my ($t, $path) = @_;
    return guard_code($anon, path => $path // '/private/', no_cookie => 1, headers => [bearer($t)]);
}

sub unauthenticated_ok {
    my ($res, $name) = @_;
    problem_ok($res, 401, 'unauthenticated', $name);
    is($res->header('WWW-Authenticate'), 'Authsvc', "$name: WWW-Authenticate: Authsvc");
}

my $a = token_account(vhost => 'tok', username => unique_username('Tg'), first_name => 'Ada',
                      last_name => 'Lovelace', roles => 'editor');
my $at = $a->{at};

# ---- the token alone ------------------------------------------------------------------------

{
    my $res = bget($at, '/private/');
    is($res->code, 200, 'Bearer, no cookie: /private/ 200');
    like($res->content, qr/authsvc-private-page/, '... the page');
    ok(!defined $res->header('Set-Cookie'), '... no cookie set');

    $res = bget($at, '/tg/any/whoami.shtml');
    like($res->content, qr/^user=\Q$a->{u}{email}\E;type=authsvc;/m,
         'SSI: REMOTE_USER is the email (AuthsvcRemoteUser default), AUTH_TYPE authsvc')
        or diag($res->content);
    $res = bget($at, '/tg/id/whoami.shtml');
    like($res->content, qr/^user=\Q$a->{u}{id}\E;/m, 'AuthsvcRemoteUser id: REMOTE_USER is sub');

    $res = bget($at, '/gb/cgi/env.pl');
    is($res->code, 200, 'a CGI script with Bearer: 200');
    my $env = kv_body($res);
    is($env->{REMOTE_USER}, $a->{u}{email}, 'CGI: REMOTE_USER');
    is($env->{AUTH_TYPE}, 'authsvc', 'CGI: AUTH_TYPE');
    is($env->{AUTHSVC_USER_ID}, $a->{u}{id}, 'CGI: AUTHSVC_USER_ID');
    is($env->{AUTHSVC_EMAIL}, $a->{u}{email}, 'CGI: AUTHSVC_EMAIL');
    is($env->{AUTHSVC_USERNAME}, $a->{f}{username}, 'CGI: AUTHSVC_USERNAME (preferred_username)');
    is($env->{AUTHSVC_NAME}, 'Ada Lovelace', 'CGI: AUTHSVC_NAME');
    is($env->{AUTHSVC_ROLES}, 'editor', 'CGI: AUTHSVC_ROLES');
    ok(index($res->content, $at) < 0, 'CGI: the token is nowhere in what the script sees');
    $env = kv_body(bget($at, '/gb/cgi-username/env.pl'));
    is($env->{REMOTE_USER}, $a->{f}{username}, 'CGI, AuthsvcRemoteUser username: the username');

    # A reverse proxy with AuthsvcPassHeaders On: the identity headers (client copies replaced).
    $res = bget($at, '/gp/headers/env.pl', headers => ['Remote-User' => 'spoofed@example.org',
                                                      'Remote-Groups' => 'admin']);
    is($res->code, 200, 'a reverse proxy with Bearer: 200') or diag($res->content);
    $env = kv_body($res);
    is($env->{HTTP_REMOTE_USER}, $a->{u}{email}, 'proxied: Remote-User (the spoofed copy replaced)');
    is($env->{HTTP_REMOTE_EMAIL}, $a->{u}{email}, 'proxied: Remote-Email');
    is($env->{HTTP_REMOTE_NAME}, 'Ada Lovelace', 'proxied: Remote-Name');
    is($env->{HTTP_REMOTE_GROUPS}, 'editor', 'proxied: Remote-Groups (the token\'s roles)');

    $res = bget($at, '/gf/valid-user/');
    is($res->code, 200, 'AuthType authsvc + Require valid-user with Bearer: 200');

    for my $scheme (qw(bearer BEARER BeArEr)) {
        is($anon->get('/private/', abs => 1, headers => [Authorization => "$scheme $at"])->code, 200,
           "scheme '$scheme' (case-insensitive): 200");
    }
}

# ---- the API with Bearer -------------------------------------------------------------------

{
    my $res = bget($at, '/users/me', api => 1);
    is($res->code, 200, 'GET /users/me with Bearer only: 200') or diag($res->content);
    my $me = json_body($res) || {};
    is($me->{id}, $a->{u}{id}, '... the token\'s user');
    is($me->{email}, $a->{u}{email}, '... email');
    ok(!defined $res->header('Set-Cookie'), '... no cookie set');

    $res = bget($at, '/users/me/sessions', api => 1);
    is($res->code, 200, 'GET /users/me/sessions with Bearer: 200');
    my ($cur) = grep { $_->{current} } @{ (json_body($res) || {})->{sessions} || [] };
    is($cur && $cur->{id}, jwt_claims($at)->{sid}, '... the current session is the token\'s sid');

    $res = $anon->patch('/users/me', {first_name => 'Augusta'}, no_cookie => 1, headers => [bearer($at)]);
    is($res->code, 200, 'PATCH /users/me with Bearer: 200') or diag($res->content);
    is(user_row($a->{f}{email})->{first_name}, 'Augusta', '... changed the token\'s account');

    unauthenticated_ok($anon->get('/users/me'), 'GET /users/me with neither');
}

# ---- cookie and token together: the token decides ---------------------------------------------

my $b = token_account(vhost => 'tok');
{
    my $cookie = "authsvc=$a->{cookie}";
    my $env = kv_body(bget($b->{at}, '/gb/cgi/env.pl', cookie => $cookie));
    is($env->{AUTHSVC_USER_ID}, $b->{u}{id}, 'cookie of A, Bearer of B: the backend sees B');
    # The API, like the guard: the token decides.
    my $me = json_body(bget($b->{at}, '/users/me', api => 1, cookie => $cookie)) || {};
    is($me->{id}, $b->{u}{id}, 'GET /users/me with the cookie of A and a Bearer token of B: B (the token)');
    my $bad = $b->{at};
    substr($bad, -5, 4) = (substr($bad, -5, 4) eq 'AAAA' ? 'BBBB' : 'AAAA');
    token_invalid_ok(bget($bad, '/private/', cookie => $cookie),
                     'a valid cookie with a bad Bearer token on /private/');
    token_invalid_ok(bget('not-a-token', '/tg/any/', cookie => $cookie),
                     'a valid cookie with a malformed Bearer token');
    is($anon->get('/private/', abs => 1, cookie => $cookie)->code, 200, '... the cookie alone: 200');
}

# ---- schemes and places where the header is ignored ---------------------------------------------

{
    my $cookie = "authsvc=$a->{cookie}";
    require MIME::Base64;
    my $basic = 'Basic ' . MIME::Base64::encode_base64("$a->{f}{email}:$a->{f}{password}", '');
    unauthenticated_ok($anon->get('/private/', abs => 1, headers => [Authorization => $basic]),
                       'Basic with the right password: ignored');
    is($anon->get('/private/', abs => 1, cookie => $cookie, headers => [Authorization => $basic])->code,
       200, 'Basic and a valid cookie: 200 (the cookie)');
    unauthenticated_ok($anon->get('/private/', abs => 1, headers => [Authorization => "Token $at"]),
                       'scheme Token with a valid JWT: ignored');
    unauthenticated_ok($anon->get('/private/', abs => 1, headers => [Authorization => "Bearer$at"]),
                       '"Bearer<token>" without a space: not the Bearer scheme');

    unauthenticated_ok(bget($at, '/tg/nobearer/'), 'AuthsvcBearer Off: a valid token is ignored');
    is($anon->get('/tg/nobearer/', abs => 1, cookie => $cookie)->code, 200, 'AuthsvcBearer Off: the cookie: 200');
    is(bcode('garbage', '/tg/nobearer/', cookie => $cookie), 200,
       'AuthsvcBearer Off: a malformed token with a valid cookie: 200 (the header is ignored)');
    unauthenticated_ok(bget($at, '/nbapi/users/me', abs => 1), 'AuthsvcBearer Off on a mount: GET /users/me ignores the token');
    is($anon->get('/nbapi/users/me', abs => 1, cookie => $cookie)->code, 200, '... with the cookie: 200');
}

# ---- browsers: no redirect for a Bearer token -------------------------------------------------

{
    # (401 and 403 reach browsers as httpd's HTML pages, as without tokens: t/guard_unauth.t.)
    my $res = bget('e30.e30.AAAA', '/tg/login/', headers => [Accept => $HTML]);
    is($res->code, 401, 'a browser with a bad Bearer token where AuthsvcLoginURL is set: 401');
    like(join(', ', $res->header('WWW-Authenticate')), qr/^Bearer\b.*\berror="invalid_token"/,
         '... WWW-Authenticate: Bearer error="invalid_token"');
    ok(!defined $res->header('Location'), '... no redirect');
    unlike($res->content, qr/authsvc-guard-page/, '... not the page');
    token_invalid_ok(bget('e30.e30.AAAA', '/tg/login/'), 'the same, an API client');
    is(bcode($at, '/tg/login/', headers => [Accept => $HTML]), 200, 'a browser with a valid token: 200');
    is($anon->get('/tg/login/', abs => 1, headers => [Accept => $HTML])->code, 302,
       'a browser with neither: 302 to the login page (as before)');
}

# ---- Require authsvc role / verified / mfa / fresh -----------------------------------------------

{
    my $p = problem_ok(bget($at, '/tg/role/'), 403, 'forbidden', 'Require authsvc role admin, token without it');
    set_roles($a->{f}{email}, 'editor admin');
    problem_ok(bget($at, '/tg/role/'), 403, 'forbidden',
               '... the role given in the database: the token still carries the old roles');
    my $l = token_login(client(vhost => 'tok'), $a->{f}{email}, $a->{f}{password});
    is_deeply([sort @{ jwt_claims($l->{at})->{roles} || [] }], [qw(admin editor)], 'a new sign-in: roles claim');
    is(bcode($l->{at}, '/tg/role/'), 200, '... its token passes Require authsvc role admin');
    is(kv_body(bget($l->{at}, '/gb/cgi/env.pl'))->{AUTHSVC_ROLES}, 'editor admin', '... AUTHSVC_ROLES');

    problem_ok(bget($at, '/tg/verified/'), 403, 'forbidden', 'Require authsvc verified, email_verified false');
    set_verified($a->{f}{email});
    $l = token_login(client(vhost => 'tok'), $a->{f}{email}, $a->{f}{password});
    is(bcode($l->{at}, '/tg/verified/'), 200, '... after verification and a new sign-in: 200');

    problem_ok(bget($at, '/tg/mfa/'), 403, 'mfa_enrollment_required',
               'Require authsvc mfa, amr ["pwd"]');
    my $m = mfa_account(vhost => 'tokmfa');
    my (undef, $res) = mfa_login($m);
    my $mat = (json_body($res) || {})->{access_token};
    is(bearer_get(client(vhost => 'tokmfa'), $mat, '/tg/mfa/')->code, 200,
       '... a token of a two-step sign-in (tokmfa, amr with "mfa"): 200');
}

# ---- the cache is on (tok: AuthsvcCacheTTL 30s, the default) ------------------------------------------

# A token whose session is known live is not checked against the database again within
# the cache TTL: a revocation written there behind the module's back does not show yet.
# What follows shows that the module's own revocations do not wait.
{
    my $t = token_account(vhost => 'tok');
    is(bguard($t->{at}), 200, 'a token on /private/ (now cached)');
    db_do('UPDATE sessions SET revoked_at = ' . time . ' WHERE id = ' . sql_str(jwt_claims($t->{at})->{sid}));
    is(bguard($t->{at}), 200, '... its session revoked directly in the database: still 200 from the cache');
}

# ---- revocation on this server: at once ------------------------------------------------------------

# Logout of the session by its cookie.
{
    my $t = token_account(vhost => 'tok');
    is(bguard($t->{at}), 200, 'a token on /private/ (now cached by every process that saw it)');
    is($t->{c}->post('/auth/logout')->code, 204, 'logout with the cookie of the token\'s session');
    is(bguard($t->{at}), 401, 'the token right after: 401 everywhere');
    token_invalid_ok(bget($t->{at}, '/private/'), 'the token of a logged-out session');
    token_invalid_ok(bget($t->{at}, '/users/me', api => 1), '... on GET /users/me');
}

# DELETE /users/me/sessions/{sid} from another session.
{
    my $t = token_account(vhost => 'tok');
    my $other = client(vhost => 'tok');
    is($other->login($t->{f}{email}, $t->{f}{password})->code, 200, 'a second session');
    is(bguard($t->{at}), 200, 'the first session\'s token: 200');
    my $sid = jwt_claims($t->{at})->{sid};
    is($other->del("/users/me/sessions/$sid")->code, 204, 'DELETE /users/me/sessions/{sid} from the other session');
    is(bguard($t->{at}), 401, 'the token right after: 401 everywhere');
    token_invalid_ok(bget($t->{at}, '/private/'), 'the token of a revoked session');
}

# A password change from another session ends the token's session.
{
    my $t = token_account(vhost => 'tok');
    my $other = client(vhost => 'tok');
    is($other->login($t->{f}{email}, $t->{f}{password})->code, 200, 'a second session');
    is(bguard($t->{at}), 200, 'the token: 200');
    my $res = $other->put('/users/me/password', {current_password => $t->{f}{password},
                                                 new_password => new_password()});
    is($res->code, 200, 'the password changed from the other session') or diag($res->content);
    is(bguard($t->{at}), 401, 'the token right after: 401 everywhere');
    token_invalid_ok(bget($t->{at}, '/private/'), 'the token after a password change');
}

# The account deleted.
{
    my $t = token_account(vhost => 'tok');
    is(bguard($t->{at}), 200, 'the token: 200');
    my $res = $t->{c}->del('/users/me', json => {password => $t->{f}{password}});
    is($res->code, 204, 'the account deleted') or diag($res->content);
    is(bguard($t->{at}), 401, 'the token right after: 401 everywhere');
    token_invalid_ok(bget($t->{at}, '/private/'), 'the token of a deleted account');
}

# Logout with the token itself.
{
    my $t = token_account(vhost => 'tok');
    is(bguard($t->{at}), 200, 'the token: 200');
    my $res = $anon->post('/auth/logout', undef, no_cookie => 1, headers => [bearer($t->{at})]);
    is($res->code, 204, 'POST /auth/logout with the Bearer token: 204');
    is(bguard($t->{at}), 401, 'the token right after: 401 everywhere');
    unauthenticated_ok($t->{c}->get('/users/me'), '... and the cookie of that sign-in');
}

# ---- revocation in the database: within AuthsvcCacheTTL (tokhs: 1s) --------------------------------

{
    my $c = client(vhost => 'tokhs');
    my $t = token_account(vhost => 'tokhs');
    my $d = token_account(vhost => 'tokhs');
    is(bearer_get($c, $t->{at}, '/private/')->code, 200, 'tokhs: a token: 200');
    is(bearer_get($c, $d->{at}, '/private/')->code, 200, 'tokhs: another: 200');
    db_do('UPDATE sessions SET revoked_at = ' . time . ' WHERE id = ' . sql_str(jwt_claims($t->{at})->{sid}));
    db_do("UPDATE users SET status = 'disabled' WHERE id = " . sql_str($d->{u}{id}));
    sleep 3;
    token_invalid_ok(bearer_get($c, $t->{at}, '/private/'), 'tokhs: the session revoked in the database, after the cache TTL');
    token_invalid_ok(bearer_get($c, $d->{at}, '/private/'), 'tokhs: the account disabled in the database, after the cache TTL');
    token_invalid_ok(bearer_get($c, $d->{at}, '/users/me', api => 1), '... GET /users/me too');
}

# ---- fresh N: from auth_time ------------------------------------------------------------------------

{
    my $t = token_account(vhost => 'tok');
    is(bcode($t->{at}, '/tg/fresh/'), 200, 'Require authsvc fresh 3 right after the sign-in: 200');
    sleep 4;
    problem_ok(bget($t->{at}, '/tg/fresh/'), 401, 'reauthentication_required',
               'Require authsvc fresh 3, four seconds later');
    is(bcode($t->{at}, '/tg/fresh-long/'), 200, 'Require authsvc fresh 3600: 200');
    is(bcode($t->{at}, '/tg/any/'), 200, 'Require authsvc: 200');
}

done_testing();
