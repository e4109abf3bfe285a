# Remember this device (issue 11): after the second step with "remember_device": true
# (the checkbox of M/mfa), AuthsvcMFARememberDays on (vhost remember: 30 days) sets a
# device cookie (the session cookie's name + "_device"); a later password sign-in of the
# same user from that browser skips the second step (amr "pwd rdev", mfa_at set, audit
# login_success {remembered_device}). Another user's cookie, garbage, an expired or
# forgotten device, a changed password, MFA turned off and the directive at 0 (vhost
# mfa) all bring the prompt back. GET/DELETE /users/me/devices[/{id}], the account page
# block, and the rows going with the account.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $M = '/api';
my $DEV = 'authsvc_device';
my $B64_43 = qr/^[A-Za-z0-9_-]{43}$/;

# Accept a code of any step again: the tests need not wait for the next time step.
sub code_for {
    my ($a) = @_;
    db_do('UPDATE users SET totp_last_step = 0 WHERE id = ' . sql_str($a->{u}{id}));
    $a->{last_step} = undef;
    return mfa_code($a);
}

sub devices_of {
    my ($uid) = @_;
    return db_rows('SELECT * FROM remembered_devices WHERE user_id = ' . sql_str($uid));
}

# Both steps of a sign-in with a code and the given remember_device (a fresh client on
# the account's vhost unless client => C). Returns the client and the second response.
sub second_step {
    my ($a, $remember, %o) = @_;
    my ($c, $res, $token) = mfa_start($a, %o);
    die 'step one: ' . $res->status_line . "\n" unless $res->code == 401 && defined $token;
    my %flag = defined $remember ? (remember_device => $remember) : ();
    $res = $c->post('/auth/login/mfa', {mfa_token => $token, code => code_for($a), %flag});
    return ($c, $res);
}

