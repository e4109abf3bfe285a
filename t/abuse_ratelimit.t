# AuthsvcRateLimit: fixed windows per client address and per account (or address typed)
# for login and the password re-checks, register, forgot-password and reset-password,
# verify-email and its resend. Over the limit: 429 rate_limited with Retry-After, and
# nothing done (no password check, no account, no token, no mail); one rate_limited
# audit row per key per window.
#
# Vhosts (t/conf/extra.conf.in), both behind mod_remoteip:
#   limits       login/register/forgot/verify 3/1h ip and 2/1h account
#   shortwindow  login 2/3s ip
# Every test sends X-Forwarded-For addresses of its own (counters last for their window
# and are shared by every vhost on the database), and uses accounts of its own.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Time::HiRes ();
use Test::More;
use AuthsvcTest;

my $V = 'limits';
my $WINDOW = 3600;
my $WRONG = 'Not the password 12';

# A client of the limits vhost whose requests come from client address IP.
sub at { xff_client($V, $_[0] // random_ipv4()) }

# The request was refused: 429 rate_limited, Retry-After from 1 to the window.
sub limited_ok {
    my ($res, $name, $max) = @_;
    my $p = problem_ok($res, 429, 'rate_limited', $name);
    retry_after_ok($res, $max // $WINDOW, $name);
    ok(!exists $p->{errors}, "$name: no field errors");
    return $p;
}

# The request did nothing but (at most) record its refusal.
sub nothing_done_ok {
    my ($res, $name) = @_;
    my @ev = map { $_->{event} } @{ request_rows($res) };
    ok(!grep({ $_ ne 'rate_limited' } @ev), "$name: nothing done (no password check)")
        or diag("audited: @ev");
    ok(!defined $res->header('Set-Cookie'), "$name: no cookie");
}

sub rate_rows { audit_rows("event = 'rate_limited' AND " . $_[0]) }

sub detail_ok {
    my ($row, $want, $name) = @_;
    is_deeply(audit_detail($row), $want, "$name: detail " . json_enc($want))
        or diag('detail: ' . ($row->{detail} // 'NULL'));
}

sub uid_of { (user_row($_[0]) || {})->{id} }

sub count_where { db_value("SELECT count(*) AS n FROM audit_log WHERE $_[0]") }

sub with_ip { (headers => ['X-Forwarded-For' => $_[0] // random_ipv4()]) }

# Mail to a bystander, queued after the requests of a test and so delivered after
# their mail: once it is there, whatever those requests queued has arrived too.
my $sentinel = do { my ($r, $f) = client()->register(); $f->{email} };
sub mail_barrier {
    my ($name) = @_;
    client()->post('/auth/forgot-password', {email => $sentinel});
    mail_ok("$name (a later mail to somebody else)", to => $sentinel, template => 'reset_password');
}

# ---- login: per client address ---------------------------------------------------------

{
    my $ip = random_ipv4();
    my @codes = map { at($ip)->login(unique_email('nobody'), $WRONG)->code } 1 .. 3;
    is("@codes", '401 401 401', 'login ip 3/1h: three sign-ins (three logins) from one address');
    my $r4 = at($ip)->login(unique_email('nobody'), $WRONG);
    limited_ok($r4, 'login ip: the fourth');
    nothing_done_ok($r4, 'login ip: the fourth');
    is(scalar(grep { $_->{event} eq 'rate_limited' } @{ request_rows($r4) }), 1,
       '... its refusal is audited');

    my ($res, $f) = client()->register();
    my $r5 = at($ip)->login($f->{email}, $f->{password});
    limited_ok($r5, 'login ip: a real account with the right password from that address');
    nothing_done_ok($r5, '... ');
    is(scalar @{ session_rows(uid_of($f->{email})) }, 0, '... no session');
    is(scalar @{ request_rows($r5) }, 0, '... and a second refusal is not audited again');

    is(at()->login($f->{email}, $f->{password})->code, 200,
       'the same account from another address: 200');
    (my $next = $ip) =~ s/(\d+)$/$1 == 254 ? 253 : $1 + 1/e;
    is(at($next)->login(unique_email('nobody'), $WRONG)->code, 401,
       'the neighbouring IPv4 address has a counter of its own');

    my $rl = rate_rows('ip = ' . sql_str($ip));
    is(scalar @$rl, 1, 'login ip: one rate_limited row for the address in its window')
        or diag(json_enc($rl));
    detail_ok($rl->[0], {class => 'login', key => 'ip', limit => 3, window => 3600}, 'login ip');
    is(count_where("event = 'login_failure' AND ip = " . sql_str($ip)), 3,
       'login ip: three password checks from the address, not four');
    is(count_where("event = 'login_success' AND ip = " . sql_str($ip)), 0,
       '... and no sign-in');
}

# Requests at once, each on its own connection (so across the server's processes and
# threads): the counter is shared and exact, COUNT pass and no more.
{
    my $ip = random_ipv4();
    my @res = parallel_requests(vhost => $V, path => '/auth/login', headers => ['X-Forwarded-For' => $ip],
                                bodies => [map { {login => unique_email('nobody'), password => $WRONG} } 1 .. 10]);
    my @codes = sort map { $_->{code} } @res;
    is("@codes", join(' ', ('401') x 3, ('429') x 7),
       'login ip: 10 sign-ins at once from one address: exactly 3 checked, 7 refused');
    my $ghost = unique_email('ghost');
    @res = parallel_requests(vhost => $V, path => '/auth/login',
                             each_headers => [map { ['X-Forwarded-For' => random_ipv4()] } 1 .. 10],
                             bodies => [({login => $ghost, password => $WRONG}) x 10]);
    @codes = sort map { $_->{code} } @res;
    is("@codes", join(' ', ('401') x 2, ('429') x 8),
       'login account: 10 sign-ins at once for one name from 10 addresses: exactly 2 checked');
    is(scalar @{ rate_rows('lower(login) = ' . sql_str($ghost)) }, 1, '... one rate_limited row');
}

# IPv6: one counter per /64 (AuthsvcRateLimitIPv6Prefix 64 by default).
{
    my $net = random_ipv6_net();
    my @codes = map { at(random_ipv6($net, $_))->login(unique_email('nobody'), $WRONG)->code }
        qw(1 2 1:2:3:4);
    is("@codes", '401 401 401', 'login ip over IPv6: three addresses of one /64');
    my $r = at(random_ipv6($net))->login(unique_email('nobody'), $WRONG);
    limited_ok($r, 'login ip over IPv6: a fourth address of the same /64');
    nothing_done_ok($r, '... ');
    my ($a, $b, $c, $d) = split /:/, $net;
    my $adjacent = sprintf '%s:%s:%s:%x', $a, $b, $c, (hex($d) % 0xfffe) + 1;
    is(at(random_ipv6($adjacent, '1'))->login(unique_email('nobody'), $WRONG)->code, 401,
       'the adjacent /64 (same /48) has a counter of its own');
    is(at(random_ipv6())->login(unique_email('nobody'), $WRONG)->code, 401,
       'another /64 has a counter of its own');
    my $rl = rate_rows("ip LIKE " . sql_str("$net:%"));
    is(scalar @$rl, 1, 'login ip over IPv6: one rate_limited row') or diag(json_enc($rl));
    detail_ok($rl->[0], {class => 'login', key => 'ip', limit => 3, window => 3600},
              'login ip over IPv6');
    is(count_where("event = 'login_failure' AND ip LIKE " . sql_str("$net:%")), 3,
       '... three password checks from the /64');
}

# An IPv4-mapped IPv6 address counts as the IPv4 address.
{
    my $ip = random_ipv4();
    my @codes = map { at($_)->login(unique_email('nobody'), $WRONG)->code }
        ($ip, "::ffff:$ip", $ip);
    is("@codes", '401 401 401', 'login ip: an address, its IPv4-mapped form, the address');
    limited_ok(at("::ffff:$ip")->login(unique_email('nobody'), $WRONG),
               'login ip: the fourth, IPv4-mapped, shares the IPv4 counter');
}

# ---- login: per name typed ---------------------------------------------------------------

# The key is the name as typed (normalised), not the account: an email and a username
# of one account are two keys, so that the answers do not link them.
{
    my $name = unique_username('rl');
    my ($res, $f) = client()->register(username => $name);
    my $uid = uid_of($f->{email});
    problem_ok(at()->login($f->{email}, $WRONG), 401, 'invalid_credentials',
               'login account 2/1h: by email, wrong password');
    problem_ok(at()->login(uc $f->{email}, $WRONG), 401, 'invalid_credentials',
               'login account: the email in upper case, from another address');
    my $r3 = at()->login($f->{email}, $f->{password});
    limited_ok($r3, 'login account: the third by email, right password, a third address');
    nothing_done_ok($r3, 'login account: the third');
    limited_ok(at()->login(ucfirst $f->{email}, $f->{password}), 'login account: the fourth by email');
    is(scalar @{ session_rows($uid) }, 0, 'login account: no session');

    problem_ok(at()->login($name, $WRONG), 401, 'invalid_credentials',
               'login account: by username, a key of its own');
    is(at()->login(uc $name, $f->{password})->code, 200, '... the second by username: 200');
    limited_ok(at()->login(lc $name, $f->{password}), 'login account: the third by username');

    is(count_where("event = 'login_failure' AND user_id = " . sql_str($uid)), 3,
       'login account: three password checks failed');
    is(count_where("event = 'login_success' AND user_id = " . sql_str($uid)), 1,
       'login account: one sign-in');
    my $rl = rate_rows('user_id = ' . sql_str($uid));
    is(scalar @$rl, 2, 'login account: one rate_limited row per name, with the account\'s id')
        or diag(json_enc($rl));
    detail_ok($rl->[0], {class => 'login', key => 'account', limit => 2, window => 3600},
              'login account');
    is_deeply([map { lc($_->{login} // '') } @$rl], [$f->{email}, lc $name],
              '... login: the names typed');
    is(client()->login($f->{email}, $f->{password})->code, 200,
       'the main server (AuthsvcRateLimit login off) does not limit the name');
}

# An unknown login is keyed by the string typed (normalised), like a known one.
{
    my $ghost = unique_email('ghost');
    my @res = (at()->login($ghost, $WRONG), at()->login(uc $ghost, $WRONG));
    is(join(' ', map { $_->code } @res), '401 401', 'login account, unknown email: 401 twice');
    limited_ok(at()->login(ucfirst $ghost, $WRONG), 'login account, unknown email: the third');
    my $rl = rate_rows('lower(login) = ' . sql_str($ghost));
    is(scalar @$rl, 1, '... one rate_limited row') or diag(json_enc($rl));
    ok(!defined $rl->[0]{user_id}, '... without a user id');
    detail_ok($rl->[0], {class => 'login', key => 'account', limit => 2, window => 3600},
              'login account, unknown email');

    my $who = unique_username('Ghost');
    is(at()->login($who, $WRONG)->code, 401, 'login account, unknown username: 401');
    is(at()->login(lc $who, $WRONG)->code, 401, '... in lower case: 401');
    limited_ok(at()->login(uc $who, $WRONG), 'login account, unknown username: the third');
}

# ---- the password re-checks are sign-ins too ---------------------------------------------
# Their account key is the signed-in user; their ip key is the login class's.

# Sessions come from the main server (no limits); the re-checks go to the limits vhost.
sub session_cookie { 'authsvc=' . ($_[0]->jar->{authsvc} // '') }

{
    my ($c, $f, $u) = account();
    my $cookie = session_cookie($c);
    my $hash = user_row($f->{email})->{password_hash};
    problem_ok(at()->put('/users/me/password', {current_password => $WRONG, new_password => new_password()},
                         cookie => $cookie),
               401, 'invalid_credentials', 're-check account: PUT /users/me/password, wrong password');
    problem_ok(at()->del('/users/me', json => {password => $WRONG}, cookie => $cookie),
               401, 'invalid_credentials', 're-check account: DELETE /users/me, wrong password');
    my $r = at()->post('/users/me/email', {new_email => unique_email('new'), password => $f->{password}},
                       cookie => $cookie);
    limited_ok($r, 're-check account: POST /users/me/email, the third for the account');
    nothing_done_ok($r, '... ');
    limited_ok(at()->put('/users/me/password', {current_password => $f->{password},
                                                new_password => new_password()}, cookie => $cookie),
               're-check account: PUT /users/me/password with the right password');
    limited_ok(at()->del('/users/me', json => {password => $f->{password}}, cookie => $cookie),
               're-check account: DELETE /users/me with the right password');
    is(at()->login($f->{email}, $f->{password})->code, 200,
       're-check account: a sign-in by email counts under the name typed, not the user: 200');
    ok(user_row($f->{email}), '... the account is still there');
    is(user_row($f->{email})->{password_hash}, $hash, '... with its password');
    is(count_where("event = 'login_failure' AND user_id = " . sql_str($u->{id})), 2,
       're-check account: two password checks');
}

{
    my $ip = random_ipv4();
    my @acc = map { [account()] } 1 .. 3;
    problem_ok(at($ip)->put('/users/me/password', {current_password => $WRONG, new_password => new_password()},
                            cookie => session_cookie($acc[0][0])),
               401, 'invalid_credentials', 're-check ip: a wrong password (account 1)');
    problem_ok(at($ip)->del('/users/me', json => {password => $WRONG}, cookie => session_cookie($acc[1][0])),
               401, 'invalid_credentials', 're-check ip: a wrong password (account 2)');
    is(at($ip)->login(unique_email('nobody'), $WRONG)->code, 401, 're-check ip: a sign-in, third');
    limited_ok(at($ip)->put('/users/me/password', {current_password => $acc[2][1]{password},
                                                   new_password => new_password()},
                            cookie => session_cookie($acc[2][0])),
               're-check ip: the fourth from the address (account 3, right password)');
}

# ---- fixed windows (vhost shortwindow: login 2/3s ip) --------------------------------------

{
    my $ip = random_ipv4();
    my $c = xff_client('shortwindow', $ip);
    my @codes = map { $c->login(unique_email('nobody'), $WRONG)->code } 1 .. 2;
    is("@codes", '401 401', 'login 2/3s: two sign-ins');
    limited_ok($c->login(unique_email('nobody'), $WRONG), 'login 2/3s: the third', 3);
    # Keep asking: refusals count but do not extend the window, so it ends.
    my ($opened, $refused) = (0, 0);
    my $until = time + 20;
    while (time < $until) {
        my $r = $c->login(unique_email('nobody'), $WRONG);
        if ($r->code != 429) {
            $opened = $r->code;
            last;
        }
        $refused++;
        Time::HiRes::sleep(0.5);
    }
    is($opened, 401, 'login 2/3s: the window ends although refused requests kept coming')
        or diag("$refused refusals");
    is($c->login(unique_email('nobody'), $WRONG)->code, 401, '... the new window allows a second');
    limited_ok($c->login(unique_email('nobody'), $WRONG), '... and refuses the third', 3);
    my $rl = rate_rows('ip = ' . sql_str($ip));
    is(scalar @$rl, 2, 'login 2/3s: one rate_limited row per window') or diag(json_enc($rl));
    detail_ok($rl->[0], {class => 'login', key => 'ip', limit => 2, window => 3}, 'login 2/3s');
}

# ---- register ----------------------------------------------------------------------------

{
    my $ip = random_ipv4();
    my @codes = map { (at($ip)->register())[0]->code } 1 .. 3;
    is("@codes", '201 201 201', 'register ip 3/1h: three accounts from one address');
    my ($r4, $f4) = at($ip)->register();
    limited_ok($r4, 'register ip: the fourth');
    nothing_done_ok($r4, 'register ip: the fourth');
    ok(!user_row($f4->{email}), '... no account');
    my $rl = rate_rows('ip = ' . sql_str($ip));
    is(scalar @$rl, 1, 'register ip: one rate_limited row') or diag(json_enc($rl));
    detail_ok($rl->[0], {class => 'register', key => 'ip', limit => 3, window => 3600}, 'register ip');
    my ($r5) = at()->register(email => $f4->{email}, password => $f4->{password});
    is($r5->code, 201, '... the refused address registers from another client address');
}

# A body without its required fields is answered before the check, and is not counted.
{
    my $ip = random_ipv4();
    my @codes = map { at($ip)->post('/auth/register', {website => undef})->code } 1 .. 4;
    is("@codes", '422 422 422 422', 'register ip: four bodies without the required fields: 422');
    problem_ok(at($ip)->post('/auth/register', undef, body => '{"email":'), 400, 'invalid_json',
               'register ip: broken JSON');
    @codes = map { (at($ip)->register())[0]->code } 1 .. 3;
    is("@codes", '201 201 201', '... were not counted: three accounts from the address');
    limited_ok((at($ip)->register())[0], '... then the fourth is refused');
}

# Per address, normalised: whether the address has an account or not.
{
    my $email = unique_email('regacc');
    is((at()->register(email => $email))[0]->code, 201, 'register account 2/1h: 201');
    problem_ok((at()->register(email => uc $email))[0], 409, 'email_taken',
               'register account: the address again (upper case), another client address');
    my ($r3) = at()->register(email => ucfirst $email);
    limited_ok($r3, 'register account: the third for the address');
    my $rl = rate_rows('lower(login) = ' . sql_str($email));
    is(scalar @$rl, 1, 'register account: one rate_limited row') or diag(json_enc($rl));
    detail_ok($rl->[0], {class => 'register', key => 'account', limit => 2, window => 3600},
              'register account');

}

# ---- forgot-password and reset-password ------------------------------------------------------

sub forgot_at { at($_[0])->post('/auth/forgot-password', {email => $_[1]}) }

{
    my $ip = random_ipv4();
    my ($r0, $known) = client()->register();
    my @codes = map { forgot_at($ip, unique_email('nobody'))->code } 1 .. 3;
    is("@codes", '202 202 202', 'forgot ip 3/1h: three requests from one address');
    my $r4 = forgot_at($ip, $known->{email});
    limited_ok($r4, 'forgot ip: the fourth (a known address)');
    nothing_done_ok($r4, 'forgot ip: the fourth');
    my $rl = rate_rows('ip = ' . sql_str($ip));
    is(scalar @$rl, 1, 'forgot ip: one rate_limited row') or diag(json_enc($rl));
    detail_ok($rl->[0], {class => 'forgot', key => 'ip', limit => 3, window => 3600}, 'forgot ip');
    mail_barrier('forgot ip');
    no_mail_ok('forgot ip: the refused request', to => $known->{email}, template => 'reset_password');
}

{
    my ($r0, $f) = client()->register();
    is(forgot_at(undef, $f->{email})->code, 202, 'forgot account 2/1h: a known address');
    is(forgot_at(undef, uc $f->{email})->code, 202, '... again in upper case, another client address');
    my $r3 = forgot_at(undef, $f->{email});
    limited_ok($r3, 'forgot account: the third for the address');
    nothing_done_ok($r3, 'forgot account: the third');
    mail_ok('forgot account: the first reset mail', to => $f->{email}, template => 'reset_password');
    mail_ok('forgot account: the second reset mail', to => $f->{email}, template => 'reset_password');
    mail_barrier('forgot account');
    no_mail_ok('forgot account: no third reset mail', to => $f->{email}, template => 'reset_password');
    is(count_where("event = 'password_reset_requested' AND lower(login) = " . sql_str($f->{email})), 2,
       'forgot account: two requests recorded');
    my $rl = rate_rows('lower(login) = ' . sql_str($f->{email}));
    is(scalar @$rl, 1, 'forgot account: one rate_limited row') or diag(json_enc($rl));
    detail_ok($rl->[0], {class => 'forgot', key => 'account', limit => 2, window => 3600},
              'forgot account');

    my $ghost = unique_email('ghost');
    my @codes = map { forgot_at(undef, $_)->code } ($ghost, uc $ghost);
    is("@codes", '202 202', 'forgot account, an unknown address: 202 twice');
    limited_ok(forgot_at(undef, $ghost), 'forgot account, an unknown address: the third');
}

# reset-password counts per client address (forgot class), not per account.
{
    my ($r0, $f) = client()->register();
    client()->post('/auth/forgot-password', {email => $f->{email}});
    my $m = mail_ok('reset ip: a reset mail (from the main server)', to => $f->{email},
                    template => 'reset_password');
    my $ip = random_ipv4();
    my @codes = map { at($ip)->post('/auth/reset-password', {token => random_token(),
                                                             password => new_password()})->code }
        1 .. 3;
    is("@codes", '400 400 400', 'reset ip 3/1h: three unknown tokens from one address');
    my $new = new_password();
    my $r = at($ip)->post('/auth/reset-password', {token => $m->{token}, password => $new});
    limited_ok($r, 'reset ip: the fourth, with a good token');
    nothing_done_ok($r, 'reset ip: the fourth');
    is(client()->login($f->{email}, $f->{password})->code, 200, '... the password is unchanged');
    my $rl = rate_rows('ip = ' . sql_str($ip));
    is(scalar @$rl, 1, 'reset ip: one rate_limited row') or diag(json_enc($rl));
    detail_ok($rl->[0], {class => 'forgot', key => 'ip', limit => 3, window => 3600}, 'reset ip');
    is(at()->post('/auth/reset-password', {token => $m->{token}, password => $new})->code, 200,
       '... the token was not spent: it works from another address');

    @codes = map { at()->post('/auth/reset-password', {token => random_token(),
                                                       password => new_password()})->code } 1 .. 4;
    is("@codes", '400 400 400 400', 'reset-password has no account key: four from four addresses');
}

# ---- verify-email and resend ---------------------------------------------------------------

{
    my ($c, $f, $u) = account();
    my $m = mail_ok('verify ip: the registration mail', to => $f->{email}, template => 'verify_email');
    my $ip = random_ipv4();
    my @codes = map { at($ip)->post('/auth/verify-email', {token => random_token()})->code } 1 .. 3;
    is("@codes", '400 400 400', 'verify ip 3/1h: three unknown tokens from one address');
    my $r = at($ip)->post('/auth/verify-email', {token => $m->{token}});
    limited_ok($r, 'verify ip: the fourth, with a good token');
    nothing_done_ok($r, 'verify ip: the fourth');
    ok(!defined user_row($f->{email})->{email_verified_at}, '... the address is not verified');
    my $rl = rate_rows('ip = ' . sql_str($ip));
    is(scalar @$rl, 1, 'verify ip: one rate_limited row') or diag(json_enc($rl));
    detail_ok($rl->[0], {class => 'verify', key => 'ip', limit => 3, window => 3600}, 'verify ip');
    is(at()->post('/auth/verify-email', {token => $m->{token}})->code, 200,
       '... the token works from another address');

    @codes = map { at()->post('/auth/verify-email', {token => random_token()})->code } 1 .. 4;
    is("@codes", '400 400 400 400', 'verify-email has no account key: four from four addresses');
}

{
    my ($c, $f, $u) = account();
    mail_ok('resend account: the registration mail', to => $f->{email}, template => 'verify_email');
    my $cookie = session_cookie($c);
    my @codes = map { at()->post('/auth/verify-email/resend', undef, cookie => $cookie)->code } 1 .. 2;
    is("@codes", '202 202', 'resend account 2/1h: twice, from two addresses');
    my $r = at()->post('/auth/verify-email/resend', undef, cookie => $cookie);
    limited_ok($r, 'resend account: the third for the signed-in user');
    nothing_done_ok($r, 'resend account: the third');
    mail_ok('resend account: the first new mail', to => $f->{email}, template => 'verify_email');
    mail_ok('resend account: the second new mail', to => $f->{email}, template => 'verify_email');
    mail_barrier('resend account');
    no_mail_ok('resend account: no third new mail', to => $f->{email}, template => 'verify_email');
    my $rl = rate_rows('user_id = ' . sql_str($u->{id}));
    is(scalar @$rl, 1, 'resend account: one rate_limited row for the user') or diag(json_enc($rl));
    detail_ok($rl->[0], {class => 'verify', key => 'account', limit => 2, window => 3600},
              'resend account');
    is(client()->post('/auth/verify-email/resend', undef, cookie => $cookie)->code, 202,
       '... the main server (AuthsvcRateLimit verify off) does not limit it');
}

# ---- bad input -----------------------------------------------------------------------------

# Broken or incomplete bodies are answered before the check and do not count.
{
    my $ip = random_ipv4();
    my $c = at($ip);
    problem_ok($c->post('/auth/login', undef, body => '{"login":'), 400, 'invalid_json',
               'login ip: broken JSON');
    problem_ok($c->post('/auth/login', undef, body => 'login=a&password=b',
                        ctype => 'application/x-www-form-urlencoded'),
               415, 'unsupported_media_type', 'login ip: a form post');
    my $p = problem_ok($c->post('/auth/login', {login => 'someone@example.org'}), 422,
                       'validation_failed', 'login ip: no password');
    fields_ok($p, {password => 'required'}, 'login ip: no password');
    $p = problem_ok($c->post('/auth/login', {login => 42, password => $WRONG}), 422,
                    'validation_failed', 'login ip: a number as login');
    fields_ok($p, {login => 'wrong_type'}, 'login ip: a number as login');
    my @codes = map { at($ip)->login(unique_email('nobody'), $WRONG)->code } 1 .. 3;
    is("@codes", '401 401 401', '... none of them counted: three sign-ins from the address');
    limited_ok(at($ip)->login(unique_email('nobody'), $WRONG), '... then the fourth is refused');
    problem_ok(at($ip)->post('/auth/forgot-password', {email => 'not-an-email'}), 422,
               'validation_failed', 'forgot-password from the address: an invalid address');
}

# Another class has counters of its own.
{
    my $ip = random_ipv4();
    is(at($ip)->login(unique_email('nobody'), $WRONG)->code, 401, 'classes: a sign-in') for 1 .. 3;
    limited_ok(at($ip)->login(unique_email('nobody'), $WRONG), 'classes: login is used up');
    is(forgot_at($ip, unique_email('nobody'))->code, 202, 'classes: forgot-password from the address');
    is((at($ip)->register())[0]->code, 201, 'classes: register from the address');
    is(at($ip)->post('/auth/verify-email', {token => random_token()})->code, 400,
       'classes: verify-email from the address');
}

done_testing();
