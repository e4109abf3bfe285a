# Every form of "Require authsvc" (and AuthType authsvc with mod_authz_user's forms),
# alone and inside RequireAll / RequireAny / RequireNone, on the main server and on a
# virtual host; bad Require lines refused at configuration time. The sections are in
# t/conf/extra.conf.in (/gf/NAME/ and the vhost "guarded").
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);
use Test::More;
use AuthsvcTest;

my $PAGE = qr/authsvc-guard-page/;

# ---- the accounts --------------------------------------------------------------------

free_logins(email => 'guard.alice@example.org', username => 'guard_alice');
free_logins(email => 'guard.bob@example.org');
free_logins(username => 'guard_carol');

my %c;   # name => signed-in client
my %u;   # name => user
sub make {
    my ($name, %o) = @_;
    my ($c, $f, $u) = account(%o);
    ($c{$name}, $u{$name}) = ($c, $u);
}
make(alice  => email => 'guard.alice@example.org', username => 'guard_alice');
make(bob    => email => 'Guard.Bob@example.org', verified => 1);
make(carol  => username => 'guard_carol');
make(plain  => username => unique_username('gp'), first_name => 'Plain');
make(admin  => roles => 'admin');
make(editor => roles => 'editor', verified => 1);
make(uneditor => roles => 'editor');
make(multi  => roles => 'reader admin auditor');
make(near   => roles => 'editors superadmin admin2');
make(banned => roles => 'banned');
$c{none} = client();

is($u{bob}{email}, 'guard.bob@example.org', 'emails are stored in lower case');

# GET a page as one of the clients; an API client unless told (no Accept header).
sub page {
    my ($who, $path, %o) = @_;
    return $c{$who}->get($path, abs => 1, %o);
}

# status_is(WHO, PATH, STATUS): 200 is the page; 401/403 are the guard's problem+json
# unless $plain (a denial by httpd or another provider: status only).
sub status_is {
    my ($who, $path, $status, $plain) = @_;
    my $res = page($who, $path);
    my $name = "$path as $who";
    if ($status == 200) {
        is($res->code, 200, "$name: 200") or diag($res->content);
        like($res->content, $PAGE, "$name: the page") if $path =~ m{/$};
    }
    elsif ($plain) {
        is($res->code, $status, "$name: $status");
        unlike($res->content, $PAGE, "$name: not the page");
    }
    elsif ($status == 401) {
        problem_ok($res, 401, 'unauthenticated', $name);
        is($res->header('WWW-Authenticate'), 'Authsvc', "$name: WWW-Authenticate");
    }
    else {
        problem_ok($res, 403, 'forbidden', $name);
    }
    return $res;
}

# ---- the four provider forms -----------------------------------------------------------

status_is($_, '/gf/any/', 200) for qw(alice bob plain admin banned);
status_is('none', '/gf/any/', 401);
{
    my $res = page('plain', '/gf/any/whoami.shtml');
    like($res->content, qr/^user=\Q$u{plain}{email}\E;type=authsvc;/,
         'Require authsvc alone: REMOTE_USER is the email, AUTH_TYPE authsvc');
}

status_is($_, '/gf/verified/', 200) for qw(bob editor);
status_is($_, '/gf/verified/', 403) for qw(alice uneditor plain);
status_is('none', '/gf/verified/', 401);

status_is($_, '/gf/role/', 200) for qw(admin editor uneditor multi);
status_is($_, '/gf/role/', 403) for qw(plain near banned);
status_is('none', '/gf/role/', 401);

# user GUARD_ALICE Guard.Bob@Example.ORG: by username and by email, in any case.
status_is($_, '/gf/user/', 200) for qw(alice bob);
status_is($_, '/gf/user/', 403) for qw(carol plain admin);
status_is('none', '/gf/user/', 401);

# ---- RequireAll / RequireAny / RequireNone, with Require ip ---------------------------