# A password sign-in of the account by client c: 'session' (200), 'prompt' (401
# mfa_required) or the status line.
sub password_step {
    my ($c, $a, $password) = @_;
    delete $c->jar->{authsvc};
    my $res = $c->login($a->{f}{email}, $password // $a->{f}{password});
    my $p = json_body($res) || {};
    return ('session', $res) if $res->code == 200;
    return ('prompt', $res) if $res->code == 401 && ($p->{code} // '') eq 'mfa_required';
    return ($res->status_line . ' ' . $res->content, $res);
}

# How a password sign-in of the account by client c went: 'session' or 'prompt'.
sub how_signed { (password_step(@_))[0] }

sub current_session {
    my ($c) = @_;
    my $b = json_body($c->get('/users/me/sessions')) || {};
    my ($s) = grep { $_->{current} } @{ $b->{sessions} || [] };
    return $s || {};
}

my $a = mfa_account(vhost => 'remember', username => unique_username('rmb'));
my $uid = $a->{u}{id};

# ---- remembering -----------------------------------------------------------------------

my ($c, $device_id);
{
    my $res;
    ($c, $res) = second_step($a, JSON::PP::true);
    is($res->code, 200, 'second step with remember_device: true') or diag($res->content);
    my $dc = set_cookies($res)->{$DEV};
    ok($dc && $dc->{value} =~ $B64_43, "... sets $DEV (43 characters of base64url)");
    my $at = $dc ? $dc->{attrs} : {};
    ok($at->{httponly} && lc($at->{samesite} // '') eq 'lax' && ($at->{path} // '') eq '/'
       && ($at->{'max-age'} // '') eq 30 * 86400 && !$at->{secure},
       '... HttpOnly; SameSite=Lax; Path=/; Max-Age=30 days; not Secure over http')
        or diag(join ' | ', $res->header('Set-Cookie'));
    my $rows = devices_of($uid);
    is(scalar @$rows, 1, '... one remembered_devices row');
    my $row = $rows->[0] || {};
    $device_id = $row->{id};
    is($row->{token_hash}, sha256_hex($dc ? $dc->{value} : ''), '... the SHA-256 of the token is stored');
    ok(!grep({ defined && $dc && index($_, $dc->{value}) >= 0 } values %$row), '... not the token itself');
    is(($row->{expires_at} // 0) - ($row->{created_at} // 0), 30 * 86400, '... expires_at = created_at + 30 days');
    is($row->{ip}, '127.0.0.1', '... the address it was remembered from');
    is($row->{user_agent}, 'authsvc-test/1.0', '... and the agent');
    my ($ev) = events_in($res, 'device_remembered');
    is((audit_detail($ev) || {})->{device}, $device_id, '... audit: device_remembered {device}');
}

{
    my ($how, $res) = password_step($c, $a);
    is($how, 'session', 'the remembered browser: the password alone signs in');
    my $s = current_session($c);
    is_deeply($s->{methods}, ['pwd', 'rdev'], '... methods ["pwd","rdev"]');
    ok($s->{mfa}, '... the session counts as MFA-passed');
    my ($ev) = events_in($res, 'login_success');
    my $d = audit_detail($ev) || {};
    is($d->{remembered_device}, $device_id, '... audit: login_success {remembered_device}');
    is_deeply($d->{methods}, ['pwd', 'rdev'], '... and its methods');
    ok(!events_in($res, 'mfa_challenge'), '... no mfa_challenge');
    ok(devices_of($uid)->[0]{last_used_at}, '... last_used_at recorded');
    my $cw = client(vhost => 'remember');
    $cw->jar->{$DEV} = $c->jar->{$DEV};
    my $how2 = how_signed($cw, $a, $a->{f}{password} . 'x');
    like($how2, qr/^401 .*invalid_credentials/, '... a wrong password is still wrong');
}

# ---- the list ----------------------------------------------------------------------------

{
    my $res = $c->get('/users/me/devices');
    is($res->code, 200, 'GET /users/me/devices');
    my $list = (json_body($res) || {})->{devices} || [];
    is(scalar @$list, 1, '... one device');
    my $d = $list->[0] || {};
    is($d->{id}, $device_id, '... its id');
    bool_is($d->{current}, 1, '... current (this browser)');
    iso_time_ok($d->{$_}, "... $_") for qw(created_at last_used_at expires_at);
    is($d->{user_agent}, 'authsvc-test/1.0', '... user_agent');
    ok(exists $d->{name} && exists $d->{ip}, '... name and ip');
    ok(!exists $d->{token_hash}, '... no token hash');

    my ($other) = second_step($a, undef);
    my $l2 = (json_body($other->get('/users/me/devices')) || {})->{devices} || [];
    bool_is(($l2->[0] || {})->{current}, 0, '... from another browser: not current');
    problem_ok(client(vhost => 'remember')->get('/users/me/devices'), 401, 'unauthenticated',
               'GET /users/me/devices signed out');
}

# ---- what brings the prompt back -------------------------------------------------------

{
    my ($c2, $res) = second_step($a, undef);
    is($res->code, 200, 'second step without remember_device');
    ok(!set_cookies($res)->{$DEV}, '... no device cookie');
    is(how_signed($c2, $a), 'prompt', '... the next sign-in asks for the code');

    ($c2, $res) = second_step($a, JSON::PP::false);
    ok($res->code == 200 && !set_cookies($res)->{$DEV}, 'remember_device: false: no device cookie');

    for my $bad ('yes', 1, [], {}) {
        my ($c3, $r1, $token) = mfa_start($a);
        $res = $c3->post('/auth/login/mfa', {mfa_token => $token, code => code_for($a),
                                             remember_device => $bad});
        wrong_type_ok($res, 'remember_device',
                      'remember_device: ' . (ref $bad || JSON::PP->new->allow_nonref->encode($bad)));
    }
    is(scalar @{ devices_of($uid) }, 1, '... still one row');
}

my $b = mfa_account(vhost => 'remember', username => unique_username('rmb'));
{
    my $cb = client(vhost => 'remember');
    $cb->jar->{$DEV} = $c->jar->{$DEV};
    my $used = devices_of($uid)->[0]{last_used_at};
    sleep 1;
    is(how_signed($cb, $b), 'prompt', "another user's device cookie: the prompt");
    is(devices_of($uid)->[0]{last_used_at}, $used, '... the device row is not touched');

    for my $garbage ('garbage', random_token(), 'x' x 4000, '%00%ff', '') {
        my $cg = client(vhost => 'remember');
        $cg->jar->{$DEV} = $garbage if length $garbage;
        is(how_signed($cg, $a), 'prompt', 'a device cookie of ' . length($garbage) . ' bytes that is none of ours: the prompt');
    }
    my $cx = client(vhost => 'remember');
    my $res = $cx->post('/auth/login', {login => $a->{f}{email}, password => $a->{f}{password}},
                        cookie => "$DEV=" . $c->jar->{$DEV} . "; $DEV=" . random_token());
    problem_ok($res, 401, 'mfa_required', 'two different device cookies: neither is used');
}

{
    my $cm = client(vhost => 'mfa');
    $cm->jar->{$DEV} = $c->jar->{$DEV};
    is(how_signed($cm, $a), 'prompt', 'AuthsvcMFARememberDays 0 (vhost mfa): a remembered cookie is ignored');
    my ($cm2, $res) = second_step($a, JSON::PP::true, vhost => 'mfa');
    ok($res->code == 200 && !set_cookies($res)->{$DEV}, '... remember_device: true sets no cookie');
    is(scalar @{ devices_of($uid) }, 1, '... and stores no row');
    ok(by_id($cm2->page_get('/account'), 'devices'),
       '... the account page still lists the devices the user has (to forget them)');
    my ($cb) = second_step($b, undef, vhost => 'mfa');
    ok(!by_id($cb->page_get('/account'), 'devices'),
       '... and has no devices block for a user without any');
}

{
    # Remembered for longer than the AuthsvcMFARememberDays now in force (30 on this
    # vhost; say the setting was shortened since): the prompt, though not yet expired.
    my $orig = db_value('SELECT created_at FROM remembered_devices WHERE id = ' . sql_str($device_id));
    db_do('UPDATE remembered_devices SET created_at = ' . (time - 31 * 86400)
          . ' WHERE id = ' . sql_str($device_id));
    is(how_signed($c, $a), 'prompt', 'a device older than the days now in force: the prompt');
    db_do("UPDATE remembered_devices SET created_at = $orig WHERE id = " . sql_str($device_id));
    is(how_signed($c, $a), 'session', '... and within them again: no prompt');
}

{
    db_do('UPDATE remembered_devices SET expires_at = ' . (time - 1) . ' WHERE id = ' . sql_str($device_id));
    is(how_signed($c, $a), 'prompt', 'an expired device: the prompt');
    my $list = (json_body((second_step($a, undef))[0]->get('/users/me/devices')) || {})->{devices};
    is(scalar @{ $list || [1] }, 0, '... and it is not listed');
}

# ---- forgetting ------------------------------------------------------------------------

{
    my ($c1) = second_step($a, JSON::PP::true);
    my ($c2) = second_step($a, JSON::PP::true);
    my ($cb) = second_step($b, JSON::PP::true);
    my $ids = [map { $_->{id} } @{ (json_body($c1->get('/users/me/devices')) || {})->{devices} || [] }];
    is(scalar @$ids, 2, 'two remembered browsers listed (the expired one is not)');
    my ($mine) = grep { $_->{current} } @{ (json_body($c1->get('/users/me/devices')) || {})->{devices} || [] };
    my $b_id = (devices_of($b->{u}{id})->[0] || {})->{id};

    problem_ok($c1->del('/users/me/devices/' . $b_id), 404, 'not_found', "DELETE another user's device");
    problem_ok($c1->del('/users/me/devices/nosuchdevice'), 404, 'not_found', 'DELETE an unknown device');
    problem_ok(client(vhost => 'remember')->del('/users/me/devices/' . $mine->{id}), 401,
               'unauthenticated', 'DELETE signed out');

    my $res = $c1->del('/users/me/devices/' . $mine->{id});
    is($res->code, 204, 'DELETE /users/me/devices/{id} of this browser');
    my $dc = set_cookies($res)->{$DEV};
    ok($dc && ($dc->{value} eq '' || ($dc->{attrs}{'max-age'} // '') eq '0'), '... clears the device cookie');
    my ($ev) = events_in($res, 'device_forgotten');
    my $d = audit_detail($ev) || {};
    ok(($d->{device} // '') eq $mine->{id} && ($d->{reason} // '') eq 'user',
       '... audit: device_forgotten {device, reason: user}');
    is(how_signed($c2, $a), 'session', '... the other remembered browser still skips the code');

    my ($c3) = second_step($a, JSON::PP::true);
    $res = $c2->del('/users/me/devices');
    is($res->code, 204, 'DELETE /users/me/devices');
    is(scalar @{ devices_of($uid) }, 0, '... no row of the user is left');
    ($ev) = events_in($res, 'device_forgotten');
    is((audit_detail($ev) || {})->{count}, 2, '... audit: device_forgotten {count: 2}');
    is(how_signed($c3, $a), 'prompt', '... then the prompt');
    is(how_signed($cb, $b), 'session', "... another user's device stays");
    $res = $c2->del('/users/me/devices');
    ok($res->code == 204 && !events_in($res, 'device_forgotten'), '... again: 204, nothing audited');
}

# ---- revoked by a password change, MFA off ----------------------------------------------

{
    my ($c1) = second_step($a, JSON::PP::true);
    is(how_signed($c1, $a), 'session', 'remembered again');
    my $new = new_password();
    my $res = $c1->put('/users/me/password', {current_password => $a->{f}{password}, new_password => $new});
    is($res->code, 200, 'PUT /users/me/password') or diag($res->content);
    $a->{f}{password} = $new;
    my ($ev) = events_in($res, 'device_forgotten');
    is((audit_detail($ev) || {})->{reason}, 'password_changed', '... audit: device_forgotten {reason: password_changed}');
    is(how_signed($c1, $a), 'prompt', '... the remembered browser is asked for the code');
}

{
    my ($c1) = second_step($a, JSON::PP::true);
    is(how_signed($c1, $a), 'session', 'remembered again');
    my $res = $c1->del('/users/me/mfa', json => {password => $a->{f}{password}, code => code_for($a)});
    is($res->code, 204, 'DELETE /users/me/mfa') or diag($res->content);
    my ($ev) = events_in($res, 'device_forgotten');
    is((audit_detail($ev) || {})->{reason}, 'mfa_disabled', '... audit: device_forgotten {reason: mfa_disabled}');
    my @live = grep { $_->{expires_at} > time } @{ devices_of($uid) };
    is(scalar @live, 0, '... no remembered device left');
    # On again: the old cookie does not skip the new factor.
    my $e = mfa_enroll($c1);
    $a->{secret} = $e->{secret};
    $res = $c1->post('/users/me/mfa/confirm', {code => code_for($a)});
    is($res->code, 200, '... two-step sign-in on again') or diag($res->content);
    is(how_signed($c1, $a), 'prompt', '... the old device cookie: the prompt');
}

{
    my ($c1) = second_step($a, JSON::PP::true);
    db_do('UPDATE remembered_devices SET created_at = (SELECT mfa_enabled_at FROM users WHERE id = '
          . sql_str($uid) . ') - 1 WHERE user_id = ' . sql_str($uid));
    is(how_signed($c1, $a), 'prompt',
       'a device remembered before the present second factor was turned on: the prompt');
    db_do('DELETE FROM remembered_devices WHERE user_id = ' . sql_str($uid));
}

{
    my ($c1) = second_step($a, JSON::PP::true);
    my $tok = random_token();
    my $now = time;
    db_do('INSERT INTO tokens (token_hash, user_id, purpose, email, created_at, expires_at) VALUES ('
          . join(', ', map { sql_str($_) } sha256_hex($tok), $uid, 'reset_password', $a->{f}{email})
          . ", $now, " . ($now + 600) . ')');
    my $new = new_password();
    my $res = client(vhost => 'remember')->post('/auth/reset-password', {token => $tok, password => $new});
    is($res->code, 200, 'POST /auth/reset-password') or diag($res->content);
    $a->{f}{password} = $new;
    my ($ev) = events_in($res, 'device_forgotten');
    is((audit_detail($ev) || {})->{reason}, 'password_changed', '... audit: device_forgotten {reason: password_changed}');
    is(how_signed($c1, $a), 'prompt', '... the remembered browser is asked for the code');
}

{
    my $m = mfa_account(vhost => 'remember', username => unique_username('rmb'));
    my ($cm) = second_step($m, JSON::PP::true);
    my ($admin) = account(vhost => 'remember', roles => 'admin', verified => 1);
    my $res = $admin->del("/admin/users/$m->{u}{id}/mfa");
    is($res->code, 204, 'DELETE /admin/users/{id}/mfa') or diag($res->content);
    is(scalar @{ devices_of($m->{u}{id}) }, 0, '... the remembered devices are gone');
    my ($ev) = events_in($res, 'device_forgotten');
    is((audit_detail($ev) || {})->{reason}, 'mfa_disabled', '... audit: device_forgotten {reason: mfa_disabled}');
}

# ---- pages ----------------------------------------------------------------------------------

{
    my $pc = client(vhost => 'remember');
    my ($res) = $pc->page_submit('/login', {login => $a->{f}{email}, password => $a->{f}{password}});
    redirect_ok($pc, $res, "$M/mfa", 'page sign-in: 303 to M/mfa');
    my $get = $pc->page_get('/mfa');
    my ($box) = html_elements($get, tag => 'input', name => 'remember_device');
    ok($box && ($box->{attrs}{type} // '') eq 'checkbox', 'M/mfa shows the "remember this device" checkbox');
    like(html_text(by_id($get, 'mfa-form')) // '', qr/Remember this device for 30 days/, '... for 30 days');
    ($res) = $pc->page_submit('/mfa', {code => code_for($a), remember_device => '1'});
    redirect_ok($pc, $res, "$M/account", 'POST M/mfa with the box ticked');
    ok((set_cookies($res)->{$DEV} || {})->{value}, '... sets the device cookie');

    my $html = page_answer_ok($pc->page_get('/account'), 200, 'profile-form', 'GET M/account');
    ok(by_id($html, 'devices'), '... a "Remembered devices" block');
    my @rows = html_elements($html, tag => 'tr', class => 'device');
    is(scalar @rows, 1, '... one device row');
    like($rows[0] ? $rows[0]{inner} : '', qr/This device/, '... marked "This device"');
    ok(by_id($html, 'forget-devices-form'), '... a "Forget all devices" form');

    delete $pc->jar->{authsvc};
    ($res) = $pc->page_submit('/login', {login => $a->{f}{email}, password => $a->{f}{password}});
    redirect_ok($pc, $res, "$M/account", 'page sign-in from the remembered browser: no M/mfa');
    $html = $pc->page_get('/account');

    my $other = client(vhost => 'mfa');
    ($res) = $other->page_submit('/login', {login => $a->{f}{email}, password => $a->{f}{password}});
    my $g = $other->page_get('/mfa');
    ok(!html_elements($g, tag => 'input', name => 'remember_device'), 'M/mfa on a server with 0 days: no checkbox');

    my ($f) = html_elements($html, tag => 'form', class => 'forget-form');
    my %form = map { ($_->{attrs}{name} => $_->{attrs}{value}) }
               grep { defined $_->{attrs}{name} } html_elements($f ? $f->{inner} : '', tag => 'input');
    $res = $pc->page_post('/account/devices/forget', \%form);
    redirect_ok($pc, $res, "$M/account?done=device_forgotten", 'POST M/account/devices/forget');
    $html = $pc->page_get("/account?done=device_forgotten");
    like(html_text(by_id($html, 'notice')) // '', qr/asked for a code again/, '... the notice');
    $res = $pc->page_post('/account/devices/forget', {csrf_token => $form{csrf_token}, id => 'nosuchdevice'});
    is($res->code, 404, '... an unknown device: 404');
    $res = $pc->page_post('/account/devices/forget', {csrf_token => $form{csrf_token}, id => ''});
    is($res->code, 422, '... no device named: 422');
    like(html_text(by_id($res, 'device-error')) // '', qr/is required/, '... "The device to forget is required"');
    $res = $pc->page_post('/account/devices/forget-all', {id => 'x'});
    is($res->code, 403, '... forget-all without a CSRF token: 403');
    delete $pc->jar->{authsvc};
    ($res) = $pc->page_submit('/login', {login => $a->{f}{email}, password => $a->{f}{password}});
    redirect_ok($pc, $res, "$M/mfa", '... then the sign-in asks for the code again');
}

# ---- Secure, Strict ---------------------------------------------------------------------------

{
    my $s = mfa_account(vhost => 'remembersecure', username => unique_username('rmb'));
    my ($cs, $res) = second_step($s, JSON::PP::true);
    my $dc = set_cookies($res)->{'__Host-authsvc_device'};
    my $at = $dc ? $dc->{attrs} : {};
    ok($dc && $at->{secure} && lc($at->{samesite} // '') eq 'strict' && ($at->{'max-age'} // '') eq 86400,
       'AuthsvcCookieSecure On, SameSite Strict, 1 day: __Host-authsvc_device; Secure; SameSite=Strict; Max-Age=86400')
        or diag(join ' | ', $res->header('Set-Cookie'));
    delete $cs->jar->{'__Host-authsvc'};
    $res = $cs->login($s->{f}{email}, $s->{f}{password});
    is($res->code, 200, '... and it skips the second step');
}

# ---- the account goes, its devices with it ---------------------------------------------------

{
    my ($cb) = second_step($b, JSON::PP::true);
    ok(scalar @{ devices_of($b->{u}{id}) } >= 1, 'b has remembered devices');
    my $res = $cb->del('/users/me', json => {password => $b->{f}{password}});
    is($res->code, 204, 'DELETE /users/me') or diag($res->content);
    is(scalar @{ devices_of($b->{u}{id}) }, 0, '... its remembered_devices rows are gone');
}

done_testing();
