# The account page (issue 8): GET M/account and each of its POSTs (profile, password,
# email, verify, sessions/revoke, sessions/revoke-others, mfa, mfa/confirm,
# mfa/recovery-codes, mfa/disable). A success answers 303 to M/account?done=WHAT, or 200
# with the page when it has something to show once (QR code, recovery codes); a failure
# shows the page again under the catalogue's status with the error; signed out, every
# POST goes to M/login?return_to=M/account; an action that needs a fresh sign-in goes to
# M/login?prompt=reauthenticate&return_to=M/account. Vhosts: pages (MFA, the default
# AuthsvcFreshAuthMaxAge), mfafresh (3s), the main server (no MFA key).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $M = '/api';
my $V = 'pages';
my $LINK = 'https://accounts.example.test/api';    # AuthsvcPublicURL

sub account_html {
    my ($c, $name, $query) = @_;
    return page_answer_ok($c->page_get('/account' . ($query // '')), 200, 'profile-form', $name);
}

# POST the form FORM_ID of the client's account page (its action, its hidden inputs and
# these fields); to => PATH for a form the page does not show.
sub act {
    my ($c, $form_id, $fields, %o) = @_;
    my ($res) = $c->page_submit('/account', $fields, form => $form_id, %o);
    return $res;
}

sub done_ok {
    my ($c, $res, $what, $name) = @_;
    redirect_ok($c, $res, "$M/account?done=$what", $name);
}

sub me_code {
    my ($cookie, $vhost) = @_;
    return client(vhost => $vhost // $V)->get('/users/me', cookie => "authsvc=$cookie")->code;
}

sub current_session_id {
    my ($c) = @_;
    my $b = json_body($c->get('/users/me/sessions')) || {};
    my ($s) = grep { $_->{current} } @{ $b->{sessions} || [] };
    return ($s || {})->{id};
}

# The account page's failure: the page (with its forms) under the catalogue's status.
sub account_failed_ok {
    my ($res, $status, $fields, $name) = @_;
    return page_failed_ok($res, $status, 'profile-form', $fields, $name);
}

# ---- signed out --------------------------------------------------------------------------

{
    my $anon = client(vhost => $V);
    my $res = $anon->page_get('/account');
    my ($path, $q) = loc_split($anon->location($res));
    ok($res->code == 303 && $path eq "$M/login" && ($q->{return_to} // '') eq "$M/account" && !exists $q->{prompt},
       'signed out: GET /account: 303 to M/login?return_to=M/account')
        or diag($res->status_line . ' ' . ($res->header('Location') // ''));
    page_headers_ok($res, 'signed out: GET /account', redirect => 1);

    my $tok = csrf_from($anon->page_get('/login'));
    my ($dead) = account(vhost => $V);
    my $cookie = $dead->jar->{authsvc};
    is($dead->post('/auth/logout')->code, 204, 'a session that then ends');
    for my $path (qw(profile password email verify sessions/revoke sessions/revoke-others
                     mfa mfa/confirm mfa/recovery-codes mfa/disable)) {
        for my $who (['no session', $anon, $tok], ['an ended session', client(vhost => $V), undef]) {
            my ($what, $c, $t) = @$who;
            if (!defined $t) {
                $c->jar->{authsvc} = $cookie;
                $t = csrf_from($c->page_get('/login'));
            }
            $res = $c->page_post("/account/$path", {csrf_token => $t, username => 'x', current_password => 'x',
                                                    new_password => 'Whatever it is 1', new_email => unique_email(),
                                                    password => 'x', id => 'x', code => '123456'});
            my ($p, $qq) = loc_split($c->location($res));
            ok($res->code == 303 && $p eq "$M/login" && ($qq->{return_to} // '') eq "$M/account",
               "$what: POST /account/$path: 303 to M/login?return_to=M/account")
                or diag($res->status_line . ' ' . ($res->header('Location') // ''));
            ok(!session_set_cookie($res), "$what: POST /account/$path: no session cookie");
        }
    }
}

# ---- the page -----------------------------------------------------------------------------------

my $name0 = unique_username('acct');
my ($c, $f, $u) = account(vhost => $V, username => $name0, first_name => 'Ada', last_name => 'Lovelace');
my $verify_mail = mail_ok('the registration\'s verification mail', to => $f->{email}, template => 'verify_email');
{
    my $html = account_html($c, 'GET /account');
    page_structure_ok($html, 'GET /account');
    my @forms = form_ids($html);
    for my $id (qw(profile-form password-form email-form revoke-others-form mfa-begin-form)) {
        ok(grep({ $_ eq $id } @forms), "... has #$id");
    }
    my $tok = csrf_from($html);
    my @toks = map { $_->{attrs}{value} } html_elements($html, tag => 'input', name => 'csrf_token');
    ok(@toks >= 5 && !grep({ ($_ // '') ne $tok } @toks), '... every form carries the same csrf_token');
    my $pf = form_fields($html, 'profile-form') || {};
    is(join('|', map { $pf->{$_} // 'undef' } qw(username first_name last_name)), "$name0|Ada|Lovelace",
       '... the profile form is filled in');
    like(html_text($html), qr/\Q$f->{email}\E/, '... shows the address');
    ok(!grep({ $_ eq 'codes-form' || $_ eq 'mfa-disable-form' || $_ eq 'mfa-confirm-form' } @forms),
       '... no MFA forms but "set up" (MFA is off)');
    my @rows = html_elements($html, tag => 'tr', class => 'session');
    is(scalar @rows, 1, '... one session row');
    ok(!html_elements($rows[0]{inner}, tag => 'form', class => 'revoke-form'), '... the current one has no revoke form');
    my $ev = json_body($c->get('/users/me/events')) || {};
    ok(grep({ ($_->{event} // '') eq 'login_success' } @{ $ev->{events} || [] }), 'GET /users/me/events lists login_success');
    my @li = map { html_text($_->{inner}) } html_elements($html, class => 'event');
    ok(grep({ /\blogin_success\b/ } @li), '... so does the account page\'s events list')
        or diag(join "\n", @li);
    for my $p (qw(current_password new_password)) {
        my ($in) = html_elements($html, tag => 'input', name => $p);
        is(($in || {})->{attrs}{autocomplete}, $p eq 'new_password' ? 'new-password' : 'current-password',
           "... $p: autocomplete=" . ($p eq 'new_password' ? 'new-password' : 'current-password'));
    }
    ok(!grep({ ($_->{attrs}{name} // '') =~ /password/ && lc($_->{attrs}{type} // '') ne 'password' }
             html_elements($html, tag => 'input')), '... every password input is type=password');
}

# No MFA key: the page offers no MFA; POST /account/mfa is refused with the page.
{
    my ($mc) = account();
    my $html = page_answer_ok($mc->page_get('/account'), 200, 'profile-form', 'main server (no key): GET /account');
    ok(!grep({ /^mfa-|^codes-form$/ } form_ids($html)), '... no MFA form (mfa_available false)')
        or diag('forms: ' . join ' ', form_ids($html));
    my $res = act($mc, 'profile-form', {}, to => '/account/mfa');
    account_failed_ok($res, 503, undef, '... POST /account/mfa: 503 mfa_unavailable');
}

# ---- profile ---------------------------------------------------------------------------------------

{
    my $new = unique_username('acct2');
    my $fn = q{<script>alert("x")</script> & 'co'};
    my $res = act($c, 'profile-form', {username => $new, first_name => $fn, last_name => ''});
    done_ok($c, $res, 'profile', 'POST /account/profile');
    my $row = user_row($f->{email});
    is($row->{username}, $new, '... the username is saved');
    is($row->{first_name}, $fn, '... so is the first name, as typed');
    ok(!defined $row->{last_name}, '... an empty last name is none');
    my $html = account_html($c, 'GET /account?done=profile', '?done=profile');
    ok(defined by_id($html, 'notice'), '... says it is saved (#notice)');
    is((form_fields($html, 'profile-form') || {})->{first_name}, $fn, '... the form shows the new first name');
    unlike($html, qr/<script>alert/, '... escaped');

    my ($other) = client(vhost => $V)->register(username => unique_username('taken'));
    my $taken = (json_body($other) || {})->{user}{username};
    for my $case ([{username => 'ab', first_name => 'X'}, 422, ['username'], 'a username of 2 characters'],
                  [{username => 'a b c', first_name => 'X'}, 422, ['username'], 'a username with spaces'],
                  [{username => $new, first_name => 'y' x 101}, 422, ['first_name'], 'a first name of 101 characters'],
                  [{username => $new, last_name => "a\x{7}b"}, 422, ['last_name'], 'a control character in the last name'],
                  [{username => uc $taken, first_name => 'X'}, 409, undef, 'another account\'s username']) {
        my ($fields, $status, $errs, $what) = @$case;
        my $res = act($c, 'profile-form', $fields);
        account_failed_ok($res, $status, $errs, "POST /account/profile, $what");
        my $r = user_row($f->{email});
        is(join('|', $r->{username} // '', $r->{first_name} // ''), "$new|$fn", "... $what: nothing saved");
    }
    $f->{username} = $new;
}

# ---- password -----------------------------------------------------------------------------------------

{
    my $other = client(vhost => $V, agent => 'other-device/1.0');
    is($other->login($f->{email}, $f->{password})->code, 200, 'a second session');
    my $old = $c->jar->{authsvc};
    my $hash = user_row($f->{email})->{password_hash};

    my $typed = 'Not the password 1';
    my $new = new_password();
    my $res = act($c, 'password-form', {current_password => $typed, new_password => $new});
    my $html = account_failed_ok($res, 401, undef, 'POST /account/password, a wrong current password');
    unlike($html, qr/\Q$typed\E|\Q$new\E/, '... no password on the page');
    is(user_row($f->{email})->{password_hash}, $hash, '... nothing changed');
    is(me_code($old), 200, '... the session lives');
    $res = act($c, 'password-form', {current_password => $f->{password}, new_password => 'short'});
    account_failed_ok($res, 422, ['new_password'], 'POST /account/password, a short new password');
    is(user_row($f->{email})->{password_hash}, $hash, '... nothing changed');
    $res = act($c, 'password-form', {current_password => $f->{password}, new_password => 'password1234'});
    account_failed_ok($res, 422, ['new_password'], 'POST /account/password, a common password');
    $res = act($c, 'password-form', {current_password => $f->{password}, new_password => ''});
    account_failed_ok($res, 422, ['new_password'], 'POST /account/password, an empty new password');
    $res = act($c, 'password-form', {current_password => '', new_password => $new});
    ok($res->code == 401 || $res->code == 422, 'POST /account/password, an empty current password: 401 or 422')
        or diag($res->status_line);
    ok(defined by_id($res, 'error'), '... with the error');
    is(user_row($f->{email})->{password_hash}, $hash, '... nothing changed');

    $res = act($c, 'password-form', {current_password => $f->{password}, new_password => $new});
    done_ok($c, $res, 'password', 'POST /account/password');
    my $sc = session_set_cookie($res);
    ok($sc && $sc->{value} =~ /^[A-Za-z0-9_-]{43}$/ && $sc->{value} ne $old, '... a new session cookie');
    unlike($res->content, qr/\Q$new\E/, '... no password in the answer');
    is(me_code($c->jar->{authsvc}), 200, '... the new cookie signs in');
    is(me_code($old), 401, '... the old one is dead');
    is($other->get('/users/me')->code, 401, '... so is the other session');
    isnt(user_row($f->{email})->{password_hash}, $hash, '... the password is changed');
    mail_ok('... the password-changed notice', to => $f->{email}, template => 'password_changed');
    $f->{password} = $new;
    $html = account_html($c, 'GET /account?done=password', '?done=password');
    ok(defined by_id($html, 'notice'), '... says so (#notice)');
    is(client(vhost => $V)->login($f->{email}, $new)->code, 200, '... the new password signs in');
}

# ---- email -------------------------------------------------------------------------------------------

{
    my $res = act($c, 'email-form', {new_email => 'not an email', password => $f->{password}});
    account_failed_ok($res, 422, ['new_email'], 'POST /account/email, an invalid address');
    my $to = unique_email('moved');
    my $typed = 'Not the password 2';
    $res = act($c, 'email-form', {new_email => $to, password => $typed});
    my $html = account_failed_ok($res, 401, undef, 'POST /account/email, a wrong password');
    unlike($html, qr/\Q$typed\E/, '... the password is not on the page');
    ok(!@{ outbox_rows('recipient = ' . sql_str($to)) }, '... no mail queued to the new address');

    $res = act($c, 'email-form', {new_email => $to, password => $f->{password}});
    done_ok($c, $res, 'email', 'POST /account/email');
    my $m = mail_ok('... the link to the new address', to => $to, template => 'change_email');
    is(lc user_row($f->{email})->{email}, lc $f->{email}, '... the address is not changed yet');
    my ($t) = ($m->{link} // '') =~ m{^\Q$LINK\E/verify-email\?token=([A-Za-z0-9_-]+)$};
    ok(defined $t, '... a link to M/verify-email?token=T') or diag($m->{link} // 'no link');
    my ($v) = client(vhost => $V)->page_submit('/verify-email?token=' . ($t // ''), {});
    page_answer_ok($v, 200, undef, 'POST /verify-email with it');
    ok(user_row($to), '... the address is changed');
    $f->{email} = $to;
}

# ---- verification mail again --------------------------------------------------------------------------

{
    my ($vc, $vf) = account(vhost => $V);
    mail_ok('a new account\'s verification mail', to => $vf->{email}, template => 'verify_email');
    my $res = act($vc, 'profile-form', {}, to => '/account/verify');
    done_ok($vc, $res, 'verify', 'POST /account/verify');
    my $m = mail_ok('... another verification mail', to => $vf->{email}, template => 'verify_email');
    like($m->{link} // '', qr{^\Q$LINK\E/verify-email\?token=[A-Za-z0-9_-]+$}, '... with a link to the page');
    ok(defined by_id(account_html($vc, 'GET /account?done=verify', '?done=verify'), 'notice'), '... says so');
}

# ---- sessions ------------------------------------------------------------------------------------------

{
    my @others = map { my $o = client(vhost => $V, agent => "device-$_/1.0");
                       is($o->login($f->{email}, $f->{password})->code, 200, "session $_"); $o } 1 .. 3;
    my %sid = map { $_ => current_session_id($others[$_]) } 0 .. 2;
    my $html = account_html($c, 'GET /account with more sessions');
    my $list = (json_body($c->get('/users/me/sessions')) || {})->{sessions} || [];
    my @rows = html_elements($html, tag => 'tr', class => 'session');
    is(scalar @rows, scalar @$list, '... a session row for each session GET /users/me/sessions lists');
    my @ids = sort map { (form_fields($_->{inner}) || {})->{id} // () }
        map { html_elements($_->{inner}, tag => 'form', class => 'revoke-form') } @rows;
    is("@ids", join(' ', sort map { $_->{current} ? () : $_->{id} } @$list),
       '... a revoke form for each but the current one, with its id');
    ok(!grep({ !$_ } map { my $i = $_; grep { $_ eq $sid{$i} } @ids } 0 .. 2), '... the three new ones among them');
    like(html_text($html), qr/device-1\/1\.0/, '... the user agents are shown');

    my $tok = csrf_from($html);
    my $res = $c->page_post('/account/sessions/revoke', {csrf_token => $tok, id => $sid{0}});
    done_ok($c, $res, 'revoke', 'POST /account/sessions/revoke {id}');
    is($others[0]->get('/users/me')->code, 401, '... that session is over');
    is($others[1]->get('/users/me')->code, 200, '... not the others');
    is($c->get('/users/me')->code, 200, '... nor this one');

    # Another account's session is not ours to end.
    my ($x) = account(vhost => $V);
    my $xsid = current_session_id($x);
    $res = $c->page_post('/account/sessions/revoke', {csrf_token => $tok, id => $xsid});
    account_failed_ok($res, 404, undef, 'POST /account/sessions/revoke, another account\'s session');
    is($x->get('/users/me')->code, 200, '... it lives');
    $res = $c->page_post('/account/sessions/revoke', {csrf_token => $tok, id => $sid{0} . 'x'});
    account_failed_ok($res, 404, undef, 'POST /account/sessions/revoke, an unknown id');
    $res = $c->page_post('/account/sessions/revoke', {csrf_token => $tok, id => ''});
    account_failed_ok($res, 422, ['id'], 'POST /account/sessions/revoke, no id');
    $res = $c->page_post('/account/sessions/revoke', {csrf_token => $tok});
    account_failed_ok($res, 422, ['id'], 'POST /account/sessions/revoke without the field');

    $res = act($c, 'revoke-others-form', {});
    done_ok($c, $res, 'revoke_others', 'POST /account/sessions/revoke-others');
    is(join(' ', map { $_->get('/users/me')->code } @others[1, 2]), '401 401', '... the others are over');
    is($c->get('/users/me')->code, 200, '... not this one');
    is(scalar html_elements(account_html($c, 'GET /account'), tag => 'tr', class => 'session'), 1,
       '... one session row left');
}

# ---- MFA -----------------------------------------------------------------------------------------------

sub mfa_row { db_row('SELECT totp_pending, mfa_enabled_at, totp_last_step FROM users WHERE id = ' . sql_str($u->{id})) }

my ($secret, @codes);
{
    my $res = act($c, 'mfa-begin-form', {});
    my $html = page_answer_ok($res, 200, 'mfa-confirm-form', 'POST /account/mfa (set up)');
    my $qr = by_id($html, 'mfa-qr') // '';
    like($qr, qr/<svg\b.*<\/svg>/s, '... the QR code: an <svg> inside #mfa-qr');
    ($secret = html_text(by_id($html, 'mfa-secret')) // '') =~ s/\s+//g;
    like($secret, qr/^[A-Z2-7]{32}$/, '... the secret in #mfa-secret (160 bits of base32)');
    like($html, qr{otpauth://totp/[^"]*secret=\Q$secret\E}i, '... and the otpauth URI');
    ok(defined mfa_row()->{totp_pending} && !defined mfa_row()->{mfa_enabled_at}, '... pending, not on');
    my ($ci) = html_elements($html, tag => 'input', name => 'code');
    is(($ci || {})->{attrs}{autocomplete}, 'one-time-code', '... the code input: autocomplete=one-time-code');

    $res = $c->page_post('/account/mfa/confirm', {csrf_token => csrf_from($html), code => wrong_code({secret => $secret})});
    account_failed_ok($res, 401, undef, 'POST /account/mfa/confirm, a wrong code');
    ok(!defined mfa_row()->{mfa_enabled_at}, '... MFA is not on');
    $res = $c->page_post('/account/mfa/confirm', {csrf_token => csrf_from($html), code => 'abc'});
    ok($res->code == 422 || $res->code == 401, 'POST /account/mfa/confirm, letters: 422 or 401') or diag($res->status_line);
    ok(!defined mfa_row()->{mfa_enabled_at}, '... MFA is not on');

    $res = $c->page_post('/account/mfa/confirm', {csrf_token => csrf_from($html), code => totp_code($secret)});
    $html = page_answer_ok($res, 200, 'codes-form', 'POST /account/mfa/confirm, the right code');
    @codes = map { html_text($_->{inner}) } html_elements($html, tag => 'li', class => 'recovery-code');
    is(scalar @codes, 10, '... ten recovery codes (li.recovery-code)');
    is(scalar(grep { $_ =~ recovery_code_re() } @codes), 10, '... each like xxxx-xxxx-xxxx-xxxx');
    my %d = map { $_ => 1 } @codes;
    is(scalar keys %d, 10, '... all different');
    ok(defined mfa_row()->{mfa_enabled_at}, '... MFA is on');
    mail_ok('... the MFA-enabled notice', to => $f->{email}, template => 'mfa_enabled');

    $html = account_html($c, 'GET /account after');
    ok(!html_elements($html, class => 'recovery-code'), '... the codes are shown only once');
    ok(!grep({ $_ eq 'mfa-begin-form' } form_ids($html)), '... no "set up" form');
    ok(grep({ $_ eq 'mfa-disable-form' } form_ids($html)), '... a #mfa-disable-form');
}
{
    my $res = act($c, 'codes-form', {code => wrong_code({secret => $secret})});
    account_failed_ok($res, 401, undef, 'POST /account/mfa/recovery-codes, a wrong code');
    ok(!html_elements($res, class => 'recovery-code'), '... no codes');

    # The confirming code's step is spent: let the current step's code be taken again.
    db_do('UPDATE users SET totp_last_step = 0 WHERE id = ' . sql_str($u->{id}));
    $res = act($c, 'codes-form', {code => totp_code($secret)});
    my $html = page_answer_ok($res, 200, 'codes-form', 'POST /account/mfa/recovery-codes, the right code');
    my @new = map { html_text($_->{inner}) } html_elements($html, tag => 'li', class => 'recovery-code');
    is(scalar(grep { $_ =~ recovery_code_re() } @new), 10, '... ten new recovery codes');
    my %old = map { $_ => 1 } @codes;
    ok(!grep({ $old{$_} } @new), '... none of them an old one');
    problem_ok($c->post('/auth/reauthenticate', {password => $f->{password}, recovery_code => $codes[0]}),
               401, 'invalid_mfa_code', '... an old code no longer works');
    @codes = @new;

    my $typed = 'Not the password 3';
    $res = act($c, 'mfa-disable-form', {password => $typed, recovery_code => $codes[0]});
    $html = account_failed_ok($res, 401, undef, 'POST /account/mfa/disable, a wrong password');
    unlike($html, qr/\Q$typed\E/, '... the password is not on the page');
    ok(defined mfa_row()->{mfa_enabled_at}, '... MFA stays on');
    $res = act($c, 'mfa-disable-form', {password => $f->{password}});
    account_failed_ok($res, 422, ['code'], 'POST /account/mfa/disable without a code');
    ok(defined mfa_row()->{mfa_enabled_at}, '... MFA stays on');

    $res = act($c, 'mfa-disable-form', {password => $f->{password}, recovery_code => $codes[1]});
    done_ok($c, $res, 'mfa_disabled', 'POST /account/mfa/disable with a recovery code');
    ok(!defined mfa_row()->{mfa_enabled_at}, '... MFA is off');
    $html = account_html($c, 'GET /account?done=mfa_disabled', '?done=mfa_disabled');
    ok(grep({ $_ eq 'mfa-begin-form' } form_ids($html)), '... "set up" again');
    ok(defined by_id($html, 'notice'), '... says so (#notice)');
    $res = $c->page_post('/account/mfa/disable', {csrf_token => csrf_from($html), password => $f->{password},
                                                  recovery_code => $codes[2]});
    account_failed_ok($res, 409, undef, 'POST /account/mfa/disable when it is off');
    $res = $c->page_post('/account/mfa/confirm', {csrf_token => csrf_from($html), code => '123456'});
    account_failed_ok($res, 409, undef, 'POST /account/mfa/confirm with nothing pending');
}

# ---- a fresh sign-in for sensitive actions (vhost mfafresh: 3 seconds) ---------------------------------

{
    my ($fc, $ff) = account(vhost => 'mfafresh');
    my $hash = user_row($ff->{email})->{password_hash};
    my $tok = csrf_from($fc->page_get('/account'));
    sleep 5;
    my $loc;
    for my $case (['password', {current_password => $ff->{password}, new_password => new_password()}],
                  ['email', {new_email => unique_email('fresh'), password => $ff->{password}}],
                  ['mfa', {}]) {
        my ($path, $fields) = @$case;
        my $res = $fc->page_post("/account/$path", {csrf_token => $tok, %$fields});
        $loc = $fc->location($res) // '';
        my ($p, $q) = loc_split($loc);
        ok($res->code == 303 && $p eq "$M/login" && ($q->{prompt} // '') eq 'reauthenticate'
           && ($q->{return_to} // '') eq "$M/account",
           "signed in too long ago: POST /account/$path: 303 to M/login?prompt=reauthenticate&return_to=M/account")
            or diag($res->status_line . " $loc");
    }
    is(user_row($ff->{email})->{password_hash}, $hash, '... the password is unchanged');
    ok(!defined db_row('SELECT totp_pending FROM users WHERE email = ' . sql_str(lc $ff->{email}))->{totp_pending},
       '... no MFA set-up started');

    (my $page = $loc) =~ s{^\Q$M\E}{};
    my $html = page_answer_ok($fc->page_get($page), 200, 'login-form', 'follow it');
    ok(!exists((form_fields($html, 'login-form') || {})->{login}), '... the reauthentication form');
    my ($res) = $fc->page_submit($page, {password => $ff->{password}});
    redirect_ok($fc, $res, "$M/account", '... POST it with the password');
    my $new = new_password();
    $res = act($fc, 'password-form', {current_password => $ff->{password}, new_password => $new});
    done_ok($fc, $res, 'password', '... then POST /account/password');
    isnt(user_row($ff->{email})->{password_hash}, $hash, '... the password is changed');
}

# ---- no such action ----------------------------------------------------------------------------------

{
    my $tok = csrf_from($c->page_get('/account'));
    message_page_ok($c->page_post('/account/nope', {csrf_token => $tok}), 404, 'not_found', 'POST /account/nope');
    message_page_ok($c->page_post('/account/mfa/nope', {csrf_token => $tok}), 404, 'not_found', 'POST /account/mfa/nope');
    is($c->get('/users/me')->code, 200, '... the session lives');
}

done_testing();
