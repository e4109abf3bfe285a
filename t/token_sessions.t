# Issue 7, after the security review: sessions held by token clients, the caches, and
# edges. A session whose cookie idled out (tokidle: 8s) while its app kept a live
# refresh token stays listed in GET /users/me/sessions and can be ended there (then
# its refresh token is refused); a refresh after the idle timeout works but does not
# bring the dead cookie back. A session cookie's value is never taken for an access
# token (the per-process caches keep the two apart). Where tokens are off, their
# endpoints look absent (404 not_found before the body is read). auth_time follows
# the session's freshness: a session of an account that turned on two-step sign-in
# after it signed in (tokmfa) gets tokens without auth_time, which no "Require authsvc
# fresh N" accepts. Backends do not get the access token (AuthsvcStripCookie On, the
# default), unless AuthsvcStripCookie is Off (/gb/cgi-auth*/, /gp/auth*/ in
# t/conf/extra.conf.in). A token with another user's sub for a session is refused by
# the API too (the guard's case is in t/token_attacks.t). Refreshing regularly keeping
# the cookie alive is in t/token_refresh.t.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA ();
use JSON::PP ();
use Test::More;
use AuthsvcTest;

sub unauth_ok { problem_ok($_[0], 401, 'unauthenticated', $_[1]) }
sub rt_refused { token_invalid_ok($_[0], $_[1], loose => 1) }

sub srow {
    my ($sid) = @_;
    return db_row('SELECT * FROM sessions WHERE id = ' . sql_str($sid)) || {};
}

# The ids of the sessions GET /users/me/sessions lists for the client ({id => current}).
sub listed {
    my ($c, %o) = @_;
    my $res = $c->get('/users/me/sessions', %o);
    is($res->code, 200, 'GET /users/me/sessions: 200') or diag($res->content);
    return {map { $_->{id} => ($_->{current} ? 1 : 0) } @{ (json_body($res) || {})->{sessions} || [] }};
}

