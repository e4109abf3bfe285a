# authsvc-admin import: accounts with password hashes from another system (Werkzeug
# pbkdf2 and scrypt, bcrypt $2b$ and $2y$, Argon2id and Argon2i at other parameters,
# passlib pbkdf2-sha256), as JSON lines and as CSV (RFC 4180 quoting); each account then
# signs in through the API and its hash is replaced by Argon2id at the server's
# parameters. A dry run writes nothing; bad records are reported as "line N: reason"
# with the line they start on, the others are imported; exit 1 when any failed.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Spec::Functions qw(catfile);
use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $ADMIN = admin_bin();
plan skip_all => "no $ADMIN (run make)" unless -x $ADMIN;

my $backend = backend();
my @live = admin_live_args();
my $CURRENT = qr/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+\/]+\$[A-Za-z0-9+\/]+$/;
my $JSON = JSON::PP->new->canonical;

sub admin { run_admin(@live, @_) }

my $seq = 0;
sub file_of {
    my ($name, $text) = @_;
    my $f = catfile(serverroot(), 'state', "import-$$-" . $seq++ . "-$name");
    open(my $fh, '>:raw', $f) or die "$f: $!";
    print {$fh} $text;
    close $fh;
    return $f;
}

sub stored_hash { db_value('SELECT password_hash FROM users WHERE email = ' . sql_str(lc $_[0])) }
sub count_of { db_value('SELECT count(*) AS n FROM users WHERE email = ' . sql_str(lc $_[0])) }

# Werkzeug's formats and passlib's, made with python3's hashlib.
my $HASHER = <<'PY';
import base64, binascii, hashlib, json, os, sys
req = json.load(sys.stdin)
pw, kind = req["pw"].encode(), req["kind"]
salt = binascii.hexlify(os.urandom(8)).decode()
if kind == "pbkdf2":
    h = hashlib.pbkdf2_hmac("sha256", pw, salt.encode(), 1000).hex()
    out = "pbkdf2:sha256:1000$%s$%s" % (salt, h)
elif kind == "scrypt":
    n, r, p = 16384, 8, 1
    h = hashlib.scrypt(pw, salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p, dklen=64).hex()
    out = "scrypt:%d:%d:%d$%s$%s" % (n, r, p, salt, h)
elif kind == "passlib":
    raw = os.urandom(16)
    h = hashlib.pbkdf2_hmac("sha256", pw, raw, 1000)
    ab64 = lambda b: base64.b64encode(b).decode().rstrip("=").replace("+", ".")
    out = "$pbkdf2-sha256$1000$%s$%s" % (ab64(raw), ab64(h))
elif kind == "bcrypt":
    import bcrypt
    out = bcrypt.hashpw(pw, bcrypt.gensalt(5)).decode()
print(json.dumps({"hash": out}))
PY

sub py_hash {
    my ($kind, $pw) = @_;
    my ($rc, $out, $err) = run_python($HASHER, $JSON->encode({kind => $kind, pw => $pw}));
    return undef if $rc;
    return (eval { JSON::PP->new->decode($out) } || {})->{hash};
}

sub cli_hash {
    my ($kind, $pw) = @_;
    my $out;
    if ($kind eq 'htpasswd') {
        return undef unless -x '/usr/bin/htpasswd';
        open(my $fh, '-|', '/usr/bin/htpasswd', '-nbB', '-C', '5', 'u', $pw) or return undef;
        local $/;
        $out = <$fh>;
        close $fh;
        return $out =~ /^u:(\$2y\$\S+)/ ? $1 : undef;
    }
    return undef unless -x '/usr/bin/argon2';
    my $type = $kind eq 'argon2i' ? '-i' : '-id';
    open(my $fh, '-|', 'sh', '-c', 'printf %s "$1" | /usr/bin/argon2 somesaltsomesalt '
         . "$type -t 2 -m 10 -p 1 -e", 'sh', $pw) or return undef;
    local $/;
    $out = <$fh>;
    close $fh;
    return $out =~ /^(\$argon2\S+)/ ? $1 : undef;
}

# account() migrates the server's database on its first request.
account();

# ---- every hash format, as JSON lines --------------------------------------------------

