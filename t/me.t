# GET, PUT and PATCH /users/me.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

# ---- unauthenticated -----------------------------------------------------------------

my $anon = client();
for my $case (['no cookie', undef],
              ['an empty cookie', 'authsvc='],
              ['a malformed token', 'authsvc=not-a-token'],
              ['a too long token', 'authsvc=' . ('A' x 44)],
              ['a token with bad characters', 'authsvc=' . ('A' x 42) . '!'],
              ['an unknown token', 'authsvc=' . ('B' x 43)],
              ['another cookie name', 'session=' . ('B' x 43)]) {
    my ($name, $cookie) = @$case;
    my %o = defined $cookie ? (cookie => $cookie) : (no_cookie => 1);
    my $res = $anon->get('/users/me', %o);
    problem_ok($res, 401, 'unauthenticated', "GET /users/me with $name");
    ok(!defined $res->header('Set-Cookie'), "... $name: no cookie set");
    problem_ok($anon->put('/users/me', {first_name => 'x'}, %o), 401, 'unauthenticated',
               "PUT /users/me with $name");
    problem_ok($anon->patch('/users/me', {first_name => 'x'}, %o), 401, 'unauthenticated',
               "PATCH /users/me with $name");
}

# ---- GET -----------------------------------------------------------------------------

my $c = client();
my $uname = unique_username('Me');
my ($f, $user) = $c->signed_in(username => $uname, first_name => 'Grace', last_name => 'Hopper');
my $uid = $user->{id};

