# What a backend behind "Require authsvc" sees: a CGI script's environment (REMOTE_USER,
# AUTH_TYPE, AUTHSVC_*), the session cookie stripped from what it receives, the
# identity headers a reverse-proxied application gets with AuthsvcPassHeaders (client
# copies removed), and SSI: server-parsed pages, includes (sub-requests) and internal
# redirects. Sections /gb/NAME/ (htdocs/backend) and /gp/NAME/ (a reverse proxy to
# /gb/echo/env.pl) in t/conf/extra.conf.in.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX qw(strftime);
use Test::More;
use AuthsvcTest;

my ($c, $f, $u) = account(username => unique_username('gb'), first_name => 'Ada',
                          last_name => 'Lovelace', roles => 'editor admin');
my $token = $c->jar->{authsvc};
my $session = db_row('SELECT * FROM sessions WHERE token_hash = ' . sql_str(sha256_hex($token)));
my $expires = strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $session->{expires_at});
my ($nc, $nf, $nu) = account();     # no username, no names, no roles
my $anon = client();

# Our cookie amid others, as a browser sends them.
my $cookies = "theme=dark; authsvc=$token; lang=fr; xauthsvc=keep; authsvc_device=dev-cookie-1";

sub get_kv {
    my ($cl, $path, %o) = @_;
    my $res = $cl->get($path, abs => 1, %o);
    return ($res, kv_body($res));
}

# ---- CGI: the environment ---------------------------------------------------------------

