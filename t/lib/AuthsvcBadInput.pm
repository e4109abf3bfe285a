package AuthsvcBadInput;

# Issue 10, area D: the table-driven bad-input suite (t/bad_input_*.t).
#
# ONE table of the routes (%ROUTES: method, path, who may call it, the body fields with
# their types and documented maximum lengths, a base body that fails at its last step
# so that an accepted value changes nothing) and ONE list of hostile values per type
# (hostile()). run_route() sends every hostile value in every field of a route, and the
# body-level cases (wrong Content-Type, empty, not an object, nesting 10000 deep,
# duplicate keys, too large ...), over keep-alive, and checks in one ok() per field and
# aspect:
#   - never a 5xx; a value of the "refuse" class is a 4xx, and a 4xx of the JSON API is
#     problem+json with a code from src/problem.c (pages: an HTML page or a 303 to a
#     path of the site);
#   - no CR or LF in any response header, no Set-Cookie of a session;
#   - the server still answers /health;
#   - the tables are unchanged (snapshot(): the rows added since the batch began to
#     every table, audit rows of refused attempts excepted, and the full rows of the
#     fixture accounts: users, sessions, refresh tokens, MFA, passkeys, devices).
#
#   my $fx = fixtures();                       # accounts and clients on vhost badinput
#   run_route($fx, 'POST /auth/login');        # every case of one route of the table
#   run_cases($fx, $name, [[$method, $path, %request] ...], %expect);

use strict;
use warnings;

use Exporter 'import';
use File::Spec::Functions qw(catfile);
use LWP::UserAgent ();
use Test::More;
use Time::HiRes ();

use AuthsvcTest;

our @EXPORT = qw(fixtures run_route run_cases route_names route_coverage snapshot snapshot_same
                 alive_ok keepalive catalogue response_ok);

our $VHOST = 'badinput';
our %T;   # seconds spent, by what (reported at the end)
our $CASES = 0;

# ---- the hostile values ------------------------------------------------------------
# Raw JSON texts (bytes) for a member's value. 'refuse': no field may accept these;
# 'maybe': valid for some fields (free text, passwords), refused by others.

my $MB = 1024 * 1024;

sub _deep { my ($n) = @_; ('[' x $n) . (']' x $n) }

sub _jstr { AuthsvcTest::json_enc($_[0]) }

