# AuthsvcHoneypotField: a body member that people never fill in (the form hides it) and
# bots do. With a value other than absent, null or "": register answers 201 with a
# plausible account and stores nothing, login answers like a wrong password and counts
# no failure, forgot-password answers 202 and mails nothing; each is audited honeypot.
#
# Vhosts (t/conf/extra.conf.in): honeypot (the default name "website"; register 3/1h
# per address, backoff 1m, lockout after 2, behind mod_remoteip), honeypot2 (the name
# "fax"), nohoneypot (none). The main server has the default too.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $WRONG = 'Not the password 12';

sub at { xff_client('honeypot', $_[0] // random_ipv4()) }

sub honeypot_row_ok {
    my ($res, $endpoint, $field, $login, $name) = @_;
    my @rows = @{ request_rows($res) };
    my ($row) = grep { $_->{event} eq 'honeypot' } @rows;
    ok($row, "$name: audited honeypot") or diag('audited: ' . join ' ', map { $_->{event} } @rows);
    is_deeply(audit_detail($row), {endpoint => $endpoint, field => $field},
              "$name: detail {endpoint: $endpoint, field: $field}");
    ok(!defined(($row || {})->{user_id}), "$name: no user id");
    is(lc(($row || {})->{login} // ''), lc $login, "$name: login: what was typed");
    return \@rows;
}

# The shape of a value: hex digits and letters replaced, so that a random id can be
# compared with a real one.
sub shape {
    my ($v) = @_;
    return 'undef' unless defined $v;
    return ref $v if ref $v && !JSON::PP::is_bool($v);
    (my $s = "$v") =~ s/[0-9a-f]/x/g;
    return $s;
}

# Mail queued after the requests of a test is delivered after theirs.
my $sentinel = do { my ($r, $f) = client()->register(); $f->{email} };
sub mail_barrier {
    my ($name) = @_;
    client()->post('/auth/forgot-password', {email => $sentinel});
    mail_ok("$name (a later mail to somebody else)", to => $sentinel, template => 'reset_password');
}

# ---- register ------------------------------------------------------------------------------

my ($real, $real_f) = at()->register(username => unique_username('real'), first_name => 'Real');
is($real->code, 201, 'a real registration to compare with');
my $real_user = (json_body($real) || {})->{user} || {};

{
    my $email = 'Bot.' . int(rand 1e9) . '@Example.ORG';
    my $res = at()->post('/auth/register', {email => $email, password => new_password(),
                                            username => unique_username('bot'), first_name => 'Bot',
                                            website => 'http://spam.example'});
    is($res->code, 201, 'register, website filled in: 201') or diag($res->content);
    is($res->header('Content-Type'), $real->header('Content-Type'), '... the Content-Type of a real one');
    no_store_ok($res, '...');
    (my $loc = $real->header('Location') // '') =~ s/^\S+?:\d+//;
    (my $bloc = $res->header('Location') // 'none') =~ s/^\S+?:\d+//;
    is($bloc, $loc, '... a Location like a real one');
    ok(!defined $res->header('Set-Cookie'), '... no cookie');
    my $b = json_body($res) || {};
    is_deeply([sort keys %$b], ['user'], '... {"user": ...}');
    my $u = $b->{user} || {};
    is_deeply([sort keys %$u], [sort keys %$real_user], '... the members of a real user object');
    is($u->{email}, lc $email, '... the email as given, normalised');
    ok(JSON::PP::is_bool($u->{email_verified}) && !$u->{email_verified}, '... email_verified false');
    is(shape($u->{id}), shape($real_user->{id}), '... an id shaped like a real one');
    isnt($u->{id}, $real_user->{id}, '... not a real account\'s id');
    is(shape($u->{created_at}), shape($real_user->{created_at}), '... created_at like a real one');
    is_deeply($u->{roles}, [], '... no roles');
    ok(!user_row($email), 'register, website filled in: no account stored');
    ok(!db_row('SELECT id FROM users WHERE id = ' . sql_str($u->{id} // '')), '... not under that id either');
    is(scalar @{ outbox_rows('recipient = ' . sql_str(lc $email)) }, 0, '... no mail queued');
    my $rows = honeypot_row_ok($res, 'register', 'website', $email, 'register honeypot');
    ok(!grep({ $_->{event} eq 'register' } @$rows), '... no register event');
    mail_barrier('register honeypot');
    no_mail_ok('register honeypot: no verify mail', to => lc $email);
    problem_ok(client()->login($email, 'whatever it is'), 401, 'invalid_credentials',
               '... and nobody can sign in with it');
}

# Any value but null and "" is a bot; null and "" are a person.
{
    my @bot = (['a space', ' '], ['0', 0], ['false', JSON::PP::false()], ['true', JSON::PP::true()],
               ['an empty array', []], ['an object', {url => 'x'}], ['a long string', 'x' x 500]);
    for my $case (@bot) {
        my ($what, $v) = @$case;
        my ($res, $f) = at()->register(website => $v);
        is($res->code, 201, "register, website $what: 201");
        ok(!user_row($f->{email}), "register, website $what: nothing stored");
    }
    for my $case (['null', undef], ['an empty string', '']) {
        my ($what, $v) = @$case;
        my ($res, $f) = at()->register(website => $v);
        is($res->code, 201, "register, website $what: 201");
        ok(user_row($f->{email}), "register, website $what: a real account");
    }
}

# Checked after the required fields and after the per-address rate limit; before the
# address is looked up.
{
    my $p = problem_ok(at()->post('/auth/register', {email => unique_email('bot'), website => 'x'}),
                       422, 'validation_failed', 'register honeypot without a password');
    fields_ok($p, {password => 'required'}, 'register honeypot without a password');
    # Taken names get the 409 a real request gets: the bot learns nothing new.
    my ($res) = at()->register(email => uc $real_f->{email}, website => 'x');
    problem_ok($res, 409, 'email_taken', 'register honeypot with an address that has an account');
    is(user_row($real_f->{email})->{id}, $real_user->{id}, '... the account is untouched');
    ($res) = at()->register(username => uc $real_f->{username}, website => 'x');
    problem_ok($res, 409, 'username_taken', 'register honeypot with a username that is taken');

    my $ip = random_ipv4();
    my @codes = map { (at($ip)->register(website => 'x'))[0]->code } 1 .. 3;
    is("@codes", '201 201 201', 'register honeypot: three from one address (register 3/1h ip)');
    my ($r4) = at($ip)->register(website => 'x');
    problem_ok($r4, 429, 'rate_limited', '... the fourth: the rate limit comes first');
    retry_after_ok($r4, 3600, '... the fourth');
}

# ---- login ---------------------------------------------------------------------------------
# The vhost has backoff 1m and lockout after 2 failures. A bot hit claims no lockout
# attempt on the account it names and grows no streak of that name, but its address's
# back-off streak grows.

{
    my ($r0, $f) = client()->register();
    my $uid = user_row($f->{email})->{id};
    my ($r1, $g) = client()->register();
    my $wrong = at()->login($g->{email}, $WRONG);
    problem_ok($wrong, 401, 'invalid_credentials', 'a wrong password, to compare with');

    my @ips = map { random_ipv4() } 1 .. 3;
    for my $n (1 .. 3) {
        my $res = at($ips[$n - 1])->post('/auth/login', {login => $f->{email}, password => $f->{password},
                                                         website => 'http://spam.example'});
        problem_ok($res, 401, 'invalid_credentials', "login honeypot $n, right password");
        is_deeply(json_body($res), json_body($wrong), "login honeypot $n: the wrong-password body");
        ok(!defined $res->header('Set-Cookie'), "login honeypot $n: no cookie");
        honeypot_row_ok($res, 'login', 'website', $f->{email}, "login honeypot $n");
    }
    is(scalar @{ session_rows($uid) }, 0, 'login honeypot: no session');
    my $bad = grep { ((audit_detail($_) || {})->{reason} // '') eq 'bad_password' }
        @{ audit_rows("event = 'login_failure' AND user_id = " . sql_str($uid)) };
    is($bad, 0, 'login honeypot: no failed password check recorded for the account');
    is(user_row($f->{email})->{failed_logins}, 0, '... and no lockout attempt claimed');
    my $res = at()->login($f->{email}, $f->{password});
    is($res->code, 200, 'then a real sign-in with that name from elsewhere: 200 (3 bot hits, '
       . 'lockout at 2, back-off 1m: neither the account nor the name was counted)')
        or diag($res->content);

    my $r = at($ips[0])->login($f->{email}, $f->{password});
    problem_ok($r, 429, 'rate_limited', 'a real sign-in from a bot\'s address: its back-off streak grew');
    retry_after_ok($r, 60, '... ');

    my $p = problem_ok(at()->post('/auth/login', {login => $f->{email}, website => 'x'}), 422,
                       'validation_failed', 'login honeypot without a password');
    fields_ok($p, {password => 'required'}, 'login honeypot without a password');
}

# ---- forgot-password -------------------------------------------------------------------------

{
    my ($r0, $f) = client()->register();
    my $normal = at()->post('/auth/forgot-password', {email => unique_email('nobody')});
    my $res = at()->post('/auth/forgot-password', {email => $f->{email}, website => 'x'});
    is($res->code, 202, 'forgot-password honeypot, a known address: 202');
    is($res->content, $normal->content, '... the body of every answer');
    honeypot_row_ok($res, 'forgot-password', 'website', $f->{email}, 'forgot-password honeypot');
    mail_barrier('forgot-password honeypot');
    no_mail_ok('forgot-password honeypot: no reset mail', to => $f->{email}, template => 'reset_password');
    my $p = problem_ok(at()->post('/auth/forgot-password', {website => 'x'}), 422, 'validation_failed',
                       'forgot-password honeypot without an email');
    fields_ok($p, {email => 'required'}, 'forgot-password honeypot without an email');
}

# The main server has the default name too.
{
    my ($res, $f) = client()->register(website => 'x');
    is($res->code, 201, 'main server, website filled in: 201');
    ok(!user_row($f->{email}), '... nothing stored');
}

# ---- a name of our own: AuthsvcHoneypotField fax (vhost honeypot2) ---------------------------

{
    my $c = client(vhost => 'honeypot2');
    my ($res, $f) = $c->register(fax => '+1 555 0100');
    is($res->code, 201, 'honeypot2: register with fax: 201');
    ok(!user_row($f->{email}), '... nothing stored');
    honeypot_row_ok($res, 'register', 'fax', $f->{email}, 'honeypot2 register');
    my ($res2, $g) = $c->register(website => 'http://me.example');
    is($res2->code, 201, 'honeypot2: register with website (an unknown member now): 201');
    ok(user_row($g->{email}), '... a real account');
    problem_ok($c->post('/auth/login', {login => $g->{email}, password => $g->{password}, fax => 'x'}),
               401, 'invalid_credentials', 'honeypot2: login with fax');
    is($c->post('/auth/login', {login => $g->{email}, password => $g->{password}, website => 'x'})->code,
       200, 'honeypot2: login with website: 200');
}

# ---- none: AuthsvcHoneypotField none (vhost nohoneypot) -------------------------------------

{
    my $c = client(vhost => 'nohoneypot');
    my ($res, $f) = $c->register(website => 'http://me.example');
    is($res->code, 201, 'none: register with website: 201');
    ok(user_row($f->{email}), '... a real account');
    ok(!grep({ $_->{event} eq 'honeypot' } @{ request_rows($res) }), '... no honeypot event');
    is($c->post('/auth/login', {login => $f->{email}, password => $f->{password}, website => 'x'})->code,
       200, 'none: login with website: 200');
    is($c->post('/auth/forgot-password', {email => $f->{email}, website => 'x'})->code, 202,
       'none: forgot-password with website: 202');
    mail_ok('none: the reset mail arrives', to => $f->{email}, template => 'reset_password');
}

done_testing();