# A 200 refresh; returns the body.
sub refreshed {
    my ($res, $name) = @_;
    is($res->code, 200, "$name: 200") or diag($res->content);
    my $b = json_body($res) || {};
    like($b->{access_token} // '', qr/^[^.]+\.[^.]+\.[^.]+$/, "$name: an access token");
    return $b;
}

# ---- a session kept by its token client after its cookie idled out (tokidle: 8s) ---------------

{
    my $t = token_account(vhost => 'tokidle');
    my $sid = jwt_claims($t->{at})->{sid};
    my $u = token_account(vhost => 'tokidle');
    my $usid = jwt_claims($u->{at})->{sid};
    my $w = token_account(vhost => 'tokidle');
    my $wsid = jwt_claims($w->{at})->{sid};
    my $idle = srow($sid)->{idle_expires_at};
    my $uidle = srow($usid)->{idle_expires_at};
    my $last = (sort { $a <=> $b } $idle, $uidle, srow($wsid)->{idle_expires_at})[-1];
    # W's refresh tokens revoked behind the module's back: its session is held by nothing.
    db_do('UPDATE refresh_tokens SET revoked_at = ' . time . ' WHERE session_hash = '
          . sql_str(srow($wsid)->{token_hash}));
    sleep 1 while time <= $last;

    unauth_ok($t->{c}->get('/users/me', cookie => "authsvc=$t->{cookie}"), 'tokidle: the cookie after its idle timeout (no refresh meanwhile)');
    my $other = client(vhost => 'tokidle');
    is($other->login($t->{f}{email}, $t->{f}{password})->code, 200, 'tokidle: a second sign-in of the same user');
    my $l = listed($other);
    ok(exists $l->{$sid}, 'tokidle: the idled-out session with a live refresh token is listed')
        or diag(json_enc($l));
    is($l->{$sid}, 0, '... not as the current one');
    is(scalar(grep { $_ } values %$l), 1, '... the second sign-in is the current one');
    my $res = bearer_get(client(vhost => 'tokidle'), $t->{at}, '/users/me/sessions', api => 1);
    is($res->code, 200, 'tokidle: its own access token still works (GET /users/me/sessions)') or diag($res->content);
    my ($cur) = grep { $_->{current} } @{ (json_body($res) || {})->{sessions} || [] };
    is($cur && $cur->{id}, $sid, '... and is the current session there');
    is(bearer_get(client(vhost => 'tokidle'), $t->{at}, '/private/')->code, 200, '... and on /private/');

    $res = $other->del("/users/me/sessions/$sid");
    is($res->code, 204, 'tokidle: DELETE /users/me/sessions/{id} of it from the second sign-in: 204')
        or diag($res->content);
    rt_refused(refresh_post(client(vhost => 'tokidle'), $t->{rt}), 'tokidle: its refresh token then');
    is(guard_code(client(vhost => 'tokidle'), no_cookie => 1, headers => [bearer($t->{at})]), 401,
       'tokidle: its access token then: 401 everywhere');
    ok(!exists listed($other)->{$sid}, 'tokidle: no longer listed');
    problem_ok($other->del("/users/me/sessions/$sid"), 404, 'not_found', 'tokidle: DELETE it again');

    # A refresh after the idle timeout: 200, but the cookie stays dead.
    my $b = refreshed(refresh_post(client(vhost => 'tokidle'), $u->{rt}),
                      'tokidle: refresh after the idle timeout passed');
    unauth_ok($u->{c}->get('/users/me', cookie => "authsvc=$u->{cookie}"), 'tokidle: the idled-out cookie of that sign-in after the refresh');
    ok(srow($usid)->{idle_expires_at} <= $uidle, '... idle_expires_at not moved');
    is(guard_code($u->{c}, cookie => "authsvc=$u->{cookie}"), 401, '... the cookie on /private/: 401 everywhere');
    is(bearer_get(client(vhost => 'tokidle'), $b->{access_token}, '/users/me', api => 1)->code, 200,
       'tokidle: the new access token works');
    $b = refreshed(refresh_post(client(vhost => 'tokidle'), $b->{refresh_token}), 'tokidle: and a second refresh');
    unauth_ok($u->{c}->get('/users/me', cookie => "authsvc=$u->{cookie}"), '... the cookie still dead');
    my $uo = client(vhost => 'tokidle');
    is($uo->login($u->{f}{email}, $u->{f}{password})->code, 200, 'tokidle: a second sign-in of that user');
    ok(exists listed($uo)->{$usid}, '... lists the refreshed session');

    # Idled out and without a live refresh token: gone.
    my $wo = client(vhost => 'tokidle');
    is($wo->login($w->{f}{email}, $w->{f}{password})->code, 200,
       'tokidle: a user whose idled-out session\'s refresh tokens were revoked signs in again');
    ok(!exists listed($wo)->{$wsid}, '... that session is not listed');
    problem_ok($wo->del("/users/me/sessions/$wsid"), 404, 'not_found', '... nor can it be ended');
}

# ---- a cookie's value is no access token ------------------------------------------------------------

{
    my $t = token_account(vhost => 'tok');
    my $cv = $t->{cookie};
    is(guard_code($t->{c}), 200, 'the cookie on /private/ (now cached by the processes that saw it)');
    is($t->{c}->get('/users/me')->code, 200, '... and on GET /users/me');
    token_invalid_ok(bearer_get(client(vhost => 'tok'), $cv, '/private/'), 'the cookie\'s value as a Bearer token');
    is(guard_code(client(vhost => 'tok'), no_cookie => 1, headers => [bearer($cv)]), 401,
       '... 401 everywhere');
    token_invalid_ok(bearer_get(client(vhost => 'tok'), $cv, '/users/me', api => 1), '... on GET /users/me');
    token_invalid_ok(bearer_get(client(vhost => 'tok'), $cv, '/private/', cookie => "authsvc=$cv"),
                     '... with the cookie itself too');
    # And the other way: the access token (now cached as a token) as the cookie.
    is(guard_code(client(vhost => 'tok'), no_cookie => 1, headers => [bearer($t->{at})]), 200,
       'the access token on /private/');
    unauth_ok(client(vhost => 'tok')->get('/private/', abs => 1, cookie => "authsvc=$t->{at}"),
              'the access token as the session cookie');
    is(guard_code(client(vhost => 'tok'), cookie => "authsvc=$t->{at}"), 401, '... 401 everywhere');
}

# ---- where tokens are off, their endpoints are absent ----------------------------------------------

{
    my $c = client();   # the main server: no AuthsvcTokenSigningKey
    problem_ok($c->post('/auth/refresh', undef, body => 'not json', ctype => 'text/plain'), 404, 'not_found',
               'the main server: POST /auth/refresh, text/plain, not JSON');
    problem_ok($c->post('/auth/refresh', undef, body => '{"refresh_token":'), 404, 'not_found',
               'the main server: POST /auth/refresh, broken JSON');
    problem_ok($c->post('/auth/refresh', undef, body => 'refresh_token=x', ctype => 'application/x-www-form-urlencoded'),
               404, 'not_found', 'the main server: POST /auth/refresh, a form');
    problem_ok($c->post('/auth/refresh', {refresh_token => 42}), 404, 'not_found',
               'the main server: POST /auth/refresh, refresh_token a number');
    problem_ok($c->get('/.well-known/jwks.json', headers => [Authorization => 'Bearer garbage']), 404, 'not_found',
               'the main server: GET /.well-known/jwks.json with a Bearer header');
    for my $vhost (qw(default tokes)) {
        my $ci = client(vhost => $vhost);
        problem_ok($ci->post('/auth/introspect', undef, body => "\x00\xff garbage", ctype => 'text/plain'), 404,
                   'not_found', "$vhost (AuthsvcIntrospect Off): POST /auth/introspect, garbage");
        problem_ok($ci->post('/auth/introspect', undef, body => '{"token":'), 404, 'not_found',
                   "$vhost: POST /auth/introspect, broken JSON");
        problem_ok($ci->post('/auth/introspect', {token => 42}), 404, 'not_found',
                   "$vhost: POST /auth/introspect, token a number");
    }
}

# ---- auth_time: as fresh as the session (tokmfa) ---------------------------------------------------

{
    my $s1 = token_account(vhost => 'tokmfa');
    my $p1 = jwt_claims($s1->{at});
    ok(defined $p1->{auth_time}, 'tokmfa: a password sign-in before two-step sign-in: auth_time');
    my $c2 = client(vhost => 'tokmfa');
    my $s2 = token_login($c2, $s1->{f}{email}, $s1->{f}{password});
    is($s2->{res}->code, 200, 'tokmfa: a second sign-in (S2)');
    my $e = mfa_enroll($c2);
    my ($code, $step) = totp_code_step($e->{secret});
    my $res = $c2->post('/users/me/mfa/confirm', {code => $code});
    is($res->code, 200, 'tokmfa: S2 turns on two-step sign-in') or diag($res->content);
    my $m = {f => $s1->{f}, vhost => 'tokmfa', secret => $e->{secret}, last_step => $step};

    my $b = refreshed(refresh_post(client(vhost => 'tokmfa'), $s1->{rt}), 'tokmfa: S1 (password only) refreshes');
    my $p = jwt_claims($b->{access_token});
    ok(!exists $p->{auth_time}, '... the new access token has no auth_time') or diag("auth_time $p->{auth_time}");
    is_deeply($p->{amr}, ['pwd'], '... amr ["pwd"]');
    problem_ok(bearer_get(client(vhost => 'tokmfa'), $b->{access_token}, '/tg/fresh-long/'), 401,
               'reauthentication_required', '... with it, Require authsvc fresh 3600');
    is(bearer_get(client(vhost => 'tokmfa'), $b->{access_token}, '/tg/any/')->code, 200,
       '... Require authsvc: 200');
    problem_ok($s1->{c}->get('/tg/fresh-long/', abs => 1), 401, 'reauthentication_required',
               '... S1\'s cookie on Require authsvc fresh 3600 too');

    $b = refreshed(refresh_post(client(vhost => 'tokmfa'), $s2->{rt}), 'tokmfa: S2 (which confirmed the code) refreshes');
    $p = jwt_claims($b->{access_token});
    ok(defined $p->{auth_time}, '... auth_time');
    is_deeply([sort @{ $p->{amr} || [] }], [qw(mfa otp pwd)], '... amr ["pwd","otp","mfa"]');
    is(bearer_get(client(vhost => 'tokmfa'), $b->{access_token}, '/tg/fresh-long/')->code, 200,
       '... Require authsvc fresh 3600: 200');

    my (undef, $lres) = mfa_login($m);
    my $lb = json_body($lres) || {};
    $p = jwt_claims($lb->{access_token});
    ok(defined $p->{auth_time} && abs($p->{auth_time} - time) <= 5,
       'tokmfa: a two-step sign-in (S3): auth_time now') or diag("auth_time " . ($p->{auth_time} // 'none'));
    ok((grep { $_ eq 'otp' } @{ $p->{amr} || [] }) && (grep { $_ eq 'mfa' } @{ $p->{amr} || [] }),
       '... amr with "otp" and "mfa"') or diag(json_enc($p->{amr}));
    is(bearer_get(client(vhost => 'tokmfa'), $lb->{access_token}, '/tg/fresh-long/')->code, 200,
       '... Require authsvc fresh 3600: 200');
    is(bearer_get(client(vhost => 'tokmfa'), $lb->{access_token}, '/tg/mfa/')->code, 200,
       '... Require authsvc mfa: 200');
}

# ---- what the backend gets: not the access token -----------------------------------------------------

{
    my $t = token_account(vhost => 'tok');
    my $c = client(vhost => 'tok');
    my $at = $t->{at};
    for my $case (['/gb/cgi-auth/env.pl', 'a CGI script (CGIPassAuth On)'],
                  ['/gp/auth/env.pl', 'a reverse proxy']) {
        my ($path, $what) = @$case;
        my $res = bearer_get($c, $at, $path);
        is($res->code, 200, "$what with Bearer: 200") or diag($res->content);
        my $env = kv_body($res);
        is($env->{AUTHSVC_USER_ID}, $t->{u}{id}, "$what: AUTHSVC_USER_ID") if $path =~ /cgi/;
        ok(exists $env->{REMOTE_ADDR}, "$what: the script ran");
        ok(!exists $env->{HTTP_AUTHORIZATION}, "$what: no Authorization header reaches the backend")
            or diag("HTTP_AUTHORIZATION: $env->{HTTP_AUTHORIZATION}");
        ok(index($res->content, $at) < 0, "$what: the token is nowhere in what the backend sees");
    }
    for my $case (['/gb/cgi-authkeep/env.pl', 'a CGI script, AuthsvcStripCookie Off'],
                  ['/gp/authkeep/env.pl', 'a reverse proxy, AuthsvcStripCookie Off']) {
        my ($path, $what) = @$case;
        my $res = bearer_get($c, $at, $path);
        is($res->code, 200, "$what with Bearer: 200") or diag($res->content);
        is(kv_body($res)->{HTTP_AUTHORIZATION}, "Bearer $at", "$what: the Authorization header as sent");
    }
    # The token decides; session cookies sent along, even two different ones (which the
    # guard ignores as a conflict), are still taken out of what the backend gets.
    for my $ck ("authsvc=$t->{cookie}; theme=dark; authsvc=other", "authsvc=$t->{cookie}, authsvc=x") {
        my $res = bearer_get($c, $at, '/gb/cgi-auth/env.pl', cookie => $ck);
        is($res->code, 200, "Bearer with two session cookies ($ck): 200") or diag($res->content);
        my $hc = kv_body($res)->{HTTP_COOKIE} // '';
        unlike($hc, qr/(^|[;,\s])authsvc=/, '... no session cookie reaches the backend')
            or diag("HTTP_COOKIE: $hc");
        ok(index($res->content, $t->{cookie}) < 0, '... the session token is nowhere in it');
    }
    {
        my $res = bearer_get($c, $at, '/gb/cgi-auth/env.pl',
                             cookie => "theme=dark; authsvc=$t->{cookie}; authsvc=other; lang=fr");
        is(kv_body($res)->{HTTP_COOKIE}, 'theme=dark; lang=fr', '... the other cookies stay, as sent');
    }
    # Other schemes are not ours: left alone (and the cookie signs in).
    my $res = $c->get('/gb/cgi-auth/env.pl', abs => 1, cookie => "authsvc=$t->{cookie}",
                      headers => [Authorization => 'Basic dXNlcjpwdw==']);
    is($res->code, 200, 'a CGI script with the cookie and Basic credentials: 200');
    is(kv_body($res)->{HTTP_AUTHORIZATION}, 'Basic dXNlcjpwdw==', '... the Basic header is not ours: left');
    # Control: the open echo shows the header when nothing strips it.
    $res = bearer_get($c, $at, '/gb/echoauth/env.pl');
    is(kv_body($res)->{HTTP_AUTHORIZATION}, "Bearer $at", 'the open echo script shows an Authorization header');
}

# ---- a token whose sub is not its session's user (tokhs) ------------------------------------------------

{
    my $a = token_account(vhost => 'tokhs');
    my $b = token_account(vhost => 'tokhs', first_name => 'Bob');
    my ($H, $P) = jwt_parts($b->{at});
    my $sidA = jwt_claims($a->{at})->{sid};
    my $mixed = forge_token(header => $H, payload => {%$P, sid => $sidA}, hmac_key => hs_secret());
    my $ch = client(vhost => 'tokhs');
    token_invalid_ok(bearer_get($ch, $mixed, '/users/me', api => 1),
                     'tokhs: sub of user B, sid of A\'s live session: GET /users/me');
    token_invalid_ok(bearer_get($ch, $mixed, '/users/me/sessions', api => 1), '... GET /users/me/sessions');
    my $res = $ch->patch('/users/me', {first_name => 'Mallory'}, no_cookie => 1, headers => [bearer($mixed)]);
    token_invalid_ok($res, '... PATCH /users/me');
    is(user_row($b->{f}{email})->{first_name}, 'Bob', '... B\'s account unchanged');
    $res = $ch->del("/users/me/sessions/$sidA", no_cookie => 1, headers => [bearer($mixed)]);
    token_invalid_ok($res, '... DELETE /users/me/sessions/{A\'s sid}');
    is($a->{c}->get('/users/me')->code, 200, '... A\'s session lives');
    token_invalid_ok(bearer_get($ch, $mixed, '/private/'), '... the guard (after the API saw it)');
    # Controls: the same claims with B's own sid pass.
    my $own = forge_token(header => $H, payload => $P, hmac_key => hs_secret());
    is(bearer_get($ch, $own, '/users/me', api => 1)->code, 200, 'tokhs: B\'s claims as issued, signed by the test: 200');
}

done_testing();
