# Issue 7: GET /.well-known/jwks.json under the mount: the public keys that verify the
# access tokens ({"keys":[...]}, newest first, no private members, no HS256 secret),
# cacheable for 5 minutes; 404 where no key is configured. Key rotation (tokrot: the old
# key first, the new one last; tokvo: the old one verify-only): the newest signing key
# signs, every key verifies.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $ISS = 'https://issuer.test/api';
my $AUD = 'https://app.test';
my @PRIVATE = qw(d p q dp dq qi k oth);

# One JWK as the spec has it: exactly the members of its type, the values of the key file.
sub jwk_ok {
    my ($jwk, $keyname, $name) = @_;
    my $k = key_info($keyname);
    my %want = (%{ $k->{jwk} }, kid => $k->{kid}, alg => $k->{alg}, use => 'sig');
    is_deeply($jwk, \%want, "$name: the public JWK of $keyname (kid the RFC 7638 thumbprint, alg, use sig)")
        or diag('got ' . json_enc($jwk) . "\nwanted " . json_enc(\%want));
    my @priv = grep { exists $jwk->{$_} } @PRIVATE;
    ok(!@priv, "$name: no private members") or diag("@priv");
}

sub jwks_response_ok {
    my ($vhost, $name) = @_;
    my ($res, $b) = jwks_of($vhost);
    is($res->code, 200, "$name: 200") or diag($res->content);
    like($res->header('Content-Type') // '', qr{^application/json\b}, "$name: application/json");
    my $cc = $res->header('Cache-Control') // '';
    ok($cc =~ /\bpublic\b/ && $cc =~ /\bmax-age=300\b/ && $cc !~ /no-store/,
       "$name: Cache-Control: public, max-age=300") or diag("Cache-Control: $cc");
    ok(!defined $res->header('Set-Cookie'), "$name: no cookie");
    ok(ref $b eq 'HASH' && ref $b->{keys} eq 'ARRAY', "$name: {\"keys\":[...]}");
    is_deeply([keys %{ $b || {} }], ['keys'], "$name: nothing else");
    return ($b && $b->{keys}) || [];
}

# ---- one key of each kind ------------------------------------------------------------------

for my $case (['tok', 'ed25519', 'EdDSA'], ['tokes', 'es256', 'ES256'], ['tokrs', 'rs256', 'RS256']) {
    my ($vhost, $keyname, $alg) = @$case;
    my $keys = jwks_response_ok($vhost, "JWKS of $vhost");
    is(scalar @$keys, 1, "$vhost: one key");
    jwk_ok($keys->[0] || {}, $keyname, "$vhost");
    # A token of the vhost verifies with it (PyJWT).
    my $t = token_account(vhost => $vhost);
    my $v = pyjwt_verify($t->{at}, jwks => {keys => $keys}, alg => $alg, iss => $ISS, aud => $AUD);
    ok($v->{ok}, "$vhost: PyJWT verifies a token with the published key") or diag($v->{error});
    is($v->{nkeys}, 1, "$vhost: PyJWT can use the key");
}

# The RSA key: modulus of 2048 bits, exponent 65537 (from the key file, compared above).
{
    my (undef, $b) = jwks_of('tokrs');
    my $n = b64url_dec((($b || {})->{keys} || [{}])->[0]{n} // '') // '';
    is(length $n, 256, 'tokrs: n is 256 bytes (2048 bits, no leading zero)');
    is((($b || {})->{keys} || [{}])->[0]{e}, 'AQAB', 'tokrs: e AQAB');
}
# The P-256 key: x and y of 32 bytes each.
{
    my (undef, $b) = jwks_of('tokes');
    my $k = (($b || {})->{keys} || [{}])->[0];
    is(length(b64url_dec($k->{x} // '') // ''), 32, 'tokes: x is 32 bytes');
    is(length(b64url_dec($k->{y} // '') // ''), 32, 'tokes: y is 32 bytes');
}

# ---- HS256 is never published ------------------------------------------------------------------

{
    my $keys = jwks_response_ok('tokhs', 'JWKS of tokhs (HS256 only)');
    is_deeply($keys, [], 'tokhs: no key published');
    my (undef, $b) = jwks_of('tokhs');
    my $text = json_enc($b);
    ok(index($text, unpack('H*', hs_secret())) < 0 && index($text, b64url_enc(hs_secret())) < 0,
       'tokhs: the secret is nowhere in it');

    $keys = jwks_response_ok('tokmix', 'JWKS of tokmix (HS256 verify-only, RS256)');
    is(scalar @$keys, 1, 'tokmix: one key, the RSA one');
    jwk_ok($keys->[0] || {}, 'rs256', 'tokmix');
    ok(!grep({ ($_->{kty} // '') eq 'oct' || ($_->{kid} // '') eq hs_kid() } @$keys),
       'tokmix: no oct key, no HS256 kid');
    # The RSA key signs there; the HS256 secret still verifies (a token of tokhs).
    my $m = token_account(vhost => 'tokmix');
    is((jwt_parts($m->{at}))[0]{alg}, 'RS256', 'tokmix: tokens are signed RS256');
    is(bearer_get($m->{c}, $m->{at}, '/private/')->code, 200, 'tokmix: its token opens /private/');
    my $h = token_account(vhost => 'tokhs');
    is(bearer_get($m->{c}, $h->{at}, '/private/')->code, 200,
       'tokmix: a token of tokhs (the verify-only HS256 secret) opens /private/');
}

# ---- rotation --------------------------------------------------------------------------------

my $old = token_account(vhost => 'tok');    # signed with the old key (ed25519)
{
    my $keys = jwks_response_ok('tokrot', 'JWKS of tokrot (old key, then new key)');
    is(scalar @$keys, 2, 'tokrot: both keys published');
    jwk_ok($keys->[0] || {}, 'ed25519-b', 'tokrot, first (newest)');
    jwk_ok($keys->[1] || {}, 'ed25519', 'tokrot, second (the old one)');

    my $n = token_account(vhost => 'tokrot');
    is((jwt_parts($n->{at}))[0]{kid}, key_info('ed25519-b')->{kid}, 'tokrot: the new (last) key signs');
    is(bearer_get($n->{c}, $n->{at}, '/private/')->code, 200, 'tokrot: its own token opens /private/');
    is(bearer_get($n->{c}, $old->{at}, '/private/')->code, 200,
       'tokrot: a token signed with the old key (of tok) still opens /private/');
    my $me = bearer_get($n->{c}, $old->{at}, '/users/me', api => 1);
    is($me->code, 200, 'tokrot: ... and GET /users/me');
    is((json_body($me) || {})->{id}, $old->{u}{id}, '... as its user');
    my $v = pyjwt_verify($n->{at}, jwks => {keys => $keys}, alg => 'EdDSA', iss => $ISS, aud => $AUD);
    ok($v->{ok}, 'tokrot: PyJWT verifies the new token with the JWKS') or diag($v->{error});
    $v = pyjwt_verify($old->{at}, jwks => {keys => $keys}, alg => 'EdDSA', iss => $ISS, aud => $AUD);
    ok($v->{ok}, 'tokrot: ... and the old one') or diag($v->{error});

    $keys = jwks_response_ok('tokvo', 'JWKS of tokvo (new key, old key verify-only)');
    is(scalar @$keys, 2, 'tokvo: both keys published');
    my %kids = map { ($_->{kid} // '') => 1 } @$keys;
    ok($kids{ key_info('ed25519')->{kid} } && $kids{ key_info('ed25519-b')->{kid} },
       'tokvo: the kids of both');
    my $vo = token_account(vhost => 'tokvo');
    is((jwt_parts($vo->{at}))[0]{kid}, key_info('ed25519-b')->{kid},
       'tokvo: the key listed first signs (the last is verify-only)');
    is(bearer_get($vo->{c}, $old->{at}, '/private/')->code, 200,
       'tokvo: a token of the verify-only key opens /private/');
}

# ---- no key: 404; other methods and paths ---------------------------------------------------

{
    my ($res) = jwks_of('default');
    problem_ok($res, 404, 'not_found', 'JWKS on the main server (no AuthsvcTokenSigningKey)');
    my $c = client(vhost => 'tok');
    problem_ok($c->post('/.well-known/jwks.json', {}), 405, 'method_not_allowed', 'POST to the JWKS');
    problem_ok($c->del('/.well-known/jwks.json'), 405, 'method_not_allowed', 'DELETE the JWKS');
    problem_ok($c->get('/.well-known/jwks'), 404, 'not_found', 'GET /.well-known/jwks (no .json)');
    problem_ok($c->get('/.well-known/jwks.json/x'), 404, 'not_found', 'GET /.well-known/jwks.json/x');
    $res = $c->get('/.well-known/jwks.json?kid=x');
    is($res->code, 200, 'a query string is ignored: 200');
    $res = $c->head('/.well-known/jwks.json');
    is($res->code, 200, 'HEAD: 200');
    # With a cookie or a Bearer token: the same public document.
    my $t = token_account(vhost => 'tok');
    my $with = $t->{c}->get('/.well-known/jwks.json', headers => [bearer($t->{at})]);
    is($with->code, 200, 'with a cookie and a Bearer token: 200');
    is_deeply(json_body($with), (jwks_of('tok'))[1], '... the same keys');
    $with = client(vhost => 'tok')->get('/.well-known/jwks.json', headers => [bearer('x.y.z')]);
    is($with->code, 200, 'with a malformed Bearer token: still 200 (the JWKS is public)');
}

done_testing();
