# Hostile input in the other places a request carries it (issue 10): the body of the
# admin API, bad path segments ({id}, {role}, {form}) on every route that has one, bad
# query strings on every route that reads one, hostile Authorization, Cookie and
# User-Agent headers, and return_to values that try to reach the Location header.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;
use AuthsvcBadInput;

my $mark = error_log_mark();
my $fx = fixtures();

my @names = route_names('admin');
ok(@names > 0, 'routes of this file: ' . scalar @names);
run_route($fx, $_) for @names;

# ---- path segments ---------------------------------------------------------------------
# Each is 404 not_found (or another 4xx problem); httpd's core refuses some before any
# module sees them (an encoded NUL or slash): a plain 4xx is enough there.
my $victim = $fx->{victim_id};
my @ids = (
    ['-1', '-1'], ['0', '0'], ['2^66', '99999999999999999999'], ['letters', 'abc'],
    ['upper-case id', uc $victim], ['id and a space', "$victim%20"], ['id and a quote', "$victim%27"],
    ['SQL', "%27%20OR%20%271%27%3D%271"], ['SQL wildcard', '%25'], ['%FF', '%FF'],
    ['an overlong /', '%C0%AF'], ['CR LF', 'a%0D%0ASet-Cookie:%20x=y'],
    # (a segment longer than a file name: the core's directory walk refuses it, 403)
    ['4000 characters', 'a' x 4000, 'core'],
    ['an encoded NUL', "$victim%00", 'core'], ['an encoded slash', '..%2F..%2Fx', 'core'],
    ['dot dot', '%2e%2e'],
);
my @paths = (
    [user => DELETE => '/users/me/sessions/{}'], [user => DELETE => '/users/me/devices/{}'],
    [user => PATCH => '/users/me/passkeys/{}', json => {name => 'x'}],
    [user => DELETE => '/users/me/passkeys/{}'],
    [admin => GET => '/admin/users/{}'], [admin => DELETE => '/admin/users/{}'],
    (map { [admin => POST => "/admin/users/{}/$_", json => {}] } qw(disable enable unlock)),
    [admin => DELETE => '/admin/users/{}/sessions'], [admin => DELETE => '/admin/users/{}/mfa'],
    [admin => POST => '/admin/users/{}/roles', json => {role => 'editor'}],
    [admin => DELETE => '/admin/users/{}/roles/editor'],
    [admin => DELETE => "/admin/users/$victim/roles/{}"],
);
{
    my $t0 = time;
    my $snap = snapshot($fx, $t0);
    for my $r (@paths) {
        my ($who, $m, $p, %o) = @$r;
        my @cases = map {
            my ($label, $id, $core) = @$_;
            # A role name that is a valid word and not held: removing it is done (200),
            # and changes nothing.
            my $word = $p =~ m{/roles/\{\}$} && $id =~ /^[A-Za-z0-9_.:-]{1,64}$/;
            [$label, $m => $p =~ s/\{\}/$id/r, %o, expect => {refuse => !$word, accept => $word, core => $core}]
        } @ids;
        run_cases($fx->{$who}, "$m $p: bad path segments", \@cases);
    }
    # The account page's forms: /account/{form} and /account/{form}/{action}.
    my $csrf = csrf_from($fx->{user}->page_get('/account')->content);
    my @pcases = map {
        my ($label, $id, $core) = @$_;
        ([$label, POST => "/account/$id", body => form_enc({csrf_token => $csrf}),
          ctype => 'application/x-www-form-urlencoded', expect => {refuse => 1, core => $core}],
         ["$label (action)", POST => "/account/mfa/$id", body => form_enc({csrf_token => $csrf}),
          ctype => 'application/x-www-form-urlencoded', expect => {refuse => 1, core => $core}])
    } @ids;
    run_cases($fx->{user}, 'POST /account/{form}: bad path segments', \@pcases, page => 1);
    snapshot_same($snap, snapshot($fx, $t0), 'bad path segments');
    alive_ok('bad path segments');
}

