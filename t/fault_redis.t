# Redis stopped under load (issue 10, faults): an httpd of the test's own with
# `AuthsvcCache redis:...` on a redis-server of the test's own, and a database of its own.
# Clients keep requesting (the guard with a session cookie, GET /users/me, sign-in)
# while Redis is stopped and started again. The cache is only a cache: while it is away
# every request is answered from the database (no 5xx at all, no child dies); a session
# ended while it is away stays ended; /health says the cache is unavailable, then ok
# again once Redis is back, without a restart. PostgreSQL runs only (a shared Redis is
# for several nodes on one PostgreSQL; the cache code is the same on SQLite).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes ();
use AuthsvcTest;

plan skip_all => 'Redis serves several nodes on PostgreSQL: PostgreSQL runs only'
    unless backend() eq 'pgsql';

my $rd = fault_redis();
my ($args, $drop) = scratch_db('redis');
my $srv = fault_httpd(dbd => [$args->[1], $args->[3]], modules => ['socache_redis'],
                      conf => ["AuthsvcCache redis:127.0.0.1:$rd->{port}", 'AuthsvcCacheTTL 30s']);

sub health {
    my $r = $srv->client(prefix => '')->get('/health');
    return (json_body($r) || {})->{cache}{status} // 'none';
}
is(health(), 'ok', 'health: the cache is ok');

my $c = $srv->client;
my ($f) = $c->signed_in;
my $cookie = $c->cookie_header;
my $res;
is($c->get('/private/', abs => 1)->code, 200, 'the session passes the guard');
# A second session, ended while Redis is away.
my $e = $srv->client;
is($e->login($f->{email}, $f->{password})->code, 200, 'a second session');
is($e->get('/private/', abs => 1)->code, 200, '... passes the guard (now cached)');

my $load = fault_load($srv, clients => 4, requests => [
    [GET => '/private/', abs => 1, cookie => $cookie, what => 'guard'],
    [GET => '/users/me', cookie => $cookie, what => 'me'],
    [POST => '/auth/login', json => {login => $f->{email}, password => $f->{password}},
     no_cookie => 1, what => 'login'],
]);
Time::HiRes::sleep(1.5);
ok($rd->halt, 'Redis stopped');
my $down = Time::HiRes::time();
Time::HiRes::sleep(1);
is(health(), 'unavailable', 'health: the cache is unavailable');
is($e->post('/auth/logout')->code, 204, 'sign-out while Redis is away');
is($e->get('/private/', abs => 1, cookie => $e->cookie_header)->code, 401,
   '... its session is refused at once');
Time::HiRes::sleep(2);
my $up_at = Time::HiRes::time();
ok($rd->resume, 'Redis started again');
my $up = Time::HiRes::time();
# apr_redis retries a server it marked dead 5 s later, in each child and thread on its
# own: up to 30 s for the child that answers to have retried (the machine may be busy).
my $back;
for (1 .. 150) {
    last if ($back = health()) eq 'ok';
    Time::HiRes::sleep(0.2);
}
is($back, 'ok', 'health: the cache is ok again, without a restart');
Time::HiRes::sleep(2);
my $seen = $load->stop;

my $all = fault_tally($seen);
note(join ', ', map { "$_: $all->{$_}" } sort keys %$all);
my @bad = grep { $_->{code} !~ /^2/ } @$seen;
ok(@$seen > 20 && !@bad, 'every answer 2xx, before, during and after ('
   . scalar(@$seen) . ' requests)')
    or diag(join "\n", map { "$_->{what} $_->{code} $_->{body}" } @bad[0 .. ($#bad > 4 ? 4 : $#bad)]);
my $during = grep { $_->{t} > $down && $_->{t} < $up_at } @$seen;
ok($during > 0, "answers while Redis was away: $during");

# The session ended during the outage stays ended now that the cache is back.
$res = $srv->client->get('/private/', abs => 1, cookie => $e->cookie_header);
is($res->code, 401, 'the session ended during the outage is refused after it');
is($c->get('/users/me')->code, 200, 'the other session still works');

ok(!$srv->exit_signals, 'no child died') or diag(join "\n", $srv->exit_signals);
my @errs = grep { /\[authsvc:(?:error|crit)\]/ } split /\n/, $srv->log_text;
note(scalar(@errs) . ' error lines of ours in the error log') if @errs;
$srv->stop;
$drop->();
done_testing;
