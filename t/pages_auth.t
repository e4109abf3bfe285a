# The sign-in pages (issue 8): GET and POST of M/login, M/mfa, M/register, M/logout,
# M/forgot-password, M/reset-password, M/verify-email and the stylesheet: the security
# headers of every page, the forms and their CSRF token, where each success goes (303,
# cookies), what each failure shows (the form again, the catalogue's status, the field
# errors), the honeypot, the mailed links (a GET never uses a token), the prompts, and no
# token or password ever on a page. M is /api; vhosts of t/conf/extra.conf.in: the main
# server (no MFA), pages (MFA), pagessecure (Secure cookies), tok (tokens), reveal,
# limits, closed, nohoneypot.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $M = '/api';
my $B64_43 = qr/^[A-Za-z0-9_-]{43}$/;
my $LINK = 'https://accounts.example.test/api';    # AuthsvcPublicURL

sub sessions_of { scalar @{ session_rows($_[0]) } }

# ---- every page: GET -------------------------------------------------------------------------

{
    my $c = client();
    my $res = $c->page_get('/login');
    my $html = page_answer_ok($res, 200, 'login-form', 'GET /login');
    page_structure_ok($html, 'GET /login');
    my $pre = set_cookies($res)->{'authsvc-csrf'};
    ok($pre && $pre->{value} =~ $B64_43, '... sets the pre-session cookie authsvc-csrf (32 random bytes)')
        or diag(join ' | ', $res->header('Set-Cookie'));
    my $pa = $pre ? $pre->{attrs} : {};
    ok(($pa->{path} // '') eq '/' && $pa->{httponly} && lc($pa->{samesite} // '') eq 'lax'
       && !$pa->{secure} && !exists $pa->{domain},
       '... Path=/; HttpOnly; SameSite=Lax; no Secure, no Domain') or diag(join ' | ', $res->header('Set-Cookie'));
    ok(!session_set_cookie($res), '... no session cookie');
    my $f = form_fields($html, 'login-form') || {};
    ok(exists $f->{login} && exists $f->{password}, '... inputs login and password');
    my ($login) = html_elements($html, tag => 'input', name => 'login');
    is(($login || {})->{attrs}{autocomplete}, 'username', '... login: autocomplete=username');
    my ($pw) = html_elements($html, tag => 'input', name => 'password');
    is(($pw || {})->{attrs}{type}, 'password', '... password: type=password');
    is(($pw || {})->{attrs}{autocomplete}, 'current-password', '... password: autocomplete=current-password');
    my ($hp) = html_elements($html, tag => 'input', name => 'website');
    ok($hp && ($hp->{attrs}{tabindex} // '') eq '-1' && ($hp->{attrs}{autocomplete} // '') eq 'off',
       '... the honeypot input "website": tabindex=-1, autocomplete=off');
    like(html_text($html), qr/Leave this empty/, '... labelled "Leave this empty"');
    ok(html_elements($html, class => 'hp'), '... hidden by the class hp');
    ok(!exists $f->{return_to} || $f->{return_to} eq '', '... no return_to when none was asked');
    ok(!exists $f->{code}, '... no code field');
    like($html, qr{href="/api/register"}, '... links to the registration page');
    like($html, qr{href="/api/forgot-password"}, '... and to forgot-password');

    my $tok = csrf_from($html);
    my $again = $c->page_get('/login');
    ok(!exists set_cookies($again)->{'authsvc-csrf'}, 'GET /login again with the cookie: it is not set again');
    is(csrf_from($again), $tok, '... the same csrf_token');
    my $other = client()->page_get('/login');
    isnt(csrf_from($other), $tok, 'another browser gets another csrf_token');

    my $css = $c->get('/assets/authsvc.css');
    is($css->code, 200, 'GET /assets/authsvc.css: 200');
    page_headers_ok($css, 'GET /assets/authsvc.css', css => 1);
    like($css->content, qr/\{[^}]*\}/, '... a stylesheet');
    like($css->content, qr/\.hp\b/, '... which hides the honeypot (.hp)');
    ok(!defined $css->header('Set-Cookie'), '... no cookie');
    is(client()->request(HEAD => '/assets/authsvc.css')->code, 200, 'HEAD /assets/authsvc.css: 200');
}

# Without the database: the message page, 503 with Retry-After.
{
    my $res = client(vhost => 'nodb')->page_get('/login');
    message_page_ok($res, 503, 'unavailable', 'no database: GET /login');
    ok(defined $res->header('Retry-After'), '... with Retry-After');
    ok(!grep({ $_ eq 'login-form' } form_ids($res)), '... no form');
}

for my $case (['/register', 'register-form'], ['/logout', 'logout-form'],
              ['/forgot-password', 'forgot-form']) {
    my ($path, $form) = @$case;
    my $res = client()->page_get($path);
    my $html = page_answer_ok($res, 200, $form, "GET $path");
    page_structure_ok($html, "GET $path");
    ok(set_cookies($res)->{'authsvc-csrf'}, "GET $path: sets the pre-session cookie");
}
{
    my $html = page_answer_ok(client()->page_get('/register'), 200, 'register-form', 'GET /register');
    my $f = form_fields($html, 'register-form') || {};
    is(join(' ', grep { exists $f->{$_} } qw(email password username first_name last_name website)),
       'email password username first_name last_name website', '... its fields and the honeypot');
    my ($pw) = html_elements($html, tag => 'input', name => 'password');
    is(($pw || {})->{attrs}{autocomplete}, 'new-password', '... password: autocomplete=new-password');
    my ($em) = html_elements($html, tag => 'input', name => 'email');
    is(($em || {})->{attrs}{autocomplete}, 'email', '... email: autocomplete=email');
    $html = page_answer_ok(client(vhost => 'nohoneypot')->page_get('/register'), 200, 'register-form',
                    'AuthsvcHoneypotField none: GET /register');
    ok(!html_elements($html, class => 'hp') && !html_elements($html, tag => 'input', name => 'website'),
       '... no honeypot field');
    unlike(html_text($html), qr/Leave this empty/, '... and no label for one');
    my $res = client(vhost => 'closed')->page_get('/register');
    message_page_ok($res, 403, 'registration_closed', 'registration closed: GET /register');
    ok(!grep({ $_ eq 'register-form' } form_ids($res)), '... no form');
}
for my $case (['/reset-password', 'reset-form'], ['/verify-email', 'verify-form']) {
    my ($path, $form) = @$case;
    my $t = random_token();
    my $html = page_answer_ok(client()->page_get("$path?token=$t"), 200, $form, "GET $path?token=T");
    page_structure_ok($html, "GET $path?token=T");
    is((form_fields($html, $form) || {})->{token}, $t, '... the token in a hidden input');
    # A token with markup is not put on the page as markup.
    my $res = client()->page_get("$path?token=%22%3E%3Cscript%3Ex()%3C%2Fscript%3E");
    ok($res->code < 500, "GET $path?token=<markup>: no server error") or diag($res->status_line);
    unlike($res->content, qr/<script>x\(\)/, '... the markup is not on the page');
}

# ---- sign-in --------------------------------------------------------------------------------

my ($r0, $acct) = client()->register(username => unique_username('pl'), first_name => 'Pia');
is($r0->code, 201, 'an account to sign in with');
my $uid = user_row($acct->{email})->{id};

{
    my $c = client();
    my $n = sessions_of($uid);
    my ($res, $get) = $c->page_submit('/login', {login => $acct->{email}, password => $acct->{password}});
    redirect_ok($c, $res, "$M/account", 'POST /login, right password');
    my $sc = session_set_cookie($res);
    ok($sc && $sc->{value} =~ $B64_43, '... sets the session cookie') or diag(join ' | ', $res->header('Set-Cookie'));
    my $a = $sc ? $sc->{attrs} : {};
    ok(($a->{path} // '') eq '/' && $a->{httponly} && lc($a->{samesite} // '') eq 'lax',
       '... Path=/; HttpOnly; SameSite=Lax (as the JSON API sets it)');
    is(sessions_of($uid), $n + 1, '... one new session');
    is($c->get('/users/me')->code, 200, '... the cookie signs in');
    my $acc = $c->page_get('/account');
    page_answer_ok($acc, 200, 'profile-form', '... GET /account with it');
    like($acc->content, qr/\Q$acct->{email}\E/, '... shows the address');

    # Signed in, GET /login goes on; return_to is honoured.
    redirect_ok($c, $c->page_get('/login'), "$M/account", 'GET /login signed in');
    redirect_ok($c, $c->page_get('/login?return_to=%2Fprivate%2Fwhoami.shtml%3Fa%3D1'),
                '/private/whoami.shtml?a=1', 'GET /login signed in with a return_to');
    redirect_ok($c, $c->page_get('/login?return_to=%2F%2Fevil.example%2F'), "$M/account",
                'GET /login signed in with a bad return_to');

    # By username, any case.
    my $c2 = client();
    ($res) = $c2->page_submit('/login', {login => uc $acct->{username}, password => $acct->{password}});
    redirect_ok($c2, $res, "$M/account", 'POST /login by username in upper case');
}

# Failures.
my $wrong_error;
{
    my $c = client();
    my $n = sessions_of($uid);
    my $pw = 'Wrong ' . $acct->{password};
    my ($res) = $c->page_submit('/login', {login => $acct->{email}, password => $pw});
    my $html = page_failed_ok($res, 401, 'login-form', [], 'POST /login, wrong password');
    $wrong_error = html_text(by_id($html, 'error'));
    is((form_fields($html, 'login-form') || {})->{login}, $acct->{email}, '... the login typed is kept');
    unlike($html, qr/\Q$pw\E/, '... the password is not on the page');
    is((form_fields($html, 'login-form') || {})->{password} // '', '', '... the password field is empty');
    is(sessions_of($uid), $n, '... no session');
    page_structure_ok($html, 'POST /login, wrong password');

    ($res) = client()->page_submit('/login', {login => unique_email('nobody'), password => $pw});
    $html = page_failed_ok($res, 401, 'login-form', [], 'POST /login, unknown account');
    is(html_text(by_id($html, 'error')), $wrong_error, '... the same error as a wrong password');

    ($res) = client()->page_submit('/login', {login => '', password => ''});
    page_failed_ok($res, 422, 'login-form', [qw(login password)], 'POST /login, empty fields');
    ($res) = client()->page_submit('/login', {login => $acct->{email}});
    page_failed_ok($res, 422, 'login-form', [qw(password)], 'POST /login, no password field');

    my $xss = '"><script>alert(1)</script>';
    ($res) = client()->page_submit('/login', {login => $xss, password => $pw});
    ok($res->code == 401 || $res->code == 422, 'POST /login with markup as the login: 401 or 422')
        or diag($res->status_line);
    unlike($res->content, qr/<script>alert/, '... the markup is escaped on the page');
    ($res) = client()->page_submit('/login', {login => $acct->{email}, password => 'y' x 5000});
    page_failed_ok($res, 401, 'login-form', [], 'POST /login, a password of 5000 octets');
    ($res) = client()->page_submit('/login', {login => "$acct->{email}\x{0}", password => $acct->{password}});
    ok($res->code >= 400 && $res->code < 500 && !session_set_cookie($res),
       'POST /login, a NUL in the login: 4xx, no session') or diag($res->status_line);
}

# The honeypot: answered like a wrong password (abuse_honeypot.t for the JSON API).
{
    my $n = sessions_of($uid);
    my ($res) = client()->page_submit('/login', {login => $acct->{email}, password => $acct->{password},
                                                 website => 'http://spam.example'});
    my $html = page_failed_ok($res, 401, 'login-form', [], 'POST /login, the honeypot filled, right password');
    is(html_text(by_id($html, 'error')), $wrong_error, '... the error of a wrong password');
    is(sessions_of($uid), $n, '... no session');
    ok(grep({ $_->{event} eq 'honeypot' } @{ request_rows($res) }), '... audited honeypot');
    ($res) = client()->page_submit('/login', {login => $acct->{email}, password => $acct->{password}, website => ''});
    redirect_ok(client(), $res, "$M/account", 'POST /login, the honeypot empty');
}

# Throttles answer on the page too: 423 after the lockout, 429, with Retry-After.
{
    # vhost reveal: locked after 2 failures, and says so.
    my ($r, $f) = client(vhost => 'reveal')->register();
    for my $i (1 .. 2) {
        my ($res) = client(vhost => 'reveal')->page_submit('/login', {login => $f->{email}, password => "Wrong $i xyz"});
        is($res->code, 401, "reveal vhost: wrong password $i: 401");
    }
    my ($res) = client(vhost => 'reveal')->page_submit('/login', {login => $f->{email}, password => $f->{password}});
    page_failed_ok($res, 423, 'login-form', undef, 'reveal vhost: the right password after 2 failures');
    retry_after_ok($res, 3600, 'reveal vhost: locked');

    my $ip = random_ipv4();
    my @codes = map { (xff_client('limits', $ip)->page_submit('/login', {login => unique_email('rl'),
                                                                          password => 'Whatever 123'}))[0] } 1 .. 4;
    is(join(' ', map { $_->code } @codes[0 .. 2]), '401 401 401', 'limits vhost: three sign-ins from one address: 401');
    page_failed_ok($codes[3], 429, 'login-form', undef, 'limits vhost: the fourth');
    retry_after_ok($codes[3], 3600, 'limits vhost: the fourth');
}

# ---- no tokens on pages (vhost tok issues tokens to the JSON API) ---------------------------------

{
    my ($r, $f) = client(vhost => 'tok')->register();
    my $tuid = user_row($f->{email})->{id};
    my $json = client(vhost => 'tok')->login($f->{email}, $f->{password});
    ok((json_body($json) || {})->{access_token}, 'tok: the JSON API issues an access token');
    my $before = db_value('SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ' . sql_str($tuid));
    my $c = client(vhost => 'tok');
    my ($res) = $c->page_submit('/login', {login => $f->{email}, password => $f->{password}});
    redirect_ok($c, $res, "$M/account", 'tok: POST /login');
    is(db_value('SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ' . sql_str($tuid)), $before,
       '... no refresh token issued');
    my @pages = ($res, $c->page_get('/account'), $c->page_get('/logout'),
                 $c->page_get('/login?prompt=reauthenticate'));
    for my $p (@pages) {
        my $all = $p->headers->as_string . $p->content;
        ok($all !~ /access_token|refresh_token|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./,
           'tok: ' . $p->request->method . ' ' . $p->request->uri->path_query . ': no token in the headers or the page');
    }
}

# ---- MFA: the authsvc-mfa cookie and M/mfa (vhost pages) -----------------------------------------

# Accept a code of any step again (mfa_login.t): codes need not wait for the next step.
sub forget_steps {
    my ($a) = @_;
    db_do('UPDATE users SET totp_last_step = 0 WHERE id = ' . sql_str($a->{u}{id}));
    $a->{last_step} = undef;
}

my $ma = mfa_account(vhost => 'pages');
{
    my $c = client(vhost => 'pages');
    my $n = sessions_of($ma->{u}{id});
    my ($res) = $c->page_submit('/login', {login => $ma->{f}{email}, password => $ma->{f}{password}});
    my $loc = $c->location($res) // '';
    my ($path, $q) = loc_split($loc);
    ok($res->code == 303 && $path eq "$M/mfa" && !length($q->{return_to} // ''),
       'MFA account, right password: 303 to M/mfa') or diag($res->status_line . " $loc");
    my $mc = set_cookies($res)->{'authsvc-mfa'};
    ok($mc && $mc->{value} =~ $B64_43, '... sets authsvc-mfa (the mfa_token)');
    my $a = $mc ? $mc->{attrs} : {};
    ok($a->{httponly} && lc($a->{samesite} // '') eq 'strict' && ($a->{path} // '') eq $M
       && ($a->{'max-age'} // '') eq '300' && !$a->{secure},
       '... HttpOnly; SameSite=Strict; Path=M; Max-Age=300; no Secure') or diag(join ' | ', $res->header('Set-Cookie'));
    ok(!session_set_cookie($res), '... no session cookie yet');
    is(sessions_of($ma->{u}{id}), $n, '... no session yet');

    my $html = page_answer_ok($c->page_get('/mfa'), 200, 'mfa-form', 'GET /mfa with the cookie');
    page_structure_ok($html, 'GET /mfa');
    my ($code_in) = html_elements($html, tag => 'input', name => 'code');
    ok($code_in && ($code_in->{attrs}{autocomplete} // '') eq 'one-time-code'
       && ($code_in->{attrs}{inputmode} // '') eq 'numeric', '... code: one-time-code, inputmode numeric');
    my ($rc_in) = html_elements($html, tag => 'input', name => 'recovery_code');
    is(($rc_in || {})->{attrs}{autocomplete}, 'off', '... recovery_code: autocomplete=off');

    ($res) = $c->page_submit('/mfa', {code => wrong_code($ma)});
    page_failed_ok($res, 401, 'mfa-form', undef, 'POST /mfa, a wrong code');
    is(sessions_of($ma->{u}{id}), $n, '... no session');
    ($res) = $c->page_submit('/mfa', {code => 'abcdef'});
    ok($res->code == 422 || $res->code == 401, 'POST /mfa, letters as the code: 422 or 401') or diag($res->status_line);
    ok(!session_set_cookie($res), '... no session');

    forget_steps($ma);
    ($res) = $c->page_submit('/mfa', {code => mfa_code($ma)});
    redirect_ok($c, $res, "$M/account", 'POST /mfa, the right code');
    my $cl = set_cookies($res)->{'authsvc-mfa'};
    # (On the path it was set on: a clearing cookie of another path would clear nothing.)
    ok($cl && $cl->{value} eq '' && ($cl->{attrs}{'max-age'} // '') eq '0'
       && ($cl->{attrs}{path} // '') eq $M && $cl->{attrs}{httponly},
       '... clears authsvc-mfa (empty, Max-Age=0, Path=M, HttpOnly)')
        or diag(join ' | ', $res->header('Set-Cookie'));
    ok(session_set_cookie($res), '... sets the session cookie');
    is(sessions_of($ma->{u}{id}), $n + 1, '... one new session');
    my $s = db_row('SELECT * FROM sessions WHERE token_hash = ' . sql_str(sha256_hex($c->jar->{authsvc} // '')));
    like($s->{amr} // '', qr/\botp\b/, '... a session with the second factor (amr otp)');
    page_answer_ok($c->page_get('/account'), 200, 'profile-form', '... GET /account');

    # The mfa cookie is spent.
    my $replay = client(vhost => 'pages');
    $replay->jar->{'authsvc-mfa'} = $mc->{value} if $mc;
    ($res) = $replay->page_submit('/mfa', {recovery_code => $ma->{recovery}[0]});
    ok(!session_set_cookie($res) && $res->code != 303, 'POST /mfa with the spent authsvc-mfa cookie: no session')
        or diag($res->status_line . ' ' . ($res->header('Location') // ''));
}
{
    # Without the cookie there is nothing to finish.
    my $c = client(vhost => 'pages');
    my $tok = csrf_from($c->page_get('/login'));
    my $res = $c->page_post('/mfa', {csrf_token => $tok, recovery_code => $ma->{recovery}[1]});
    ok(!session_set_cookie($res) && $res->code != 303, 'POST /mfa without authsvc-mfa: no session')
        or diag($res->status_line);
    # A recovery code on the page.
    $c = client(vhost => 'pages');
    ($res) = $c->page_submit('/login', {login => $ma->{f}{email}, password => $ma->{f}{password}});
    is($res->code, 303, 'MFA account again: 303');
    ($res) = $c->page_submit('/mfa', {recovery_code => $ma->{recovery}[2]});
    redirect_ok($c, $res, "$M/account", 'POST /mfa with a recovery code');
    my $c2 = client(vhost => 'pages');
    $c2->page_submit('/login', {login => $ma->{f}{email}, password => $ma->{f}{password}});
    ($res) = $c2->page_submit('/mfa', {recovery_code => $ma->{recovery}[2]});
    page_failed_ok($res, 401, 'mfa-form', undef, 'POST /mfa with that recovery code again');
}

# Secure cookies (vhost pagessecure): __Host- names, Secure everywhere.
{
    my $a = mfa_account(vhost => 'pagessecure');
    my $c = client(vhost => 'pagessecure');
    my $get = $c->page_get('/login');
    my $pre = set_cookies($get)->{'__Host-authsvc-csrf'};
    ok($pre && $pre->{value} =~ $B64_43 && $pre->{attrs}{secure} && ($pre->{attrs}{path} // '') eq '/'
       && !exists $pre->{attrs}{domain}, 'Secure cookies: the pre-session cookie is __Host-authsvc-csrf; Secure; Path=/')
        or diag(join ' | ', $get->header('Set-Cookie'));
    ok(!set_cookies($get)->{'authsvc-csrf'}, '... not authsvc-csrf');
    my ($res) = $c->page_submit('/login', {login => $a->{f}{email}, password => $a->{f}{password}});
    is($res->code, 303, 'Secure cookies: MFA account, right password: 303');
    my $mc = set_cookies($res)->{'authsvc-mfa'};
    ok($mc && $mc->{attrs}{secure}, '... authsvc-mfa is Secure');
    ($res) = $c->page_submit('/mfa', {recovery_code => $a->{recovery}[0]});
    redirect_ok($c, $res, "$M/account", 'Secure cookies: POST /mfa');
    my $sc = session_set_cookie($res, '__Host-authsvc');
    ok($sc && $sc->{attrs}{secure}, '... the session cookie __Host-authsvc; Secure');
}

# ---- prompts -------------------------------------------------------------------------------------

{
    my ($c, $f, $u) = account(vhost => 'pages');
    my $res = $c->page_get('/login?prompt=reauthenticate&return_to=%2Fapi%2Faccount');
    my $html = page_answer_ok($res, 200, 'login-form', 'signed in: GET /login?prompt=reauthenticate');
    my $fl = form_fields($html, 'login-form') || {};
    like(html_text($html), qr/Confirm it.s you/i, '... "Confirm it\'s you"');
    ok(!exists $fl->{login}, '... password only: no login field');
    ok(exists $fl->{password}, '... a password field');
    ok(!exists $fl->{code}, '... no code field (no MFA)');
    is($fl->{prompt}, 'reauthenticate', '... posts prompt=reauthenticate back');
    is($fl->{return_to}, "$M/account", '... and the return_to');

    my $before = db_row('SELECT * FROM sessions WHERE token_hash = ' . sql_str(sha256_hex($c->jar->{authsvc})));
    my $cookie = $c->jar->{authsvc};
    sleep 2;
    ($res) = $c->page_submit('/login?prompt=reauthenticate&return_to=%2Fapi%2Faccount',
                             {password => $f->{password} . 'x'});
    $html = page_failed_ok($res, 401, 'login-form', undef, 'reauthenticate with a wrong password');
    is((form_fields($html, 'login-form') || {})->{prompt}, 'reauthenticate', '... still the reauthentication form');
    ($res) = $c->page_submit('/login?prompt=reauthenticate&return_to=%2Fprivate%2F',
                             {password => $f->{password}});
    redirect_ok($c, $res, '/private/', 'reauthenticate with the password');
    ok(!session_set_cookie($res), '... no new session cookie');
    is($c->jar->{authsvc}, $cookie, '... the same session');
    my $after = db_row('SELECT * FROM sessions WHERE token_hash = ' . sql_str(sha256_hex($cookie)));
    ok(($after->{auth_at} // 0) > ($before->{auth_at} // 0), '... its authentication time moved forward')
        or diag(($before->{auth_at} // '') . ' -> ' . ($after->{auth_at} // ''));

    # prompt=mfa: the same page with a code field.
    $html = page_answer_ok($c->page_get('/login?prompt=mfa&return_to=%2Fapi%2Faccount'), 200, 'login-form',
                    'signed in: GET /login?prompt=mfa');
    $fl = form_fields($html, 'login-form') || {};
    ok(exists $fl->{code} && exists $fl->{password} && !exists $fl->{login}, '... password and code, no login');
    is($fl->{prompt}, 'mfa', '... posts prompt=mfa back');

    # prompt=mfa_enroll goes to the account page.
    redirect_ok($c, $c->page_get('/login?prompt=mfa_enroll'), "$M/account?prompt=mfa_enroll",
                'GET /login?prompt=mfa_enroll');
    $html = page_answer_ok($c->page_get('/account?prompt=mfa_enroll'), 200, 'mfa-begin-form',
                    'GET /account?prompt=mfa_enroll');
    like(html_text($html), qr/requires two-step sign-in.*set it up below/i,
         '... "this page requires two-step sign-in: set it up below"');
    unlike(html_text(page_answer_ok($c->page_get('/account'), 200, 'profile-form', 'GET /account')),
           qr/set it up below/i, '... not without the prompt');

    # Signed out, a prompt gives the plain form.
    $html = page_answer_ok(client(vhost => 'pages')->page_get('/login?prompt=reauthenticate'), 200, 'login-form',
                    'signed out: GET /login?prompt=reauthenticate');
    ok(exists((form_fields($html, 'login-form') || {})->{login}), '... the ordinary form with a login field');
    $html = page_answer_ok(client(vhost => 'pages')->page_get('/login?prompt=%3Cscript%3E'), 200, 'login-form',
                    'GET /login?prompt=<script>');
    unlike($html, qr/<script>/i, '... not on the page');
}
{
    # An account with MFA: reauthentication asks for a code too.
    my $c = mfa_login($ma, recovery_code => $ma->{recovery}[3]);
    my $html = page_answer_ok($c->page_get('/login?prompt=reauthenticate'), 200, 'login-form',
                       'MFA account signed in: GET /login?prompt=reauthenticate');
    my $fl = form_fields($html, 'login-form') || {};
    ok(exists $fl->{code} && exists $fl->{password}, '... password and code');
    my ($res) = $c->page_submit('/login?prompt=reauthenticate&return_to=%2Fapi%2Faccount',
                                {password => $ma->{f}{password}});
    page_failed_ok($res, 422, 'login-form', ['code'], '... without the code');
    ($res) = $c->page_submit('/login?prompt=reauthenticate&return_to=%2Fapi%2Faccount',
                             {password => $ma->{f}{password}, recovery_code => $ma->{recovery}[4]});
    redirect_ok($c, $res, "$M/account", '... with the password and a recovery code');
}

# ---- registration -------------------------------------------------------------------------------

# Mail queued after a test's requests is delivered after theirs (abuse_honeypot.t).
my $sentinel = do { my ($r, $f) = client()->register(); $f->{email} };
sub mail_barrier {
    my ($name) = @_;
    client()->post('/auth/forgot-password', {email => $sentinel});
    mail_ok("$name (a later mail to somebody else)", to => $sentinel, template => 'reset_password');
}

my $real;
{
    my $email = unique_email('preg');
    my $pw = new_password();
    my $c = client();
    my ($res) = $c->page_submit('/register', {email => $email, password => $pw, username => unique_username('preg'),
                                              first_name => 'Reg', last_name => ''});
    ok($res->code =~ /^(?:200|201|303)$/, 'POST /register: a success (200, 201 or 303)')
        or diag($res->status_line . ' ' . (html_text(by_id($res, 'error')) // ''));
    page_headers_ok($res, 'POST /register', redirect => $res->code == 303);
    $real = $res;
    my $row = user_row($email);
    ok($row, '... the account exists');
    is($row->{first_name}, 'Reg', '... with its first name');
    ok(!defined $row->{last_name}, '... an empty last name is none');
    unlike($res->content, qr/\Q$pw\E/, '... the password is not on the page');
    my $m = mail_ok('... the verification mail', to => $email, template => 'verify_email');

    # Verify through the page of the mailed link.
    my ($t) = ($m->{link} // '') =~ m{^\Q$LINK\E/verify-email\?token=([A-Za-z0-9_-]+)$};
    ok(defined $t, '... its link is AuthsvcPublicURL/verify-email?token=T') or diag($m->{link} // 'no link');
    $t //= '';
    my $v = client();
    for my $n (1, 2) {
        my $html = page_answer_ok($v->page_get("/verify-email?token=$t"), 200, 'verify-form', "GET the verify link ($n)");
        is((form_fields($html, 'verify-form') || {})->{token}, $t, '... the token in the form');
    }
    ok(!defined user_row($email)->{email_verified_at}, '... two GETs verify nothing');
    is(db_value('SELECT count(*) AS n FROM tokens WHERE used_at IS NOT NULL AND token_hash = ' . sql_str(sha256_hex($t))),
       0, '... nor use the token');
    my ($vres) = $v->page_submit("/verify-email?token=$t", {});
    my $html = page_answer_ok($vres, 200, undef, 'POST /verify-email with the token');
    ok(defined user_row($email)->{email_verified_at}, '... the address is verified');
    ok(!grep({ $_ eq 'verify-form' } form_ids($html)), '... the done page, no form');
    ($vres) = $v->page_submit("/verify-email?token=$t", {});
    page_failed_ok($vres, 400, undef, undef, 'POST /verify-email with the token again');
    my ($bad) = client()->page_submit('/verify-email?token=' . random_token(), {});
    page_failed_ok($bad, 400, undef, undef, 'POST /verify-email with an unknown token');
    ($bad) = client()->page_submit('/verify-email?token=' . random_token(), {token => ''});
    ok($bad->code >= 400 && $bad->code < 500, 'POST /verify-email with an empty token: 4xx') or diag($bad->status_line);
}
{
    my ($r, $taken) = client()->register();
    my $pw = new_password();
    my ($res) = client()->page_submit('/register', {email => uc $taken->{email}, password => $pw,
                                                    first_name => 'Taken'});
    my $html = page_failed_ok($res, 409, 'register-form', undef, 'POST /register, a taken address');
    my $f = form_fields($html, 'register-form') || {};
    is(lc($f->{email} // ''), lc $taken->{email}, '... the address is kept');
    is($f->{first_name}, 'Taken', '... so is the first name');
    is($f->{password} // '', '', '... the password is not');
    unlike($html, qr/\Q$pw\E/, '... nor anywhere on the page');

    my $email = unique_email('short');
    ($res) = client()->page_submit('/register', {email => $email, password => 'short', username => 'shorty_' . int(rand 1e6),
                                                 first_name => '<b>Bold</b> & "co"'});
    $html = page_failed_ok($res, 422, 'register-form', ['password'], 'POST /register, a short password');
    is((form_fields($html, 'register-form') || {})->{first_name}, '<b>Bold</b> & "co"', '... the first name is kept');
    unlike($html, qr/<b>Bold/, '... escaped');
    ok(!user_row($email), '... no account');
    ($res) = client()->page_submit('/register', {email => 'not-an-email', password => new_password()});
    page_failed_ok($res, 422, 'register-form', ['email'], 'POST /register, an invalid address');
    ($res) = client()->page_submit('/register', {email => '', password => ''});
    page_failed_ok($res, 422, 'register-form', [qw(email password)], 'POST /register, empty fields');
    ($res) = client()->page_submit('/register', {email => unique_email('ctl'), password => new_password(),
                                                 last_name => "a\x{1}b"});
    page_failed_ok($res, 422, 'register-form', ['last_name'], 'POST /register, a control character in the last name');
    ($res) = client(vhost => 'closed')->page_submit('/login', {}, to => '/register');
    ok($res->code == 403 || $res->code == 404, 'registration closed: POST /register: 403 (or no such page)')
        or diag($res->status_line);
    ok(!session_set_cookie($res), '... no session');

    # The honeypot: answered like a success, nothing stored, no mail.
    my $bot = unique_email('pbot');
    ($res) = client()->page_submit('/register', {email => $bot, password => new_password(), website => 'x'});
    is($res->code, $real->code, 'POST /register, the honeypot filled: the status of a real registration');
    is(html_text(by_id($res, 'error')), undef, '... no error');
    my @h = map { html_text(join ' ', map { $_->{inner} } html_elements($_, tag => 'h1')) } $res, $real;
    is($h[0], $h[1], '... the heading of a real one');
    ok(!user_row($bot), '... no account');
    mail_barrier('register honeypot');
    no_mail_ok('register honeypot: no mail', to => $bot);
}

# ---- sign-out ---------------------------------------------------------------------------------------

{
    my ($c, $f, $u) = account();
    my $cookie = $c->jar->{authsvc};
    my $html = page_answer_ok($c->page_get('/logout'), 200, 'logout-form', 'signed in: GET /logout');
    like(html_text(by_id($html, 'logout-form')), qr/Sign out/i, '... a "Sign out" button');
    is($c->get('/users/me')->code, 200, '... a GET signs nobody out');
    my ($res) = $c->page_submit('/logout', {});
    redirect_ok($c, $res, "$M/login?logged_out=1", 'POST /logout');
    is(join(' ', $res->header('Clear-Site-Data')), '"cache", "storage"', '... Clear-Site-Data: "cache", "storage"');
    my $gone = set_cookies($res)->{authsvc};
    ok($gone && ($gone->{value} eq '' || ($gone->{attrs}{'max-age'} // '') eq '0'), '... clears the session cookie');
    problem_ok(client()->get('/users/me', cookie => "authsvc=$cookie"), 401, 'unauthenticated',
               '... the session is over');
    ok(defined db_row('SELECT revoked_at FROM sessions WHERE token_hash = ' . sql_str(sha256_hex($cookie)))->{revoked_at},
       '... revoked in the database');
    $html = page_answer_ok($c->page_get('/login?logged_out=1'), 200, 'login-form', 'GET /login?logged_out=1');
    ok(defined by_id($html, 'notice'), '... says so (#notice)');
    ok(!defined by_id(page_answer_ok(client()->page_get('/login'), 200, 'login-form', 'GET /login'), 'notice'),
       '... not without logged_out');
}

# ---- forgot and reset ---------------------------------------------------------------------------------

{
    my ($r, $f) = client()->register(first_name => 'Forgetful');
    my $unknown = unique_email('nobody');
    my (%res, %html);
    for my $case (['known', $f->{email}], ['unknown', $unknown], ['honeypot', $f->{email}, 'x']) {
        my ($what, $email, $hp) = @$case;
        ($res{$what}) = client()->page_submit('/forgot-password', {email => $email, (defined $hp ? (website => $hp) : ())});
        $html{$what} = page_answer_ok($res{$what}, 200, undef, "POST /forgot-password, $what address");
        ok(defined by_id($html{$what}, 'notice'), "... $what: the check-your-mail notice");
        ok(!grep({ $_ eq 'forgot-form' } form_ids($html{$what})), "... $what: no form");
        ($html{$what} = $html{$what} // '') =~ s/\Q$email\E/EMAIL/gi;
    }
    is($html{unknown}, $html{known}, 'the unknown address gets the page of a known one');
    is($html{honeypot}, $html{known}, 'so does the honeypot');
    my $m = mail_ok('the reset mail', to => $f->{email}, template => 'reset_password');
    mail_barrier('forgot-password');
    no_mail_ok('forgot-password: one mail only (none for the honeypot)', to => $f->{email}, template => 'reset_password');
    no_mail_ok('forgot-password: none to the unknown address', to => $unknown);

    my ($res) = client()->page_submit('/forgot-password', {email => 'not an email'});
    page_failed_ok($res, 422, 'forgot-form', ['email'], 'POST /forgot-password, an invalid address');
    ($res) = client()->page_submit('/forgot-password', {email => ''});
    page_failed_ok($res, 422, 'forgot-form', ['email'], 'POST /forgot-password, no address');

    my ($t) = ($m->{link} // '') =~ m{^\Q$LINK\E/reset-password\?token=([A-Za-z0-9_-]+)$};
    ok(defined $t, 'the reset link is AuthsvcPublicURL/reset-password?token=T') or diag($m->{link} // 'no link');
    $t //= '';
    my $c = client();
    for my $n (1, 2) {
        my $html = page_answer_ok($c->page_get("/reset-password?token=$t"), 200, 'reset-form', "GET the reset link ($n)");
        is((form_fields($html, 'reset-form') || {})->{token}, $t, '... the token in the form');
        my ($pw) = html_elements($html, tag => 'input', name => 'password');
        is(($pw || {})->{attrs}{autocomplete}, 'new-password', '... autocomplete=new-password');
    }
    is(db_value('SELECT count(*) AS n FROM tokens WHERE used_at IS NOT NULL AND token_hash = ' . sql_str(sha256_hex($t))),
       0, 'two GETs do not use the token');
    my $hash = user_row($f->{email})->{password_hash};

    ($res) = $c->page_submit("/reset-password?token=$t", {password => 'short'});
    my $html = page_failed_ok($res, 422, 'reset-form', ['password'], 'POST /reset-password, a short password');
    is((form_fields($html, 'reset-form') || {})->{token}, $t, '... the token stays in the form');
    is(user_row($f->{email})->{password_hash}, $hash, '... the password is unchanged');

    my $new = new_password();
    ($res) = $c->page_submit("/reset-password?token=$t", {password => $new});
    $html = page_answer_ok($res, 200, undef, 'POST /reset-password, a good password');
    ok(!grep({ $_ eq 'reset-form' } form_ids($html)), '... the done page, no form');
    like($html, qr{href="/api/login"}, '... with a link to sign in');
    unlike($html, qr/\Q$new\E/, '... the password is not on the page');
    ok(!session_set_cookie($res), '... no sign-in');
    is(client()->login($f->{email}, $new)->code, 200, '... the new password signs in');
    is(client()->login($f->{email}, $f->{password})->code, 401, '... the old one does not');

    my $again = new_password();
    ($res) = $c->page_submit("/reset-password?token=$t", {password => $again});
    page_failed_ok($res, 400, undef, undef, 'POST /reset-password with the used token');
    is(client()->login($f->{email}, $again)->code, 401, '... changes nothing');
    ($res) = client()->page_submit('/reset-password?token=' . random_token(), {password => new_password()});
    page_failed_ok($res, 400, undef, undef, 'POST /reset-password with an unknown token');
    ($res) = client()->page_submit('/reset-password?token=' . random_token(), {password => new_password(), token => 'x<y'});
    ok($res->code >= 400 && $res->code < 500, 'POST /reset-password with a malformed token: 4xx') or diag($res->status_line);
    unlike($res->content, qr/x<y/, '... not echoed as markup');
}

# Signing in on the page while another session is in the browser ends that session
# (another account's, say) instead of leaving it alive unseen; a stale second-step
# cookie goes too.
{
    my ($r1, $f1) = client()->register;
    my ($r2, $f2) = client()->register;
    my $c = client();
    my ($res) = $c->page_submit('/login', {login => $f1->{email}, password => $f1->{password}});
    is($res->code, 303, 'signed in as the first account');
    my $first = $c->jar->{authsvc};
    ok($first, '... with a session cookie');
    $c->jar->{'authsvc-mfa'} = 'stale';
    # GET /login redirects a signed-in browser: the form is posted with the session's token.
    my $tok = csrf_from($c->page_get('/account')->content);
    $res = $c->page_post('/login', {login => $f2->{email}, password => $f2->{password}, csrf_token => $tok});
    is($res->code, 303, 'signed in as the second account in the same browser');
    isnt($c->jar->{authsvc}, $first, '... a new session cookie');
    ok(!exists $c->jar->{'authsvc-mfa'}, '... the stale authsvc-mfa cookie is cleared');
    is(client()->get('/users/me', cookie => "authsvc=$first")->code, 401,
       '... the first session has ended');
    my $me = json_body($c->get('/users/me')) || {};
    is($me->{email}, $f2->{email}, '... the browser is the second account');
}

# Signing out on the page forgets the session in the browser and on the server.
{
    my ($r, $f) = client()->register;
    my $c = client();
    my ($res) = $c->page_submit('/login', {login => $f->{email}, password => $f->{password}});
    my $cookie = $c->jar->{authsvc};
    ($res) = $c->page_submit('/logout', {});
    is($res->code, 303, 'POST /logout: 303');
    is($res->header('Clear-Site-Data'), '"cache", "storage"', '... Clear-Site-Data: "cache", "storage"');
    ok(!exists $c->jar->{authsvc}, '... the session cookie is expired');
    is(client()->get('/users/me', cookie => "authsvc=$cookie")->code, 401, '... and the session ended');
}

done_testing();
