# The password policy at registration, reset and change: blocklist (built-in, a file,
# none), the account's own names, character classes, history; the order of the checks
# and the problem codes. Vhosts: policy (AuthsvcPasswordComplexity 3,
# AuthsvcPasswordHistory 3, AuthsvcPasswordBlocklist conf/blocklist.txt), noblocklist
# (AuthsvcPasswordBlocklist none); the main server has the defaults.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $anon = client();

# Registration with these fields (a unique email unless given) is refused: status,
# code and the password's field code; no account is created.
sub reg_refused {
    my ($vhost, $f, $code, $fields, $name) = @_;
    my %f = %$f;
    $f{email} //= unique_email('pol');
    my ($res) = client(vhost => $vhost)->register(%f);
    my $p = problem_ok($res, 422, $code, $name);
    fields_ok($p, $fields, $name);
    ok(!user_row($f{email}), "$name: no account");
    return $p;
}

sub reg_ok {
    my ($vhost, $f, $name) = @_;
    my ($res) = client(vhost => $vhost)->register(%$f);
    is($res->code, 201, "$name: accepted") or diag($res->content);
}

sub change {
    my ($c, $cur, $new) = @_;
    return $c->put('/users/me/password', {current_password => $cur, new_password => $new});
}

# ---- the built-in blocklist (main server) ----------------------------------------------

