# Imported password hashes (bcrypt, Werkzeug, passlib, Argon2id at other parameters)
# verify at login and are replaced by Argon2id at the configured parameters.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $CURRENT = qr/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+\/]+\$[A-Za-z0-9+\/]+$/;
my $c = client();

sub insert_user {
    my ($email, $hash, %o) = @_;
    my $id = 'imported-' . sha256_hex($email . rand);
    my $now = time;
    db_do('INSERT INTO users (id, email, username, password_hash, status, roles, created_at, '
          . 'updated_at) VALUES (' . join(', ', map { sql_str($_) } $id, lc $email,
                                          $o{username}, $hash)
          . ", 'active', '', $now, $now)");
    return $id;
}

sub stored_hash { db_value('SELECT password_hash FROM users WHERE email = ' . sql_str(lc $_[0])) }

sub python {
    my ($code, @args) = @_;
    open(my $fh, '-|', 'python3', '-c', $code, @args) or return undef;
    local $/;
    my $out = <$fh>;
    close $fh or return undef;
    $out =~ s/\s+\z// if defined $out;
    return $out;
}

# An imported hash: wrong password first (401, unchanged), then the right one (200,
# rehashed), then the new hash works and the old one no longer is there.
sub imported_ok {
    my ($name, $hash, $pw) = @_;
    SKIP: {
        skip "$name: could not compute the hash", 8 unless defined $hash && length $hash;
        my $email = unique_email('import');
        my $uname = unique_username('imp');
        insert_user($email, $hash, username => $uname);
        problem_ok(client()->login($email, "$pw!"), 401, 'invalid_credentials',
                   "$name: wrong password");
        is(stored_hash($email), $hash, "$name: ... leaves the hash alone");
        my $res = client()->login($email, $pw);
        is($res->code, 200, "$name: right password signs in") or diag($res->content);
        my $new = stored_hash($email);
        like($new, $CURRENT, "$name: ... and the hash is now Argon2id at the current parameters");
        isnt($new, $hash, "$name: ... replacing the old one");
        is(client()->login($uname, $pw)->code, 200, "$name: the new hash verifies");
        problem_ok(client()->login($email, "x$pw"), 401, 'invalid_credentials',
                   "$name: ... and still refuses a wrong password");
        is(stored_hash($email), $new, "$name: ... with no further rehash");
    }
}

# ---- bcrypt --------------------------------------------------------------------------

{
    my $pw = 'bcrypt pass ' . int(rand 1e6);
    my $line = `htpasswd -nbB -C 4 user '$pw' 2>/dev/null`;
    my ($y) = ($line // '') =~ /^user:(\$2y\$04\$\S{53})/;
    ok($y, 'htpasswd made a $2y$ hash') or diag("htpasswd: $line");
    imported_ok('bcrypt $2y$', $y, $pw);
    (my $b = $y // '') =~ s/^\$2y\$/\$2b\$/;
    imported_ok('bcrypt $2b$', $b, $pw);
    (my $a = $y // '') =~ s/^\$2y\$/\$2a\$/;
    imported_ok('bcrypt $2a$', $a, $pw);
}

# ---- Werkzeug and passlib ------------------------------------------------------------

{
    my $pw = "werkzeug p\x{e4}ss " . int(rand 1e6);
    my $pw8 = $pw;
    utf8::encode($pw8);
    my $h = python(<<'PY', $pw8);
import hashlib, sys, os
pw = os.fsencode(sys.argv[1])
salt = 'XqR1sZ9aLm0PvK2t'
print('pbkdf2:sha256:600000$%s$%s' % (salt, hashlib.pbkdf2_hmac('sha256', pw, salt.encode(), 600000).hex()))
PY
    imported_ok('Werkzeug pbkdf2:sha256:600000', $h, $pw);

    $h = python(<<'PY', $pw8);
import hashlib, sys, os
pw = os.fsencode(sys.argv[1])
salt = 'Fh3kQ8wZpL1mN0bV'
n, r, p = 32768, 8, 1
dk = hashlib.scrypt(pw, salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p, dklen=64)
print('scrypt:%d:%d:%d$%s$%s' % (n, r, p, salt, dk.hex()))
PY
    imported_ok('Werkzeug scrypt:32768:8:1', $h, $pw);

    $h = python(<<'PY', $pw8);
import hashlib, sys, os, base64
pw = os.fsencode(sys.argv[1])
salt = bytes(range(16))
ab64 = lambda b: base64.b64encode(b).decode().rstrip('=').replace('+', '.')
dk = hashlib.pbkdf2_hmac('sha256', pw, salt, 29000)
print('$pbkdf2-sha256$29000$%s$%s' % (ab64(salt), ab64(dk)))
PY
    imported_ok('passlib $pbkdf2-sha256$', $h, $pw);
}

# ---- Argon2id ------------------------------------------------------------------------

{
    # Registered on a server with the default parameters, signing in on this one.
    my $d = client(vhost => 'defaulthash');
    my ($res, $f) = $d->register();
    is($res->code, 201, 'registered at the default parameters');
    my $old = stored_hash($f->{email});
    like($old, qr/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, '... m=19456,t=2,p=1');
    is($d->login($f->{email}, $f->{password})->code, 200, '... signs in there');
    is(stored_hash($f->{email}), $old, '... without a rehash (current there)');
    is($c->login($f->{email}, $f->{password})->code, 200, 'signs in on the m=1024 server');
    like(stored_hash($f->{email}), $CURRENT, '... which rehashes to its parameters');
}
{
    my ($res, $f) = $c->register();
    my $h = stored_hash($f->{email});
    is($c->login($f->{email}, $f->{password})->code, 200, 'a current hash signs in');
    is(stored_hash($f->{email}), $h, '... and is not rewritten');
}

# ---- hashes that cannot verify -------------------------------------------------------

{
    my $mark = error_log_mark();
    my $email = unique_email('plain');
    insert_user($email, 'plaintext-password-1');
    problem_ok(client()->login($email, 'plaintext-password-1'), 401, 'invalid_credentials',
               'a plaintext "hash" never matches');
    like(error_log_since($mark), qr/password hash in no format this module reads/,
         '... and is logged as unreadable');
    is(stored_hash($email), 'plaintext-password-1', '... and stays as it was');
    for my $bad ('$2y$04$short', 'pbkdf2:sha256:0$salt$00', 'pbkdf2:md5:1000$salt$00',
                 'scrypt:3:8:1$salt$00', '$argon2id$v=19$m=1024,t=1,p=1$$', '') {
        my $e = unique_email('bad');
        insert_user($e, $bad);
        problem_ok(client()->login($e, 'whatever password'), 401, 'invalid_credentials',
                   "a malformed hash '$bad'");
    }
}

done_testing();
