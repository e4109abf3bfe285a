# GET /users/me/events: the signed-in user's own security events (every audit event
# with their user id but access_denied), newest first, in pages of `limit` (1..100,
# default 20) before an event id; `next` is the `before` of the next page, null on the
# last one.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $WRONG = 'Not the password 12';
my $ISO = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

sub iso {
    my @t = gmtime($_[0] // 0);
    return sprintf '%04d-%02d-%02dT%02d:%02d:%02dZ', $t[5] + 1900, $t[4] + 1, @t[3, 2, 1, 0];
}

sub events_of {
    my ($c, $query, $name) = @_;
    my $res = $c->get('/users/me/events' . (defined $query ? "?$query" : ''));
    is($res->code, 200, "$name: 200") or diag($res->content);
    return json_body($res) || {};
}

# The user's rows as the endpoint should list them: newest first, no access_denied.
sub expected_ids {
    my ($uid) = @_;
    return [map { "$_->{id}" } reverse @{ audit_rows('user_id = ' . sql_str($uid)
                                                     . " AND event <> 'access_denied'") }];
}

# ---- without a session ---------------------------------------------------------------------

{
    my $anon = client();
    my $res = $anon->get('/users/me/events');
    problem_ok($res, 401, 'unauthenticated', 'events without a session');
    problem_ok($anon->get('/users/me/events', cookie => 'authsvc=' . random_token()), 401,
               'unauthenticated', 'events with an unknown session');
    problem_ok($anon->get('/users/me/events?limit=0'), 401, 'unauthenticated',
               'events without a session, bad limit: 401 first');
}

# ---- a user's events -----------------------------------------------------------------------

my ($c, $f, $u) = account(agent => 'events-agent/1.0');
my $uid = $u->{id};
my ($oc, $of, $ou) = account();    # somebody else, with events of their own

problem_ok(client(agent => 'wrong-agent/2.0')->login($f->{email}, $WRONG), 401, 'invalid_credentials',
           'a failed sign-in');
client()->login($of->{email}, $WRONG);
# (through the proxied vhost, from an address of its own: denials are audited at most
# 10 a minute per client address)
is(xff_client('proxied', random_ipv4())->get('/gf/role/', abs => 1, cookie => 'authsvc=' . $c->jar->{authsvc})->code,
   403, 'a page the user may not see (access_denied)');
my $denied = db_value("SELECT count(*) AS n FROM audit_log WHERE event = 'access_denied' AND user_id = "
                      . sql_str($uid));
ok($denied >= 1, '... audited access_denied with the user id');
is($c->patch('/users/me', {first_name => 'Eve'})->code, 200, 'a profile change');

# A rate_limited row for the account (vhost limits: login 2/1h per account).
{
    my @codes = map { xff_client('limits', random_ipv4())->login($f->{email}, $WRONG)->code } 1 .. 3;
    is("@codes", '401 401 429', 'the account is rate limited on the limits vhost');
}

{
    my $res = $c->get('/users/me/events');
    is($res->code, 200, 'events: 200') or diag($res->content);
    like($res->header('Content-Type') // '', qr{^application/json\b}, '... JSON');
    no_store_ok($res, '...');
    my $b = json_body($res) || {};
    is_deeply([sort keys %$b], [qw(events next)], '... {events, next}');
    my @ev = @{ $b->{events} || [] };
    my @ids = map { $_->{id} } @ev;
    is_deeply(\@ids, expected_ids($uid), '... every event of the user, newest first, but access_denied')
        or diag(json_enc(\@ev));
    ok(!defined $b->{next}, '... next null: one page');
    ok(!grep({ $_->{event} eq 'access_denied' } @ev), '... no access_denied');
    my %other = map { ("$_->{id}" => 1) } @{ audit_rows('user_id = ' . sql_str($ou->{id})) };
    ok(!grep({ $other{$_} } @ids), '... none of another user\'s');

    my @bad;
    for my $e (@ev) {
        push @bad, 'keys ' . join(',', sort keys %$e)
            unless join(',', sort keys %$e) eq 'at,detail,event,id,ip,login,user_agent';
        push @bad, "id $e->{id} is not a string of digits"
            unless defined $e->{id} && !ref $e->{id} && $e->{id} =~ /^[1-9][0-9]*$/
                && JSON::PP->new->allow_nonref->encode($e->{id}) =~ /^"/;
        push @bad, "at $e->{at}" unless ($e->{at} // '') =~ $ISO;
        push @bad, 'detail is neither null nor an object'
            if defined $e->{detail} && ref $e->{detail} ne 'HASH';
    }
    ok(!@bad, '... each {id (a string), event, at (ISO 8601), ip, user_agent, login, detail}')
        or diag(join "\n", @bad);
    my @names = map { $_->{event} } @ev;
    for my $want (qw(register login_success login_failure profile_update rate_limited)) {
        ok((grep { $_ eq $want } @names), "... lists $want");
    }

    my ($fail) = grep { $_->{event} eq 'login_failure' && ($_->{user_agent} // '') eq 'wrong-agent/2.0' } @ev;
    ok($fail, 'the failed sign-in is listed with its user agent');
    is(($fail || {})->{ip}, '127.0.0.1', '... and its client address');
    is(($fail || {})->{login}, $f->{email}, '... and the login typed');
    is_deeply(($fail || {})->{detail}, {reason => 'bad_password'}, '... and its detail');
    my $row = db_row('SELECT * FROM audit_log WHERE id = ' . sql_str(($fail || {})->{id} // 0)) || {};
    is(($fail || {})->{at}, iso($row->{at}), '... at: the stored time');
    my ($rl) = grep { $_->{event} eq 'rate_limited' } @ev;
    is(($rl || {})->{detail}{key}, 'account', 'the rate_limited event is the account\'s');
}

# ---- pages ---------------------------------------------------------------------------------

is($c->patch('/users/me', {last_name => "N$_"})->code, 200, "profile change $_") for 1 .. 22;
my $all = expected_ids($uid);
ok(@$all > 27, 'the user now has ' . scalar(@$all) . ' events');

{
    my $b = events_of($c, undef, 'default page');
    is_deeply([map { $_->{id} } @{ $b->{events} || [] }], [@$all[0 .. 19]], '... the 20 newest');
    like($b->{next} // '', qr/^[1-9][0-9]*$/, '... next: an id');
    my $b2 = events_of($c, 'before=' . ($b->{next} // ''), 'the page before next');
    is($b2->{events}[0]{id}, $all->[20], '... goes on with the 21st newest');

    $b = events_of($c, 'limit=100', 'limit=100');
    is_deeply([map { $_->{id} } @{ $b->{events} || [] }], $all, '... every event');
    ok(!defined $b->{next}, '... next null');

    $b = events_of($c, 'limit=1', 'limit=1');
    is_deeply([map { $_->{id} } @{ $b->{events} || [] }], [$all->[0]], '... the newest');
    ok(defined $b->{next}, '... next set');

    $b = events_of($c, "limit=3&before=$all->[4]", 'before the 5th newest');
    is_deeply([map { $_->{id} } @{ $b->{events} || [] }], [@$all[5 .. 7]], '... the 6th to 8th');

    # Walk it all in pages of 7.
    my (@seen, $pages, $over);
    my $query = 'limit=7';
    while (1) {
        $b = events_of($c, $query, 'a page of 7');
        $pages++;
        my @ids = map { $_->{id} } @{ $b->{events} || [] };
        $over++ if @ids > 7;
        push @seen, @ids;
        last if !defined $b->{next} || $pages > 20;
        $query = "limit=7&before=$b->{next}";
    }
    ok(!$over, 'pages of 7: none longer');
    is_deeply(\@seen, $all, "pages of 7: every event once, in order, in $pages pages");

    my $oldest = $all->[-1];
    $b = events_of($c, "before=$oldest", 'before the oldest');
    is_deeply($b->{events}, [], '... no events');
    ok(!defined $b->{next}, '... next null');
}

# ---- bad input -----------------------------------------------------------------------------

sub bad_query_ok {
    my ($query, $fields, $name) = @_;
    my $p = problem_ok($c->get("/users/me/events?$query"), 422, 'validation_failed', $name);
    my %got = map { (($_->{field} // '?') => 1) } @{ $p->{errors} || [] };
    is_deeply([sort keys %got], $fields, "$name: errors on " . join(', ', @$fields));
}
bad_query_ok('limit=0', ['limit'], 'limit=0');
bad_query_ok('limit=101', ['limit'], 'limit=101');
bad_query_ok('limit=-1', ['limit'], 'limit=-1');
bad_query_ok('limit=abc', ['limit'], 'limit=abc');
bad_query_ok('limit=1.5', ['limit'], 'limit=1.5');
bad_query_ok('limit=5x', ['limit'], 'limit=5x');
bad_query_ok('limit=', ['limit'], 'limit empty');
bad_query_ok('limit=99999999999999999999', ['limit'], 'limit too big for any integer');
bad_query_ok('before=abc', ['before'], 'before=abc');
bad_query_ok('before=-5', ['before'], 'before=-5');
bad_query_ok('before=1.5', ['before'], 'before=1.5');
bad_query_ok('before=', ['before'], 'before empty');
bad_query_ok('limit=0&before=x', ['before', 'limit'], 'both bad');
problem_ok($c->post('/users/me/events', {}), 405, 'method_not_allowed', 'POST /users/me/events');

done_testing();
