# PUT /users/me/password: the current password proves the caller; the answer carries a
# new session, every other session (the caller's old one included) ends at once.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

sub guarded { guard_code($_[0], %{ $_[1] || {} }) }

sub change {
    my ($c, $current, $new, %o) = @_;
    return $c->put('/users/me/password', {current_password => $current, new_password => $new}, %o);
}

# ---- without a session -------------------------------------------------------------------

{
    my $anon = client();
    problem_ok(change($anon, 'whatever it is', new_password()), 401, 'unauthenticated',
               'without a session');
    problem_ok(change($anon, 'whatever it is', new_password(), cookie => 'authsvc=' . random_token()),
               401, 'unauthenticated', 'with an unknown session');
    my $res = $anon->get('/users/me/password');
    ok($res->code == 405 || $res->code == 404, 'GET /users/me/password: 405 or 404')
        or diag($res->code);
}

# ---- the change --------------------------------------------------------------------------

my ($c, $f, $u) = account(username => unique_username('Pat'), first_name => 'Patricia');
my $other = client(agent => 'other-device/1.0');
is($other->login($f->{email}, $f->{password})->code, 200, 'a second session');
is(guarded($c), 200, 'the guarded page with the first session (now cached)');
is(guarded($other), 200, '... and with the second');
my $hash0 = user_row($f->{email})->{password_hash};

# Refusals change nothing and sign nobody out.
{
    my $res = change($c, $f->{password} . 'x', new_password());
    my $p = problem_ok($res, 401, 'invalid_credentials', 'wrong current password');
    ok(!exists $p->{errors}, '... no field errors');
    ok(!defined $res->header('Set-Cookie'), '... no cookie');
    is($c->get('/users/me')->code, 200, '... the session still works');

    my @bad = (
        [{current_password => $f->{password}, new_password => 'password1234'}, 'password_breached',
         {new_password => 'password_breached'}, 'a blocklisted new password'],
        [{current_password => $f->{password}, new_password => 'Patricia loves her cat'},
         'password_policy', {new_password => 'password_policy'}, 'a new password with the first name'],
        [{current_password => $f->{password}, new_password => 'short'}, 'validation_failed',
         {new_password => 'password_too_short'}, 'a short new password'],
        [{current_password => $f->{password}, new_password => 'c' x 129}, 'validation_failed',
         {new_password => 'password_too_long'}, 'a new password of 129 characters'],
        [{current_password => $f->{password}, new_password => "tab\there-and-long"}, 'validation_failed',
         {new_password => 'password_invalid'}, 'a new password with a tab'],
        [{}, 'validation_failed', {current_password => 'required', new_password => 'required'},
         'empty object'],
        [{current_password => $f->{password}}, 'validation_failed', {new_password => 'required'},
         'no new password'],
        [{new_password => new_password()}, 'validation_failed', {current_password => 'required'},
         'no current password'],
        [{current_password => $f->{password}, new_password => 42}, 'validation_failed',
         {new_password => 'wrong_type'}, 'new password as a number'],
        [{current_password => [$f->{password}], new_password => new_password()}, 'validation_failed',
         {current_password => 'wrong_type'}, 'current password as an array'],
    );
    for my $case (@bad) {
        my ($body, $code, $fields, $name) = @$case;
        my $res = $c->put('/users/me/password', $body);
        my $p = problem_ok($res, 422, $code, $name);
        fields_ok($p, $fields, $name);
        ok(!defined $res->header('Set-Cookie'), "$name: no cookie");
    }
    problem_ok($c->put('/users/me/password', undef, body => '{"current_password":'), 400,
               'invalid_json', 'broken JSON');
    # Both fields there: the current password is checked first (an empty one is wrong).
    problem_ok(change($c, $f->{password} . 'x', 'short'), 401, 'invalid_credentials',
               'wrong current password and a short new one');
    problem_ok(change($c, $f->{password} . 'x', 'password1234'), 401, 'invalid_credentials',
               'wrong current password and a listed new one');
    problem_ok(change($c, '', new_password()), 401, 'invalid_credentials', 'empty current password');
    is(user_row($f->{email})->{password_hash}, $hash0, 'after all that the password is unchanged');
    is(guarded($c), 200, '... the first session still passes');
    is(guarded($other), 200, '... and the second');
}

