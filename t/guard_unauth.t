# What the guard answers when it turns a client away: 401 problem+json for API
# clients, 302 to AuthsvcLoginURL with return_to for browsers, AuthsvcUnauthAction
# 401 and pass, 403 JSON or HTML, 503 without the database; and the access_denied
# audit rows with their cap of 10 per client IP per minute. Sections /gu/NAME/ in
# t/conf/extra.conf.in.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
my $PAGE = qr/authsvc-guard-page/;
my $c = client();

# return_to as the module writes it: every octet but [A-Za-z0-9._*-] %-escaped (hex
# digits in either case), a space as '+'.
sub urlencoded {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9._*\- ])/sprintf '%%%02x', ord $1/ge;
    $s =~ tr/ /+/;
    return $s;
}

sub unauthenticated_ok {
    my ($res, $name) = @_;
    problem_ok($res, 401, 'unauthenticated', $name);
    is($res->header('WWW-Authenticate'), 'Authsvc', "$name: WWW-Authenticate: Authsvc");
    ok(!defined $res->header('Location'), "$name: no Location");
}

# A redirect to the login page carrying exactly the path and query asked for.
sub login_redirect_ok {
    my ($res, $login, $asked, $name) = @_;
    is($res->code, 302, "$name: 302");
    my $loc = $res->header('Location') // '';
    my ($base, $rt) = $loc =~ /^(.*)[?&]return_to=([^&]*)$/;
    is($base, $login, "$name: to $login") or diag("Location: $loc");
    is(lc($rt // ''), lc(urlencoded($asked)), "$name: return_to is the URL-encoded path and query");
    like($rt // '', qr/^[A-Za-z0-9._*%+-]*$/, "$name: nothing in return_to is left unescaped");
    ok(!defined $res->header('WWW-Authenticate'), "$name: no WWW-Authenticate");
    unlike($res->content, $PAGE, "$name: not the page");
}

# ---- API clients and browsers ----------------------------------------------------------

my $asked = '/gu/login/index.html?a=1&b=x%20y&c=/d';
unauthenticated_ok($c->get($asked, abs => 1), 'no Accept');
unauthenticated_ok($c->get($asked, abs => 1, headers => [Accept => 'application/json']),
                   'Accept: application/json');
unauthenticated_ok($c->get($asked, abs => 1, headers => [Accept => '*/*']), 'Accept: */*');
unauthenticated_ok($c->get($asked, abs => 1, headers => [Accept => 'application/json, text/plain, */*']),
                   'Accept of a fetch() call');

login_redirect_ok($c->get($asked, abs => 1, headers => [Accept => $HTML]),
                  '/login.html', $asked, 'a browser');
login_redirect_ok($c->get($asked, abs => 1, headers => [Accept => $HTML, 'Sec-Fetch-Mode' => 'navigate']),
                  '/login.html', $asked, 'a browser navigating (Sec-Fetch-Mode: navigate)');
login_redirect_ok($c->get('/gu/login/', abs => 1, headers => [Accept => 'text/html']),
                  '/login.html', '/gu/login/', 'Accept: text/html, no query');
login_redirect_ok($c->head('/gu/login/x.html?q', abs => 1, headers => [Accept => $HTML]),
                  '/login.html', '/gu/login/x.html?q', 'HEAD from a browser');
login_redirect_ok($c->get('/gu/login/caf%C3%A9.html?n=%E2%82%AC&x=a+b', abs => 1,
                          headers => [Accept => $HTML]),
                  '/login.html', '/gu/login/caf%C3%A9.html?n=%E2%82%AC&x=a+b',
                  'escapes in the path and query are kept as sent');
# A login URL that has a query of its own: return_to is appended with '&'.
login_redirect_ok($c->get('/gu/login-query/page?y=1', abs => 1, headers => [Accept => $HTML]),
                  'https://login.example.test/signin?app=gu', '/gu/login-query/page?y=1',
                  'an absolute login URL with a query');

# Requests from scripts get 401 even when they accept HTML.
unauthenticated_ok($c->get($asked, abs => 1, headers => [Accept => $HTML, 'X-Requested-With' => 'XMLHttpRequest']),
                   'text/html with X-Requested-With');
unauthenticated_ok($c->get($asked, abs => 1, headers => [Accept => $HTML, 'Sec-Fetch-Mode' => 'cors']),
                   'text/html with Sec-Fetch-Mode: cors');
unauthenticated_ok($c->get($asked, abs => 1, headers => [Accept => $HTML, 'Sec-Fetch-Mode' => 'no-cors']),
                   'text/html with Sec-Fetch-Mode: no-cors');

# Without a login URL, browsers go to the module's own sign-in page under the first
# mount (/api here, in the main server).
{
    login_redirect_ok($c->get('/gu/no-login/?x=1', abs => 1, headers => [Accept => $HTML]),
                      '/api/login', '/gu/no-login/?x=1', 'no AuthsvcLoginURL, a browser');
    unauthenticated_ok($c->get('/gu/no-login/', abs => 1), 'no AuthsvcLoginURL, an API client');
    # A virtual host with a mount of its own uses that mount's page.
    login_redirect_ok(client(vhost => 'ownmount')->get('/own-private/x', abs => 1,
                                                       headers => [Accept => $HTML]),
                      '/own/login', '/own-private/x', 'no AuthsvcLoginURL, a vhost with its own mount');
}

# ---- AuthsvcUnauthAction ---------------------------------------------------------------

{
    my $res = $c->get('/gu/401/', abs => 1, headers => [Accept => $HTML]);
    is($res->code, 401, 'AuthsvcUnauthAction 401, a browser: 401 despite the login URL');
    is($res->header('WWW-Authenticate'), 'Authsvc', '... WWW-Authenticate: Authsvc');
    ok(!defined $res->header('Location'), '... no Location');
    unauthenticated_ok($c->get('/gu/401/', abs => 1), 'AuthsvcUnauthAction 401, an API client');
}

my ($pc, $pf, $pu) = account();
for my $accept (undef, $HTML) {
    my $who = defined $accept ? 'a browser' : 'an API client';
    my @h = defined $accept ? (headers => [Accept => $accept]) : ();
    my $res = $c->get('/gu/pass/whoami.shtml', abs => 1, @h);
    is($res->code, 200, "AuthsvcUnauthAction pass, $who without a session: 200");
    is($res->content, "user=(none);type=(none);\n", '... without identity');
    $res = $c->get('/gu/pass/', abs => 1, @h);
    is($res->code, 200, "... the directory index: 200");
    like($res->content, $PAGE, '... the page');
}
{
    my $res = $c->get('/gu/pass/whoami.shtml', abs => 1, cookie => 'authsvc=' . ('Q' x 43));
    is($res->code, 200, 'pass with an unknown token: 200');
    is($res->content, "user=(none);type=(none);\n", '... without identity');
    $res = $pc->get('/gu/pass/whoami.shtml', abs => 1);
    is($res->code, 200, 'pass with a session: 200');
    is($res->content, "user=$pu->{email};type=authsvc;\n", '... with its identity');
}
# pass lets a plain "Require authsvc" through; a requirement still needs a user.
unauthenticated_ok($c->get('/gu/pass-role/', abs => 1), 'AuthsvcUnauthAction pass with a role requirement');
{
    my $res = $pc->get('/gu/pass-role/', abs => 1);
    problem_ok($res, 403, 'forbidden', 'pass with a role requirement, signed in without the role');
}

# ---- 403: JSON for API clients, httpd's page for browsers -----------------------------

{
    my $res = $pc->get('/gu/role/', abs => 1);
    problem_ok($res, 403, 'forbidden', 'signed in without the role, an API client');
    ok(!defined $res->header('WWW-Authenticate'), '... no WWW-Authenticate');
    unlike($res->content, $PAGE, '... not the page');
    $res = $pc->get('/gu/role/', abs => 1, headers => [Accept => $HTML]);
    is($res->code, 403, 'signed in without the role, a browser: 403');
    like($res->header('Content-Type') // '', qr{^text/html}, '... an HTML page');
    ok(!defined $res->header('Location'), '... not sent to the login page');
    unlike($res->content, $PAGE, '... not the page');
    $res = $pc->get('/gu/role/', abs => 1, headers => [Accept => $HTML, 'X-Requested-With' => 'fetch']);
    problem_ok($res, 403, 'forbidden', 'signed in without the role, a script accepting HTML');
    login_redirect_ok($c->get('/gu/role/', abs => 1, headers => [Accept => $HTML]),
                      '/login.html', '/gu/role/', 'the same page, a browser without a session');
}

# ---- the database unreachable ----------------------------------------------------------

{
    my $nodb = client(vhost => 'nodb');
    my $res = $nodb->get('/gu/login/', abs => 1, cookie => 'authsvc=' . ('D' x 43));
    problem_ok($res, 503, 'unavailable', 'no database, an API client with a session cookie');
    $res = $nodb->get('/gu/login/', abs => 1, cookie => 'authsvc=' . ('D' x 43),
                      headers => [Accept => $HTML]);
    is($res->code, 503, 'no database, a browser with a session cookie: 503, not the login page');
    ok(!defined $res->header('Location'), '... no Location');
}

# ---- access_denied in the audit trail ---------------------------------------------------

# Behind the vhost "proxied" (mod_remoteip), each part uses a client address of its own,
# so that no other test's denials count against the cap in this minute.
sub ip_client {
    my ($ip) = @_;
    return client(vhost => 'proxied', headers => ['X-Forwarded-For' => $ip]);
}

sub denial_rows {
    my ($res) = @_;
    my $id = $res->header('X-Request-Id') // '';
    return db_rows('SELECT * FROM audit_log WHERE request_id = ' . sql_str($id)
                   . " AND event = 'access_denied'");
}

sub denial_ok {
    my ($res, $want, $user_id, $ip, $name) = @_;
    my $rows = denial_rows($res);
    is(scalar @$rows, 1, "$name: one access_denied row") or return;
    my $r = $rows->[0];
    is($r->{ip}, $ip, "$name: the client IP");
    is($r->{user_id}, $user_id, "$name: user_id " . ($user_id // 'NULL'));
    my $d = eval { JSON::PP->new->decode($r->{detail} // '') };
    is_deeply($d, $want, "$name: detail " . json_enc($want)) or diag($r->{detail});
}

my $ip1 = '198.51.100.' . (1 + int rand 254);
{
    my $ic = ip_client($ip1);
    my $res = $ic->get('/gu/no-login/', abs => 1);
    is($res->code, 401, "from $ip1: 401");
    denial_ok($res, {reason => 'unauthenticated', uri => '/gu/no-login/', status => 401},
              undef, $ip1, '401');
    $res = $ic->get('/gu/login/index.html?a=1', abs => 1, headers => [Accept => $HTML]);
    is($res->code, 302, "from $ip1: 302");
    denial_ok($res, {reason => 'unauthenticated', uri => '/gu/login/index.html', status => 302},
              undef, $ip1, '302');
    $res = $ic->get('/gu/role/', abs => 1, cookie => $pc->cookie_header);
    is($res->code, 403, "from $ip1: 403");
    denial_ok($res, {reason => 'forbidden', uri => '/gu/role/', status => 403},
              $pu->{id}, $ip1, '403');
    $res = $ic->get('/gu/pass/', abs => 1);
    is(scalar @{ denial_rows($res) }, 0, 'a request let through (pass): no access_denied row');
    $res = $ic->get('/gu/role/', abs => 1, cookie => $pc->cookie_header,
                    headers => [Accept => $HTML]);
    denial_ok($res, {reason => 'forbidden', uri => '/gu/role/', status => 403},
              $pu->{id}, $ip1, '403 to a browser');
}

# 12 denials from one address: 10 rows, for the first 10.
my $ip2 = '203.0.113.' . (1 + int rand 254);
{
    my $ic = ip_client($ip2);
    my @res = map { $ic->get("/gu/no-login/?n=$_", abs => 1) } 1 .. 12;
    is(scalar(grep { $_->code == 401 } @res), 12, "12 requests from $ip2: all 401");
    my $rows = db_rows("SELECT request_id FROM audit_log WHERE event = 'access_denied' AND ip = "
                       . sql_str($ip2));
    is(scalar @$rows, 10, '... 10 access_denied rows for that address');
    my %logged = map { $_->{request_id} => 1 } @$rows;
    is(scalar(grep { $logged{ $_->header('X-Request-Id') // '' } } @res[0 .. 9]), 10,
       '... the first 10 requests');
    # Another address is not affected by that one's cap.
    my $other = '192.0.2.' . (1 + int rand 254);
    my $res = ip_client($other)->get('/gu/no-login/', abs => 1);
    is(scalar @{ denial_rows($res) }, 1, '... a denial from another address is still recorded');
}

done_testing();
