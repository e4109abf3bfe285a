# Cross-site request forgery (issue 8).
#
# Pages: every POST carries the form field csrf_token, an HMAC keyed by the session
# cookie when there is one, else of the pre-session cookie authsvc-csrf; anything else is refused
# with 403 message.html csrf_failed, and nothing changes.
#
# JSON: a state-changing request (not GET/HEAD/OPTIONS) with the session cookie and no
# Bearer token needs an Origin of this site (its own scheme://host:port, the origin of
# AuthsvcPublicURL, an AuthsvcTrustedOrigin or an AuthsvcCORS origin), or without Origin
# Sec-Fetch-Site: same-origin; and a body, if any, as application/json. Else 403
# problem csrf_failed. Requests without the cookie are not checked.
#
# AuthsvcCORS: preflights and responses for the listed origins.
#
# Vhosts: the main server, pages (MFA), trusted (AuthsvcTrustedOrigin
# https://app.example.test), cors (AuthsvcCORS https://spa.example.test
# http://localhost:3000), tok (Bearer tokens).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $M = '/api';
my $V = 'pages';
my $EVIL = 'https://evil.example';

sub refused_ok {
    my ($res, $name) = @_;
    message_page_ok($res, 403, 'csrf_failed', $name);
}

sub pre_token {
    my ($c) = @_;
    return csrf_from($c->page_get('/login'));
}

# The ways a form's csrf_token can be wrong, for a client whose right token is $good:
# [what, form fields (csrf_token included or not), request options].
sub bad_tokens {
    my ($good, $other_session, $other_pre) = @_;
    my @bad = (
        ['no csrf_token',                          {}],
        ['an empty csrf_token',                    {csrf_token => ''}],
        ['a random csrf_token',                    {csrf_token => random_token()}],
        ['the token of another pre-session cookie', {csrf_token => $other_pre}],
        ['the token with one more character',      {csrf_token => $good . 'A'}],
        ['the token less its last character',      {csrf_token => substr($good, 0, 42)}],
        ['the token twice',                        {csrf_token => $good . $good}],
        ['the token with "=" padding',             {csrf_token => "$good="}],
        ['the token with a space before it',       {csrf_token => " $good"}],
        ['the token with another case',            {csrf_token => ($good =~ tr/a-zA-Z/A-Za-z/r)}],
        ['the token in the query, not the form',   {}, query => "?csrf_token=$good"],
        ['the token in a header, not the form',    {}, headers => ['X-CSRF-Token' => $good]],
    );
    push @bad, ['the token of another session', {csrf_token => $other_session}] if defined $other_session;
    return @bad;
}

# POST $path with every bad token: 403 csrf_failed each time, and $unchanged->() says
# nothing happened; then the right token is accepted ($accepted->($res) for its answer).
sub page_csrf_ok {
    my (%o) = @_;
    my ($c, $path, $fields, $name) = @o{qw(client path fields name)};
    for my $case (bad_tokens($o{good}, $o{other_session}, $o{other_pre})) {
        my ($what, $tok, %ro) = @$case;
        my $q = delete $ro{query} // '';
        my $res = $c->page_post("$path$q", {%{ $fields->() }, %$tok}, %ro);
        refused_ok($res, "$name, $what");
        ok($o{unchanged}->(), "$name, $what: nothing changed");
    }
    $o{before_good}->() if $o{before_good};
    my $res = $c->page_post($path, {%{ $fields->() }, csrf_token => $o{good}});
    $o{accepted}->($res, "$name, the right csrf_token");
}

# ---- page POSTs without a session: the pre-session cookie ------------------------------------

my ($r0, $acct) = client(vhost => $V)->register();
my $uid = user_row($acct->{email})->{id};
my $other_pre = pre_token(client(vhost => $V));
my ($sb) = account(vhost => $V);
my $other_session = csrf_from($sb->page_get('/account'));
ok(defined $other_pre && defined $other_session, 'tokens of other browsers to try');