{
    my ($res, $env) = get_kv($c, '/gb/cgi/env.pl', cookie => $cookies);
    is($res->code, 200, 'a CGI script behind Require authsvc: 200') or diag($res->content);
    is($env->{REMOTE_USER}, $u->{email}, 'REMOTE_USER is the email (the default)');
    is($env->{AUTH_TYPE}, 'authsvc', 'AUTH_TYPE authsvc');
    is($env->{AUTHSVC_USER_ID}, $u->{id}, 'AUTHSVC_USER_ID');
    is($env->{AUTHSVC_EMAIL}, $u->{email}, 'AUTHSVC_EMAIL');
    is($env->{AUTHSVC_USERNAME}, $f->{username}, 'AUTHSVC_USERNAME');
    is($env->{AUTHSVC_NAME}, 'Ada Lovelace', 'AUTHSVC_NAME is "First Last"');
    is($env->{AUTHSVC_ROLES}, 'editor admin', 'AUTHSVC_ROLES, space-separated as stored');
    is($env->{AUTHSVC_SESSION_EXPIRES}, $expires, 'AUTHSVC_SESSION_EXPIRES: expires_at in ISO 8601');
    # The session cookie is gone; the other cookies are not.
    my $hc = $env->{HTTP_COOKIE} // '';
    unlike($hc, qr/(^|[;,\s])authsvc=/, 'HTTP_COOKIE: no session cookie') or diag("HTTP_COOKIE: $hc");
    like($hc, qr/(^|[;\s])theme=dark(;|$)/, 'HTTP_COOKIE: the cookie before it stays');
    like($hc, qr/(^|[;\s])lang=fr(;|$)/, 'HTTP_COOKIE: the cookie after it stays');
    like($hc, qr/(^|[;\s])xauthsvc=keep(;|$)/, 'HTTP_COOKIE: a cookie whose name ends in ours stays');
    unlike($hc, qr/authsvc_device=/, 'HTTP_COOKIE: no remembered-device cookie (it stands in for MFA)');
    ok(index($res->content, $token) < 0, 'the token appears nowhere in what the script sees');
    ok(!exists $env->{HTTP_REMOTE_USER}, 'AuthsvcPassHeaders is off: no Remote-User header');

    ($res, $env) = get_kv($c, '/gb/cgi/env.pl');
    ok(!exists $env->{HTTP_COOKIE}, 'only the session cookie sent: no Cookie header left')
        or diag("HTTP_COOKIE: $env->{HTTP_COOKIE}");

    ($res, $env) = get_kv($nc, '/gb/cgi/env.pl');
    is($env->{REMOTE_USER}, $nu->{email}, 'an account without a username: REMOTE_USER email');
    is($env->{AUTHSVC_USERNAME}, '', '... AUTHSVC_USERNAME empty');
    is($env->{AUTHSVC_NAME}, '', '... AUTHSVC_NAME empty');
    is($env->{AUTHSVC_ROLES}, '', '... AUTHSVC_ROLES empty');
    is($env->{AUTHSVC_USER_ID}, $nu->{id}, '... AUTHSVC_USER_ID');

    ($res, $env) = get_kv($c, '/gb/cgi-username/env.pl');
    is($env->{REMOTE_USER}, $f->{username}, 'AuthsvcRemoteUser username: REMOTE_USER is the username');
    ($res, $env) = get_kv($nc, '/gb/cgi-username/env.pl');
    is($env->{REMOTE_USER}, $nu->{email}, '... and the email for an account without one');
    ($res, $env) = get_kv($c, '/gb/cgi-id/env.pl');
    is($env->{REMOTE_USER}, $u->{id}, 'AuthsvcRemoteUser id: REMOTE_USER is the id');
    is($env->{AUTHSVC_EMAIL}, $u->{email}, '... AUTHSVC_EMAIL unchanged');

    ($res, $env) = get_kv($c, '/gb/cgi-keep/env.pl', cookie => $cookies);
    is($env->{HTTP_COOKIE}, $cookies, 'AuthsvcStripCookie Off: the Cookie header as sent');

    $res = $anon->get('/gb/cgi/env.pl', abs => 1);
    problem_ok($res, 401, 'unauthenticated', 'the CGI script without a session');
    unlike($res->content, qr/REMOTE_ADDR=/, '... the script did not run');

    # Without a guard, nothing: the variables are not left over from elsewhere. (This is
    # the proxies' backend: AuthsvcStripCookie Off, so that it shows what they send.)
    ($res, $env) = get_kv($c, '/gb/echo/env.pl', cookie => $cookies);
    is($res->code, 200, 'the same script unguarded, with a session cookie: 200');
    ok(!exists $env->{REMOTE_USER} && !exists $env->{AUTHSVC_USER_ID},
       '... no REMOTE_USER, no AUTHSVC_* (no guard there)');
    is($env->{HTTP_COOKIE}, $cookies, '... the cookies as sent (AuthsvcStripCookie Off there)');
}

# ---- SSI: server-parsed pages, includes, internal redirects -----------------------------

