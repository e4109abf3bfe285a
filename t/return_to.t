# return_to (issue 8): where a sign-in on the pages lands. Accepted: a path of this
# site (one "/" first, not "//" or "/\", no backslash, control character or space, and
# so for each of up to 3 percent-decoded forms, at most 2048 bytes), or an absolute
# http(s) URL without userinfo to a host (host:port) of AuthsvcReturnToAllow. Anything
# else lands on AuthsvcLoginSuccessURL (default M/account). Through POST /login, through
# the MFA step (M/mfa), and GET /login of a signed-in browser; and the guard's redirect
# of a browser without AuthsvcLoginURL: 302 to M/login?return_to=<path and query>, and
# its step-ups (prompt=mfa_enroll, mfa, reauthenticate) through the login page and back.
# No Location ever carries CR or LF.
#
# Vhosts: the main server (success M/account, no allowed hosts), rtallow
# (AuthsvcLoginSuccessURL https://app.example.test/after-login, AuthsvcReturnToAllow
# app.example.test app2.example.test:8443, MFA), pages (MFA, the defaults).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $M = '/api';
my $HOME = "$M/account";
my $ELSEWHERE = 'https://app.example.test/after-login';

my $long_ok = '/long/' . ('a' x (2048 - 6));
my $long_bad = '/long/' . ('a' x (2049 - 6));

# Same-origin paths: accepted everywhere.
my @paths_ok = (
    '/',
    '/api/account',
    '/private/whoami.shtml?a=1&b=c%2Fd',
    '/private/?next=%2F%2Fevil.example',
    '/x?y=1#top',
    '/a/b/../c',
    '/%41bc',
    '/a+b',
    $long_ok,
);
# Refused everywhere (the spec's list, the unit tests' list and more).
my @refused = (
    '//evil.example',
    '//evil.example/path',
    '///evil.example',
    '/\\evil.example',
    '\\/\\/evil.example',
    '\\\\evil.example',
    'https://evil.example',
    'http://evil.example/',
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    '/%2F%2Fevil.example',
    '/%2f%2fevil.example',
    '%2F%2Fevil.example',
    '/%5Cevil.example',
    '/%5cevil.example',
    'http:/evil.example',
    'https:evil.example',
    'https://good@evil.example',
    '/%0d%0aSet-Cookie:x=1',
    '/%0D%0ASet-Cookie:x=1',
    "/\r\nSet-Cookie: x=1",
    "/x\ty",
    '/a b',
    ' /leading-space',
    '/x%00y',
    '/%250d%250aSet-Cookie:x=1',    # CRLF encoded twice
    '/%252F%252Fevil.example',      # "//" encoded twice
    '/%25252F%25252Fevil.example',  # ... three times
    '/%25255Cevil.example',         # "\" three times
    'evil.example',
    'account',
    $long_bad,
);
# Absolute URLs: accepted on rtallow only.
my @abs_ok = (
    'https://app.example.test/dash?x=1',
    'http://app.example.test/',
    'https://app.example.test',
    'https://app2.example.test:8443/x',
);
# Absolute URLs refused on rtallow too.
my @abs_refused = (
    'https://app2.example.test/x',
    'https://app2.example.test:9443/x',
    'https://app.example.test@evil.example/',
    'https://evil.example@app.example.test/',
    'https://user:pw@app.example.test/',
    'https://app.example.test:443@evil.example/',
    'https://evil.example\\@app.example.test/',
    'https://evil.example#@app.example.test/',
    'https://evil.example?@app.example.test/',
    'https://app.example.test.evil.example/',
    'https://evilapp.example.test/',
    'https://evil.example/app.example.test',
    '//app.example.test/x',
    'ftp://app.example.test/',
    'javascript://app.example.test/%0aalert(1)',
    'https://app.example.test/%0d%0aSet-Cookie:x=1',
    "https://app.example.test/\r\nSet-Cookie: x=1",
    'https:/app.example.test/',
    'https:app.example.test',
);

# A query string: percent-encoded throughout (a space as %20, never "+").
sub query_of { form_enc($_[0]) =~ s/\+/%20/gr }

sub show {
    my ($s) = @_;
    $s = substr($s, 0, 60) . '...(' . length($s) . ' bytes)' if length $s > 80;
    $s =~ s/([\x00-\x1f])/sprintf '\\x%02x', ord $1/ge;
    return $s;
}

