# POST /auth/logout: 204, the cookie cleared, the session revoked server-side.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $c = client();
my ($f, $user) = $c->signed_in();
my $token = $c->jar->{authsvc};
ok($token, 'signed in');

# A second session of the same account must survive this one's logout.
my $other = client();
is($other->login($f->{email}, $f->{password})->code, 200, 'a second session');

my $res = $c->post('/auth/logout');
is($res->code, 204, 'logout: 204');
is($res->content, '', '... no body');
no_store_ok($res, '...');
my @sc = $res->header('Set-Cookie');
is(scalar @sc, 1, '... one Set-Cookie');
like($sc[0] // '', qr/^authsvc=;/, '... clears the authsvc cookie');
like($sc[0] // '', qr/;\s*Max-Age=0(;|$)/i, '... Max-Age=0');
like($sc[0] // '', qr/;\s*Path=\/(;|$)/, '... Path=/ (same cookie as set)');
like($sc[0] // '', qr/;\s*HttpOnly/i, '... HttpOnly');
ok(!exists $c->jar->{authsvc}, '... the client dropped it');

my $s = db_row('SELECT * FROM sessions WHERE token_hash = ' . sql_str(sha256_hex($token)));
ok(defined $s->{revoked_at} && abs($s->{revoked_at} - time) < 300, '... revoked_at set in the database');

# The old cookie no longer works anywhere.
my $old = "authsvc=$token";
problem_ok($c->get('/users/me', cookie => $old), 401, 'unauthenticated', 'old cookie on /users/me');
problem_ok($c->patch('/users/me', {first_name => 'X'}, cookie => $old), 401, 'unauthenticated',
           'old cookie on PATCH /users/me');
is($c->get('/private/', abs => 1, cookie => $old)->code, 401, 'old cookie on /private/: 401');
is(user_row($f->{email})->{first_name}, undef, '... nothing was changed with it');

# The other session is untouched.
is($other->get('/users/me')->code, 200, 'the other session still works');

# Logging out again with the old cookie, or without any, is harmless.
$res = $c->post('/auth/logout', undef, cookie => $old);
is($res->code, 204, 'logout with a revoked cookie: 204');
like(scalar($res->header('Set-Cookie')) // '', qr/^authsvc=;.*Max-Age=0/i, '... still clears it');
$res = client()->post('/auth/logout');
is($res->code, 204, 'logout without a cookie: 204');
like(scalar($res->header('Set-Cookie')) // '', qr/^authsvc=;.*Max-Age=0/i, '... clears it');
$res = client()->post('/auth/logout', undef, cookie => 'authsvc=' . ('A' x 43));
is($res->code, 204, 'logout with an unknown token: 204');
$res = client()->post('/auth/logout', undef, cookie => 'authsvc=garbage; x=1');
is($res->code, 204, 'logout with a malformed token: 204');
is(db_value('SELECT count(*) AS n FROM sessions WHERE user_id = ' . sql_str($user->{id})
            . ' AND revoked_at IS NULL'), 1, 'exactly one session of the account is left');

# The other session logs out with a body (ignored) too.
$res = $other->post('/auth/logout', {everything => JSON::PP::true});
is($res->code, 204, 'logout with a JSON body: 204');
is(db_value('SELECT count(*) AS n FROM sessions WHERE user_id = ' . sql_str($user->{id})
            . ' AND revoked_at IS NULL'), 0, '... no live session left');
is($other->get('/users/me')->code, 401, '... and it no longer works');

# Sign in again after logging out: a new, different token.
$res = $c->login($f->{email}, $f->{password});
is($res->code, 200, 'sign in again');
isnt($c->jar->{authsvc}, $token, '... with a new token');
is($c->get('/users/me')->code, 200, '... that works');

for my $m (qw(GET PUT DELETE)) {
    my $r = $c->request($m => '/auth/logout');
    problem_ok($r, 405, 'method_not_allowed', "$m /auth/logout");
    is($r->header('Allow'), 'POST', "... Allow: POST");
}
is($c->get('/users/me')->code, 200, 'those did not sign out');

done_testing();
