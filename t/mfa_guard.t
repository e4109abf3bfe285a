# The guard and MFA (issue 6): "Require authsvc mfa", "Require authsvc fresh SECONDS",
# AuthsvcMFARequired On (directory, server, .htaccess); API clients get 401
# reauthentication_required / 403 mfa_enrollment_required, browsers a 302 to
# AuthsvcLoginURL with return_to and prompt. And the directives refused at start-up.
# Sections /mg/NAME/ of the vhost mfa and the vhost mfareq in t/conf/extra.conf.in.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Path qw(make_path remove_tree);
use File::Spec::Functions qw(catfile catdir);
use File::Temp qw(tempdir);
use Test::More;
use AuthsvcTest;

my $HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
my $PAGE = qr/authsvc-guard-page/;

sub page_ok {
    my ($c, $path, $name) = @_;
    my $code = guard_code($c, path => $path);
    is($code, 200, "$name: 200");
}

# An API client (no Accept), asked several times (several children, their caches).
sub api_is {
    my ($c, $path, $status, $code, $name) = @_;
    my $all = guard_code($c, path => $path);
    is($all, $status, "$name: $status every time");
    my $res = $c->get($path, abs => 1);
    my $p = problem_ok($res, $status, $code, $name);
    unlike($res->content, $PAGE, "$name: not the page");
    return $p;
}

sub browser {
    my ($c, $path) = @_;
    return $c->get($path, abs => 1, headers => [Accept => $HTML, 'Sec-Fetch-Mode' => 'navigate']);
}

# ---- the accounts ---------------------------------------------------------------------------------

my ($plain, $pf) = account(vhost => 'mfa');                 # no MFA
my $a = mfa_account();                                     # MFA; its session passed it
my $early = client(vhost => 'mfa', agent => 'early/1.0');  # MFA account, password only
my $b = do {
    my ($c, $f, $u) = account(vhost => 'mfa');
    is($early->login($f->{email}, $f->{password})->code, 200, 'a session signed in before enrollment');
    my $e = mfa_enroll($c);
    my ($code, $step) = totp_code_step($e->{secret});
    is($c->post('/users/me/mfa/confirm', {code => $code})->code, 200, '... then the account enrolls');
    {c => $c, f => $f, u => $u, vhost => 'mfa', secret => $e->{secret}, last_step => $step};
};
my $withmfa = mfa_login($a);
my $anon = client(vhost => 'mfa');

# ---- Require authsvc mfa ------------------------------------------------------------------------------

{
    page_ok($withmfa, '/mg/mfa/', 'Require authsvc mfa, a session that passed MFA');
    page_ok($a->{c}, '/mg/mfa/', '... the session that confirmed the enrollment');
    page_ok($withmfa, '/mg/mfa-api/', '... without AuthsvcLoginURL');
    my $p = api_is($early, '/mg/mfa/', 401, 'reauthentication_required',
                   'Require authsvc mfa, an MFA account\'s password-only session');
    prompt_redirect_ok(browser($early, '/mg/mfa/?x=1'), '/login.html', '/mg/mfa/?x=1', 'mfa',
                       '... a browser');
    api_is($plain, '/mg/mfa/', 403, 'mfa_enrollment_required', 'Require authsvc mfa, an account without MFA');
    prompt_redirect_ok(browser($plain, '/mg/mfa/index.html'), '/login.html', '/mg/mfa/index.html', 'mfa_enroll',
                       '... a browser');
    api_is($plain, '/mg/mfa-api/', 403, 'mfa_enrollment_required', '... without AuthsvcLoginURL');
    problem_ok($anon->get('/mg/mfa/', abs => 1), 401, 'unauthenticated', 'Require authsvc mfa, no session');
    prompt_redirect_ok(browser($anon, '/mg/mfa/'), '/login.html', '/mg/mfa/', undef,
                       '... a browser without a session: the plain login redirect');
    page_ok($early, '/mg/any/', 'plain Require authsvc: the password-only session');
    page_ok($plain, '/mg/any/', '... the account without MFA');

    # The password-only session passes after a step-up with a code.
    my $res = $early->post('/auth/reauthenticate', {password => $b->{f}{password}, code => mfa_code($b)});
    is($res->code, 200, 'the password-only session reauthenticates with a code') or diag($res->content);
    page_ok($early, '/mg/mfa/', '... then passes Require authsvc mfa at once');
}