{
    my ($res, $env) = get_kv($c, '/gb/ssi/whoami.shtml', cookie => $cookies);
    is($res->code, 200, 'a server-parsed SSI page: 200');
    is($env->{REMOTE_USER}, $u->{email}, 'SSI: REMOTE_USER');
    is($env->{AUTH_TYPE}, 'authsvc', 'SSI: AUTH_TYPE');
    is($env->{AUTHSVC_USER_ID}, $u->{id}, 'SSI: AUTHSVC_USER_ID');
    is($env->{AUTHSVC_NAME}, 'Ada Lovelace', 'SSI: AUTHSVC_NAME');
    is($env->{AUTHSVC_SESSION_EXPIRES}, $expires, 'SSI: AUTHSVC_SESSION_EXPIRES');
    unlike($env->{HTTP_COOKIE} // '', qr/(^|[;\s])authsvc=/, 'SSI: no session cookie in HTTP_COOKIE');
    like($env->{HTTP_COOKIE} // '', qr/theme=dark/, 'SSI: the other cookies stay');

    # The same page through the INCLUDES output filter (AddOutputFilter, Debian's way).
    ($res, $env) = get_kv($c, '/gb/ssi/whoami.fshtml', cookie => $cookies);
    is($res->code, 200, 'an SSI page through the INCLUDES filter: 200');
    is($env->{REMOTE_USER}, $u->{email}, 'INCLUDES filter: REMOTE_USER');
    is($env->{AUTHSVC_USER_ID}, $u->{id}, 'INCLUDES filter: AUTHSVC_USER_ID');
    is($env->{AUTHSVC_EMAIL}, $u->{email}, 'INCLUDES filter: AUTHSVC_EMAIL');
    unlike($env->{HTTP_COOKIE} // '', qr/(^|[;\s])authsvc=/,
           'INCLUDES filter: no session cookie in HTTP_COOKIE (the page could show the token)');

    # An include of a page guarded by a role: a sub-request with the page's identity.
    $res = $c->get('/gb/ssi/include.shtml', abs => 1);
    is($res->code, 200, 'an SSI page including a guarded page: 200');
    like($res->content, qr/^main=\Q$u->{email}\E;/, '... the page has the identity');
    like($res->content, qr/\[frag-user=\Q$u->{email}\E;frag-email=\Q$u->{email}\E;\s*\]/,
         '... the included page (a sub-request) has it too') or diag($res->content);
    $res = $nc->get('/gb/ssi/include.shtml', abs => 1);
    is($res->code, 200, 'the same page for an account without the role: 200');
    like($res->content, qr/^main=\Q$nu->{email}\E;/, '... with its identity');
    unlike($res->content, qr/frag-user=/, '... the guarded part is not included');
    like($res->content, qr/\[an error occurred while processing this directive\]/,
         '... an SSI error in its place');

    # Internal redirects: a CGI's local Location, and an ErrorDocument. The cookie was
    # stripped before the first handler ran; the identity carries over.
    $res = $c->get('/gb/cgi/redirect.pl', abs => 1);
    is($res->code, 200, 'a CGI local redirect to a guarded SSI page: 200');
    $env = kv_body($res);
    is($env->{REMOTE_USER}, $u->{email}, '... the page has the identity');
    is($env->{AUTHSVC_USER_ID}, $u->{id}, '... and the AUTHSVC_* variables');
    $res = $c->get('/gb/ssi/missing.html', abs => 1);
    is($res->code, 404, 'a missing page with a guarded ErrorDocument: 404');
    $env = kv_body($res);
    is($env->{REMOTE_USER}, $u->{email}, '... the error page has the identity');
    is($env->{AUTHSVC_EMAIL}, $u->{email}, '... and the AUTHSVC_* variables');
}

# ---- a reverse proxy ---------------------------------------------------------------------

# What a client might send to pass for someone else (Remote-User twice).
my @spoof = ('Remote-User' => ['root@example.org', 'second@example.org'],
             'Remote-Email' => 'root@example.org', 'Remote-Name' => 'Evil',
             'remote-groups' => 'admin');
{
    my ($res, $env) = get_kv($c, '/gp/headers/env.pl', cookie => $cookies, headers => [@spoof]);
    is($res->code, 200, 'proxied with AuthsvcPassHeaders On: 200') or diag($res->content);
    is($env->{HTTP_REMOTE_USER}, $u->{email}, 'Remote-User (the email; spoofed copies replaced)');
    is($env->{HTTP_REMOTE_EMAIL}, $u->{email}, 'Remote-Email');
    is($env->{HTTP_REMOTE_NAME}, 'Ada Lovelace', 'Remote-Name');
    is($env->{HTTP_REMOTE_GROUPS}, 'editor,admin', 'Remote-Groups: the roles, comma-separated');
    my $hc = $env->{HTTP_COOKIE} // '';
    unlike($hc, qr/(^|[;,\s])authsvc=/, 'the proxied request has no session cookie');
    like($hc, qr/theme=dark/, '... but the other cookies');
    ok(index($res->content, $token) < 0, 'the token appears nowhere in what the backend sees');

    ($res, $env) = get_kv($nc, '/gp/headers/env.pl', headers => [@spoof]);
    is($env->{HTTP_REMOTE_USER}, $nu->{email}, 'an account without names or roles: Remote-User');
    is($env->{HTTP_REMOTE_NAME} // '', '', '... Remote-Name empty or absent');
    is($env->{HTTP_REMOTE_GROUPS} // '', '', '... Remote-Groups empty or absent (not the spoofed one)');

    $res = $anon->get('/gp/headers/env.pl', abs => 1, headers => [@spoof]);
    problem_ok($res, 401, 'unauthenticated', 'the proxy without a session');

    ($res, $env) = get_kv($c, '/gp/plain/env.pl', cookie => $cookies);
    is($res->code, 200, 'proxied without AuthsvcPassHeaders: 200');
    ok(!exists $env->{HTTP_REMOTE_USER} && !exists $env->{HTTP_REMOTE_EMAIL},
       '... no identity headers added');
    unlike($env->{HTTP_COOKIE} // '', qr/(^|[;,\s])authsvc=/, '... the session cookie stripped all the same');

    ($res, $env) = get_kv($c, '/gp/keep/env.pl', cookie => $cookies);
    is($env->{HTTP_COOKIE}, $cookies, 'proxied with AuthsvcStripCookie Off: the cookies as sent');
    is($env->{HTTP_REMOTE_USER}, $u->{email}, '... and the identity headers');
}

# AuthsvcUnauthAction pass: the request goes through either way; the client's copies
# never do.
{
    my ($res, $env) = get_kv($anon, '/gp/pass/env.pl', headers => [@spoof]);
    is($res->code, 200, 'pass, proxied, without a session: 200');
    ok(!grep({ exists $env->{"HTTP_REMOTE_$_"} } qw(USER EMAIL NAME GROUPS)),
       '... the spoofed Remote-* headers are removed')
        or diag(join ' ', map { "$_=$env->{$_}" } grep { /^HTTP_REMOTE_/ } sort keys %$env);
    ($res, $env) = get_kv($c, '/gp/pass/env.pl', headers => [@spoof]);
    is($res->code, 200, 'pass, proxied, with a session: 200');
    is($env->{HTTP_REMOTE_USER}, $u->{email}, '... Remote-User is the real one');
    is($env->{HTTP_REMOTE_GROUPS}, 'editor,admin', '... Remote-Groups is the real one');
}

# AuthsvcHeaderPrefix X-Auth- and AuthsvcRemoteUser username / id.
{
    my @xspoof = ('X-Auth-User' => 'root', 'X-Auth-Email' => 'root@example.org',
                  'X-Auth-Groups' => 'admin');
    my ($res, $env) = get_kv($c, '/gp/prefix/env.pl', headers => [@xspoof]);
    is($res->code, 200, 'AuthsvcHeaderPrefix X-Auth-: 200');
    is($env->{HTTP_X_AUTH_USER}, $f->{username}, 'X-Auth-User: the username (AuthsvcRemoteUser username)');
    is($env->{HTTP_X_AUTH_EMAIL}, $u->{email}, 'X-Auth-Email');
    is($env->{HTTP_X_AUTH_NAME}, 'Ada Lovelace', 'X-Auth-Name');
    is($env->{HTTP_X_AUTH_GROUPS}, 'editor,admin', 'X-Auth-Groups');
    ok(!exists $env->{HTTP_REMOTE_USER}, '... no Remote-User');
    ($res, $env) = get_kv($nc, '/gp/prefix/env.pl');
    is($env->{HTTP_X_AUTH_USER}, $nu->{email}, 'X-Auth-User without a username: the email');

    ($res, $env) = get_kv($c, '/gp/id/env.pl', headers => [@spoof]);
    is($env->{HTTP_REMOTE_USER}, $u->{id}, 'AuthsvcRemoteUser id: Remote-User is the id');
    is($env->{HTTP_REMOTE_EMAIL}, $u->{email}, '... Remote-Email the email');
}

done_testing();