{
    my $res = $c->get('/users/me');
    is($res->code, 200, 'GET /users/me: 200');
    like($res->header('Content-Type') // '', qr{^application/json\b}, '... JSON');
    no_store_ok($res, '...');
    ok(!defined $res->header('Set-Cookie'), '... sets no cookie');
    my $me = json_body($res) || {};
    is_deeply([sort keys %$me],
              [sort qw(id email username first_name last_name email_verified mfa_enabled roles created_at)],
              '... exactly the public fields');
    is($me->{id}, $uid, '... id');
    is($me->{email}, lc $f->{email}, '... email');
    is($me->{username}, $uname, '... username');
    is($me->{first_name}, 'Grace', '... first_name');
    is($me->{last_name}, 'Hopper', '... last_name');
    ok(JSON::PP::is_bool($me->{email_verified}) && !$me->{email_verified}, '... email_verified false');
    is_deeply($me->{roles}, [], '... roles []');
    like($me->{created_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, '... created_at');

    # Changed in the database: seen once the cached lookup is stale. A session used only
    # on the "fresh" vhost (AuthsvcCacheTTL 1s; the cache is shared by all vhosts, each
    # entry kept for the TTL of the vhost that stored it).
    my $fresh = client(vhost => 'fresh');
    is($fresh->login($f->{email}, $f->{password})->code, 200, 'a session on the fresh vhost');
    is($fresh->get('/users/me')->code, 200, '... looked up once');
    db_do("UPDATE users SET roles = 'admin support', email_verified_at = 1700000000 WHERE id = "
          . sql_str($uid));
    sleep 2;
    $me = json_body($fresh->get('/users/me')) || {};
    is_deeply($me->{roles}, ['admin', 'support'], 'roles are listed');
    ok($me->{email_verified}, 'email_verified follows email_verified_at');
    db_do("UPDATE users SET roles = '', email_verified_at = NULL WHERE id = " . sql_str($uid));

    $res = $c->head('/users/me');
    is($res->code, 200, 'HEAD /users/me: 200');
    is($res->content, '', '... no body');
    is($c->get('/users/me?x=1')->code, 200, 'a query string does not matter');
}

# ---- PUT replaces --------------------------------------------------------------------

sub row { user_row($f->{email}) }
sub me { json_body($c->get('/users/me')) || {} }

{
    my $t = row()->{updated_at};
    my $new = unique_username('Put');
    my $res = $c->put('/users/me', {username => $new, first_name => 'Ada', last_name => 'King'});
    is($res->code, 200, 'PUT all three: 200') or diag($res->content);
    no_store_ok($res, '...');
    my $b = json_body($res) || {};
    is_deeply([keys %$b], ['user'], '... body is {user}');
    is($b->{user}{username}, $new, '... username');
    is($b->{user}{first_name}, 'Ada', '... first_name');
    is($b->{user}{last_name}, 'King', '... last_name');
    is($b->{user}{email}, lc $f->{email}, '... email unchanged');
    my $r = row();
    is_deeply([@$r{qw(username first_name last_name)}], [$new, 'Ada', 'King'], '... stored');
    ok($r->{updated_at} >= $t, '... updated_at moves on');

    $res = $c->put('/users/me', {first_name => 'Only'});
    is($res->code, 200, 'PUT one field: 200');
    $b = (json_body($res) || {})->{user} || {};
    is($b->{first_name}, 'Only', '... that field set');
    ok(!defined $b->{username} && !defined $b->{last_name}, '... the absent ones cleared');
    $r = row();
    ok(!defined $r->{username} && !defined $r->{last_name}, '... cleared in the database');

    $res = $c->put('/users/me', {});
    is($res->code, 200, 'PUT {}: 200');
    ok(!defined row()->{first_name}, '... clears everything');
    $res = $c->put('/users/me', {username => undef, first_name => 'N', last_name => undef});
    is($res->code, 200, 'PUT with nulls: 200');
    is(me()->{first_name}, 'N', '... GET shows the new value');
}

# ---- PATCH merges --------------------------------------------------------------------

{
    my $un = unique_username('Patch');
    $c->put('/users/me', {username => $un, first_name => 'A', last_name => 'B'});
    my $res = $c->patch('/users/me', {last_name => 'Lovelace'});
    is($res->code, 200, 'PATCH one field: 200');
    my $r = row();
    is_deeply([@$r{qw(username first_name last_name)}], [$un, 'A', 'Lovelace'],
              '... only that field changed');
    $res = $c->patch('/users/me', {first_name => undef});
    is($res->code, 200, 'PATCH null: 200');
    $r = row();
    is_deeply([@$r{qw(username first_name last_name)}], [$un, undef, 'Lovelace'],
              '... null clears that field only');
    $res = $c->patch('/users/me', {});
    is($res->code, 200, 'PATCH {}: 200');
    is_deeply([@{ row() }{qw(username first_name last_name)}], [$un, undef, 'Lovelace'],
              '... changes nothing');
    $res = $c->patch('/users/me', {username => uc $un});
    is($res->code, 200, 'PATCH own username in another case: 200') or diag($res->content);
    is(row()->{username}, uc $un, '... stored as typed');
    $res = $c->patch('/users/me', {username => undef});
    is($res->code, 200, 'PATCH username null: 200');
    ok(!defined row()->{username}, '... no username');
    $c->patch('/users/me', {username => $un});

    # Fields that are not the profile's are ignored.
    $res = $c->patch('/users/me', {email => unique_email(), password => 'x' x 20,
                                   roles => 'admin', status => 'disabled', id => 'x'});
    is($res->code, 200, 'PATCH with other fields: 200');
    $r = row();
    is($r->{email}, lc $f->{email}, '... email unchanged');
    is($r->{roles}, '', '... roles unchanged');
    is($r->{status}, 'active', '... status unchanged');
    is($r->{id}, $uid, '... id unchanged');
    is(client()->login($f->{email}, $f->{password})->code, 200, '... password unchanged');
}

# ---- conflicts and bad input ---------------------------------------------------------

my $taken = unique_username('Taken');
my ($res0) = client()->register(username => $taken);
is($res0->code, 201, 'another account holds a username');

sub unchanged_after {
    my ($method, $body, $status, $code, $fields, $name, %opt) = @_;
    my $before = json_enc(row());
    my $res = $method eq 'PUT' ? $c->put('/users/me', $body, %opt)
                               : $c->patch('/users/me', $body, %opt);
    my $p = problem_ok($res, $status, $code, "$method $name");
    fields_ok($p, $fields, "$method $name") if $fields;
    is(json_enc(row()), $before, "$method $name: nothing changed");
}

for my $m (qw(PUT PATCH)) {
    unchanged_after($m, {username => $taken}, 409, 'username_taken', undef, 'a taken username');
    unchanged_after($m, {username => uc $taken, first_name => 'Z'}, 409, 'username_taken', undef,
                    'a taken username in another case');
    unchanged_after($m, {username => 'a b'}, 422, 'validation_failed',
                    {username => 'invalid_format'}, 'a username with a space');
    unchanged_after($m, {username => 'ab'}, 422, 'validation_failed',
                    {username => 'invalid_length'}, 'a short username');
    unchanged_after($m, {username => 'x' x 33}, 422, 'validation_failed',
                    {username => 'invalid_length'}, 'a long username');
    unchanged_after($m, {username => "ab\x{0}cd"}, 422, 'validation_failed',
                    {username => 'invalid_format'}, 'a username with NUL');
    unchanged_after($m, {first_name => 'x' x 101}, 422, 'validation_failed',
                    {first_name => 'invalid'}, 'a long first name');
    unchanged_after($m, {last_name => "a\x{7}b"}, 422, 'validation_failed',
                    {last_name => 'invalid'}, 'a control character');
    unchanged_after($m, {last_name => "a\x{0}b"}, 422, 'validation_failed',
                    {last_name => 'invalid'}, 'NUL in a name');
    unchanged_after($m, {first_name => 5, last_name => [], username => {}}, 422,
                    'validation_failed',
                    {first_name => 'wrong_type', last_name => 'wrong_type',
                     username => 'wrong_type'}, 'wrong types');
    unchanged_after($m, undef, 400, 'invalid_json', undef, 'malformed JSON',
                    body => '{"first_name": "x",}');
    unchanged_after($m, undef, 400, 'invalid_json', undef, 'a lone surrogate',
                    body => '{"first_name": "\udc00"}');
    unchanged_after($m, undef, 400, 'invalid_json', undef, 'an array',
                    body => '[{"first_name": "x"}]');
    unchanged_after($m, undef, 400, 'invalid_json', undef, 'an empty body', body => '');
    unchanged_after($m, undef, 400, 'invalid_json', undef, 'duplicate keys',
                    body => '{"first_name": "x", "first_name": "y"}');
    # With the session cookie, a body a cross-site form could send is a CSRF refusal.
    unchanged_after($m, undef, 403, 'csrf_failed', undef, 'text/plain with the cookie',
                    body => '{"first_name": "x"}', ctype => 'text/plain');
}

# ---- methods -------------------------------------------------------------------------

# DELETE /users/me deletes the account (t/lifecycle_delete.t).
for my $m (qw(POST)) {
    my $res = $c->request($m => '/users/me');
    problem_ok($res, 405, 'method_not_allowed', "$m /users/me");
    my @allow = split /\s*,\s*/, $res->header('Allow') // '';
    is_deeply([sort @allow], [qw(DELETE GET HEAD PATCH PUT)],
              "... Allow lists GET, HEAD, PUT, PATCH, DELETE once each")
        or diag('Allow: ' . ($res->header('Allow') // '(none)'));
}

done_testing();
