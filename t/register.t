# POST /auth/register: the happy path, duplicates, and every field's bad input.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $c = client();

sub user_count { db_value('SELECT count(*) AS n FROM users') }

# A request that must be refused leaves the users table as it was.
sub refused {
    my ($body, $status, $code, $fields, $name, %opt) = @_;
    my $before = user_count();
    my $res = exists $opt{raw}
        ? $c->post('/auth/register', undef, body => $opt{raw})
        : $c->post('/auth/register', $body);
    my $p = problem_ok($res, $status, $code, $name);
    fields_ok($p, $fields, $name) if $fields;
    is(user_count(), $before, "$name: no account created");
    ok(!defined $res->header('Set-Cookie'), "$name: no cookie");
    return $p;
}

# ---- happy path ----------------------------------------------------------------------

{
    my $email = unique_email('Happy');
    my $pw    = new_password();
    my $t0    = time;
    my $res   = $c->post('/auth/register', {email => $email, password => $pw});
    is($res->code, 201, 'minimal registration: 201');
    like($res->header('Content-Type') // '', qr{^application/json\b}, '... JSON');
    no_store_ok($res, '... ');
    like($res->header('Location') // '', qr{^http://[^/]+/api/users/me$},
         '... Location points at /users/me under the mount');
    ok(!defined $res->header('Set-Cookie'), '... does not sign in');
    my $b = json_body($res) || {};
    my $u = $b->{user} || {};
    is_deeply([sort keys %$b], ['user'], '... body is {user}');
    is_deeply([sort keys %$u],
              [sort qw(id email username first_name last_name email_verified mfa_enabled roles created_at)],
              '... user has exactly the public fields');
    like($u->{id} // '', qr/^\S{8,}$/, '... an id');
    is($u->{email}, lc $email, '... email lower-cased');
    ok(exists $u->{username} && !defined $u->{username}, '... username null');
    ok(!defined $u->{first_name} && !defined $u->{last_name}, '... names null');
    ok(JSON::PP::is_bool($u->{email_verified}) && !$u->{email_verified},
       '... email_verified false');
    is_deeply($u->{roles}, [], '... no roles');
    like($u->{created_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, '... created_at ISO 8601 UTC');

    my $row = user_row($email);
    ok($row, '... row in users');
    is($row->{id}, $u->{id}, '... same id');
    is($row->{email}, lc $email, '... stored lower-cased');
    is($row->{status}, 'active', '... active');
    like($row->{password_hash}, qr/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/,
         '... Argon2id hash at the configured parameters');
    unlike($row->{password_hash}, qr/\Q$pw\E/, '... not the password');
    ok(!defined $row->{email_verified_at}, '... not verified');
    ok(abs($row->{created_at} - $t0) < 300 && $row->{updated_at} >= $row->{created_at},
       '... created_at/updated_at are Unix seconds now');
}

{
    my $email = unique_email();
    my $name  = unique_username('Ada');
    my $res = $c->post('/auth/register', {
        email      => $email,
        password   => new_password(),
        username   => $name,
        first_name => "Zo\x{eb} \x{674e}",
        last_name  => "\x{d1}and\x{fa} O'Brien-Smith",
    });
    is($res->code, 201, 'full registration: 201');
    my $u = (json_body($res) || {})->{user} || {};
    is($u->{username}, $name, '... username kept as typed');
    is($u->{first_name}, "Zo\x{eb} \x{674e}", '... non-ASCII first name');
    is($u->{last_name}, "\x{d1}and\x{fa} O'Brien-Smith", '... last name');
    my $row = user_row($email);
    is($row->{username}, $name, '... stored');
}

{
    my $email = 'Mixed.Case+tag.' . int(rand 1e9) . '@Example.ORG';
    my $res = $c->post('/auth/register', {email => $email, password => new_password()});
    is($res->code, 201, 'mixed-case email registers');
    is((json_body($res) || {})->{user}{email}, lc $email, '... answered lower-cased');
    ok(user_row($email), '... found lower-cased');
}

# Fields the client may not set are ignored (no mass assignment).
{
    my $email = unique_email();
    my $res = $c->post('/auth/register', {
        email => $email, password => new_password(), id => 'chosen-id',
        roles => ['admin'], status => 'disabled', email_verified => JSON::PP::true,
        email_verified_at => 1, password_hash => 'x',
    });
    is($res->code, 201, 'extra fields: still 201');
    my $u = (json_body($res) || {})->{user} || {};
    isnt($u->{id}, 'chosen-id', '... id not taken from the client');
    is_deeply($u->{roles}, [], '... roles not taken from the client');
    ok(!$u->{email_verified}, '... email_verified not taken from the client');
    my $row = user_row($email);
    is($row->{status}, 'active', '... status not taken from the client');
    like($row->{password_hash}, qr/^\$argon2id\$/, '... hash not taken from the client');
}

# ---- duplicates ----------------------------------------------------------------------

{
    my ($res, $f) = $c->register(username => unique_username('dup'));
    is($res->code, 201, 'first account for the duplicate tests');
    refused({email => $f->{email}, password => new_password()}, 409, 'email_taken', undef,
            'same email again');
    refused({email => uc $f->{email}, password => new_password()}, 409, 'email_taken', undef,
            'same email in upper case');
    refused({email => unique_email(), password => new_password(), username => $f->{username}},
            409, 'username_taken', undef, 'same username');
    refused({email => unique_email(), password => new_password(), username => uc $f->{username}},
            409, 'username_taken', undef, 'same username in another case');
    my $p = refused({email => $f->{email}, password => new_password(), username => unique_username()},
            409, 'email_taken', undef, 'taken email with a free username');
}

# ---- passwords -----------------------------------------------------------------------

sub pw_ok {
    my ($pw, $name) = @_;
    my $res = $c->post('/auth/register', {email => unique_email(), password => $pw});
    is($res->code, 201, "password $name: accepted") or diag($res->content);
}
sub pw_bad {
    my ($pw, $code, $name) = @_;
    refused({email => unique_email(), password => $pw}, 422, 'validation_failed',
            {password => $code}, "password $name");
}

pw_bad('a' x 11, 'password_too_short', '11 characters');
pw_ok('a' x 12, '12 characters');
pw_ok('b' x 128, '128 characters');
pw_bad('c' x 129, 'password_too_long', '129 characters');
pw_ok("\x{1F600}" x 12, 'of 12 emoji (48 octets)');
pw_bad("\x{1F600}" x 11, 'password_too_short', 'of 11 emoji (44 octets)');
pw_ok("\x{e9}" x 128, 'of 128 two-octet characters (256 octets)');
pw_bad("\x{e9}" x 129, 'password_too_long', 'of 129 two-octet characters');
pw_ok('correct horse battery staple', 'with spaces');
pw_ok("p\x{e4}ssw\x{f6}rd \x{2603} \x{1F512} \x{4e2d}\x{6587}", 'with mixed scripts and emoji');
pw_bad("tab\there-and-long", 'password_invalid', 'with a tab');
pw_bad("newline\nhere-and-long", 'password_invalid', 'with a newline');
pw_bad("nul\x{0}here-and-long", 'password_invalid', 'with NUL (\\u0000)');
pw_bad("del\x{7f}here-and-long", 'password_invalid', 'with DEL');
pw_bad("c1\x{85}control-and-long", 'password_invalid', 'with a C1 control (U+0085)');
pw_bad('', 'password_too_short', 'empty');
# Escaped NUL and controls inside a valid JSON text.
refused(undef, 422, 'validation_failed', {password => 'password_invalid'},
        'password with \\u0000 escape', raw => '{"email":"' . unique_email()
        . '","password":"abcdefghijkl\u0000mnop"}');
refused(undef, 422, 'validation_failed', {password => 'password_invalid'},
        'password with \\u001b escape', raw => '{"email":"' . unique_email()
        . '","password":"abcdefghijkl\u001bmnop"}');
# Lone surrogates cannot be UTF-8: the JSON text itself is refused.
refused(undef, 400, 'invalid_json', undef, 'password with a lone high surrogate',
        raw => '{"email":"' . unique_email() . '","password":"abcdefghijkl\ud800mnop"}');
refused(undef, 400, 'invalid_json', undef, 'password with a lone low surrogate',
        raw => '{"email":"' . unique_email() . '","password":"abcdefghijkl\udc00mnop"}');
# A surrogate pair is one character (U+1F600): 11 of them plus one letter is 12.
{
    my $res = $c->post('/auth/register', undef, body => '{"email":"' . unique_email()
        . '","password":"' . ('\ud83d\ude00' x 11) . 'x"}');
    is($res->code, 201, 'password of escaped surrogate pairs counts characters');
}
refused(undef, 400, 'invalid_json', undef, 'raw invalid UTF-8 in the password',
        raw => '{"email":"' . unique_email() . "\",\"password\":\"abcdefghijkl\xff\xfemnop\"}");
refused(undef, 400, 'invalid_json', undef, 'overlong UTF-8 encoding in the password',
        raw => '{"email":"' . unique_email() . "\",\"password\":\"abcdefghijkl\xc0\xafmnop\"}");

# ---- required fields and types -------------------------------------------------------

refused({}, 422, 'validation_failed', {email => 'required', password => 'required'},
        'empty object');
refused({password => new_password()}, 422, 'validation_failed', {email => 'required'},
        'missing email');
refused({email => unique_email()}, 422, 'validation_failed', {password => 'required'},
        'missing password');
refused({email => undef, password => undef}, 422, 'validation_failed',
        {email => 'required', password => 'required'}, 'null email and password');
for my $case ([number => 42], [true => JSON::PP::true], [array => ['a@example.org']],
              [object => {a => 1}]) {
    my ($what, $v) = @$case;
    refused({email => $v, password => new_password()}, 422, 'validation_failed',
            {email => 'wrong_type'}, "email as $what");
    refused({email => unique_email(), password => $v}, 422, 'validation_failed',
            {password => 'wrong_type'}, "password as $what");
    refused({email => unique_email(), password => new_password(), username => $v},
            422, 'validation_failed', {username => 'wrong_type'}, "username as $what");
    refused({email => unique_email(), password => new_password(), first_name => $v},
            422, 'validation_failed', {first_name => 'wrong_type'}, "first_name as $what");
    refused({email => unique_email(), password => new_password(), last_name => $v},
            422, 'validation_failed', {last_name => 'wrong_type'}, "last_name as $what");
}
refused({email => 'not-an-email', password => 'short', username => 'x',
         first_name => "a\nb", last_name => 'z' x 101},
        422, 'validation_failed',
        {email => 'invalid_email', password => 'password_too_short',
         username => 'invalid_length', first_name => 'invalid', last_name => 'invalid'},
        'every field wrong at once');

# ---- email ---------------------------------------------------------------------------

my $l63 = 'a' x 63;
my $dom189 = join '.', 'a' x 63, 'b' x 63, 'c' x 57, 'org';     # 189 octets
my %bad_email = (
    'no @'                 => 'user.example.org',
    'two @'                => 'a@b@example.org',
    'double @@'            => 'a@@example.org',
    'empty local part'     => '@example.org',
    'empty domain'         => 'user@',
    'domain without dot'   => 'user@localhost',
    'two dots in a row'    => 'a..b@example.org',
    'leading dot'          => '.a@example.org',
    'trailing dot'         => 'a.@example.org',
    'hyphen label'         => 'user@-bad.example.org',
    'empty label'          => 'user@example..org',
    'space'                => 'us er@example.org',
    'leading space'        => ' user@example.org',
    'quote'                => 'us"er@example.org',
    'empty string'         => '',
    'local part 65 octets' => ('a' x 65) . '@example.org',
    'domain label 64'      => 'a@' . ('b' x 64) . '.org',
    '255 octets'           => ('a' x 64) . '@' . $dom189 . 'x',
    'tab'                  => "a\tb\@example.org",
    'NUL'                  => "a\x{0}b\@example.org",
    'BEL'                  => "a\x{7}b\@example.org",
    'C1 control'           => "a\x{85}b\@example.org",
    'DEL'                  => "a\x{7f}b\@example.org",
);
for my $name (sort keys %bad_email) {
    refused({email => $bad_email{$name}, password => new_password()}, 422,
            'validation_failed', {email => 'invalid_email'}, "email with $name");
}
refused(undef, 400, 'invalid_json', undef, 'email with a lone surrogate',
        raw => '{"email":"a\udfffb@example.org","password":"' . new_password() . '"}');
{
    my $tag = sprintf '%06d', int rand 1e6;
    my $local = substr($tag . ('a' x 64), 0, 64);
    my $email = "$local\@$dom189";
    is(length $email, 254, 'an email of exactly 254 octets');
    my $res = $c->post('/auth/register', {email => $email, password => new_password()});
    is($res->code, 201, '... registers') or diag($res->content);
    my $idn = "\x{fc}ser." . int(rand 1e9) . "\@b\x{fc}cher.example";
    $res = $c->post('/auth/register', {email => $idn, password => new_password()});
    is($res->code, 201, 'an internationalised email registers') or diag($res->content);
    is((json_body($res) || {})->{user}{email}, $idn, '... unchanged (only ASCII is lower-cased)');
    my $plus = "o'brien+x." . int(rand 1e9) . '@sub.example.co.uk';
    $res = $c->post('/auth/register', {email => $plus, password => new_password()});
    is($res->code, 201, "an email with ' and + registers") or diag($res->content);
}

# ---- username ------------------------------------------------------------------------

my %bad_user = (
    'two characters'     => ['ab',            'invalid_length'],
    '33 characters'      => ['a' x 33,        'invalid_length'],
    'empty'              => ['',              'invalid_length'],
    'leading underscore' => ['_abc',          'invalid_format'],
    'leading dot'        => ['.abc',          'invalid_format'],
    'leading hyphen'     => ['-abc',          'invalid_format'],
    'a space'            => ['ab cd',         'invalid_format'],
    'an @'               => ['ab@cd',         'invalid_format'],
    'a slash'            => ['ab/cd',         'invalid_format'],
    'non-ASCII'          => ["\x{fc}ser",     'invalid_format'],
    'NUL'                => ["abc\x{0}def",   'invalid_format'],
    'newline'            => ["abc\ndef",      'invalid_format'],
);
for my $name (sort keys %bad_user) {
    my ($v, $code) = @{ $bad_user{$name} };
    refused({email => unique_email(), password => new_password(), username => $v}, 422,
            'validation_failed', {username => $code}, "username with $name");
}
for my $ok (['3 characters', 'a' . substr(unique_username(''), -2)],
            ['32 characters', substr('z' . unique_username('') . ('x' x 40), 0, 32)],
            ['. _ -', 'x.y_z-' . substr(unique_username(''), -8)],
            ['leading digit', '9' . substr(unique_username(''), 1)]) {
    my ($name, $v) = @$ok;
    my $res = $c->post('/auth/register',
                       {email => unique_email(), password => new_password(), username => $v});
    is($res->code, 201, "username with $name ($v)") or diag($res->content);
}
{
    my $res = $c->post('/auth/register',
                       {email => unique_email(), password => new_password(), username => undef});
    is($res->code, 201, 'username null: no username');
    ok(!defined((json_body($res) || {})->{user}{username}), '... null');
}

# ---- names ---------------------------------------------------------------------------

{
    my $res = $c->post('/auth/register', {email => unique_email(), password => new_password(),
                                          first_name => "\x{e9}" x 100, last_name => 'x' x 100});
    is($res->code, 201, 'names of 100 characters') or diag($res->content);
    $res = $c->post('/auth/register', {email => unique_email(), password => new_password(),
                                       first_name => undef, last_name => undef});
    is($res->code, 201, 'null names');
}
for my $f (qw(first_name last_name)) {
    my %bad = (
        '101 characters' => "\x{e9}" x 101,
        'a newline'      => "Ann\nBob",
        'a tab'          => "Ann\tBob",
        'NUL'            => "Ann\x{0}Bob",
        'ESC'            => "Ann\x{1b}Bob",
        'C1 control'     => "Ann\x{9f}Bob",
    );
    for my $name (sort keys %bad) {
        refused({email => unique_email(), password => new_password(), $f => $bad{$name}}, 422,
                'validation_failed', {$f => 'invalid'}, "$f with $name");
    }
    refused(undef, 400, 'invalid_json', undef, "$f with a lone surrogate",
            raw => '{"email":"' . unique_email() . '","password":"' . new_password()
            . "\",\"$f\":\"Ann\\udbffBob\"}");
}

# ---- method and route ----------------------------------------------------------------

{
    my $res = $c->get('/auth/register');
    problem_ok($res, 405, 'method_not_allowed', 'GET /auth/register');
    is($res->header('Allow'), 'POST', '... Allow: POST');
}

done_testing();