my %acct;
sub account_on {
    my ($vhost) = @_;
    return $acct{$vhost} //= do { my ($r, $f) = client(vhost => $vhost)->register(); $f };
}

# The login form for return_to $rt: its hidden return_to is $rt or nothing.
sub form_rt_ok {
    my ($html, $form, $want, $name) = @_;
    my $got = (form_fields($html, $form) || {})->{return_to};
    if (defined $want) {
        is($got, $want, "$name: the form carries it");
    }
    else {
        ok(!defined $got || $got eq '', "$name: the form does not carry it") or diag('return_to: ' . show($got));
    }
}

# GET /login?return_to=RT, POST the form with return_to RT: 303 to $want.
sub through_login_ok {
    my ($vhost, $rt, $want, $accepted) = @_;
    my $f = account_on($vhost);
    my $name = "$vhost: return_to " . show($rt);
    my $c = client(vhost => $vhost);
    my $get = $c->page_get('/login?' . query_of({return_to => $rt}));
    my $html = page_answer_ok($get, 200, 'login-form', "$name: GET /login");
    form_rt_ok($html, 'login-form', $accepted ? $rt : undef, $name);
    unlike($html, qr/<script>alert/, "$name: nothing of it as markup on the page");
    my $res = $c->page_post('/login', {csrf_token => csrf_from($html), login => $f->{email},
                                       password => $f->{password}, return_to => $rt});
    redirect_ok($c, $res, $want, "$name: POST /login");
    no_cr_lf_ok($res, "$name: POST /login");
    ok(session_set_cookie($res), "$name: signed in");
    return $c;
}