# RequireAll: role admin and the client on the loopback.
status_is($_, '/gf/all-ip/', 200) for qw(admin multi);
status_is($_, '/gf/all-ip/', 403) for qw(plain editor);
status_is('none', '/gf/all-ip/', 401);
# RequireAll: role admin and an address range the client is not in: denied for all,
# without asking anyone to sign in (httpd decides on the address alone).
status_is($_, '/gf/all-far/', 403, 'plain') for qw(admin plain none);
# RequireAny: role admin or user guard_alice.
status_is($_, '/gf/any-of/', 200) for qw(admin alice);
status_is($_, '/gf/any-of/', 403) for qw(bob plain);
status_is('none', '/gf/any-of/', 401);
# RequireAll of any session and RequireNone of role banned.
status_is($_, '/gf/none/', 200) for qw(plain admin);
status_is('banned', '/gf/none/', 403, 'plain');
status_is('none', '/gf/none/', 401);
# RequireAny of the loopback or role admin: the address suffices, no session needed.
status_is($_, '/gf/ip-or-role/', 200) for qw(none plain admin);
# RequireAll of verified and role editor: both must hold.
status_is('editor', '/gf/all-verified-role/', 200);
status_is($_, '/gf/all-verified-role/', 403) for qw(uneditor bob admin);
status_is('none', '/gf/all-verified-role/', 401);

# ---- AuthType authsvc with mod_authz_user ---------------------------------------------

status_is($_, '/gf/valid-user/', 200) for qw(alice plain);
status_is('none', '/gf/valid-user/', 401);
like(page('alice', '/gf/valid-user/whoami.shtml')->content,
     qr/^user=guard\.alice\@example\.org;type=authsvc;/,
     'AuthType authsvc + Require valid-user: REMOTE_USER and AUTH_TYPE');
# With an AuthType, httpd answers an authenticated user that fails authorization with
# 401 ("try other credentials"), not 403; a 401 must say how to authenticate
# (RFC 9110 11.6.1): WWW-Authenticate, from the auth type's note_auth_failure hook.
sub other_user_401 {
    my ($who, $path) = @_;
    my $res = page($who, $path);
    is($res->code, 401, "$path as $who (signed in, not the user named): 401 as httpd defines");
    unlike($res->content, $PAGE, "$path as $who: not the page");
    is($res->header('WWW-Authenticate'), 'Authsvc', "$path as $who: WWW-Authenticate: Authsvc");
}
status_is('bob', '/gf/require-user/', 200);
other_user_401($_, '/gf/require-user/') for qw(alice plain);
status_is('none', '/gf/require-user/', 401);
# AuthsvcRemoteUser username: "Require user" compares the username.
status_is('alice', '/gf/require-username/', 200);
like(page('alice', '/gf/require-username/whoami.shtml')->content, qr/^user=guard_alice;/,
     'AuthsvcRemoteUser username: REMOTE_USER is the username');
other_user_401('bob', '/gf/require-username/');

# ---- sub-requests and internal redirects ----------------------------------------------

# "/gf/any/" is served through mod_dir's sub-request for index.html (checked above);
# an ErrorDocument is an internal redirect to another guarded page.
{
    my $res = page('plain', '/gf/errdoc/missing.html');
    is($res->code, 404, 'a missing page under a guard with an ErrorDocument: 404');
    like($res->content, qr/^user=\Q$u{plain}{email}\E;type=authsvc;/,
         '... the error page (an internal redirect) has the identity');
    status_is('none', '/gf/errdoc/missing.html', 401);
}

# ---- accounts that cannot pass ---------------------------------------------------------

{
    my $res = page('plain', '/gf/any/', cookie => 'authsvc=' . ('A' x 43));
    problem_ok($res, 401, 'unauthenticated', 'an unknown token');
    $res = page('plain', '/gf/any/', cookie => 'authsvc=' . $c{plain}->jar->{authsvc} . '; authsvc='
                . $c{admin}->jar->{authsvc});
    problem_ok($res, 401, 'unauthenticated', 'two different session cookies');
}

# ---- a virtual host ---------------------------------------------------------------------

