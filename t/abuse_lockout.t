# AuthsvcLockout: THRESHOLD failed password checks in WINDOW lock the account for
# DURATION*2^L (at most MAXDURATION); while locked every attempt is refused without a
# password check (401 like a wrong password, or 423 with AuthsvcLockoutReveal On); N
# parallel guesses never get more than THRESHOLD checks; a success or a completed
# password reset clears the count; the lock ends with time or a reset. Whatever the
# settings, at most 100 failed checks per account per hour.
#
# Vhosts (t/conf/extra.conf.in), rate limits and backoff off:
#   lockout    AuthsvcLockout 3 1h 1h
#   lockshort  AuthsvcLockout 2 1h 4s 8s   (locks of 4s, 8s, 8s ...)
#   reveal     AuthsvcLockout 2 1h 1h, AuthsvcLockoutReveal On
#   nolockout  AuthsvcLockout off
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $WRONG = 'Not the password 12';

sub uid_of { (user_row($_[0]) || {})->{id} }

# login_failure rows of an account with this reason.
sub failures {
    my ($uid, $reason) = @_;
    return scalar grep { ((audit_detail($_) || {})->{reason} // '') eq $reason }
        @{ audit_rows("event = 'login_failure' AND user_id = " . sql_str($uid)) };
}


# The request was refused as a lock: the reason it recorded.
sub refused_reason {
    my ($res) = @_;
    my ($row) = grep { $_->{event} eq 'login_failure' } @{ request_rows($res) };
    return ((audit_detail($row) || {})->{reason}) // 'none';
}

# The account_locked row's detail is sane: failures, duration, until = at + duration.
sub locked_row_ok {
    my ($row, $failures, $duration, $name) = @_;
    my $d = audit_detail($row) || {};
    is($d->{failures}, $failures, "$name: account_locked failures $failures");
    is($d->{duration}, $duration, "$name: duration $duration");
    my $off = ($d->{until} // 0) - ($row->{at} // 0);
    ok(abs($off - $duration) <= 1, "$name: until = at + duration") or diag(json_enc($d));
    return $d->{until} // 0;
}

sub sleep_past { my ($until) = @_; sleep 1 while time <= $until + 1 }

my %bodies;    # the answers a client must not tell apart

# ---- the threshold; a locked account answers like a wrong password --------------------------

{
    my $L = client(vhost => 'lockout');
    my $name = unique_username('lock');
    my ($r0, $f) = client()->register(username => $name);
    my $uid = uid_of($f->{email});
    for my $n (1 .. 2) {
        my $res = $L->login($f->{email}, $WRONG);
        $bodies{"wrong password $n"} = $res;
        problem_ok($res, 401, 'invalid_credentials', "lockout 3/1h: failure $n");
    }
    is(scalar @{ audit_events($uid, 'account_locked') }, 0, '... not locked after 2');
    my $res = $L->login($f->{email}, $WRONG);
    $bodies{'wrong password 3 (locks)'} = $res;
    problem_ok($res, 401, 'invalid_credentials', 'lockout: failure 3');
    my $locked = audit_events($uid, 'account_locked');
    is(scalar @$locked, 1, '... locks the account (account_locked audited)');
    locked_row_ok($locked->[0], 3, 3600, 'lockout');
    ok((user_row($f->{email})->{locked_until} // 0) > time, '... users.locked_until is ahead');

    $res = $L->login($f->{email}, $WRONG);
    $bodies{'locked, wrong password'} = $res;
    problem_ok($res, 401, 'invalid_credentials', 'locked: a wrong password');
    is(refused_reason($res), 'locked', '... audited login_failure {"reason":"locked"}');
    $res = $L->login($f->{email}, $f->{password});
    $bodies{'locked, right password'} = $res;
    problem_ok($res, 401, 'invalid_credentials', 'locked: the right password');
    is(refused_reason($res), 'locked', '... audited as locked');
    is(scalar @{ session_rows($uid) }, 0, '... no session');
    $res = $L->login(uc $name, $f->{password});
    $bodies{'locked, by username'} = $res;
    problem_ok($res, 401, 'invalid_credentials', 'locked: by username');
    my ($row) = grep { $_->{event} eq 'login_failure' } @{ request_rows($res) };
    is(($row || {})->{user_id}, $uid, '... the refusal carries the user id');
    is_deeply(audit_detail($row), {reason => 'locked'}, '... detail {"reason":"locked"}');
    is(failures($uid, 'bad_password'), 3, 'three password checks');
    is(failures($uid, 'locked'), 3, 'three refusals');

    problem_ok(client()->login($f->{email}, $f->{password}), 401, 'invalid_credentials',
               'the lock is the account\'s: the main server refuses it too');

    $bodies{'unknown login'} = $L->login(unique_email('nobody'), $WRONG);
    my ($r1, $g) = client()->register();
    db_do("UPDATE users SET status = 'disabled' WHERE email = " . sql_str($g->{email}));
    $bodies{'disabled account'} = $L->login($g->{email}, $g->{password});
    my ($r2, $h) = client()->register();
    $bodies{'another account, wrong password'} = $L->login($h->{email}, $WRONG);
}

# AuthsvcLockoutReveal Off: status, headers and body tell nothing.
{
    my $ref = $bodies{'wrong password 1'};
    my $want = json_body($ref);
    for my $k (sort keys %bodies) {
        my $res = $bodies{$k};
        is($res->code, 401, "same answer: $k: 401");
        is_deeply(json_body($res), $want, "same answer: $k: the same body");
        is($res->header('Content-Type'), $ref->header('Content-Type'), "same answer: $k: Content-Type");
        ok(!defined $res->header('Retry-After'), "same answer: $k: no Retry-After");
        ok(!defined $res->header('Set-Cookie'), "same answer: $k: no cookie");
    }
}

# ---- a success clears the count -----------------------------------------------------------

{
    my $L = client(vhost => 'lockout');
    my ($r0, $f) = client()->register();
    my $uid = uid_of($f->{email});
    is($L->login($f->{email}, $WRONG)->code, 401, 'clear: failure 1') for 1 .. 2;
    is($L->login($f->{email}, $f->{password})->code, 200, 'clear: then the right password');
    is(user_row($f->{email})->{failed_logins}, 0, '... users.failed_logins back to 0');
    is($L->login($f->{email}, $WRONG)->code, 401, 'clear: failure 1 again') for 1 .. 2;
    is($L->login($f->{email}, $f->{password})->code, 200,
       'clear: 4 failures in the window, but never 3 in a row: not locked');
    is(scalar @{ audit_events($uid, 'account_locked') }, 0, '... no account_locked');
}

# ---- the password re-checks count ---------------------------------------------------------

{
    my $L = client(vhost => 'lockout');
    my ($r0, $f) = client()->register();
    my $uid = uid_of($f->{email});
    is($L->login($f->{email}, $f->{password})->code, 200, 're-checks: signed in');
    my $hash = user_row($f->{email})->{password_hash};
    problem_ok($L->put('/users/me/password', {current_password => $WRONG, new_password => new_password()}),
               401, 'invalid_credentials', 're-checks: PUT /users/me/password, wrong');
    problem_ok($L->post('/users/me/email', {new_email => unique_email('new'), password => $WRONG}),
               401, 'invalid_credentials', 're-checks: POST /users/me/email, wrong');
    problem_ok($L->del('/users/me', json => {password => $WRONG}), 401, 'invalid_credentials',
               're-checks: DELETE /users/me, wrong (the third failure)');
    my $locked = audit_events($uid, 'account_locked');
    is(scalar @$locked, 1, 're-checks: the account is locked');
    my $res = $L->put('/users/me/password', {current_password => $f->{password},
                                             new_password => new_password()});
    problem_ok($res, 401, 'invalid_credentials', 'locked: PUT /users/me/password with the right password');
    is(refused_reason($res), 'locked', '... audited as locked');
    is(user_row($f->{email})->{password_hash}, $hash, '... the password is unchanged');
    problem_ok($L->del('/users/me', json => {password => $f->{password}}), 401, 'invalid_credentials',
               'locked: DELETE /users/me with the right password');
    ok(user_row($f->{email}), '... the account is still there');
    problem_ok(client(vhost => 'lockout')->login($f->{email}, $f->{password}), 401,
               'invalid_credentials', 'locked: sign-in with the right password');
    is(failures($uid, 'bad_password'), 3, 're-checks: three password checks');
}

# ---- parallel guesses --------------------------------------------------------------------

{
    my ($r0, $f) = client()->register();
    my $uid = uid_of($f->{email});
    my @res = parallel_requests(vhost => 'lockout', path => '/auth/login',
                                bodies => [({login => $f->{email}, password => $WRONG}) x 20]);
    my @codes = map { $_->{code} } @res;
    is(scalar(grep { $_ eq '401' } @codes), 20, '20 wrong passwords at once: 401 each') or diag("@codes");
    my %distinct = map { $_->{body} => 1 } @res;
    is(scalar keys %distinct, 1, '... the same body for each');
    is(failures($uid, 'bad_password'), 3, '... exactly THRESHOLD (3) password checks');
    is(failures($uid, 'locked'), 17, '... the other 17 refused as locked');
    is(scalar @{ audit_events($uid, 'account_locked') }, 1, '... one account_locked');
    problem_ok(client(vhost => 'lockout')->login($f->{email}, $f->{password}), 401,
               'invalid_credentials', '... then the right password is refused');
}

# ---- a completed password reset unlocks -----------------------------------------------------

sub reset_password {
    my ($email, $name) = @_;
    my $anon = client();
    is($anon->post('/auth/forgot-password', {email => $email})->code, 202, "$name: forgot-password");
    my $m = mail_ok("$name: the reset mail", to => $email, template => 'reset_password');
    my $new = new_password();
    my $res = $anon->post('/auth/reset-password', {token => $m->{token}, password => $new});
    is($res->code, 200, "$name: reset-password") or diag($res->content);
    return ($new, $res);
}

{
    my $L = client(vhost => 'lockout');
    my ($r0, $f) = client()->register();
    my $uid = uid_of($f->{email});
    $L->login($f->{email}, $WRONG) for 1 .. 3;
    is(scalar @{ audit_events($uid, 'account_locked') }, 1, 'reset: the account is locked');
    my ($new, $res) = reset_password($f->{email}, 'reset');
    my ($row) = grep { $_->{event} eq 'account_unlocked' } @{ request_rows($res) };
    ok($row, '... the reset request audited account_unlocked');
    is_deeply(audit_detail($row), {reason => 'password_reset'}, '... detail {"reason":"password_reset"}');
    is(($row || {})->{user_id}, $uid, '... for the account');
    $res = $L->login($f->{email}, $new);
    is($res->code, 200, 'reset: the new password signs in at once') or diag($res->content);
    problem_ok($L->login($f->{email}, $WRONG), 401, 'invalid_credentials', 'reset: a failure after');
    is(refused_reason($L->login($f->{email}, $WRONG)), 'bad_password',
       '... and another: checked (the count started afresh)');
}

{
    my $L = client(vhost => 'lockout');
    my ($r0, $f) = client()->register();
    my $uid = uid_of($f->{email});
    $L->login($f->{email}, $WRONG) for 1 .. 2;
    my ($new, $res) = reset_password($f->{email}, 'reset, not locked');
    ok(!grep({ $_->{event} eq 'account_unlocked' } @{ request_rows($res) }),
       '... no account_unlocked (it was not locked)');
    $L->login($f->{email}, $WRONG) for 1 .. 2;
    is($L->login($f->{email}, $new)->code, 200,
       'reset, not locked: 2 + 2 failures around the reset do not lock (it cleared the count)');
    is(scalar @{ audit_events($uid, 'account_locked') }, 0, '... no account_locked');
}

# ---- the lock ends with time; each lock before a success doubles (vhost lockshort) -----------

{
    my $S = client(vhost => 'lockshort');
    my ($r0, $f) = client()->register();
    my $uid = uid_of($f->{email});
    my @durations;
    my $lock = sub {
        my ($name) = @_;
        my @r = map { $S->login($f->{email}, $WRONG) } 1 .. 2;
        is(join(' ', map { refused_reason($_) } @r), 'bad_password bad_password',
           "$name: two password checks");
        my $rows = audit_events($uid, 'account_locked');
        my $d = audit_detail($rows->[-1]) || {};
        push @durations, $d->{duration};
        return locked_row_ok($rows->[-1], 2, $d->{duration} // -1, $name);
    };

    my $until = $lock->('lock 1');
    problem_ok($S->login($f->{email}, $f->{password}), 401, 'invalid_credentials',
               'lock 1: the right password is refused');
    sleep_past($until);
    my $unlocked = sub {
        my ($res, $name) = @_;
        my ($row) = grep { $_->{event} eq 'account_unlocked' } @{ request_rows($res) };
        ok($row, "$name: the first attempt after the lock audits account_unlocked");
        is_deeply(audit_detail($row), {reason => 'expired'}, "$name: detail {\"reason\":\"expired\"}");
    };
    # (the next lock's first failure is the first attempt after this one)
    my $rows_before = scalar @{ audit_events($uid, 'account_unlocked') };
    $until = $lock->('lock 2, no success since lock 1');
    is(scalar @{ audit_events($uid, 'account_unlocked') }, $rows_before + 1,
       'lock 2: lock 1 ended with account_unlocked {"reason":"expired"}');
    sleep_past($until);
    $until = $lock->('lock 3, no success since lock 1');
    sleep_past($until);
    my $res = $S->login($f->{email}, $f->{password});
    is($res->code, 200, 'after lock 3 ended: the right password signs in') or diag($res->content);
    $unlocked->($res, 'after lock 3');
    $until = $lock->('lock 4, after a success');
    is_deeply(\@durations, [4, 8, 8, 4],
              'durations: 4s, doubled to 8s, capped at MAXDURATION 8s, 4s again after a success')
        or diag(json_enc(\@durations));
    my @expired = grep { ((audit_detail($_) || {})->{reason} // '') eq 'expired' }
        @{ audit_events($uid, 'account_unlocked') };
    is(scalar @expired, 3, 'one account_unlocked per ended lock, on its first attempt only');
    sleep_past($until);
    is($S->login($f->{email}, $f->{password})->code, 200, 'after lock 4 ended: signed in');
}

# ---- AuthsvcLockoutReveal On (vhost reveal) ---------------------------------------------------

{
    my $R = client(vhost => 'reveal');
    my $name = unique_username('rev');
    my ($r0, $f) = client()->register(username => $name);
    my $uid = uid_of($f->{email});
    my $c = client(vhost => 'reveal');
    is($c->login($f->{email}, $f->{password})->code, 200, 'reveal: a session from before the lock');
    problem_ok($R->login($f->{email}, $WRONG), 401, 'invalid_credentials', 'reveal: failure 1');
    problem_ok($R->login($f->{email}, $WRONG), 401, 'invalid_credentials', 'reveal: failure 2 (locks)');
    my $res = $R->login($f->{email}, $WRONG);
    my $p = problem_ok($res, 423, 'account_locked', 'reveal: locked, a wrong password');
    is($p->{title}, 'The account is locked', '... title');
    my $ra = retry_after_ok($res, 3600, 'reveal: locked');
    ok(($ra // 0) > 3000, '... Retry-After: the time left of the 1h lock') or diag($ra);
    is(refused_reason($res), 'locked', '... audited as locked');
    $res = $R->login($f->{email}, $f->{password});
    problem_ok($res, 423, 'account_locked', 'reveal: locked, the right password');
    retry_after_ok($res, 3600, 'reveal: locked, the right password');
    ok(!defined $res->header('Set-Cookie'), '... no cookie');
    problem_ok($R->login(uc $name, $f->{password}), 423, 'account_locked', 'reveal: by username');
    $res = $c->put('/users/me/password', {current_password => $f->{password}, new_password => new_password()});
    problem_ok($res, 423, 'account_locked', 'reveal: PUT /users/me/password while locked');
    retry_after_ok($res, 3600, 'reveal: PUT /users/me/password while locked');
    is(failures($uid, 'bad_password'), 2, 'reveal: two password checks');

    my $ghost = unique_email('ghost');
    my @codes = map { $R->login($ghost, $WRONG)->code } 1 .. 4;
    is("@codes", '401 401 401 401', 'reveal: an unknown login is never "locked"');
}

# ---- 100 failures an hour, even with AuthsvcLockout off (vhost nolockout) -------------------

{
    my $N = client(vhost => 'nolockout');
    my ($r0, $f) = client()->register();
    my $uid = uid_of($f->{email});
    my %codes;
    $codes{ $N->login($f->{email}, $WRONG . $_)->code }++ for 1 .. 100;
    is_deeply(\%codes, {401 => 100}, 'lockout off: 100 wrong passwords, 401 each');
    is(failures($uid, 'bad_password'), 100, '... 100 password checks');
    my $res = $N->login($f->{email}, $f->{password});
    problem_ok($res, 401, 'invalid_credentials', 'lockout off: the 101st in the hour, right password');
    is(refused_reason($res), 'locked', '... refused like a lock (NIST cap)');
    is(failures($uid, 'bad_password'), 100, '... no 101st check');
}

# ---- bad input -------------------------------------------------------------------------------

# Bodies refused before the password check claim nothing.
{
    my $L = client(vhost => 'lockout');
    my ($r0, $f) = client()->register();
    is($L->login($f->{email}, $WRONG)->code, 401, 'bad input: a failure') for 1 .. 2;
    problem_ok($L->post('/auth/login', {login => $f->{email}}), 422, 'validation_failed',
               'bad input: no password');
    problem_ok($L->post('/auth/login', {login => $f->{email}, password => undef}), 422,
               'validation_failed', 'bad input: password null');
    problem_ok($L->post('/auth/login', {login => $f->{email}, password => 12345678901234}), 422,
               'validation_failed', 'bad input: password as a number');
    problem_ok($L->post('/auth/login', undef, body => '{"login":"' . $f->{email} . '","password":'),
               400, 'invalid_json', 'bad input: broken JSON');
    is($L->login($f->{email}, $f->{password})->code, 200,
       '... none counted: the right password after 2 failures signs in');
}

done_testing();