{
    my $old_cookie = $c->cookie_header;
    my $old_token = $c->jar->{authsvc};
    my $new = new_password();
    my $res = change($c, $f->{password}, $new);
    is($res->code, 200, 'change the password: 200') or diag($res->content);
    like($res->header('Content-Type') // '', qr{^application/json\b}, '... JSON');
    no_store_ok($res, '...');
    my $b = json_body($res) || {};
    is_deeply([sort keys %$b], [qw(session user)], '... {user, session}');
    is($b->{user}{id}, $u->{id}, '... the account');
    is($b->{user}{email}, lc $f->{email}, '... its email');
    like($b->{session}{expires_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, '... session.expires_at');
    like($b->{session}{idle_expires_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
         '... session.idle_expires_at');
    my @sc = grep { /^authsvc=/ } $res->header('Set-Cookie');
    is(scalar @sc, 1, '... one Set-Cookie for the session');
    my ($tok) = ($sc[0] // '') =~ /^authsvc=([A-Za-z0-9_-]{43});/;
    ok(defined $tok, '... a new 43-character token');
    isnt($tok // '', $old_token, '... not the old one');
    like($sc[0] // '', qr/;\s*HttpOnly/i, '... HttpOnly');

    is($c->get('/users/me')->code, 200, 'the new cookie works');
    problem_ok($c->get('/users/me', cookie => $old_cookie), 401, 'unauthenticated', 'the old cookie');
    is(guarded($c, {cookie => $old_cookie}), 401, '... on the guarded page too (it was cached)');
    problem_ok($other->get('/users/me'), 401, 'unauthenticated', 'the other session');
    is(guarded($other), 401, '... on the guarded page too');
    is(guarded($c), 200, 'the new session passes the guard');
    is(live_session_count($u->{id}), 1, 'one live session left in the database');
    my $s = db_row('SELECT * FROM sessions WHERE token_hash = ' . sql_str(sha256_hex($tok // '')));
    ok($s && !defined $s->{revoked_at}, '... the new one');

    problem_ok(client()->login($f->{email}, $f->{password}), 401, 'invalid_credentials',
               'the old password');
    is(client()->login($f->{email}, $new)->code, 200, 'the new password signs in');
    my $m = mail_ok('"password changed" notice', to => $f->{email}, template => 'password_changed');
    ok(!defined $m->{token}, '... carries no code');
    like($m->{text}, qr/\Q${\ lc $f->{email}}\E/, '... names the account');
    $f->{password} = $new;
}

# A change voids outstanding reset links.
{
    is(client()->post('/auth/forgot-password', {email => $f->{email}})->code, 202, 'forgot-password');
    my $m = mail_ok('... the reset mail', to => $f->{email}, template => 'reset_password');
    my $new = new_password();
    is(change($c, $f->{password}, $new)->code, 200, '... then a change');
    $f->{password} = $new;
    mail_ok('... its notice', to => $f->{email}, template => 'password_changed');
    problem_ok(client()->post('/auth/reset-password', {token => $m->{token}, password => new_password()}),
               400, 'token_invalid', '... the reset token after the change');
    is(client()->login($f->{email}, $new)->code, 200, '... the changed password holds');
}

# AuthsvcPasswordHistory 0 (the default): the current password may be set again.
{
    my $res = change($c, $f->{password}, $f->{password});
    is($res->code, 200, 'the same password again without a history: 200') or diag($res->content);
    is($c->get('/users/me')->code, 200, '... the newest session works');
}

# A session that a change revoked cannot make the next change.
{
    my $stale = client();
    $stale->login($f->{email}, $f->{password});
    my $cookie = $stale->cookie_header;
    is(change($c, $f->{password}, new_password())->code, 200, 'another change');
    problem_ok(change($stale, $f->{password}, new_password(), cookie => $cookie), 401,
               'unauthenticated', 'a revoked session cannot change the password');
}

done_testing();
