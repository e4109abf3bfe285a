# The directives: their effect on the running server (mounts, registration, body
# size, password lengths and hashing), and the values httpd must refuse at start-up.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep);
use Test::More;
use AuthsvcTest;

sub user_count { db_value('SELECT count(*) AS n FROM users') }

# An account to sign in with through every mount.
my ($f) = do { my ($r, $f) = client()->register(); ($f) };

# ---- mounts --------------------------------------------------------------------------

{
    my $v1 = client(prefix => '/v1/accounts');
    my ($res, $g) = $v1->register();
    is($res->code, 201, '/v1/accounts: register');
    like($res->header('Location') // '', qr{/v1/accounts/users/me$}, '... Location under that mount');
    is($v1->login($f->{email}, $f->{password})->code, 200, '/v1/accounts: login');
    is($v1->get('/users/me')->code, 200, '/v1/accounts: /users/me');
    problem_ok($v1->post('/api/auth/login', {login => 'a', password => 'b'}), 404, 'not_found',
               '/v1/accounts/api/auth/login');
    is(client(prefix => '/v1')->post('/auth/login', {login => 'a', password => 'b'})->code, 404,
       '/v1/auth/login (outside the mount): 404');
}

# ---- AuthsvcRegistration -------------------------------------------------------------

sub closed_ok {
    my ($c, $name) = @_;
    my $before = user_count();
    my ($res) = $c->register();
    problem_ok($res, 403, 'registration_closed', "$name: register");
    is(user_count(), $before, "$name: no account created");
    is($c->login($f->{email}, $f->{password})->code, 200, "$name: login still works");
    is($c->get('/users/me')->code, 200, "$name: /users/me still works");
}
closed_ok(client(prefix => '/closed'), 'AuthsvcRegistration Off in a <Location>');
closed_ok(client(vhost => 'closed'), 'AuthsvcRegistration Off for a server');
closed_ok(client(prefix => '/nested'), 'AuthsvcRegistration Off in a nested <Location>');
{
    # Registration Off rejects before looking at the body.
    my $res = client(prefix => '/closed')->post('/auth/register', {email => 'bad', password => 'x'});
    problem_ok($res, 403, 'registration_closed', 'registration closed, invalid fields');
}

# ---- AuthsvcMaxBodySize --------------------------------------------------------------

sub body_of {
    my ($n) = @_;
    my $head = '{"login":"nobody@example.org","password":"x","pad":"';
    return $head . ('p' x ($n - length($head) - 2)) . '"}';
}
{
    my $s = client(prefix => '/small');
    problem_ok($s->post('/auth/login', undef, body => body_of(256)), 401, 'invalid_credentials',
               'AuthsvcMaxBodySize 256: 256 octets are read');
    my $p = problem_ok($s->post('/auth/login', undef, body => body_of(257)), 413,
                       'payload_too_large', 'AuthsvcMaxBodySize 256: 257 octets');
    like($p->{detail} // '', qr/\b256\b/, '... the detail names the limit');
    my ($res) = $s->register();
    is($res->code, 201, 'AuthsvcMaxBodySize 256: a normal registration fits');
    my $b = client(prefix => '/big');
    problem_ok($b->post('/auth/login', undef, body => body_of(100_000)), 401, 'invalid_credentials',
               'AuthsvcMaxBodySize 1m: 100000 octets are read');
    problem_ok($b->post('/auth/login', undef, body => body_of(1024 * 1024 + 1)), 413,
               'payload_too_large', 'AuthsvcMaxBodySize 1m: 1 MiB + 1');
}

# ---- AuthsvcPasswordMinLength / MaxLength (custom vhost: 8..16) -----------------------

{
    my $c = client(vhost => 'custom');
    for my $case ([7, 'password_too_short'], [8, undef], [16, undef], [17, 'password_too_long']) {
        my ($n, $code) = @$case;
        my ($res) = $c->register(password => "\x{e9}" x $n);
        if ($code) {
            my $p = problem_ok($res, 422, 'validation_failed', "custom lengths: $n characters");
            fields_ok($p, {password => $code}, "custom lengths: $n characters");
        }
        else {
            is($res->code, 201, "custom lengths: $n characters accepted") or diag($res->content);
        }
    }
    my ($res) = $c->register(password => 'x' x 7);
    my ($e) = @{ (json_body($res) || {})->{errors} || [{}] };
    like($e->{message} // '', qr/\b8\b/, 'the message names the minimum');
}

# ---- AuthsvcPasswordHash -------------------------------------------------------------

{
    my ($res, $g) = client(vhost => 'defaulthash')->register();
    is($res->code, 201, 'register with the default hash parameters');
    like(user_row($g->{email})->{password_hash}, qr/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/,
         'AuthsvcPasswordHash argon2id: m=19456,t=2,p=1 by default');
    like(user_row($f->{email})->{password_hash}, qr/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/,
         'AuthsvcPasswordHash argon2id m=1024 t=1 p=1');
}

# ---- start-up ------------------------------------------------------------------------

like(error_log_since(0), qr/resuming normal operations/, 'the test server started');
my @dup = error_log_since(0) =~ /(AH02653: conflicting SQL statements with label \S+)/g;
is(scalar @dup, 0, 'no "conflicting SQL statements" warnings at start-up (one set of '
   . 'statements per database, not per vhost)')
    or diag(scalar(@dup) . " warnings, e.g. $dup[0]");

# ---- values httpd must refuse --------------------------------------------------------

my $HTTPD = httpd_bin();
my $MODS = httpd_modules();
my $SO = catfile(serverroot(), '..', 'mod_authsvc.so');
my $dir = tempdir('cfg-XXXXXX', DIR => catfile(serverroot(), 'state'), CLEANUP => 1);
mkdir "$dir/logs";

# A complete configuration around EXTRA lines; %o: no_dbd => 1.
sub conf_with {
    my ($extra, %o) = @_;
    my $port = free_port();
    my $conf = join "\n",
        "ServerRoot $dir",
        "LoadModule mpm_" . ($o{mpm} // 'prefork') . "_module $MODS/mod_mpm_" . ($o{mpm} // 'prefork') . '.so',
        "LoadModule authn_core_module $MODS/mod_authn_core.so",
        "LoadModule authz_core_module $MODS/mod_authz_core.so",
        "LoadModule socache_shmcb_module $MODS/mod_socache_shmcb.so",
        ($o{no_dbd} ? () : "LoadModule dbd_module $MODS/mod_dbd.so"),
        "LoadModule authsvc_module $SO",
        'ServerName localhost',
        "Listen 127.0.0.1:$port",
        "PidFile $dir/logs/httpd.pid",
        "ErrorLog $dir/logs/error_log",
        'LogLevel warn',
        'StartServers 1',
        ($o{no_dbd} ? () : ('DBDriver sqlite3', "DBDParams $dir/db.sqlite")),
        'AuthsvcAutoMigrate On',
        'AuthsvcPasswordHash argon2id m=1024 t=1 p=1',
        '<Location /health>', '    SetHandler authsvc-health', '</Location>',
        $extra, '';
    my $file = "$dir/httpd.conf";
    open(my $fh, '>', $file) or die;
    print {$fh} $conf;
    close $fh;
    return ($file, $port);
}

# Start httpd in the foreground; returns (exit status or undef if it kept running, the
# output and the error log). A server that keeps running is stopped.
sub start_httpd {
    my ($file, $port, $wait) = @_;
    unlink "$dir/logs/error_log";
    my $out = "$dir/out";
    my $pid = fork // die;
    if (!$pid) {
        # prefork's parent signals its whole process group when it stops: not ours.
        POSIX::setsid();
        open STDOUT, '>', $out;
        open STDERR, '>&', \*STDOUT;
        exec $HTTPD, '-d', $dir, '-f', $file, '-DFOREGROUND';
        exit 127;
    }
    my ($status, $up) = wait_httpd($pid, $port, $wait);
    if (!defined $status) {
        kill 'TERM', $pid;
        waitpid($pid, 0);
    }
    local $/;
    my $text = '';
    for my $f ($out, "$dir/logs/error_log") {
        open(my $fh, '<', $f) or next;
        $text .= <$fh> // '';
    }
    return ($status, $text, $up);
}

{
    my ($file, $port) = conf_with('');
    my ($status, $text, $up) = start_httpd($file, $port);
    ok(!defined $status && $up, 'the minimal configuration starts') or diag($text);
}

# Mail template directories: one with a template naming an unknown variable, one with
# an unclosed section, one that only replaces a subject.
for my $t (['tpl-unknown', 'verify_email.txt', "Hello {{nobody_knows}}\nCode: {{code}}\n"],
           ['tpl-unclosed', 'reset_password.html', "<p>{{#link}}<a href=\"{{link}}\">x</a></p>\n"],
           ['tpl-subject', 'verify_email.subject', "Welcome to {{site}}\n"],
           # Page templates (AuthsvcTemplates): a name the page does not get, an
           # unclosed section, a raw value, and a good override of one page.
           ['pages-unknown', 'login.html', "<p>{{password}}</p>\n"],
           ['pages-unclosed', 'account.html', "{{#sessions}}<p>{{id}}</p>\n"],
           ['pages-raw', 'login.html', "<p>{{error}}</p>\n<p>{{&login}}</p>\n"],
           ['pages-good', 'message.html', "<h1 id=\"custom\">{{heading}}</h1><p>{{message}}</p>\n"]) {
    my ($sub, $file, $text) = @$t;
    mkdir "$dir/$sub";
    open(my $fh, '>', "$dir/$sub/$file") or die "$dir/$sub/$file: $!";
    print {$fh} $text;
    close $fh;
}

# Key files for AuthsvcSecretKeyFile: a good one, one others may read, one of the wrong
# length, and a directory.
my %key = (good => "$dir/key-good", open => "$dir/key-open", short => "$dir/key-short");
for my $k (['good', 0600, ('ab' x 32) . "\n"], ['open', 0644, ('cd' x 32) . "\n"],
           ['short', 0600, ('ef' x 16) . "\n"]) {
    my ($name, $mode, $text) = @$k;
    open(my $fh, '>', $key{$name}) or die "$key{$name}: $!";
    print {$fh} $text;
    close $fh;
    chmod $mode, $key{$name};
}

# Token signing keys: an Ed25519 key, one others may read, an RSA key too small, an
# HS256 secret, and a P-384 key (no JOSE algorithm here takes it).
my %tkey = map { $_ => "$dir/token-$_" } qw(ed open rsa1024 hs p384);
for my $k (['ed', 0600, 'openssl genpkey -algorithm ed25519'],
           ['open', 0644, 'openssl genpkey -algorithm ed25519'],
           ['rsa1024', 0600, 'openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024'],
           ['p384', 0600, 'openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384']) {
    my ($name, $mode, $cmd) = @$k;
    system("$cmd -out $tkey{$name} 2>/dev/null") == 0 or die "$cmd failed";
    chmod $mode, $tkey{$name};
}
{
    open(my $fh, '>', $tkey{hs}) or die "$tkey{hs}: $!";
    print {$fh} ('0f' x 32) . "\n";
    close $fh;
    chmod 0600, $tkey{hs};
}
my $issuer = 'AuthsvcTokenIssuer https://example.test';

my @refused = (
    ['AuthsvcPasswordMinLength 0',             qr/AuthsvcPasswordMinLength.*between/],
    # Tokens (issue 7).
    ["AuthsvcTokenSigningKey $dir/no-such-key\n$issuer", qr/AuthsvcTokenSigningKey: .*no-such-key/],
    ["AuthsvcTokenSigningKey $tkey{open}\n$issuer", qr/AuthsvcTokenSigningKey: .*token-open gives permissions to others/],
    ["AuthsvcTokenSigningKey $tkey{rsa1024}\n$issuer", qr/AuthsvcTokenSigningKey: .*RSA key of 1024 bits/],
    ["AuthsvcTokenSigningKey $tkey{p384}\n$issuer", qr/AuthsvcTokenSigningKey: .*token-p384/],
    ["AuthsvcTokenSigningKey $tkey{ed} ES256\n$issuer", qr/AuthsvcTokenSigningKey: .*token-ed/],
    ["AuthsvcTokenSigningKey $tkey{ed} none\n$issuer", qr/AuthsvcTokenSigningKey: 'none' is neither an algorithm/],
    ["AuthsvcTokenSigningKey $tkey{ed} EdDSA verify-only extra\n$issuer", qr/AuthsvcTokenSigningKey takes FILE/],
    ["AuthsvcTokenSigningKey $tkey{hs}\n$issuer", qr/AuthsvcTokenSigningKey: .*token-hs/],
    ["AuthsvcTokenSigningKey $tkey{ed}",       qr/needs AuthsvcTokenIssuer or AuthsvcPublicURL/],
    ["AuthsvcTokenSigningKey $tkey{ed} verify-only\n$issuer", qr/every key is verify-only/],
    ["AuthsvcTokenSigningKey $tkey{ed}\nAuthsvcTokenSigningKey $tkey{ed}\n$issuer",
     qr/AuthsvcTokenSigningKey: /],
    ["<Location /x>\nAuthsvcTokenSigningKey $tkey{ed}\n</Location>", qr/AuthsvcTokenSigningKey.*not allowed/],
    ['AuthsvcTokenIssuer "https://a b"',        qr/AuthsvcTokenIssuer/],
    ['AuthsvcTokenAudience ""',                 qr/AuthsvcTokenAudience/],
    ['AuthsvcAccessTokenTTL 5s',               qr/AuthsvcAccessTokenTTL/],
    ['AuthsvcAccessTokenTTL 2d',               qr/AuthsvcAccessTokenTTL/],
    ['AuthsvcRefreshTokenTTL 30s',             qr/AuthsvcRefreshTokenTTL/],
    ['AuthsvcRefreshTokenTTL 400d',            qr/AuthsvcRefreshTokenTTL/],
    ['AuthsvcRefreshReuseGrace 61s',           qr/AuthsvcRefreshReuseGrace/],
    ['AuthsvcRefreshReuseGrace soon',          qr/AuthsvcRefreshReuseGrace/],
    ['AuthsvcClockSkew 6m',                    qr/AuthsvcClockSkew/],
    ['AuthsvcClockSkew -1',                    qr/AuthsvcClockSkew/],
    ['AuthsvcBearer maybe',                    qr/AuthsvcBearer/],
    ["<Location /x>\nAuthsvcRefreshReuseGrace 5s\n</Location>", qr/AuthsvcRefreshReuseGrace.*not allowed/],
    # Two-step sign-in (issue 6).
    ["AuthsvcSecretKeyFile $dir/no-such-key",  qr/AuthsvcSecretKeyFile: cannot .*no-such-key/],
    ["AuthsvcSecretKeyFile $key{open}",        qr/AuthsvcSecretKeyFile: .*key-open gives permissions to others/],
    ["AuthsvcSecretKeyFile $key{short}",       qr/AuthsvcSecretKeyFile: .*key-short does not hold a key/],
    ["AuthsvcSecretKeyFile $dir",              qr/AuthsvcSecretKeyFile.*not a regular file/],
    ["<Location /x>\nAuthsvcSecretKeyFile $key{good}\n</Location>", qr/AuthsvcSecretKeyFile.*not allowed/],
    ['AuthsvcMFAIssuer "Example: Accounts"',   qr/AuthsvcMFAIssuer.*':'/],
    ['AuthsvcMFAIssuer ""',                    qr/AuthsvcMFAIssuer takes one argument/],
    ['AuthsvcMFAIssuer ' . ('x' x 65),         qr/AuthsvcMFAIssuer needs a name of 1-64 bytes/],
    ['AuthsvcTOTPWindow 11',                   qr/AuthsvcTOTPWindow.*between/],
    ['AuthsvcTOTPWindow -1',                   qr/AuthsvcTOTPWindow.*not a number/],
    ['AuthsvcTOTPWindow one',                  qr/AuthsvcTOTPWindow.*not a number/],
    ['AuthsvcFreshAuthMaxAge 0',               qr/AuthsvcFreshAuthMaxAge.*between/],
    ['AuthsvcFreshAuthMaxAge 10x',             qr/AuthsvcFreshAuthMaxAge.*unit/],
    ['AuthsvcFreshAuthMaxAge 400d',            qr/AuthsvcFreshAuthMaxAge.*between/],
    ['AuthsvcMFARequired Maybe',               qr/AuthsvcMFARequired/],
    ['AuthsvcMFARequired On',                  qr/AuthsvcMFARequired On needs AuthsvcSecretKeyFile/],
    ['AuthsvcPasswordMinLength twelve',        qr/AuthsvcPasswordMinLength.*not a number/],
    ['AuthsvcPasswordMaxLength 5000',          qr/AuthsvcPasswordMaxLength.*between/],
    ['AuthsvcPasswordMaxLength 12k',           qr/AuthsvcPasswordMaxLength/],
    ['AuthsvcSessionIdleTimeout 5x',           qr/AuthsvcSessionIdleTimeout.*unit/],
    ['AuthsvcSessionIdleTimeout 0',            qr/AuthsvcSessionIdleTimeout.*between/],
    ['AuthsvcSessionIdleTimeout -5m',          qr/AuthsvcSessionIdleTimeout/],
    ['AuthsvcSessionMaxAge 400d',              qr/AuthsvcSessionMaxAge.*between/],
    ['AuthsvcSessionMaxAge 99999999999999999999', qr/AuthsvcSessionMaxAge/],
    ['AuthsvcCookieSameSite Sideways',         qr/AuthsvcCookieSameSite.*Strict, Lax or None/],
    ['AuthsvcCookieName "bad name"',           qr/AuthsvcCookieName.*not a valid cookie name/],
    ['AuthsvcCookieName a;b',                  qr/AuthsvcCookieName.*not a valid cookie name/],
    ['AuthsvcCookieName a=b',                  qr/AuthsvcCookieName.*not a valid cookie name/],
    ['AuthsvcCookieDomain ex_ample.com',       qr/AuthsvcCookieDomain.*not a domain/],
    ['AuthsvcCookieDomain "a b.com"',          qr/AuthsvcCookieDomain/],
    ['AuthsvcMaxBodySize 10',                  qr/AuthsvcMaxBodySize.*between/],
    ['AuthsvcMaxBodySize 17m',                 qr/AuthsvcMaxBodySize.*between/],
    ['AuthsvcMaxBodySize 1g',                  qr/AuthsvcMaxBodySize.*unit/],
    ['AuthsvcPasswordHash bcrypt',             qr/AuthsvcPasswordHash/],
    ['AuthsvcPasswordHash argon2id m=1',       qr/AuthsvcPasswordHash/],
    ['AuthsvcPasswordHash argon2id x=1',       qr/AuthsvcPasswordHash/],
    ['AuthsvcPasswordHash argon2id t=0',       qr/AuthsvcPasswordHash/],
    ['AuthsvcAutoMigrate Maybe',               qr/AuthsvcAutoMigrate/],
    ['AuthsvcCookieSecure yes',                qr/AuthsvcCookieSecure/],
    ['AuthsvcCache nosuchprovider',            qr/AuthsvcCache.*nosuchprovider/],
    ['AuthsvcCacheTTL 0',                      qr/AuthsvcCacheTTL.*between/],
    ['AuthsvcCacheTTL 2h',                     qr/AuthsvcCacheTTL.*between/],
    ["<VirtualHost *:80>\nAuthsvcCache none\n</VirtualHost>", qr/AuthsvcCache/],
    ["<Location /x>\nAuthsvcSessionMaxAge 1h\n</Location>", qr/AuthsvcSessionMaxAge.*not allowed/],
    ["<Location /x>\nAuthsvcCookieName x\n</Location>",     qr/AuthsvcCookieName.*not allowed/],
    ["<Location /x>\nRequire authsvc admins\n</Location>",  qr/Require authsvc.*admins/],
    # Checked across directives once the configuration is read.
    ["AuthsvcPasswordMinLength 20\nAuthsvcPasswordMaxLength 16",
     qr/AuthsvcPasswordMinLength is greater than AuthsvcPasswordMaxLength/],
    ["AuthsvcSessionIdleTimeout 2h\nAuthsvcSessionMaxAge 1h",
     qr/AuthsvcSessionIdleTimeout is longer than AuthsvcSessionMaxAge/],
    ["AuthsvcCookieSameSite None\nAuthsvcCookieSecure Off",
     qr/SameSite None requires AuthsvcCookieSecure On/],
    ["AuthsvcCookieName __Host-s\nAuthsvcCookieSecure On\nAuthsvcCookieDomain example.test",
     qr/__Host- cookie cannot have AuthsvcCookieDomain/],
    ["AuthsvcCookieName __Host-s\nAuthsvcCookieSecure Off", qr/__Host-s needs AuthsvcCookieSecure On/],
    ["AuthsvcCookieName __Secure-s\nAuthsvcCookieSecure Off", qr/__Secure-s needs AuthsvcCookieSecure On/],
    ["<VirtualHost *:80>\nAuthsvcPasswordMinLength 200\n</VirtualHost>",
     qr/AuthsvcPasswordMinLength is greater than AuthsvcPasswordMaxLength/],
    ['DBDInitSQL "PRAGMA foreign_keys = ON"',  qr/PRAGMA foreign_keys.*invalidate/],
    ['DBDInitSQL "PRAGMA journal_mode=WAL"',   qr/PRAGMA journal_mode.*invalidate/],
    # Account lifecycle and mail (issue 4).
    ['AuthsvcPasswordComplexity 5',            qr/AuthsvcPasswordComplexity/],
    ['AuthsvcPasswordComplexity -1',           qr/AuthsvcPasswordComplexity/],
    ['AuthsvcPasswordComplexity three',        qr/AuthsvcPasswordComplexity/],
    ['AuthsvcPasswordHistory 25',              qr/AuthsvcPasswordHistory/],
    ['AuthsvcPasswordHistory x',               qr/AuthsvcPasswordHistory/],
    ["AuthsvcPasswordBlocklist $dir/no-such-list.txt", qr/AuthsvcPasswordBlocklist/],
    ['AuthsvcRequireVerifiedEmail Maybe',      qr/AuthsvcRequireVerifiedEmail/],
    ['AuthsvcVerifyTokenTTL 5x',               qr/AuthsvcVerifyTokenTTL/],
    ['AuthsvcVerifyTokenTTL 0',                qr/AuthsvcVerifyTokenTTL/],
    ['AuthsvcResetTokenTTL soon',              qr/AuthsvcResetTokenTTL/],
    ['AuthsvcResetTokenTTL 0',                 qr/AuthsvcResetTokenTTL/],
    ['AuthsvcMailTransport pigeon:coop',       qr/AuthsvcMailTransport/],
    ['AuthsvcMailTransport smtp://',           qr/AuthsvcMailTransport/],
    ['AuthsvcMailTransport file:',             qr/AuthsvcMailTransport/],
    ['AuthsvcMailTransport sendmail:',         qr/AuthsvcMailTransport/],
    ['AuthsvcMailRetry 30s 1h',                qr/AuthsvcMailRetry/],
    ['AuthsvcMailRetry 30x 1h 2d',             qr/AuthsvcMailRetry/],
    ['AuthsvcMailFrom no-at-sign',             qr/AuthsvcMailFrom/],
    ['AuthsvcMailFrom "a b@example.org"',       qr/AuthsvcMailFrom/],
    ['AuthsvcPublicURL example.com/api',       qr/AuthsvcPublicURL/],
    ["AuthsvcMailTemplates $dir/no-such-dir",  qr/AuthsvcMailTemplates/],
    ["AuthsvcMailTemplates $dir/tpl-unknown",  qr/AuthsvcMailTemplates.*nobody_knows/],
    ["AuthsvcMailTemplates $dir/tpl-unclosed", qr/AuthsvcMailTemplates.*link/],
    # Abuse protection (issue 5).
    ['AuthsvcRateLimit login',                 qr/AuthsvcRateLimit/],
    ['AuthsvcRateLimit login 10',              qr/AuthsvcRateLimit/],
    ['AuthsvcRateLimit login 0/1m',            qr/AuthsvcRateLimit/],
    ['AuthsvcRateLimit login 1000001/1m',      qr/AuthsvcRateLimit/],
    ['AuthsvcRateLimit login -1/1m',           qr/AuthsvcRateLimit/],
    ['AuthsvcRateLimit login ten/1m',          qr/AuthsvcRateLimit/],
    ['AuthsvcRateLimit login 10/0',            qr/AuthsvcRateLimit/],
    ['AuthsvcRateLimit login 10/2d',           qr/AuthsvcRateLimit/],
    ['AuthsvcRateLimit login 10/1x',           qr/AuthsvcRateLimit/],
    ['AuthsvcRateLimit login 10/',             qr/AuthsvcRateLimit/],
    ['AuthsvcRateLimit login /1m',             qr/AuthsvcRateLimit/],
    ['AuthsvcRateLimit login 10/1m user',      qr/AuthsvcRateLimit/],
    ['AuthsvcRateLimit login 10/1m ip extra',  qr/AuthsvcRateLimit/],
    ['AuthsvcRateLimit sms 10/1m',             qr/AuthsvcRateLimit.*sms/],
    ['AuthsvcRateLimit 10/1m',                 qr/AuthsvcRateLimit/],
    ["<Location /x>\nAuthsvcRateLimit login 10/1m\n</Location>", qr/AuthsvcRateLimit.*not allowed/],
    ['AuthsvcRateLimitIPv6Prefix 0',           qr/AuthsvcRateLimitIPv6Prefix/],
    ['AuthsvcRateLimitIPv6Prefix 129',         qr/AuthsvcRateLimitIPv6Prefix/],
    ['AuthsvcRateLimitIPv6Prefix /64',         qr/AuthsvcRateLimitIPv6Prefix/],
    ['AuthsvcLoginBackoff 1s',                 qr/AuthsvcLoginBackoff/],
    ['AuthsvcLoginBackoff on',                 qr/AuthsvcLoginBackoff/],
    ['AuthsvcLoginBackoff 1x 5m',              qr/AuthsvcLoginBackoff/],
    ['AuthsvcLoginBackoff 1s soon',            qr/AuthsvcLoginBackoff/],
    ['AuthsvcLoginBackoff 1s 5m 1h',           qr/AuthsvcLoginBackoff/],
    ['AuthsvcLoginBackoff 10m 1m',             qr/AuthsvcLoginBackoff/],
    ['AuthsvcLoginBackoff 2h 1d',              qr/AuthsvcLoginBackoff/],
    ['AuthsvcLoginBackoff 1s 2d',              qr/AuthsvcLoginBackoff/],
    ['AuthsvcLoginBackoff 0 1m',               qr/AuthsvcLoginBackoff/],
    ['AuthsvcHashConcurrency 0',               qr/AuthsvcHashConcurrency/],
    ['AuthsvcHashConcurrency 1025',            qr/AuthsvcHashConcurrency/],
    ['AuthsvcHashConcurrency two',             qr/AuthsvcHashConcurrency/],
    ['AuthsvcHashConcurrency 4 31s',           qr/AuthsvcHashConcurrency/],
    ['AuthsvcHashConcurrency 4 1m',            qr/AuthsvcHashConcurrency/],
    ['AuthsvcHashConcurrency 4 5x',            qr/AuthsvcHashConcurrency/],
    ['AuthsvcHashConcurrency 4 -1s',           qr/AuthsvcHashConcurrency/],
    ["<Location /x>\nAuthsvcHashConcurrency 4\n</Location>", qr/AuthsvcHashConcurrency.*not allowed/],
    ['AuthsvcLockout 0 15m 15m',               qr/AuthsvcLockout/],
    ['AuthsvcLockout 1001 15m 15m',            qr/AuthsvcLockout/],
    ['AuthsvcLockout ten 15m 15m',             qr/AuthsvcLockout/],
    ['AuthsvcLockout 10 0 15m',                qr/AuthsvcLockout/],
    ['AuthsvcLockout 10 2d 15m',               qr/AuthsvcLockout/],
    ['AuthsvcLockout 10 15m 0',                qr/AuthsvcLockout/],
    ['AuthsvcLockout 10 15m 31d',              qr/AuthsvcLockout/],
    ['AuthsvcLockout 10 15m 15x',              qr/AuthsvcLockout/],
    ['AuthsvcLockout 10 15m 1h 30m',           qr/AuthsvcLockout/],
    ['AuthsvcLockout 10 15m 15m 366d',         qr/AuthsvcLockout/],
    ['AuthsvcLockout 10 15m',                  qr/AuthsvcLockout/],
    ['AuthsvcLockout 10',                      qr/AuthsvcLockout/],
    ['AuthsvcLockout on',                      qr/AuthsvcLockout/],
    ["<Location /x>\nAuthsvcLockout 5 1m 1m\n</Location>", qr/AuthsvcLockout.*not allowed/],
    ['AuthsvcLockoutReveal Maybe',             qr/AuthsvcLockoutReveal/],
    ['AuthsvcHoneypotField',                   qr/AuthsvcHoneypotField/],
    ['AuthsvcHoneypotField a b',               qr/AuthsvcHoneypotField/],
    ['AuthsvcHoneypotField "a b"',             qr/AuthsvcHoneypotField/],
    ['AuthsvcHoneypotField ' . ('f' x 65),     qr/AuthsvcHoneypotField/],
    ['AuthsvcHoneypotField email',             qr/AuthsvcHoneypotField.*email/],
    ['AuthsvcHoneypotField Password',          qr/AuthsvcHoneypotField.*Password/],
    # Pages, CSRF and CORS (issue 8).
    ["AuthsvcTemplates $dir/no-such-dir",      qr/AuthsvcTemplates: cannot read/],
    ["AuthsvcTemplates $key{good}",            qr/AuthsvcTemplates: .*is not a directory/],
    ["AuthsvcTemplates $dir/pages-unknown",    qr/AuthsvcTemplates: .*login\.html: line 1: unknown variable "password"/],
    ["AuthsvcTemplates $dir/pages-unclosed",   qr/AuthsvcTemplates: .*account\.html: .*sessions/],
    ["AuthsvcTemplates $dir/pages-raw",        qr/AuthsvcTemplates: .*login\.html: line 2: only body, alerts and qr_svg may be inserted unescaped/],
    ["<Location /x>\nAuthsvcTemplates $dir/pages-good\n</Location>", qr/AuthsvcTemplates.*not allowed/],
    ['AuthsvcCORS *',                          qr/AuthsvcCORS: "\*" is not an origin/],
    ['AuthsvcCORS app.example.com',            qr/AuthsvcCORS: "app\.example\.com" is not an origin/],
    ['AuthsvcCORS https://app.example.com/path', qr/AuthsvcCORS/],
    ['AuthsvcCORS https://user@app.example.com', qr/AuthsvcCORS/],
    ['AuthsvcCORS ftp://app.example.com',      qr/AuthsvcCORS/],
    ['AuthsvcTrustedOrigin null',              qr/AuthsvcTrustedOrigin: "null" is not an origin/],
    ['AuthsvcTrustedOrigin https://',          qr/AuthsvcTrustedOrigin/],
    ['AuthsvcReturnToAllow https://app.example.com', qr/AuthsvcReturnToAllow: .*not a host name/],
    ['AuthsvcReturnToAllow app.example.com:0', qr/AuthsvcReturnToAllow/],
    ['AuthsvcReturnToAllow app.example.com:99999', qr/AuthsvcReturnToAllow/],
    ['AuthsvcReturnToAllow a/b',               qr/AuthsvcReturnToAllow/],
    ['AuthsvcLoginSuccessURL //evil.example',  qr/AuthsvcLoginSuccessURL must be a path/],
    ['AuthsvcLoginSuccessURL javascript:alert(1)', qr/AuthsvcLoginSuccessURL must be a path/],
    ["<Location /x>\nAuthsvcCORS https://a.example\n</Location>", qr/AuthsvcCORS.*not allowed/],
    # Operations (issue 9).
    ['AuthsvcAuditLog syslog',                 qr/AuthsvcAuditLog must be db, log or both/],
    ['AuthsvcAuditRetention -1',               qr/AuthsvcAuditRetention.*not a number/],
    ['AuthsvcAuditRetention 30d',              qr/AuthsvcAuditRetention: unknown unit/],
    ['AuthsvcAuditRetention 36501',            qr/AuthsvcAuditRetention.*between 0 and 36500/],
    ["<Location /x>\nAuthsvcAuditLog log\n</Location>", qr/AuthsvcAuditLog.*not allowed/],
    ['AuthsvcAdminRequireMFA maybe',           qr/AuthsvcAdminRequireMFA must be On or Off/],
    ["<Location /x>\nAuthsvcAdminRequireMFA Off\n</Location>",
     qr/AuthsvcAdminRequireMFA.*not allowed/],
);
for my $case (@refused) {
    my ($extra, $why) = @$case;
    (my $name = $extra) =~ s/\n/; /g;
    my ($file, $port) = conf_with($extra);
    my ($status, $text, $up) = start_httpd($file, $port);
    ok(defined $status && $status != 0 && !$up, "refused: $name") or diag($text);
    like($text, $why, "... saying why") unless !defined $status;
}
{
    my ($file, $port) = conf_with('', no_dbd => 1);
    my ($status, $text) = start_httpd($file, $port);
    ok(defined $status && $status != 0, 'refused: no mod_dbd');
    like($text, qr/needs mod_dbd/, '... saying so');
}

# A busy timeout under a threaded MPM starts, with a warning saying why not to.
{
    my ($file, $port) = conf_with('DBDInitSQL "PRAGMA busy_timeout=5000"', mpm => 'event');
    my ($status, $text, $up) = start_httpd($file, $port);
    ok(!defined $status && $up, 'busy_timeout under the event MPM: starts') or diag($text);
    like($text, qr/busy_timeout.*threaded MPM/, '... with a warning');
}

# Without a cache there are no counters: rate limits and backoff are off, and a warning
# at start-up says so.
{
    my ($file, $port) = conf_with("AuthsvcCache none\nAuthsvcRateLimit login 10/1m");
    my ($status, $text, $up) = start_httpd($file, $port);
    ok(!defined $status && $up, 'AuthsvcCache none with rate limits: starts') or diag($text);
    like($text, qr/warn.*(rate.limit|AuthsvcRateLimit)/i, '... with a warning about rate limits')
        or diag($text);
}

# A template directory that overrides one page, and the origin directives, start.
{
    my ($file, $port) = conf_with("AuthsvcTemplates $dir/pages-good\n"
                                  . "AuthsvcCORS https://app.example.com http://localhost:3000\n"
                                  . "AuthsvcTrustedOrigin https://App.Example.org:8443\n"
                                  . "AuthsvcReturnToAllow app.example.com shop.example.com:8443\n"
                                  . "AuthsvcLoginSuccessURL /welcome");
    my ($status, $text, $up) = start_httpd($file, $port);
    ok(!defined $status && $up, 'AuthsvcTemplates with one page overridden, and the '
                                . 'origin directives: starts') or diag($text);
}

# A plain-HTTP origin other than loopback is trusted with the cookie only with a warning.
{
    my ($file, $port) = conf_with("AuthsvcTrustedOrigin http://app.example.com\n"
                                  . "AuthsvcCORS http://localhost:3000");
    my ($status, $text, $up) = start_httpd($file, $port);
    ok(!defined $status && $up, 'a plain-HTTP trusted origin: starts') or diag($text);
    like($text, qr/warn.*AuthsvcTrustedOrigin http:\/\/app\.example\.com: a plain-HTTP origin/,
         '... with a warning naming it');
    unlike($text, qr/AuthsvcCORS http:\/\/localhost:3000: a plain-HTTP origin/,
           '... and none for a loopback origin');
}

# Accepted spellings.
for my $extra ('AuthsvcSessionIdleTimeout 90', 'AuthsvcSessionIdleTimeout 2H',
               'AuthsvcSessionMaxAge 1d', 'AuthsvcMaxBodySize 64',
               'AuthsvcMaxBodySize 16M', 'AuthsvcCookieSameSite strict',
               "AuthsvcCookieSameSite None\nAuthsvcCookieSecure On",
               "AuthsvcCookieName __Host-x\nAuthsvcCookieSecure On",
               'AuthsvcCookieDomain sub.example-test.org',
               "<Location /api>\nSetHandler authsvc\nAuthsvcRegistration Off\nAuthsvcMaxBodySize 4k\n</Location>",
               "<Location /p>\nRequire authsvc\n</Location>",
               'AuthsvcPasswordHash argon2id m=8192 t=3 p=2',
               'AuthsvcCache none', 'AuthsvcCacheTTL 10s', 'AuthsvcCacheTTL 1h',
               "AuthsvcCache shmcb:$dir/cache(65536)",
               'AuthsvcPasswordComplexity 4', 'AuthsvcPasswordHistory 24',
               'AuthsvcPasswordBlocklist none', 'AuthsvcPasswordBlocklist builtin',
               'AuthsvcRequireVerifiedEmail On', 'AuthsvcVerifyTokenTTL 2d',
               'AuthsvcResetTokenTTL 15m', 'AuthsvcMailRetry 30s 1h 2d',
               'AuthsvcMailFrom accounts@example.com "Example Inc."',
               'AuthsvcPublicURL https://example.com/api',
               'AuthsvcMailTransport "sendmail:/usr/sbin/sendmail -t -i"',
               'AuthsvcMailTransport smtp://mail.example.com:587',
               'AuthsvcMailTransport smtps://mail.example.com:465',
               "AuthsvcMailTransport file:$dir", "AuthsvcMailTemplates $dir/tpl-subject",
               "<VirtualHost *:80>\nAuthsvcMailTransport file:$dir\nAuthsvcPasswordHistory 5\n</VirtualHost>",
               # Abuse protection (issue 5).
               'AuthsvcRateLimit login 10/1m', "AuthsvcRateLimit login 10/1m ip\nAuthsvcRateLimit login 5/1m account",
               'AuthsvcRateLimit register 3/1h both', 'AuthsvcRateLimit forgot 5/10m',
               'AuthsvcRateLimit verify 100/30s', 'AuthsvcRateLimit verify 10/60',
               'AuthsvcRateLimit mfa 1/1d', 'AuthsvcRateLimit refresh 1000000/1s',
               'AuthsvcRateLimit login off', 'AuthsvcRateLimit login off account',
               'AuthsvcRateLimitIPv6Prefix 48', 'AuthsvcRateLimitIPv6Prefix 128',
               'AuthsvcRateLimitIPv6Prefix 1',
               'AuthsvcLoginBackoff off', 'AuthsvcLoginBackoff 1s 5m', 'AuthsvcLoginBackoff 2s 1h',
               'AuthsvcHashConcurrency 1', 'AuthsvcHashConcurrency 1024 30s',
               'AuthsvcHashConcurrency 4 250ms', 'AuthsvcHashConcurrency 4 0',
               'AuthsvcLockout off', 'AuthsvcLockout 10 15m 15m', 'AuthsvcLockout 10 15m 15m 24h',
               # Two-step sign-in (issue 6).
               "AuthsvcSecretKeyFile $key{good}",
               "AuthsvcSecretKeyFile $key{good}\nAuthsvcSecretKeyFile $key{good}",
               "AuthsvcSecretKeyFile $key{good}\nAuthsvcMFARequired On",
               "<Location /p>\nRequire authsvc mfa\nAuthsvcMFARequired On\n</Location>",
               "<Location /p>\nRequire authsvc fresh 300\n</Location>",
               'AuthsvcMFAIssuer "Example Accounts & Co"', 'AuthsvcTOTPWindow 0',
               'AuthsvcTOTPWindow 10', 'AuthsvcFreshAuthMaxAge off', 'AuthsvcFreshAuthMaxAge 5m',
               'AuthsvcLockout 1 1s 1s', 'AuthsvcLockout 1000 1d 30d 365d', 'AuthsvcLockout 5 1m 2d',
               'AuthsvcLockoutReveal On', 'AuthsvcLockoutReveal off',
               # Tokens (issue 7).
               "AuthsvcTokenSigningKey $tkey{ed}\n$issuer",
               "AuthsvcTokenSigningKey $tkey{ed} EdDSA\nAuthsvcPublicURL https://example.test/api",
               "AuthsvcTokenSigningKey $tkey{hs} HS256 verify-only\nAuthsvcTokenSigningKey $tkey{ed}\n$issuer",
               "AuthsvcTokenSigningKey $tkey{ed}\n$issuer\nAuthsvcTokenAudience urn:example:app\n"
                   . "AuthsvcAccessTokenTTL 10s\nAuthsvcRefreshTokenTTL 1m\nAuthsvcRefreshReuseGrace 60s\n"
                   . "AuthsvcClockSkew 0",
               'AuthsvcAccessTokenTTL 24h', 'AuthsvcRefreshTokenTTL 365d', 'AuthsvcRefreshReuseGrace 0',
               'AuthsvcClockSkew 5m',
               "<Location /p>\nRequire authsvc\nAuthsvcBearer Off\n</Location>",
               "<Location /api>\nSetHandler authsvc\n</Location>\n<Location /api/auth/introspect>\n"
                   . "AuthsvcIntrospect On\nRequire all granted\n</Location>",
               'AuthsvcHoneypotField none', 'AuthsvcHoneypotField homepage_url',
               "<VirtualHost *:80>\nAuthsvcRateLimit login 3/1h ip\nAuthsvcLockout 3 1h 3s 6s\n"
                   . "AuthsvcHashConcurrency 2 100ms\nAuthsvcHoneypotField fax\n</VirtualHost>") {
    (my $name = $extra) =~ s/\n/; /g;
    my ($file, $port) = conf_with($extra);
    my ($status, $text, $up) = start_httpd($file, $port);
    ok(!defined $status && $up, "accepted: $name") or diag($text);
}

done_testing();
