# The offline breached-password corpus (AuthsvcPasswordBreachCorpus,
# AuthsvcPasswordBreachMinCount) at registration and password change, in both file
# formats; authsvc-admin breach-index; the files httpd refuses at start-up.
# Vhosts (t/conf/extra.conf.in): breachtext (the Pwned Passwords text file, min count 1),
# breachindex (the compact index, min count 2); the main server has no corpus.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use Test::More;
use AuthsvcTest;

# In t/conf/breach.txt (and .idx) with these counts.
my $PW1000 = 'Breached-Horse-Staple-19';
my $PW2    = 'Seen-Twice-Horse-Staple';
my $PW1    = 'Seen-Once-Horse-Staple';
my $CONF = catfile(serverroot(), 'conf');

sub reg_refused {
    my ($vhost, $pw, $name) = @_;
    my $email = unique_email('brc');
    my ($res) = client(vhost => $vhost)->register(email => $email, password => $pw);
    my $p = problem_ok($res, 422, 'password_breached', $name);
    fields_ok($p, {password => 'password_breached'}, $name);
    ok(!user_row($email), "$name: no account");
}

sub reg_ok {
    my ($vhost, $pw, $name) = @_;
    my ($res) = client(vhost => $vhost)->register(email => unique_email('brc'), password => $pw);
    is($res->code, 201, "$name: accepted") or diag($res->content);
}

# ---- registration ------------------------------------------------------------------------

reg_ok(undef, $PW1000, 'no corpus (main server): a breached password');
reg_refused('breachtext', $PW1000, 'text corpus: seen 1000 times');
reg_refused('breachtext', $PW2, 'text corpus: seen twice');
reg_refused('breachtext', $PW1, 'text corpus, min count 1: seen once');
reg_ok('breachtext', 'Not-In-Any-Corpus-4711', 'text corpus: an unseen password');
reg_ok('breachtext', lc $PW1000, 'text corpus: SHA-1 is case-sensitive');
reg_refused('breachtext', 'password1234', 'text corpus: the built-in blocklist still applies');
reg_refused('breachindex', $PW1000, 'index corpus: seen 1000 times');
reg_refused('breachindex', $PW2, 'index corpus, min count 2: seen twice');
reg_ok('breachindex', $PW1, 'index corpus, min count 2: seen once');
reg_ok('breachindex', 'Not-In-Any-Corpus-4712', 'index corpus: an unseen password');
{
    # Length before the corpus: a short password is too short, whatever the corpus says.
    my ($res) = client(vhost => 'breachtext')->register(password => 'short');
    my $p = problem_ok($res, 422, 'validation_failed', 'text corpus: a short password');
    fields_ok($p, {password => 'password_too_short'}, 'text corpus: a short password');
}

# ---- password change -------------------------------------------------------------------

for my $vhost (qw(breachtext breachindex)) {
    my $c = client(vhost => $vhost);
    my ($f) = $c->signed_in();
    my $hash = user_row($f->{email})->{password_hash};
    my $p = problem_ok($c->put('/users/me/password',
                               {current_password => $f->{password}, new_password => $PW1000}),
                       422, 'password_breached', "$vhost: change to a breached password");
    fields_ok($p, {new_password => 'password_breached'}, "$vhost: change, field");
    is(user_row($f->{email})->{password_hash}, $hash, "$vhost: refused change changes nothing");
    is($c->put('/users/me/password', {current_password => $f->{password},
                                      new_password => 'Fresh-Unseen-Pass-99'})->code,
       200, "$vhost: change to an unseen password");
}

# ---- authsvc-admin breach-index ---------------------------------------------------------

my $dir = tempdir('breach-XXXXXX', DIR => catfile(serverroot(), 'state'), CLEANUP => 1);

sub slurp_raw {
    open(my $fh, '<:raw', $_[0]) or return '';
    local $/;
    return <$fh>;
}

