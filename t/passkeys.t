# Passkeys (issue 11): registration (POST /users/me/passkeys/options, POST
# /users/me/passkeys), list, rename, removal, and sign-in (POST /auth/passkey/options,
# POST /auth/passkey) with a software authenticator (t/bin/softauthn.py: ES256, EdDSA
# and RS256 keys; "none" and "packed" attestation). Every check refuses what it must:
# type, origin, RP ID hash, challenge (single use, expired, another account's or
# ceremony's), signature, counter regression (audited, the credential not updated),
# unknown credential, user handle, UV under "required", malformed base64/JSON/CBOR.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $B64 = qr/^[A-Za-z0-9_-]+$/;

sub b64u { my $s = MIME::Base64::encode_base64url($_[0]); $s =~ s/=+$//; $s }
use MIME::Base64 ();

sub passkeys_of { @{ (json_body($_[0]->get('/users/me/passkeys')) || {})->{passkeys} || [] } }

sub pk_row {
    my ($id) = @_;
    return db_row('SELECT * FROM passkeys WHERE id = ' . sql_str($id));
}

# ---- registration ---------------------------------------------------------------------

my ($c, $f, $u) = account();
my $uid = $u->{id};

my $res = $c->post('/users/me/passkeys/options');
is($res->code, 200, 'registration options: 200') or diag $res->content;
my $o = json_body($res) || {};
is($o->{rp}{id}, pk_rp_id(), '... rp.id is AuthsvcPublicURL\'s host');
ok(length($o->{rp}{name} // ''), '... rp.name');
like($o->{user}{id} // '', qr/^[A-Za-z0-9_-]{43}$/, '... user.id: 32 random bytes');
isnt($o->{user}{id}, $uid, '... not the account id');
is($o->{user}{name}, $f->{email}, '... user.name is the email');
like($o->{challenge} // '', qr/^[A-Za-z0-9_-]{43}$/, '... a 32-byte challenge');
is_deeply([map { $_->{alg} } @{ $o->{pubKeyCredParams} || [] }], [-7, -8, -257],
          '... ES256, EdDSA, RS256');
is($o->{authenticatorSelection}{residentKey}, 'required', '... residentKey required');
is($o->{authenticatorSelection}{userVerification}, 'preferred', '... UV preferred');
is($o->{timeout}, 120000, '... timeout 120 s');
is($o->{attestation}, 'none', '... attestation none');
is_deeply($o->{excludeCredentials}, [], '... nothing to exclude yet');
{
    my $rows = db_rows('SELECT * FROM webauthn_challenges WHERE user_id = ' . sql_str($uid));
    is(scalar @$rows, 1, '... one challenge row');
    ok(!grep({ grep { defined && index($_, $o->{challenge}) >= 0 } values %$_ } @$rows),
       '... the challenge is not stored in clear');
    is($rows->[0]{purpose}, 'register', '... purpose register');
}

my ($r1, $es, $o1) = pk_register($c);
is($r1->code, 201, 'ES256, attestation none: 201') or diag $r1->content;
my $k1 = json_body($r1) || {};
like($k1->{id} // '', qr/^[0-9a-f-]{36}$/, '... an id');
is($k1->{name}, 'Passkey', '... the default name');
iso_time_ok($k1->{created_at}, '... created_at');
is(scalar(events_in($r1, 'passkey_added')), 1, '... audit: passkey_added');
{
    my $row = pk_row($k1->{id});
    is($row->{user_id}, $uid, '... stored for the account');
    is($row->{alg}, -7, '... alg -7');
    is($row->{sign_count}, 0, '... counter 0');
    is(scalar @{ db_rows('SELECT * FROM webauthn_challenges WHERE challenge_hash = '
                         . sql_str(sha256_hex($o1->{challenge}))) }, 0,
       '... the challenge is used up');
    is(scalar @{ db_rows('SELECT * FROM webauthn_challenges WHERE challenge_hash = '
                         . sql_str(sha256_hex($o->{challenge}))) }, 1,
       '... (an unused one stays until it expires)');
}

my ($r2, $ed) = pk_register($c, alg => -8, fmt => 'packed', name => 'Laptop key');
is($r2->code, 201, 'EdDSA, packed self-attestation: 201') or diag $r2->content;
is((json_body($r2) || {})->{name}, 'Laptop key', '... the name given');
my ($r3, $rs) = pk_register($c, alg => -257, fmt => 'packed', name => 'RSA');
is($r3->code, 201, 'RS256, packed: 201') or diag $r3->content;
{
    # Each addition is mailed to the account (passkey_added, queued with the passkey).
    my %got;
    for (1 .. 3) {
        my $m = wait_mail(to => $f->{email}, template => 'passkey_added') or last;
        my ($n) = ($m->{text} // '') =~ /passkey named "([^"]*)"/;
        $got{ $n // '?' } = $m;
    }
    is_deeply([sort keys %got], ['Laptop key', 'Passkey', 'RSA'],
              'mail passkey_added for each of the three, naming it');
    my $m = $got{'Laptop key'} || {};
    like($m->{subject} // '', qr/passkey was added/, '... subject');
    like($m->{text} // '', qr/Not you\?.*reset your password.*\n?.*remove the passkey "Laptop key"/s,
         '... text: not you? reset the password and remove it');
    like($m->{html} // '', qr{<strong>Laptop key</strong>}, '... html: the name');
    like($m->{text} // '', qr/\Q$f->{email}\E/, '... the account\'s address');
}
my @list = passkeys_of($c);
is(scalar @list, 3, 'GET /users/me/passkeys: three');
is_deeply([sort map { $_->{name} } @list], ['Laptop key', 'Passkey', 'RSA'], '... with their names');
{
    my $o2 = json_body($c->post('/users/me/passkeys/options')) || {};
    is($o2->{user}{id}, $o1->{user}{id}, 'options again: the handle of the passkeys');
    is(scalar @{ $o2->{excludeCredentials} || [] }, 3, '... the three are excluded');
    is(pk_row($k1->{id})->{user_handle}, $o1->{user}{id}, '... the handle is stored');
}

# Bad registrations: each a fresh challenge, each refused.
sub bad_reg {
    my ($name, $code, $status, %o) = @_;
    my $mangle = delete $o{mangle};
    my $opts = json_body($c->post('/users/me/passkeys/options')) || {};
    my $state = catfile_state();
    my $cred = softauthn('create', $state, delete $o{challenge} // $opts->{challenge},
                         user_handle => $opts->{user}{id}, %o);
    $mangle->($cred) if $mangle;
    my $r = $c->post('/users/me/passkeys', {credential => $cred});
    problem_ok($r, $status, $code, "registration: $name");
    return $r;
}
my $n = 0;
sub catfile_state { File::Spec->catfile(Apache::Test::vars('serverroot'), 'state',
                                        "pk-bad-$$-" . $n++ . '.json') }
use File::Spec ();

bad_reg('another origin', 'passkey_invalid', 400, origin => 'https://evil.example');
bad_reg('cross-origin', 'passkey_invalid', 400, cross_origin => 1);
bad_reg('another RP ID hash', 'passkey_invalid', 400, rp_hash_of => 'evil.example');
bad_reg('type webauthn.get', 'passkey_invalid', 400, type => 'webauthn.get');
bad_reg('no user presence', 'passkey_invalid', 400, flags => '44');
bad_reg('packed with a bad signature', 'passkey_invalid', 400, fmt => 'packed', bad_sig => 1);
bad_reg('an unknown challenge', 'passkey_invalid', 400, challenge => 'AAAAAAAAAAAAAAAAAAAAAA');
bad_reg('clientDataJSON not base64url', 'validation_failed', 422,
        mangle => sub { $_[0]{response}{clientDataJSON} = 'a+b/' });
bad_reg('clientDataJSON not JSON', 'passkey_invalid', 400,
        mangle => sub { $_[0]{response}{clientDataJSON} = b64u('not json') });
bad_reg('attestationObject not CBOR', 'passkey_invalid', 400,
        mangle => sub { $_[0]{response}{attestationObject} = b64u("\xff\x00garbage") });
bad_reg('attestationObject missing', 'validation_failed', 422,
        mangle => sub { delete $_[0]{response}{attestationObject} });
bad_reg('type not public-key', 'validation_failed', 422,
        mangle => sub { $_[0]{type} = 'password' });
bad_reg('id differs from rawId', 'validation_failed', 422,
        mangle => sub { $_[0]{id} = 'AAAA' });
bad_reg('rawId of another credential', 'passkey_invalid', 400,
        mangle => sub { $_[0]{id} = $_[0]{rawId} = 'AAAAAAAAAAAAAAAAAAAAAA' });
bad_reg('transports not strings', 'validation_failed', 422,
        mangle => sub { $_[0]{response}{transports} = [1] });
bad_reg('response not an object', 'validation_failed', 422,
        mangle => sub { $_[0]{response} = 'x' });
{
    # The same challenge twice: the second is refused.
    my $opts = json_body($c->post('/users/me/passkeys/options')) || {};
    my $cred = softauthn('create', catfile_state(), $opts->{challenge},
                         user_handle => $opts->{user}{id});
    is($c->post('/users/me/passkeys', {credential => $cred})->code, 201, 'a registration');
    problem_ok($c->post('/users/me/passkeys', {credential => $cred}), 400, 'passkey_invalid',
               '... replayed: challenge used up');
    # An expired challenge.
    $opts = json_body($c->post('/users/me/passkeys/options')) || {};
    db_do('UPDATE webauthn_challenges SET expires_at = expires_at - 121 WHERE user_id = '
          . sql_str($uid));
    $cred = softauthn('create', catfile_state(), $opts->{challenge},
                      user_handle => $opts->{user}{id});
    problem_ok($c->post('/users/me/passkeys', {credential => $cred}), 400, 'passkey_invalid',
               'registration: an expired challenge');
    # Another account's challenge.
    my ($c2) = account();
    $opts = json_body($c2->post('/users/me/passkeys/options')) || {};
    $cred = softauthn('create', catfile_state(), $opts->{challenge},
                      user_handle => $opts->{user}{id});
    problem_ok($c->post('/users/me/passkeys', {credential => $cred}), 400, 'passkey_invalid',
               'registration: the challenge of another account');
    # A login challenge is no registration challenge.
    $opts = json_body(client()->post('/auth/passkey/options', {})) || {};
    $cred = softauthn('create', catfile_state(), $opts->{challenge});
    problem_ok($c->post('/users/me/passkeys', {credential => $cred}), 400, 'passkey_invalid',
               'registration: a sign-in challenge');
}
{
    my $copy = catfile_state();
    File::Copy::copy($es, $copy) or die "copy: $!";
    my ($rx) = pk_register($c, state => $copy, reuse => 1);
    problem_ok($rx, 409, 'passkey_exists', 'registration: a credential registered already');
}
use File::Copy ();
problem_ok($c->post('/users/me/passkeys', {}), 422, 'validation_failed',
           'registration: no credential');
problem_ok($c->request(POST => '/users/me/passkeys', body => '{',
                       headers => ['Content-Type' => 'application/json']),
           400, 'invalid_json', 'registration: malformed JSON');
problem_ok(client()->post('/users/me/passkeys/options'), 401, 'unauthenticated',
           'registration options: signed out');
problem_ok(client(vhost => 'passkeyoff')->post('/users/me/passkeys/options'), 404,
           'not_found', 'an RP ID that does not fit AuthsvcPublicURL: passkeys off');
problem_ok(client(vhost => 'passkeyip')->post('/auth/passkey/options', {}), 404,
           'not_found', 'AuthsvcPublicURL with an IP address: passkeys off');
like(error_log_since(0),
     qr/passkeys are off on \S+: AuthsvcWebAuthnRPID other\.example is neither the host of AuthsvcPublicURL \(accounts\.example\.test\)/,
     'startup: a warning names the RP ID that does not fit and the public host');
{
    # An upper-case host in AuthsvcPublicURL: the RP ID (and origin) in lower case.
    my $v = client(vhost => 'passkeyupper');
    my $lo = json_body($v->post('/auth/passkey/options', {})) || {};
    is($lo->{rpId}, pk_rp_id(), 'AuthsvcPublicURL https://Accounts.EXAMPLE.test: rpId lower case');
    my $cred = softauthn('get', $rs, $lo->{challenge} // 'none');
    is($v->post('/auth/passkey', {credential => $cred})->code, 200,
       '... a sign-in there (RP ID hash of the lower-case name): 200');
    my ($cu) = account(vhost => 'passkeyupper');
    my $ro = json_body($cu->post('/users/me/passkeys/options')) || {};
    is($ro->{rp}{id}, pk_rp_id(), '... rp.id lower case');
}
@list = passkeys_of($c);
is(scalar @list, 4, 'after the refusals: four passkeys');

# ---- sign-in --------------------------------------------------------------------------

my $b = client();
$res = $b->post('/auth/passkey/options', {});
is($res->code, 200, 'sign-in options: 200') or diag $res->content;
$o = json_body($res) || {};
like($o->{challenge} // '', qr/^[A-Za-z0-9_-]{43}$/, '... a challenge');
is($o->{rpId}, pk_rp_id(), '... rpId');
is_deeply($o->{allowCredentials}, [], '... discoverable: no allowCredentials');
is($o->{userVerification}, 'preferred', '... userVerification preferred');

$res = pk_login($b, $es);
is($res->code, 200, 'sign-in with the ES256 passkey: 200') or diag $res->content;
is((json_body($res) || {})->{user}{id}, $uid, '... as the account');
ok(session_set_cookie($res), '... a session cookie');
{
    my ($row) = events_in($res, 'login_success');
    ok($row, '... audit: login_success');
    is_deeply((audit_detail($row) || {})->{methods}, ['hwk', 'user', 'mfa'],
              '... with UV: methods hwk user mfa');
    my $me = json_body($b->get('/users/me/sessions')) || {};
    my ($s) = grep { $_->{current} } @{ $me->{sessions} || [] };
    ok($s && $s->{mfa}, '... the session passed a second factor');
    is($b->get('/tg/mfa/', abs => 1)->code, 200, '... Require authsvc mfa: let in');
    is(pk_row($k1->{id})->{sign_count}, 1, '... counter stored: 1');
    ok(pk_row($k1->{id})->{last_used_at}, '... last_used_at');
}
{
    # Without user verification (UP only): one factor, not two (RFC 8176 "hwk user").
    my $nb = client();
    my $r = pk_login($nb, $ed, flags => '01');
    is($r->code, 200, 'sign-in without UV (UV preferred): 200') or diag $r->content;
    my ($row) = events_in($r, 'login_success');
    is_deeply((audit_detail($row) || {})->{methods}, ['hwk', 'user'],
              '... methods hwk user, no mfa');
    my $me = json_body($nb->get('/users/me/sessions')) || {};
    my ($s) = grep { $_->{current} } @{ $me->{sessions} || [] };
    ok($s && !$s->{mfa}, '... the session did not pass a second factor');
    my $g = $nb->get('/tg/mfa/', abs => 1);
    isnt($g->code, 200, '... Require authsvc mfa: asks for more (' . $g->code . ')');
    ok(!(json_body($nb->get('/users/me')) || {})->{mfa_enabled}, '... (no TOTP either)');
}
for my $k ([$ed, 'EdDSA'], [$rs, 'RS256']) {
    my $r = pk_login(client(), $k->[0]);
    is($r->code, 200, "sign-in with the $k->[1] passkey") or diag $r->content;
}
{
    my $r = pk_login(client(), $es, counter => 1);
    problem_ok($r, 401, 'passkey_failed', 'counter regression (the same count)');
    my ($ev) = events_in($r, 'passkey_counter_regression');
    ok($ev, '... audit: passkey_counter_regression');
    is((audit_detail($ev) || {})->{seen}, 1, '... the counter seen');
    is(pk_row($k1->{id})->{sign_count}, 1, '... the credential is not updated');
    problem_ok(pk_login(client(), $es, counter => 0), 401, 'passkey_failed',
               'counter back to zero: refused');
    is(pk_login(client(), $es, counter => 7)->code, 200, 'a higher counter: fine');
}
{
    # An authenticator that keeps no counter: zero every time.
    my ($rz, $zs) = pk_register($c);
    is($rz->code, 201, 'a passkey without a counter');
    is(pk_login(client(), $zs, counter => 0)->code, 200, '... sign-in, counter 0');
    is(pk_login(client(), $zs, counter => 0)->code, 200, '... again, counter 0');
}

sub bad_login {
    my ($name, $state, %o) = @_;
    my $mangle = delete $o{mangle};
    my $opts = json_body(client()->post('/auth/passkey/options', {})) || {};
    my $cred = softauthn('get', $state, delete $o{challenge} // $opts->{challenge}, %o);
    $mangle->($cred) if $mangle;
    my $r = client()->post('/auth/passkey', {credential => $cred});
    my $code = delete $o{code} // 'passkey_failed';
    problem_ok($r, $code eq 'validation_failed' ? 422 : 401, $code, "sign-in: $name");
    ok(!session_set_cookie($r), '... no session cookie');
    return $r;
}
bad_login('another origin', $es, origin => 'https://evil.example');
bad_login('cross-origin', $es, cross_origin => 1);
bad_login('another RP ID hash', $es, rp_hash_of => 'evil.example');
bad_login('type webauthn.create', $es, type => 'webauthn.create');
bad_login('a bad signature', $es, bad_sig => 1);
bad_login('no user presence', $es, flags => '04');
bad_login('an unknown challenge', $es, challenge => 'AAAAAAAAAAAAAAAAAAAAAA');
bad_login('another user handle', $es, mangle => sub { $_[0]{response}{userHandle} = 'AAAA' });
bad_login('signature not base64url', $es, code => 'validation_failed',
          mangle => sub { $_[0]{response}{signature} = '!!' });
bad_login('authenticatorData missing', $es, code => 'validation_failed',
          mangle => sub { delete $_[0]{response}{authenticatorData} });
bad_login('clientDataJSON not JSON', $es,
          mangle => sub { $_[0]{response}{clientDataJSON} = b64u('{"type":') });
bad_login('a short authenticatorData', $es,
          mangle => sub { $_[0]{response}{authenticatorData} = b64u('short') });
{
    # A key this server never saw.
    my $opts = json_body(client()->post('/auth/passkey/options', {})) || {};
    my $stranger = catfile_state();
    softauthn('create', $stranger, 'AAAA');
    my $r = bad_login('an unknown credential', $stranger);
    my ($ev) = events_in($r, 'login_failure');
    is((audit_detail($ev) || {})->{reason}, 'passkey_unknown', '... audited: passkey_unknown');
}
{
    # A used challenge: the same assertion twice.
    my $opts = json_body(client()->post('/auth/passkey/options', {})) || {};
    my $cred = softauthn('get', $es, $opts->{challenge}, counter => 20);
    is(client()->post('/auth/passkey', {credential => $cred})->code, 200, 'a sign-in');
    problem_ok(client()->post('/auth/passkey', {credential => $cred}), 401, 'passkey_failed',
               '... replayed: refused');
    # An expired one.
    $opts = json_body(client()->post('/auth/passkey/options', {})) || {};
    db_do('UPDATE webauthn_challenges SET expires_at = expires_at - 121 WHERE '
          . "purpose = 'login' AND challenge_hash = " . sql_str(sha256_hex($opts->{challenge})));
    $cred = softauthn('get', $es, $opts->{challenge}, counter => 21);
    problem_ok(client()->post('/auth/passkey', {credential => $cred}), 401, 'passkey_failed',
               'sign-in: an expired challenge');
    # A registration challenge is no sign-in challenge.
    $opts = json_body($c->post('/users/me/passkeys/options')) || {};
    $cred = softauthn('get', $es, $opts->{challenge}, counter => 22);
    problem_ok(client()->post('/auth/passkey', {credential => $cred}), 401, 'passkey_failed',
               'sign-in: a registration challenge');
}
problem_ok(client()->post('/auth/passkey', {}), 422, 'validation_failed', 'sign-in: no credential');
problem_ok(client()->post('/auth/passkey', {credential => []}), 422, 'validation_failed',
           'sign-in: credential not an object');
{
    my $r = client()->post('/auth/passkey/options', {login => 5});
    is($r->code, 200, 'sign-in options: a login of any type is ignored');
    is_deeply((json_body($r) || {})->{allowCredentials}, [], '... allowCredentials empty');
}

# The login page's passkey sign-in (POST /passkey, a page route): a browser gets the
# session cookie and never tokens, even where AuthsvcTokenSigningKey is set (vhost
# tokdef); the JSON route there still answers tokens. The pages' CSRF token is required.
{
    my $rt_count = sub {
        (db_row('SELECT COUNT(*) AS n FROM refresh_tokens WHERE user_id = ' . sql_str($uid))
         || {})->{n} // -1
    };
    my $j = pk_login(client(vhost => 'tokdef'), $es, counter => 23);
    is($j->code, 200, 'tokdef: JSON sign-in with a passkey') or diag $j->content;
    my $jb = json_body($j) || {};
    ok($jb->{access_token} && $jb->{refresh_token}, '... the JSON route answers tokens');
    my $before = $rt_count->();
    ok($before >= 1, '... a refresh token row');

    my $p = client(vhost => 'tokdef');
    my $page = $p->page_get('/login');
    my ($box) = html_elements($page, id => 'passkey-signin');
    my $csrf = $box ? $box->{attrs}{'data-csrf'} : undef;
    like($csrf // '', qr/^[A-Za-z0-9_-]{43}$/, 'login page: the passkey box carries the csrf token');
    is($csrf, csrf_from($page), '... the page\'s own');
    my $opts = json_body($p->post('/auth/passkey/options', {})) || {};
    my $cred = softauthn('get', $es, $opts->{challenge} // 'none', counter => 24);
    my $r = $p->post('/passkey', {credential => $cred});
    problem_ok($r, 403, 'csrf_failed', 'POST /passkey without csrf_token');
    ok(!session_set_cookie($r), '... no session cookie');
    $r = $p->post('/passkey', {credential => $cred, csrf_token => 'A' x 43});
    problem_ok($r, 403, 'csrf_failed', 'POST /passkey with a wrong csrf_token');
    $r = client(vhost => 'tokdef')->post('/passkey', {credential => $cred, csrf_token => $csrf});
    problem_ok($r, 403, 'csrf_failed', 'POST /passkey: another browser\'s csrf_token');
    problem_ok($p->post('/passkey', {csrf_token => $csrf}), 422, 'validation_failed',
               'POST /passkey: no credential');
    $r = $p->post('/passkey', {credential => $cred, csrf_token => $csrf});
    is($r->code, 200, 'POST /passkey (the login page): 200') or diag $r->content;
    my $pb = json_body($r) || {};
    is($pb->{user}{id}, $uid, '... as the account');
    ok(session_set_cookie($r), '... a session cookie');
    ok(!exists $pb->{access_token} && !exists $pb->{refresh_token},
       '... no access or refresh token');
    is($rt_count->(), $before, '... no refresh token row');
    is($p->get('/users/me')->code, 200, '... the cookie signs the browser in');
}

# User verification required (vhost passkeyuv).
{
    my $v = client(vhost => 'passkeyuv');
    my $opts = json_body($v->post('/auth/passkey/options', {})) || {};
    is($opts->{userVerification}, 'required', 'passkeyuv: userVerification required');
    is($opts->{timeout}, 30000, '... timeout 30 s');
    my $cred = softauthn('get', $es, $opts->{challenge}, flags => '01', counter => 30);
    problem_ok($v->post('/auth/passkey', {credential => $cred}), 401, 'passkey_failed',
               '... an assertion without UV: refused');
    is(pk_login($v, $es, counter => 31)->code, 200, '... with UV: signed in');
    is(pk_login(client(), $es, flags => '01', counter => 32)->code, 200,
       'UV preferred (main server): without UV is fine');
}

# Options with a login name: the name is ignored, allowCredentials is always empty, so
# the answer does not tell whether an account exists or has passkeys.
{
    my $opts = json_body(client()->post('/auth/passkey/options', {login => $f->{email}})) || {};
    is_deeply($opts->{allowCredentials}, [], 'options for a login with passkeys: none listed');
    like($opts->{challenge} // '', qr/^[A-Za-z0-9_-]{43}$/, '... a challenge');
    my $nobody = 'nobody-' . unique_email();
    my $d1 = json_body(client()->post('/auth/passkey/options', {login => $nobody})) || {};
    is_deeply($d1->{allowCredentials}, [], 'an unknown login: none listed either');
    is_deeply([sort keys %$d1], [sort keys %$opts], '... the same members');
    isnt($d1->{challenge}, $opts->{challenge}, '... a new challenge each time');
    is(pk_login(client(), $es, login => $f->{email}, counter => 33)->code, 200,
       '... sign-in after options with a login: fine');
}

# ---- rename and removal ---------------------------------------------------------------

$res = $c->patch("/users/me/passkeys/$k1->{id}", {name => 'Phone'});
is($res->code, 200, 'PATCH: 200') or diag $res->content;
is((json_body($res) || {})->{name}, 'Phone', '... the new name');
is(scalar(events_in($res, 'passkey_renamed')), 1, '... audit: passkey_renamed');
problem_ok($c->patch("/users/me/passkeys/$k1->{id}", {name => ''}), 422, 'validation_failed',
           'PATCH: an empty name');
problem_ok($c->patch("/users/me/passkeys/$k1->{id}", {name => 'x' x 65}), 422,
           'validation_failed', 'PATCH: 65 characters');
problem_ok($c->patch("/users/me/passkeys/$k1->{id}", {name => "a\x01b"}), 422,
           'validation_failed', 'PATCH: a control character');
problem_ok($c->patch("/users/me/passkeys/$k1->{id}", {}), 422, 'validation_failed',
           'PATCH: no name');
{
    my ($other) = account();
    problem_ok($other->patch("/users/me/passkeys/$k1->{id}", {name => 'mine'}), 404,
               'not_found', 'PATCH: another account\'s passkey');
    problem_ok($other->del("/users/me/passkeys/$k1->{id}"), 404, 'not_found',
               'DELETE: another account\'s passkey');
    is(pk_row($k1->{id})->{name}, 'Phone', '... untouched');
}
problem_ok($c->del('/users/me/passkeys/nonesuch'), 404, 'not_found', 'DELETE: no such id');
$res = $c->del("/users/me/passkeys/$k1->{id}");
is($res->code, 204, 'DELETE: 204');
is(scalar(events_in($res, 'passkey_removed')), 1, '... audit: passkey_removed');
ok(!pk_row($k1->{id}), '... the row is gone');
bad_login('a removed passkey', $es, counter => 40);

# Fresh sessions only (vhost passkeyfresh: AuthsvcFreshAuthMaxAge 8s, so that the
# authenticator's start on a loaded machine stays inside it): options and removal;
# listing and renaming need none.
{
    my ($cs, $fs) = account(vhost => 'passkeyfresh');
    my ($rf) = pk_register($cs);
    is($rf->code, 201, 'passkeyfresh: a passkey added at once');
    my $id = (json_body($rf) || {})->{id};
    sleep 9;
    problem_ok($cs->post('/users/me/passkeys/options'), 401, 'reauthentication_required',
               '... 9 s later: registration options refused');
    problem_ok($cs->del("/users/me/passkeys/$id"), 401, 'reauthentication_required',
               '... removal refused');
    is($cs->patch("/users/me/passkeys/$id", {name => 'ok'})->code, 200, '... renaming is fine');
    is(scalar passkeys_of($cs), 1, '... listing too');
    is($cs->login($fs->{email}, $fs->{password})->code, 200, '... signed in again');
    is($cs->del("/users/me/passkeys/$id")->code, 204, '... removal: 204');
}

# A disabled account signs in with no passkey.
db_do("UPDATE users SET status = 'disabled' WHERE id = " . sql_str($uid));
bad_login('a disabled account', $ed);
db_do("UPDATE users SET status = 'active' WHERE id = " . sql_str($uid));
is(pk_login(client(), $ed)->code, 200, 'enabled again: signed in');

# Deleting the account deletes its passkeys.
{
    my ($cd, $fd, $ud) = account();
    my ($rd) = pk_register($cd);
    is($rd->code, 201, 'a passkey of an account to delete');
    is($cd->request(DELETE => '/users/me', json => {password => $fd->{password}})->code, 204,
       '... the account deleted');
    is(scalar @{ db_rows('SELECT * FROM passkeys WHERE user_id = ' . sql_str($ud->{id})) }, 0,
       '... its passkeys are gone');
}

# ---- directives -----------------------------------------------------------------------

for my $t (['AuthsvcWebAuthnRPID 127.0.0.1',             qr/AuthsvcWebAuthnRPID needs a host name/],
           ['AuthsvcWebAuthnRPID https://example.com',   qr/AuthsvcWebAuthnRPID needs a lower-case host name/],
           ['AuthsvcWebAuthnRPID Example.com',           qr/AuthsvcWebAuthnRPID needs a lower-case host name/],
           ['AuthsvcWebAuthnRPID example.com.',          qr/AuthsvcWebAuthnRPID needs a host name/],
           ['AuthsvcWebAuthnRPName ' . ('x' x 65),       qr/AuthsvcWebAuthnRPName needs a name of 1-64 bytes/],
           ['AuthsvcWebAuthnUserVerification always',    qr/must be required, preferred or discouraged/],
           ['AuthsvcWebAuthnTimeout 5s',                 qr/AuthsvcWebAuthnTimeout/],
           ['AuthsvcWebAuthnTimeout 11m',                qr/AuthsvcWebAuthnTimeout/]) {
    my ($rc, $out) = httpd_syntax($t->[0]);
    ok($rc != 0 && $out =~ $t->[1], "httpd -t refuses '$t->[0]'") or diag $out;
}
{
    my ($rc, $out) = httpd_syntax('AuthsvcWebAuthnRPID example.com', 'AuthsvcWebAuthnRPName "Ex Co"',
                                  'AuthsvcWebAuthnUserVerification Discouraged',
                                  'AuthsvcWebAuthnTimeout 10m');
    is($rc, 0, 'httpd -t takes good values') or diag $out;
}

# ---- pages ----------------------------------------------------------------------------

{
    my $res = client()->page_get('/login?return_to=%2Fprivate%2F');
    my ($box) = html_elements($res, id => 'passkey-signin');
    ok($box, 'login page: the passkey sign-in block');
    is($box && $box->{attrs}{'data-return-to'}, '/private/', '... with return_to');
    ok($box && exists $box->{attrs}{hidden}, '... hidden until the script shows it');
    like($res->content, qr{<script src="/api/assets/passkey\.js" defer></script>},
         '... the script');
    my $js = client()->get('/assets/passkey.js');
    is($js->code, 200, 'GET /assets/passkey.js: 200');
    like($js->header('Content-Type') // '', qr{^text/javascript}, '... text/javascript');
    like($js->content, qr/navigator\.credentials\.get/, '... the sign-in ceremony');
    like($js->content, qr/navigator\.credentials\.create/, '... the registration ceremony');
    ok(!html_elements(client(vhost => 'passkeyoff')->page_get('/login'), id => 'passkey-signin'),
       'passkeys off: no sign-in block');
}
{
    my ($pc) = account();
    my ($rr) = pk_register($pc, name => 'Desk key');
    my $pid = (json_body($rr) || {})->{id};
    my $page = $pc->page_get('/account');
    ok(html_elements($page, id => 'passkey-add'), 'account page: the add block');
    like($page->content, qr/Desk key/, '... the passkey listed');
    my $res;
    my ($f) = grep { ($_->{attrs}{class} // '') eq 'passkey-rename-form' }
                  html_elements($page, tag => 'form');
    ok($f, '... a rename form');
    my $tok = csrf_from($page);
    $res = $pc->page_post('/account/passkeys/rename', {csrf_token => $tok, id => $pid,
                                                       name => 'Desk'});
    is($res->code, 303, 'rename form: 303') or diag $res->code . ' ' . $res->content;
    like($res->header('Location') // '', qr{/account\?done=passkey_renamed}, '... to the notice');
    is(pk_row($pid)->{name}, 'Desk', '... renamed');
    $res = $pc->page_post('/account/passkeys/rename', {csrf_token => $tok, id => $pid,
                                                       name => ''});
    is($res->code, 422, 'rename form, an empty name: 422 (the page again)');
    $res = $pc->page_post('/account/passkeys/delete', {csrf_token => 'wrong', id => $pid});
    ok($res->code >= 400 && $res->code < 500, 'delete form without the CSRF token: refused');
    ok(pk_row($pid), '... the passkey stays');
    $res = $pc->page_post('/account/passkeys/delete', {csrf_token => $tok, id => $pid});
    is($res->code, 303, 'delete form: 303');
    ok(!pk_row($pid), '... removed');
}

# A passkey without user verification is one factor: on an account with TOTP the second
# step is still asked for (as after a password), and the session then says so.
{
    my $a = mfa_account();
    my ($rr, $st) = pk_register($a->{c});
    is($rr->code, 201, 'MFA account: a passkey added') or diag $rr->content;
    my $nb = client(vhost => 'mfa');
    my $r = pk_login($nb, $st, flags => '01');
    problem_ok($r, 401, 'mfa_required', 'MFA account, passkey without UV');
    my $tok = (json_body($r) || {})->{mfa_token};
    ok($tok, '... an mfa_token');
    ok(!session_set_cookie($r), '... no session cookie');
    $r = $nb->post('/auth/login/mfa', {mfa_token => $tok, code => mfa_code($a)});
    is($r->code, 200, '... the TOTP step: 200') or diag $r->content;
    my ($row) = events_in($r, 'login_success');
    is_deeply((audit_detail($row) || {})->{methods}, ['hwk', 'user', 'otp'],
              '... methods hwk user otp');
    is($nb->get('/mg/mfa-api/', abs => 1)->code, 200, '... Require authsvc mfa: let in');

    # With user verification the passkey is both factors: no second step.
    $r = pk_login(client(vhost => 'mfa'), $st);
    is($r->code, 200, 'MFA account, passkey with UV: signed in at once') or diag $r->content;

    # The login page's route: the token comes as the second step's cookie.
    my $p = client(vhost => 'mfa');
    my $page = $p->page_get('/login');
    my $opts = json_body($p->post('/auth/passkey/options', {})) || {};
    my $cred = softauthn('get', $st, $opts->{challenge} // 'none', flags => '01');
    $r = $p->post('/passkey', {credential => $cred, csrf_token => csrf_from($page)});
    problem_ok($r, 401, 'mfa_required', 'POST /passkey without UV on an MFA account');
    my $mc = set_cookies($r)->{'authsvc-mfa'};
    ok($mc && length $mc->{value}, '... the second step\'s cookie');
    ok(!exists((json_body($r) || {})->{mfa_token}), '... and the token only there, not in the body');
    ok(!session_set_cookie($r), '... no session cookie');
}

done_testing();
