# POST /auth/login: sessions by email or username, one answer for every failure.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $c = client();
my $name = unique_username('Login');
my ($res, $f) = $c->register(username => $name, first_name => 'Lo');
is($res->code, 201, 'account to sign in with');
my $uid = user_row($f->{email})->{id};

sub iso {
    my @t = gmtime($_[0] // 0);
    return sprintf '%04d-%02d-%02dT%02d:%02d:%02dZ', $t[5] + 1900, $t[4] + 1, @t[3, 2, 1, 0];
}

sub session_count { db_value('SELECT count(*) AS n FROM sessions WHERE user_id = ' . sql_str($uid)) }

# ---- happy paths ---------------------------------------------------------------------

{
    my $t0 = time;
    my $before = session_count();
    my $res = $c->login(uc $f->{email}, $f->{password});
    is($res->code, 200, 'login by email in another case: 200') or diag($res->content);
    like($res->header('Content-Type') // '', qr{^application/json\b}, '... JSON');
    no_store_ok($res, '... ');
    my $b = json_body($res) || {};
    is_deeply([sort keys %$b], [qw(session user)], '... {user, session}');
    is($b->{user}{id}, $uid, '... the account');
    is($b->{user}{username}, $name, '... its username');
    is($b->{user}{first_name}, 'Lo', '... its first name');
    ok(!exists $b->{user}{password_hash} && !exists $b->{user}{password}, '... no password fields');
    like($b->{session}{expires_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
         '... session.expires_at ISO 8601');
    like($b->{session}{idle_expires_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
         '... session.idle_expires_at ISO 8601');
    ok(($b->{session}{idle_expires_at} // '') le ($b->{session}{expires_at} // ''),
       '... idle expiry not after the absolute one');

    my @sc = $res->header('Set-Cookie');
    is(scalar @sc, 1, '... one Set-Cookie');
    my ($token) = ($sc[0] // '') =~ /^authsvc=([A-Za-z0-9_-]+);/;
    ok(defined $token && length $token == 43, '... a 43-character base64url token');
    is(session_count(), $before + 1, '... one new session row');
    my $s = db_row('SELECT * FROM sessions WHERE token_hash = ' . sql_str(sha256_hex($token // '')));
    ok($s, '... stored under the SHA-256 of the token');
    is($s->{user_id}, $uid, '... for the account');
    ok(!defined $s->{revoked_at}, '... not revoked');
    is($s->{ip}, '127.0.0.1', '... with the client IP');
    is($s->{user_agent}, 'authsvc-test/1.0', '... and user agent');
    ok(abs($s->{created_at} - $t0) < 300, '... created now');
    is($s->{expires_at} - $s->{created_at}, 12 * 3600, '... absolute lifetime 12h (default)');
    is($s->{idle_expires_at} - $s->{created_at}, 30 * 60, '... idle lifetime 30m (default)');
    is($b->{session}{expires_at}, iso($s->{expires_at}), '... session.expires_at is the stored one');
    is($b->{session}{idle_expires_at}, iso($s->{idle_expires_at}),
       '... session.idle_expires_at is the stored one');
    is(db_value('SELECT count(*) AS n FROM sessions WHERE token_hash = ' . sql_str($token // '')),
       0, '... the token itself is not stored');

    my $me = $c->get('/users/me');
    is($me->code, 200, '... the cookie signs in /users/me');
}

{
    my $c2 = client();
    my $res = $c2->login(lc $name, $f->{password});
    is($res->code, 200, 'login by username, other case: 200') or diag($res->content);
    is((json_body($res) || {})->{user}{id}, $uid, '... same account');
    my $tok1 = $c2->jar->{authsvc};
    $res = $c2->login($name, $f->{password});
    is($res->code, 200, 'a second login');
    my $tok2 = $c2->jar->{authsvc};
    isnt($tok2, $tok1, '... gets a new token');
    for my $t ($tok1, $tok2) {
        is($c2->get('/users/me', cookie => "authsvc=$t")->code, 200, '... both sessions live');
    }
}

# ---- failures: one answer ------------------------------------------------------------

my $other = unique_email();
my ($r2, $f2) = $c->register(email => $other);
db_do("UPDATE users SET status = 'disabled' WHERE email = " . sql_str($other));

my %fail = (
    'wrong password'          => [$f->{email}, $f->{password} . 'x'],
    'wrong password, username' => [$name, 'not the password at all'],
    'unknown email'           => [unique_email(), $f->{password}],
    'unknown username'        => [unique_username('nobody'), $f->{password}],
    'disabled account'        => [$other, $f2->{password}],
    'password case differs'   => [$f->{email}, uc $f->{password}],
    'password with extra space' => [$f->{email}, $f->{password} . ' '],
    'invalid email as login'  => ['not@an@email', $f->{password}],
    'login with NUL'          => ["$name\x{0}", $f->{password}],
    'login with a space'      => [" $f->{email}", $f->{password}],
    'password over 4096 octets' => [$f->{email}, 'y' x 5000],
);
my %bodies;
for my $case (sort keys %fail) {
    my $cl = client();
    my $before = db_value('SELECT count(*) AS n FROM sessions');
    my $res = $cl->login(@{ $fail{$case} });
    my $p = problem_ok($res, 401, 'invalid_credentials', $case);
    ok(!defined $res->header('Set-Cookie'), "$case: no cookie");
    is(db_value('SELECT count(*) AS n FROM sessions'), $before, "$case: no session");
    ok(!exists $p->{errors}, "$case: no field errors");
    $bodies{$case} = json_enc($p);
}
my %distinct = map { $_ => 1 } values %bodies;
is(scalar keys %distinct, 1, 'every failure has the same body')
    or diag(join "\n", map { "$_: $bodies{$_}" } sort keys %bodies);

# A disabled account's existing sessions end too, once the cached lookup is stale
# (AuthsvcCacheTTL 1s on this vhost).
{
    my $c3 = client(vhost => 'fresh');
    my ($f3) = $c3->signed_in();
    is($c3->get('/users/me')->code, 200, 'a live session');
    db_do("UPDATE users SET status = 'disabled' WHERE email = " . sql_str($f3->{email}));
    sleep 2;
    problem_ok($c3->get('/users/me'), 401, 'unauthenticated', 'after the account is disabled');
    is($c3->get('/private/', abs => 1)->code, 401, '... /private/ too');
    db_do("UPDATE users SET status = 'active' WHERE email = " . sql_str($f3->{email}));
    is($c3->login($f3->{email}, $f3->{password})->code, 200, 're-enabled account signs in');
}

# ---- bad input -----------------------------------------------------------------------

sub bad_login {
    my ($body, $fields, $name) = @_;
    my $cl = client();
    my $res = $cl->post('/auth/login', $body);
    my $p = problem_ok($res, 422, 'validation_failed', $name);
    fields_ok($p, $fields, $name);
    ok(!defined $res->header('Set-Cookie'), "$name: no cookie");
}
bad_login({}, {login => 'required', password => 'required'}, 'empty object');
bad_login({login => $f->{email}}, {password => 'required'}, 'no password');
bad_login({password => $f->{password}}, {login => 'required'}, 'no login');
bad_login({login => '', password => ''}, {login => 'required', password => 'required'},
          'empty strings');
bad_login({login => undef, password => undef}, {login => 'required', password => 'required'},
          'nulls');
bad_login({email => $f->{email}, password => $f->{password}}, {login => 'required'},
          '"email" instead of "login"');
for my $case ([number => 7], [true => JSON::PP::false], [array => [$f->{email}]],
              [object => {v => 1}]) {
    my ($what, $v) = @$case;
    bad_login({login => $v, password => $f->{password}}, {login => 'wrong_type'},
              "login as $what");
    bad_login({login => $f->{email}, password => $v}, {password => 'wrong_type'},
              "password as $what");
}
{
    my $cl = client();
    problem_ok($cl->post('/auth/login', undef, body => '{"login":"a@example.org","password":'),
               400, 'invalid_json', 'truncated JSON');
    problem_ok($cl->post('/auth/login', undef,
                         body => '{"login":"x","password":"a","password":"b"}'),
               400, 'invalid_json', 'duplicate password key');
    problem_ok($cl->post('/auth/login', undef, body => '{"login":"\ud800","password":"x"}'),
               400, 'invalid_json', 'lone surrogate in login');
    problem_ok($cl->post('/auth/login', undef, body => "login=$f->{email}&password=x",
                         ctype => 'application/x-www-form-urlencoded'),
               415, 'unsupported_media_type', 'a form post');
    my $res = $cl->get('/auth/login');
    problem_ok($res, 405, 'method_not_allowed', 'GET /auth/login');
    is($res->header('Allow'), 'POST', '... Allow: POST');
}

# The right password still works after all that.
is(client()->login($f->{email}, $f->{password})->code, 200, 'the account still signs in');

done_testing();