{
    my $c = client(vhost => $V);
    my $good = pre_token($c);
    my $n = scalar @{ session_rows($uid) };
    page_csrf_ok(client => $c, path => '/login', name => 'POST /login',
                 fields => sub { {login => $acct->{email}, password => $acct->{password}} },
                 good => $good, other_session => $other_session, other_pre => $other_pre,
                 unchanged => sub { scalar @{ session_rows($uid) } == $n && !$c->jar->{authsvc} },
                 accepted => sub { redirect_ok($c, $_[0], "$M/account", $_[1]) });

    # No cookie at all, or another pre-session cookie, with a token that was right.
    my $bare = client(vhost => $V);
    refused_ok($bare->page_post('/login', {login => $acct->{email}, password => $acct->{password},
                                           csrf_token => $good}),
               'POST /login with a good token and no cookie');
    refused_ok($bare->page_post('/login', {login => $acct->{email}, password => $acct->{password},
                                           csrf_token => $good}, cookie => 'authsvc-csrf=' . random_token()),
               'POST /login with a good token and another pre-session cookie');
    refused_ok($bare->page_post('/login', {login => $acct->{email}, password => $acct->{password},
                                           csrf_token => $good}, cookie => 'authsvc-csrf='),
               'POST /login with a good token and an empty pre-session cookie');
    is(scalar @{ session_rows($uid) }, $n + 1, '... none of them signed in');
}
{
    my $c = client(vhost => $V);
    my $email = unique_email('csrfreg');
    page_csrf_ok(client => $c, path => '/register', name => 'POST /register',
                 fields => sub { {email => $email, password => $acct->{password}} },
                 good => pre_token($c), other_session => $other_session, other_pre => $other_pre,
                 unchanged => sub { !user_row($email) },
                 accepted => sub { ok($_[0]->code =~ /^(?:200|201|303)$/ && user_row($email), "$_[1]: registered") });
}
{
    my $c = client(vhost => $V);
    page_csrf_ok(client => $c, path => '/forgot-password', name => 'POST /forgot-password',
                 fields => sub { {email => $acct->{email}} },
                 good => pre_token($c), other_session => $other_session, other_pre => $other_pre,
                 unchanged => sub { !@{ outbox_rows("template = 'reset_password' AND recipient = " . sql_str($acct->{email})) } },
                 accepted => sub { page_answer_ok($_[0], 200, undef, $_[1]) });
    my $m = mail_ok('the reset mail', to => $acct->{email}, template => 'reset_password');
    my $t = $m->{token} // '';
    my $new = new_password();
    my $rc = client(vhost => $V);
    page_csrf_ok(client => $rc, path => '/reset-password', name => 'POST /reset-password',
                 fields => sub { {token => $t, password => $new} },
                 good => csrf_from($rc->page_get("/reset-password?token=$t")),
                 other_session => $other_session, other_pre => $other_pre,
                 unchanged => sub {
                     !defined db_value('SELECT used_at FROM tokens WHERE token_hash = ' . sql_str(sha256_hex($t)))
                 },
                 accepted => sub {
                     page_answer_ok($_[0], 200, undef, $_[1]);
                     ok(!grep({ $_ eq 'reset-form' } form_ids($_[0])), "$_[1]: done");
                 });
    $acct->{password} = $new;
}
{
    my ($vr, $vf) = client(vhost => $V)->register();
    my $m = mail_ok('a verification mail', to => $vf->{email}, template => 'verify_email');
    my $t = $m->{token} // '';
    my $c = client(vhost => $V);
    page_csrf_ok(client => $c, path => '/verify-email', name => 'POST /verify-email',
                 fields => sub { {token => $t} },
                 good => csrf_from($c->page_get("/verify-email?token=$t")),
                 other_session => $other_session, other_pre => $other_pre,
                 unchanged => sub { !defined user_row($vf->{email})->{email_verified_at} },
                 accepted => sub { page_answer_ok($_[0], 200, undef, $_[1]);
                                   ok(defined user_row($vf->{email})->{email_verified_at}, "$_[1]: verified") });
}
{
    my $a = mfa_account(vhost => $V);
    my $c = client(vhost => $V);
    my ($res) = $c->page_submit('/login', {login => $a->{f}{email}, password => $a->{f}{password}});
    is($res->code, 303, 'MFA account: the password step');
    my $n = scalar @{ session_rows($a->{u}{id}) };
    page_csrf_ok(client => $c, path => '/mfa', name => 'POST /mfa',
                 fields => sub { {recovery_code => $a->{recovery}[0]} },
                 good => csrf_from($c->page_get('/mfa')), other_session => $other_session, other_pre => $other_pre,
                 unchanged => sub { scalar @{ session_rows($a->{u}{id}) } == $n && !$c->jar->{authsvc} },
                 accepted => sub { redirect_ok($c, $_[0], "$M/account", $_[1]) });
}

