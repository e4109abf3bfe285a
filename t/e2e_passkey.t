# Passkeys end to end in a real browser (issue 11): t/e2e/passkey.py drives headless
# Chromium with its virtual authenticator through: register and sign in -> "Add a
# passkey" on the account page -> sign out -> "Sign in with a passkey" from a page
# behind Require authsvc mfa, back to it -> the credential's counter rewound -> the
# next passkey sign-in refused. The server is the one of t/conf/extra.conf.in whose
# AuthsvcPublicURL is http://localhost:AUTHSVC_PK_E2E_PORT/api (WebAuthn needs the
# page's origin to be the relying party's). Screenshots go to
# t/artefacts/e2e-passkey/BACKEND/.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Path qw(make_path);
use File::Spec::Functions qw(catfile catdir);
use Test::More;
use AuthsvcTest;

my $PY = '/usr/bin/python3';
my @missing = grep { !-x $_ } '/usr/bin/chromium', '/usr/bin/chromedriver', $PY;
push @missing, 'python3-selenium'
    if -x $PY && system("$PY -c 'import selenium' >/dev/null 2>&1") != 0;
plan skip_all => "not installed: @missing (tools/dev/deps.sh installs them)" if @missing;

my $port = conf_define('AUTHSVC_PK_E2E_PORT') or BAIL_OUT('no AUTHSVC_PK_E2E_PORT');
my $shots = catdir(serverroot(), 'artefacts', 'e2e-passkey', backend() . "-$$");
make_path($shots);
browser_tap(300, $PY, catfile(serverroot(), 'e2e', 'passkey.py'),
            '--base', "http://localhost:$port", '--mount', '/api', '--guarded', '/tg/mfa/',
            '--shots', $shots);
note("screenshots: $shots");