for my $case (['default', $HOME], ['rtallow', $ELSEWHERE]) {
    my ($vhost, $home) = @$case;
    for my $rt (@paths_ok) {
        through_login_ok($vhost, $rt, $rt, 1);
    }
    for my $rt (@refused, @abs_refused, '') {
        through_login_ok($vhost, $rt, $home, 0);
    }
    for my $rt (@abs_ok) {
        through_login_ok($vhost, $rt, $vhost eq 'rtallow' ? $rt : $home, $vhost eq 'rtallow');
    }

    # A signed-in browser's GET /login goes on at once, by the same rules.
    my $c = client(vhost => $vhost);
    my $f = account_on($vhost);
    $c->page_submit('/login', {login => $f->{email}, password => $f->{password}});
    for my $rt ('/private/x?y=1', '//evil.example', '/%2F%2Fevil.example', 'https://app.example.test/dash',
                'https://good@evil.example', '/%0d%0aSet-Cookie:x=1') {
        my $ok = $rt =~ m{^/[^/%]|^/private} || ($vhost eq 'rtallow' && $rt =~ m{^https://app\.});
        my $res = $c->page_get('/login?' . query_of({return_to => $rt}));
        redirect_ok($c, $res, $ok ? $rt : $home, "$vhost: signed in, GET /login?return_to=" . show($rt));
        no_cr_lf_ok($res, "$vhost: signed in, GET /login?return_to=" . show($rt));
    }
}

# ---- through the MFA step -------------------------------------------------------------------------

# POST /login of an MFA account with return_to RT: 303 to M/mfa carrying RT (or not); the
# M/mfa page carries it; POST /mfa (a recovery code; return_to => X to post another
# one) lands on $want.
sub through_mfa_ok {
    my ($a, $rt, $want, $accepted, %o) = @_;
    my $name = "$a->{vhost}: MFA, return_to " . show($rt) . (exists $o{return_to} ? ', then ' . show($o{return_to}) : '');
    my $c = client(vhost => $a->{vhost});
    my $tok = csrf_from($c->page_get('/login'));
    my $res = $c->page_post('/login', {csrf_token => $tok, login => $a->{f}{email}, password => $a->{f}{password},
                                       return_to => $rt});
    my $loc = $c->location($res) // '';
    my ($path, $q) = loc_split($loc);
    ok($res->code == 303 && $path eq "$M/mfa", "$name: POST /login: 303 to M/mfa") or diag($res->status_line . ' ' . show($loc));
    no_cr_lf_ok($res, "$name: POST /login");
    if ($accepted) {
        is($q->{return_to}, $rt, "$name: ... with return_to");
    }
    else {
        ok(!length($q->{return_to} // ''), "$name: ... without return_to") or diag(show($loc));
    }
    (my $page = $loc) =~ s{^\Q$M\E}{};
    my $html = page_answer_ok($c->page_get($page), 200, 'mfa-form', "$name: GET M/mfa");
    form_rt_ok($html, 'mfa-form', $accepted ? $rt : undef, $name);
    my %f = %{ form_fields($html, 'mfa-form') || {} };
    $f{return_to} = $o{return_to} if exists $o{return_to};
    $res = $c->page_post('/mfa', {%f, code => '', recovery_code => shift @{ $a->{recovery} }});
    redirect_ok($c, $res, $want, "$name: POST /mfa");
    no_cr_lf_ok($res, "$name: POST /mfa");
    ok(session_set_cookie($res), "$name: signed in");
}

{
    my @a = map { mfa_account(vhost => 'rtallow') } 1 .. 2;
    my $next = sub { my ($x) = grep { @{ $_->{recovery} } } @a; $x };
    through_mfa_ok($next->(), '/private/whoami.shtml?a=1', '/private/whoami.shtml?a=1', 1);
    through_mfa_ok($next->(), 'https://app.example.test/dash', 'https://app.example.test/dash', 1);
    through_mfa_ok($next->(), 'https://app2.example.test:8443/x', 'https://app2.example.test:8443/x', 1);
    for my $rt ('//evil.example', '/\\evil.example', '/%2F%2Fevil.example', '%2F%2Fevil.example', '/%5Cevil.example',
                'https://app.example.test@evil.example/', 'https://evil.example', '/%0d%0aSet-Cookie:x=1',
                "/\r\nSet-Cookie: x=1", 'javascript:alert(1)', '/%250d%250aSet-Cookie:x=1', $long_bad) {
        through_mfa_ok($next->(), $rt, $ELSEWHERE, 0);
    }
    # A return_to changed on the way is checked again.
    through_mfa_ok($next->(), '/private/', $ELSEWHERE, 1, return_to => '//evil.example');
    through_mfa_ok($next->(), '/private/', $ELSEWHERE, 1, return_to => 'https://evil.example/');
    through_mfa_ok($next->(), '/private/', '/other/', 1, return_to => '/other/');

    my $p = mfa_account(vhost => 'pages');
    through_mfa_ok($p, '/private/', '/private/', 1);
    through_mfa_ok($p, 'https://app.example.test/dash', $HOME, 0);
    through_mfa_ok($p, '//evil.example', $HOME, 0);
    through_mfa_ok($p, '', $HOME, 0);
}

# ---- the guard: a browser without a session, no AuthsvcLoginURL -----------------------------------

{
    my $HTML = html_accept();
    my $asked = '/private/whoami.shtml?a=1&b=c%2Fd&e=f+g';
    my $c = client();
    my $res = $c->get($asked, abs => 1, headers => [Accept => $HTML]);
    my $loc = $c->location($res) // '';
    my ($path, $q) = loc_split($loc);
    ok($res->code == 302 && $path eq "$M/login" && ($q->{return_to} // '') eq $asked,
       'guard, a browser, no AuthsvcLoginURL: 302 to M/login?return_to=<the path and query>')
        or diag($res->status_line . " Location: $loc");
    my ($raw) = $loc =~ /[?&]return_to=([^&]*)/;
    like($raw // '', qr/^[A-Za-z0-9._~*%+-]*$/, '... percent-encoded (no "/", "?", "&" or "=" left in it)');
    no_cr_lf_ok($res, 'guard');
    problem_ok($c->get($asked, abs => 1), 401, 'unauthenticated', 'guard, an API client: still 401');

    # Follow it like a browser.
    (my $page = $loc) =~ s{^\Q$M\E}{};
    my $f = account_on('default');
    my $html = page_answer_ok($c->page_get($page), 200, 'login-form', '... GET the login page');
    is((form_fields($html, 'login-form') || {})->{return_to}, $asked, '... which carries the return_to');
    my ($post) = $c->page_submit($page, {login => $f->{email}, password => $f->{password}});
    redirect_ok($c, $post, $asked, '... POST it: back to the page asked for');
    $res = $c->get($asked, abs => 1, headers => [Accept => $HTML]);
    is($res->code, 200, '... which now answers 200');
    like($res->content, qr/user=\Q$f->{email}\E;/, '... to the account');

    # A path with an encoded line break: the Location has none, and the login refuses it.
    my $evil = '/private/%0d%0aSet-Cookie:%20x=1';
    $res = client()->get($evil, abs => 1, headers => [Accept => $HTML]);
    is($res->code, 302, 'guard, a path with %0d%0a: 302');
    no_cr_lf_ok($res, 'guard, a path with %0d%0a');
    ok(!grep({ /^x=/ } $res->header('Set-Cookie')), '... no cookie of the attacker');
    my ($p2, $q2) = loc_split($res);
    is($q2->{return_to}, $evil, '... return_to is the path as asked (encoded)');
    my $b = client();
    ($post) = $b->page_submit("/login?" . query_of({return_to => $q2->{return_to} // ''}),
                              {login => $f->{email}, password => $f->{password}});
    redirect_ok($b, $post, $HOME, '... and the login refuses it');
}

# ---- the guard's step-up through the pages --------------------------------------------------------
# vhost pages: /tg/mfa/ (Require authsvc mfa) and /tg/fresh/ (Require authsvc fresh 3),
# no AuthsvcLoginURL: browsers go to M/login with return_to and a prompt.

sub page_of { my ($c, $res) = @_; return (($c->location($res) // '') =~ s{^\Q$M\E}{}r) }

{
    my $HTML = html_accept();
    my ($plain) = account(vhost => 'pages');
    my $res = $plain->get('/tg/mfa/?x=1', abs => 1, headers => [Accept => $HTML]);
    prompt_redirect_ok($res, "$M/login", '/tg/mfa/?x=1', 'mfa_enroll', 'pages: Require authsvc mfa, no MFA, a browser');
    redirect_ok($plain, $plain->page_get(page_of($plain, $res)), "$M/account?prompt=mfa_enroll",
                '... the login page sends it to set MFA up');

    # A password-only session of an account that enrolled later: prompt=mfa.
    my ($c, $f, $u) = account(vhost => 'pages');
    my $early = client(vhost => 'pages', agent => 'early/1.0');
    is($early->login($f->{email}, $f->{password})->code, 200, 'pages: a session signed in before the enrollment');
    my $e = mfa_enroll($c);
    is($c->post('/users/me/mfa/confirm', {code => totp_code($e->{secret})})->code, 200, '... then the account enrolls');
    $res = $early->get('/tg/mfa/?x=1', abs => 1, headers => [Accept => $HTML]);
    prompt_redirect_ok($res, "$M/login", '/tg/mfa/?x=1', 'mfa', '... that session, a browser');
    my $page = page_of($early, $res);
    my $html = page_answer_ok($early->page_get($page), 200, 'login-form', '... the login page');
    my $fl = form_fields($html, 'login-form') || {};
    ok(exists $fl->{password} && exists $fl->{code} && !exists $fl->{login}, '... asks for the password and a code');
    is(join('|', $fl->{prompt} // '', $fl->{return_to} // ''), 'mfa|/tg/mfa/?x=1', '... posts prompt=mfa and the return_to');
    db_do('UPDATE users SET totp_last_step = 0 WHERE id = ' . sql_str($u->{id}));
    my ($post) = $early->page_submit($page, {password => $f->{password}, code => totp_code($e->{secret})});
    redirect_ok($early, $post, '/tg/mfa/?x=1', '... POST it with a code: back to the page');
    is($early->get('/tg/mfa/?x=1', abs => 1, headers => [Accept => $HTML])->code, 200, '... which now answers 200');

    # Too long ago for "fresh 3": prompt=reauthenticate.
    my ($o, $of) = account(vhost => 'pages');
    sleep 5;
    $res = $o->get('/tg/fresh/', abs => 1, headers => [Accept => $HTML]);
    prompt_redirect_ok($res, "$M/login", '/tg/fresh/', 'reauthenticate', 'pages: Require authsvc fresh 3, 5 s later, a browser');
    $page = page_of($o, $res);
    ($post) = $o->page_submit($page, {password => $of->{password} . 'x'});
    page_failed_ok($post, 401, 'login-form', undef, '... a wrong password');
    ($post) = $o->page_submit($page, {password => $of->{password}});
    redirect_ok($o, $post, '/tg/fresh/', '... the password: back to the page');
    is($o->get('/tg/fresh/', abs => 1, headers => [Accept => $HTML])->code, 200, '... which now answers 200');
}

done_testing();
