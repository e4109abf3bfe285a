# New-device sign-in alerts (issue 11, AuthsvcNewDeviceWindow): a sign-in from a device
# (device cookie, or coarse agent + network) the account has not used within the window
# mails new_device and audits new_device; the device of the registration is known.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $V = 'newdevice';
my $queued0 = mails_queued();
my $FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0';
my $FIREFOX2 = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0';
my $SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 '
           . '(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';

# The account's new_device audit rows: written in the transaction that queues the mail,
# so counting them needs no waiting (one test below waits for the mail itself).
sub alerts {
    my ($email) = @_;
    my $u = user_row($email) or return -1;
    return scalar @{ audit_events($u->{id}, 'new_device') };
}

# Every alert queued a mail: as many new_device outbox rows as audit rows.
sub mails_queued {
    return db_value("SELECT COUNT(*) FROM mail_outbox WHERE template = 'new_device'");
}

sub login_ok {
    my ($c, $f, $name) = @_;
    my $res = $c->login($f->{email}, $f->{password});
    is($res->code, 200, "$name: signed in") or diag($res->content);
    return $res;
}

# ---- off: nothing recorded, nothing sent -------------------------------------------------------

{
    my ($c, $f) = AuthsvcTest::registered();
    login_ok(client(agent => $FIREFOX), $f, 'off');
    is(alerts($f->{email}), 0, 'off: no alert');
    is(db_value('SELECT COUNT(*) FROM devices_seen WHERE user_id = '
                . sql_str(user_row($f->{email})->{id})), 0, 'off: nothing recorded');
}

# ---- the registration's device; a new agent; the device cookie ------------------------------

