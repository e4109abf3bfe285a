# Several nodes (issue 10, area A): three throwaway httpd instances (A, B, C) on ports of
# their own share the suite's PostgreSQL database and one throwaway redis-server
# (AuthsvcCache redis:...). Register on A, sign in on B, use the cookie and a Bearer on
# C. Logout, password change, session delete, admin revoke, admin disable, a role
# taken away and refresh token reuse through one node are seen by the others at once:
# AuthsvcCacheTTL is an hour, so nothing here waits for an entry to expire. Rate limits
# and the lockout count across the nodes as on one node; a TOTP code used on one node is
# a replay on another.
# Node C reaches the database through a throwaway PgBouncer in session mode, so with
# other DBDParams than A and B: AuthsvcCacheRealm keeps their cache keys the same.
# AuthsvcCacheRealm's bad values stop httpd, and so does one name for two databases
# (every backend); the rest needs PostgreSQL
# and is skipped on SQLite, a single machine's database.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use Test::More;
use AuthsvcTest;

# ---- AuthsvcCacheRealm at start-up ------------------------------------------------------

for my $bad ('a:b', 'no/slash', 'x' x 65, '"caf\xc3\xa9"') {
    my ($rc, $out) = httpd_syntax("AuthsvcCacheRealm $bad");
    ok($rc != 0, "AuthsvcCacheRealm $bad: httpd refuses it");
    like($out, qr/AuthsvcCacheRealm: '.*' must be 1 to 64 letters, digits/, '... naming the directive')
        or diag($out);
}
{
    my ($rc, $out) = httpd_syntax('AuthsvcCacheRealm accounts-prod_1.eu');
    is($rc, 0, 'AuthsvcCacheRealm accounts-prod_1.eu: accepted') or diag($out);
}

# One name for two databases: each virtual host would take the other's cached sessions
# for its own, so httpd does not start; with a name each, it does.
{
    my $dir = tempdir('realm-XXXXXX', DIR => catfile(serverroot(), 'state'), CLEANUP => 1);
    my $vhost = sub { join "\n", '<VirtualHost *>', 'ServerName other.example',
                                 "DBDParams $dir/other.sqlite", @_, '</VirtualHost>' };
    my ($status, $text) = start_httpd_with($dir, join "\n", 'AuthsvcCacheRealm shared',
                                           $vhost->());
    ok(defined $status && $status != 0, 'one AuthsvcCacheRealm, two databases: httpd does not start')
        or diag($text);
    like($text, qr/AuthsvcCacheRealm shared is used by the main server and the virtual host at \S+:\d+, whose databases \(DBDriver, DBDParams\) differ/,
         '... and says which servers share it') or diag($text);
    ($status, $text) = start_httpd_with($dir, join "\n", 'AuthsvcCacheRealm shared',
                                        $vhost->('AuthsvcCacheRealm other'));
    ok(!defined $status, '... a name for each database: it starts') or diag($text);
}

if (backend() ne 'pgsql') {
    SKIP: { skip 'several nodes need PostgreSQL (SQLite is one machine\'s database)', 1 }
    done_testing();
    exit 0;
}

# ---- the deployment -----------------------------------------------------------------------

my $top = tempdir('multinode-XXXXXX', DIR => catfile(serverroot(), 'state'), CLEANUP => 1);
my $redis = start_redis($top) or BAIL_OUT('redis-server does not start (tools/dev/deps.sh installs it)');

mkdir "$top/htdocs";
for my $d (qw(private editor)) {
    mkdir "$top/htdocs/$d";
    open(my $fh, '>', "$top/htdocs/$d/index.html") or die;
    print {$fh} "$d page\n";
}

# What every node has: the load balancer's address trusted for X-Forwarded-For, the same
# keys, one realm, a cache TTL far longer than the test, small limits.
my $state = catfile(serverroot(), 'state');
my $common = join "\n",
    'RemoteIPHeader X-Forwarded-For', 'RemoteIPInternalProxy 127.0.0.1',
    "DocumentRoot $top/htdocs",
    'AuthsvcCacheRealm multinode-test', 'AuthsvcCacheTTL 1h',
    'AuthsvcPasswordHash argon2id m=1024 t=1 p=1',
    'AuthsvcPublicURL https://accounts.example.test/api',
    'AuthsvcMailFrom noreply@example.test',
    # The suite's own transport: a node may deliver mail the suite queued.
    "AuthsvcMailTransport file:$state/mail/main",
    'AuthsvcSecretKeyFile ' . secret_key_file(),
    'AuthsvcTokenSigningKey ' . jwt_key_file('ed25519'),
    'AuthsvcAdminRequireMFA Off',
    map({ "AuthsvcRateLimit $_ off" } qw(register forgot verify refresh mfa)),
    'AuthsvcRateLimit login 3/1h account', 'AuthsvcRateLimit login 4/1h ip',
    'AuthsvcLoginBackoff off', 'AuthsvcLockout 2 1h 1h',
    '<Location /api>', 'SetHandler authsvc', '</Location>',
    '<Location /health>', 'SetHandler authsvc-health', '</Location>',
    '<Location /private>', 'Require authsvc', '</Location>',
    '<Location /editor>', 'Require authsvc role editor', '</Location>';