# ---- AuthsvcMFARequired On ---------------------------------------------------------------------------

{
    my $early2 = client(vhost => 'mfa', agent => 'early2/1.0');
    my $c = mfa_account();
    # (a second password-only session of an MFA account: signed in before the enrollment)
    my ($cc, $cf) = account(vhost => 'mfa');
    is($early2->login($cf->{email}, $cf->{password})->code, 200, 'another session signed in before enrollment');
    my $e = mfa_enroll($cc);
    is($cc->post('/users/me/mfa/confirm', {code => totp_code($e->{secret})})->code, 200,
       '... then the account enrolls');

    page_ok($withmfa, '/mg/req/', 'AuthsvcMFARequired On (directory), a session that passed MFA');
    api_is($plain, '/mg/req/', 403, 'mfa_enrollment_required', 'AuthsvcMFARequired On, an account without MFA');
    prompt_redirect_ok(browser($plain, '/mg/req/?a=b'), '/login.html', '/mg/req/?a=b', 'mfa_enroll',
                       '... a browser');
    api_is($early2, '/mg/req/', 401, 'reauthentication_required',
           'AuthsvcMFARequired On, an MFA account\'s password-only session');
    prompt_redirect_ok(browser($early2, '/mg/req/'), '/login.html', '/mg/req/', 'mfa', '... a browser');
    problem_ok($anon->get('/mg/req/', abs => 1), 401, 'unauthenticated', 'AuthsvcMFARequired On, no session');
    api_is($plain, '/mg/req-any/', 403, 'mfa_enrollment_required',
           'AuthsvcMFARequired On where Require authsvc grants inside RequireAny');
    page_ok($withmfa, '/mg/req-any/', '... a session that passed MFA');

    # GET /auth/check?mfa (docs/api.md): the same three answers.
    is($withmfa->get('/auth/check?mfa')->code, 200, '/auth/check?mfa, a session that passed MFA: 200');
    problem_ok($early2->get('/auth/check?mfa'), 401, 'reauthentication_required',
               '/auth/check?mfa, an MFA account\'s password-only session');
    problem_ok($plain->get('/auth/check?mfa'), 403, 'mfa_enrollment_required',
               '/auth/check?mfa, an account without MFA');
    is($plain->get('/auth/check')->code, 200, '/auth/check without mfa, the same account: 200');

    # Server-wide, on the vhost mfareq: /private/ (plain Require authsvc) asks for MFA.
    my ($rc, $rf) = account(vhost => 'mfareq');
    is($rc->get('/users/me')->code, 200, 'AuthsvcMFARequired On (server): the API is not guarded');
    api_is($rc, '/private/', 403, 'mfa_enrollment_required', '... /private/, an account without MFA');
    my $ra = mfa_account(vhost => 'mfareq');
    my $rl = mfa_login($ra);
    is(guard_code($rl, path => '/private/'), 200, '... /private/, a session that passed MFA: 200');
    is(guard_code($plain, path => '/private/'), 200,
       'the same page on the vhost mfa (AuthsvcMFARequired Off, the default): 200');
}

# ---- turning MFA off shows at once ----------------------------------------------------------------------

{
    my $d = mfa_account();
    my $dl = mfa_login($d, recovery_code => $d->{recovery}[0]);
    page_ok($dl, '/mg/req/', 'an MFA session: AuthsvcMFARequired On');
    page_ok($dl, '/mg/mfa/', '... Require authsvc mfa');
    my $res = $dl->del('/users/me/mfa', json => {password => $d->{f}{password}, recovery_code => $d->{recovery}[1]});
    is($res->code, 204, 'the account turns MFA off') or diag($res->content);
    api_is($dl, '/mg/req/', 403, 'mfa_enrollment_required', '... then AuthsvcMFARequired On');
    api_is($dl, '/mg/mfa/', 403, 'mfa_enrollment_required', '... and Require authsvc mfa');
    page_ok($dl, '/mg/any/', '... plain Require authsvc still passes');
}

