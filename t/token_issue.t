# Issue 7: the tokens a sign-in gives where AuthsvcTokenSigningKey is set (vhosts tok,
# tokdef, tokes, tokrs, tokhs, tokshort, tokmfa of t/conf/extra.conf.in): access_token
# (a JWS: header {alg, kid, typ}, the claims of the spec), token_type, expires_in,
# refresh_token, refresh_expires_in; none on the main server (no key) or before the
# second step of a two-step sign-in. Kids and signatures are checked against keys and
# code of the test's own (Python cryptography and PyJWT).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA ();
use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $ISS = 'https://issuer.test/api';
my $AUD = 'https://app.test';
my $PUBLIC_URL = 'https://accounts.example.test/api';    # AuthsvcPublicURL of the main server
my $mark = error_log_mark();
my @secrets;    # every token seen, none of which may be logged

sub srow_of_cookie {
    my ($cookie) = @_;
    return db_row('SELECT * FROM sessions WHERE token_hash = ' . sql_str(sha256_hex($cookie // '')));
}

# The token fields of a 200 sign-in: returns the body.
sub token_fields_ok {
    my ($res, $ttl, $name) = @_;
    is($res->code, 200, "$name: 200") or diag($res->content);
    my $b = json_body($res) || {};
    is_deeply([sort keys %$b],
              [sort qw(user session access_token token_type expires_in refresh_token refresh_expires_in)],
              "$name: {user, session} and the token fields");
    is($b->{token_type}, 'Bearer', "$name: token_type Bearer");
    ok(!ref $b->{expires_in} && ($b->{expires_in} // '') =~ /^[0-9]+$/ && $b->{expires_in} == $ttl,
       "$name: expires_in $ttl") or diag('expires_in ' . ($b->{expires_in} // 'undef'));
    like($b->{refresh_token} // '', qr/^[A-Za-z0-9_-]{43}$/, "$name: refresh_token, 43 base64url characters");
    is(length(b64url_dec($b->{refresh_token} // '') // ''), 32, "$name: ... 32 bytes");
    like($b->{refresh_expires_in} // '', qr/^[0-9]+$/, "$name: refresh_expires_in, seconds");
    like($res->content, qr/"expires_in"\s*:\s*[0-9]+\s*[,}]/, "$name: expires_in a JSON number");
    like($res->content, qr/"refresh_expires_in"\s*:\s*[0-9]+\s*[,}]/,
         "$name: refresh_expires_in a JSON number");
    my @p = split /\./, $b->{access_token} // '', -1;
    is(scalar @p, 3, "$name: access_token has three parts");
    ok(!grep({ !/^[A-Za-z0-9_-]+$/ } @p), "$name: ... each base64url without padding");
    push @secrets, grep { defined } $b->{access_token}, $b->{refresh_token};
    return $b;
}

# ---- EdDSA (tok): the fields, the header, the claims ---------------------------------------

my $edkey = key_info('ed25519');
my $t0 = time;
my $a = token_account(vhost => 'tok', username => unique_username('Tok'), first_name => 'Toki',
                      last_name => 'Ken', roles => 'editor admin', verified => 1);
my $t1 = time;
my $b = token_fields_ok($a->{res}, 900, 'login on tok');
no_store_ok($a->{res}, 'login on tok');
like($a->{res}->header('Content-Type') // '', qr{^application/json\b}, 'login on tok: JSON');
ok(defined $a->{cookie} && length $a->{cookie}, 'login on tok: the session cookie is set as before');
push @secrets, $a->{cookie};
my $srow = srow_of_cookie($a->{cookie}) || {};
ok(abs(($b->{refresh_expires_in} // 0) - ($srow->{expires_at} // 0) + $t1) <= 5,
   'refresh_expires_in: to the session\'s absolute expiry (12h, shorter than the 30d default)')
    or diag("refresh_expires_in $b->{refresh_expires_in}, session ends in " . (($srow->{expires_at} // 0) - $t1));

my ($h, $p, $sig, $ptext) = jwt_parts($a->{at});
is_deeply($h, {alg => 'EdDSA', kid => $edkey->{kid}, typ => 'JWT'},
          'header {"alg":"EdDSA","kid":<RFC 7638 thumbprint of the key>,"typ":"JWT"}')
    or diag(json_enc($h));
is(length($sig // ''), 64, 'an Ed25519 signature: 64 bytes');
ok(length $a->{at} <= 8192, 'the token is at most 8192 bytes');
$p ||= {};
is_deeply([sort keys %$p],
          [sort qw(iss aud sub sid jti iat nbf exp auth_time amr email email_verified roles
                   preferred_username given_name family_name)],
          'the claims of the spec, no others') or diag(json_enc($p));
is($p->{iss}, $ISS, 'iss: AuthsvcTokenIssuer');
is($p->{aud}, $AUD, 'aud: AuthsvcTokenAudience, a string');
is($p->{sub}, $a->{u}{id}, 'sub: the user id');
is($p->{sid}, $srow->{id}, 'sid: the public id of the session the login made');
like($p->{jti} // '', qr/^[A-Za-z0-9_-]{22}$/, 'jti: 22 base64url characters');
for my $k (qw(iat nbf exp auth_time)) {
    like($ptext // '', qr/"$k"\s*:\s*[0-9]+\s*[,}]/, "$k: a JSON integer");
}
ok($p->{iat} >= $t0 - 1 && $p->{iat} <= $t1 + 1, 'iat: now') or diag("iat $p->{iat}, now $t0..$t1");
is($p->{nbf}, $p->{iat}, 'nbf = iat');
is($p->{exp}, $p->{iat} + 900, 'exp = iat + 15m (the default AuthsvcAccessTokenTTL)');
is($p->{auth_time}, $srow->{auth_at}, 'auth_time: the session\'s authentication time');
ok(abs(($p->{auth_time} // 0) - $p->{iat}) <= 2, '... which is the sign-in just made');
is_deeply($p->{amr}, ['pwd'], 'amr ["pwd"]');
is($p->{email}, lc $a->{f}{email}, 'email');
bool_is($p->{email_verified}, 1, 'email_verified');
is_deeply([sort @{ $p->{roles} || [] }], [qw(admin editor)], 'roles: an array of the account\'s roles');
is($p->{preferred_username}, $a->{f}{username}, 'preferred_username');
is($p->{given_name}, 'Toki', 'given_name');
is($p->{family_name}, 'Ken', 'family_name');
ok(index($a->{at}, $a->{cookie}) < 0 && index($ptext, $b->{refresh_token}) < 0,
   'neither the session cookie nor the refresh token is in the access token');
ok(index($ptext, sha256_hex($a->{cookie})) < 0, '... nor the session\'s token hash');

# sid is the session GET /users/me/sessions calls current.
{
    my $list = (json_body($a->{c}->get('/users/me/sessions')) || {})->{sessions} || [];
    my ($cur) = grep { $_->{current} } @$list;
    is($cur && $cur->{id}, $p->{sid}, 'sid is the current session of GET /users/me/sessions');
}

# The refresh token is kept only as a hash, bound to the session.
{
    my $rt = $b->{refresh_token};
    is(db_value('SELECT count(*) AS n FROM refresh_tokens WHERE token_hash = ' . sql_str($rt)), 0,
       'the refresh token itself is not stored');
    my $row = db_row('SELECT * FROM refresh_tokens WHERE token_hash IN ('
                     . sql_str(sha256_hex($rt)) . ', ' . sql_str(b64url_enc(Digest::SHA::sha256($rt))) . ')');
    ok($row, 'a refresh_tokens row under its SHA-256');
    is($row && $row->{user_id}, $a->{u}{id}, '... of the account');
    is($row && $row->{session_hash}, sha256_hex($a->{cookie}), '... bound to the login\'s session');
    ok($row && !defined $row->{rotated_at} && !defined $row->{revoked_at}, '... not rotated, not revoked');
    ok($row && abs($row->{expires_at} - $srow->{expires_at}) <= 2, '... expiring with the session')
        or diag(json_enc($row));
}

# Independent verification: PyJWT, with the key the server publishes.
{
    my (undef, $jwks) = jwks_of('tok');
    my $v = pyjwt_verify($a->{at}, jwks => $jwks, alg => 'EdDSA', iss => $ISS, aud => $AUD);
    ok($v->{ok}, 'PyJWT verifies the token with the JWKS (EdDSA, issuer and audience)') or diag($v->{error});
    is_deeply($v->{claims}, $p, '... the same claims');
    $v = pyjwt_verify($a->{at}, jwks => $jwks, alg => 'EdDSA', iss => $ISS, aud => 'https://other.test');
    ok(!$v->{ok}, '... and refuses it for another audience (the check is real)');
    $v = pyjwt_verify($a->{at}, jwks => {keys => [{%{ $edkey->{jwk} }, kid => $edkey->{kid}}]},
                      alg => 'EdDSA', iss => $ISS, aud => $AUD);
    ok($v->{ok}, '... and with the public key the test derived from the key file') or diag($v->{error});
}

# Another sign-in: a new session, new tokens.
{
    my $l = token_login(client(vhost => 'tok'), $a->{f}{email}, $a->{f}{password});
    my $b2 = token_fields_ok($l->{res}, 900, 'a second login');
    my $p2 = jwt_claims($b2->{access_token});
    isnt($p2->{sid}, $p->{sid}, '... another sid');
    isnt($p2->{jti}, $p->{jti}, '... another jti');
    isnt($b2->{refresh_token}, $b->{refresh_token}, '... another refresh token');
}

# An account without names, username, roles or verification.
{
    my $n = token_account(vhost => 'tok');
    my $q = jwt_claims($n->{at});
    is_deeply([sort keys %$q], [sort qw(iss aud sub sid jti iat nbf exp auth_time amr email email_verified roles)],
              'a plain account: no preferred_username, given_name, family_name');
    is_deeply($q->{roles}, [], '... roles []');
    bool_is($q->{email_verified}, 0, '... email_verified');
    push @secrets, $n->{at}, $n->{rt};
}

# ---- refused sign-ins give no tokens -----------------------------------------------------------

{
    my $c = client(vhost => 'tok');
    my $res = $c->login($a->{f}{email}, $a->{f}{password} . 'x');
    my $pr = problem_ok($res, 401, 'invalid_credentials', 'a wrong password on tok');
    ok(!exists $pr->{access_token} && !exists $pr->{refresh_token}, '... no tokens');
    $res = $c->post('/auth/login', {login => $a->{f}{email}});
    $pr = problem_ok($res, 422, 'validation_failed', 'a login without a password on tok');
    ok(!exists $pr->{access_token}, '... no tokens');
    problem_ok($c->post('/auth/login', undef, body => '{"login":'), 400, 'invalid_json',
               'broken JSON on tok');
    $res = $c->post('/auth/login', {login => [$a->{f}{email}], password => $a->{f}{password}});
    client_error_ok($res, 'login as an array on tok');
}

# ---- no signing key: no tokens ------------------------------------------------------------

{
    my ($c, $f) = account();
    my $res = $c->login($f->{email}, $f->{password});
    is($res->code, 200, 'login on the main server (no AuthsvcTokenSigningKey): 200');
    is_deeply([sort keys %{ json_body($res) || {} }], [qw(session user)], '... {user, session} only');
}

# ---- the defaults: issuer AuthsvcPublicURL, audience the issuer ------------------------------

{
    my $d = token_account(vhost => 'tokdef');
    token_fields_ok($d->{res}, 900, 'login on tokdef');
    my ($dh, $dp) = jwt_parts($d->{at});
    is($dh->{kid}, $edkey->{kid}, 'tokdef: the same key, the same kid');
    is($dp->{iss}, $PUBLIC_URL, 'tokdef: iss defaults to AuthsvcPublicURL');
    is($dp->{aud}, $PUBLIC_URL, 'tokdef: aud defaults to the issuer');
}

# ---- AuthsvcAccessTokenTTL ----------------------------------------------------------------

{
    my $s = token_account(vhost => 'tokshort');
    my $sb = token_fields_ok($s->{res}, 10, 'login on tokshort (AuthsvcAccessTokenTTL 10s)');
    my $sp = jwt_claims($s->{at});
    is($sp->{exp} - $sp->{iat}, 10, 'tokshort: exp = iat + 10');
    is($sb->{refresh_expires_in}, 300, 'tokshort: refresh_expires_in 300 (AuthsvcRefreshTokenTTL 5m)');
    my $row = db_row('SELECT * FROM refresh_tokens WHERE token_hash IN ('
                     . sql_str(sha256_hex($sb->{refresh_token})) . ', '
                     . sql_str(b64url_enc(Digest::SHA::sha256($sb->{refresh_token} // ''))) . ')') || {};
    is(($row->{expires_at} // 0) - ($row->{created_at} // 0), 300, 'tokshort: ... stored expiry 300s after creation');
}

# ---- the other algorithms ---------------------------------------------------------------------

for my $case (['tokes', 'es256', 'ES256', 64], ['tokrs', 'rs256', 'RS256', 256]) {
    my ($vhost, $keyname, $alg, $siglen) = @$case;
    my $k = key_info($keyname);
    my $x = token_account(vhost => $vhost);
    token_fields_ok($x->{res}, 900, "login on $vhost");
    my ($xh, $xp, $xsig) = jwt_parts($x->{at});
    is_deeply($xh, {alg => $alg, kid => $k->{kid}, typ => 'JWT'}, "$vhost: header alg $alg, kid the thumbprint")
        or diag(json_enc($xh));
    is(length($xsig // ''), $siglen, "$vhost: a $siglen-byte signature" . ($alg eq 'ES256' ? ' (r||s)' : ''));
    is($xp->{sub}, $x->{u}{id}, "$vhost: sub");
    my (undef, $jwks) = jwks_of($vhost);
    my $v = pyjwt_verify($x->{at}, jwks => $jwks, alg => $alg, iss => $ISS, aud => $AUD);
    ok($v->{ok}, "$vhost: PyJWT verifies it with the JWKS") or diag($v->{error});
    $v = pyjwt_verify($x->{at}, jwks => {keys => [{%{ $k->{jwk} }, kid => $k->{kid}}]}, alg => $alg,
                      iss => $ISS, aud => $AUD);
    ok($v->{ok}, "$vhost: ... and with the key the test derived") or diag($v->{error});
    is(bearer_get($x->{c}, $x->{at}, '/private/')->code, 200, "$vhost: the token opens /private/");
}

{
    my $x = token_account(vhost => 'tokhs');
    token_fields_ok($x->{res}, 900, 'login on tokhs');
    my ($xh, $xp, $xsig) = jwt_parts($x->{at});
    is_deeply($xh, {alg => 'HS256', kid => hs_kid(), typ => 'JWT'},
              'tokhs: header alg HS256, kid "hs-" + HMAC of the secret') or diag(json_enc($xh));
    my ($input) = $x->{at} =~ /^([^.]+\.[^.]+)\./;
    is($xsig, Digest::SHA::hmac_sha256($input, hs_secret()), 'tokhs: the signature is HMAC-SHA256 with the secret');
    my $v = pyjwt_verify($x->{at}, secret => hs_secret(), alg => 'HS256', iss => $ISS, aud => $AUD);
    ok($v->{ok}, 'tokhs: PyJWT verifies it with the secret') or diag($v->{error});
    my $text = json_enc($xh) . json_enc($xp);
    ok(index($text, unpack('H*', hs_secret())) < 0 && index($text, b64url_enc(hs_secret())) < 0,
       'tokhs: the secret is nowhere in the header or the claims');
}

# ---- two-step sign-in (tokmfa) ---------------------------------------------------------------

{
    my $m = mfa_account(vhost => 'tokmfa');
    my ($c, $res, $mfa_token) = mfa_start($m);
    my $pr = problem_ok($res, 401, 'mfa_required', 'tokmfa: the first step');
    ok(!exists $pr->{access_token} && !exists $pr->{refresh_token}, '... gives no tokens');
    ok(defined $mfa_token, '... an mfa_token');
    $res = $c->post('/auth/login/mfa', {mfa_token => $mfa_token, code => mfa_code($m)});
    my $mb = token_fields_ok($res, 900, 'tokmfa: the second step with a code');
    my $mp = jwt_claims($mb->{access_token});
    is_deeply([sort @{ $mp->{amr} || [] }], [qw(mfa otp pwd)], '... amr ["pwd","otp","mfa"]');
    is($mp->{sub}, $m->{u}{id}, '... sub');
    is($mp->{sid}, (srow_of_cookie($c->jar->{authsvc}) || {})->{id}, '... sid: the new session');

    (undef, $res) = mfa_login($m, recovery_code => $m->{recovery}[0]);
    my $rb = token_fields_ok($res, 900, 'tokmfa: the second step with a recovery code');
    is_deeply([sort @{ jwt_claims($rb->{access_token})->{amr} || [] }], [qw(mfa pwd rc)],
              '... amr ["pwd","rc","mfa"]');

    # A wrong code: no tokens.
    ($c, $res, $mfa_token) = mfa_start($m);
    $res = $c->post('/auth/login/mfa', {mfa_token => $mfa_token, code => wrong_code($m)});
    is($res->code, 401, 'tokmfa: a wrong code: 401');
    ok(!exists((json_body($res) || {})->{access_token}), '... no tokens');
}

# ---- no token is logged ----------------------------------------------------------------------

{
    my $log = error_log_since($mark);
    my @found = grep { index($log, $_) >= 0 } @secrets;
    ok(!@found, 'no token or cookie value appears in the error log (LogLevel authsvc:debug)')
        or diag(scalar(@found) . ' found');
}

done_testing();
