# Password reset: POST /auth/forgot-password (one answer whoever asks) and
# POST /auth/reset-password with the mailed token: sessions revoked, email verified,
# no sign-in, a "password changed" notice. Mail lands in state/mail/main.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $URL = 'https://accounts.example.test/api';
my $ACCEPTED = {
    status => 'accepted',
    detail => 'If an account with this email exists, a message with a reset link is on its way.',
};
my $mark = error_log_mark();
my @tokens;

my $anon = client();

sub token_row {
    my ($token) = @_;
    return db_row('SELECT * FROM tokens WHERE token_hash = ' . sql_str(sha256_hex($token // '')));
}

sub forgot {
    my ($email, $c) = @_;
    return ($c || $anon)->post('/auth/forgot-password', {email => $email});
}

sub reset_mail {
    my ($name, $email, %o) = @_;
    my $m = mail_ok($name, to => $email, template => 'reset_password', %o);
    push @tokens, $m->{token} if defined $m->{token};
    return $m;
}

sub guarded { guard_code($_[0]) }

# A Set-Cookie that would sign the client in.
sub session_cookie_set {
    my ($res) = @_;
    return grep { /^authsvc=[^;]+/ } $res->header('Set-Cookie');
}

# ---- forgot-password: the same answer for everybody ----------------------------------

{
    my ($r1, $known) = client()->register();
    my ($r2, $disabled) = client()->register();
    db_do("UPDATE users SET status = 'disabled' WHERE email = " . sql_str($disabled->{email}));
    my $unknown = unique_email('nobody');
    my $outbox_before = scalar @{ outbox_rows() };

    my %res;
    $res{unknown}  = forgot($unknown);
    $res{disabled} = forgot($disabled->{email});
    $res{known}    = forgot($known->{email});
    $res{'known, upper case'} = forgot(uc $known->{email});
    for my $k (sort keys %res) {
        my $res = $res{$k};
        is($res->code, 202, "forgot-password, $k account: 202");
        like($res->header('Content-Type') // '', qr{^application/json\b}, "... $k: JSON");
        no_store_ok($res, "... $k:");
        is_deeply(json_body($res), $ACCEPTED, "... $k: the accepted body");
        ok(!defined $res->header('Set-Cookie'), "... $k: no cookie");
    }
    my %bodies = map { $res{$_}->content => 1 } keys %res;
    is(scalar keys %bodies, 1, 'the bodies are byte for byte the same')
        or diag(join "\n", map { "$_: " . $res{$_}->content } sort keys %res);
    my %types = map { ($res{$_}->header('Content-Type') // '') => 1 } keys %res;
    is(scalar keys %types, 1, '... and so are the Content-Types');

    my $m1 = reset_mail('known account', $known->{email});
    my $m2 = reset_mail('known account, asked in upper case', $known->{email});
    no_mail_ok('unknown account (after the known account\'s mails arrived)', to => $unknown);
    no_mail_ok('disabled account (docs/api.md: disabled ones get no mail)', to => $disabled->{email},
               template => 'reset_password');
    is(scalar @{ outbox_rows('recipient = ' . sql_str($unknown)) }, 0,
       '... nothing for it in the outbox either');
    ok(!db_row('SELECT * FROM users WHERE email = ' . sql_str($unknown)), '... and no account');
    # The audit log tells them apart (docs/api.md), the client does not.
    my $a = db_row("SELECT * FROM audit_log WHERE event = 'password_reset_requested' AND login = "
                   . sql_str($unknown)) || {};
    like($a->{detail} // '', qr/"account"\s*:\s*false/, 'audit: the unknown address, account false');
    $a = db_row("SELECT * FROM audit_log WHERE event = 'password_reset_requested' AND login = "
                . sql_str(lc $known->{email}) . ' ORDER BY id') || {};
    like($a->{detail} // '', qr/"account"\s*:\s*true/, 'audit: the known address, account true');
}

# Bad input.
{
    for my $case ([{}, {email => 'required'}, 'no email'],
                  [{email => undef}, {email => 'required'}, 'email null'],
                  [{email => ''}, {email => 'required'}, 'empty email'],
                  [{email => 'not-an-email'}, {email => 'invalid_email'}, 'invalid email'],
                  [{email => "a\@example.org\r\nBcc: evil\@example.org"}, {email => 'invalid_email'},
                   'email with CR LF'],
                  [{email => 42}, {email => 'wrong_type'}, 'email as a number'],
                  [{email => ['a@example.org']}, {email => 'wrong_type'}, 'email as an array']) {
        my ($body, $fields, $name) = @$case;
        my $p = problem_ok($anon->post('/auth/forgot-password', $body), 422, 'validation_failed',
                           "forgot-password: $name");
        fields_ok($p, $fields, "forgot-password: $name") unless $name eq 'empty email';
    }
    problem_ok($anon->post('/auth/forgot-password', undef, body => '{"email":'), 400, 'invalid_json',
               'forgot-password: broken JSON');
    problem_ok($anon->get('/auth/forgot-password'), 405, 'method_not_allowed', 'GET forgot-password');
    problem_ok($anon->get('/auth/reset-password'), 405, 'method_not_allowed', 'GET reset-password');
}

# ---- the reset -----------------------------------------------------------------------

{
    my ($c, $f, $u) = account(first_name => 'Rita');
    my $other = client(agent => 'other-device/1.0');
    is($other->login($f->{email}, $f->{password})->code, 200, 'a second session');
    is(guarded($c), 200, 'the guarded page with the first session (now cached)');
    is(guarded($other), 200, '... and with the second');
    my $old_hash = user_row($f->{email})->{password_hash};
    ok(!defined user_row($f->{email})->{email_verified_at}, 'the account is unverified');

    my $t0 = time;
    is(forgot($f->{email})->code, 202, 'forgot-password');
    my $m = reset_mail('reset', $f->{email});
    like($m->{token} // '', qr/^[A-Za-z0-9_-]{43}$/, '... "Code: " and a 43-character token');
    is($m->{link}, "$URL/reset-password?token=" . ($m->{token} // ''),
       '... the link AuthsvcPublicURL/reset-password?token=TOKEN');
    my $tr = token_row($m->{token}) || {};
    is($tr->{purpose}, 'reset_password', '... stored: purpose reset_password');
    is($tr->{user_id}, $u->{id}, '... for the account');
    is(($tr->{expires_at} // 0) - ($tr->{created_at} // 0), 30 * 60,
       '... valid for 30 minutes (AuthsvcResetTokenTTL default)');
    is(guarded($c), 200, 'asking for a reset signs nobody out');

    # Refused passwords leave the token usable.
    my $p = problem_ok($anon->post('/auth/reset-password', {token => $m->{token}, password => 'password1234'}),
                       422, 'password_breached', 'reset to a blocklisted password');
    fields_ok($p, {password => 'password_breached'}, 'reset to a blocklisted password');
    $p = problem_ok($anon->post('/auth/reset-password', {token => $m->{token}, password => 'short'}),
                    422, 'validation_failed', 'reset to a short password');
    fields_ok($p, {password => 'password_too_short'}, 'reset to a short password');
    $p = problem_ok($anon->post('/auth/reset-password', {token => $m->{token}}), 422,
                    'validation_failed', 'reset without a password');
    fields_ok($p, {password => 'required'}, 'reset without a password');
    $p = problem_ok($anon->post('/auth/reset-password', {token => $m->{token}, password => 12345678901234}),
                    422, 'validation_failed', 'reset with a number as password');
    fields_ok($p, {password => 'wrong_type'}, 'reset with a number as password');
    is(user_row($f->{email})->{password_hash}, $old_hash, '... the password is unchanged');
    is(guarded($c), 200, '... nobody signed out');

    my $new = new_password();
    my $res = $anon->post('/auth/reset-password', {token => $m->{token}, password => $new});
    is($res->code, 200, 'reset with the token: 200') or diag($res->content);
    no_store_ok($res, '...');
    is_deeply(json_body($res), {status => 'password_changed'}, '... {"status":"password_changed"}');
    is(scalar(session_cookie_set($res)), 0, '... does not sign in');
    isnt(user_row($f->{email})->{password_hash}, $old_hash, '... a new hash');
    ok(defined token_row($m->{token})->{used_at}, '... the token is used');

    problem_ok($c->get('/users/me'), 401, 'unauthenticated', 'the first session after the reset');
    problem_ok($other->get('/users/me'), 401, 'unauthenticated', 'the second session');
    is(guarded($c), 401, 'the guarded page with the first session (cached before): 401');
    is(guarded($other), 401, '... and with the second');
    is(live_session_count($u->{id}), 0, 'no live session left in the database');

    problem_ok(client()->login($f->{email}, $f->{password}), 401, 'invalid_credentials',
               'the old password');
    my $c2 = client();
    is($c2->login($f->{email}, $new)->code, 200, 'the new password signs in');
    my $me = json_body($c2->get('/users/me')) || {};
    ok($me->{email_verified}, '... and the address counts as verified');
    my $vat = user_row($f->{email})->{email_verified_at};
    ok(defined $vat && $vat >= $t0 - 5, '... email_verified_at set');

    problem_ok($anon->post('/auth/reset-password', {token => $m->{token}, password => new_password()}),
               400, 'token_invalid', 'the same token again');
    is($c2->get('/users/me')->code, 200, '... changes nothing');

    my $pc = mail_ok('"password changed" notice', to => $f->{email}, template => 'password_changed');
    ok(!defined $pc->{token}, '... carries no code');
}

# A second request: only the newest token works.
{
    my ($res, $f) = client()->register();
    is(forgot($f->{email})->code, 202, 'forgot-password once');
    my $m1 = reset_mail('... first mail', $f->{email});
    is(forgot($f->{email})->code, 202, 'forgot-password again');
    my $m2 = reset_mail('... second mail', $f->{email});
    isnt($m1->{token} // '', $m2->{token} // '', '... another token');
    problem_ok($anon->post('/auth/reset-password', {token => $m1->{token}, password => new_password()}),
               400, 'token_invalid', 'the first token after the second request');
    my $new = new_password();
    is($anon->post('/auth/reset-password', {token => $m2->{token}, password => $new})->code, 200,
       'the second token: 200');
    is(client()->login($f->{email}, $new)->code, 200, '... its password signs in');
}

# Wrong purpose: verify and change_email tokens are not reset tokens, and the other way.
{
    my ($c, $f) = account();
    my $vm = mail_ok('the verify mail', to => $f->{email}, template => 'verify_email');
    push @tokens, $vm->{token} if defined $vm->{token};
    problem_ok($anon->post('/auth/reset-password', {token => $vm->{token}, password => new_password()}),
               400, 'token_invalid', 'a verify token at reset-password');
    my $new_email = unique_email('moved');
    is($c->post('/users/me/email', {new_email => $new_email, password => $f->{password}})->code,
       202, 'ask for an email change');
    my $cm = mail_ok('the change_email mail', to => $new_email, template => 'change_email');
    push @tokens, $cm->{token} if defined $cm->{token};
    problem_ok($anon->post('/auth/reset-password', {token => $cm->{token}, password => new_password()}),
               400, 'token_invalid', 'a change_email token at reset-password');
    is(client()->login($f->{email}, $f->{password})->code, 200, '... the password is unchanged');

    is(forgot($f->{email})->code, 202, 'forgot-password');
    my $rm = reset_mail('... reset mail', $f->{email});
    problem_ok($anon->post('/auth/verify-email', {token => $rm->{token}}), 400, 'token_invalid',
               'a reset token at verify-email');
    ok(!defined user_row($f->{email})->{email_verified_at}, '... verifies nothing');
}

# Bad tokens (with a valid password, so that only the token is wrong).
{
    my ($res, $f) = client()->register();
    my $hash = user_row($f->{email})->{password_hash};
    bad_tokens_ok($anon, '/auth/reset-password', {password => new_password()}, 'reset-password');
    is(user_row($f->{email})->{password_hash}, $hash, '... no password changed');
    # Both fields there: the token is checked first.
    problem_ok($anon->post('/auth/reset-password', {token => random_token(), password => 'short'}),
               400, 'token_invalid', 'an unknown token with a short password');
    problem_ok($anon->post('/auth/reset-password', {token => random_token(), password => 'password1234'}),
               400, 'token_invalid', 'an unknown token with a listed password');
    my $p = problem_ok($anon->post('/auth/reset-password', {}), 422, 'validation_failed',
                       'reset-password with {}');
    fields_ok($p, {token => 'required', password => 'required'}, 'reset-password with {}');
}

# A disabled account's reset token does nothing.
{
    my ($res, $f) = client()->register();
    is(forgot($f->{email})->code, 202, 'forgot-password, then the account is disabled');
    my $m = reset_mail('... the reset mail', $f->{email});
    db_do("UPDATE users SET status = 'disabled' WHERE email = " . sql_str($f->{email}));
    problem_ok($anon->post('/auth/reset-password', {token => $m->{token}, password => new_password()}),
               400, 'token_invalid', '... its token');
    db_do("UPDATE users SET status = 'active' WHERE email = " . sql_str($f->{email}));
    is(client()->login($f->{email}, $f->{password})->code, 200, '... the password is unchanged');
}

# Expired (vhost shortttl: AuthsvcResetTokenTTL 2s).
{
    my $s = client(vhost => 'shortttl');
    my ($res, $f) = $s->register();
    is(forgot($f->{email}, $s)->code, 202, 'forgot-password on the short-TTL vhost');
    my $m = reset_mail('... its mail', $f->{email});
    my $tr = token_row($m->{token}) || {};
    is(($tr->{expires_at} // 0) - ($tr->{created_at} // 0), 2, '... the token lives 2s');
    sleep 1 while time <= ($tr->{expires_at} // time + 2) + 1;
    problem_ok($s->post('/auth/reset-password', {token => $m->{token}, password => new_password()}),
               400, 'token_invalid', 'an expired reset token');
    is(client()->login($f->{email}, $f->{password})->code, 200, '... the password is unchanged');
}

# Single use under a race: the same token sent by several clients at once works once.
{
    my ($res, $f) = client()->register();
    is(forgot($f->{email})->code, 202, 'forgot-password for the race');
    my $m = reset_mail('... its mail', $f->{email});
    my @pw = map { new_password() } 1 .. 6;
    my @codes = parallel_posts(undef, '/auth/reset-password',
                               [map { {token => $m->{token}, password => $_} } @pw]);
    my @won = grep { $codes[$_] eq '200' } 0 .. $#codes;
    is(scalar @won, 1, '6 resets with one token at once: exactly one 200') or diag("@codes");
    is(scalar(grep { $_ eq '400' } @codes), 5, '... the others 400') or diag("@codes");
    if (@won == 1) {
        is(client()->login($f->{email}, $pw[ $won[0] ])->code, 200, '... the winner\'s password is set');
        my @lost = grep { $_ != $won[0] } 0 .. $#pw;
        is(scalar(grep { client()->login($f->{email}, $pw[$_])->code == 200 } @lost), 0,
           '... no loser\'s password is');
    }
    else {
        fail('... the winner\'s password is set');
        fail('... no loser\'s password is');
    }
    # The password_changed notice, once.
    mail_ok('... one "password changed" notice', to => $f->{email}, template => 'password_changed');
}

# Several requests at once: one usable link remains.
{
    my ($res, $f) = client()->register();
    my @codes = parallel_posts(undef, '/auth/forgot-password', [({email => $f->{email}}) x 6]);
    is("@codes", join(' ', (202) x 6), '6 forgot-password requests at once: all 202');
    my @m = map { reset_mail("... mail $_", $f->{email}) } 1 .. 6;
    my @usable = grep {
        db_value('SELECT count(*) AS n FROM tokens WHERE used_at IS NULL AND expires_at > ' . time
                 . ' AND token_hash = ' . sql_str(sha256_hex($_->{token} // '')))
    } @m;
    is(scalar @usable, 1, '... exactly one of the six tokens is still usable');
}

# With AuthsvcRequireVerifiedEmail (vhost verified): a reset proves the address.
{
    my $v = client(vhost => 'verified');
    my ($res, $f) = $v->register();
    problem_ok($v->login($f->{email}, $f->{password}), 403, 'verification_required',
               'verified vhost: a new account cannot sign in');
    is(forgot($f->{email}, $v)->code, 202, '... forgot-password');
    my $m = reset_mail('... reset mail', $f->{email});
    my $new = new_password();
    is($v->post('/auth/reset-password', {token => $m->{token}, password => $new})->code, 200,
       '... reset');
    is($v->login($f->{email}, $new)->code, 200, '... now it signs in');
}

# ---- no token in the error log ------------------------------------------------------------

{
    my $log = error_log_since($mark);
    ok(@tokens >= 8, 'tokens were mailed (' . scalar(@tokens) . ')');
    my @leaked = grep { defined && index($log, $_) >= 0 } @tokens;
    is(scalar @leaked, 0, 'no mailed token appears in the error log');
    unlike($log, qr/reset-password\?token=/, '... nor a reset link');
}

done_testing();