# ---- AuthsvcMFARequired in .htaccess ------------------------------------------------------------------

my $dir = catdir(htdocs(), 'ht', 'mfa-req');
END { remove_tree($dir) if $dir && -d $dir }
{
    make_path($dir);
    open(my $fh, '>', catfile($dir, 'index.html')) or die "$dir: $!";
    print $fh "<p>authsvc-guard-page</p>\n";
    close $fh;
    open($fh, '>', catfile($dir, '.htaccess')) or die "$dir: $!";
    print $fh "AuthsvcMFARequired On\nRequire authsvc\n";
    close $fh;
    api_is($plain, '/ht/mfa-req/', 403, 'mfa_enrollment_required',
           'AuthsvcMFARequired On in .htaccess, an account without MFA');
    page_ok($withmfa, '/ht/mfa-req/', '... a session that passed MFA');
}

# ---- Require authsvc fresh SECONDS ---------------------------------------------------------------------

{
    my ($c, $f) = account(vhost => 'mfa');
    page_ok($c, '/mg/fresh/', 'Require authsvc fresh 3, just signed in');
    sleep 5;
    my $p = api_is($c, '/mg/fresh/', 401, 'reauthentication_required', 'Require authsvc fresh 3, 5 s later');
    is($p->{max_age}, 3, '... max_age 3') if $p->{code};
    prompt_redirect_ok(browser($c, '/mg/fresh/?q=%20x'), '/login.html', '/mg/fresh/?q=%20x', 'reauthenticate',
                       '... a browser');
    page_ok($c, '/mg/fresh-long/', 'Require authsvc fresh 3600, the same session');
    problem_ok($c->get('/auth/check?fresh=3'), 401, 'reauthentication_required', '/auth/check?fresh=3, 5 s later');
    is($c->get('/auth/check?fresh=3600')->code, 200, '/auth/check?fresh=3600: 200');
    for my $bad ('fresh=abc', 'fresh=0', 'fresh=', 'fresh=31622401', 'fresh=-5') {
        client_error_ok($c->get("/auth/check?$bad"), "/auth/check?$bad");
    }
    my $res = $c->post('/auth/reauthenticate', {password => $f->{password}});
    is($res->code, 200, 'reauthenticate') or diag($res->content);
    page_ok($c, '/mg/fresh/', '... then Require authsvc fresh 3 passes at once');

    # An enrolled account: the second factor counts too.
    page_ok($withmfa, '/mg/fresh-long/', 'Require authsvc fresh 3600, an MFA session');
    my $early3 = client(vhost => 'mfa', agent => 'early3/1.0');
    my ($cc, $cf) = account(vhost => 'mfa');
    is($early3->login($cf->{email}, $cf->{password})->code, 200, 'a session signed in before enrollment');
    my $e = mfa_enroll($cc);
    is($cc->post('/users/me/mfa/confirm', {code => totp_code($e->{secret})})->code, 200,
       '... then the account enrolls');
    api_is($early3, '/mg/fresh-long/', 401, 'reauthentication_required',
           'Require authsvc fresh 3600, an MFA account\'s password-only session');
}

# ---- refused at start-up ---------------------------------------------------------------------------------

