# The error catalogue at the HTTP level: 400, 404, 405, 413, 415, 503, and the
# problem+json shape and Cache-Control of every one.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::INET ();
use Test::More;
use AuthsvcTest;

my $c = client();

# ---- 404 -----------------------------------------------------------------------------

for my $p ('/nope', '/auth', '/auth/', '/auth/login/', '/auth/login/x', '/users', '/users/me/',
           '/users/me/extra', '/users/you', '', '/', '/AUTH/LOGIN', '/health',
           # A route's path below an unknown path is not that route.
           '/nope/auth/login', '/api/auth/login', '/users/me/auth/login', '/v1/auth/register') {
    my $res = $c->post($p, {login => 'x', password => 'y'});
    problem_ok($res, 404, 'not_found', "POST /api$p");
    ok(!defined $res->header('Allow'), "... /api$p: no Allow");
}
problem_ok($c->get('/nope'), 404, 'not_found', 'GET /api/nope');

# ---- 405 -----------------------------------------------------------------------------

for my $case ([GET => '/auth/register', 'POST'], [GET => '/auth/login', 'POST'],
              [PUT => '/auth/login', 'POST'], [DELETE => '/auth/logout', 'POST'],
              [PATCH => '/auth/logout', 'POST'], [OPTIONS => '/auth/login', 'POST']) {
    my ($m, $p, $allow) = @$case;
    my $res = $c->request($m => $p);
    problem_ok($res, 405, 'method_not_allowed', "$m $p");
    is($res->header('Allow'), $allow, "... Allow: $allow");
}

# ---- 415 -----------------------------------------------------------------------------

my $login = '{"login":"nobody@example.org","password":"whatever-password"}';
for my $ct (undef, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data',
            'application/jsonx', 'application/xml', 'text/json', 'json', 'application/',
            'application/+jsonx') {
    my $res = $c->post('/auth/login', undef, body => $login, ctype => $ct);
    problem_ok($res, 415, 'unsupported_media_type',
               'Content-Type ' . (defined $ct ? "'$ct'" : 'absent'));
}
# JSON types are accepted, with parameters and in any case.
for my $ct ('application/json', 'application/json; charset=utf-8', 'Application/JSON',
            'application/json ; charset="UTF-8"', 'application/problem+json',
            'application/vnd.example+json; v=1') {
    problem_ok($c->post('/auth/login', undef, body => $login, ctype => $ct), 401,
               'invalid_credentials', "Content-Type '$ct' is JSON");
}

# ---- 400 -----------------------------------------------------------------------------

my %bad_json = (
    'an empty body'        => '',
    'whitespace only'      => "  \n ",
    'a lone brace'         => '{',
    'unquoted keys'        => '{login: "a", password: "b"}',
    'single quotes'        => "{'login': 'a'}",
    'a trailing comma'     => '{"login": "a",}',
    'trailing garbage'     => '{"login": "a"} x',
    'two objects'          => '{}{}',
    'an array'             => '[]',
    'a string'             => '"login"',
    'a number'             => '42',
    'null'                 => 'null',
    'true'                 => 'true',
    'duplicate keys'       => '{"login": "a", "login": "b", "password": "c"}',
    'a lone surrogate'     => '{"login": "\udead", "password": "x"}',
    'a reversed pair'      => '{"login": "\ude00\ud83d", "password": "x"}',
    'invalid UTF-8'        => qq({"login": "\xff", "password": "x"}),
    'a truncated sequence' => qq({"login": "\xe2\x82", "password": "x"}),
    'an encoded surrogate' => qq({"login": "\xed\xa0\x80", "password": "x"}),
    'a raw control char'   => qq({"login": "a\x01b", "password": "x"}),
    'a bad escape'         => '{"login": "\q", "password": "x"}',
    'a NUL byte'           => qq({"login": "a"\x00, "password": "x"}),
    'a UTF-16 body'        => "\xff\xfe{\0}\0",
    'a byte order mark'    => "\xef\xbb\xbf{}",
);
for my $name (sort keys %bad_json) {
    my $before = db_value('SELECT count(*) AS n FROM audit_log');
    my $res = $c->post('/auth/login', undef, body => $bad_json{$name});
    problem_ok($res, 400, 'invalid_json', "login with $name");
    is(db_value('SELECT count(*) AS n FROM audit_log'), $before, "... $name: not even audited");
}
problem_ok($c->post('/auth/register', undef, body => '{"email":'), 400, 'invalid_json',
           'register with truncated JSON');