{
    my $p = reg_refused(undef, {password => 'password1234'}, 'password_breached',
                        {password => 'password_breached'}, 'register with "password1234"');
    my ($e) = @{ $p->{errors} || [] };
    is($e->{field}, 'password', '... errors[0].field password');
    is($e->{code}, 'password_breached', '... errors[0].code password_breached');
    like($e->{message} // '', qr/\S/, '... with a message');
    is(scalar @{ $p->{errors} || [] }, 1, '... one error');
    reg_refused(undef, {password => 'PassWord1234'}, 'password_breached',
                {password => 'password_breached'}, 'blocklist compared case-insensitively');
    reg_refused(undef, {password => 'qwertyuiop123'}, 'password_breached',
                {password => 'password_breached'}, 'another listed password');
    reg_ok(undef, {password => 'password1234!'}, 'a listed password plus one character');
    # Length first: a listed password too short is too short.
    reg_refused(undef, {password => 'password'}, 'validation_failed',
                {password => 'password_too_short'}, 'a listed password of 8 characters');
    # Two field errors: validation_failed with both.
    reg_refused(undef, {email => 'not-an-email', password => 'password1234'}, 'validation_failed',
                {email => 'invalid_email', password => 'password_breached'},
                'invalid email and a listed password');
}

# AuthsvcPasswordBlocklist none and FILE.
reg_ok('noblocklist', {password => 'password1234'}, 'AuthsvcPasswordBlocklist none: "password1234"');
reg_ok('policy', {password => 'Password1234'},
       'AuthsvcPasswordBlocklist FILE: a built-in entry (3 classes) is not in the file');
reg_refused('policy', {password => 'tr0ub4dor&3-custom'}, 'password_breached',
            {password => 'password_breached'}, 'FILE: an entry of the file, other case');
reg_refused('policy', {password => 'Custom Blocked Phrase 42'}, 'password_breached',
            {password => 'password_breached'}, 'FILE: an entry with spaces');
# The blocklist comes before complexity: one class only, but the answer is breached.
reg_refused('policy', {password => 'alllowercaseblockedword'}, 'password_breached',
            {password => 'password_breached'}, 'FILE: a listed one-class password');

# ---- the account's own names (main server) ---------------------------------------------

{
    my $tag = sprintf '%x%04d', time, int rand 10000;
    my $local = "zanzibar.$tag";
    reg_refused(undef, {email => "$local\@example.org", password => "My \U$local\E password!"},
                'password_policy', {password => 'password_policy'},
                'password containing the email local part (other case)');
    my $user = unique_username('Quokka');
    reg_refused(undef, {username => $user, password => 'xx' . lc($user) . 'yy-1234'},
                'password_policy', {password => 'password_policy'}, 'password containing the username');
    reg_refused(undef, {first_name => 'Bartholomew', password => 'I am BARTHOLOMEW, hello'},
                'password_policy', {password => 'password_policy'}, 'password containing the first name');
    reg_refused(undef, {last_name => 'Featherstonehaugh', password => 'featherstonehaugh rules'},
                'password_policy', {password => 'password_policy'}, 'password containing the last name');
    reg_refused(undef, {first_name => 'Ann', password => 'my nanny is called so'},
                'password_policy', {password => 'password_policy'},
                'a first name of 3 characters counts');
    reg_ok(undef, {first_name => 'Al', last_name => 'Ng', password => 'Always alright, Ngozi'},
           'names of 2 characters do not count');
    reg_ok(undef, {email => "jo\@$tag.example.org", password => 'enjoy joyful journeys'},
           'an email local part of 2 characters does not count');
    reg_ok(undef, {first_name => 'Bartholomew', password => 'Bartholomeus is a name'},
           'a password merely resembling the first name');
    # Names are compared as they are written, in characters (not octets).
    reg_refused(undef, {first_name => "J\x{fc}rgen", password => "ich bin J\x{fc}rgen, hallo"},
                'password_policy', {password => 'password_policy'},
                'password containing a non-ASCII first name');
    reg_ok(undef, {first_name => "J\x{fc}", password => "J\x{fc}rgen J\x{fc}mper was here"},
           'a first name of 2 characters (3 octets) does not count');
    reg_ok(undef, {last_name => "\x{674e}\x{56db}", password => "\x{674e}\x{56db} likes long passwords"},
           'a last name of 2 characters (6 octets) does not count');
    # The blocklist comes before the names.
    reg_refused(undef, {last_name => 'Qwerty', password => 'qwertyuiop123'}, 'password_breached',
                {password => 'password_breached'}, 'listed and containing the last name');
}

# ---- AuthsvcPasswordComplexity 3 (vhost policy) ------------------------------------------

for my $case (['alllowercaseletters', 0, 'one class'],
              ['lowercase with spaces', 0, 'lower case and other'],
              ['lowerUPPERletters', 0, 'lower and upper case'],
              ['123456789012 !!', 0, 'digits and other'],
              ['lower and UPPER', 1, 'lower, upper, other'],
              ['lowerdigits 1234', 1, 'lower, digit, other'],
              ['lowerUPPER1234xyz', 1, 'lower, upper, digit'],
              ['lowerUPPER1234 x!', 1, 'all four classes']) {
    my ($pw, $good, $name) = @$case;
    if ($good) {
        reg_ok('policy', {password => $pw}, "complexity 3: $name");
    }
    else {
        reg_refused('policy', {password => $pw}, 'password_policy', {password => 'password_policy'},
                    "complexity 3: $name");
    }
}
reg_ok(undef, {password => 'alllowercaseletters'}, 'complexity 0 (default): one class');

# ---- the same policy at reset and change (main server) ----------------------------------

{
    my ($c, $f) = account(first_name => 'Reginald');
    is($anon->post('/auth/forgot-password', {email => $f->{email}})->code, 202, 'forgot-password');
    my $m = mail_ok('reset mail', to => $f->{email}, template => 'reset_password');
    my $hash = user_row($f->{email})->{password_hash};
    for my $case (['password1234', 'password_breached', 'a listed password'],
                  ['call me reginald now', 'password_policy', 'the first name'],
                  ['short', 'validation_failed', 'too short']) {
        my ($pw, $code, $name) = @$case;
        my $p = problem_ok($anon->post('/auth/reset-password', {token => $m->{token}, password => $pw}),
                           422, $code, "reset: $name");
        fields_ok($p, {password => $code eq 'validation_failed' ? 'password_too_short' : $code},
                  "reset: $name");
    }
    is(user_row($f->{email})->{password_hash}, $hash, 'reset refusals change nothing');
    my $pw = new_password();
    is($anon->post('/auth/reset-password', {token => $m->{token}, password => $pw})->code, 200,
       '... and leave the token usable');
    $f->{password} = $pw;

    $c->login($f->{email}, $pw);
    for my $case (['password1234', 'password_breached', 'a listed password'],
                  ['reginald is my name', 'password_policy', 'the first name'],
                  ["my \U$f->{email}\E pw", 'password_policy', 'the whole email']) {
        my ($new, $code, $name) = @$case;
        my $p = problem_ok(change($c, $pw, $new), 422, $code, "change: $name");
        fields_ok($p, {new_password => $code}, "change: $name");
    }
    is(user_row($f->{email})->{password_hash} ne $hash, 1, 'the reset password is in place');
    is($c->get('/users/me')->code, 200, 'change refusals keep the session');
}

{
    my ($c, $f) = account(vhost => 'policy');
    my $p = problem_ok(change($c, $f->{password}, 'only lower case here'), 422, 'password_policy',
                       'policy vhost: change to two classes');
    fields_ok($p, {new_password => 'password_policy'}, 'policy vhost: change to two classes');
}

# ---- AuthsvcPasswordHistory 3 (vhost policy) ---------------------------------------------

{
    my ($c, $f) = account(vhost => 'policy');
    my @pw = ($f->{password}, map { new_password() } 1 .. 4);    # P0 (current) .. P4
    my $cur = $pw[0];
    my $step = sub {
        my ($new, $name) = @_;
        my $res = change($c, $cur, $new);
        is($res->code, 200, "history: $name") or diag($res->content);
        $cur = $new if $res->code == 200;
    };
    my $reused = sub {
        my ($new, $name) = @_;
        my $p = problem_ok(change($c, $cur, $new), 422, 'password_reused', "history: $name");
        fields_ok($p, {new_password => 'password_reused'}, "history: $name");
    };
    $reused->($pw[0], 'the current password');
    my $uid = user_row($f->{email})->{id};
    my $h0 = user_row($f->{email})->{password_hash};
    $step->($pw[1], 'P0 -> P1');
    $reused->($pw[1], 'P1 again (current)');
    $reused->($pw[0], 'P0 (the one before)');
    $step->($pw[2], 'P1 -> P2');
    $reused->($pw[0], 'P0 (two before: current + 2 remembered)');
    $reused->($pw[1], 'P1 (one before)');
    # The order is the order of the changes, not of the clock (whole seconds: these
    # changes tie; or a clock stepped back): P0's row dated after the others still
    # goes first.
    db_do('UPDATE password_history SET created_at = created_at + 100 WHERE user_id = '
          . sql_str($uid) . ' AND password_hash = ' . sql_str($h0));
    $step->($pw[3], 'P2 -> P3');
    $step->($pw[0], 'P0 again, now three changes back');
    ok(db_value('SELECT count(*) AS n FROM password_history WHERE user_id = '
                . sql_str($uid)) >= 2, 'password_history rows kept');
    is(db_value('SELECT MAX(seq) AS n FROM password_history WHERE user_id = ' . sql_str($uid)), 4,
       '... numbered as written (seq 1 to 4)');

    # At reset, too (field "password"), and the token stays usable. The policy is the
    # vhost's: the reset goes through the policy vhost.
    my $pv = client(vhost => 'policy');
    is($pv->post('/auth/forgot-password', {email => $f->{email}})->code, 202, 'forgot-password');
    my $m = mail_ok('reset mail', to => $f->{email}, template => 'reset_password');
    my $p = problem_ok($pv->post('/auth/reset-password', {token => $m->{token}, password => $cur}),
                       422, 'password_reused', 'reset to the current password');
    fields_ok($p, {password => 'password_reused'}, 'reset to the current password');
    $p = problem_ok($pv->post('/auth/reset-password', {token => $m->{token}, password => $pw[3]}),
                    422, 'password_reused', 'reset to the one before');
    is($pv->post('/auth/reset-password', {token => $m->{token}, password => $pw[4]})->code, 200,
       'reset to a new one: 200');
    is($pv->login($f->{email}, $pw[4])->code, 200, '... which signs in');
}

# No history at registration (nothing to compare) and none on the main server: the
# default AuthsvcPasswordHistory 0 allows the current password again.
{
    my ($c, $f) = account();
    is(change($c, $f->{password}, $f->{password})->code, 200, 'main server: the same password again');
}

done_testing();