{
    my $tmp = tempdir(CLEANUP => 1);
    my $so = catfile(serverroot(), '..', 'mod_authsvc.so');
    my $mods = httpd_modules();
    my $key = catfile($tmp, 'good.key');
    my $n = 0;
    my $write = sub {
        my ($file, $text, $mode) = @_;
        open(my $fh, '>', $file) or die "$file: $!";
        print $fh $text;
        close $fh;
        chmod $mode, $file;
    };
    $write->($key, unpack('H*', join '', map { chr int rand 256 } 1 .. 32) . "\n", 0600);
    my $configtest = sub {
        my ($server, $location) = @_;
        my $file = catfile($tmp, 'case' . ++$n . '.conf');
        $write->($file, join("\n",
            "ServerRoot $tmp", 'ServerName localhost', 'Listen 127.0.0.1:9',
            "PidFile $tmp/httpd.pid", "ErrorLog $tmp/error_log", "DefaultRuntimeDir $tmp",
            "LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so",
            "LoadModule authn_core_module $mods/mod_authn_core.so",
            "LoadModule authz_core_module $mods/mod_authz_core.so",
            "LoadModule dbd_module $mods/mod_dbd.so",
            "LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so",
            "LoadModule authsvc_module $so",
            'DBDriver sqlite3', "DBDParams $tmp/authsvc.db",
            @$server, '<Location /x>', @{ $location || [] }, '</Location>', ''), 0644);
        my $out = qx{"${\ httpd_bin()}" -t -f "$file" 2>&1};
        return ($? >> 8, $out);
    };
    my @ok = (
        [["AuthsvcSecretKeyFile $key", 'AuthsvcMFARequired On'], [], 'AuthsvcMFARequired On with a key'],
        [["AuthsvcSecretKeyFile $key"], ['AuthsvcMFARequired On', 'Require authsvc'],
         'AuthsvcMFARequired On in a <Location>'],
        [["AuthsvcSecretKeyFile $key", 'AuthsvcTOTPWindow 0', 'AuthsvcFreshAuthMaxAge off',
          'AuthsvcMFAIssuer "Example Co"'], [], 'AuthsvcTOTPWindow 0, AuthsvcFreshAuthMaxAge off, an issuer'],
        [['AuthsvcTOTPWindow 10', 'AuthsvcFreshAuthMaxAge 90s'], [], 'AuthsvcTOTPWindow 10, AuthsvcFreshAuthMaxAge 90s'],
        [[], ['Require authsvc mfa'], 'Require authsvc mfa'],
        [[], ['Require authsvc fresh 300'], 'Require authsvc fresh 300'],
    );
    for my $case (@ok) {
        my ($server, $loc, $name) = @$case;
        my ($rc, $out) = $configtest->($server, $loc);
        is($rc, 0, "httpd -t accepts $name") or diag($out);
    }
    my $open = catfile($tmp, 'open.key');
    $write->($open, unpack('H*', 'k' x 32) . "\n", 0644);
    my $short = catfile($tmp, 'short.key');
    $write->($short, unpack('H*', 'k' x 31) . "\n", 0600);
    my @bad = (
        [['AuthsvcMFARequired On'], [], qr/AuthsvcMFARequired.*AuthsvcSecretKeyFile/,
         'AuthsvcMFARequired On without AuthsvcSecretKeyFile'],
        [["AuthsvcSecretKeyFile $open"], [], qr/AuthsvcSecretKeyFile/, 'a key file that others may read'],
        [["AuthsvcSecretKeyFile $short"], [], qr/AuthsvcSecretKeyFile/, 'a key file of 31 bytes'],
        [["AuthsvcSecretKeyFile $tmp/none.key"], [], qr/AuthsvcSecretKeyFile/, 'a missing key file'],
        [['AuthsvcTOTPWindow 11'], [], qr/AuthsvcTOTPWindow/, 'AuthsvcTOTPWindow 11'],
        [['AuthsvcTOTPWindow -1'], [], qr/AuthsvcTOTPWindow/, 'AuthsvcTOTPWindow -1'],
        [['AuthsvcFreshAuthMaxAge soon'], [], qr/AuthsvcFreshAuthMaxAge/, 'AuthsvcFreshAuthMaxAge soon'],
        [['AuthsvcMFARequired maybe'], [], qr/AuthsvcMFARequired/, 'AuthsvcMFARequired maybe'],
        [[], ['Require authsvc fresh'], qr/Require authsvc fresh/, 'Require authsvc fresh without seconds'],
        [[], ['Require authsvc fresh abc'], qr/Require authsvc fresh/, 'Require authsvc fresh abc'],
        [[], ['Require authsvc fresh 10 20'], qr/Require authsvc fresh/, 'Require authsvc fresh 10 20'],
        [[], ['Require authsvc mfa extra'], qr/Require authsvc mfa/, 'Require authsvc mfa extra'],
    );
    for my $case (@bad) {
        my ($server, $loc, $msg, $name) = @$case;
        my ($rc, $out) = $configtest->($server, $loc);
        isnt($rc, 0, "httpd -t refuses $name");
        like($out, $msg, '... and says why') or diag($out);
    }
}

done_testing();
