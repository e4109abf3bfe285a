# A graceful restart under load (issue 10, faults): on an httpd of the test's own (the
# run's MPM and database driver, a database of its own), clients keep requesting (the
# guard with a session cookie, GET /users/me, sign-in) while the server is told three
# times to restart gracefully (SIGUSR1, what `apachectl graceful` sends). Clients that
# open a connection per request see no failure at all; clients on keep-alive
# connections see no HTTP error either, but a request sent on an idle connection at the
# moment its old child closes it gets no answer (HTTP/1.1's keep-alive race: RFC 9112
# 9.3.1, clients retry such requests), counted and shown. Sessions stay valid, and the
# /metrics counters never go back: they count every request across the generations.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes ();
use AuthsvcTest;

my ($args, $drop) = scratch_db('graceful');
my $srv = fault_httpd(dbd => [$args->[1], $args->[3]]);

my $c = $srv->client;
my ($f) = $c->signed_in;
my $cookie = $c->cookie_header;
my $res;
is($c->get('/private/', abs => 1)->code, 200, 'the session passes the guard');

sub scrape {
    my $r = $srv->client(prefix => '')->get('/metrics');
    is($r->code, 200, 'GET /metrics') or return {};
    my ($s) = eval { metrics_parse($r->content) };
    ok($s, 'readable') or diag($@);
    return $s || {};
}
my $before = scrape();

my @requests = (
    [GET => '/private/', abs => 1, cookie => $cookie, what => 'guard'],
    [GET => '/users/me', cookie => $cookie, what => 'me'],
    [POST => '/auth/login', json => {login => $f->{email}, password => $f->{password}},
     no_cookie => 1, what => 'login'],
);
my $load = fault_load($srv, clients => 3, requests => \@requests);
my $KA_CLIENTS = 2;
my $kept = fault_load($srv, clients => $KA_CLIENTS, keep_alive => 1, requests => [
    [GET => '/private/', abs => 1, cookie => $cookie, what => 'guard'],
    [GET => '/users/me', cookie => $cookie, what => 'me'],
]);
Time::HiRes::sleep(1.5);
my @marks;
for my $n (1 .. 3) {
    push @marks, Time::HiRes::time();
    ok($srv->graceful, "graceful restart $n done");
    Time::HiRes::sleep(1.5);
}
my $seen = $load->stop;
my $seen_ka = $kept->stop;
my $after = scrape();

my $all = fault_tally($seen);
note('a connection per request: ' . join ', ', map { "$_: $all->{$_}" } sort keys %$all);
my @bad = grep { $_->{code} !~ /^2/ } @$seen;
ok(@$seen > 20 && !@bad, 'a connection per request: every answer 2xx ('
   . scalar(@$seen) . ' requests)')
    or diag(join "\n", map { "$_->{what} $_->{code} $_->{body}" } @bad[0 .. ($#bad > 4 ? 4 : $#bad)]);
# Answers from each generation: the load went on between the restarts.
for my $i (0 .. $#marks) {
    my $to = $i < $#marks ? $marks[$i + 1] : 9e9;
    my $n = grep { $_->{t} > $marks[$i] && $_->{t} < $to } @$seen;
    ok($n > 0, "answers after restart " . ($i + 1) . ": $n");
}

my $ka = fault_tally($seen_ka);
my @ka_http = grep { $_->{code} != 599 && $_->{code} !~ /^2/ } @$seen_ka;
my $races = grep { $_->{code} == 599 } @$seen_ka;
# A race costs a keep-alive client at most one request per restart (it reconnects).
my $max_races = $KA_CLIENTS * @marks;
ok(@$seen_ka - $races > 20 && !@ka_http && $races <= $max_races,
   'keep-alive: no HTTP error (' . scalar(@$seen_ka)
   . " requests, $races closed under a request by a retiring child, at most $max_races)")
    or diag(join "\n", map { "$_->{what} $_->{code} $_->{body}" } @ka_http[0 .. ($#ka_http > 4 ? 4 : $#ka_http)]);
diag("keep-alive: $races of " . scalar(@$seen_ka) . ' requests met a connection closed by a '
     . 'retiring child (HTTP/1.1 keep-alive race)') if $races;

# The session is still good, in a child of the new generation.
$res = $c->get('/users/me');
is($res->code, 200, 'after the restarts: /users/me with the session');
is((json_body($res) || {})->{email}, lc $f->{email}, '... the same account');
is($c->get('/private/', abs => 1)->code, 200, '... and the guard');

# The counters: none went back, and each counts every answer of the load.
my @back = grep { ($after->{$_} // -1) < $before->{$_} }
           grep { /_total/ } keys %$before;
ok(!@back, 'no counter went back across the restarts') or diag("@back");
my $granted = metric_key('authsvc_guard_decisions_total', result => 'granted');
my $logins = metric_key('authsvc_logins_total', result => 'success');
my $n_guard = grep { $_->{what} eq 'guard' && $_->{code} == 200 } @$seen, @$seen_ka;
my $n_login = grep { $_->{what} eq 'login' && $_->{code} == 200 } @$seen;
cmp_ok(($after->{$granted} // 0) - ($before->{$granted} // 0), '>=', $n_guard,
       "guard decisions counted across generations (at least $n_guard)");
cmp_ok(($after->{$logins} // 0) - ($before->{$logins} // 0), '>=', $n_login,
       "sign-ins counted across generations (at least $n_login)");

ok(!$srv->exit_signals, 'no child died') or diag(join "\n", $srv->exit_signals);
$srv->stop;
$drop->();
done_testing;