# Node C reaches the database through PgBouncer in session mode.
my $pgb = start_pgbouncer($top) or BAIL_OUT('pgbouncer does not start (tools/dev/deps.sh installs it)');
my %node;
for my $name (qw(A B C)) {
    my %db = $name eq 'C' ? (params => pgbouncer_params($pgb),
                             extra_params => 'application_name=authsvc-node-c') : ();
    $node{$name} = start_node("$top/$name", $common, redis => $redis, modules => ['remoteip'], %db)
        or BAIL_OUT("node $name does not start");
}
my @all = qw(A B C);

# A client of node NAME from its own random address (X-Forwarded-For); on() moves a
# client to another node with the same cookie jar and address.
sub node_client {
    my ($name, %o) = @_;
    return AuthsvcTest::Client->new(base => $node{$name}{base},
                                    headers => ['X-Forwarded-For' => $o{ip} // random_ipv4()]);
}

sub on {
    my ($c, $name) = @_;
    my $o = AuthsvcTest::Client->new(base => $node{$name}{base}, headers => $c->{headers});
    $o->{jar} = $c->jar;
    return $o;
}

# The guard's answer on NAME to the cookie of $c, or to a Bearer token.
sub cookie_code { on($_[0], $_[1])->get('/private/index.html', abs => 1)->code }

sub bearer_code {
    my ($name, $at) = @_;
    return node_client($name)->get('/private/index.html', abs => 1, no_cookie => 1,
                                   headers => [bearer($at)])->code;
}

# Sign in on NAME: the client (its cookie), the access and the refresh token.
sub sign_in {
    my ($name, $f, %o) = @_;
    my $c = node_client($name, %o);
    my $res = $c->login($f->{email}, $f->{password});
    is($res->code, 200, "sign-in on $name") or diag($res->content);
    my $b = json_body($res) || {};
    return ($c, $b->{access_token}, $b->{refresh_token});
}

# The cookie and the token work on every node (which also caches them, live).
sub live_everywhere {
    my ($c, $at, $name) = @_;
    is(join(' ', map { cookie_code($c, $_) } @all), '200 200 200', "$name: the cookie on A B C");
    is(join(' ', map { bearer_code($_, $at) } @all), '200 200 200', "$name: the access token on A B C");
}

sub refused_everywhere {
    my ($c, $at, $name) = @_;
    is(join(' ', map { cookie_code($c, $_) } @all), '401 401 401',
       "$name: the cookie is refused on A B C at once");
    is(join(' ', map { bearer_code($_, $at) } @all), '401 401 401',
       "$name: the access token is refused on A B C at once");
}

sub register_on {
    my ($name, %f) = @_;
    my ($res, $f) = node_client($name)->register(%f);
    is($res->code, 201, "registered on $name") or diag($res->content);
    return ($f, json_body($res) || {});
}

# ---- the cache is Redis, on every node ------------------------------------------------------

for my $name (@all) {
    my $h = json_body(node_client($name)->get('/health', abs => 1)) || {};
    is(join(' ', map { $_ // 'none' } $h->{cache}{provider}, $h->{cache}{status}), 'redis ok',
       "node $name: /health says cache redis, ok");
}

# ---- register on A, sign in on B, the cookie and a Bearer on C ----------------------------

{
    my ($f, $reg) = register_on('A');
    my ($c, $at) = sign_in('B', $f);
    ok($at, '... an access token');
    my $me = json_body(on($c, 'C')->get('/users/me')) || {};
    is($me->{id}, $reg->{user}{id}, 'GET /users/me on C with the cookie from B: the account from A');
    my $res = on($c, 'C')->get('/private/index.html', abs => 1);
    is($res->code, 200, 'the guard on C lets the cookie from B in');
    like($res->content, qr/private page/, '... to the page');
    is(bearer_code('C', $at), 200, 'the guard on C lets the access token from B in');
    ok(redis_cmd($redis, 'DBSIZE') > 0, 'the nodes keep their entries in Redis');
    # Sealed with AuthsvcSecretKeyFile: nobody who can read or write Redis reads an
    # account in it or forges an entry.
    my @vals = map { redis_cmd($redis, 'GET', $_) // '' } @{ redis_cmd($redis, 'KEYS', '*') || [] };
    my @plain = grep { !/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+$/ } @vals;
    is(scalar @plain, 0, '... every entry sealed (' . scalar(@vals) . ' entries)')
        or diag explain [map { substr($_, 0, 40) } @plain];
    ok(!grep({ index($_, $reg->{user}{id}) >= 0 } @vals), '... no account id in the clear');
}

# ---- ended through one node, refused by all at once ---------------------------------------

{   # logout on C
    my ($f) = register_on('A');
    my ($c, $at) = sign_in('B', $f);
    live_everywhere($c, $at, 'logout');
    is(on($c, 'C')->post('/auth/logout', {})->code, 204, 'POST /auth/logout on C');
    refused_everywhere($c, $at, 'logout on C');
}
{   # password change on A: the other sessions end, the one that changed it stays
    my ($f) = register_on('B');
    my ($c1) = sign_in('A', $f);
    my ($c2, $at2) = sign_in('C', $f);
    live_everywhere($c2, $at2, 'password change');
    my $new = new_password();
    my $res = on($c1, 'A')->put('/users/me/password',
                                {current_password => $f->{password}, new_password => $new});
    is($res->code, 200, 'PUT /users/me/password on A') or diag($res->content);
    refused_everywhere($c2, $at2, 'password change on A: the other session');
    is(join(' ', map { cookie_code($c1, $_) } @all), '200 200 200',
       '... the session that changed it still works on A B C');
}
{   # one session ended by its owner on B
    my ($f) = register_on('C');
    my ($c1) = sign_in('C', $f);
    my ($c2, $at2) = sign_in('A', $f);
    live_everywhere($c2, $at2, 'session delete');
    my $list = json_body(on($c1, 'B')->get('/users/me/sessions')) || {};
    my ($other) = grep { !$_->{current} } @{ ref $list eq 'HASH' ? $list->{sessions} || [] : $list };
    ok($other, 'GET /users/me/sessions on B lists the other session') or diag(json_enc($list));
    my $res = on($c1, 'B')->del('/users/me/sessions/' . ($other->{id} // 'none'));
    ok($res->code == 204 || $res->code == 200, 'DELETE /users/me/sessions/ID on B')
        or diag($res->status_line . ' ' . $res->content);
    refused_everywhere($c2, $at2, 'session deleted on B');
}

# An administrator (the role written before the session is first used).
my ($af) = register_on('A');
set_roles($af->{email}, 'admin');
my ($admin) = sign_in('A', $af);

{   # admin revoke on A
    my ($f, $reg) = register_on('B');
    my ($c, $at) = sign_in('C', $f);
    live_everywhere($c, $at, 'admin revoke');
    my $res = on($admin, 'A')->del("/admin/users/$reg->{user}{id}/sessions");
    ok($res->code == 200 || $res->code == 204, 'DELETE /admin/users/ID/sessions on A')
        or diag($res->status_line . ' ' . $res->content);
    refused_everywhere($c, $at, 'admin revoke on A');
}
{   # admin disable on B
    my ($f, $reg) = register_on('C');
    my ($c, $at) = sign_in('A', $f);
    live_everywhere($c, $at, 'admin disable');
    my $res = on($admin, 'B')->post("/admin/users/$reg->{user}{id}/disable", {});
    is($res->code, 200, 'POST /admin/users/ID/disable on B') or diag($res->content);
    refused_everywhere($c, $at, 'admin disable on B');
    isnt(node_client('C')->login($f->{email}, $f->{password})->code, 200, '... nor can it sign in on C');
}
{   # a role taken away on B: the cached sessions are read again on every node
    my ($f, $reg) = register_on('A');
    set_roles($f->{email}, 'editor');
    my ($c) = sign_in('C', $f);
    my $page = sub { join ' ', map { on($c, $_)->get('/editor/index.html', abs => 1)->code } @all };
    is($page->(), '200 200 200', 'role editor: the editors\' page on A B C');
    my $res = on($admin, 'B')->del("/admin/users/$reg->{user}{id}/roles/editor");
    is($res->code, 200, 'DELETE /admin/users/ID/roles/editor on B') or diag($res->content);
    is($page->(), '403 403 403', '... the page refused on A B C at once');
}
{   # refresh token reuse: rotated on B, the old one again on C ends the family
    my ($f) = register_on('A');
    my ($c, $at, $rt) = sign_in('A', $f);
    my $b = json_body(node_client('B')->post('/auth/refresh', {refresh_token => $rt}, no_cookie => 1)) || {};
    ok($b->{refresh_token} && $b->{access_token}, 'POST /auth/refresh on B: new tokens');
    live_everywhere($c, $b->{access_token}, 'refresh reuse');
    my $res = node_client('C')->post('/auth/refresh', {refresh_token => $rt}, no_cookie => 1);
    is($res->code, 401, 'the rotated refresh token again on C: refused');
    refused_everywhere($c, $b->{access_token}, 'refresh reuse on C');
    is(node_client('A')->post('/auth/refresh', {refresh_token => $b->{refresh_token}},
                              no_cookie => 1)->code, 401, '... and the newest refresh token on A');
}

# ---- rate limits: counted across the nodes ------------------------------------------------
# login 3/1h per name: the fourth attempt is refused whichever nodes the first three hit.

sub attempts {
    my ($login, @names) = @_;
    return join ' ', map { node_client($_)->login($login, 'wrong password 1')->code } @names;
}
is(attempts(unique_email(), qw(A A A A)), '401 401 401 429', 'one name, one node: the 4th attempt is 429');
is(attempts(unique_email(), qw(A B C A)), '401 401 401 429', 'one name, spread over A B C: the 4th is 429');
is(attempts(unique_email(), qw(C B A B C)), '401 401 401 429 429', '... and stays 429 on every node');
{   # login 4/1h per address: four names from one address, the fifth refused
    my $ip = random_ipv4();
    my @codes = map { node_client($all[$_ % 3], ip => $ip)->login(unique_email(), 'wrong password 1')->code }
        0 .. 4;
    is("@codes", '401 401 401 401 429', 'one address over A B C A B: the 5th is 429');
}

# ---- lockout: counted in the database -----------------------------------------------------
# AuthsvcLockout 2: two wrong passwords lock the account, whichever nodes heard them.

sub lock_codes {
    my ($f, @names) = @_;
    my @codes = map { node_client($_)->login($f->{email}, 'wrong password 1')->code } @names[0, 1];
    push @codes, node_client($names[2])->login($f->{email}, $f->{password})->code;
    return "@codes";
}
{
    my ($f, $reg) = register_on('A');
    is(lock_codes($f, qw(A A A)), '401 401 401', 'lockout on one node: the right password refused');
    my ($g, $greg) = register_on('A');
    is(lock_codes($g, qw(A B C)), '401 401 401', 'two failures on A and B: the right password refused on C');
    is(scalar @{ audit_events($greg->{user}{id}, 'account_locked') }, 1, '... account_locked once');
    my ($h) = register_on('B');
    is(join(' ', node_client('A')->login($h->{email}, 'wrong password 1')->code,
            node_client('C')->login($h->{email}, $h->{password})->code), '401 200',
       'one failure: not locked (the refusals above are the lockout)');
}

# ---- TOTP: a code used through one node is a replay on another ---------------------------

{
    my ($f) = register_on('A');
    my ($c) = sign_in('A', $f);
    my $e = json_body(on($c, 'A')->post('/users/me/mfa', {})) || {};
    ok($e->{secret}, 'POST /users/me/mfa on A: a secret');
    my ($code, $step) = totp_code_step($e->{secret} // '');
    my $res = on($c, 'B')->post('/users/me/mfa/confirm', {code => $code});
    is($res->code, 200, 'confirmed on B') or diag($res->content);
    my $a = {secret => $e->{secret}, last_step => $step};
    $code = mfa_code($a);
    my @tokens = map {
        my $r = node_client($_)->login($f->{email}, $f->{password});
        (json_body($r) || {})->{mfa_token}
    } qw(A C);
    is(node_client('A')->post('/auth/login/mfa', {mfa_token => $tokens[0], code => $code})->code,
       200, 'sign-in with a new code on A');
    problem_ok(node_client('C')->post('/auth/login/mfa', {mfa_token => $tokens[1], code => $code}),
               401, 'invalid_mfa_code', 'the same code on C: a replay');
}

# ---- the logs -----------------------------------------------------------------------------

$_ && stop_started($_) for values %node;
for my $name (@all) {
    ok(open(my $fh, '<', $node{$name}{log}), "node $name: its log ($node{$name}{log})") or next;
    my @bad = grep { /exit signal|\[(?:crit|alert|emerg)\]/ && !/AH02155|getpwuid/ } <$fh>;
    is(scalar @bad, 0, "node $name: no crash or critical error in its log") or diag(@bad);
}
{
    open(my $fh, '<', $pgb->{log}) or die "$pgb->{log}: $!\n";
    my @in = grep { /login attempt: db=\S+ user=\S+/ } <$fh>;
    ok(scalar @in, 'node C went through PgBouncer (' . scalar(@in) . ' connections)');
}
stop_started($pgb);
stop_started($redis);

done_testing();