sub spew_raw {
    my ($file, $data) = @_;
    open(my $fh, '>:raw', $file) or die "$file: $!";
    print {$fh} $data;
    close $fh;
    return $file;
}

{
    my ($rc, $out, $err) = run_admin('breach-index', "$CONF/breach.txt", "$dir/b.idx");
    is($rc, 0, 'breach-index: exit 0') or diag($err);
    like($out, qr/2000 lines, 2000 records, 24032 octets/, 'breach-index: says what it wrote');
    ok(slurp_raw("$dir/b.idx") eq slurp_raw("$CONF/breach.idx"),
       'breach-index: the same octets as t/conf/breach.idx');
    ok(!-e "$dir/b.idx.tmp", 'breach-index: no .tmp left');

    my @lines = split /(?<=\n)/, slurp_raw("$CONF/breach.txt");
    my @swapped = @lines;
    @swapped[10, 11] = @swapped[11, 10];
    spew_raw("$dir/unsorted.txt", join '', @swapped);
    ($rc, $out, $err) = run_admin('breach-index', "$dir/unsorted.txt", "$dir/b.idx");
    is($rc, 1, 'breach-index: unsorted input, exit 1');
    like($err, qr/line 12 is out of order/, '... naming the line');
    ok(slurp_raw("$dir/b.idx") eq slurp_raw("$CONF/breach.idx"), '... the old index kept');
    spew_raw("$dir/junk.txt", "password\r\n");
    ($rc, $out, $err) = run_admin('breach-index', "$dir/junk.txt", "$dir/j.idx");
    ok($rc == 1 && $err =~ /line 1 is malformed/ && !-e "$dir/j.idx", 'breach-index: a word list');
    ($rc) = run_admin('breach-index', "$CONF/breach.txt");
    is($rc, 2, 'breach-index: one argument is a usage error');

    # The temporary name is predictable: a link planted there is refused, not followed.
    spew_raw("$dir/victim", "precious\n");
    symlink("$dir/victim", "$dir/l.idx.tmp") or die "symlink: $!";
    ($rc, $out, $err) = run_admin('breach-index', "$CONF/breach.txt", "$dir/l.idx");
    is($rc, 1, 'breach-index: a link at OUT.tmp, exit 1');
    like($err, qr/cannot create .*l\.idx\.tmp/, '... naming it');
    is(slurp_raw("$dir/victim"), "precious\n", '... the file it points at untouched');
    ok(!-e "$dir/l.idx", '... and no index written');

    spew_raw("$dir/unsorted.idx", do {
        my $b = slurp_raw("$CONF/breach.idx");
        substr($b, 32 + 12 * 5, 24) = substr($b, 32 + 12 * 6, 12) . substr($b, 32 + 12 * 5, 12);
        $b;
    });
    spew_raw("$dir/truncated.idx", substr(slurp_raw("$CONF/breach.idx"), 0, 24032 - 7));
    spew_raw("$dir/unsorted-text.txt", join '', @swapped);
}

# ---- authsvc-admin user set-password: the corpus the module refuses by -------------------

