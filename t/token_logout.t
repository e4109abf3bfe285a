# Issue 7, after the security review: signing out is best effort (POST /auth/logout,
# src/flow_login.c authsvc_flow_logout, src/h_auth.c). An expired but otherwise good
# access token still ends its session (tokshort: a real one past its exp, no skew;
# tokhs: one the test signs with an exp an hour ago); a Bearer token that is no good
# ends nothing and is no error, and the cookie sent with it is signed out all the same;
# a Bearer token and a cookie of two sessions end both; a refresh token in the body
# together with a cookie or a Bearer token of other sessions ends all of them; the
# body's refresh_token must be a string (422), the body JSON (4xx). Each ended session
# is ended everywhere (its cookie, refresh tokens and access tokens), and the audit log
# has one logout row per session ended ({via: "bearer"|"refresh_token"} for a token,
# none for the cookie). The plain cases (logout by Bearer token, by refresh token,
# unknown/garbage/revoked refresh tokens) are in t/token_refresh.t and t/token_guard.t.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA ();
use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $SECRET = hs_secret();

sub unauth_ok { problem_ok($_[0], 401, 'unauthenticated', $_[1]) }
sub rt_refused { token_invalid_ok($_[0], $_[1], loose => 1) }

# POST /auth/logout on VHOST with only what is given: bearer => TOKEN, cookie => VALUE
# (of the session cookie), json => DATA, body => BYTES, ctype => TYPE.
sub logout {
    my (%o) = @_;
    my $c = client(vhost => $o{vhost} // 'tok');
    my %req = (no_cookie => 1);
    %req = (cookie => "authsvc=$o{cookie}") if defined $o{cookie};
    $req{headers} = [bearer($o{bearer})] if defined $o{bearer};
    $req{json} = $o{json} if exists $o{json};
    $req{body} = $o{body} if exists $o{body};
    $req{ctype} = $o{ctype} if exists $o{ctype};
    return $c->request(POST => $o{path} // '/auth/logout', %req);
}

# A 204 that clears the cookie.
sub signed_out_ok {
    my ($res, $name) = @_;
    is($res->code, 204, "$name: 204") or diag($res->content);
    my $sc = join ', ', $res->header('Set-Cookie');
    like($sc, qr/(^|, )authsvc=;.*Max-Age=0/i, "$name: the cookie cleared");
}

# The logout rows a response's request wrote, as "user:via" (via '-' for none), sorted.
sub logout_rows {
    my ($res) = @_;
    return join ' ', sort map { ($_->{user_id} // '?') . ':' . ((audit_detail($_) || {})->{via} // '-') }
        events_in($res, 'logout');
}

# A new sign-in of an account ($a from token_account) on its vhost: {c, at, rt, cookie, sid}.
sub login_again {
    my ($a, $vhost) = @_;
    my $c = client(vhost => $vhost // $a->{vhost});
    my $l = token_login($c, $a->{f}{email}, $a->{f}{password});
    die 'login failed: ' . $l->{res}->status_line . "\n" unless $l->{res}->code == 200;
    return {%$l, c => $c, cookie => $c->jar->{authsvc}, sid => jwt_claims($l->{at})->{sid},
            vhost => $vhost // $a->{vhost}};
}

# Everything of a sign-in ($s: {c, at, rt, vhost}) is dead: its cookie, its refresh
# token and its access token (everywhere: asked on 8 connections).
sub ended_ok {
    my ($s, $name) = @_;
    unauth_ok($s->{c}->get('/users/me', cookie => "authsvc=$s->{cookie}"), "$name: its cookie then");
    rt_refused(refresh_post(client(vhost => $s->{vhost}), $s->{rt}), "$name: its refresh token then");
    is(guard_code(client(vhost => $s->{vhost}), no_cookie => 1, headers => [bearer($s->{at})]), 401,
       "$name: its access token then: 401 everywhere");
}

# Everything of a sign-in still works (its refresh token is left unused).
sub lives_ok {
    my ($s, $name) = @_;
    is($s->{c}->get('/users/me', cookie => "authsvc=$s->{cookie}")->code, 200, "$name: its cookie still works");
    is(bearer_get(client(vhost => $s->{vhost}), $s->{at}, '/users/me', api => 1)->code, 200,
       "$name: its access token still works");
    my $rt = db_row('SELECT revoked_at, rotated_at FROM refresh_tokens WHERE token_hash IN ('
                    . sql_str(sha256_hex($s->{rt})) . ', ' . sql_str(b64url_enc(Digest::SHA::sha256($s->{rt})))
                    . ')') || {};
    ok(!defined $rt->{revoked_at}, "$name: its refresh token is not revoked")
        or diag(json_enc($rt));
}

# tokshort's sign-in first: its access token (10s, no skew) expires while the rest runs.
my $sh = token_account(vhost => 'tokshort');
$sh->{sid} = jwt_claims($sh->{at})->{sid};
my $sh_exp = jwt_claims($sh->{at})->{exp};
my $sh_other = login_again($sh);

# ---- an expired access token (tokhs: signed by the test, exp an hour ago) -----------------------

my $now = time;
{
    my $h = token_account(vhost => 'tokhs');
    $h->{sid} = jwt_claims($h->{at})->{sid};
    my $o = login_again($h);
    my ($H, $P) = jwt_parts($h->{at});
    my $old = forge_token(header => $H, payload => {%$P, iat => $now - 4500, nbf => $now - 4500,
                                                    exp => $now - 3600},
                          hmac_key => $SECRET);
    token_invalid_ok(bearer_get(client(vhost => 'tokhs'), $old, '/private/'),
                     'tokhs: a token of a live session whose exp was an hour ago (control)');
    is(bearer_get(client(vhost => 'tokhs'), $h->{at}, '/private/')->code, 200,
       'tokhs: the session\'s own token (now cached)');

    # Not good for other reasons, expired or not: nothing ended.
    my $badsig = forge_token(header => $H, payload => {%$P, exp => $now - 3600}, hmac_key => 'x' x 32);
    signed_out_ok(logout(vhost => 'tokhs', bearer => $badsig), 'tokhs: logout with an expired token of another key');
    my $other_sub = forge_token(header => $H, payload => {%$P, sub => $o->{b}{user}{id} . 'x', exp => $now - 3600},
                                hmac_key => $SECRET);
    signed_out_ok(logout(vhost => 'tokhs', bearer => $other_sub),
                  'tokhs: logout with an expired token whose sub is not the session\'s user');
    my $wrong_iss = forge_token(header => $H, payload => {%$P, iss => 'https://evil.test/api', exp => $now - 3600},
                                hmac_key => $SECRET);
    signed_out_ok(logout(vhost => 'tokhs', bearer => $wrong_iss), 'tokhs: logout with an expired token of another issuer');
    lives_ok($h, 'tokhs: after those three');

    my $res = logout(vhost => 'tokhs', bearer => $old);
    signed_out_ok($res, 'tokhs: logout with the token expired an hour ago, no cookie');
    is(logout_rows($res), "$h->{u}{id}:bearer", '... audit: one logout row {via: "bearer"} for the user');
    ended_ok($h, 'tokhs: the session of the expired token');
    ok(defined((db_row('SELECT revoked_at FROM sessions WHERE id = ' . sql_str($h->{sid})) || {})->{revoked_at}),
       '... the session is revoked in the database');
    lives_ok($o, 'tokhs: another sign-in of the same account');

    $res = logout(vhost => 'tokhs', bearer => $old);
    signed_out_ok($res, 'tokhs: the same expired token again (its session already ended)');
    is(logout_rows($res), '', '... no audit row');
}

# A forged token: another user's sub with this session's sid, by a Bearer token that is
# otherwise good (live, signed with the secret): no good, so it ends nothing.
{
    my $v = token_account(vhost => 'tokhs');
    my $b = token_account(vhost => 'tokhs');
    my ($H, $P) = jwt_parts($v->{at});
    my $mixed = forge_token(header => $H, payload => {%$P, sub => $b->{u}{id}}, hmac_key => $SECRET);
    my $res = logout(vhost => 'tokhs', bearer => $mixed);
    signed_out_ok($res, 'tokhs: logout with sub of user B and sid of A\'s session');
    is(logout_rows($res), '', '... no audit row');
    lives_ok($v, 'tokhs: A\'s session');
    lives_ok($b, 'tokhs: B\'s session');
    $res = logout(vhost => 'tokhs', bearer => $mixed, cookie => $b->{cookie});
    signed_out_ok($res, 'tokhs: the same token with B\'s cookie');
    is(logout_rows($res), "$b->{u}{id}:-", '... audit: one logout row, B\'s, without via');
    ended_ok($b, 'tokhs: B (the cookie\'s session)');
    lives_ok($v, 'tokhs: A\'s session still');
}

# ---- an expired access token for real (tokshort: 10s, AuthsvcClockSkew 0) ------------------------

{
    # A newer access token of the same session, that has not expired when the first has.
    sleep 1 while time < $sh_exp - 5;
    my $n = refresh_post(client(vhost => 'tokshort'), $sh->{rt});
    is($n->code, 200, 'tokshort: refresh five seconds before the first access token expires')
        or diag($n->content);
    my $nb = json_body($n) || {};
    sleep 1 while time <= $sh_exp;
    my $cs = client(vhost => 'tokshort');
    token_invalid_ok(bearer_get($cs, $sh->{at}, '/private/'), 'tokshort: the first access token, past its exp');
    is(bearer_get($cs, $nb->{access_token}, '/private/')->code, 200, 'tokshort: the newer one still works');

    my $res = logout(vhost => 'tokshort', bearer => $sh->{at});
    signed_out_ok($res, 'tokshort: logout with the expired access token');
    is(logout_rows($res), "$sh->{u}{id}:bearer", '... audit: one logout row {via: "bearer"}');
    ended_ok({%$sh, rt => $nb->{refresh_token}, at => $nb->{access_token}},
             'tokshort: the expired token\'s session (the newer access token, the newest refresh token)');
    unauth_ok($sh->{c}->get('/users/me', cookie => "authsvc=$sh->{cookie}"), 'tokshort: GET /users/me with the cookie of that sign-in');
    rt_refused(refresh_post($cs, $sh->{rt}), 'tokshort: the first (rotated) refresh token');
    is(scalar @{ audit_events($sh->{u}{id}, 'refresh_reuse') }, 0, '... (no refresh_reuse: the family was revoked)');
    is($sh_other->{c}->get('/users/me')->code, 200, 'tokshort: another sign-in of the account lives');
    is(refresh_post($cs, $sh_other->{rt})->code, 200, '... its refresh token works');
}

# ---- an invalid Bearer token with a valid cookie: the cookie's session ends ---------------------

{
    my $a = token_account(vhost => 'tok');
    my $keep = login_again($a);
    my (undef, $P) = jwt_parts($keep->{at});
    my $es = token_account(vhost => 'tokes');
    my $bad = $keep->{at};
    substr($bad, -5, 4) = (substr($bad, -5, 4) eq 'AAAA' ? 'BBBB' : 'AAAA');
    my ($h64, $p64) = split /\./, $keep->{at};
    my @cases = (
        ['garbage',                                 'garbage'],
        ['three dots of nothing',                   '..'],
        ['a bad signature (of a live session)',     $bad],
        ['alg none (of a live session)',            forge_token(header => {alg => 'none', typ => 'JWT'},
                                                                payload => $P, sig => '')],
        ['a good token of another vhost (tokes)',   $es->{at}],
        ['a refresh token',                         $keep->{rt}],
        ['a session cookie value',                  $keep->{cookie}],
        ['20000 characters',                        'A' x 20_000],
    );
    for my $case (@cases) {
        my ($what, $token) = @$case;
        my $s = login_again($a);
        my $res = logout(bearer => $token, cookie => $s->{cookie});
        signed_out_ok($res, "Bearer $what, with a valid cookie");
        is(logout_rows($res), "$a->{u}{id}:-", '... audit: one logout row (the cookie\'s, without via)');
        ended_ok($s, "... the cookie's session");
    }
    lives_ok($keep, 'the sign-in whose token was tampered with, used as a refresh token and as a cookie');
    is($es->{c}->get('/users/me')->code, 200, 'the tokes session whose token was sent to tok lives');

    # No cookie: nothing to end, and still no error.
    my $res = logout(bearer => 'garbage');
    signed_out_ok($res, 'Bearer garbage alone');
    is(logout_rows($res), '', '... no audit row');
    $res = logout(bearer => $bad);
    signed_out_ok($res, 'a bad signature alone');
    is(logout_rows($res), '', '... no audit row');
    lives_ok($keep, 'the session of the tampered token');

    # An invalid token with a cookie of a session already ended: 204.
    my $s = login_again($a);
    is($s->{c}->post('/auth/logout')->code, 204, 'a sign-in logs out by its cookie');
    $res = logout(bearer => 'garbage', cookie => $s->{cookie});
    signed_out_ok($res, 'Bearer garbage with that dead cookie');
    is(logout_rows($res), '', '... no audit row');
}

# ---- a Bearer token of one session and a cookie of another: both end ----------------------------

{
    my $a = token_account(vhost => 'tok');
    my $b = token_account(vhost => 'tok');
    my $a2 = login_again($a);
    my $a3 = login_again($a);
    my $b2 = login_again($b);
    my $b3 = login_again($b);

    # Same user.
    my $res = logout(bearer => $a2->{at}, cookie => $a3->{cookie});
    signed_out_ok($res, 'Bearer of A2 and cookie of A3 (one user)');
    is(logout_rows($res), join(' ', sort "$a->{u}{id}:-", "$a->{u}{id}:bearer"),
       '... audit: two logout rows, {via: "bearer"} and the cookie\'s');
    ended_ok($a2, '... A2 (the token\'s session)');
    ended_ok($a3, '... A3 (the cookie\'s session)');
    lives_ok($a, '... A1, a third sign-in of that user');

    # Two users.
    $res = logout(bearer => $a->{at}, cookie => $b2->{cookie});
    signed_out_ok($res, 'Bearer of user A and cookie of user B');
    is(logout_rows($res), join(' ', sort "$a->{u}{id}:bearer", "$b->{u}{id}:-"),
       '... audit: a logout row for each user');
    ended_ok($a, '... A1 (the token\'s session)');
    ended_ok($b2, '... B2 (the cookie\'s session)');
    lives_ok($b3, '... B3, another sign-in of B');
    lives_ok($b, '... B1, another sign-in of B');

    # The token and the cookie of one session: one row.
    $res = logout(bearer => $b3->{at}, cookie => $b3->{cookie});
    signed_out_ok($res, 'Bearer and cookie of the same session');
    is(logout_rows($res), "$b->{u}{id}:bearer", '... audit: one logout row {via: "bearer"}');
    ended_ok($b3, '... that session');
    lives_ok($b, '... B1');
}

# Where AuthsvcBearer is Off (the /nbapi mount), the header is ignored: only the cookie.
{
    my $a = token_account(vhost => 'tok');
    my $s = login_again($a);
    my $res = client(vhost => 'tok')->post('/nbapi/auth/logout', undef, abs => 1, cookie => "authsvc=$s->{cookie}",
                                        headers => [bearer($a->{at})]);
    signed_out_ok($res, 'AuthsvcBearer Off: logout with a Bearer token of A1 and the cookie of A2');
    is(logout_rows($res), "$a->{u}{id}:-", '... audit: one row, the cookie\'s');
    ended_ok($s, '... A2 (the cookie\'s session)');
    lives_ok($a, '... A1 (the ignored token\'s session)');
}

# The main server has no signing key: a Bearer header is no token there; the cookie ends.
{
    my ($c, $f, $u) = account();
    my $cookie = $c->jar->{authsvc};
    my $res = logout(vhost => 'default', bearer => 'garbage', cookie => $cookie);
    signed_out_ok($res, 'the main server (no key): Bearer garbage with a valid cookie');
    is(logout_rows($res), "$u->{id}:-", '... audit: the cookie\'s logout row');
    unauth_ok($c->get('/users/me'), '... the cookie then');
}

# ---- a refresh token in the body ------------------------------------------------------------------

{
    my $a = token_account(vhost => 'tok');
    my $b = token_account(vhost => 'tok');
    my $a2 = login_again($a);
    my $a3 = login_again($a);
    my $a4 = login_again($a);

    # With a cookie of another session, and an extra member (ignored).
    my $res = logout(json => {refresh_token => $a2->{rt}, device => 'phone'}, cookie => $a3->{cookie});
    signed_out_ok($res, '{refresh_token} of A2 (and a member more) with the cookie of A3');
    is(logout_rows($res), join(' ', sort "$a->{u}{id}:refresh_token", "$a->{u}{id}:-"),
       '... audit: {via: "refresh_token"} and the cookie\'s row');
    ended_ok($a2, '... A2 (the refresh token\'s session)');
    ended_ok($a3, '... A3 (the cookie\'s session)');

    # With a Bearer token of another user's session.
    $res = logout(json => {refresh_token => $a4->{rt}}, bearer => $b->{at});
    signed_out_ok($res, '{refresh_token} of A4 with the Bearer token of user B');
    is(logout_rows($res), join(' ', sort "$a->{u}{id}:refresh_token", "$b->{u}{id}:bearer"),
       '... audit: a row for each, with its via');
    ended_ok($a4, '... A4');
    ended_ok($b, '... B (the token\'s session)');
    lives_ok($a, '... A1');

    # An unknown refresh token with a valid cookie: the cookie's session still ends.
    my $s = login_again($a);
    $res = logout(json => {refresh_token => random_token()}, cookie => $s->{cookie});
    signed_out_ok($res, 'an unknown refresh token with a valid cookie');
    is(logout_rows($res), "$a->{u}{id}:-", '... audit: the cookie\'s row');
    ended_ok($s, '... the cookie\'s session');

    # A refresh token whose session ended meanwhile (the refresh token itself not revoked).
    $s = login_again($a);
    db_do('UPDATE sessions SET revoked_at = ' . time . ' WHERE id = ' . sql_str($s->{sid}));
    $res = logout(json => {refresh_token => $s->{rt}});
    signed_out_ok($res, 'a refresh token of a session revoked in the database');
    is(logout_rows($res), '', '... no audit row');

    # An empty object is no token: the cookie alone.
    $s = login_again($a);
    $res = logout(json => {}, cookie => $s->{cookie});
    signed_out_ok($res, 'an empty JSON object with a cookie');
    ended_ok($s, '... the cookie\'s session');
}

# Bad bodies: refused, and nothing ended.
{
    my $a = token_account(vhost => 'tok');
    my $rt = $a->{rt};
    for my $case ([42, 'a number'], [undef, 'null'], [JSON::PP::true(), 'true'], [[$rt], 'an array'],
                  [{token => $rt}, 'an object']) {
        my ($v, $name) = @$case;
        my $res = logout(json => {refresh_token => $v});
        my $p = problem_ok($res, 422, 'validation_failed', "logout with refresh_token as $name");
        my ($e) = @{ $p->{errors} || [] };
        is($e && $e->{field}, 'refresh_token', "... the field refresh_token");
        is(logout_rows($res), '', '... no audit row');
    }
    my $res = logout(body => "{\"refresh_token\":\"$rt\"", ctype => 'application/json');
    problem_ok($res, 400, 'invalid_json', 'logout with broken JSON');
    $res = logout(body => json_enc({refresh_token => $rt}), ctype => 'text/plain');
    problem_ok($res, 415, 'unsupported_media_type', 'logout with JSON sent as text/plain');
    $res = logout(body => "refresh_token=$rt", ctype => 'application/x-www-form-urlencoded');
    problem_ok($res, 415, 'unsupported_media_type', 'logout with the refresh token in a form');
    $res = logout(body => 'not json at all', ctype => 'application/json');
    client_error_ok($res, 'logout with a body that is not JSON');
    $res = logout(body => json_enc([$rt]));
    client_error_ok($res, 'logout with a JSON array holding the token');
    lives_ok($a, 'the session whose refresh token was in all those bodies');

    # Well-formed, but not a token of a live session: 204, nothing ended.
    for my $case (['', 'an empty string'], [$a->{at}, 'the access token'], [$a->{cookie}, 'the cookie value'],
                  [sha256_hex($rt), 'the refresh token\'s hash'], [" $rt", 'the token with a space']) {
        my ($v, $name) = @$case;
        $res = logout(json => {refresh_token => $v});
        signed_out_ok($res, "logout with refresh_token $name");
        is(logout_rows($res), '', '... no audit row');
    }
    lives_ok($a, 'the session, after all that');
}

done_testing();