# Per type: [[label, raw JSON], ...] for the classes refuse and maybe.
sub hostile {
    my ($type, $max, $big) = @_;
    my @types = (
        ['zero', '0'], ['minus one', '-1'], ['a real', '1.5'],
        ['1e309', '1e309'], ['2^64', '18446744073709551616'],
        ['-2^63-1', '-9223372036854775809'], ['a huge real', '123456789012345678901234567890e300'],
        ['true', 'true'], ['an empty array', '[]'],
        ['an object', '{"a":"b"}'], ['nesting 10000 deep', _deep(10000)],
        # (deep, but within what the parser takes: the value reaches the field's check)
        ['nesting 2000 deep', _deep(2000)],
        ['objects nested 2000 deep', ('{"a":' x 2000) . '1' . ('}' x 2000)],
    );
    # The third member 'str': a JSON string (the parser takes it; the field's check
    # must refuse it).
    my $nul = ['an escaped NUL', '"a\\u0000b"', 'str'];
    my @bytes = (
        ['invalid UTF-8 \\xff', qq("a\xffb")], ['an overlong /', qq("a\xc0\xafb")],
        ['an encoded surrogate', qq("\xed\xa0\x80")],
        ['a lone continuation byte', qq("\x80")], ['above U+10FFFF', qq("\xf4\x90\x80\x80")],
        ['a truncated sequence', qq("a\xc3")], ['an escaped lone surrogate', '"\\ud800"'],
        $nul, ['a raw NUL', qq("a\x00b")], ['a raw control character', qq("a\x01b")],
        ['a raw LF', qq("a\nb")],
        $big ? ['1 MB', '"' . ('a' x $MB) . '"', 'str'] : (),
    );
    # What the parser refuses whichever member it is in, once per route (in its first
    # field): the other fields get the values each field's own check sees.
    unless ($big) {
        @types = grep { $_->[0] =~ /^(?:minus one|2\^64|true|an empty array|an object)$/ } @types;
        @bytes = ($nul);
    }
    my @sql = (
        ['SQL quote', _jstr(q{' OR '1'='1' -- })],
        ['SQL statements', _jstr(q{x"; DROP TABLE users; -- a'); DELETE FROM sessions; --})],
        ['SQL backslash and wildcards', _jstr(q{\\'\\"%_})],
    );
    my @crlf = (
        ['CR LF Bcc', _jstr("Eve\r\nBcc: evil\@example.org")],
        ['CR LF Set-Cookie', _jstr("x\r\nSet-Cookie: authsvc=evil")],
        ['a lone CR', _jstr("a\rb")], ['an escaped NUL in the middle', _jstr("a\0b")],
    );
    my @text = (
        ['null', 'null'], ['empty', '""'], ['a space', '" "'],
        ['right-to-left override and an emoji', _jstr("\x{202e}abc") =~ s/"$/\\ud83d\\ude00"/r],
    );
    my (@refuse, @maybe);
    if ($type eq 'bool') {
        @refuse = (['the string true', '"true"'], ['one', '1'], ['zero', '0'], ['an array', '[]'],
                   ['an object', '{}'], ['yes', '"yes"'], ['nesting 10000 deep', _deep(10000)],
                   ['1e309', '1e309']);
        @maybe = (['null', 'null']);
    }
    elsif ($type eq 'obj') {
        @refuse = ((grep { $_->[1] !~ /^\{/ } @types), ($big ? (@bytes[0, 6], $nul, $bytes[-1]) : @bytes), $sql[0],
                   ['an object of junk', '{"id":1,"rawId":[],"response":"x","type":null}'],
                   ['an object nested 10000 deep', '{"response":' . ('{"a":' x 10000) . '1' . ('}' x 10000) . '}']);
        @maybe = (['null', 'null']);
    }
    else {
        @refuse = (@types, @bytes);
        # Just over the documented maximum length (an address for an email field).
        if ($max) {
            push @refuse, ['max+1 characters', $type eq 'email'
                               ? _jstr(('a' x ($max + 1 - 12)) . '@example.org')
                               : _jstr('a' x ($max + 1)), 'str'];
        }
        if ($type eq 'email') {
            push @refuse, (map { [@$_, 'str'] } @crlf[0, 1, 2]),
                ['a NUL in the address', _jstr("a\0\@example.org"), 'str'];
            @maybe = (@text, @sql, ['a quote in the local part', _jstr(q{o'brien@example.org})]);
        }
        else {
            @maybe = (@text, @sql, @crlf);
        }
    }
    return {refuse => \@refuse, maybe => \@maybe};
}

# Form (page) values: URL-encoded bytes.
sub hostile_form {
    my ($max, $big) = @_;
    my @refuse = (
        ['%FF', 'a%FFb'], ['an overlong /', '%C0%AF'], ['an encoded surrogate', '%ED%A0%80'],
        ['a lone continuation byte', '%80'], ['a NUL', 'a%00b'], $big ? ['1 MB', 'a' x $MB] : (),
        ['a bad %-escape', '%zz'], ['a lone %', 'a%'],
    );
    push @refuse, ['max+1 characters', 'a' x ($max + 1)] if $max;
    my @maybe = (
        ['CR LF Bcc', 'Eve%0D%0ABcc:%20evil%40example.org'], ['CR LF Set-Cookie', 'x%0D%0ASet-Cookie:%20authsvc=evil'],
        ['SQL quote', '%27%20OR%20%271%27%3D%271%27%20--%20'], ['SQL statement', 'x%22%3B%20DROP%20TABLE%20users%3B%20--'],
        ['empty', ''], ['right-to-left override', '%E2%80%AEabc'],
    );
    return {refuse => \@refuse, maybe => \@maybe};
}

# ---- the route table ---------------------------------------------------------------
# auth: none | cookie (the signed-in user's session) | bearer (the user's access token,
# no cookie) | admin (an administrator's session) | page (a form with the CSRF token of
# the anonymous client's page) | page_user (the same, signed in).
# fields: name => [type, documented maximum]. base: the body around the field under
# test, built to fail at its last step (a wrong password, an unknown token, a taken
# address ...) so that a hostile value the validation lets through still changes
# nothing. accepts: fields where a "maybe" value may succeed (2xx; for pages also a
# 303); mutates: such a success may change the tables (the snapshot is taken again).

my $WRONG = 'Wrong password 123 horse';

our %ROUTES = (
    'POST /auth/register' => {
        auth => 'none',
        fields => {email => ['email', 254], password => ['str', 128], username => ['str', 32],
                   first_name => ['name', 100], last_name => ['name', 100]},
        base => sub { {email => $_[0]{user_f}{email}, password => AuthsvcTest::new_password(),
                       first_name => 'Ann', last_name => 'Lee'} },
        accepts => {email => 1}, mutates => 1,
    },
    'POST /auth/login' => {
        auth => 'none', fields => {login => ['email'], password => ['str', 128]},
        base => sub { {login => $_[0]{user_f}{email}, password => $WRONG} },
    },
    'POST /auth/login/mfa' => {
        auth => 'none',
        fields => {mfa_token => ['str'], code => ['str'], recovery_code => ['str'],
                   remember_device => ['bool']},
        base => sub { {mfa_token => $_[0]{mfa_token}, code => '000000'} },
    },
    'POST /auth/email-code' => {
        auth => 'none', fields => {email => ['email', 254]},
        base => sub { {email => 'nobody.badinput@example.org'} },
        accepts => {email => 1},
    },
    'POST /auth/email-code/verify' => {
        auth => 'none',
        fields => {email => ['email', 254], code => ['str'], code_token => ['str']},
        base => sub { {email => $_[0]{user_f}{email}, code => '000000'} },
    },
    'POST /auth/verify-email' => {
        auth => 'none', fields => {token => ['str']},
        base => sub { {token => 'A' x 43} },
    },
    'POST /auth/forgot-password' => {
        auth => 'none', fields => {email => ['email', 254]},
        base => sub { {email => 'nobody.badinput@example.org'} },
        accepts => {email => 1}, mutates => 1,   # an accepted request is audited
    },
    'POST /auth/reset-password' => {
        auth => 'none', fields => {token => ['str'], password => ['str', 128]},
        base => sub { {token => 'A' x 43, password => AuthsvcTest::new_password()} },
    },
    'POST /auth/refresh' => {
        auth => 'none', fields => {refresh_token => ['str']},
        base => sub { {refresh_token => 'A' x 43} },
    },
    'POST /auth/introspect' => {
        # RFC 7662: a token that is not active is {"active": false}, whatever its
        # text; the hint is not used; the body may be a form.
        auth => 'none', fields => {token => ['str', undef, 'lenient'], token_type_hint => ['str', undef, 'ignored']},
        base => sub { {token => 'A' x 43} },
        bodies_ok => {'a form body' => 1},
    },
    'POST /auth/logout' => {
        # RFC 7009: signing out with a token that is not (or no longer) good is done.
        auth => 'none', fields => {refresh_token => ['str', undef, 'lenient']},
        base => sub { {refresh_token => 'A' x 43} },
        bodies_ok => {'an empty body' => 1},
    },
    'POST /auth/passkey/options' => {
        # The login member is documented as accepted and ignored (discoverable
        # credentials only); each answer stores its challenge.
        auth => 'none', fields => {login => ['email', undef, 'ignored']},
        base => sub { {login => 'nobody.badinput@example.org'} },
        mutates => 1,
    },
    'POST /auth/passkey' => {
        auth => 'none', fields => {credential => ['obj']},
        base => sub { {credential => {id => 'AAAA', rawId => 'AAAA', type => 'public-key',
                                      response => {}}} },
    },
    'POST /auth/reauthenticate' => {
        auth => 'cookie',
        fields => {password => ['str', 128], code => ['str'], recovery_code => ['str']},
        base => sub { {password => $WRONG} },
    },
    'PUT /users/me' => {
        auth => 'cookie',
        fields => {username => ['str', 32], first_name => ['name', 100], last_name => ['name', 100]},
        base => sub { {first_name => 'Ann'} },
        accepts => {username => 1, first_name => 1, last_name => 1}, mutates => 1,
    },
    'PATCH /users/me' => {
        auth => 'bearer',
        fields => {username => ['str', 32], first_name => ['name', 100], last_name => ['name', 100]},
        base => sub { {} },
        accepts => {username => 1, first_name => 1, last_name => 1}, mutates => 1,
    },
    'DELETE /users/me' => {
        auth => 'cookie', fields => {password => ['str', 128]},
        base => sub { {password => $WRONG} },
    },
    'PUT /users/me/password' => {
        auth => 'cookie', fields => {current_password => ['str', 128], new_password => ['str', 128]},
        base => sub { {current_password => $WRONG, new_password => AuthsvcTest::new_password()} },
    },
    'POST /users/me/email' => {
        auth => 'cookie', fields => {new_email => ['email', 254], password => ['str', 128]},
        base => sub { {new_email => AuthsvcTest::unique_email('bi'), password => $WRONG} },
    },
    'DELETE /users/me/mfa' => {
        auth => 'cookie',
        fields => {password => ['str', 128], code => ['str'], recovery_code => ['str']},
        base => sub { {password => $WRONG} },
    },
    'POST /users/me/mfa/confirm' => {
        auth => 'cookie', fields => {code => ['str']},
        base => sub { {code => '000000'} },
    },
    'POST /users/me/mfa/recovery-codes' => {
        auth => 'cookie', fields => {code => ['str']},
        base => sub { {code => '000000'} },
    },
    'POST /users/me/passkeys' => {
        auth => 'cookie', fields => {name => ['name', 64], credential => ['obj']},
        base => sub { {name => 'Key', credential => {id => 'AAAA', type => 'public-key',
                                                     response => {}}} },
    },
    'PATCH /users/me/passkeys/{pk}' => {
        auth => 'cookie', fields => {name => ['name', 64]},
        base => sub { {name => 'Key'} },
        accepts => {name => 1}, mutates => 1,
    },
    'POST /admin/users/{victim_id}/roles' => {
        auth => 'admin', fields => {role => ['str', 64]},
        base => sub { {role => 'editor'} },   # (the victim gets it when a value passes)
    },
    # The passkey sign-in of the login page's script: JSON with the page's CSRF token.
    'POST /passkey' => {
        auth => 'page_json', fields => {credential => ['obj'], csrf_token => ['str']},
        base => sub { {credential => {id => 'AAAA', rawId => 'AAAA', type => 'public-key',
                                      response => {}}} },
    },
    # The pages: forms with the CSRF token.
    'POST /login' => {
        auth => 'page', fields => {login => ['email'], password => ['str', 128], return_to => ['str']},
        base => sub { {login => $_[0]{user_f}{email}, password => $WRONG} },
    },
    'POST /register' => {
        auth => 'page',
        fields => {email => ['email', 254], password => ['str', 128], username => ['str', 32],
                   first_name => ['name', 100], last_name => ['name', 100]},
        base => sub { {email => $_[0]{user_f}{email}, password => AuthsvcTest::new_password(),
                       first_name => 'Ann'} },
        accepts => {email => 1}, mutates => 1,
    },
    'POST /forgot-password' => {
        auth => 'page', fields => {email => ['email', 254]},
        base => sub { {email => 'nobody.badinput@example.org'} },
        accepts => {email => 1}, mutates => 1,
    },
    'POST /reset-password' => {
        auth => 'page', fields => {token => ['str'], password => ['str', 128]},
        base => sub { {token => 'A' x 43, password => AuthsvcTest::new_password()} },
    },
    'POST /verify-email' => {
        auth => 'page', fields => {token => ['str']},
        base => sub { {token => 'A' x 43} },
    },
    'POST /email-code' => {
        auth => 'page', fields => {email => ['email', 254]},
        base => sub { {email => 'nobody.badinput@example.org'} },
        accepts => {email => 1},
    },
    'POST /email-code/verify' => {
        auth => 'page', fields => {email => ['email', 254], code => ['str']},
        base => sub { {email => $_[0]{user_f}{email}, code => '000000'} },
    },
    'POST /mfa' => {
        auth => 'page', fields => {code => ['str'], recovery_code => ['str'], remember_device => ['str']},
        base => sub { {code => '000000'} },
    },
    'POST /logout' => {
        auth => 'page', fields => {}, base => sub { {} },
        bodies_ok => {'an empty body' => 1},
    },
    'POST /account/mfa/confirm' => {
        auth => 'page_user', fields => {code => ['str']},
        base => sub { {code => '000000'} },
    },
    'POST /account/mfa/recovery-codes' => {
        auth => 'page_user', fields => {code => ['str']},
        base => sub { {code => '000000'} },
    },
    'POST /account/profile' => {
        auth => 'page_user',
        fields => {username => ['str', 32], first_name => ['name', 100], last_name => ['name', 100]},
        base => sub { {first_name => 'Ann'} },
        accepts => {username => 1, first_name => 1, last_name => 1}, mutates => 1,
    },
    'POST /account/password' => {
        auth => 'page_user', fields => {current_password => ['str', 128], new_password => ['str', 128]},
        base => sub { {current_password => $WRONG, new_password => AuthsvcTest::new_password()} },
    },
    'POST /account/email' => {
        auth => 'page_user', fields => {new_email => ['email', 254], password => ['str', 128]},
        base => sub { {new_email => AuthsvcTest::unique_email('bi'), password => $WRONG} },
    },
    'POST /account/sessions/revoke' => {
        auth => 'page_user', fields => {id => ['str']},
        base => sub { {id => 'no-such-session'} },
    },
    'POST /account/mfa/disable' => {
        auth => 'page_user', fields => {password => ['str', 128], code => ['str']},
        base => sub { {password => $WRONG} },
    },
    'POST /account/passkeys/rename' => {
        auth => 'page_user', fields => {id => ['str'], name => ['name', 64]},
        base => sub { {id => 'no-such-passkey', name => 'Key'} },
    },
    'POST /account/devices/forget' => {
        auth => 'page_user', fields => {id => ['str']},
        base => sub { {id => 'no-such-device'} },
    },
);

# The three files' shares of the table: every route in exactly one (route_coverage).
our %ROUTE_SETS = (
    auth    => qr{^POST /(?:auth/(?!reauthenticate)|login|register|forgot|reset|verify|email-code|passkey$|mfa$|logout$)},
    account => qr{^(?:POST /auth/reauthenticate|\S+ /users/me|POST /account/)},
    admin   => qr{^\S+ /admin/},
);

# The routes of one share (auth, account, admin); dies on an unknown share.
sub route_names {
    my ($set) = @_;
    my $re = $ROUTE_SETS{$set} // die "route_names: no share '$set'\n";
    return sort grep { /$re/ } keys %ROUTES;
}

# The routes of src/router.c that read a body and that the table leaves out: none is
# the answer. Left out on purpose: the routes that read no body (they get the path and
# header cases of bad_input_admin.t), and the page forms' dispatch patterns (/account/*,
# whose forms are in the table one by one).
our @BODYLESS = ('POST /users/me/mfa', 'POST /auth/verify-email/resend',
                 'POST /users/me/passkeys/options', 'POST /admin/users/*/disable',
                 'POST /admin/users/*/enable', 'POST /admin/users/*/unlock');

sub route_coverage {
    my $src = catfile(AuthsvcTest::serverroot(), '..', 'src', 'router.c');
    open(my $fh, '<', $src) or die "$src: $!\n";
    my %table = map { (my $k = $_) =~ s/\{[^}]+\}/*/g; ($k => 1) } keys %ROUTES;
    my %skip = map { $_ => 1 } @BODYLESS;
    my (@router, @missing, @shares);
    while (<$fh>) {
        push @router, "$1 $2" if /\{M_(POST|PUT|PATCH), "([^"]+)"/;
    }
    @missing = grep { !$table{$_} && !$skip{$_} && !m{^POST /account/\*} } @router;
    # Every table route in exactly one share.
    for my $r (keys %ROUTES) {
        my $n = grep { $r =~ $ROUTE_SETS{$_} } keys %ROUTE_SETS;
        push @shares, "$r ($n shares)" if $n != 1;
    }
    return (scalar(@router), \@missing, \@shares);
}

# ---- the problem catalogue -----------------------------------------------------------

my %CATALOGUE;

# The codes clients may see, read from src/problem.c of the tree under test.
sub catalogue {
    return \%CATALOGUE if %CATALOGUE;
    my $src = catfile(AuthsvcTest::serverroot(), '..', 'src', 'problem.c');
    open(my $fh, '<', $src) or die "cannot read $src: $!\n";
    local $/;
    my $text = <$fh>;
    while ($text =~ /\{"([a-z_]+)",\s*(\d{3}),\s*"[^"]*",\s*(?:"([a-z_]+)"|NULL)\}/g) {
        $CATALOGUE{ $3 // $1 }{$2} = 1;
    }
    die "no codes found in $src\n" unless keys %CATALOGUE > 10;
    return \%CATALOGUE;
}

# ---- fixtures ----------------------------------------------------------------------

# A client of vhost badinput whose connections are kept alive between requests.
sub keepalive {
    my (%o) = @_;
    my $c = AuthsvcTest::client(vhost => $VHOST, %o);
    $c->{ua} = LWP::UserAgent->new(keep_alive => 2, timeout => 120, max_redirect => 0,
                                   agent => $o{agent} // 'authsvc-badinput/1.0');
    return $c;
}

# The accounts every table's base bodies name, each with a client of its own: user
# (signed in, verified, with a passkey row id and a bearer), admin, an MFA account's
# pending mfa_token, a victim for the admin routes, and the anonymous clients of the
# pages with their CSRF tokens.
sub fixtures {
    my %fx;
    my $t0 = Time::HiRes::time();
    END { diag(join ', ', (map { sprintf '%s %.1fs', $_, $T{$_} } sort keys %T), sprintf('all %ds, %d cases', time - $^T, $CASES)) if %T }
    my ($uc, $uf, $uu) = AuthsvcTest::account(vhost => $VHOST, verified => 1);
    $fx{user_f} = $uf;
    $fx{user_id} = $uu->{id};
    $fx{user} = keepalive();
    $fx{user}{jar} = {%{ $uc->jar }};
    my $t = keepalive();
    my $res = $t->login($uf->{email}, $uf->{password});
    my $tb = AuthsvcTest::json_body($res) || {};
    die "no access token on vhost $VHOST: " . $res->content . "\n" unless $tb->{access_token};
    $fx{bearer} = keepalive(headers => [AuthsvcTest::bearer($tb->{access_token})]);
    $fx{refresh_token} = $tb->{refresh_token};
    my ($ac, $af, $au) = AuthsvcTest::account(vhost => $VHOST, verified => 1, roles => 'admin');
    $fx{admin} = keepalive();
    $fx{admin}{jar} = {%{ $ac->jar }};
    $fx{admin_id} = $au->{id};
    my (undef, $vf, $vu) = AuthsvcTest::account(vhost => $VHOST, verified => 1);
    $fx{victim_id} = $vu->{id};
    my $m = AuthsvcTest::mfa_account(vhost => $VHOST);
    $fx{mfa_id} = $m->{u}{id};
    $fx{mfa_f} = $m->{f};
    my (undef, undef, $tok) = AuthsvcTest::mfa_start($m);
    die "no mfa_token\n" unless $tok;
    $fx{mfa_token} = $tok;
    # A passkey row of the user's, to rename with hostile names.
    my ($pres) = AuthsvcTest::pk_register($fx{user}, name => 'Key');
    die 'passkey: ' . $pres->status_line . ' ' . $pres->content . "\n" unless $pres->code =~ /^20/;
    $fx{pk} = AuthsvcTest::db_value('SELECT id FROM passkeys WHERE user_id = '
                                    . AuthsvcTest::sql_str($fx{user_id}));
    $fx{anon} = keepalive();
    $fx{ids} = [@fx{qw(user_id admin_id victim_id mfa_id)}];
    $T{fixtures} += Time::HiRes::time() - $t0;
    return \%fx;
}

# The CSRF token of a page for client $c.
sub _csrf {
    my ($c, $page) = @_;
    my $res = $c->page_get($page);
    my $t = AuthsvcTest::csrf_from($res->content);
    die "no csrf token on $page: " . $res->status_line . "\n" unless defined $t;
    return $t;
}

# ---- the tables --------------------------------------------------------------------

# Audit rows a refused attempt may write: the design records failures.
our $AUDIT_OK = q{'login_failure', 'login_refused', 'mfa_failure', 'access_denied', 'totp_replay'};

my @NEW = (
    [users => 'created_at'], [sessions => 'created_at'], [tokens => 'created_at'],
    [mail_outbox => 'created_at'], [password_history => 'created_at'],
    [mfa_recovery_codes => 'created_at'], [mfa_challenges => 'created_at'],
    [refresh_tokens => 'created_at'], [email_codes => 'created_at'],
    [devices_seen => 'first_seen'], [remembered_devices => 'created_at'],
    [passkeys => 'created_at'], [webauthn_challenges => 'created_at'],
);

# The state a refused request must not change: rows added since $t0 to every table
# (audit: but those of refused attempts), the number of users, and the full rows of the
# fixture accounts (the columns a mere use touches left out).
sub snapshot {
    my ($fx, $t0) = @_;
    my $t = Time::HiRes::time();
    my $r = _snapshot($fx, $t0);
    $T{snapshots} += Time::HiRes::time() - $t;
    return $r;
}

sub _snapshot {
    my ($fx, $t0) = @_;
    my $ids = join ', ', map { AuthsvcTest::sql_str($_) } @{ $fx->{ids} };
    my $cat = sub { join q{ || '|' || }, map { "coalesce($_, '-')" } @_ };
    # The failure counters of the lockout count refused sign-ins by design: not here.
    my %rows = (
        users => [users => [qw(id email username password_hash first_name last_name status roles),
                            map { "CAST($_ AS TEXT)" } qw(email_verified_at updated_at locked_until
                            mfa_enabled_at totp_last_step totp_pending_at), 'totp_secret', 'totp_pending'], 'id'],
        sessions => [sessions => ['token_hash', 'user_id', 'ip', 'user_agent',
                                  map { "CAST($_ AS TEXT)" } qw(created_at expires_at revoked_at)], 'user_id'],
        refresh => [refresh_tokens => ['token_hash', 'family_id',
                                       map { "CAST($_ AS TEXT)" } qw(rotated_at revoked_at)], 'user_id'],
        recovery => [mfa_recovery_codes => ['code_hash', 'CAST(used_at AS TEXT)'], 'user_id'],
        passkeys => [passkeys => [qw(id name credential_id)], 'user_id'],
        remembered => [remembered_devices => ['id'], 'user_id'],
    );
    my $q = join ' UNION ALL ',
        (map { "SELECT '$_->[0]' AS k, CAST(count(*) AS TEXT) AS v FROM $_->[0] WHERE $_->[1] >= $t0" } @NEW),
        "SELECT 'users_all' AS k, CAST(count(*) AS TEXT) AS v FROM users",
        "SELECT 'audit_log' AS k, event AS v FROM audit_log WHERE at >= $t0 AND event NOT IN ($AUDIT_OK)",
        map { my ($t, $cols, $w) = @{ $rows{$_} };
              "SELECT '$_' AS k, " . $cat->(@$cols) . " AS v FROM $t WHERE $w IN ($ids)" } sort keys %rows;
    my %s;
    push @{ $s{ $_->{k} } }, $_->{v} for @{ AuthsvcTest::db_rows($q) };
    $s{$_} = join ', ', sort @{ $s{$_} } for keys %s;
    $s{$_} //= '' for 'audit_log', keys %rows;
    return \%s;
}

# One ok(): the snapshot is what it was.
sub snapshot_same {
    my ($before, $after, $name) = @_;
    my @diff = grep { ($before->{$_} // '') ne ($after->{$_} // '') } sort keys %$before;
    ok(!@diff, "$name: the tables are unchanged")
        or diag(join "\n", map { my ($x, $y) = ($before->{$_}, $after->{$_}); my $i = 0;
                                 $i++ while $i < length $x && substr($x, $i, 1) eq substr($y, $i, 1);
                                 $i = $i > 60 ? $i - 60 : 0;
                                 "$_: ..." . substr($x, $i, 300) . ' -> ...' . substr($y, $i, 300) } @diff);
}

sub alive_ok {
    my ($name) = @_;
    my $res = keepalive()->get('/health', abs => 1);
    ok($res->code == 200, "$name: the server still answers /health")
        or diag($res->status_line);
}

# ---- one answer --------------------------------------------------------------------

# What is wrong with one response (an empty list: nothing). %e: refuse => 1 (a 4xx is
# required), accept => 1 (a 2xx, or a page's 303, is allowed), page => 1, core => 1 (an
# answer of httpd's core, which refuses some paths before any module: a plain 4xx).
sub response_ok {
    my ($res, %e) = @_;
    my @why;
    my $st = $res->code;
    my $ct = $res->header('Content-Type') // '';
    push @why, "status $st" if $st >= 500 || $st < 200 || ($st >= 300 && $st < 400 && !($e{page} && $st == 303));
    push @why, "accepted ($st)" if $st < 400 && ($e{refuse} || !$e{accept});
    # X-Died: LWP gave up reading (the server closed the connection mid-answer).
    push @why, 'X-Died: ' . $res->header('X-Died') if defined $res->header('X-Died');
    if ($st >= 400 && $st < 500 && !$e{core}) {
        if ($e{page}) {
            push @why, "Content-Type '$ct'" unless $ct =~ m{^text/html}i || $ct =~ m{^application/problem\+json}i;
        }
        else {
            my $p = $ct =~ m{^application/problem\+json\b} ? eval { AuthsvcTest::json_body($res) } : undef;
            if (ref $p ne 'HASH') {
                push @why, "not problem+json ($ct)";
            }
            elsif (!defined $p->{code} || !exists catalogue()->{ $p->{code} }) {
                push @why, "code '" . ($p->{code} // 'undef') . "' is not in the catalogue";
            }
            elsif (!catalogue()->{ $p->{code} }{$st}) {
                push @why, "status $st for code $p->{code}";
            }
        }
    }
    $res->headers->scan(sub { push @why, "CR/LF in header $_[0]" if "$_[0]$_[1]" =~ /[\r\n]/ });
    my $loc = $res->header('Location');
    push @why, "Location '$loc'" if defined $loc && ($loc =~ /[\r\n\0]|%0[ad0]/i || $loc !~ m{^(?:https?://[^/]*)?/(?![/\\])});
    push @why, 'a session cookie' if $st >= 400 && AuthsvcTest::session_set_cookie($res);
    return @why;
}

# ---- running cases -----------------------------------------------------------------

# Send [label, method, path, request options] through $c; one ok() for the lot, naming
# every case that failed. %e as for response_ok. Returns the responses by label.
sub run_cases {
    my ($c, $name, $cases, %e) = @_;
    my (@bad, %res);
    my $t = Time::HiRes::time();
    for my $case (@$cases) {
        my ($label, $m, $p, %o) = @$case;
        $CASES++;
        my $res = $c->request($m => $p, %o);
        $res{$label} = $res;
        my @why = response_ok($res, %e, %{ $o{expect} || {} });
        push @bad, "$label: " . join('; ', @why) . ' -- ' . substr($res->content // '', 0, 200)
            if @why;
    }
    $T{requests} += Time::HiRes::time() - $t;
    ok(!@bad, "$name (" . scalar(@$cases) . ' cases)') or diag(join "\n", @bad);
    my %n;
    for my $r (values %res) {
        my $p = ($r->header('Content-Type') // '') =~ /json/ ? eval { AuthsvcTest::json_body($r) } : undef;
        $n{ $r->code . (ref $p eq 'HASH' && $p->{code} ? " $p->{code}" : '') }++;
    }
    note("$name: " . join ', ', map { "$_ x$n{$_}" } sort keys %n);
    return \%res;
}

sub _client_of {
    my ($fx, $auth) = @_;
    return $fx->{bearer} if $auth eq 'bearer';
    return $fx->{admin} if $auth eq 'admin';
    return $fx->{user} if $auth eq 'cookie' || $auth eq 'page_user';
    return $fx->{anon};
}

# The JSON text of the base body with member $field set to the raw JSON text $raw.
sub _json_with {
    my ($base, $field, $raw) = @_;
    my %b = %$base;
    delete $b{$field};
    my $rest = AuthsvcTest::json_enc(\%b);
    utf8::encode($rest) if utf8::is_utf8($rest);
    my $k = AuthsvcTest::json_enc($field);
    return $rest eq '{}' ? "{$k:$raw}" : "{$k:$raw," . substr($rest, 1);
}

sub _form_with {
    my ($base, $field, $raw) = @_;
    my %b = %$base;
    delete $b{$field};
    my $rest = AuthsvcTest::form_enc(\%b);
    return join '&', grep { length } $rest, "$field=$raw";
}

# Every case of one route of the table: the body-level ones, then every hostile value
# in every field; the tables compared before and after.
sub run_route {
    my ($fx, $key) = @_;
    my $rt = $ROUTES{$key} or die "no route '$key' in the table\n";
    my ($m, $p) = split / /, $key, 2;
    $p =~ s/\{(\w+)\}/$fx->{$1} \/\/ die "route '$key': no fixture '$1'\n"/ge;
    my $page = $rt->{auth} =~ /^page(?:_user)?$/;
    my $c = _client_of($fx, $rt->{auth});
    my $csrf;
    # The token is the client's (keyed by its pre-session or session cookie), good for
    # every form.
    $csrf = _csrf($c, $rt->{auth} eq 'page_user' ? '/account' : '/login') if $rt->{auth} =~ /^page/;
    my $base = $rt->{base}->($fx);
    $base->{csrf_token} = $csrf if defined $csrf;
    my $t0 = time;
    my $snap = snapshot($fx, $t0);
    my %e = (page => $page);
    my $ctype = $page ? 'application/x-www-form-urlencoded' : 'application/json';

    # Body-level cases.
    my $good = $page ? AuthsvcTest::form_enc($base) : AuthsvcTest::json_enc($base);
    my ($f1) = sort keys %{ $rt->{fields} };
    $f1 //= "x";
    my @body = (
        ['no Content-Type', body => $good, ctype => undef],
        ['text/plain', body => $good, ctype => 'text/plain'],
        ['an empty body', body => '', ctype => $ctype],
        # /small: the same routes with AuthsvcMaxBodySize 256.
        ['a body over the limit', body => 'a' x 300, ctype => $ctype, at => "/small$p"],
        ['a body just over 2 MB', body => 'a' x (2 * $MB + 1), ctype => $ctype],
    );
    if ($page) {
        push @body, ['a field twice', body => "$good&$f1=x&$f1=y", ctype => $ctype],
                    ['a NUL byte in the form', body => "$good&x=\0", ctype => $ctype],
                    ['no CSRF token', body => AuthsvcTest::form_enc({%$base, csrf_token => ''}), ctype => $ctype];
    }
    else {
        push @body,
            ['whitespace', body => " \r\n", ctype => $ctype],
            ['an array', body => "[$good]", ctype => $ctype], ['a string', body => '"x"', ctype => $ctype],
            ['a lone brace', body => '{', ctype => $ctype],
            ['trailing garbage', body => "$good x", ctype => $ctype],
            ['nesting 10000 deep', body => ('[' x 10000) . (']' x 10000), ctype => $ctype],
            ['an object nested 10000 deep', body => ('{"a":' x 10000) . '1' . ('}' x 10000), ctype => $ctype],
            ['a duplicate key', body => _json_with($base, $f1, '"x"') =~ s/^\{/{"$f1":"y",/r, ctype => $ctype],
            ['a key of invalid UTF-8', body => "{\"\xff\":1}", ctype => $ctype],
            ['a raw NUL after the object', body => "$good\0", ctype => $ctype],
            ['a BOM', body => "\xef\xbb\xbf$good", ctype => $ctype],
            ['a form body', body => AuthsvcTest::form_enc($base), ctype => 'application/x-www-form-urlencoded'];
    }
    run_cases($c, "$key: bad bodies",
              [map { my ($l, %o) = @$_; my $at = delete $o{at};
                     [$l, $m => $at // $p, %o, defined $at ? (abs => 1) : (),
                      expect => $rt->{bodies_ok}{$l} ? {accept => 1} : {refuse => 1}] } @body], %e);

    # (where a field takes anything, its refused bodies are all that must change nothing)
    my $ignores = grep { ($_->[2] // '') eq 'ignored' } values %{ $rt->{fields} };
    snapshot_same($snap, snapshot($fx, $t0), "$key (bad bodies)") if $rt->{mutates} && $ignores;
    for my $class (qw(refuse maybe)) {
        for my $field (sort keys %{ $rt->{fields} }) {
            my ($type, $max) = @{ $rt->{fields}{$field} };
            # 1 MB once per route, in its first field.
            my $h = $page ? hostile_form($max, $field eq $f1) : hostile($type, $max, $field eq $f1);
            my $with = $page ? \&_form_with : \&_json_with;
            my $how = $rt->{fields}{$field}[2] // '';
            my @cases = map {
                my $ok = $how eq 'ignored' || ($class eq 'maybe' && ($how || $rt->{accepts}{$field}))
                      || ($how eq 'lenient' && ($_->[2] // '') eq 'str');
                [$_->[0], $m => $p, body => $with->($base, $field, $_->[1]), ctype => $ctype,
                 expect => {refuse => $class eq 'refuse' && !$ok, accept => $ok}]
            } @{ $h->{$class} };
            run_cases($c, "$key: $field: $class", \@cases, %e);
        }
        # A value that may be accepted may change the tables where the route says so.
        # (once at the end where nothing may change them)
        snapshot_same($snap, snapshot($fx, $t0), $rt->{mutates} ? "$key ($class)" : $key)
            if $rt->{mutates} ? $class eq 'refuse' && !$ignores
                              : $class eq 'maybe';
    }
    alive_ok($key);
}

1;