# ---- page POSTs with a session ----------------------------------------------------------------------

{
    my ($c, $f, $u) = account(vhost => $V, first_name => 'Before');
    my $good = csrf_from($c->page_get('/account'));
    my $other = client(vhost => $V, agent => 'other/1.0');
    is($other->login($f->{email}, $f->{password})->code, 200, 'a second session');
    my $osid = do { my $b = json_body($other->get('/users/me/sessions')) || {};
                    ((grep { $_->{current} } @{ $b->{sessions} || [] })[0] || {})->{id} };
    my $hash = user_row($f->{email})->{password_hash};
    my %common = (client => $c, good => $good, other_session => $other_session, other_pre => $other_pre);
    my $alive = sub { $c->get('/users/me')->code == 200 && $other->get('/users/me')->code == 200 };

    page_csrf_ok(%common, path => '/account/profile', name => 'POST /account/profile',
                 fields => sub { {first_name => 'Forged', username => '', last_name => ''} },
                 unchanged => sub { user_row($f->{email})->{first_name} eq 'Before' },
                 accepted => sub { redirect_ok($c, $_[0], "$M/account?done=profile", $_[1]) });
    my $to = unique_email('csrfmail');
    page_csrf_ok(%common, path => '/account/email', name => 'POST /account/email',
                 fields => sub { {new_email => $to, password => $f->{password}} },
                 unchanged => sub { !@{ outbox_rows('recipient = ' . sql_str($to)) } },
                 accepted => sub { redirect_ok($c, $_[0], "$M/account?done=email", $_[1]) });
    page_csrf_ok(%common, path => '/account/mfa', name => 'POST /account/mfa',
                 fields => sub { {} },
                 unchanged => sub { !defined user_row($f->{email})->{totp_pending} },
                 accepted => sub { page_answer_ok($_[0], 200, 'mfa-confirm-form', $_[1]) });
    page_csrf_ok(%common, path => '/account/sessions/revoke', name => 'POST /account/sessions/revoke',
                 fields => sub { {id => $osid} },
                 unchanged => $alive,
                 accepted => sub { redirect_ok($c, $_[0], "$M/account?done=revoke", $_[1]);
                                   is($other->get('/users/me')->code, 401, "$_[1]: the session is over") });
    is($other->login($f->{email}, $f->{password})->code, 200, 'the second session again');
    page_csrf_ok(%common, path => '/account/sessions/revoke-others', name => 'POST /account/sessions/revoke-others',
                 fields => sub { {} },
                 unchanged => $alive,
                 accepted => sub { redirect_ok($c, $_[0], "$M/account?done=revoke_others", $_[1]) });
    is($other->login($f->{email}, $f->{password})->code, 200, 'the second session again');
    my $new = new_password();
    page_csrf_ok(%common, path => '/account/password', name => 'POST /account/password',
                 fields => sub { {current_password => $f->{password}, new_password => $new} },
                 unchanged => sub { user_row($f->{email})->{password_hash} eq $hash && $alive->() },
                 accepted => sub { redirect_ok($c, $_[0], "$M/account?done=password", $_[1]) });
    $f->{password} = $new;

    # The other account forms, briefly: no token, a random one.
    my $verify_mails = sub { scalar @{ outbox_rows("template = 'verify_email' AND recipient = " . sql_str(lc $f->{email})) } };
    my $nv = $verify_mails->();
    for my $path (qw(/account/verify /account/mfa/confirm /account/mfa/recovery-codes /account/mfa/disable)) {
        for my $bad (['no csrf_token', {}], ['a random csrf_token', {csrf_token => random_token()}]) {
            my ($what, $tok) = @$bad;
            refused_ok($c->page_post($path, {%$tok, code => '123456', password => $f->{password}}), "POST $path, $what");
        }
    }
    is($verify_mails->(), $nv, '... no verification mail sent');
    ok(!defined user_row($f->{email})->{mfa_enabled_at}, '... MFA not turned on');

    # The new session has a token of its own: the old session's is refused.
    refused_ok($c->page_post('/account/profile', {csrf_token => $good, first_name => 'Old token'}),
               'POST /account/profile with the token of the session before the password change');
    isnt(user_row($f->{email})->{first_name}, 'Old token', '... nothing changed');
    my $fresh = csrf_from($c->page_get('/account'));
    isnt($fresh, $good, 'the new session\'s page has another token');

    my $live = $c->jar->{authsvc};
    page_csrf_ok(%common, good => $fresh, path => '/logout', name => 'POST /logout',
                 fields => sub { {} },
                 unchanged => sub { $c->get('/users/me')->code == 200 },
                 accepted => sub { redirect_ok($c, $_[0], "$M/login?logged_out=1", $_[1]) });
    is(client(vhost => $V)->get('/users/me', cookie => "authsvc=$live")->code, 401, '... signed out');
}