{
    my ($c, $f) = AuthsvcTest::registered(vhost => $V);
    my $uid = user_row($f->{email})->{id};
    my $rows = db_rows('SELECT * FROM devices_seen WHERE user_id = ' . sql_str($uid));
    # The registering client sent no cookie: its new device cookie gets a row once it
    # comes back with it (a client that keeps no cookies would add one per sign-in).
    is(scalar @$rows, 2, 'registration without cookies: the account, its agent + network');
    ok(!(grep { $_->{device_key} !~ /^(?:[0-9a-f]{64}|account)$/ } @$rows), 'keys are hashes');
    ok($c->jar->{'authsvc-device'}, 'registration sets the device cookie');
    my $dc = set_cookies(login_ok(client(vhost => $V), $f, 'a browser without the cookie'))
        ->{'authsvc-device'} || {attrs => {}};
    like($dc->{value} // '', qr/^[A-Za-z0-9_-]{43}$/, 'the device cookie: 32 random bytes');
    ok($dc->{attrs}{httponly}, 'the device cookie: HttpOnly');
    is($dc->{attrs}{'max-age'}, 400 * 86400, 'the device cookie: 400 days');
    is($dc->{attrs}{path}, '/', 'the device cookie: Path=/');

    login_ok($c, $f, 'the same device');
    is(alerts($f->{email}), 0, 'the same device: no alert');
    login_ok(client(vhost => $V), $f, 'same agent and network, no cookie');
    is(alerts($f->{email}), 0, 'same agent and network: no alert');

    # The device cookie is the same browser whatever it says or where it is.
    my $moved = xff_client($V, random_ipv4(), agent => $FIREFOX);
    $moved->jar->{'authsvc-device'} = $c->jar->{'authsvc-device'};
    login_ok($moved, $f, 'the known cookie on another network and agent');
    is(alerts($f->{email}), 0, 'a known cookie: no alert');

    my $ip = random_ipv4();
    my $new = xff_client($V, $ip, agent => $FIREFOX);
    my $res = login_ok($new, $f, 'a new browser');
    is(alerts($f->{email}), 1, 'a new browser: an alert');
    my ($row) = events_in($res, 'new_device');
    my $d = audit_detail($row) || {};
    is($d->{agent}, 'Firefox on Windows', 'audit: the coarse agent');
    (my $net = $ip) =~ s/\.\d+$/.0\/24/;
    is($d->{network}, $net, 'audit: the /24');
    my $m = mail_ok('a new browser', to => $f->{email}, template => 'new_device');
    like($m->{text}, qr/Firefox on Windows/, 'mail: the agent');
    like($m->{text}, qr/\Q$ip\E/, 'mail: the address');
    like($m->{text}, qr{https://accounts\.example\.test/api/forgot-password}, 'mail: the reset link');
    like($m->{html}, qr{href="https://accounts\.example\.test/api/forgot-password"},
         'mail (HTML): the reset link');

    login_ok($new, $f, 'the new browser again');
    is(alerts($f->{email}), 1, 'the new browser again: no alert');
    login_ok(xff_client($V, $ip, agent => $FIREFOX2), $f, 'a browser update, no cookie');
    is(alerts($f->{email}), 1, 'a version update on the same network: no alert');

    # API clients keep no cookies: one alert per agent and network.
    my $ip2 = random_ipv4();
    login_ok(xff_client($V, $ip2, agent => $SAFARI), $f, 'API client');
    login_ok(xff_client($V, $ip2, agent => $SAFARI), $f, 'API client again');
    is(alerts($f->{email}), 2, 'a cookie-less client on a new network: one alert');
    my $count = sub { db_value('SELECT count(*) AS n FROM devices_seen WHERE user_id = ' . sql_str($uid)) };
    my $before = $count->();
    login_ok(xff_client($V, $ip2, agent => $SAFARI), $f, 'API client a third time');
    is($count->(), $before, '... adds no row (no cookie kept, same agent and network)');
    my ($a2) = @{ audit_events($uid, 'new_device') }[-1];
    is((audit_detail($a2) || {})->{agent}, 'Safari on iOS', 'Safari on an iPhone');

    my $v6 = random_ipv6_net();
    login_ok(xff_client($V, random_ipv6($v6), agent => $SAFARI), $f, 'IPv6');
    login_ok(xff_client($V, random_ipv6($v6), agent => $SAFARI), $f, 'IPv6, same /64');
    is(alerts($f->{email}), 3, 'IPv6: one alert per /64');
    my ($a3) = @{ audit_events($uid, 'new_device') }[-1];
    is((audit_detail($a3) || {})->{network}, "$v6\::/64", 'IPv6: the /64');

    # Garbage in the device cookie is no device, and no error.
    my $junk = xff_client($V, random_ipv4(), agent => $FIREFOX);
    $junk->jar->{'authsvc-device'} = 'x' x 10;
    login_ok($junk, $f, 'a garbage device cookie');
    is(alerts($f->{email}), 4, 'a garbage cookie on a new network: an alert');
}

# ---- the rows go with the account --------------------------------------------------------------

{
    my ($c, $f) = AuthsvcTest::registered(vhost => $V);
    my $uid = user_row($f->{email})->{id};
    login_ok($c, $f, 'before deletion');
    ok(db_value('SELECT COUNT(*) FROM devices_seen WHERE user_id = ' . sql_str($uid)) > 0,
       'devices recorded');
    my $res = $c->del('/users/me', json => {password => $f->{password}});
    is($res->code, 204, 'account deleted') or diag($res->content);
    is(db_value('SELECT COUNT(*) FROM devices_seen WHERE user_id = ' . sql_str($uid)), 0,
       'its devices are gone');
}

# ---- an account from before this feature learns its first device quietly -------------------

{
    my ($c, $f) = AuthsvcTest::registered();    # default server: alerts off, nothing recorded
    login_ok(xff_client($V, random_ipv4(), agent => $FIREFOX), $f, 'first sign-in ever');
    is(alerts($f->{email}), 0, 'nothing known yet: no alert');
    login_ok(xff_client($V, random_ipv4(), agent => $SAFARI), $f, 'then a new device');
    is(alerts($f->{email}), 1, 'then a new device: an alert');
}

# ---- the window ------------------------------------------------------------------------------

{
    my ($c, $f) = AuthsvcTest::registered(vhost => 'newdevshort');
    login_ok($c, $f, 'within the window');
    is(alerts($f->{email}), 0, 'within the window: no alert');
    sleep 4;
    login_ok($c, $f, 'after the window');
    is(alerts($f->{email}), 1, 'unseen for longer than the window: an alert');
    login_ok($c, $f, 'seen again');
    is(alerts($f->{email}), 1, 'seen again: no alert');
}

# ---- the alert comes with the session: after the second factor, after an emailed code ----------

{
    my $a = mfa_account(vhost => 'newdevmfa', verified => 1);
    my $email = $a->{f}{email};
    is(alerts($email), 0, 'MFA: the enrolling device is known');
    my ($c, $res, $token) = mfa_start($a, client => xff_client('newdevmfa', random_ipv4(),
                                                              agent => $FIREFOX));
    is($res->code, 401, 'MFA: step one');
    is(alerts($email), 0, 'MFA: no alert before the second factor');
    $res = $c->post('/auth/login/mfa', {mfa_token => $token, code => mfa_code($a)});
    is($res->code, 200, 'MFA: step two') or diag($res->content);
    is(alerts($email), 1, 'MFA: the alert with the session');

    my ($rc, $f) = AuthsvcTest::registered(vhost => 'newdevmfa', verified => 1);
    my $ec = xff_client('newdevmfa', random_ipv4(), agent => $SAFARI);
    $res = $ec->post('/auth/email-code', {email => $f->{email}});
    is($res->code, 202, 'email code: asked');
    my $m = mail_ok('email code', to => $f->{email}, template => 'email_code');
    my ($code) = ($m->{text} // '') =~ /^[ \t]+([0-9]{6})[ \t]*$/m;
    $res = $ec->post('/auth/email-code/verify', {email => $f->{email}, code => $code // ''});
    is($res->code, 200, 'email code: signed in') or diag($res->content);
    is(alerts($f->{email}), 1, 'email code from a new device: an alert');
}

is(mails_queued() - $queued0, 8, 'a mail queued for each of the 8 alerts');

done_testing();