my %made;
for my $kind (qw(pbkdf2 scrypt passlib bcrypt htpasswd argon2id argon2i)) {
    my $pw = "pw-$kind-" . new_password();
    my $hash = $kind =~ /^(htpasswd|argon2)/ ? cli_hash($kind, $pw) : py_hash($kind, $pw);
  SKIP: {
        skip "no way to make a $kind hash here (python3-bcrypt, apache2-utils, argon2)", 1
            unless defined $hash;
        pass("a $kind hash made: " . substr($hash, 0, 16));
        $made{$kind} = {pw => $pw, hash => $hash, email => unique_email("imp.$kind"),
                        username => 'imp_' . substr(unique_username($kind), 0, 24)};
    }
}
for my $must (qw(pbkdf2 scrypt passlib argon2id)) {
    ok($made{$must}, "$must hashes can be made (needed)");
}
my @kinds = sort keys %made;
my $jsonl = join '', map {
    my $m = $made{$_};
    $JSON->encode({email => uc $m->{email}, username => $m->{username}, first_name => "F $_",
                   last_name => "L $_", password_hash => $m->{hash},
                   ($_ eq 'scrypt' ? (verified => JSON::PP::true, roles => ['ops', 'audit'])
                                   : ()),
                   ($_ eq 'pbkdf2' ? (roles => 'one two') : ())}) . "\n"
} @kinds;
my $jfile = file_of('all.jsonl', $jsonl);

my ($rc, $out, $err) = admin(qw(import --dry-run), $jfile);
is($rc, 0, 'import --dry-run of good records: exit 0') or diag($err);
is($out, 'dry run: ' . scalar(@kinds) . " account(s) would be imported, 0 record(s) failed; "
         . "nothing written\n", '... the summary');
is($err, '', '... nothing on stderr');
is(count_of($made{$_}{email}), 0, "... $_: nothing written") for @kinds;

($rc, $out, $err) = admin('import', $jfile);
is($rc, 0, 'import: exit 0') or diag($err);
is($out, 'imported ' . scalar(@kinds) . " account(s), 0 record(s) failed\n", '... the summary');
for my $kind (@kinds) {
    my $m = $made{$kind};
    my $u = user_row($m->{email}) || {};
    is($u->{password_hash}, $m->{hash}, "$kind: the hash stored as it was");
    is($u->{username}, $m->{username}, "$kind: username");
    is("$u->{first_name}/$u->{last_name}", "F $kind/L $kind", "$kind: names");
    is($u->{status}, 'active', "$kind: active");
    my $ev = db_rows("SELECT * FROM audit_log WHERE event = 'admin_user_imported' AND user_id = "
                     . sql_str($u->{id}));
    is(scalar @$ev, 1, "$kind: one admin_user_imported audit row");
    is_deeply(eval { JSON::PP->new->decode($ev->[0]{detail}) },
              {reason => 'admin', via => 'authsvc-admin'}, "$kind: its detail");
}
is(user_row($made{scrypt}{email})->{roles}, 'ops audit', 'roles as an array');
ok(user_row($made{scrypt}{email})->{email_verified_at}, 'verified true');
ok(!user_row($made{pbkdf2}{email})->{email_verified_at}, 'verified absent: not verified');
is(user_row($made{pbkdf2}{email})->{roles}, 'one two', 'roles as a string');

# Sign in through the API: a wrong password changes nothing, the right one rehashes.
my $c = client();
for my $kind (@kinds) {
    my $m = $made{$kind};
    is($c->login($m->{email}, $m->{pw} . 'x')->code, 401, "$kind: a wrong password: 401");
    is(stored_hash($m->{email}), $m->{hash}, "$kind: ... hash unchanged");
    my $res = $c->login($m->{username}, $m->{pw});
    is($res->code, 200, "$kind: the right password signs in") or diag($res->content);
    like(stored_hash($m->{email}), $CURRENT, "$kind: ... and the hash is now Argon2id");
    is($c->login($m->{email}, $m->{pw})->code, 200, "$kind: ... which works");
}