# A pre-session token never acts for a session: once signed in, only the session's own
# token is taken (a sibling subdomain could plant a pre-session cookie over plain HTTP).
{
    my ($r, $f) = client(vhost => $V)->register(first_name => 'Pre');
    my $c = client(vhost => $V);
    my $pre = pre_token($c);
    my ($res) = $c->page_submit('/login', {login => $f->{email}, password => $f->{password}});
    is($res->code, 303, 'signed in on the page (the pre-session cookie stays)');
    ok($c->jar->{'authsvc-csrf'}, '... the browser still has authsvc-csrf');
    $res = $c->page_post('/account/profile', {csrf_token => $pre, first_name => 'Post', username => '', last_name => ''});
    is($res->code, 403, 'POST /account/profile with the pre-session token: 403');
    like($res->content, qr/csrf_failed/, '... csrf_failed');
    is(user_row($f->{email})->{first_name}, 'Pre', '... nothing changed');
    my $good = csrf_from($c->page_get('/account')->content);
    $res = $c->page_post('/account/profile', {csrf_token => $good, first_name => 'Post', username => '', last_name => ''});
    redirect_ok($c, $res, "$M/account?done=profile", '... with the session\'s own token: accepted');
    is(user_row($f->{email})->{first_name}, 'Post', '... saved');
}

# ---- JSON: cookie-authenticated requests need this site's Origin --------------------------------------

my ($j, $jf, $ju) = account(first_name => 'Jay');
my $jother = client(agent => 'other/2.0');
is($jother->login($jf->{email}, $jf->{password})->code, 200, 'JSON: a second session');
my $jsid = do { my $b = json_body($jother->get('/users/me/sessions')) || {};
                ((grep { $_->{current} } @{ $b->{sessions} || [] })[0] || {})->{id} };