{
    my ($c, $f, $u) = account();
    my $hash = sub { db_value('SELECT password_hash FROM users WHERE id = ' . sql_str($u->{id})) };
    my $before = $hash->();
    my @live = admin_live_args();
    my ($rc, $out, $err) = run_admin_stdin("$PW1000\n", @live, '--breach-corpus',
                                           "$CONF/breach.txt", qw(user set-password), $f->{email});
    is($rc, 1, 'set-password --breach-corpus, a breached password: exit 1');
    like($err, qr/breach/, '... says why');
    is($hash->(), $before, '... the hash unchanged');
    ($rc) = run_admin_stdin("$PW1000\n", @live, qw(user set-password), $f->{email});
    is($rc, 0, 'set-password without a corpus: the same password is taken');

    # --config reads AuthsvcPasswordBreachCorpus (relative to ServerRoot) and MinCount.
    my ($driver, $params) = @live[1, 3];
    my $conf = spew_raw("$dir/admin.conf", join "\n", "ServerRoot $CONF",
        "DBDriver $driver", "DBDParams \"$params\"",
        '<VirtualHost *:80>', '    AuthsvcPasswordBreachCorpus breach.idx',
        '    AuthsvcPasswordBreachMinCount 2', '</VirtualHost>', '');
    ($rc, $out, $err) = run_admin_stdin("$PW2\n", '--config', $conf, qw(user set-password),
                                        $f->{email});
    is($rc, 1, 'set-password --config with a corpus, min count 2: seen twice, exit 1')
        or diag $err;
    ($rc, $out, $err) = run_admin_stdin("$PW1\n", '--config', $conf, qw(user set-password),
                                        $f->{email});
    is($rc, 0, '... seen once: taken') or diag $err;
    ($rc, $out, $err) = run_admin_stdin("$PW1\n", @live, '--breach-corpus', "$dir/nothere.idx",
                                        qw(user set-password), $f->{email});
    is($rc, 1, '--breach-corpus, a missing file: exit 1');
    like($err, qr/nothere\.idx/, '... naming it');
}

# ---- files httpd refuses (httpd -t) ---------------------------------------------------------

# httpd -t with the module and EXTRA; returns (exit status, output).
sub config_test {
    my ($extra) = @_;
    my $mods = httpd_modules();
    my $so = catfile(serverroot(), '..', 'mod_authsvc.so');
    my $conf = spew_raw("$dir/httpd.conf", join "\n",
        "ServerRoot $dir", "ServerName localhost", "ErrorLog $dir/error_log",
        (map { "LoadModule ${_}_module $mods/mod_$_.so" } qw(mpm_prefork authz_core dbd)),
        "LoadModule authsvc_module $so", 'DBDriver sqlite3', "DBDParams $dir/db.sqlite",
        $extra, '');
    my $out = `'${\ httpd_bin()}' -t -d '$dir' -f '$conf' 2>&1`;
    return ($? >> 8, $out);
}
{
    my ($rc, $out) = config_test("AuthsvcPasswordBreachCorpus $CONF/breach.idx");
    is($rc, 0, 'httpd -t: a good index') or diag($out);
    ($rc, $out) = config_test("AuthsvcPasswordBreachCorpus $CONF/breach.txt\n"
                              . 'AuthsvcPasswordBreachMinCount 10');
    is($rc, 0, 'httpd -t: a good text file') or diag($out);
    my @refused = (
        ["$dir/no-such-file",      qr/AuthsvcPasswordBreachCorpus: .*no-such-file cannot be read/],
        ["$dir/unsorted.idx",      qr/unsorted\.idx is not sorted/],
        ["$dir/truncated.idx",     qr/truncated\.idx is truncated/],
        ["$dir/unsorted-text.txt", qr/unsorted-text\.txt is not sorted/],
        ["$dir/junk.txt",          qr/junk\.txt has a malformed line/],
        [$dir,                     qr/is not a regular file/],
    );
    for my $case (@refused) {
        my ($file, $why) = @$case;
        ($rc, $out) = config_test("AuthsvcPasswordBreachCorpus $file");
        isnt($rc, 0, "httpd -t refuses $file");
        like($out, $why, '... saying why');
    }
    for my $bad ('0', '-1', 'ten', '1000000001') {
        ($rc, $out) = config_test("AuthsvcPasswordBreachMinCount $bad");
        ok($rc != 0 && $out =~ /AuthsvcPasswordBreachMinCount/,
           "httpd -t refuses AuthsvcPasswordBreachMinCount $bad");
    }
    ($rc, $out) = config_test("<Location /x>\nAuthsvcPasswordBreachCorpus $CONF/breach.idx\n"
                              . '</Location>');
    ok($rc != 0 && $out =~ /AuthsvcPasswordBreachCorpus.*not allowed/,
       'httpd -t refuses the corpus in a <Location>');
}

done_testing();