# ---- 413 -----------------------------------------------------------------------------

# A valid JSON object of exactly $n octets.
sub body_of {
    my ($n) = @_;
    my $head = '{"login":"nobody@example.org","password":"x","pad":"';
    return $head . ('p' x ($n - length($head) - 2)) . '"}';
}
is(length body_of(16384), 16384, 'a 16384-octet body');
problem_ok($c->post('/auth/login', undef, body => body_of(16384)), 401, 'invalid_credentials',
           'a body of exactly 16k (the default limit) is read');
my $res = $c->post('/auth/login', undef, body => body_of(16385));
problem_ok($res, 413, 'payload_too_large', 'a body of 16k + 1');
problem_ok($c->post('/auth/register', undef, body => body_of(1024 * 1024)), 413,
           'payload_too_large', 'a 1 MiB body');
# A long password inside a valid, but too large, body.
problem_ok($c->post('/auth/register', {email => unique_email(), password => 'z' x 20000}),
           413, 'payload_too_large', 'register with a 20000-character password');

# Chunked bodies have no Content-Length: the limit holds while reading.
sub raw_request {
    my ($vhost, $req) = @_;
    my ($host, $port) = split /:/, AuthsvcTest::hostport($vhost);
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 30)
        or die "connect: $!";
    $s->autoflush(1);
    print {$s} $req;
    local $/;
    my $out = <$s>;
    close $s;
    return $out // '';
}
sub chunked {
    my ($body) = @_;
    my $out = '';
    for (my $i = 0; $i < length $body; $i += 1000) {
        my $part = substr($body, $i, 1000);
        $out .= sprintf("%x\r\n", length $part) . $part . "\r\n";
    }
    return $out . "0\r\n\r\n";
}
{
    my $head = "POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
             . "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    my $out = raw_request('default', $head . chunked(body_of(20000)));
    like($out, qr{^HTTP/1\.1 413 }, 'a chunked body over the limit: 413');
    like($out, qr{"code":"payload_too_large"}, '... payload_too_large');
    like($out, qr{^Content-Type: application/problem\+json}mi, '... problem+json');
    $out = raw_request('default', $head . chunked(body_of(3000)));
    like($out, qr{^HTTP/1\.1 401 }, 'a chunked body under the limit is read: 401');
    like($out, qr{"code":"invalid_credentials"}, '... invalid_credentials');
}

# ---- 503 -----------------------------------------------------------------------------

my $nodb = client(vhost => 'nodb');
for my $case ([POST => '/auth/register', {email => unique_email(), password => new_password()}],
              [POST => '/auth/login', {login => 'a@example.org', password => 'x' x 12}],
              [POST => '/auth/logout', undef],
              [GET => '/users/me', undef],
              [PATCH => '/users/me', {first_name => 'x'}],
              [PUT => '/users/me', {first_name => 'x'}]) {
    my ($m, $p, $body) = @$case;
    my $res = $nodb->request($m => $p, defined $body ? (json => $body) : ());
    problem_ok($res, 503, 'unavailable', "$m $p without the schema");
    like($res->header('Retry-After') // '', qr/^\d+$/, '... Retry-After in seconds');
}
# Routing still answers without the database.
problem_ok($nodb->get('/nope'), 404, 'not_found', 'unknown path without the schema');
problem_ok($nodb->get('/auth/login'), 405, 'method_not_allowed', 'wrong method without the schema');

done_testing();