my $jhash = user_row($jf->{email})->{password_hash};
my $jmail = unique_email('jmail');
my $both_alive = sub { $j->get('/users/me')->code == 200 && $jother->get('/users/me')->code == 200 };
my $jun = sub {
    my $row = user_row($jf->{email});
    return $row && $row->{first_name} eq 'Jay' && $row->{password_hash} eq $jhash && $both_alive->()
        && !@{ outbox_rows('recipient = ' . sql_str($jmail)) };
};
my @writes = (
    [POST   => '/auth/logout',              {}],
    [PUT    => '/users/me',                 {first_name => 'Forged'}],
    [PATCH  => '/users/me',                 {first_name => 'Forged'}],
    [PUT    => '/users/me/password',        {current_password => $jf->{password}, new_password => new_password()}],
    [POST   => '/users/me/email',           {new_email => $jmail, password => $jf->{password}}],
    [DELETE => '/users/me/sessions',        undef],
    [DELETE => "/users/me/sessions/$jsid",  undef],
    [DELETE => '/users/me',                 {password => $jf->{password}}],
    [POST   => '/auth/verify-email/resend', {}],
    [POST   => '/auth/login',               {login => $jf->{email}, password => $jf->{password}}],
);
for my $w (@writes) {
    my ($m, $path, $body) = @$w;
    my %b = defined $body ? (json => $body) : ();
    problem_ok($j->request($m, $path, %b, no_origin => 1), 403, 'csrf_failed', "JSON $m $path with the cookie, no Origin");
    ok($jun->(), "... JSON $m $path: nothing changed");
    problem_ok($j->request($m, $path, %b, headers => [Origin => $EVIL]), 403, 'csrf_failed',
               "JSON $m $path with the cookie, Origin $EVIL");
    ok($jun->(), "... JSON $m $path: nothing changed");
}
is(scalar(grep { $_->{event} eq 'login_success' } @{ audit_rows('user_id = ' . sql_str($ju->{id})) }), 2,
   'JSON: the refused POST /auth/login signed nobody in');

my $base = $j->base;
my ($port) = $base =~ /:(\d+)$/;
for my $case (['null', 'null'], ['another site', $EVIL], ['this host over https', "https://localhost:$port"],
              ['this host on another port', 'http://localhost:' . ($port + 1)],
              ['this host without its port', 'http://localhost'],
              ['a trusted origin of another vhost', 'https://app.example.test'],
              ['a CORS origin of another vhost', 'https://spa.example.test'],
              ['AuthsvcPublicURL over http', 'http://accounts.example.test'],
              ['garbage', 'not an origin'], ['an empty Origin', '']) {
    my ($what, $origin) = @$case;
    problem_ok($j->put('/users/me', {first_name => 'Forged'}, headers => [Origin => $origin]), 403, 'csrf_failed',
               "JSON PUT /users/me, Origin: $what");
}
for my $site (qw(cross-site same-site none)) {
    problem_ok($j->put('/users/me', {first_name => 'Forged'}, no_origin => 1, headers => ['Sec-Fetch-Site' => $site]),
               403, 'csrf_failed', "JSON PUT /users/me, no Origin, Sec-Fetch-Site: $site");
}
problem_ok($j->put('/users/me', {first_name => 'Forged'}, headers => [Origin => $EVIL, 'Sec-Fetch-Site' => 'same-origin']),
           403, 'csrf_failed', 'JSON PUT /users/me, Origin of another site and Sec-Fetch-Site: same-origin');
