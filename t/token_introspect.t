# Issue 7: POST /auth/introspect (RFC 7662) where AuthsvcIntrospect is On (tok: for
# 127.0.0.1 and ::1; tokhs: open): {"active":true, ...} for a live access token or
# refresh token, exactly {"active":false} for anything else (garbage, forged, expired,
# another key's, revoked, rotated); the form and the JSON body; 422 without a token;
# 404 not_found where it is Off (the default).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA ();
use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $FORM = 'application/x-www-form-urlencoded';

sub form_esc {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

# POST the token as a form (hint => NAME adds token_type_hint) or as JSON (json => 1).
sub introspect {
    my ($token, %o) = @_;
    my $c = client(vhost => $o{vhost} // 'tok');
    if ($o{json}) {
        my %b = (token => $token);
        $b{token_type_hint} = $o{hint} if defined $o{hint};
        return $c->post('/auth/introspect', \%b);
    }
    my $body = 'token=' . form_esc($token);
    $body .= '&token_type_hint=' . form_esc($o{hint}) if defined $o{hint};
    return $c->post('/auth/introspect', undef, body => $body, ctype => $FORM);
}

# A 200 answer: returns the body.
sub answer_ok {
    my ($res, $name) = @_;
    is($res->code, 200, "$name: 200") or diag($res->content);
    like($res->header('Content-Type') // '', qr{^application/json\b}, "$name: JSON");
    no_store_ok($res, $name);
    ok(!defined $res->header('Set-Cookie'), "$name: no cookie");
    return json_body($res) || {};
}

sub inactive_ok {
    my ($res, $name) = @_;
    my $b = answer_ok($res, $name);
    is_deeply($b, {active => JSON::PP::false()}, "$name: exactly {\"active\":false}") or diag(json_enc($b));
}

sub rt_row {
    my ($rt) = @_;
    return db_row('SELECT * FROM refresh_tokens WHERE token_hash IN (' . sql_str(sha256_hex($rt))
                  . ', ' . sql_str(b64url_enc(Digest::SHA::sha256($rt))) . ')') || {};
}

my $t = token_account(vhost => 'tok', roles => 'editor admin', verified => 1);
my $claims = jwt_claims($t->{at});

# ---- a live access token --------------------------------------------------------------------

for my $how ([form => {}], [JSON => {json => 1}], ['form with token_type_hint=refresh_token' => {hint => 'refresh_token'}],
             ['JSON with token_type_hint=access_token' => {json => 1, hint => 'access_token'}]) {
    my ($name, $o) = @$how;
    my $b = answer_ok(introspect($t->{at}, %$o), "an access token, $name");
    bool_is($b->{active}, 1, "an access token, $name: active");
    # Every claim of the token, and active, token_type and username.
    is_deeply([sort keys %$b], [sort(keys %$claims, qw(active token_type username))],
              "an access token, $name: its claims and the RFC 7662 members") or diag(json_enc($b));
    is($b->{token_type}, 'access_token', "an access token, $name: token_type access_token");
    is($b->{$_}, $claims->{$_}, "an access token, $name: $_") for qw(sub sid iss aud exp iat nbf jti auth_time email);
    is_deeply($b->{amr}, $claims->{amr}, "an access token, $name: amr");
    is_deeply([sort @{ $b->{roles} || [] }], [qw(admin editor)], "an access token, $name: roles");
    is($b->{username}, $claims->{email}, "an access token, $name: username = email");
}

# ---- a live refresh token -------------------------------------------------------------------

{
    my $row = rt_row($t->{rt});
    for my $how ([form => {}], [JSON => {json => 1}], ['with token_type_hint=access_token' => {hint => 'access_token'}]) {
        my ($name, $o) = @$how;
        my $b = answer_ok(introspect($t->{rt}, %$o), "a refresh token, $name");
        bool_is($b->{active}, 1, "a refresh token, $name: active");
        is_deeply([sort keys %$b], [sort qw(active token_type sub sid exp iat)],
                  "a refresh token, $name: {active, token_type, sub, sid, exp, iat}") or diag(json_enc($b));
        is($b->{token_type}, 'refresh_token', "a refresh token, $name: token_type refresh_token");
        is($b->{sub}, $t->{u}{id}, "a refresh token, $name: sub");
        is($b->{sid}, $claims->{sid}, "a refresh token, $name: sid");
        is($b->{exp}, $row->{expires_at}, "a refresh token, $name: exp (its expiry)");
        is($b->{iat}, $row->{created_at}, "a refresh token, $name: iat (when it was made)");
    }
    # Introspection uses nothing up.
    my $n = refresh_post(client(vhost => 'tok'), $t->{rt});
    is($n->code, 200, 'the introspected refresh token still refreshes') or diag($n->content);
    my $nb = json_body($n) || {};

    # The rotated one is no longer live, and asking about it is no reuse.
    inactive_ok(introspect($t->{rt}), 'a rotated refresh token');
    inactive_ok(introspect($t->{rt}, json => 1, hint => 'refresh_token'), 'a rotated refresh token (JSON, hint)');
    my $b = answer_ok(introspect($nb->{refresh_token}), 'the new refresh token');
    bool_is($b->{active}, 1, 'the new refresh token: active');
    is(refresh_post(client(vhost => 'tok'), $nb->{refresh_token})->code, 200,
       'the family was not revoked by introspecting the rotated token');
    is(scalar @{ audit_events($t->{u}{id}, 'refresh_reuse') }, 0, '... no refresh_reuse');
}

# ---- not live ---------------------------------------------------------------------------------

{
    my ($h, $p, $sig) = jwt_parts($t->{at});
    inactive_ok(introspect('abc'), 'garbage');
    inactive_ok(introspect('a.b.c'), 'three garbage parts');
    inactive_ok(introspect(random_token()), 'an unknown 43-character token');
    inactive_ok(introspect('A' x 10_000), 'ten thousand characters (over 8192)');
    inactive_ok(introspect(forge_token(header => $h, payload => {%$p, roles => ['root']}, sig => $sig)),
                'an access token with tampered claims');
    inactive_ok(introspect(forge_token(header => {alg => 'none'}, payload => $p, sig => '')), 'alg none');
    inactive_ok(introspect(forge_token(header => {%$h, alg => 'HS256'}, payload => $p,
                                       hmac_key => key_info('ed25519')->{pub_pem})),
                'HS256 keyed with the public key');
    inactive_ok(introspect($t->{cookie}), 'the session cookie\'s value');
    inactive_ok(introspect(token_account(vhost => 'tokes')->{at}), 'an access token of another key (tokes)');
    inactive_ok(introspect(token_account(vhost => 'tokdef')->{at}), 'an access token of another issuer (tokdef)');

    # Revoked: the session logged out.
    my $r = token_account(vhost => 'tok');
    my $ok = answer_ok(introspect($r->{at}), 'before logout');
    bool_is($ok->{active}, 1, 'before logout: active');
    is($r->{c}->post('/auth/logout')->code, 204, 'logout');
    inactive_ok(introspect($r->{at}), 'the access token of a logged-out session');
    inactive_ok(introspect($r->{rt}), 'the refresh token of a logged-out session');
}

# Expired and other claims (tokhs: the test signs).
{
    my $s = token_account(vhost => 'tokhs');
    my ($h, $p) = jwt_parts($s->{at});
    my $now = time;
    my $sign = sub { forge_token(header => $h, payload => {%$p, @_}, hmac_key => hs_secret()) };
    my $b = answer_ok(introspect($sign->(), vhost => 'tokhs'), 'tokhs: the claims re-signed by the test');
    bool_is($b->{active}, 1, 'tokhs: ... active');
    inactive_ok(introspect($sign->(exp => $now - 120, iat => $now - 1000, nbf => $now - 1000), vhost => 'tokhs'),
                'tokhs: expired two minutes ago');
    inactive_ok(introspect($sign->(nbf => $now + 600), vhost => 'tokhs'), 'tokhs: not yet valid');
    inactive_ok(introspect($sign->(aud => 'https://other.test'), vhost => 'tokhs'), 'tokhs: another audience');
    inactive_ok(introspect($sign->(iss => 'https://other.test'), vhost => 'tokhs'), 'tokhs: another issuer');
    inactive_ok(introspect($sign->(sid => random_token() =~ s/^(.{22}).*/$1/r), vhost => 'tokhs'),
                'tokhs: an unknown sid');
}

# ---- bad input ------------------------------------------------------------------------------------

{
    my $c = client(vhost => 'tok');
    my $p = problem_ok($c->post('/auth/introspect', {}), 422, 'validation_failed', 'JSON without a token');
    fields_ok($p, {token => 'required'}, 'JSON without a token');
    $p = problem_ok($c->post('/auth/introspect', {token => undef}), 422, 'validation_failed', 'token null');
    fields_ok($p, {token => 'required'}, 'token null');
    wrong_type_ok($c->post('/auth/introspect', {token => 42}), 'token', 'token as a number');
    wrong_type_ok($c->post('/auth/introspect', {token => [$t->{at}]}), 'token', 'token as an array');
    problem_ok($c->post('/auth/introspect', undef, body => 'token_type_hint=access_token', ctype => $FORM),
               422, 'validation_failed', 'a form without a token');
    problem_ok($c->post('/auth/introspect', undef, body => '', ctype => $FORM), 422, 'validation_failed',
               'an empty form');
    problem_ok($c->post('/auth/introspect', undef, body => '{"token":'), 400, 'invalid_json', 'broken JSON');
    problem_ok($c->post('/auth/introspect', undef, body => "token=$t->{at}", ctype => 'text/plain'), 415,
               'unsupported_media_type', 'text/plain');
    client_error_ok($c->post('/auth/introspect', undef, body => 'token=' . ('A' x (1024 * 1024)), ctype => $FORM),
                    'a form of 1 MB');
    problem_ok($c->get('/auth/introspect'), 405, 'method_not_allowed', 'GET /auth/introspect');
}

# ---- Off by default --------------------------------------------------------------------------------

for my $vhost (qw(tokes tokgrace default)) {
    my $res = introspect($t->{at}, vhost => $vhost);
    problem_ok($res, 404, 'not_found', "introspection on $vhost (AuthsvcIntrospect Off)");
    $res = introspect($t->{at}, vhost => $vhost, json => 1);
    problem_ok($res, 404, 'not_found', "introspection on $vhost, JSON");
}

done_testing();
