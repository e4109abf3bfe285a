# MFA enrollment and its management (issue 6): POST /users/me/mfa (secret, otpauth URI,
# QR code as SVG), POST /users/me/mfa/confirm (recovery codes), GET /users/me/mfa,
# POST /users/me/mfa/recovery-codes, DELETE /users/me/mfa; the secret sealed at rest
# under AuthsvcSecretKeyFile (two keys: the last seals, all open), AuthsvcMFAIssuer,
# the mfa_enabled / mfa_disabled mails, and 503 mfa_unavailable without a key.
# Codes come from oathtool. Vhosts in t/conf/extra.conf.in: mfa, mfaissuer, mfarotate;
# the main server has no key.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use JSON::PP ();
use MIME::Base64 ();
use Test::More;
use AuthsvcTest;

my $TMP = tempdir(CLEANUP => 1);
my $LOG0 = error_log_mark();
my @SECRETS;    # everything that must never be written to a log or the audit trail

sub status_of {
    my ($c, $name) = @_;
    my $res = $c->get('/users/me/mfa');
    is($res->code, 200, "$name: GET /users/me/mfa: 200") or diag($res->content);
    no_store_ok($res, "$name: GET /users/me/mfa");
    return json_body($res) || {};
}


# The detail of the response's audit row of this event, or {}.
sub detail_in {
    my ($res, $event) = @_;
    my ($row) = grep { $_->{event} eq $event } @{ request_rows($res) };
    return audit_detail($row) || {};
}