# ---- query strings -------------------------------------------------------------------
# A bad value is refused (4xx problem+json) or ignored (2xx): never a 5xx, and a search
# with SQL in it finds nothing.
my @qvals = (
    ['letters', 'abc'], ['-1', '-1'], ['0', '0'], ['2^66', '99999999999999999999'], ['1e309', '1e309'],
    ['empty', ''], ['%00', 'a%00b'], ['%FF', '%FF'], ['an overlong /', '%C0%AF'], ['CR LF', 'a%0D%0ASet-Cookie:%20x=y'],
    ['SQL', '%27%20OR%20%271%27%3D%271%27%20--'], ['SQL wildcard', '%25'], ['4000 characters', 'a' x 4000],
    ['a bad %-escape', '%zz'],
);
my @queries = (
    [user => '/users/me/events' => [qw(limit before)]],
    [user => '/users/me/sessions' => [qw(limit)]],
    [user => '/auth/check' => [qw(role user verified)]],
    [admin => '/admin/users' => [qw(q status limit cursor)]],
    [admin => '/admin/audit' => [qw(user event since until limit cursor)]],
    [anon => '/.well-known/jwks.json' => [qw(kid)]],
);
{
    my $t0 = time;
    my $snap = snapshot($fx, $t0);
    for my $q (@queries) {
        my ($who, $p, $names) = @$q;
        my @cases;
        for my $n (@$names) {
            push @cases, map { ["$n $_->[0]", GET => "$p?$n=$_->[1]", expect => {accept => 1}] } @qvals;
            push @cases, ["$n twice", GET => "$p?$n=1&$n=2", expect => {accept => 1}];
        }
        run_cases($fx->{$who}, "GET $p: bad query strings", \@cases);
    }
    # Pages read return_to, prompt, token, done, logged_out: the page still renders (or a
    # 4xx page), and no value reaches a header.
    my @pages = (['/login' => [qw(return_to prompt logged_out)]], ['/register' => ['return_to']],
                 ['/mfa' => ['return_to']], ['/reset-password' => ['token']],
                 ['/verify-email' => ['token']], ['/email-code' => ['return_to']]);
    for my $pg (@pages) {
        my ($p, $names) = @$pg;
        my @cases = map { my $n = $_; map { ["$n $_->[0]", GET => "$p?$n=$_->[1]", headers => [Accept => html_accept()],
                                           expect => {accept => 1}] } @qvals } @$names;
        run_cases($fx->{anon}, "GET $p: bad query strings", \@cases, page => 1);
    }
    run_cases($fx->{user}, 'GET /account: bad query strings',
              [map { my $n = $_; map { ["$n $_->[0]", GET => "/account?$n=$_->[1]", headers => [Accept => html_accept()],
                                       expect => {accept => 1}] } @qvals } qw(done prompt)], page => 1);
    snapshot_same($snap, snapshot($fx, $t0), 'bad query strings');

    # SQL in a search or a filter finds nothing (it would find every row if it ran).
    for my $case (['/admin/users?q=', 'users'], ['/admin/audit?user=', 'events'],
                  ['/admin/audit?event=', 'events']) {
        my ($p, $list) = @$case;
        for my $sql ("%27%20OR%20%271%27%3D%271", "%25", "x%27%20OR%201%3D1%20--") {
            my $res = $fx->{admin}->get("$p$sql");
            my $b = $res->code == 200 ? json_body($res) : undef;
            my $items = ref $b eq 'HASH' ? $b->{$list} // $b->{items} : undef;
            # A lone % is a literal % (not LIKE's wildcard): only rows that hold one, such
            # as the accounts other test files name "50%off", may come back.
            my @wild = ref $items eq 'ARRAY'
                ? grep { index(json_enc($_), $sql eq '%25' ? '%' : "\x{1}") < 0 } @$items : ();
            ok($res->code =~ /^4/ || (ref $items eq 'ARRAY' && !@wild),
               "GET $p$sql: nothing found" . ($sql eq '%25' ? ' but rows with a literal %' : ''))
                or diag($res->status_line . ' ' . substr($res->content, 0, 300));
        }
    }
}

