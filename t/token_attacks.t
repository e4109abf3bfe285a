# Issue 7: Bearer tokens the guard must refuse, each with 401 token_invalid
# (problem+json, WWW-Authenticate: Bearer error="invalid_token"): alg none, algorithm
# confusion (HS256 keyed with the public key, RS256/ES256 on an EdDSA kid), missing or
# unknown kid, another key's signature, tampered header or claims, crit, typ, duplicate
# keys, malformed and oversized tokens, tokens of other vhosts (other keys, other
# issuer/audience); and, on tokhs (HS256, whose secret the test knows, so it can sign
# any claims), every claim-level rule: iss, aud, exp/nbf/iat with AuthsvcClockSkew (30s),
# sub, sid, a revoked session, a deleted account. Expiry for real on tokshort (10s, no
# skew). A few well-formed variants the spec allows are checked to pass, so that the
# refusals are seen to be for the reason named.
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
my $c = client(vhost => 'tok');
my $ed = key_info('ed25519');
my $edb = key_info('ed25519-b');

sub refused {
    my ($jwt, $name, %o) = @_;
    return token_invalid_ok(bearer_get($o{client} // $c, $jwt, $o{path} // '/private/', %{ $o{get} || {} }),
                            $name);
}

sub passes {
    my ($jwt, $name, %o) = @_;
    my $res = bearer_get($o{client} // $c, $jwt, $o{path} // '/private/');
    is($res->code, 200, "$name: 200") or diag($res->content);
}

# Standard base64 with padding, as a careless encoder writes it.
sub std_b64 {
    my ($part) = @_;
    require MIME::Base64;
    return MIME::Base64::encode_base64(b64url_dec($part) // '', '');
}

my $a = token_account(vhost => 'tok', roles => 'editor');
my $other = token_account(vhost => 'tok');
my ($H, $P, $SIG) = jwt_parts($a->{at});
my ($h64, $p64, $s64) = split /\./, $a->{at};

sub ed_token { my ($hdr, $pl, $key) = @_; forge_token(header => $hdr, payload => $pl, key => $key // 'ed25519') }

# ---- controls: the test's own signatures are good --------------------------------------------

passes($a->{at}, 'the token as issued');
passes(ed_token($H, $P), 'the same header and claims signed by the test with the key file');
passes(ed_token({alg => 'EdDSA', kid => $ed->{kid}}, $P), 'no typ (allowed)');
for my $typ ('jwt', 'at+jwt', 'AT+JWT') {
    passes(ed_token({%$H, typ => $typ}, $P), "typ '$typ' (allowed, case-insensitive)");
}
passes(ed_token($H, {%$P, pad => 'x' x 100}), 'an extra claim (ignored)');

# ---- alg none ----------------------------------------------------------------------------------

for my $case ([{alg => 'none', kid => $ed->{kid}, typ => 'JWT'}, '', 'alg none with the kid, no signature'],
              [{alg => 'none'}, '', 'alg none alone, no signature'],
              [{alg => 'None', kid => $ed->{kid}}, '', 'alg None'],
              [{alg => 'NONE', kid => $ed->{kid}}, '', 'alg NONE'],
              [{alg => '', kid => $ed->{kid}}, '', 'alg empty'],
              [{kid => $ed->{kid}, typ => 'JWT'}, '', 'no alg'],
              [{alg => 'none', kid => $ed->{kid}, typ => 'JWT'}, $SIG, 'alg none with the original signature']) {
    my ($hdr, $sig, $name) = @$case;
    refused(forge_token(header => $hdr, payload => $P, sig => $sig), $name);
}
refused("$h64.$p64.", 'the original token without its signature');
refused(forge_token(header => {alg => 'none'}, payload => $P, sig => ''), 'alg none on GET /users/me',
        path => '/users/me', get => {api => 1});

# ---- algorithm confusion -------------------------------------------------------------------------

{
    my %hmac_keys = (
        'the public key PEM text'        => $ed->{pub_pem},
        'the PEM text without its newline' => $ed->{pub_pem} =~ s/\n\z//r,
        'the raw 32-byte public key'     => b64url_dec($ed->{pub_raw}),
        'the DER SubjectPublicKeyInfo'   => b64url_dec($ed->{pub_der}),
        'the JWK JSON'                   => $ed->{canonical},
        'the JWK x string'               => $ed->{jwk}{x},
        'the kid'                        => $ed->{kid},
    );
    for my $what (sort keys %hmac_keys) {
        refused(forge_token(header => {alg => 'HS256', kid => $ed->{kid}, typ => 'JWT'}, payload => $P,
                            hmac_key => $hmac_keys{$what}),
                "HS256 on the EdDSA kid, HMAC keyed with $what");
    }
    refused(forge_token(header => {%$H, alg => 'RS256'}, payload => $P, sig => $SIG),
            'RS256 on the EdDSA kid, the original signature');
    refused(forge_token(header => {%$H, alg => 'ES256'}, payload => $P, sig => $SIG),
            'ES256 on the EdDSA kid, the original signature');
    refused(forge_token(header => {%$H, alg => 'ES256'}, payload => $P, key => 'es256'),
            'ES256 on the EdDSA kid, signed with a P-256 key');
    for my $alg ('eddsa', 'EDDSA', 'Ed25519', 'EdDSA ') {
        refused(ed_token({%$H, alg => $alg}, $P), "alg '$alg' (not exactly EdDSA), signed with the key");
    }
}

# HS256 next to RS256 (tokmix: RSA signs, an HS256 secret only verifies).
{
    my $cm = client(vhost => 'tokmix');
    my $m = token_account(vhost => 'tokmix');
    my ($mh, $mp, $msig) = jwt_parts($m->{at});
    my $rs = key_info('rs256');
    passes($m->{at}, 'tokmix: its own token', client => $cm);
    refused(forge_token(header => {alg => 'HS256', kid => $rs->{kid}, typ => 'JWT'}, payload => $mp,
                        hmac_key => $rs->{pub_pem}),
            'tokmix: HS256 on the RSA kid, HMAC keyed with the RSA public key PEM', client => $cm);
    refused(forge_token(header => {alg => 'HS256', kid => $rs->{kid}, typ => 'JWT'}, payload => $mp,
                        hmac_key => hs_secret()),
            'tokmix: HS256 on the RSA kid, HMAC keyed with the real secret', client => $cm);
    refused(forge_token(header => {alg => 'RS256', kid => hs_kid(), typ => 'JWT'}, payload => $mp,
                        sig => $msig),
            'tokmix: RS256 on the HS256 kid, a valid RSA signature', client => $cm);
    passes(forge_token(header => {alg => 'HS256', kid => hs_kid(), typ => 'JWT'}, payload => $mp,
                       hmac_key => hs_secret()),
           'tokmix: HS256 on the HS256 kid with the secret (control)', client => $cm);
}

# ---- kid -------------------------------------------------------------------------------------

refused(ed_token({alg => 'EdDSA', typ => 'JWT'}, $P), 'no kid, signed with the right key');
refused(ed_token({%$H, kid => undef}, $P), 'kid null');
refused(ed_token({%$H, kid => ''}, $P), 'kid empty');
refused(ed_token({%$H, kid => 42}, $P), 'kid a number');
refused(ed_token({%$H, kid => [$ed->{kid}]}, $P), 'kid an array');
refused(ed_token({%$H, kid => random_token()}, $P), 'an unknown kid, signed with the right key');
refused(ed_token({%$H, kid => $ed->{kid} . 'A'}, $P), 'the kid with a character more');
refused(ed_token({%$H, kid => lc $ed->{kid}}, $P), 'the kid in lower case') if lc $ed->{kid} ne $ed->{kid};
refused(ed_token($H, $P, 'ed25519-b'), 'the right kid, signed with another Ed25519 key');
refused(ed_token({%$H, kid => $edb->{kid}}, $P, 'ed25519-b'), 'another key\'s kid and signature (not a key of tok)');
refused(ed_token({%$H, kid => '../jwt-ed25519.pem'}, $P), 'a path as kid');

# ---- tampering: the original signature over other bytes --------------------------------------------

for my $case ([{%$P, sub => $other->{u}{id}}, 'sub changed to another user'],
              [{%$P, roles => ['editor', 'admin']}, 'roles changed'],
              [{%$P, exp => $P->{exp} + 3600}, 'exp moved'],
              [{%$P, email => $other->{u}{email}}, 'email changed'],
              [{%$P, amr => ['pwd', 'otp', 'mfa']}, 'amr changed']) {
    my ($pl, $name) = @$case;
    refused(forge_token(header => $H, payload => $pl, sig => $SIG), "$name, the original signature");
}
refused(forge_token(header => $H, payload => {%$P, roles => ['admin']}, sig => $SIG),
        'roles changed to admin, on Require authsvc role admin (401, not 403)', path => '/tg/role/');
refused(forge_token(header => {%$H, typ => 'at+jwt'}, payload => $P, sig => $SIG),
        'the header changed (typ), the original signature');
{
    my $flip = $SIG;
    substr($flip, 10, 1) = chr(ord(substr($flip, 10, 1)) ^ 1);
    refused("$h64.$p64." . b64url_enc($flip), 'one bit of the signature flipped');
    refused("$h64.$p64." . b64url_enc(substr($SIG, 0, 63)), 'the signature one byte short');
    refused("$h64.$p64." . b64url_enc($SIG . "\0"), 'the signature one byte long');
    my (undef, undef, $osig) = jwt_parts($other->{at});
    refused("$h64.$p64." . b64url_enc($osig), 'another token\'s signature');
    refused(join('.', (split /\./, $other->{at})[0, 1]) . ".$s64", 'another token\'s claims with this signature');
}

# ---- header rules ---------------------------------------------------------------------------

refused(ed_token({%$H, crit => ['exp']}, $P), 'crit, signed with the key');
refused(ed_token({%$H, crit => []}, $P), 'crit empty, signed with the key');
for my $typ ('JOSE', 'JWS', 'JWT ', 'application/jwt', '') {
    refused(ed_token({%$H, typ => $typ}, $P), "typ '$typ', signed with the key");
}
refused(ed_token({%$H, typ => 1}, $P), 'typ a number, signed with the key');
{
    my $kid = $ed->{kid};
    my $hj = qq({"alg":"EdDSA","kid":"unknown-kid","kid":"$kid","typ":"JWT"});
    refused(forge_token(raw_header => $hj, payload => $P, key => 'ed25519'), 'the header with kid twice, signed');
    $hj = qq({"alg":"none","alg":"EdDSA","kid":"$kid","typ":"JWT"});
    refused(forge_token(raw_header => $hj, payload => $P, key => 'ed25519'), 'the header with alg twice, signed');
    my $pj = json_enc($P);
    my $dup = $pj =~ s/^\{/{"sub":"$other->{u}{id}",/r;
    refused(forge_token(header => $H, raw_payload => $dup, key => 'ed25519'), 'the claims with sub twice, signed');
    for my $raw ('[]', '"EdDSA"', 'null', '42', 'not json', '{"alg":"EdDSA",', '') {
        refused(forge_token(raw_header => $raw, payload => $P, key => 'ed25519'), "header '$raw', signed");
    }
    for my $raw ('[]', '"x"', 'null', 'not json', '{"sub":', '') {
        refused(forge_token(header => $H, raw_payload => $raw, key => 'ed25519'), "claims '$raw', signed");
    }
    refused(forge_token(raw_header => "\xef\xbb\xbf" . json_enc($H), payload => $P, key => 'ed25519'),
            'the header with a UTF-8 byte order mark, signed');
}

# ---- malformed ---------------------------------------------------------------------------------

{
    my $t = $a->{at};
    my @bad = (
        ['one part',                   'abc'],
        ['two parts',                  "$h64.$p64"],
        ['four parts',                 "$t.$s64"],
        ['a trailing dot',             "$t."],
        ['two dots only',              '..'],
        ['empty parts around',         ".$p64."],
        ['padding on the header',      "$h64=.$p64.$s64"],
        ['padding on the signature',   "$h64.$p64.$s64=="],
        ['standard base64 with padding', join('.', map { std_b64($_) } $h64, $p64, $s64)],
        ['a character outside base64url in the claims', "$h64.$p64*.$s64"],
        ['base64 of impossible length', "$h64.${p64}A.$s64"],
        ['a percent-encoded dot',      "$h64%2E$p64%2E$s64"],
        ['twenty thousand characters', 'A' x 20_000],
    );
    for my $case (@bad) {
        my ($name, $v) = @$case;
        refused($v, "malformed: $name");
    }
    my $big = ed_token($H, {%$P, pad => 'x' x 15_000});
    ok(length $big > 20_000, 'a validly signed token of more than 20 KB');
    refused($big, 'a validly signed token of 20 KB (over 8192 bytes)');

    # The length limit itself: at most 8192 bytes pass.
    # (The length does not depend on the signature's value: found with a dummy one.)
    my ($nu, $no);
    for my $n (1 .. 8192) {
        my $len = length forge_token(header => $H, payload => {%$P, pad => 'x' x $n}, sig => 'x' x 64);
        $nu = $n if $len <= 8192;
        if ($len > 8192) { $no = $n; last }
    }
    my $under = ed_token($H, {%$P, pad => 'x' x $nu});
    my $over = ed_token($H, {%$P, pad => 'x' x $no});
    passes($under, 'a signed token of ' . length($under) . ' bytes (at most 8192)');
    refused($over, 'a signed token of ' . length($over) . ' bytes (over 8192)');

    # "Bearer" without a token, or with white space in it.
    for my $case (['Bearer', '"Bearer" alone'], ['Bearer ', '"Bearer " and nothing'],
                  ["Bearer $h64. $p64.$s64", 'a space inside the token'],
                  ["Bearer $t extra", 'a second word after the token']) {
        my ($hv, $name) = @$case;
        my $res = $c->get('/private/', abs => 1, headers => [Authorization => $hv]);
        my $p = client_error_ok($res, $name);
        is($res->code, 401, "$name: 401");
    }
}

# ---- tokens of other vhosts -----------------------------------------------------------------------

{
    my $es = token_account(vhost => 'tokes');
    refused($es->{at}, 'a token of tokes (ES256, another key)');
    refused($a->{at}, 'a token of tok on tokes', client => client(vhost => 'tokes'));
    my $hs = token_account(vhost => 'tokhs');
    refused($hs->{at}, 'a token of tokhs (HS256)');
    my $rot = token_account(vhost => 'tokrot');
    refused($rot->{at}, 'a token of tokrot\'s new key');
    my $def = token_account(vhost => 'tokdef');
    refused($def->{at}, 'a token of tokdef: the same key, another issuer and audience');
}

# ---- claim rules (tokhs: HS256, the test signs) ---------------------------------------------------

my $ch = client(vhost => 'tokhs');
my $s = token_account(vhost => 'tokhs');
my ($SH, $SP) = jwt_parts($s->{at});
my $SECRET = hs_secret();
my $now = time;

# The session's claims with some changed (undef: the claim left out), signed with the secret.
sub hs_claims {
    my (%change) = @_;
    my %p = %$SP;
    for my $k (keys %change) {
        if (defined $change{$k}) { $p{$k} = $change{$k} } else { delete $p{$k} }
    }
    return forge_token(header => $SH, payload => \%p, hmac_key => $SECRET);
}
sub hs_refused { my ($name, %change) = @_; refused(hs_claims(%change), "tokhs: $name", client => $ch) }
sub hs_passes  { my ($name, %change) = @_; passes(hs_claims(%change), "tokhs: $name", client => $ch) }

hs_passes('the claims as issued, signed by the test');
hs_passes('another jti', jti => random_token() =~ s/^(.{22}).*/$1/r);
hs_refused('iss of another issuer', iss => 'https://evil.test/api');
hs_refused('iss with a trailing slash', iss => "$ISS/");
hs_refused('iss in another case', iss => uc $ISS);
hs_refused('no iss', iss => undef);
hs_refused('iss as an array', iss => [$ISS]);
hs_refused('aud of another audience', aud => 'https://evil.test');
hs_refused('no aud', aud => undef);
hs_passes('aud as an array holding the audience', aud => [$AUD]);
hs_passes('aud as an array holding it and another', aud => ['https://other.test', $AUD]);
hs_refused('aud as an array without it', aud => ['https://other.test']);
hs_refused('aud an empty array', aud => []);
hs_refused('aud as a number', aud => 42);
hs_refused('exp two minutes ago (beyond the 30s skew)', exp => $now - 120);
hs_passes('exp five seconds ago (within the 30s skew)', exp => $now - 5);
hs_refused('no exp', exp => undef);
hs_refused('exp as a string', exp => '' . ($now + 600) . ' ');
hs_refused('exp as a fraction', exp => $now + 600.5);
hs_refused('nbf two minutes ahead (beyond the skew)', nbf => $now + 120);
hs_passes('nbf ten seconds ahead (within the skew)', nbf => $now + 10);
hs_passes('no nbf (optional)', nbf => undef);
hs_refused('nbf as a string', nbf => "$now ");
hs_refused('iat two minutes ahead (beyond the skew)', iat => $now + 120, nbf => $now);
hs_passes('no iat (optional)', iat => undef);
hs_refused('no sub', sub => undef);
hs_refused('sub empty', sub => '');
hs_refused('sub a number', sub => 42);
hs_refused('no sid', sid => undef);
hs_refused('sid empty', sid => '');
hs_refused('sid a number', sid => 42);
hs_refused('sid unknown', sid => random_token() =~ s/^(.{22}).*/$1/r);
hs_refused('sid the session\'s token hash (not its id)', sid => sha256_hex($s->{cookie}));

# A revoked session, a deleted account, sessions of other users.
{
    my $r = token_account(vhost => 'tokhs');
    my $rp = jwt_claims($r->{at});
    is($r->{c}->post('/auth/logout')->code, 204, 'tokhs: another account logs out');
    hs_refused('sub and sid of a logged-out session', sub => $rp->{sub}, sid => $rp->{sid});

    my $d = token_account(vhost => 'tokhs');
    my $dp = jwt_claims($d->{at});
    is($d->{c}->del('/users/me', json => {password => $d->{f}{password}})->code, 204,
       'tokhs: another account deletes itself');
    hs_refused('sub and sid of a deleted account', sub => $dp->{sub}, sid => $dp->{sid});
    hs_refused('sub of a deleted account with a live sid of another account', sub => $dp->{sub});

    my $o = token_account(vhost => 'tokhs');
    hs_refused('sub of another live account with this sid', sub => jwt_claims($o->{at})->{sub});
    hs_refused('sid of another live account\'s session with this sub', sid => jwt_claims($o->{at})->{sid});
}

# ---- expiry for real (tokshort: 10s, AuthsvcClockSkew 0) ---------------------------------------------

{
    my $cs = client(vhost => 'tokshort');
    my $t = token_account(vhost => 'tokshort');
    passes($t->{at}, 'tokshort: a new token', client => $cs);
    my $exp = jwt_claims($t->{at})->{exp};
    sleep 1 while time <= $exp;
    sleep 1;
    refused($t->{at}, 'tokshort: the same token past its exp (no skew)', client => $cs);
    refused($t->{at}, 'tokshort: ... on GET /users/me', client => $cs, path => '/users/me', get => {api => 1});
    is($t->{c}->get('/users/me')->code, 200, 'tokshort: the cookie of the same sign-in still works');
}

done_testing();