($rc, $out, $err) = admin('import', $jfile);
is($rc, 1, 'the same file again: exit 1');
is(scalar(() = $err =~ /^line \d+: an account with this email or username exists$/mg), scalar @kinds,
   '... every line already exists');
is($out, "imported 0 account(s), " . scalar(@kinds) . " record(s) failed\n", '... summary');

# ---- bad JSON lines --------------------------------------------------------------------

my $good = py_hash('pbkdf2', 'whatever-pw-1');
my ($e1, $e2, $e3) = map { unique_email("imp.j$_") } 1 .. 3;
my $bad_jsonl = join "\n",
    $JSON->encode({email => $e1, password_hash => $good}),                       # 1 ok
    '',                                                                           # 2 blank
    'not json',                                                                   # 3
    $JSON->encode({email => $e2, password_hash => $good, admin => 1}),            # 4
    $JSON->encode({email => $e2}),                                                # 5
    $JSON->encode({email => $e2, password_hash => 'md5$abc'}),                    # 6
    $JSON->encode({email => $e2, password_hash => $good, roles => {a => 1}}),     # 7
    $JSON->encode({email => 'no-at-sign', password_hash => $good}),               # 8
    $JSON->encode({email => uc $e1, password_hash => $good}),                     # 9
    $JSON->encode({email => $e2, password_hash => $good, username => 'x'}),       # 10
    $JSON->encode({email => $e2, password_hash => $good, verified => 'yes'}),     # 11
    $JSON->encode({email => $e3, password_hash => $good, first_name => 'J'}),     # 12 ok
    '[1, 2]';                                                                     # 13
my $bj = file_of('bad.jsonl', "$bad_jsonl\n");
my %want = (3 => qr/not a JSON object/, 4 => qr/unknown field 'admin'/,
            5 => qr/password_hash is missing/, 6 => qr/password_hash: not a format/,
            7 => qr/roles must be/, 8 => qr/^email:/, 9 => qr/same as on line 1/,
            10 => qr/^username:/, 11 => qr/verified must be/, 13 => qr/not a JSON object/);