# /gv/NAME/ is guarded on the vhost "guarded" only (role vhrole); its cache TTL is 1s,
# so that changes to the account show within a second.
{
    is(client()->get('/gv/x/', abs => 1)->code, 200, '/gv/x/ on the main server: open');
    my ($vc, $vf, $vu) = account(vhost => 'guarded');
    my $anon = client(vhost => 'guarded');
    my $r = $anon->get('/gv/x/', abs => 1);
    problem_ok($r, 401, 'unauthenticated', '/gv/x/ on the vhost without a session');
    problem_ok($vc->get('/gv/x/', abs => 1), 403, 'forbidden', '/gv/x/ on the vhost without the role');
    is($vc->get('/gf/any/', abs => 1)->code, 200, 'the main server\'s sections apply on the vhost');

    set_roles($vf->{email}, 'vhrole');
    sleep 1.2;
    $r = $vc->get('/gv/x/', abs => 1);
    is($r->code, 200, '... the role granted in the database: 200 once the cache entry expired');
    like($r->content, $PAGE, '... the page');

    set_roles($vf->{email}, '');
    sleep 1.2;
    problem_ok($vc->get('/gv/x/', abs => 1), 403, 'forbidden', '... the role taken away: 403');

    db_do("UPDATE users SET status = 'disabled' WHERE id = " . sql_str($vu->{id}));
    sleep 1.2;
    problem_ok($vc->get('/gf/any/', abs => 1), 401, 'unauthenticated',
               '... the account disabled: its session no longer passes');
}

# ---- refused at configuration time -----------------------------------------------------

# httpd -t on a small configuration of its own: bad Require lines stop httpd from
# starting, and the message names the file and line.
{
    my $dir = tempdir(CLEANUP => 1);
    my $so = catfile(serverroot(), '..', 'mod_authsvc.so');
    my $mods = httpd_modules();
    my @head = (
        "ServerRoot $dir",
        'ServerName localhost',
        'Listen 127.0.0.1:9',
        "PidFile $dir/httpd.pid",
        "ErrorLog $dir/error_log",
        "DefaultRuntimeDir $dir",
        "LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so",
        "LoadModule authn_core_module $mods/mod_authn_core.so",
        "LoadModule authz_core_module $mods/mod_authz_core.so",
        "LoadModule dbd_module $mods/mod_dbd.so",
        "LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so",
        "LoadModule authsvc_module $so",
        'DBDriver sqlite3',
        "DBDParams $dir/authsvc.db",
        '<Location /x>',
    );
    my $n = 0;
    my $configtest = sub {
        my ($line) = @_;
        my $file = catfile($dir, 'case' . ++$n . '.conf');
        open(my $fh, '>', $file) or die "$file: $!";
        print $fh join("\n", @head, "    $line", '</Location>', '');
        close $fh;
        my $out = qx{"${\ httpd_bin()}" -t -f "$file" 2>&1};
        return ($? >> 8, $out, $file, scalar(@head) + 1);
    };

    for my $ok ('Require authsvc', 'Require authsvc VERIFIED', 'Require authsvc role a b',
                'Require authsvc User x@example.org bob', 'Require authsvc mfa',
                'Require authsvc MFA', 'Require authsvc fresh 300') {
        my ($rc, $out) = $configtest->($ok);
        is($rc, 0, "httpd -t accepts '$ok'") or diag($out);
    }
    # (mfa and fresh SECONDS are forms since issue 6; t/mfa_guard.t tests what they do)
    for my $case (['Require authsvc mfa extra', qr/Require authsvc mfa\b/],
                  ['Require authsvc fresh', qr/Require authsvc fresh\b/],
                  ['Require authsvc fresh abc', qr/Require authsvc fresh\b/],
                  ['Require authsvc admin', qr/unknown form 'admin'/],
                  ['Require authsvc role', qr/Require authsvc role needs at least one name/],
                  ['Require authsvc user', qr/Require authsvc user needs at least one name/],
                  ['Require authsvc verified yes', qr/Require authsvc verified takes no arguments/]) {
        my ($line, $msg) = @$case;
        my ($rc, $out, $file, $lineno) = $configtest->($line);
        isnt($rc, 0, "httpd -t refuses '$line'");
        like($out, qr/Syntax error on line $lineno of \Q$file\E/, '... naming the file and line')
            or diag($out);
        like($out, $msg, '... and saying why');
    }
}

done_testing();