# reason and action of an audit detail, as "reason/action".
sub ra { my ($d) = @_; ($d->{reason} // 'none') . '/' . ($d->{action} // 'none') }

sub pct_decode { my ($s) = @_; $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge; $s }

# otpauth://totp/LABEL?QUERY => (raw label, {name => raw value}); () if not that shape.
sub otpauth_parts {
    my ($uri) = @_;
    my ($label, $query) = ($uri // '') =~ m{^otpauth://totp/([^?#]*)\?([^#]*)$} or return;
    my %q;
    for my $kv (split /&/, $query) {
        my ($k, $v) = split /=/, $kv, 2;
        $q{$k} = $v;
    }
    return ($label, \%q);
}

# Percent-encoded as RFC 3986 asks: unreserved characters and %XX only.
sub encoded_ok {
    my ($raw, $name) = @_;
    like($raw // '', qr/^(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+$/, "$name: percent-encoded (RFC 3986)");
}

my $PY;
sub python_ok {
    $PY //= system('sh', '-c', 'python3 -c "import cryptography.hazmat.primitives.ciphers.aead" 2>/dev/null') == 0
        ? 1 : 0;
    return $PY;
}

# The sealed value opened independently (python3 cryptography, AES-256-GCM): the
# plaintext bytes, or undef when it does not open with this key and aad.
sub open_sealed {
    my ($sealed, $keyfile, $aad) = @_;
    my $py = <<'PY';
import sys, base64
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
sealed, keyfile, aad = sys.argv[1], sys.argv[2], sys.argv[3]
key = bytes.fromhex(open(keyfile).read().strip())
blob = sealed.split('.')[2]
raw = base64.urlsafe_b64decode(blob + '=' * (-len(blob) % 4))
try:
    pt = AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode())
except Exception:
    sys.exit(3)
sys.stdout.write(pt.hex())
PY
    open(my $fh, '-|', 'python3', '-c', $py, $sealed, $keyfile, $aad) or return undef;
    local $/;
    my $hex = <$fh>;
    close $fh;
    return undef if $? || !defined $hex;
    return pack 'H*', $hex;
}

sub unavailable_ok {
    my ($res, $name) = @_;
    my @why;
    push @why, 'status ' . $res->code unless $res->code == 503;
    push @why, 'Content-Type ' . ($res->header('Content-Type') // '')
        unless ($res->header('Content-Type') // '') =~ m{^application/problem\+json\b};
    my $p = eval { JSON::PP->new->decode($res->content) } || {};
    push @why, 'code ' . ($p->{code} // 'undef') unless ($p->{code} // '') eq 'mfa_unavailable';
    push @why, 'no detail' unless defined $p->{detail} && length $p->{detail};
    ok(!@why, "$name: 503 mfa_unavailable") or diag(join "\n", @why, $res->content);
}

# ---- without a key: 503 mfa_unavailable ---------------------------------------------------

{
    my ($c, $f, $u) = account();
    my $res = $c->post('/users/me/mfa', {});
    unavailable_ok($res, 'POST /users/me/mfa on a server without AuthsvcSecretKeyFile');
    unlike($res->content, qr/secret|otpauth/i, '... no secret in the answer') if $res->code == 503;
    my $row = user_row($f->{email});
    ok(!defined $row->{totp_pending} && !defined $row->{totp_secret}, '... nothing stored');
    like(error_log_since(0), qr/\[authsvc:warn\][^\n]*AuthsvcSecretKeyFile/,
         'httpd warned at start that a server has no AuthsvcSecretKeyFile');
}

# ---- without a session ----------------------------------------------------------------------

{
    my $anon = client(vhost => 'mfa');
    problem_ok($anon->get('/users/me/mfa'), 401, 'unauthenticated', 'GET /users/me/mfa without a session');
    problem_ok($anon->post('/users/me/mfa', {}), 401, 'unauthenticated', 'POST /users/me/mfa without a session');
    problem_ok($anon->post('/users/me/mfa/confirm', {code => '123456'}), 401, 'unauthenticated',
               'confirm without a session');
    problem_ok($anon->post('/users/me/mfa/recovery-codes', {code => '123456'}), 401, 'unauthenticated',
               'recovery-codes without a session');
    problem_ok($anon->del('/users/me/mfa', json => {password => 'x', code => '123456'}), 401,
               'unauthenticated', 'DELETE /users/me/mfa without a session');
}

# ---- enrollment -----------------------------------------------------------------------------

my ($c, $f, $u) = account(vhost => 'mfa', username => unique_username('mfa'), first_name => 'Mfa');
my $uid = $u->{id};

{
    my $st = status_of($c, 'before enrollment');
    is_deeply([sort keys %$st], [qw(enabled enabled_at pending recovery_codes_remaining)],
              '... members enabled, enabled_at, pending, recovery_codes_remaining');
    bool_is($st->{enabled}, 0, '... enabled');
    bool_is($st->{pending}, 0, '... pending');
    ok(exists $st->{enabled_at} && !defined $st->{enabled_at}, '... enabled_at null');
    is($st->{recovery_codes_remaining}, 0, '... no recovery codes');
    bool_is((json_body($c->get('/users/me')) || {})->{mfa_enabled}, 0, 'GET /users/me: mfa_enabled');
    problem_ok($c->post('/users/me/mfa/confirm', {code => '123456'}), 409, 'mfa_not_pending',
               'confirm before any enrollment');
    problem_ok($c->post('/users/me/mfa/recovery-codes', {code => '123456'}), 409, 'mfa_not_enabled',
               'recovery-codes without MFA');
    problem_ok($c->del('/users/me/mfa', json => {password => $f->{password}, code => '123456'}), 409,
               'mfa_not_enabled', 'DELETE /users/me/mfa without MFA');
}

my $first;
{
    my $res = $c->post('/users/me/mfa', {});
    is($res->code, 200, 'POST /users/me/mfa: 200') or diag($res->content);
    is(scalar(grep { $_->{event} eq 'mfa_enrollment_started' } @{ request_rows($res) }), 1,
       '... audit: mfa_enrollment_started (docs/api.md)');
    like($res->header('Content-Type') // '', qr{^application/json\b}, '... JSON');
    no_store_ok($res, '...');
    $first = json_body($res) || {};
    is_deeply([sort keys %$first], [qw(expires_in otpauth_uri qr_svg secret)],
              '... {secret, otpauth_uri, qr_svg, expires_in}');
    is($first->{expires_in}, 900, '... expires_in 900');
    like($first->{secret} // '', qr/^[A-Z2-7]{32}$/, '... secret: 32 base32 characters, upper case, no padding');
    is(length(base32_decode($first->{secret}) // ''), 20, '... 160 bits');
    push @SECRETS, $first->{secret};

    my $head = $c->head('/users/me/mfa');
    is($head->code, 200, 'HEAD /users/me/mfa: 200 (docs/api.md)');
    is($head->content, '', '... no body');
    my $st = status_of($c, 'pending');
    bool_is($st->{pending}, 1, '... pending');
    bool_is($st->{enabled}, 0, '... enabled');
    my $row = user_row($f->{email});
    like($row->{totp_pending} // '', qr/^v1\./, 'users.totp_pending is sealed (v1.)');
    ok(!defined $row->{totp_secret}, '... users.totp_secret still null');
    ok(abs(($row->{totp_pending_at} // 0) - time) <= 5, '... totp_pending_at is now');
}

# The URI an authenticator app reads.
{
    my ($label, $q) = otpauth_parts($first->{otpauth_uri});
    ok(defined $label, 'otpauth_uri: otpauth://totp/LABEL?QUERY') or diag($first->{otpauth_uri});
    $q ||= {};
    my ($iss_raw, $acct_raw) = split /:/, $label // '', 2;
    encoded_ok($iss_raw, 'otpauth_uri: the label\'s issuer');
    encoded_ok($acct_raw, 'otpauth_uri: the label\'s account name');
    my $issuer = pct_decode($iss_raw // '');
    like($issuer, qr/^localhost(?::\d+)?$/, '... the issuer is the ServerName by default');
    my $acct = pct_decode($acct_raw // '');
    ok($acct eq lc $f->{email} || $acct eq $f->{username}, '... the account is the user\'s login')
        or diag("account '$acct'");
    is_deeply([sort keys %$q], [qw(algorithm digits issuer period secret)],
              '... parameters secret, issuer, algorithm, digits, period');
    is($q->{secret}, $first->{secret}, '... secret= is the secret');
    encoded_ok($q->{issuer}, '... issuer=');
    is(pct_decode($q->{issuer} // ''), $issuer, '... issuer= is the label\'s issuer');
    is($q->{algorithm}, 'SHA1', '... algorithm=SHA1');
    is($q->{digits}, '6', '... digits=6');
    is($q->{period}, '30', '... period=30');
}

# The QR code: one self-contained SVG that encodes the URI.
{
    my $svg = $first->{qr_svg} // '';
    like($svg, qr{^<svg\b[^>]*\bxmlns="http://www\.w3\.org/2000/svg"}, 'qr_svg: an <svg> element in the SVG namespace');
    like($svg, qr{\bviewBox="0 0 (\d+) \1"}, '... a square viewBox');
    like($svg, qr{</svg>\s*$}, '... ends with </svg>');
    unlike($svg, qr{<script|<image|<foreignObject|href\s*=|\bon[a-z]+\s*=|url\(}i,
           '... no scripts, no external references');
    my $file = catfile($TMP, 'qr.svg');
    open(my $fh, '>', $file) or die "$file: $!";
    print $fh $svg;
    close $fh;
    my $out = qx{xmllint --noout "$file" 2>&1};
    is($?, 0, '... well-formed XML (xmllint --noout)') or diag($out);
  SKIP: {
        skip 'rsvg-convert or zbarimg is not installed', 1
            if system('sh', '-c', 'command -v rsvg-convert >/dev/null && command -v zbarimg >/dev/null');
        my $png = catfile($TMP, 'qr.png');
        my $r = qx{rsvg-convert -w 600 -h 600 -o "$png" "$file" 2>&1};
        my $text = $? ? "rsvg-convert: $r" : qx{zbarimg --raw -q "$png" 2>/dev/null};
        $text =~ s/\n\z// if defined $text;
        is($text, $first->{otpauth_uri}, '... decodes (rsvg-convert, zbarimg) to the otpauth_uri');
    }
}

# A new POST replaces the pending secret.
my $second;
{
    my $res = $c->post('/users/me/mfa', {});
    is($res->code, 200, 'POST /users/me/mfa again while pending: 200') or diag($res->content);
    $second = json_body($res) || {};
    isnt($second->{secret}, $first->{secret}, '... a new secret');
    push @SECRETS, $second->{secret};
    my $wres = $c->post('/users/me/mfa/confirm', {code => totp_code($first->{secret})});
    problem_ok($wres, 401, 'invalid_mfa_code', 'confirm with a code of the replaced secret');
    is(ra(detail_in($wres, 'mfa_failure')), 'bad_code/mfa_confirm',
       '... audit: mfa_failure {"reason":"bad_code","action":"mfa_confirm"} (docs/api.md)');
    my $p = problem_ok($c->post('/users/me/mfa/confirm', {}), 422, 'validation_failed', 'confirm without a code');
    fields_ok($p, {code => 'required'}, 'confirm without a code');
    $p = problem_ok($c->post('/users/me/mfa/confirm', {code => undef}), 422, 'validation_failed',
                    'confirm with code null');
    fields_ok($p, {code => 'required'}, 'confirm with code null');
    problem_ok($c->post('/users/me/mfa/confirm', undef, body => '{"code":'), 400, 'invalid_json',
               'confirm with broken JSON');
    problem_ok($c->post('/users/me/mfa/confirm', undef, body => '{"code":"123456"}', ctype => 'text/plain'),
               403, 'csrf_failed', 'confirm as text/plain, with the cookie');
    wrong_type_ok($c->post('/users/me/mfa/confirm', {code => 123456}), 'code', 'confirm with code as a number');
    wrong_type_ok($c->post('/users/me/mfa/confirm', {code => [totp_code($second->{secret})]}), 'code',
                  'confirm with code as an array');
    wrong_type_ok($c->post('/users/me/mfa/confirm', {code => {code => '123456'}}), 'code',
                  'confirm with code as an object');
    my $good = totp_code($second->{secret});
    for my $case (['7 digits', $good . '1'], ['5 digits', substr($good, 0, 5)], ['letters', 'abcdef'],
                  ['digits and a letter', substr($good, 0, 5) . 'x'], ['a huge string', '1' x 100_000],
                  ['Arabic-Indic digits', "\x{661}\x{662}\x{663}\x{664}\x{665}\x{666}"],
                  ['a NUL inside', substr($good, 0, 3) . "\0" . substr($good, 3)],
                  ['an empty string', ''], ['a minus sign', '-12345']) {
        my ($what, $v) = @$case;
        client_error_ok($c->post('/users/me/mfa/confirm', {code => $v}), "confirm with $what");
    }
    client_error_ok($c->post('/users/me/mfa/confirm', undef, body => '[]'), 'confirm with a JSON array');
    client_error_ok($c->post('/users/me/mfa/confirm', undef, body => 'code=123456',
                             ctype => 'application/x-www-form-urlencoded'), 'confirm as a form');
    bool_is(status_of($c, 'after all that')->{enabled}, 0, '... MFA is still off');
}

my @rc;
{
    my ($code, $step) = totp_code_step($second->{secret});
    my $res = $c->post('/users/me/mfa/confirm', {code => $code});
    is($res->code, 200, 'confirm with the right code: 200') or diag($res->content);
    no_store_ok($res, '...');
    my $b = json_body($res) || {};
    is_deeply([sort keys %$b], ['recovery_codes'], '... {recovery_codes}');
    @rc = @{ $b->{recovery_codes} || [] };
    push @SECRETS, @rc;
    is(scalar @rc, 10, '... 10 recovery codes');
    is(scalar(grep { $_ =~ recovery_code_re() } @rc), 10, '... each xxxx-xxxx-xxxx-xxxx of a-z2-7 (80 bits)')
        or diag("@rc");
    my %seen = map { $_ => 1 } @rc;
    is(scalar keys %seen, 10, '... all different');
    problem_ok($c->post('/users/me/mfa/confirm', {code => totp_code($second->{secret}, 1)}), 409,
               'mfa_not_pending', 'confirm again');
    problem_ok($c->post('/users/me/mfa', {}), 409, 'mfa_already_enabled', 'POST /users/me/mfa when enabled');

    my $st = status_of($c, 'enabled');
    bool_is($st->{enabled}, 1, '... enabled');
    bool_is($st->{pending}, 0, '... pending');
    iso_time_ok($st->{enabled_at}, '... enabled_at');
    is($st->{recovery_codes_remaining}, 10, '... 10 recovery codes remaining');
    bool_is((json_body($c->get('/users/me')) || {})->{mfa_enabled}, 1, 'GET /users/me: mfa_enabled');
    is(guard_code($c, path => '/mg/mfa/'), 200, 'the confirming session passes "Require authsvc mfa"');
    my ($cur) = grep { $_->{current} } @{ (json_body($c->get('/users/me/sessions')) || {})->{sessions} || [] };
    bool_is(($cur || {})->{mfa}, 1, '... GET /users/me/sessions: its mfa');

    # At rest.
    my $row = user_row($f->{email});
    my $sealed = $row->{totp_secret} // '';
    like($sealed, qr/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+$/, 'users.totp_secret: v1.<kid>.<base64url>');
    isnt($sealed, $second->{secret}, '... not the base32 secret');
    my $raw = base32_decode($second->{secret});
    for my $form (['base32', $second->{secret}], ['hex', unpack('H*', $raw)],
                  ['base64', MIME::Base64::encode_base64($raw, '')]) {
        ok(index(lc $sealed, lc $form->[1]) < 0, "... does not contain the secret in $form->[0]");
    }
    my ($kid) = $sealed =~ /^v1\.([0-9a-f]{8})\./;
    is($kid, key_kid(secret_key_file(1)), '... sealed under the AuthsvcSecretKeyFile key (its kid)');
    ok(!defined $row->{totp_pending}, '... users.totp_pending cleared');
    ok(defined $row->{mfa_enabled_at} && abs($row->{mfa_enabled_at} - time) <= 5, '... mfa_enabled_at is now');
    is($row->{totp_last_step}, $step, '... totp_last_step is the step of the confirming code');
  SKIP: {
        skip 'python3 with cryptography is not installed', 3 unless python_ok();
        my $pt = open_sealed($sealed, secret_key_file(1), $uid);
        ok(defined $pt, '... opens with AES-256-GCM under the key, the user id as associated data');
        ok(defined $pt && ($pt eq $raw || $pt eq $second->{secret}), '... to the secret');
        ok(!defined open_sealed($sealed, secret_key_file(1), $uid . 'x'), '... not with another aad');
    }

    my $rows = db_rows('SELECT * FROM mfa_recovery_codes WHERE user_id = ' . sql_str($uid));
    is(scalar @$rows, 10, 'mfa_recovery_codes: 10 rows');
    is(scalar(grep { !defined $_->{used_at} } @$rows), 10, '... none used');
    my %hashes = map { $_->{code_hash} => 1 } @$rows;
    my @want = map { my $n = lc $_; $n =~ s/-//g; sha256_hex($n) } @rc;
    is(scalar(grep { $hashes{$_} } @want), 10, '... code_hash = SHA-256 hex of each normalized code');
    my $dump = join ' ', map { join ' ', map { $_ // '' } values %$_ } @$rows;
    my @plain = grep { my $n = $_ =~ s/-//gr; index($dump, $_) >= 0 || index($dump, $n) >= 0 } @rc;
    ok(!@plain, '... no code in plain text');

    my $m = mail_ok('the mfa_enabled mail', to => $f->{email}, template => 'mfa_enabled');
    ok(defined template_subject_re('mfa_enabled'), '... the template mfa_enabled exists');
    like($m->{text}, qr/\Q${\ lc $f->{email}}\E/, '... names the account');
    my @leak = grep { index($m->{raw}, $_) >= 0 } $second->{secret}, @rc;
    ok(!@leak, '... carries neither the secret nor a recovery code');
    is(scalar @{ audit_events($uid, 'mfa_enabled') }, 1, 'audit: mfa_enabled');
}

# Another account, to show that the secret is per account and the pending one expires.
{
    my ($c2, $f2) = account(vhost => 'mfa');
    my $e = mfa_enroll($c2);
    push @SECRETS, $e->{secret};
    isnt($e->{secret}, $second->{secret}, 'another account gets another secret');
    db_do('UPDATE users SET totp_pending_at = ' . (time - 901) . ' WHERE email = ' . sql_str(lc $f2->{email}));
    bool_is(status_of($c2, 'a pending secret 15 minutes old')->{pending}, 0, '... pending (docs/api.md)');
    problem_ok($c2->post('/users/me/mfa/confirm', {code => totp_code($e->{secret})}), 409, 'mfa_not_pending',
               'confirm after the pending secret expired (15 minutes)');
    my $nb = $c2->post('/users/me/mfa');
    is($nb->code, 200, 'POST /users/me/mfa without a body: 200') or diag($nb->content);
    my $e2 = json_body($nb) || {};
    push @SECRETS, $e2->{secret} // ();
    is($c2->post('/users/me/mfa/confirm', {code => totp_code($e2->{secret})})->code, 200,
       '... a new enrollment then works');
}

# The window applies to confirmation too (AuthsvcTOTPWindow 1 by default).
{
    my ($c3) = account(vhost => 'mfa');
    my $e = mfa_enroll($c3);
    push @SECRETS, $e->{secret};
    problem_ok($c3->post('/users/me/mfa/confirm', {code => totp_code($e->{secret}, -2)}), 401,
               'invalid_mfa_code', 'confirm with the code of two steps ago');
    problem_ok($c3->post('/users/me/mfa/confirm', {code => totp_code($e->{secret}, 2)}), 401,
               'invalid_mfa_code', 'confirm with the code of two steps ahead');
    is($c3->post('/users/me/mfa/confirm', {code => totp_code($e->{secret}, -1)})->code, 200,
       'confirm with the code of the step before: 200');
    my ($c4) = account(vhost => 'mfa');
    my $e4 = mfa_enroll($c4);
    push @SECRETS, $e4->{secret};
    is($c4->post('/users/me/mfa/confirm', {code => totp_code($e4->{secret}, 1)})->code, 200,
       'confirm with the code of the step after: 200');
}

# ---- AuthsvcMFAIssuer -------------------------------------------------------------------------

{
    my ($ci, $fi) = account(vhost => 'mfaissuer');
    my $e = mfa_enroll($ci);
    push @SECRETS, $e->{secret};
    my ($label, $q) = otpauth_parts($e->{otpauth_uri});
    my ($iss_raw) = split /:/, $label // '', 2;
    encoded_ok($iss_raw, 'AuthsvcMFAIssuer "Example Co. & Tests": the label\'s issuer');
    is(pct_decode($iss_raw // ''), 'Example Co. & Tests', '... is the configured name');
    encoded_ok(($q || {})->{issuer}, '... issuer=');
    is(pct_decode(($q || {})->{issuer} // ''), 'Example Co. & Tests', '... issuer= too');
    like($e->{otpauth_uri}, qr/Example%20Co\.%20%26%20Tests/, '... space and & escaped, . kept');
}

# ---- two keys: the last one seals, every one opens -------------------------------------------

{
    my $r = mfa_account(vhost => 'mfarotate');
    push @SECRETS, $r->{secret}, @{ $r->{recovery} || [] };
    my ($kid) = (user_row($r->{f}{email})->{totp_secret} // '') =~ /^v1\.([0-9a-f]{8})\./;
    is($kid, key_kid(secret_key_file(2)), 'two AuthsvcSecretKeyFile lines: sealed under the last');
    isnt(key_kid(secret_key_file(1)), key_kid(secret_key_file(2)), '... (the two keys differ)');
    # An account sealed under the first key signs in where both are configured.
    my $a = mfa_account(vhost => 'mfa');
    push @SECRETS, $a->{secret}, @{ $a->{recovery} || [] };
    my ($c1, $res1, $token) = mfa_start($a, vhost => 'mfarotate');
    is($res1->code, 401, 'a secret sealed under the first key, on the two-key vhost: mfa_required');
    my $res = $c1->post('/auth/login/mfa', {mfa_token => $token, code => mfa_code($a)});
    is($res->code, 200, '... and its code is accepted (the first key still opens)') or diag($res->content);
    my ($now) = (user_row($a->{f}{email})->{totp_secret} // '') =~ /^v1\.([0-9a-f]{8})\./;
    is($now, key_kid(secret_key_file(2)), '... and its secret is sealed again under the newest key');
}

# ---- new recovery codes -------------------------------------------------------------------------

{
    my $a = mfa_account();
    push @SECRETS, $a->{secret}, @{ $a->{recovery} };
    my $ac = $a->{c};
    my $p = problem_ok($ac->post('/users/me/mfa/recovery-codes', {}), 422, 'validation_failed',
                       'recovery-codes without a code');
    fields_ok($p, {code => 'required'}, 'recovery-codes without a code');
    wrong_type_ok($ac->post('/users/me/mfa/recovery-codes', {code => 123456}), 'code',
                  'recovery-codes with code as a number');
    problem_ok($ac->post('/users/me/mfa/recovery-codes', undef, body => '{'), 400, 'invalid_json',
               'recovery-codes with broken JSON');
    my $wrong = totp_code_at($a->{secret}, totp_step() - 5);
    problem_ok($ac->post('/users/me/mfa/recovery-codes', {code => $wrong}), 401, 'invalid_mfa_code',
               'recovery-codes with a wrong code');
    my $res = $ac->post('/users/me/mfa/recovery-codes', {code => mfa_code($a)});
    is($res->code, 200, 'recovery-codes with the right code: 200') or diag($res->content);
    no_store_ok($res, '...');
    my @new = @{ (json_body($res) || {})->{recovery_codes} || [] };
    push @SECRETS, @new;
    is(scalar @new, 10, '... 10 new codes');
    is(scalar(grep { $_ =~ recovery_code_re() } @new), 10, '... of the format');
    my %old = map { $_ => 1 } @{ $a->{recovery} };
    ok(!grep({ $old{$_} } @new), '... none of the old ones');
    is(scalar @{ audit_events($a->{u}{id}, 'recovery_codes_regenerated') }, 1, 'audit: recovery_codes_regenerated');
    is(status_of($ac, 'after regeneration')->{recovery_codes_remaining}, 10, '... 10 remaining');
    my $rows = db_rows('SELECT * FROM mfa_recovery_codes WHERE user_id = ' . sql_str($a->{u}{id})
                       . ' AND used_at IS NULL');
    my %h = map { $_->{code_hash} => 1 } @$rows;
    is_deeply([sort keys %h], [sort map { sha256_hex(s/-//gr) } @new], '... the unused rows are the new set');

    my ($lc, $r1, $t1) = mfa_start($a);
    problem_ok($lc->post('/auth/login/mfa', {mfa_token => $t1, recovery_code => $a->{recovery}[0]}), 401,
               'invalid_mfa_code', 'an old recovery code no longer signs in');
    my $ok = $lc->post('/auth/login/mfa', {mfa_token => $t1, recovery_code => $new[0]});
    is($ok->code, 200, '... a new one does') or diag($ok->content);
}

# ---- disable --------------------------------------------------------------------------------------

{
    my $a = mfa_account();
    push @SECRETS, $a->{secret}, @{ $a->{recovery} };
    my $ac = $a->{c};
    my $other = mfa_login($a, agent => 'other-device/1.0', recovery_code => $a->{recovery}[9]);
    is($other->get('/users/me')->code, 200, 'a second session with MFA');

    # (a right recovery code, not a TOTP code: that would take a time step)
    my $wres = $ac->del('/users/me/mfa', json => {password => $a->{f}{password} . 'x',
                                                  recovery_code => $a->{recovery}[8]});
    problem_ok($wres, 401, 'invalid_credentials', 'DELETE /users/me/mfa with a wrong password');
    is(ra(detail_in($wres, 'login_failure')), 'bad_password/mfa_disable',
       '... audit: login_failure {"reason":"bad_password","action":"mfa_disable"} (docs/api.md)');
    $wres = $ac->del('/users/me/mfa', json => {password => $a->{f}{password},
                                               code => totp_code_at($a->{secret}, totp_step() - 7)});
    problem_ok($wres, 401, 'invalid_mfa_code', '... with a wrong code');
    is(ra(detail_in($wres, 'mfa_failure')), 'bad_code/mfa_disable',
       '... audit: mfa_failure {"reason":"bad_code","action":"mfa_disable"} (docs/api.md)');
    problem_ok($ac->del('/users/me/mfa', json => {password => $a->{f}{password},
                                                   recovery_code => 'aaaa-bbbb-cccc-dddd'}),
               401, 'invalid_mfa_code', '... with a wrong recovery code');
    my $p1 = problem_ok($ac->del('/users/me/mfa', json => {password => $a->{f}{password}}), 422,
                        'validation_failed', '... with neither code');
    fields_ok($p1, {code => 'required'}, '... with neither code');
    $p1 = problem_ok($ac->del('/users/me/mfa', json => {password => $a->{f}{password}, code => '123456',
                                                        recovery_code => 'aaaa-bbbb-cccc-dddd'}),
                     422, 'validation_failed', '... with both codes');
    fields_ok($p1, {recovery_code => 'conflict'}, '... with both codes');
    my $p2 = problem_ok($ac->del('/users/me/mfa', json => {code => '123456'}), 422, 'validation_failed',
                        '... without the password');
    fields_ok($p2, {password => 'required'}, '... without the password');
    problem_ok($ac->del('/users/me/mfa', body => '{"password":', ctype => 'application/json'), 400,
               'invalid_json', '... with broken JSON');
    wrong_type_ok($ac->del('/users/me/mfa', json => {password => $a->{f}{password}, code => 123456}), 'code',
                  '... with code as a number');
    bool_is(status_of($ac, 'after the refusals')->{enabled}, 1, '... MFA is still on');

    my $res = $ac->del('/users/me/mfa', json => {password => $a->{f}{password}, code => mfa_code($a)});
    is($res->code, 204, 'DELETE /users/me/mfa with the password and a code: 204') or diag($res->content);
    is($res->content, '', '... no body');
    my $st = status_of($ac, 'after disabling');
    bool_is($st->{enabled}, 0, '... enabled');
    is($st->{recovery_codes_remaining}, 0, '... no recovery codes');
    ok(!defined $st->{enabled_at}, '... enabled_at null');
    my $row = user_row($a->{f}{email});
    ok(!defined $row->{totp_secret}, '... users.totp_secret cleared');
    is(db_value('SELECT count(*) AS n FROM mfa_recovery_codes WHERE user_id = ' . sql_str($a->{u}{id})), 0,
       '... recovery codes deleted');
    is(scalar @{ audit_events($a->{u}{id}, 'mfa_disabled') }, 1, 'audit: mfa_disabled');
    mail_ok('the mfa_enabled mail', to => $a->{f}{email}, template => 'mfa_enabled');
    my $m = mail_ok('the mfa_disabled mail', to => $a->{f}{email}, template => 'mfa_disabled');
    ok(defined template_subject_re('mfa_disabled'), '... the template mfa_disabled exists');
    like($m->{text}, qr/\Q${\ lc $a->{f}{email}}\E/, '... names the account');
    is($other->get('/users/me')->code, 200, 'the other session keeps working');
    is($ac->get('/users/me')->code, 200, '... and this one');

    my $lres = client(vhost => 'mfa')->login($a->{f}{email}, $a->{f}{password});
    is($lres->code, 200, 'sign-in is one step again') or diag($lres->content);
    ok(scalar(grep { /^authsvc=/ } $lres->header('Set-Cookie')), '... with a cookie');
    problem_ok($ac->del('/users/me/mfa', json => {password => $a->{f}{password}, code => '123456'}), 409,
               'mfa_not_enabled', 'DELETE /users/me/mfa again');

    my $e = mfa_enroll($ac);
    push @SECRETS, $e->{secret};
    isnt($e->{secret}, $a->{secret}, 'enrolling again gives a new secret');
    is($ac->post('/users/me/mfa/confirm', {code => totp_code($e->{secret})})->code, 200, '... and it confirms');
}

# Disabling with a recovery code (upper case, without dashes: as typed).
{
    my $a = mfa_account();
    push @SECRETS, $a->{secret}, @{ $a->{recovery} };
    my $typed = uc($a->{recovery}[3] =~ s/-//gr);
    my $res = $a->{c}->del('/users/me/mfa', json => {password => $a->{f}{password}, recovery_code => $typed});
    is($res->code, 204, 'DELETE /users/me/mfa with a recovery code as typed: 204') or diag($res->content);
    bool_is(status_of($a->{c}, '... then')->{enabled}, 0, '... MFA is off');
}

# ---- deleting the account deletes its second factor -------------------------------------------

{
    my $a = mfa_account();
    push @SECRETS, $a->{secret}, @{ $a->{recovery} };
    my $id = $a->{u}{id};
    mfa_start($a);    # an open challenge
    my $res = $a->{c}->del('/users/me', json => {password => $a->{f}{password}});
    is($res->code, 204, 'DELETE /users/me of an MFA account: 204') or diag($res->content);
    is(db_value('SELECT count(*) AS n FROM mfa_recovery_codes WHERE user_id = ' . sql_str($id)), 0,
       '... its recovery codes are gone');
    is(db_value('SELECT count(*) AS n FROM mfa_challenges WHERE user_id = ' . sql_str($id)), 0,
       '... and its sign-in challenges');
    ok(!user_row($a->{f}{email}), '... and the account with its secret');
}

# ---- nothing secret in the logs ---------------------------------------------------------------------

{
    my $log = error_log_since($LOG0);
    my @in_log = grep { index($log, $_) >= 0 || index($log, s/-//gr) >= 0 } grep { defined } @SECRETS;
    ok(!@in_log, 'no secret or recovery code in the error log (LogLevel authsvc:debug)')
        or diag("found: @in_log");
    my $audit = join "\n", map { $_->{detail} // '' } @{ audit_rows() };
    my @in_audit = grep { index($audit, $_) >= 0 } grep { defined } @SECRETS;
    ok(!@in_audit, '... nor in the audit log') or diag("found: @in_audit");
}

done_testing();