# ---- headers ---------------------------------------------------------------------------
# Hostile credentials are 401 problem+json on the API and on the forward-auth check
# (httpd's core answers 400 itself to a control character in a header).
{
    my $t0 = time;
    my $snap = snapshot($fx, $t0);
    my @auth = (
        ['Bearer alone', 'Bearer'], ['Bearer and spaces', 'Bearer    '], ['Basic', 'Basic dXNlcjpwYXNz'],
        ['three dots', 'Bearer a.b.c'], ['20000 characters', 'Bearer ' . ('a' x 20000)],
        ['a control character', "Bearer a\x01b", 'core'], ['high bytes', "Bearer \xff\xfe"],
        ['SQL', q{Bearer ' OR '1'='1}], ['two tokens', 'Bearer a b'],
        ['a JWT of nesting', 'Bearer ' . b64url_enc('[' x 5000) . '.' . b64url_enc('{}') . '.AA'],
        ['a JWT with NUL', 'Bearer ' . b64url_enc(qq({"alg":"none\0"})) . '.' . b64url_enc('{}') . '.'],
    );
    my @cookies = (
        ['SQL', q{authsvc=' OR '1'='1}], ['10000 characters', 'authsvc=' . ('a' x 10000)],
        ['twice', 'authsvc=a; authsvc=b'], ['%00', 'authsvc=%00'], ['empty', 'authsvc='],
        ['high bytes', "authsvc=\xff\xfe"], ['a control character', "authsvc=a\x01b", 'core'],
        ['no value', 'authsvc'], ['semicolons', ';;;;'],
    );
    my $anon = $fx->{anon};
    for my $p ('/users/me', '/auth/check', '/admin/users') {
        run_cases($anon, "GET $p: hostile Authorization",
                  [map { [$_->[0], GET => $p, headers => [Authorization => $_->[1]], no_cookie => 1,
                          expect => {refuse => 1, core => $_->[2]}] } @auth]);
        run_cases($anon, "GET $p: hostile Cookie",
                  [map { [$_->[0], GET => $p, cookie => $_->[1], expect => {refuse => 1, core => $_->[2]}] } @cookies]);
    }
    snapshot_same($snap, snapshot($fx, $t0), 'hostile headers');
    alive_ok('hostile headers');
}