for my $ct ('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', undef) {
    my $res = $j->request(PUT => '/users/me', body => '{"first_name":"Forged"}', ctype => $ct);
    problem_ok($res, 403, 'csrf_failed', 'JSON PUT /users/me, this Origin, Content-Type ' . ($ct // 'none'));
}
ok($jun->(), 'none of those changed anything');

# What passes.
{
    my $res = $j->put('/users/me', {first_name => 'Own'});
    is($res->code, 200, 'JSON PUT /users/me with this site\'s Origin: 200') or diag($res->content);
    is(user_row($jf->{email})->{first_name}, 'Own', '... saved');
    $res = $j->put('/users/me', {first_name => 'Public'}, headers => [Origin => 'https://accounts.example.test']);
    is($res->code, 200, '... with the origin of AuthsvcPublicURL: 200') or diag($res->content);
    $res = $j->put('/users/me', {first_name => 'Fetch'}, no_origin => 1, headers => ['Sec-Fetch-Site' => 'same-origin']);
    is($res->code, 200, '... without Origin, Sec-Fetch-Site: same-origin: 200') or diag($res->content);
    is(user_row($jf->{email})->{first_name}, 'Fetch', '... saved');
    $res = $j->request(PUT => '/users/me', body => '{"first_name":"Charset"}', ctype => 'application/json; charset=utf-8');
    is($res->code, 200, '... Content-Type: application/json; charset=utf-8: 200') or diag($res->content);
    $res = $j->request(PATCH => '/users/me', body => '{"first_name":"Merge"}', ctype => 'application/merge-patch+json');
    is($res->code, 200, '... Content-Type: application/merge-patch+json (a +json type, as the API takes): 200')
        or diag($res->content);
    is(user_row($jf->{email})->{first_name}, 'Merge', '... saved');
    is($j->get('/users/me', no_origin => 1)->code, 200, 'JSON GET /users/me without Origin: 200');
    is($j->head('/users/me')->code, 200, 'JSON HEAD /users/me without Origin: 200');
    is($j->get('/users/me', headers => [Origin => $EVIL])->code, 200, 'JSON GET /users/me with a foreign Origin: 200');
    $res = $j->del("/users/me/sessions/$jsid");
    is($res->code, 204, 'JSON DELETE (no body) with this Origin: 204') or diag($res->content);
    $res = $j->post('/auth/logout', {});
    is($res->code, 204, 'JSON POST /auth/logout with this Origin: 204') or diag($res->content);
}

# Without the session cookie nothing is checked.
{
    my $c = client(no_origin => 1);
    my ($res, $f) = $c->register();
    is($res->code, 201, 'JSON register without a cookie or Origin: 201') or diag($res->content);
    $res = $c->login($f->{email}, $f->{password});
    is($res->code, 200, 'JSON login without a cookie or Origin: 200') or diag($res->content);
    $res = client(no_origin => 1)->post('/auth/forgot-password', {email => $f->{email}});
    is($res->code, 202, 'JSON forgot-password without a cookie or Origin: 202');
    $res = client()->post('/auth/login', {login => $f->{email}, password => $f->{password}},
                          headers => [Origin => $EVIL]);
    is($res->code, 200, 'JSON login without a cookie, Origin of another site: 200 (no ambient authority)');
    $res = client()->post('/auth/login', {login => $f->{email}, password => $f->{password}}, no_origin => 1,
                          cookie => 'unrelated=1');
    is($res->code, 200, '... with another cookie than the session\'s: 200');
    $res = client()->request(POST => '/auth/login', body => '{"login":"x","password":"y"}', ctype => 'text/plain',
                             no_origin => 1);
    problem_ok($res, 415, 'unsupported_media_type', 'JSON login as text/plain without a cookie: 415, not csrf_failed');
    # A session cookie, even a dead one, is ambient authority the rule looks for.
    $res = client()->post('/auth/login', {login => $f->{email}, password => $f->{password}}, no_origin => 1,
                          cookie => 'authsvc=' . random_token());
    problem_ok($res, 403, 'csrf_failed', 'JSON login with an unknown session cookie and no Origin');
}

# Bearer requests are not cookie-authenticated: no Origin needed.
{
    my $t = token_account(vhost => 'tok', first_name => 'Tok');
    my $c = client(vhost => 'tok', no_origin => 1);
    my $res = $c->put('/users/me', {first_name => 'Bearer'}, no_cookie => 1, headers => [bearer($t->{at})]);
    is($res->code, 200, 'tok: PUT /users/me with a Bearer token, no cookie, no Origin: 200') or diag($res->content);
    is(user_row($t->{f}{email})->{first_name}, 'Bearer', '... saved');
    $res = $c->put('/users/me', {first_name => 'Both'}, cookie => "authsvc=$t->{cookie}", headers => [bearer($t->{at})]);
    is($res->code, 200, 'tok: ... with the cookie too: 200') or diag($res->content);
    problem_ok($c->put('/users/me', {first_name => 'Cookie'}, cookie => "authsvc=$t->{cookie}"), 403, 'csrf_failed',
               'tok: the cookie alone, no Origin');
    is(user_row($t->{f}{email})->{first_name}, 'Both', '... not saved');
}

# ---- AuthsvcTrustedOrigin (vhost trusted) ----------------------------------------------------------------

{
    my ($c, $f) = account(vhost => 'trusted', first_name => 'T0');
    my $res = $c->put('/users/me', {first_name => 'Trusted'}, headers => [Origin => 'https://app.example.test']);
    is($res->code, 200, 'trusted: PUT /users/me from https://app.example.test: 200') or diag($res->content);
    is(user_row($f->{email})->{first_name}, 'Trusted', '... saved');
    ok(!defined $res->header('Access-Control-Allow-Origin'), '... no CORS headers (trusted is not CORS)');
    for my $o ('https://app.example.test:8443', 'http://app.example.test', 'https://evil.app.example.test',
               'https://app.example.test.evil.example', 'https://spa.example.test') {
        problem_ok($c->put('/users/me', {first_name => 'Forged'}, headers => [Origin => $o]), 403, 'csrf_failed',
                   "trusted: from $o");
    }
    is(user_row($f->{email})->{first_name}, 'Trusted', '... nothing saved');
    is($c->put('/users/me', {first_name => 'Self'})->code, 200, 'trusted: its own origin: 200');
}

# ---- AuthsvcCORS (vhost cors) ----------------------------------------------------------------------------

my $SPA = 'https://spa.example.test';

sub cors_ok {
    my ($res, $origin, $name) = @_;
    my @why;
    my @acao = $res->header('Access-Control-Allow-Origin');
    push @why, 'Access-Control-Allow-Origin: ' . join(' | ', @acao) unless @acao == 1 && $acao[0] eq $origin;
    my $acac = join ' | ', $res->header('Access-Control-Allow-Credentials');
    push @why, "Access-Control-Allow-Credentials: $acac" unless $acac eq 'true';
    my $vary = join ', ', $res->header('Vary');
    push @why, "Vary: $vary" unless $vary =~ /(?:^|,)\s*Origin\s*(?:,|$)/i;
    ok(!@why, "$name: ACAO $origin, ACAC true, Vary: Origin") or diag(join "\n", @why);
}

sub no_cors_ok {
    my ($res, $name) = @_;
    ok(!defined $res->header('Access-Control-Allow-Origin') && !defined $res->header('Access-Control-Allow-Credentials'),
       "$name: no Access-Control-Allow-Origin or -Credentials")
        or diag('ACAO: ' . ($res->header('Access-Control-Allow-Origin') // ''));
}

sub preflight {
    my ($c, $path, $origin, $method) = @_;
    return $c->request(OPTIONS => $path, headers => [Origin => $origin,
                                                     'Access-Control-Request-Method' => $method // 'PUT',
                                                     'Access-Control-Request-Headers' => 'content-type']);
}

{
    my $c = client(vhost => 'cors');
    for my $o ($SPA, 'http://localhost:3000') {
        for my $path ('/users/me', '/auth/login') {
            my $res = preflight($c, $path, $o);
            is($res->code, 204, "cors: preflight of $path from $o: 204") or diag($res->content);
            cors_ok($res, $o, "cors: preflight of $path from $o");
            my %want = ('Access-Control-Allow-Methods' => 'GET, POST, PUT, PATCH, DELETE',
                        'Access-Control-Allow-Headers' => 'Content-Type, Authorization',
                        'Access-Control-Max-Age' => '600');
            for my $h (sort keys %want) {
                is(join(' | ', $res->header($h)), $want{$h}, "... $h: $want{$h}");
            }
        }
    }
    for my $o ($EVIL, 'https://spa.example.test:8443', 'http://spa.example.test', 'null', 'https://spa.example.test.evil.example') {
        my $res = preflight($c, '/users/me', $o);
        problem_ok($res, 403, 'csrf_failed', "cors: preflight from $o");
        no_cors_ok($res, "cors: preflight from $o");
    }

    my ($s, $f) = account(vhost => 'cors', first_name => 'C0');
    my $res = $s->get('/users/me', headers => [Origin => $SPA]);
    is($res->code, 200, 'cors: GET /users/me from the SPA with the cookie: 200');
    cors_ok($res, $SPA, 'cors: GET /users/me from the SPA');
    is(join(' | ', $res->header('Access-Control-Expose-Headers')), 'Retry-After, WWW-Authenticate, Location',
       '... Access-Control-Expose-Headers: Retry-After, WWW-Authenticate, Location');
    $res = $s->put('/users/me', {first_name => 'Spa'}, headers => [Origin => $SPA]);
    is($res->code, 200, 'cors: PUT /users/me from the SPA with the cookie: 200 (a CORS origin is trusted)')
        or diag($res->content);
    cors_ok($res, $SPA, 'cors: PUT /users/me from the SPA');
    is(user_row($f->{email})->{first_name}, 'Spa', '... saved');
    $res = client(vhost => 'cors')->get('/users/me', headers => [Origin => $SPA]);
    problem_ok($res, 401, 'unauthenticated', 'cors: GET /users/me from the SPA without a session');
    cors_ok($res, $SPA, '... the error answer carries CORS headers too');
    $res = client(vhost => 'cors')->post('/auth/login', {login => $f->{email}, password => 'wrong one 123'},
                                         headers => [Origin => 'http://localhost:3000']);
    problem_ok($res, 401, 'invalid_credentials', 'cors: a wrong password from the other SPA');
    cors_ok($res, 'http://localhost:3000', '... with CORS headers for it');

    $res = $s->get('/users/me', headers => [Origin => $EVIL]);
    is($res->code, 200, 'cors: GET /users/me from an unlisted origin: 200 (a GET)');
    no_cors_ok($res, '... but the browser may not read it');
    $res = $s->put('/users/me', {first_name => 'Evil'}, headers => [Origin => $EVIL]);
    problem_ok($res, 403, 'csrf_failed', 'cors: PUT /users/me from an unlisted origin with the cookie');
    no_cors_ok($res, 'cors: PUT /users/me from an unlisted origin');
    is(user_row($f->{email})->{first_name}, 'Spa', '... nothing saved');

    for my $r ($c->get('/users/me', headers => [Origin => $SPA]), preflight($c, '/users/me', $SPA)) {
        ok(!grep({ $_ eq '*' } $r->header('Access-Control-Allow-Origin')), 'cors: never Access-Control-Allow-Origin: *');
    }

    # Where CORS is on, every answer varies with Origin, even one to a request without
    # it: a shared cache must not hand that answer (without CORS headers) to the SPA.
    $res = $c->get('/.well-known/jwks.json');
    like(join(', ', $res->header('Vary')), qr/(?:^|,)\s*Origin\s*(?:,|$)/i,
         'cors: an answer to a request without Origin has Vary: Origin');
    ok(!defined $res->header('Access-Control-Allow-Origin'), '... and no CORS headers');
}
{
    # A server without AuthsvcCORS answers no origin.
    my $c = client();
    no_cors_ok($c->get('/users/me', headers => [Origin => $SPA]), 'main server: GET /users/me from an origin');
    my $res = preflight($c, '/users/me', $SPA);
    no_cors_ok($res, 'main server: a preflight');
    isnt($res->code, 204, '... not a successful preflight');
}

done_testing();
