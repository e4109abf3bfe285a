# AuthsvcLoginBackoff: after the k-th failed password check in a row for a client
# address (per /64 for IPv6) or a name typed (normalised; for the password re-checks,
# the signed-in user), the next attempt with that key is refused (429 rate_limited,
# Retry-After) until BASE*2^(k-1), at most MAX, after the failure. A success clears the
# name's streak and forgives one failure of the address's; a streak is forgotten once
# MAX has passed since its delay ended. The password re-checks count too.
#
# Vhost backoff (t/conf/extra.conf.in): AuthsvcLoginBackoff 4s 12s, lockout and rate
# limits off, behind mod_remoteip: each test uses client addresses of its own. The tests
# sleep past the delays the server announces (Retry-After), with a second to spare.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $V = 'backoff';
my ($BASE, $MAX) = (4, 12);
my $WRONG = 'Not the password 12';

sub at { xff_client($V, $_[0] // random_ipv4()) }

# Refused by the backoff: 429 rate_limited, Retry-After from 1 to MAX (or less); no
# password was checked and no session made. Returns Retry-After.
sub backoff_ok {
    my ($res, $max, $name) = @_;
    my $p = problem_ok($res, 429, 'rate_limited', $name);
    my $ra = retry_after_ok($res, $max, $name);
    my @ev = map { $_->{event} } @{ request_rows($res) };
    ok(!grep({ $_ ne 'rate_limited' } @ev), "$name: no password check") or diag("audited: @ev");
    ok(!defined $res->header('Set-Cookie'), "$name: no cookie");
    return $ra // $max;
}

sub wait_out { sleep(($_[0] // $MAX) + 1) }

sub failures {
    my ($uid) = @_;
    return db_value("SELECT count(*) AS n FROM audit_log WHERE event = 'login_failure' AND user_id = "
                    . sql_str($uid));
}

# ---- growth, the cap, a success clears it ---------------------------------------------------
# Every request from an address of its own: only the streak of the name typed counts.

{
    my ($r0, $f) = client()->register();
    my $uid = user_row($f->{email})->{id};
    problem_ok(at()->login($f->{email}, $WRONG), 401, 'invalid_credentials', 'backoff: a first failure');
    my $ra1 = backoff_ok(at()->login($f->{email}, $f->{password}), $BASE,
                         'backoff: the right password at once after 1 failure');
    backoff_ok(at()->login(uc $f->{email}, $WRONG), $BASE, '... and again, the name in upper case');
    is(failures($uid), 1, '... one password check so far');
    wait_out($ra1);

    problem_ok(at()->login($f->{email}, $WRONG), 401, 'invalid_credentials',
               'after the delay: a second failure (refusals did not extend the delay)');
    my $ra2 = backoff_ok(at()->login($f->{email}, $f->{password}), 2 * $BASE,
                         'backoff: at once after 2 failures');
    ok($ra2 > $ra1, "... a longer delay ($ra2 s after 2 failures, $ra1 s after 1)");
    wait_out($ra2);

    problem_ok(at()->login($f->{email}, $WRONG), 401, 'invalid_credentials', 'a third failure');
    my $ra3 = backoff_ok(at()->login($f->{email}, $f->{password}), $MAX,
                         "backoff: at once after 3 failures (4*BASE = " . 4 * $BASE . "s, capped at MAX $MAX s)");
    ok($ra3 > $ra2, "... longer again ($ra3 s)");
    wait_out($ra3);

    my $res = at()->login($f->{email}, $f->{password});
    is($res->code, 200, 'after the delay: the right password signs in') or diag($res->content);
    problem_ok(at()->login($f->{email}, $WRONG), 401, 'invalid_credentials',
               'a failure after the success');
    backoff_ok(at()->login($f->{email}, $f->{password}), $BASE,
               '... is the first of a new streak (the success cleared it): delay at most BASE');
    is(failures($uid), 4, 'four password checks in all');

    my $rows = [grep { ((audit_detail($_) || {})->{key} // '') eq 'account' }
                @{ audit_rows("event = 'rate_limited' AND user_id = " . sql_str($uid)) }];
    ok(@$rows >= 1 && @$rows <= 2, 'the name\'s refusals: audited once a minute, with the account ('
       . scalar(@$rows) . ' rows for 5 refusals)');
    my $d = audit_detail($rows->[0]) || {};
    is_deeply([sort keys %$d], [qw(class key reason retry_after)],
              '... detail {class, key, reason, retry_after}') or diag(json_enc($d));
    is("@$d{qw(class key reason)}", 'login account backoff', '... login, account, backoff');
    ok(($d->{retry_after} // 0) =~ /^\d+$/ && $d->{retry_after} >= 1 && $d->{retry_after} <= $MAX,
       '... retry_after from 1 to MAX');
}

# ---- the keys: the name typed, the client address -------------------------------------------

{
    my ($r0, $f) = client()->register(username => unique_username('bo'));
    my $ip1 = random_ipv4();
    problem_ok(at($ip1)->login($f->{email}, $WRONG), 401, 'invalid_credentials',
               'keys: a failure by email from address 1');
    backoff_ok(at()->login(uc $f->{email}, $f->{password}), $BASE,
               'keys: the same email in upper case from address 2 (the name\'s streak)');
    is(at()->login($f->{username}, $f->{password})->code, 200,
       'keys: the username of the same account from address 3: a key of its own, 200');
    backoff_ok(at($ip1)->login(unique_email('nobody'), $WRONG), $BASE,
               'keys: another login from address 1 (the address\'s streak)');
    is(at()->login(unique_email('nobody'), $WRONG)->code, 401,
       'keys: another login from another address: a password check');

    my $ghost = unique_email('ghost');
    is(at()->login($ghost, $WRONG)->code, 401, 'keys: an unknown email fails');
    backoff_ok(at()->login(uc $ghost, $WRONG), $BASE,
               'keys: the same email in upper case from another address (the login typed)');

    my $net = random_ipv6_net();
    is(at(random_ipv6($net, '1'))->login(unique_email('nobody'), $WRONG)->code, 401,
       'keys: a failure from an IPv6 address');
    backoff_ok(at(random_ipv6($net, '2'))->login(unique_email('nobody'), $WRONG), $BASE,
               'keys: another address of the same /64, another login');
    is(at(random_ipv6())->login(unique_email('nobody'), $WRONG)->code, 401,
       'keys: another /64: a password check');

    my $rows = [grep { ((audit_detail($_) || {})->{key} // '') eq 'ip' }
                @{ audit_rows("event = 'rate_limited' AND ip = " . sql_str($ip1)) }];
    is(scalar @$rows, 1, 'keys: the address\'s refusal is audited');
    my $d = audit_detail($rows->[0]) || {};
    is("@$d{qw(class key reason)}", 'login ip backoff', '... login, ip, backoff')
        or diag(json_enc($d));
}

# A success forgives one failure of the address's streak (not all: a sprayer must not
# reset it with an account of its own).
{
    my ($r0, $f) = client()->register();
    my $ip = random_ipv4();
    is(at($ip)->login(unique_email('nobody'), $WRONG)->code, 401, 'address streak: a failure');
    wait_out(backoff_ok(at($ip)->login(unique_email('nobody'), $WRONG), $BASE,
                        'address streak: another login at once'));
    is(at($ip)->login(unique_email('nobody'), $WRONG)->code, 401, 'address streak: a second failure');
    wait_out(backoff_ok(at($ip)->login(unique_email('nobody'), $WRONG), 2 * $BASE,
                        'address streak: at once after 2'));
    is(at($ip)->login($f->{email}, $f->{password})->code, 200,
       'address streak: a success from the address');
    is(at($ip)->login(unique_email('nobody'), $WRONG)->code, 401, 'address streak: a failure');
    my $ra = backoff_ok(at($ip)->login(unique_email('nobody'), $WRONG), 2 * $BASE,
                        'address streak: at most 2*BASE (2 - 1 forgiven + 1), not MAX');
    ok($ra > $BASE, "... but more than BASE: one failure forgiven, not all ($ra s)");
}

# A streak is forgotten once MAX has passed since its delay ended without a new failure.
{
    my ($r0, $f) = client()->register();
    my $c = at();
    is($c->login($f->{email}, $WRONG)->code, 401, 'forgotten: a failure');
    my $ra = backoff_ok($c->login($f->{email}, $WRONG), $BASE, 'forgotten: at once');
    sleep($ra + $MAX + 2);
    is($c->login($f->{email}, $WRONG)->code, 401, 'forgotten: a failure after BASE + MAX');
    backoff_ok($c->login($f->{email}, $WRONG), $BASE,
               'forgotten: the delay is BASE again, not 2*BASE');
}

# ---- the password re-checks (keyed by the signed-in user) ---------------------------------

{
    my ($r0, $f) = client()->register();
    my $c = at();
    is($c->login($f->{email}, $f->{password})->code, 200, 're-check: signed in on the backoff vhost');
    my $hash = user_row($f->{email})->{password_hash};
    problem_ok($c->put('/users/me/password', {current_password => $WRONG, new_password => new_password()}),
               401, 'invalid_credentials', 're-check: a wrong current password');
    my $new = new_password();
    my $ra = backoff_ok($c->put('/users/me/password', {current_password => $f->{password},
                                                       new_password => $new}),
                        $BASE, 're-check: the right one at once');
    is(user_row($f->{email})->{password_hash}, $hash, '... the password is unchanged');
    my $cookie = 'authsvc=' . ($c->jar->{authsvc} // '');
    backoff_ok(at()->del('/users/me', json => {password => $f->{password}}, cookie => $cookie), $BASE,
               're-check: DELETE /users/me from another address (the user\'s streak)');
    backoff_ok(at()->post('/users/me/email', {new_email => unique_email('new'), password => $f->{password}},
                          cookie => $cookie),
               $BASE, 're-check: POST /users/me/email from another address');
    ok(user_row($f->{email}), '... the account is still there');
    wait_out($ra);
    my $res = $c->put('/users/me/password', {current_password => $f->{password}, new_password => $new});
    is($res->code, 200, 're-check: after the delay the change works') or diag($res->content);
    problem_ok($c->put('/users/me/password', {current_password => $WRONG, new_password => new_password()}),
               401, 'invalid_credentials', 're-check: a wrong password after the change');
    backoff_ok($c->put('/users/me/password', {current_password => $new, new_password => new_password()}),
               $BASE, '... starts a new streak: at most BASE (the change cleared the user\'s)');
}

# ---- bad input -------------------------------------------------------------------------------

# Bodies refused before the password check are no failures.
{
    my ($r0, $f) = client()->register();
    my $c = at();
    problem_ok($c->post('/auth/login', undef, body => '{"login":'), 400, 'invalid_json',
               'bad input: broken JSON');
    my $p = problem_ok($c->post('/auth/login', {login => $f->{email}}), 422, 'validation_failed',
                       'bad input: no password');
    fields_ok($p, {password => 'required'}, 'bad input: no password');
    $p = problem_ok($c->post('/auth/login', {login => $f->{email}, password => ['x']}), 422,
                    'validation_failed', 'bad input: password as an array');
    fields_ok($p, {password => 'wrong_type'}, 'bad input: password as an array');
    my $res = $c->login($f->{email}, $f->{password});
    is($res->code, 200, '... then the right password at once: 200 (no streak)') or diag($res->content);
}

done_testing();
