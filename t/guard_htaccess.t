# "Require authsvc" in <Directory> sections and in .htaccess files (AllowOverride
# AuthConfig), with the per-directory Authsvc* directives there too. The files:
# htdocs/dirguard (a <Directory> in t/conf/extra.conf.in), htdocs/ht/.htaccess
# (role auditor, AuthsvcUnauthAction 401), htdocs/ht/sub/.htaccess (verified, redirect,
# AuthsvcRemoteUser username), htdocs/ht/bad/.htaccess (refused), and one this test
# writes (htdocs/ht/byid: a user by id).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Path qw(make_path remove_tree);
use File::Spec::Functions qw(catfile catdir);
use Test::More;
use AuthsvcTest;

my $HTML = 'text/html,application/xhtml+xml,*/*;q=0.8';
my $PAGE = qr/authsvc-ht-page/;

my ($auditor, $af, $au) = account(roles => 'auditor', username => unique_username('ha'));
my ($vauditor, $vf, $vu) = account(roles => 'reader auditor', verified => 1,
                                   username => unique_username('hv'));
my ($verified, $ef, $eu) = account(verified => 1, username => unique_username('he'));
my ($plain, $pf, $pu) = account();
my $anon = client();

# ---- a <Directory> section -----------------------------------------------------------------

{
    my $res = $verified->get('/dirguard/', abs => 1);
    is($res->code, 200, '<Directory> with Require authsvc verified, a verified account: 200');
    like($res->content, qr/authsvc-dirguard-page/, '... the page');
    problem_ok($plain->get('/dirguard/', abs => 1), 403, 'forbidden', '<Directory>, unverified');
    problem_ok($anon->get('/dirguard/index.html', abs => 1), 401, 'unauthenticated',
               '<Directory>, no session');
}

# ---- .htaccess: Require authsvc role auditor, AuthsvcUnauthAction 401 ---------------------

{
    my $res = $auditor->get('/ht/', abs => 1);
    is($res->code, 200, '.htaccess role auditor, an auditor: 200');
    like($res->content, $PAGE, '... the page');
    $res = $auditor->get('/ht/whoami.shtml', abs => 1);
    is($res->content, "user=$au->{email};type=authsvc;\n", '... REMOTE_USER and AUTH_TYPE');
    is($vauditor->get('/ht/', abs => 1)->code, 200, '... an account with several roles: 200');
    problem_ok($plain->get('/ht/', abs => 1), 403, 'forbidden', '.htaccess, without the role');
    problem_ok($verified->get('/ht/whoami.shtml', abs => 1), 403, 'forbidden',
               '.htaccess, verified but without the role');

    $res = $anon->get('/ht/', abs => 1);
    problem_ok($res, 401, 'unauthenticated', '.htaccess, no session, an API client');
    is($res->header('WWW-Authenticate'), 'Authsvc', '... WWW-Authenticate');
    $res = $anon->get('/ht/', abs => 1, headers => [Accept => $HTML]);
    is($res->code, 401, '.htaccess AuthsvcUnauthAction 401, a browser: 401 despite the login URL');
    ok(!defined $res->header('Location'), '... no Location');
    is($res->header('WWW-Authenticate'), 'Authsvc', '... WWW-Authenticate');
    unlike($res->content, $PAGE, '... not the page');
}

# ---- a nested .htaccess: its Require replaces the parent's -------------------------------

{
    my $res = $vauditor->get('/ht/sub/whoami.shtml', abs => 1);
    is($res->code, 200, 'ht/sub (Require authsvc verified), verified: 200');
    is($res->content, "user=$vf->{username};type=authsvc;\n",
       '... AuthsvcRemoteUser username from the .htaccess');
    $res = $verified->get('/ht/sub/', abs => 1);
    is($res->code, 200, 'ht/sub, verified without the parent\'s role: 200 (AuthMerging Off)');
    like($res->content, $PAGE, '... the page');
    problem_ok($auditor->get('/ht/sub/', abs => 1), 403, 'forbidden',
               'ht/sub, the parent\'s role but unverified');

    $res = $anon->get('/ht/sub/?x=1', abs => 1, headers => [Accept => $HTML]);
    is($res->code, 302, 'ht/sub (AuthsvcUnauthAction redirect), a browser: 302');
    is(lc($res->header('Location') // ''), lc('/login.html?return_to=%2Fht%2Fsub%2F%3Fx%3D1'),
       '... to the login URL of the parent .htaccess, with return_to');
    problem_ok($anon->get('/ht/sub/', abs => 1), 401, 'unauthenticated', 'ht/sub, an API client');
}

# ---- a .htaccess with a bad Require line ----------------------------------------------------

{
    my $mark = error_log_mark();
    my $res = $auditor->get('/ht/bad/', abs => 1);
    is($res->code, 500, 'a .htaccess with "Require authsvc fresh abc": 500');
    unlike($res->content, $PAGE, '... not the page');
    is($anon->get('/ht/bad/', abs => 1)->code, 500, '... without a session too');
    like(error_log_since($mark), qr{ht/bad/\.htaccess: Require authsvc fresh\b},
         '... the error log names the file and the reason');
}

# ---- a .htaccess written now: Require authsvc user ID, read again on every request --------

my $dir = catdir(htdocs(), 'ht', 'byid');
END { remove_tree($dir) if $dir && -d $dir }
{
    make_path($dir);
    my $write = sub {
        my ($text) = @_;
        my $file = catfile($dir, '.htaccess');
        open(my $fh, '>', "$file.tmp") or die "$file: $!";
        print $fh $text;
        close $fh;
        rename "$file.tmp", $file or die "$file: $!";
    };
    open(my $fh, '>', catfile($dir, 'index.html')) or die "$dir: $!";
    print $fh "<p>authsvc-ht-page</p>\n";
    close $fh;

    $write->("AuthsvcUnauthAction 401\nRequire authsvc user $pu->{id}\n");
    is($plain->get('/ht/byid/', abs => 1)->code, 200, 'Require authsvc user ID in .htaccess, that user: 200');
    problem_ok($auditor->get('/ht/byid/', abs => 1), 403, 'forbidden', '... another user');
    problem_ok($anon->get('/ht/byid/', abs => 1), 401, 'unauthenticated', '... no session');

    $write->("AuthsvcUnauthAction 401\nRequire authsvc user $au->{id} " . uc($vf->{username}) . "\n");
    is($auditor->get('/ht/byid/', abs => 1)->code, 200, 'the .htaccess changed: the new user by id: 200');
    is($vauditor->get('/ht/byid/', abs => 1)->code, 200, '... a user by username (in upper case): 200');
    problem_ok($plain->get('/ht/byid/', abs => 1), 403, 'forbidden', '... the old user: 403 at once');
}

done_testing();