# A cookie-authenticated change with a hostile Origin or Sec-Fetch-Site: 403
# csrf_failed, nothing changed (the body is a valid profile change).
{
    my $t0 = time;
    my $snap = snapshot($fx, $t0);
    my $u = $fx->{user};
    my @origins = (['null', 'null'], ['another site', 'http://evil.example'], ['empty', ''],
                   ['high bytes', $u->base . "\xff"], ['5000 characters', 'http://' . ('a' x 5000)],
                   ['the site and a path', $u->base . '/x'], ['two origins', $u->base . ' ' . $u->base],
                   ['the site with a user', $u->base =~ s{//}{//evil\@}r]);
    run_cases($u, 'PATCH /users/me: hostile Origin',
              [map { [$_->[0], PATCH => '/users/me', json => {first_name => 'Mallory'},
                      headers => [Origin => $_->[1]], expect => {refuse => 1}] } @origins]);
    run_cases($u, 'PATCH /users/me: hostile Sec-Fetch-Site',
              [map { [$_, PATCH => '/users/me', json => {first_name => 'Mallory'}, no_origin => 1,
                      headers => ['Sec-Fetch-Site' => $_], expect => {refuse => 1}] }
                   'cross-site', 'same-site', 'none', 'SAME-ORIGIN x', "same-origin\xff", '']);
    snapshot_same($snap, snapshot($fx, $t0), 'hostile Origin');
}

# Accept-Language is parsed on every page and for every mail: hostile values still give
# the page (in some language) or the mail's 202.
{
    my @langs = ('x' x 5000, join(',', ('en;q=0.5') x 500), 'de;q=1e309', 'fr;q=-1', 'es;q=abc',
                 '*;q=0', ";;;,,,;q=", "\xff\xfe", 'de-' . ('x' x 300), 'en;q=0.5;q=0.9',
                 '../../../../etc/passwd', 'de%00', "en\tfr");
    run_cases($fx->{anon}, 'GET /login: hostile Accept-Language',
              [map { [json_enc($_), GET => '/login', headers => [Accept => html_accept(), 'Accept-Language' => $_],
                      expect => {accept => 1}] } @langs], page => 1);
    run_cases($fx->{anon}, 'POST /auth/forgot-password: hostile Accept-Language',
              [map { [json_enc($_), POST => '/auth/forgot-password', json => {email => 'nobody.badinput@example.org'},
                      headers => ['Accept-Language' => $_], expect => {accept => 1}] } @langs]);
}

# Every cookie the module reads (the session, the pages' pre-session and MFA step, the
# sign-in code's, the new-device and remembered-device ones) with hostile values, on the
# routes that read it: a 4xx problem (or the page, or a refusal of the step), never a
# 5xx; the remembered-device cookie never skips the second step.
{
    my $csrf_c = keepalive();
    my $csrf = csrf_from($csrf_c->page_get('/login')->content);
    my $pre = $csrf_c->jar->{'authsvc-csrf'} // '';
    my @vals = (['high bytes', "\xff\xfe"], ['SQL', q{' OR '1'='1}], ['5000 characters', 'A' x 5000],
                ['%00', '%00'], ['a token nobody has', 'A' x 43], ['43 and a high byte', ('A' x 42) . "\xff"],
                ['empty', '']);
    my @bad;
    my %req = (
        login_page => [GET => '/login', page => 1, headers => [Accept => html_accept()]],
        mfa_page => [GET => '/mfa', page => 1, headers => [Accept => html_accept()]],
        mfa_post => [POST => '/mfa', page => 1, body => form_enc({csrf_token => $csrf, code => '000000'}),
                     ctype => 'application/x-www-form-urlencoded', headers => [Accept => html_accept()]],
        login => [POST => '/auth/login', json => {login => $fx->{mfa_f}{email}, password => $fx->{mfa_f}{password}}],
        code => [POST => '/auth/email-code/verify', json => {email => $fx->{user_f}{email}, code => '000000'}],
        me => [GET => '/users/me'],
    );
    # Each cookie on the routes that read it.
    my %reads = (authsvc => [qw(me login_page)], 'authsvc-csrf' => [qw(login_page mfa_post)],
                 'authsvc-mfa' => [qw(mfa_page mfa_post)], 'authsvc-code' => ['code'],
                 'authsvc-device' => ['login'], authsvc_device => ['login']);
    for my $name (sort keys %reads) {
        for my $v (@vals) {
            my $cookie = "$name=$v->[1]" . ($name eq 'authsvc-csrf' ? '' : "; authsvc-csrf=$pre");
            for my $r (@req{ @{ $reads{$name} } }) {
                my ($m, $p, %o) = @$r;
                my $page = delete $o{page};
                my $res = $csrf_c->request($m => $p, %o, cookie => $cookie);
                my @why = response_ok($res, page => $page, accept => 1);
                # The MFA account's password alone is one step: never a session.
                push @why, 'signed in without the second step'
                    if $p eq '/auth/login' && $res->code != 401;
                push @bad, "$name $v->[0]: $m $p: " . join('; ', @why) . ' -- ' . substr($res->content // '', 0, 150) if @why;
            }
        }
    }
    ok(!@bad, 'hostile values in every cookie the module reads') or diag(join "\n", @bad);
}

# A User-Agent of a tab, high bytes and 1000 characters (httpd refuses other control
# characters itself): the session row keeps at most 256 printable ASCII characters of it.
{
    my $c = keepalive(agent => "x\ty\x80z\xff\xfe" . ('a' x 1000));
    my $res = $c->login($fx->{user_f}{email}, $fx->{user_f}{password});
    is($res->code, 200, 'a hostile User-Agent signs in');
    # (This session's row: the fixture account has others, maybe of the same second.)
    my $ua = db_value('SELECT user_agent FROM sessions WHERE user_id = ' . sql_str($fx->{user_id})
                      . " AND user_agent LIKE 'x%aaaa%'") // '';
    ok($ua ne '' && length $ua <= 256 && $ua !~ /[^\x20-\x7e]/,
       'the session keeps it as printable ASCII') or diag(json_enc($ua));
}

# ---- return_to ----------------------------------------------------------------------
# A sign-in through the login page with a hostile return_to lands on a path of this site
# (the default, the account page): no CR/LF, no other host, in the Location.
{
    my @bad;
    for my $rt ("/x\r\nSet-Cookie: a=b", '/x%0d%0aSet-Cookie:%20a=b', "//evil.example/", '/\\evil.example',
                'https://evil.example/', "javascript:alert(1)", "/\0x", "\x{202e}/x", '/' . ('a' x 4000),
                " /x", "/x\tz", 'http:/evil.example') {
        my $c = keepalive();
        my ($res) = $c->page_submit('/login?return_to=' . AuthsvcTest::_pct($rt),
                                    {login => $fx->{user_f}{email}, password => $fx->{user_f}{password},
                                     return_to => $rt});
        my @why = response_ok($res, page => 1, accept => 1);
        # Signed in and sent on (303), or the form refused (a 4xx page).
        push @why, 'status ' . $res->code unless $res->code == 303 || $res->code =~ /^4/;
        push @bad, json_enc($rt) . ': ' . join('; ', @why) . ' Location: ' . ($res->header('Location') // 'none') if @why;
    }
    ok(!@bad, 'a hostile return_to never reaches the Location') or diag(join "\n", @bad);
}

my $log = error_log_since($mark);
ok($log !~ /exit signal|Segmentation|AddressSanitizer/, 'no child crashed')
    or diag(join "\n", grep { /exit signal|Segmentation|AddressSanitizer/ } split /\n/, $log);

done_testing();