for my $dry (1, 0) {
    my $what = $dry ? 'dry run' : 'import';
    ($rc, $out, $err) = admin('import', ($dry ? '--dry-run' : ()), $bj);
    is($rc, 1, "$what of bad JSON lines: exit 1");
    my %got = map { /^line (\d+): (.*)$/ ? ($1 => $2) : () } split /\n/, $err;
    is_deeply([sort { $a <=> $b } keys %got], [sort { $a <=> $b } keys %want],
              "$what: the bad lines, by number") or diag($err);
    like($got{$_} // '', $want{$_}, "$what: line $_ says why") for sort keys %want;
    like($out, $dry ? qr/^dry run: 2 account\(s\) would be imported, 10 record\(s\) failed/
                    : qr/^imported 2 account\(s\), 10 record\(s\) failed$/, "$what: summary");
    is(count_of($e1) + count_of($e3), $dry ? 0 : 2, "$what: good lines " .
       ($dry ? 'not written' : 'written'));
    is(count_of($e2), 0, "$what: no bad line written");
}

# ---- CSV -------------------------------------------------------------------------------

my %cm = map { $_ => unique_email("imp.c$_") } 1 .. 6;
my $bc = py_hash('bcrypt', 'csv-password-1') // cli_hash('htpasswd', 'csv-password-1');
my $csv = "\xEF\xBB\xBFPassword_Hash,email,last_name,first_name,verified,roles\r\n"     # 1
    . "$bc,$cm{1},\"O\"\"Brien, Jr.\",Two,yes,\"ops\nadmin\"\r\n"                       # 2-3
    . "$good,$cm{2},,,,\n"                                                              # 4
    . "$good,$cm{3},only,four\n"                                                        # 5
    . "$good,$cm{4},,,maybe,\n"                                                         # 6
    . "\n"                                                                              # 7
    . "nonsense,$cm{5},,,,\n"                                                           # 8
    . "$good,$cm{1},,,,\n"                                                              # 9
    . "\"$good\",\"$cm{6}\",\"\",\"\",\"0\",\"\"\n";                                    # 10
my $cfile = file_of('users.csv', $csv);
($rc, $out, $err) = admin(qw(import --dry-run), $cfile);
is($rc, 1, 'CSV dry run with bad lines: exit 1');
is(count_of($cm{1}) + count_of($cm{2}) + count_of($cm{6}), 0, '... nothing written');
($rc, $out, $err) = admin('import', $cfile);
is($rc, 1, 'CSV import with bad lines: exit 1');
my %cg = map { /^line (\d+): (.*)$/ ? ($1 => $2) : () } split /\n/, $err;
is_deeply([sort { $a <=> $b } keys %cg], [5, 6, 8, 9], 'CSV: the bad lines, by the line '
          . 'they start on (a quoted line break counts)') or diag($err);
like($cg{5} // '', qr/4 field\(s\), the header has 6/, '... too few fields');
like($cg{6} // '', qr/verified is true or false/, '... a bad verified');
like($cg{8} // '', qr/password_hash: not a format/, '... a bad hash');
like($cg{9} // '', qr/same as on line 2/, '... a duplicate email');
is($out, "imported 3 account(s), 4 record(s) failed\n", '... the summary');
my $u1 = user_row($cm{1}) || {};
is($u1->{last_name}, 'O"Brien, Jr.', 'CSV: quotes and a comma in a quoted field');
is($u1->{first_name}, 'Two', 'CSV: first_name');
is($u1->{roles}, 'ops admin', 'CSV: roles, split at a line break in a quoted field');
ok($u1->{email_verified_at}, 'CSV: verified yes');
ok(!user_row($cm{6})->{email_verified_at}, 'CSV: every field quoted, verified 0');
is($u1->{password_hash}, $bc, 'CSV: the hash as it was');
is($c->login($cm{1}, 'csv-password-1')->code, 200, 'CSV: the bcrypt account signs in');
like(stored_hash($cm{1}), $CURRENT, '... rehashed to Argon2id');

for my $case (["email,username\nx\@example.org,xx\n", qr/^line 1: the header must name/,
               'a header without password_hash'],
              ["email,password_hash,admin\n", qr/^line 1: unknown column 'admin'/,
               'an unknown column'],
              ["email,password_hash\n\"a\@example.org,$good\n", qr/^line 2: a quoted field is not closed/,
               'an unclosed quote'],
              ["email,password_hash\na\"b\@example.org,$good\n", qr/^line 2: a quote inside/,
               'a quote inside a field']) {
    my ($text, $re, $name) = @$case;
    ($rc, $out, $err) = admin('import', file_of('h.csv', $text));
    is($rc, 1, "CSV with $name: exit 1");
    like($err, $re, "... $name: says so") or diag($err);
}

# ---- a NUL in CSV, keys of failed records, role caps, the size cap ---------------------------

{
    my ($n1, $n2, $n3) = map { unique_email("imp.nul$_") } 1 .. 3;
    my $f = file_of('nul.csv', "email,password_hash,first_name\n$n1,$good,A\0B\n"
                    . "$n2,$good,\"C\0D\"\n$n3,$good,ok\n");
    ($rc, $out, $err) = admin('import', $f);
    is($rc, 1, 'CSV with a NUL in a field: exit 1');
    my %got = map { /^line (\d+): (.*)$/ ? ($1 => $2) : () } split /\n/, $err;
    is_deeply(\%got, {2 => 'a field contains a NUL character',
                      3 => 'a field contains a NUL character'},
              '... a line error, unquoted and quoted') or diag($err);
    is(count_of($n1) + count_of($n2), 0, '... those records not written');
    is(count_of($n3), 1, '... the next one is');
    ($rc, $out, $err) = admin('import', file_of('nulh.csv', "email,password_hash\0\n"));
    is($rc, 1, 'CSV with a NUL in the header: exit 1');
    like($err, qr/^line 1: the header contains a NUL character/, '... says so') or diag($err);
}
{
    # Line 1 fails in the database (its username is taken): its email stays free for
    # line 2; line 3 repeats the email line 2 wrote.
    my $taken = 'imp_' . substr(unique_username('tk'), 0, 24);
    my ($owner, $e) = map { unique_email("imp.k$_") } 1 .. 2;
    ($rc, $out, $err) = admin('import', file_of('owner.jsonl', $JSON->encode(
        {email => $owner, username => $taken, password_hash => $good}) . "\n"));
    is($rc, 0, 'an account that holds a username') or diag($err);
    my $text = join '', map { $JSON->encode({email => $e, password_hash => $good, %$_}) . "\n" }
        {username => $taken}, {username => "${taken}2"}, {username => "${taken}3"};
    my $f = file_of('keys.jsonl', $text);
    for my $dry (1, 0) {
        my $what = $dry ? 'dry run' : 'import';
        ($rc, $out, $err) = admin('import', ($dry ? '--dry-run' : ()), $f);
        my %got = map { /^line (\d+): (.*)$/ ? ($1 => $2) : () } split /\n/, $err;
        is_deeply([sort keys %got], [1, 3], "$what: lines 1 and 3 fail") or diag($err);
        like($got{1} // '', qr/exists/, "$what: line 1 in the database");
        like($got{3} // '', qr/email is the same as on line 2/,
             "$what: line 3 repeats line 2, not line 1 that failed");
    }
    is(db_value('SELECT username FROM users WHERE email = ' . sql_str($e)), "${taken}2",
       '... the record of line 2 written');
}
{
    my @r = map { "r$_" } 1 .. 33;
    my @long = map { ('x' x 62) . sprintf('%02d', $_) } 1 .. 16;
    my ($e33, $elong, $e32) = map { unique_email("imp.r$_") } 1 .. 3;
    my $text = join '', map { $JSON->encode($_) . "\n" }
        {email => $e33, password_hash => $good, roles => \@r},
        {email => $elong, password_hash => $good, roles => \@long},
        {email => $e32, password_hash => $good, roles => [@r[0 .. 31]]};
    ($rc, $out, $err) = admin('import', file_of('roles.jsonl', $text));
    my %got = map { /^line (\d+): (.*)$/ ? ($1 => $2) : () } split /\n/, $err;
    is_deeply([sort keys %got], [1, 2], 'import: 33 roles and 1039 bytes of roles refused')
        or diag($err);
    like($got{$_} // '', qr/at most 32 roles, 1024 bytes/, "... line $_ says the cap") for 1, 2;
    is(count_of($e33) + count_of($elong), 0, '... not written');
    is(db_value('SELECT roles FROM users WHERE email = ' . sql_str($e32)), join(' ', @r[0 .. 31]),
       '... 32 roles are');
}
{
    my $big = file_of('big.jsonl', '');
    open(my $fh, '+<', $big) or die $!;
    truncate($fh, (1 << 30) + 1) or die $!;                  # sparse: no disk used
    close $fh;
    ($rc, $out, $err) = admin('import', $big);
    unlink $big;
    is($rc, 1, 'a file over 1 GiB: exit 1');
    like($err, qr/is larger than 1 GiB/, '... says so') or diag($err);
}

# ---- formats, files and usage -------------------------------------------------------------

my $e7 = unique_email('imp.fmt');
my $txt = file_of('users.txt', "email,password_hash\n$e7,$good\n");
($rc, $out, $err) = admin(qw(import --dry-run), $txt);
is($rc, 1, 'a .txt file is read as JSON lines by default') or diag($out);
($rc, $out, $err) = admin(qw(import --dry-run --format csv), $txt);
is($rc, 0, '... --format csv reads it as CSV') or diag($err);
($rc, $out, $err) = run_admin_stdin("{\"email\":\"$e7\",\"password_hash\":\"$good\"}\n",
                                    @live, qw(import -));
is($rc, 0, 'import - reads standard input') or diag($err);
is(count_of($e7), 1, '... and imports');
($rc, $out, $err) = admin(qw(import --format xml), $txt);
is($rc, 2, '--format xml: exit 2');
($rc, $out, $err) = admin('import', catfile(serverroot(), 'state', 'no-such-file'));
is($rc, 1, 'a missing file: exit 1');
like($err, qr/cannot read/, '... says so');
($rc, $out, $err) = admin('import');
is($rc, 2, 'import without a file: exit 2');

unlink glob(catfile(serverroot(), 'state', "import-$$-*"));
done_testing();
