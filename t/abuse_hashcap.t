# AuthsvcHashConcurrency N WAIT: at most N password hashes at once; a request that
# would be one more waits up to WAIT for a slot, then gets 503 busy with Retry-After: 1,
# having counted and written nothing; audited hash_busy (at most once a minute per
# client address).
#
# Vhost busy (t/conf/extra.conf.in): AuthsvcHashConcurrency 1 100ms with an expensive
# hash (argon2id m=65536 t=3 p=1), behind mod_remoteip. A burst of simultaneous
# requests must then see both outcomes: some served, some busy. Which ones is up to the
# machine; only the contract of each answer is checked, never a time.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $V = 'busy';
my $WRONG = 'Not the password 12';
my $BURST = 10;

# One burst after another (at most 3) until one has a 503 in it: returns the answers
# of all of them.
sub burst {
    my (%o) = @_;
    my @all;
    for my $try (1 .. 3) {
        my @res = parallel_requests(vhost => $V, path => $o{path}, bodies => $o{bodies}->(),
                                    headers => ['X-Forwarded-For' => $o{ip}]);
        push @all, @res;
        last if grep { $_->{code} eq '503' } @res;
    }
    return @all;
}

# Every 503 of a burst is the busy problem with Retry-After: 1 and did nothing.
sub busy_ok {
    my ($res, $name) = @_;
    my @busy = grep { $_->{code} eq '503' } @$res;
    ok(@busy >= 1, "$name: some requests are refused busy (" . scalar(@busy) . " of " . scalar(@$res) . ')')
        or diag(join ' ', map { $_->{code} } @$res);
    ok(@busy < @$res, "$name: some are served");
    my @bad;
    for my $r (@busy) {
        my $p = eval { JSON::PP->new->decode($r->{body}) } || {};
        push @bad, "code " . ($p->{code} // 'none') unless ($p->{code} // '') eq 'busy';
        push @bad, "status member " . ($p->{status} // 'none') unless ($p->{status} // 0) == 503;
        push @bad, "title " . ($p->{title} // 'none') unless defined $p->{title} && length $p->{title};
        push @bad, 'Retry-After ' . ($r->{retry_after} // 'none') unless ($r->{retry_after} // '') eq '1';
        my @ev = grep { $_ ne 'hash_busy' } map { $_->{event} } @{ request_rows($r) };
        push @bad, "audited @ev" if @ev;
    }
    ok(!@bad, "$name: each 503 is problem busy with Retry-After: 1 and wrote nothing but hash_busy")
        or diag(join "\n", @bad);
    return \@busy;
}

sub hash_busy_ok {
    my ($ip, $endpoint, $name) = @_;
    my $rows = audit_rows("event = 'hash_busy' AND ip = " . sql_str($ip));
    ok(@$rows >= 1 && @$rows <= 2, "$name: hash_busy audited once a minute (" . scalar(@$rows) . ' rows)');
    is_deeply(audit_detail($rows->[0]), {endpoint => $endpoint}, "$name: detail {\"endpoint\":\"$endpoint\"}");
}

# ---- login ---------------------------------------------------------------------------------

my ($r0, $f) = xff_client($V, random_ipv4())->register();
is($r0->code, 201, 'an account with the expensive hash (one request alone is never busy)')
    or diag($r0->content);
like(user_row($f->{email})->{password_hash} // '', qr/^\$argon2id\$v=19\$m=65536,t=3,p=1\$/,
     '... hashed with m=65536,t=3,p=1');
my $uid = user_row($f->{email})->{id};

{
    my $ip = random_ipv4();
    my @res = burst(ip => $ip, path => '/auth/login', bodies => sub {
        [({login => $f->{email}, password => $f->{password}}) x ($BURST - 3),
         {login => $f->{email}, password => $WRONG},
         map { {login => unique_email('nobody'), password => $WRONG} } 1 .. 2];
    });
    my @codes = map { $_->{code} } @res;
    is(scalar(grep { !/^(200|401|503)$/ } @codes), 0, "login burst: only 200, 401 and 503 (@codes)");
    busy_ok(\@res, 'login burst');
    my @served = grep { $_->{code} ne '503' } @res;
    my $checked = 0;
    for my $r (@served) {
        $checked += grep { $_->{event} =~ /^login_(success|failure)$/ } @{ request_rows($r) };
    }
    is($checked, scalar @served, 'login burst: one login_success or login_failure per request served');
    is(scalar(@{ session_rows($uid) }), scalar(grep { $_->{code} eq '200' } @res),
       'login burst: one session per 200, none for the busy ones');
    hash_busy_ok($ip, 'login', 'login burst');
}

# ---- register ------------------------------------------------------------------------------

{
    my $ip = random_ipv4();
    my @res = burst(ip => $ip, path => '/auth/register', bodies => sub {
        [map { {email => unique_email('burst'), password => new_password()} } 1 .. $BURST];
    });
    my @codes = map { $_->{code} } @res;
    is(scalar(grep { !/^(201|503)$/ } @codes), 0, "register burst: only 201 and 503 (@codes)");
    busy_ok(\@res, 'register burst');
    my @stored = grep { my $b = eval { JSON::PP->new->decode($_->{body}) } || {};
                        $b->{user} && user_row($b->{user}{email}) } @res;
    is(scalar @stored, scalar(grep { $_->{code} eq '201' } @res),
       'register burst: every 201 stored its account');
    is(db_value("SELECT count(*) AS n FROM audit_log WHERE event = 'register' AND ip = " . sql_str($ip)),
       scalar(grep { $_->{code} eq '201' } @res), 'register burst: no account for a busy one');
    hash_busy_ok($ip, 'register', 'register burst');
}

# ---- bad input -----------------------------------------------------------------------------

# Bodies refused before hashing never wait for a slot.
{
    my $ip = random_ipv4();
    my @res = parallel_requests(vhost => $V, path => '/auth/login', headers => ['X-Forwarded-For' => $ip],
                                bodies => [({login => $f->{email}}) x $BURST]);
    is(join(' ', map { $_->{code} } @res), join(' ', ('422') x $BURST),
       'a burst of logins without a password: 422 each, never busy');
    my $c = xff_client($V, $ip);
    problem_ok($c->post('/auth/login', undef, body => '{"login":'), 400, 'invalid_json', 'broken JSON');
    is($c->login($f->{email}, $f->{password})->code, 200, 'a login alone afterwards: 200');
}

done_testing();
