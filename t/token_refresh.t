# Issue 7: POST /auth/refresh {refresh_token}: rotation (a new refresh token and a new
# access token of the same session, auth_time unchanged, the account re-read), single
# use (a rotated token presented again revokes its family and session, audit
# refresh_reuse), AuthsvcRefreshReuseGrace (tokgrace: 5s), two refreshes at once, the
# session's idle and absolute expiry (tokidle, tokabs), logout by Bearer token or by
# refresh token, password change and reset, the refresh rate limit (tokrl), bad input,
# and 404 where no key is configured.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA ();
use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $mark = error_log_mark();
my @secrets;

sub rfr {
    my ($rt, %o) = @_;
    my $vhost = delete $o{vhost} // 'tok';
    return refresh_post(client(vhost => $vhost), $rt, %o);
}

# A 200 refresh: the fields of the spec, no cookie; returns the body.
sub refresh_ok {
    my ($res, $name, $ttl) = @_;
    is($res->code, 200, "$name: 200") or diag($res->content);
    my $b = json_body($res) || {};
    is_deeply([sort keys %$b], [sort qw(access_token token_type expires_in refresh_token refresh_expires_in)],
              "$name: {access_token, token_type, expires_in, refresh_token, refresh_expires_in}");
    is($b->{token_type}, 'Bearer', "$name: token_type Bearer");
    is($b->{expires_in}, $ttl // 900, "$name: expires_in");
    like($b->{refresh_token} // '', qr/^[A-Za-z0-9_-]{43}$/, "$name: a 43-character refresh token");
    like($b->{refresh_expires_in} // '', qr/^[0-9]+$/, "$name: refresh_expires_in");
    ok(!defined $res->header('Set-Cookie'), "$name: no cookie");
    no_store_ok($res, $name);
    push @secrets, grep { defined } @$b{qw(access_token refresh_token)};
    return $b;
}

sub rt_refused { token_invalid_ok($_[0], $_[1], loose => 1) }

# The refresh_tokens row of a token (its SHA-256, hex or base64url).
sub rt_row {
    my ($rt) = @_;
    return db_row('SELECT * FROM refresh_tokens WHERE token_hash IN (' . sql_str(sha256_hex($rt))
                  . ', ' . sql_str(b64url_enc(Digest::SHA::sha256($rt))) . ')') || {};
}

sub srow {
    my ($sid) = @_;
    return db_row('SELECT * FROM sessions WHERE id = ' . sql_str($sid)) || {};
}

sub bcode {
    my ($at, $path, $vhost) = @_;
    return bearer_get(client(vhost => $vhost // 'tok'), $at, $path // '/private/')->code;
}

sub unauth_ok { problem_ok($_[0], 401, 'unauthenticated', $_[1]) }

# ---- rotation -------------------------------------------------------------------------------

my $a = token_account(vhost => 'tok', roles => 'editor');
my $uid = $a->{u}{id};
my $p0 = jwt_claims($a->{at});
push @secrets, $a->{at}, $a->{rt}, $a->{cookie};
my $rt0 = $a->{rt};
my ($rt1, $rt2, $at2);
{
    my $before = time;
    my $res = rfr($rt0);
    my $b = refresh_ok($res, 'refresh');
    like($res->header('Content-Type') // '', qr{^application/json\b}, 'refresh: JSON');
    $rt1 = $b->{refresh_token};
    isnt($rt1, $rt0, '... a new refresh token');
    my ($h1, $p1) = jwt_parts($b->{access_token});
    is($h1->{kid}, key_info('ed25519')->{kid}, '... an access token signed with the vhost\'s key');
    isnt($p1->{jti}, $p0->{jti}, '... a new jti');
    is($p1->{sid}, $p0->{sid}, '... the same sid');
    is($p1->{sub}, $uid, '... the same sub');
    is($p1->{auth_time}, $p0->{auth_time}, '... auth_time unchanged');
    is_deeply($p1->{amr}, $p0->{amr}, '... amr unchanged');
    ok($p1->{iat} >= $before - 1, '... iat now');
    is($p1->{exp}, $p1->{iat} + 900, '... exp = iat + 900');
    my $s = srow($p0->{sid});
    ok(abs($b->{refresh_expires_in} - ($s->{expires_at} - time)) <= 5,
       '... refresh_expires_in: until the session\'s absolute expiry');
    is(bcode($b->{access_token}), 200, '... the new access token opens /private/');
    is(bearer_get(client(vhost => 'tok'), $b->{access_token}, '/users/me', api => 1)->code, 200,
       '... and GET /users/me');
    is($a->{c}->get('/users/me')->code, 200, 'the cookie of the sign-in still works');

    my ($r0, $r1) = (rt_row($rt0), rt_row($rt1));
    ok($r0->{family_id} && ($r0->{family_id} // '') eq ($r1->{family_id} // ''),
       'the database: both tokens of one family');
    ok(defined $r0->{rotated_at} && !defined $r1->{rotated_at}, '... the old one rotated, the new one not');
    is($r1->{session_hash}, $r0->{session_hash}, '... bound to the same session');

    $b = refresh_ok(rfr($rt1), 'refresh with the new token');
    ($rt2, $at2) = @$b{qw(refresh_token access_token)};
    is(jwt_claims($at2)->{sid}, $p0->{sid}, '... still the same sid');
    is(scalar @{ audit_events($uid, 'token_refreshed') }, 0, 'no token_refreshed audit rows');
    is(scalar @{ audit_events($uid, 'refresh_reuse') }, 0, 'no refresh_reuse yet');
}

# ---- reuse: the family and its session revoked ------------------------------------------------

{
    # Another sign-in of the same account: its own family, untouched by what follows.
    my $o = token_login(client(vhost => 'tok'), $a->{f}{email}, $a->{f}{password});
    is(bcode($at2), 200, 'the newest access token (now cached)');

    my $res = rfr($rt0);
    rt_refused($res, 'the first refresh token again (rotated twice since)');
    my @ev = events_in($res, 'refresh_reuse');
    is(scalar @ev, 1, '... audit: refresh_reuse') or diag(json_enc(request_rows($res)));
    is($ev[0] && $ev[0]{user_id}, $uid, '... for the user');
    my $d = audit_detail($ev[0]) || {};
    is($d->{family}, rt_row($rt0)->{family_id}, '... detail {family}');
    rt_refused(rfr($rt2), 'the newest refresh token of the family after the reuse');
    rt_refused(rfr($rt1), 'the middle one');
    unauth_ok($a->{c}->get('/users/me'), 'the cookie of that sign-in after the reuse');
    is(guard_code(client(vhost => 'tok'), no_cookie => 1, headers => [bearer($at2)]), 401,
       'the family\'s access token: 401 everywhere');
    token_invalid_ok(bearer_get(client(vhost => 'tok'), $at2, '/private/'), 'the family\'s access token');
    ok(defined srow($p0->{sid})->{revoked_at}, 'the session is revoked in the database');

    refresh_ok(rfr($o->{rt}), 'the other sign-in\'s refresh token');
    is(bcode($o->{at}), 200, 'the other sign-in\'s access token');
    is(scalar @{ audit_events($uid, 'refresh_reuse') }, 1, 'still one refresh_reuse row');
}

# Reuse right after the rotation (same second, no grace): refused too.
{
    my $t = token_account(vhost => 'tok');
    my $n = refresh_ok(rfr($t->{rt}), 'refresh');
    rt_refused(rfr($t->{rt}), 'the old token again at once (AuthsvcRefreshReuseGrace 0)');
    rt_refused(rfr($n->{refresh_token}), '... the family is revoked');
    unauth_ok($t->{c}->get('/users/me'), '... and the session');
}

# ---- a refresh never makes the session fresh ---------------------------------------------------

{
    my $t = token_account(vhost => 'tok');
    my $auth = jwt_claims($t->{at})->{auth_time};
    sleep 4;
    my $b = refresh_ok(rfr($t->{rt}), 'refresh four seconds after the sign-in');
    is(jwt_claims($b->{access_token})->{auth_time}, $auth, '... auth_time is the sign-in\'s');
    problem_ok(bearer_get(client(vhost => 'tok'), $b->{access_token}, '/tg/fresh/'), 401,
               'reauthentication_required', '... the new token on Require authsvc fresh 3');
    is(bcode($b->{access_token}, '/tg/fresh-long/'), 200, '... on Require authsvc fresh 3600: 200');
}

# ---- the account is re-read ---------------------------------------------------------------------

{
    my $t = token_account(vhost => 'tok', first_name => 'Old');
    problem_ok(bearer_get(client(vhost => 'tok'), $t->{at}, '/tg/role/'), 403, 'forbidden',
               'Require authsvc role admin, before');
    set_roles($t->{f}{email}, 'admin auditor');
    set_verified($t->{f}{email});
    is($t->{c}->patch('/users/me', {first_name => 'New'})->code, 200, 'first name changed');
    my $b = refresh_ok(rfr($t->{rt}), 'refresh after the account changed');
    my $p = jwt_claims($b->{access_token});
    is_deeply([sort @{ $p->{roles} || [] }], [qw(admin auditor)], '... roles re-read');
    bool_is($p->{email_verified}, 1, '... email_verified re-read');
    is($p->{given_name}, 'New', '... given_name re-read');
    is(bcode($b->{access_token}, '/tg/role/'), 200, '... the new token passes Require authsvc role admin');
    is(bcode($b->{access_token}, '/tg/verified/'), 200, '... and Require authsvc verified');

    db_do("UPDATE users SET status = 'disabled' WHERE id = " . sql_str($t->{u}{id}));
    rt_refused(rfr($b->{refresh_token}), 'refresh for a disabled account');
}

# A two-step sign-in keeps its amr.
{
    my $m = mfa_account(vhost => 'tokmfa');
    my (undef, $res) = mfa_login($m);
    my $rt = (json_body($res) || {})->{refresh_token};
    my $b = refresh_ok(rfr($rt, vhost => 'tokmfa'), 'tokmfa: refresh after a two-step sign-in');
    is_deeply([sort @{ jwt_claims($b->{access_token})->{amr} || [] }], [qw(mfa otp pwd)],
              '... amr still ["pwd","otp","mfa"]');
    is(bcode($b->{access_token}, '/tg/mfa/', 'tokmfa'), 200, '... Require authsvc mfa: 200');
}

# ---- two refreshes at once -------------------------------------------------------------------------

{
    my $t = token_account(vhost => 'tok');
    my @r = parallel_requests(vhost => 'tok', path => '/auth/refresh',
                              bodies => [{refresh_token => $t->{rt}}, {refresh_token => $t->{rt}}]);
    is(join(' ', sort map { $_->{code} } @r), '200 401',
       'two refreshes of one token at once (no grace): one 200, one 401');
    my ($won) = grep { $_->{code} == 200 } @r;
    my $b = $won ? eval { JSON::PP->new->decode($won->{body}) } || {} : {};
    rt_refused(rfr($b->{refresh_token} // random_token()), '... the winner\'s new token is revoked with the family');
    unauth_ok($t->{c}->get('/users/me'), '... and the session');
}
{
    my $t = token_account(vhost => 'tokgrace');
    my @r = parallel_requests(vhost => 'tokgrace', path => '/auth/refresh',
                              bodies => [{refresh_token => $t->{rt}}, {refresh_token => $t->{rt}}]);
    is(join(' ', map { $_->{code} } @r), '200 200', 'tokgrace: two refreshes of one token at once: both 200');
    my @rts = map { (eval { JSON::PP->new->decode($_->{body}) } || {})->{refresh_token} // '' } @r;
    isnt($rts[0], $rts[1], '... two different new tokens');
    refresh_ok(rfr($_, vhost => 'tokgrace'), 'tokgrace: each of them works') for @rts;
    is($t->{c}->get('/users/me')->code, 200, '... the session lives');
}

# ---- AuthsvcRefreshReuseGrace 5s (tokgrace) --------------------------------------------------------

{
    my $g = token_account(vhost => 'tokgrace');
    my $guid = $g->{u}{id};
    my $b1 = refresh_ok(rfr($g->{rt}, vhost => 'tokgrace'), 'tokgrace: refresh');
    my $b1b = refresh_ok(rfr($g->{rt}, vhost => 'tokgrace'), 'tokgrace: the rotated token again within the grace');
    isnt($b1b->{refresh_token}, $b1->{refresh_token}, '... another new refresh token');
    is(jwt_claims($b1b->{access_token})->{sid}, jwt_claims($g->{at})->{sid}, '... of the same session');
    my $b2 = refresh_ok(rfr($b1->{refresh_token}, vhost => 'tokgrace'), 'tokgrace: the first new token');
    my $b2b = refresh_ok(rfr($b1b->{refresh_token}, vhost => 'tokgrace'), 'tokgrace: the second new token');
    is($g->{c}->get('/users/me')->code, 200, 'tokgrace: the session lives');
    is(scalar @{ audit_events($guid, 'refresh_reuse') }, 0, 'tokgrace: no refresh_reuse');

    sleep 6;
    rt_refused(rfr($g->{rt}, vhost => 'tokgrace'), 'tokgrace: the first token again after the grace');
    is(scalar @{ audit_events($guid, 'refresh_reuse') }, 1, '... audit: refresh_reuse');
    rt_refused(rfr($b2->{refresh_token}, vhost => 'tokgrace'), '... the family\'s newest tokens are revoked');
    rt_refused(rfr($b2b->{refresh_token}, vhost => 'tokgrace'), '... both of them');
    unauth_ok($g->{c}->get('/users/me'), '... and the session');
}

# ---- the session's lifetimes ---------------------------------------------------------------------

# tokidle: idle after 8s; refreshing every 3s keeps the session.
{
    my $i = token_account(vhost => 'tokidle');
    my $sid = jwt_claims($i->{at})->{sid};
    my $idle0 = srow($sid)->{idle_expires_at};
    my $rt = $i->{rt};
    for my $n (1 .. 3) {
        sleep 3;
        $rt = refresh_ok(rfr($rt, vhost => 'tokidle'), "tokidle: refresh after 3s (#$n)")->{refresh_token};
    }
    ok(time >= $idle0, 'tokidle: past the idle expiry the sign-in had');
    ok(srow($sid)->{idle_expires_at} > $idle0 + 3, '... the refreshes moved idle_expires_at');
    is($i->{c}->get('/users/me')->code, 200, '... and kept the session from idling out (its cookie works)');
}

# tokabs: every session ends 6s after sign-in, and so do its refresh tokens.
{
    my $x = token_account(vhost => 'tokabs');
    my $exp = srow(jwt_claims($x->{at})->{sid})->{expires_at};
    ok($x->{b}{refresh_expires_in} <= 6, 'tokabs: refresh_expires_in not beyond the session (6s)')
        or diag($x->{b}{refresh_expires_in});
    ok(rt_row($x->{rt})->{expires_at} <= $exp, '... nor the stored expiry');
    my $b = refresh_ok(rfr($x->{rt}, vhost => 'tokabs'), 'tokabs: refresh');
    ok($b->{refresh_expires_in} <= 6, '... still not beyond the session');
    ok(rt_row($b->{refresh_token})->{expires_at} <= $exp, '... nor the stored expiry');
    sleep 1 while time <= $exp + 1;
    rt_refused(rfr($b->{refresh_token}, vhost => 'tokabs'), 'tokabs: refresh after the session ended');
}

# ---- logout ends the family ------------------------------------------------------------------------

{
    my $t = token_account(vhost => 'tok');
    my $res = client(vhost => 'tok')->post('/auth/logout', undef, no_cookie => 1, headers => [bearer($t->{at})]);
    is($res->code, 204, 'logout with the Bearer token: 204');
    my ($ev) = events_in($res, 'logout');
    is((audit_detail($ev) || {})->{via}, 'bearer', '... audit logout {via: "bearer"}');
    rt_refused(rfr($t->{rt}), '... the refresh token then');
    unauth_ok($t->{c}->get('/users/me'), '... the cookie then');
    is(scalar @{ audit_events($t->{u}{id}, 'refresh_reuse') }, 0, '... (a revoked token is no reuse)');

    $t = token_account(vhost => 'tok');
    my $o = token_login(client(vhost => 'tok'), $t->{f}{email}, $t->{f}{password});
    $res = client(vhost => 'tok')->post('/auth/logout', {refresh_token => $t->{rt}}, no_cookie => 1);
    is($res->code, 204, 'logout with {refresh_token}: 204');
    ($ev) = events_in($res, 'logout');
    is((audit_detail($ev) || {})->{via}, 'refresh_token', '... audit logout {via: "refresh_token"}');
    token_invalid_ok(bearer_get(client(vhost => 'tok'), $t->{at}, '/private/'), '... the access token then');
    unauth_ok($t->{c}->get('/users/me'), '... the cookie then');
    rt_refused(rfr($t->{rt}), '... the refresh token then');
    refresh_ok(rfr($o->{rt}), 'another sign-in of the account keeps its refresh token');

    for my $case ([{refresh_token => random_token()}, 'an unknown refresh token'],
                  [{refresh_token => 'garbage'}, 'a malformed refresh token'],
                  [{refresh_token => $t->{rt}}, 'an already revoked refresh token']) {
        my ($body, $name) = @$case;
        is(client(vhost => 'tok')->post('/auth/logout', $body, no_cookie => 1)->code, 204, "logout with $name: 204");
    }
}

# ---- password change and reset end refresh tokens -----------------------------------------------

{
    my $t = token_account(vhost => 'tok');
    my $res = $t->{c}->put('/users/me/password', {current_password => $t->{f}{password},
                                                  new_password => new_password()});
    is($res->code, 200, 'the password changed') or diag($res->content);
    rt_refused(rfr($t->{rt}), 'a refresh token from before the password change');
    is(guard_code(client(vhost => 'tok'), no_cookie => 1, headers => [bearer($t->{at})]), 401,
       '... and its access token');

    $t = token_account(vhost => 'tok');
    my $anon = client(vhost => 'tok');
    is($anon->post('/auth/forgot-password', {email => $t->{f}{email}})->code, 202, 'forgot-password');
    my $m = mail_ok('the reset mail', to => $t->{f}{email}, template => 'reset_password');
    is($anon->post('/auth/reset-password', {token => $m->{token}, password => new_password()})->code, 200,
       'the password reset');
    rt_refused(rfr($t->{rt}), 'a refresh token from before the password reset');

    $t = token_account(vhost => 'tok');
    is($t->{c}->del('/users/me', json => {password => $t->{f}{password}})->code, 204, 'an account deleted');
    rt_refused(rfr($t->{rt}), 'its refresh token');
}

# ---- the refresh rate limit (tokrl: 3/1h per address) -------------------------------------------

{
    my $ip = random_ipv4();
    my $t = token_account(vhost => 'tokrl');
    my $c = xff_client('tokrl', $ip);
    my $rt = $t->{rt};
    for my $n (1 .. 3) {
        $rt = refresh_ok(refresh_post($c, $rt), "tokrl: refresh #$n from one address")->{refresh_token};
    }
    my $res = refresh_post($c, $rt);
    problem_ok($res, 429, 'rate_limited', 'tokrl: the fourth from that address');
    retry_after_ok($res, 3600, 'tokrl: the fourth');
    refresh_ok(refresh_post(xff_client('tokrl', random_ipv4()), $rt),
               'tokrl: the refused token from another address (the 429 did not use it up)');
}

# ---- bad input -----------------------------------------------------------------------------------

{
    my $c = client(vhost => 'tok');
    my $t = token_account(vhost => 'tok');
    for my $case ([{}, 'no refresh_token'], [{refresh_token => undef}, 'refresh_token null']) {
        my ($body, $name) = @$case;
        my $p = problem_ok($c->post('/auth/refresh', $body), 422, 'validation_failed', $name);
        fields_ok($p, {refresh_token => 'required'}, $name);
    }
    for my $case ([42, 'a number'], [JSON::PP::true(), 'true'], [[$t->{rt}], 'an array'],
                  [{token => $t->{rt}}, 'an object']) {
        my ($v, $name) = @$case;
        wrong_type_ok($c->post('/auth/refresh', {refresh_token => $v}), 'refresh_token', "refresh_token as $name");
    }
    client_error_ok($c->post('/auth/refresh', {refresh_token => ''}), 'refresh_token empty');
    client_error_ok($c->post('/auth/refresh', {refresh_token => 'A' x (1024 * 1024)}), 'refresh_token of 1 MB');
    problem_ok($c->post('/auth/refresh', undef, body => '{"refresh_token":'), 400, 'invalid_json', 'broken JSON');
    client_error_ok($c->post('/auth/refresh', undef, body => '[]'), 'a JSON array');
    problem_ok($c->post('/auth/refresh', undef, body => json_enc({refresh_token => $t->{rt}}), ctype => 'text/plain'),
               415, 'unsupported_media_type', 'text/plain');
    problem_ok($c->post('/auth/refresh', undef, body => "refresh_token=$t->{rt}",
                        ctype => 'application/x-www-form-urlencoded'),
               415, 'unsupported_media_type', 'a form');
    problem_ok($c->get('/auth/refresh'), 405, 'method_not_allowed', 'GET /auth/refresh');

    my $rt = random_token();
    for my $case ([random_token(), 'an unknown well-formed token'],
                  [substr($rt, 0, 42), '42 characters'], [$rt . 'A', '44 characters'],
                  [substr($rt, 0, 42) . '=', 'base64 padding'], [substr($rt, 0, 41) . '+/', 'standard base64'],
                  ["$t->{rt}\n", 'the real token with a newline'], [" $t->{rt}", 'the real token with a space'],
                  [uc $t->{rt}, 'the real token in upper case'],
                  [$t->{at}, 'the access token'], [$t->{cookie}, 'the session cookie\'s value'],
                  [sha256_hex($t->{rt}), 'the token\'s hash']) {
        my ($v, $name) = @$case;
        next if $name =~ /upper case/ && uc $t->{rt} eq $t->{rt};
        rt_refused($c->post('/auth/refresh', {refresh_token => $v}), "refresh with $name");
    }
    # The cookie is no refresh credential, and the token no Bearer one.
    my $p = problem_ok($t->{c}->post('/auth/refresh', {}), 422, 'validation_failed',
                       'refresh with only the session cookie');
    token_invalid_ok(bearer_get($c, $t->{rt}, '/private/'), 'the refresh token as a Bearer token');
    refresh_ok(rfr($t->{rt}), 'after all that, the real token still works');

    problem_ok(client()->post('/auth/refresh', {refresh_token => $t->{rt}}), 404, 'not_found',
               'refresh on the main server (no AuthsvcTokenSigningKey)');
}

# ---- no token is logged ------------------------------------------------------------------------

{
    my $log = error_log_since($mark);
    my @found = grep { index($log, $_) >= 0 } @secrets;
    ok(!@found, 'no token or cookie value appears in the error log') or diag(scalar(@found) . ' found');
}

done_testing();
