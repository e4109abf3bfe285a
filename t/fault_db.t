# The database stopped under load (issue 10, faults): on a PostgreSQL cluster and an
# httpd of the test's own, four clients keep requesting (the guard with a session
# cookie, GET /users/me, sign-in, registration) while the cluster is stopped
# (pg_ctl -m immediate) and started again. While it is down, a session cached before
# the stop keeps passing the guard until its cache entry ends (AuthsvcCacheTTL), even
# when its last use is due to be recorded; everything that needs the database answers
# 503 problem+json `unavailable` with Retry-After, never a 500; no child dies. When the
# cluster is back, everything works again without a restart (mod_dbd reconnects; the
# statements are prepared again).
#
# SQLite is a library inside each httpd process, not a server: it cannot be stopped
# under a running httpd (a removed or unreadable file goes on being used through the
# handles already open), so this test runs on the PostgreSQL runs only.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes ();
use AuthsvcTest;

plan skip_all => 'a database server to stop: PostgreSQL runs only (SQLite is in-process)'
    unless backend() eq 'pgsql';
# Its server is event whatever the run's MPM: once is enough.
plan skip_all => 'runs once, on the PostgreSQL event run'
    unless (Apache::Test::config()->{server}{mpm} // '') eq 'event';

# The session is recorded as used (a database write, and a fresh read) once per half
# idle timeout: 8 s here, inside the cache TTL of 12 s, so that the outage covers a
# due read.
my $TTL = 12;
my $pg = fault_pg();
my $srv = fault_httpd(mpm => 'event', db => $pg,
                      conf => ["AuthsvcCacheTTL ${TTL}s", 'AuthsvcSessionIdleTimeout 16s',
                               'AuthsvcTokenSigningKey ' . jwt_key_file('ed25519')]);

my $c = $srv->client;
my ($res, $f) = $c->register;
is($res->code, 201, 'register before the outage') or diag($res->content);
my $tok = token_login($c, $f->{email}, $f->{password});
is($tok->{res}->code, 200, 'sign in before the outage');
ok($tok->{rt}, 'a refresh token');
my $cookie = $c->cookie_header;

my $reg_body = {email => unique_email('fault'), password => new_password()};
my $load = fault_load($srv, clients => 4, requests => [
    [GET => '/private/', abs => 1, cookie => $cookie, what => 'guard'],
    [GET => '/users/me', cookie => $cookie, what => 'me'],
    [POST => '/auth/login', json => {login => $f->{email}, password => $f->{password}},
     no_cookie => 1, what => 'login'],
    [GET => '/private/', abs => 1, cookie => $cookie, what => 'guard'],
    [POST => '/auth/register', json => $reg_body, no_cookie => 1, what => 'register'],
]);

# A session cached now, just before the stop: its entry lasts until $t0 + TTL.
my $s = $srv->client;
is($s->login($f->{email}, $f->{password})->code, 200, 'a fresh session');
my $scookie = $s->cookie_header;
my $t0 = Time::HiRes::time();
is($s->get('/private/', abs => 1)->code, 200, 'the fresh session passes the guard (cached)');
Time::HiRes::sleep(1);

ok($pg->halt('immediate'), 'PostgreSQL stopped (immediate)');
my $down = Time::HiRes::time();
my @fresh;
# The fresh session, every half second until its cache entry has certainly ended.
while (Time::HiRes::time() < $t0 + $TTL + 1.5) {
    my $r = $s->get('/private/', abs => 1);
    push @fresh, [Time::HiRes::time() - $t0, $r];
    Time::HiRes::sleep(0.5);
}
my $refresh = refresh_post($c, $tok->{rt});
problem_ok($refresh, 503, 'unavailable', 'refresh while the database is down');
problem_ok($s->login($f->{email}, $f->{password}), 503, 'unavailable',
           'sign-in while the database is down');
my $guard_late = $s->get('/private/', abs => 1);
my $up_at = Time::HiRes::time();
ok($pg->resume, 'PostgreSQL started again');
my $up = Time::HiRes::time();
Time::HiRes::sleep(6);
my $seen = $load->stop;

# The fresh session: passes until its entry ends (with a second's margin each way for a
# slow request), then refused as unavailable; a due read (after 8 s) included.
my @early = grep { $_->[0] < $TTL - 1 } @fresh;
my @due = grep { $_->[0] >= 8.5 } @early;
ok(@early >= 4, 'requests with the fresh session inside its cache TTL: ' . scalar @early);
ok(@due >= 1, 'of them some after the session was due to be read again: ' . scalar @due);
my @bad = grep { $_->[1]->code != 200 } @early;
ok(!@bad, 'the cached session passes the guard while the database is down')
    or diag(join "\n", map { sprintf '%.1fs: %s %s', $_->[0], $_->[1]->code,
                                    substr($_->[1]->content, 0, 200) } @bad);
is($guard_late->code, 503, 'after its cache TTL the guard answers 503')
    or diag($guard_late->content);
like($guard_late->content, qr/unavailable/, '... unavailable');

# The load: no 500 and no broken connection at any time.
my $all = fault_tally($seen);
note(join ', ', map { "$_: $all->{$_}" } sort keys %$all);
my @fatal = grep { $_->{code} >= 500 && $_->{code} != 503 } @$seen;
ok(!@fatal, 'no answer was a 500 or a broken connection (' . scalar(@$seen) . ' answers)')
    or diag(join "\n", map { "$_->{what} $_->{code} $_->{body}" } @fatal[0 .. ($#fatal > 4 ? 4 : $#fatal)]);
my @not_problem = grep {
    $_->{code} == 503 && !($_->{body} =~ /"code":"unavailable"/ || $_->{what} eq 'guard')
} @$seen;
ok(!@not_problem, 'every 503 of the API is problem+json unavailable')
    or diag($not_problem[0]{what} . ' ' . $not_problem[0]{body});

# While it was down (from two seconds after the stop: an answer is counted when it
# ends, and one begun before the stop may end late on a loaded machine), sign-in and
# registration were 503.
my $out = fault_tally($seen, $down + 2, $up_at);
ok(($out->{'login 503'} // 0) > 0 && !$out->{'login 200'},
   'sign-in under load while down: 503 (' . ($out->{'login 503'} // 0) . ')');
ok(($out->{'register 503'} // 0) > 0 && !$out->{'register 201'} && !$out->{'register 409'},
   'registration under load while down: 503 (' . ($out->{'register 503'} // 0) . ')');

# From three seconds after the start: everything works again, without a restart.
my $after = fault_tally($seen, $up + 3);
note('after: ' . join ', ', map { "$_: $after->{$_}" } sort keys %$after);
ok(($after->{'login 200'} // 0) > 0 && !$after->{'login 503'},
   'sign-in under load recovered: 200 (' . ($after->{'login 200'} // 0) . ')');
ok(!$after->{'register 503'} && ($after->{'register 409'} // 0) + ($after->{'register 201'} // 0) > 0,
   'registration recovered (201, then 409 for the same address)');
$res = refresh_post($c, $tok->{rt});
is($res->code, 200, 'the refresh token refused during the outage still works once')
    or diag($res->content);
my $n = $srv->client;
my ($r2, $f2) = $n->register;
is($r2->code, 201, 'a new registration');
is($n->login($f2->{email}, $f2->{password})->code, 200, 'its sign-in');
is($n->get('/private/', abs => 1)->code, 200, 'its session passes the guard');
my $rows = $pg->rows('SELECT count(*) AS n FROM users WHERE email = ' . sql_str($f2->{email}));
is($rows->[0]{n}, 1, 'and it is in the database');

ok(!$srv->exit_signals, 'no child died') or diag(join "\n", $srv->exit_signals);
$srv->stop;
my @errs = grep { /\[authsvc:(?:crit|alert|emerg)\]/ } split /\n/, $srv->log_text;
ok(!@errs, 'no critical line in the error log') or diag(join "\n", @errs[0 .. 2]);
done_testing;
