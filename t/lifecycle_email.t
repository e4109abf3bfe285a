# POST /users/me/email: a change_email link goes to the new address; nothing changes
# until POST /auth/verify-email with it; then the old address gets a notice.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $URL = 'https://accounts.example.test/api';
my $mark = error_log_mark();
my @tokens;
my $anon = client();

sub token_row {
    my ($token) = @_;
    return db_row('SELECT * FROM tokens WHERE token_hash = ' . sql_str(sha256_hex($token // '')));
}

sub ask {
    my ($c, $new, $pw, %o) = @_;
    return $c->post('/users/me/email', {new_email => $new, password => $pw}, %o);
}

sub change_mail {
    my ($name, $to, %o) = @_;
    my $m = mail_ok($name, to => $to, template => 'change_email', %o);
    push @tokens, $m->{token} if defined $m->{token};
    return $m;
}

sub outbox_count { scalar @{ outbox_rows() } }

# ---- without a session -------------------------------------------------------------------

problem_ok(ask($anon, unique_email(), 'whatever it is'), 401, 'unauthenticated', 'without a session');
problem_ok(ask($anon, unique_email(), 'whatever it is', cookie => 'authsvc=' . random_token()),
           401, 'unauthenticated', 'with an unknown session');

# ---- refusals ----------------------------------------------------------------------------

my ($c, $f, $u) = account(first_name => 'Emil');
my ($r, $taken) = client()->register();
{
    my $before = outbox_count();
    my @bad = (
        [{new_email => unique_email(), password => $f->{password} . 'x'}, 401, 'invalid_credentials',
         undef, 'wrong password'],
        [{new_email => $taken->{email}, password => $f->{password}}, 409, 'email_taken', undef,
         'an address another account has'],
        # The password first: without it, nothing is told about other accounts.
        [{new_email => $taken->{email}, password => $f->{password} . 'x'}, 401,
         'invalid_credentials', undef, 'a taken address with a wrong password'],
        [{new_email => $f->{email}, password => $f->{password} . 'x'}, 401,
         'invalid_credentials', undef, 'the current address with a wrong password'],
        [{new_email => unique_email(), password => ''}, 401, 'invalid_credentials', undef,
         'an empty password'],
        [{new_email => uc $taken->{email}, password => $f->{password}}, 409, 'email_taken', undef,
         '... in upper case'],
        [{new_email => $f->{email}, password => $f->{password}}, 422, 'validation_failed',
         {new_email => 'unchanged'}, 'the current address'],
        [{new_email => uc $f->{email}, password => $f->{password}}, 422, 'validation_failed',
         {new_email => 'unchanged'}, 'the current address in upper case'],
        [{new_email => 'not-an-email', password => $f->{password}}, 422, 'validation_failed',
         {new_email => 'invalid_email'}, 'an invalid address'],
        [{new_email => "x\@example.org\r\nBcc: evil\@example.org", password => $f->{password}}, 422,
         'validation_failed', {new_email => 'invalid_email'}, 'an address with CR LF and a header'],
        [{new_email => "x\@example.org\nBcc: evil\@example.org", password => $f->{password}}, 422,
         'validation_failed', {new_email => 'invalid_email'}, 'an address with LF and a header'],
        [{new_email => "x\@example.org\rTo: evil\@example.org", password => $f->{password}}, 422,
         'validation_failed', {new_email => 'invalid_email'}, 'an address with a lone CR'],
        [{}, 422, 'validation_failed', {new_email => 'required', password => 'required'},
         'empty object'],
        [{new_email => unique_email()}, 422, 'validation_failed', {password => 'required'},
         'no password'],
        [{password => $f->{password}}, 422, 'validation_failed', {new_email => 'required'},
         'no new_email'],
        [{new_email => 42, password => $f->{password}}, 422, 'validation_failed',
         {new_email => 'wrong_type'}, 'new_email as a number'],
        [{new_email => unique_email(), password => {a => 1}}, 422, 'validation_failed',
         {password => 'wrong_type'}, 'password as an object'],
    );
    for my $case (@bad) {
        my ($body, $status, $code, $fields, $name) = @$case;
        my $p = problem_ok($c->post('/users/me/email', $body), $status, $code, $name);
        fields_ok($p, $fields, $name) if $fields;
    }
    problem_ok($c->post('/users/me/email', undef, body => '{"new_email":'), 400, 'invalid_json',
               'broken JSON');
    is(outbox_count(), $before, 'none of them queued a mail');
    is(user_row($f->{email})->{id}, $u->{id}, 'the account keeps its address');
    is($c->get('/users/me')->code, 200, 'the session still works');
}

# ---- the change --------------------------------------------------------------------------

{
    my $vm = mail_ok('the registration\'s verify mail', to => $f->{email}, template => 'verify_email');
    push @tokens, $vm->{token} if defined $vm->{token};

    # A second request voids the first link.
    my $first = unique_email('Emil.First');
    is(ask($c, $first, $f->{password})->code, 202, 'ask for a change (to be superseded)');
    my $m0 = change_mail('... its link', $first);

    my $new = unique_email('Emil.New');
    my $res = ask($c, $new, $f->{password});
    is($res->code, 202, 'ask for a change: 202') or diag($res->content);
    no_store_ok($res, '...');
    is_deeply(json_body($res), {status => 'accepted'}, '... {"status":"accepted"}');

    my $m = change_mail('the link to the new address', lc $new);
    like($m->{token} // '', qr/^[A-Za-z0-9_-]{43}$/, '... "Code: " and a 43-character token');
    is($m->{link}, "$URL/verify-email?token=" . ($m->{token} // ''),
       '... the link AuthsvcPublicURL/verify-email?token=TOKEN');
    my $tr = token_row($m->{token}) || {};
    is($tr->{purpose}, 'change_email', '... stored: purpose change_email');
    is($tr->{user_id}, $u->{id}, '... for the account');
    is($tr->{email}, lc $new, '... and the new address');
    is(($tr->{expires_at} // 0) - ($tr->{created_at} // 0), 24 * 3600,
       '... valid for AuthsvcVerifyTokenTTL (24h)');

    problem_ok($anon->post('/auth/verify-email', {token => $m0->{token}}), 400, 'token_invalid',
               'the first link after a second request');
    ok(!user_row($first), '... changed nothing');

    # Nothing changes yet.
    is(user_row($f->{email})->{id}, $u->{id}, 'until confirmed, the account has the old address');
    problem_ok(client()->login($new, $f->{password}), 401, 'invalid_credentials',
               '... the new address does not sign in');
    is(client()->login($f->{email}, $f->{password})->code, 200, '... the old one does');
    no_mail_ok('... no notice to the old address yet', to => $f->{email}, template => 'email_changed');

    $res = $anon->post('/auth/verify-email', {token => $m->{token}});
    is($res->code, 200, 'confirm with the token: 200') or diag($res->content);
    my $bu = (json_body($res) || {})->{user} || {};
    is($bu->{id}, $u->{id}, '... the account');
    is($bu->{email}, lc $new, '... now with the new address');
    ok($bu->{email_verified}, '... which counts as verified');
    my $row = db_row('SELECT * FROM users WHERE id = ' . sql_str($u->{id}));
    is($row->{email}, lc $new, '... stored');
    ok(defined $row->{email_verified_at}, '... email_verified_at set');
    ok(!user_row($f->{email}), '... the old address is free');

    my $n = mail_ok('the notice to the old address', to => $f->{email}, template => 'email_changed');
    like($n->{text}, qr/\Q${\ lc $new}\E/, '... it names the new address');
    ok(!defined $n->{token}, '... and carries no code');
    no_mail_ok('... nothing else to the new address', to => lc $new, template => 'email_changed');

    is(client()->login($new, $f->{password})->code, 200, 'the new address signs in');
    problem_ok(client()->login($f->{email}, $f->{password}), 401, 'invalid_credentials',
               'the old address does not');
    my $x = client();
    $x->login($new, $f->{password});
    is((json_body($x->get('/users/me')) || {})->{email}, lc $new, '/users/me shows the new address');

    problem_ok($anon->post('/auth/verify-email', {token => $m->{token}}), 400, 'token_invalid',
               'the same token again');
    # Sessions stay open.
    my $mine = json_body($c->get('/users/me')) || {};
    is($mine->{email}, lc $new, 'the session that asked is still open, with the new address');
    # The registration's verify token proves the old address, which the account no
    # longer has.
    problem_ok($anon->post('/auth/verify-email', {token => $vm->{token}}), 400, 'token_invalid',
               'the registration\'s verify token after the change');

    # The old address can be registered by somebody else.
    my ($r2) = client()->register(email => $f->{email});
    is($r2->code, 201, 'the old address registers as a new account');
    $f->{email} = lc $new;
}

# A reset link mailed to the old address stops working once the new one is confirmed:
# whoever reads the old mailbox cannot take the account back.
{
    my ($c4, $f4) = account();
    is($anon->post('/auth/forgot-password', {email => $f4->{email}})->code, 202,
       'a reset link to the old address');
    my $rm = mail_ok('... arrives', to => $f4->{email}, template => 'reset_password');
    push @tokens, $rm->{token} if defined $rm->{token};
    my $new = unique_email('moved');
    is(ask($c4, $new, $f4->{password})->code, 202, '... then a change of address');
    my $m = change_mail('... its link', $new);
    is($anon->post('/auth/verify-email', {token => $m->{token}})->code, 200, '... confirmed');
    problem_ok($anon->post('/auth/reset-password', {token => $rm->{token}, password => new_password()}),
               400, 'token_invalid', 'the old address\'s reset link after the change');
    is(client()->login($new, $f4->{password})->code, 200, '... the password is unchanged');
}

# The address was taken between asking and confirming.
{
    my ($c2, $f2) = account();
    my $new = unique_email('race');
    is(ask($c2, $new, $f2->{password})->code, 202, 'ask for a change to a free address');
    my $m = change_mail('... the link', $new);
    my ($r3, $sq_f) = client()->register(email => $new);
    is($r3->code, 201, '... somebody registers that address meanwhile');
    problem_ok($anon->post('/auth/verify-email', {token => $m->{token}}), 409, 'email_taken',
               '... confirming: 409');
    is(user_row($f2->{email}) && user_row($f2->{email})->{email}, lc $f2->{email},
       '... the account keeps its address');
    # The token is not spent: once the address is free again, it works.
    my $sq = client();
    is($sq->login($new, $sq_f->{password})->code, 200, '... the other account signs in');
    is($sq->del('/users/me', json => {password => $sq_f->{password}})->code, 204,
       '... and deletes itself');
    my $res = $anon->post('/auth/verify-email', {token => $m->{token}});
    is($res->code, 200, '... the address freed, the same token confirms') or diag($res->content);
    is((json_body($res) || {})->{user}{email}, lc $new, '... the new address');
}

# Two accounts confirm a change to the same address at the same moment: one wins, the
# other gets 409 (not an error from the unique index). Three rounds: it is a race.
{
    my (@rounds, @owners);
    for my $round (1 .. 3) {
        my ($c5, $f5) = account();
        my ($c6, $f6) = account();
        my $x = unique_email('contested');
        ask($c5, $x, $f5->{password});
        ask($c6, $x, $f6->{password});
        my $m5 = wait_mail(to => $x, template => 'change_email') || {};
        my $m6 = wait_mail(to => $x, template => 'change_email') || {};
        my @codes = sort(parallel_posts(undef, '/auth/verify-email',
                                        [{token => $m5->{token}}, {token => $m6->{token}}]));
        push @rounds, "@codes";
        push @owners, scalar @{ db_rows('SELECT id FROM users WHERE email = ' . sql_str($x)) };
    }
    is_deeply(\@rounds, [('200 409') x 3],
              'two accounts confirm the same new address at once (3 rounds): 200 and 409');
    is_deeply(\@owners, [1, 1, 1], '... one account has it each time');
}

# Expired (vhost shortttl: AuthsvcVerifyTokenTTL 2s also bounds change_email).
{
    my ($c3, $f3) = account(vhost => 'shortttl');
    my $new = unique_email('late');
    is(ask($c3, $new, $f3->{password})->code, 202, 'short-TTL vhost: ask for a change');
    my $m = change_mail('... the link', $new);
    my $tr = token_row($m->{token}) || {};
    is(($tr->{expires_at} // 0) - ($tr->{created_at} // 0), 2, '... the token lives 2s');
    sleep 1 while time <= ($tr->{expires_at} // time + 2) + 1;
    problem_ok($c3->post('/auth/verify-email', {token => $m->{token}}), 400, 'token_invalid',
               '... confirming after it expired');
    ok(user_row($f3->{email}), '... the account keeps its address');
    ok(!user_row($new), '... nobody has the new one');
}

# ---- no token in the error log -----------------------------------------------------------

{
    my $log = error_log_since($mark);
    ok(@tokens >= 3, 'tokens were mailed (' . scalar(@tokens) . ')');
    my @leaked = grep { defined && index($log, $_) >= 0 } @tokens;
    is(scalar @leaked, 0, 'no mailed token appears in the error log');
}

done_testing();
