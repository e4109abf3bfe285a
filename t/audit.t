# The audit trail: one audit_log row (and one info line in the error log) per
# register, login success/failure, logout and profile change; never a secret.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my @secrets;   # every password and token this test uses: none may be logged

# The audit rows a response's request wrote (found by its UNIQUE_ID).
sub rows_of {
    my ($res) = @_;
    my $id = $res->header('X-Request-Id');
    ok(defined $id && length $id, 'the response carries its UNIQUE_ID') or return [];
    return db_rows('SELECT * FROM audit_log WHERE request_id = ' . sql_str($id) . ' ORDER BY id');
}

sub one_row {
    my ($res, $event, $name) = @_;
    my $rows = rows_of($res);
    is(scalar @$rows, 1, "$name: one audit row") or diag(json_enc($rows));
    my $r = $rows->[0] || {};
    is($r->{event}, $event, "$name: event $event");
    is($r->{ip}, '127.0.0.1', "$name: client IP");
    ok(abs(($r->{at} // 0) - time) < 300, "$name: at is now (Unix seconds)");
    return $r;
}

sub detail_is {
    my ($r, $want, $name) = @_;
    my $d = defined $r->{detail} ? eval { JSON::PP->new->decode($r->{detail}) } : undef;
    is_deeply($d, $want, "$name: detail " . (defined $want ? json_enc($want) : 'null'))
        or diag('detail: ' . ($r->{detail} // 'NULL'));
}

my $mark = error_log_mark();
my $c = client(agent => 'audit-agent/1.0');

# ---- register ------------------------------------------------------------------------

my $email = 'Audit.' . int(rand 1e9) . '@Example.org';
my $pw = 'Audit secret ' . int(rand 1e9);
push @secrets, $pw;
my ($res) = $c->register(email => $email, password => $pw, username => unique_username('aud'));
is($res->code, 201, 'register');
my $uid = (json_body($res) || {})->{user}{id};
{
    my $r = one_row($res, 'register', 'register');
    is($r->{user_id}, $uid, 'register: user_id');
    is($r->{user_agent}, 'audit-agent/1.0', 'register: user agent');
}

# ---- login success and failures ------------------------------------------------------

$res = $c->login($email, $pw);
is($res->code, 200, 'login');
push @secrets, $c->jar->{authsvc};
{
    my $r = one_row($res, 'login_success', 'login_success');
    is($r->{user_id}, $uid, 'login_success: user_id');
    is($r->{login}, $email, 'login_success: the login as typed');
    is($r->{user_agent}, 'audit-agent/1.0', 'login_success: user agent');
    is_deeply(audit_detail($r), {methods => ['pwd']},
              'login_success: detail says how (the password alone)');
}

my $wrong = 'Wrong secret ' . int(rand 1e9);
push @secrets, $wrong;
$res = client(agent => 'audit-agent/1.0')->login($email, $wrong);
is($res->code, 401, 'wrong password');
{
    my $r = one_row($res, 'login_failure', 'bad password');
    is($r->{user_id}, $uid, 'bad password: user_id of the account');
    is($r->{login}, $email, 'bad password: login as typed');
    detail_is($r, {reason => 'bad_password'}, 'bad password');
}

my $ghost = 'Nobody.' . int(rand 1e9) . '@Example.org';
my $gpw = 'Ghost secret ' . int(rand 1e9);
push @secrets, $gpw;
$res = client()->login($ghost, $gpw);
{
    my $r = one_row($res, 'login_failure', 'unknown login');
    ok(!defined $r->{user_id}, 'unknown login: no user_id');
    is($r->{login}, $ghost, 'unknown login: login as typed');
    detail_is($r, {reason => 'unknown_login'}, 'unknown login');
}
$res = client()->login('no-such-username', $gpw);
detail_is(one_row($res, 'login_failure', 'unknown username'), {reason => 'unknown_login'},
          'unknown username');

{
    my $long = 'L' x 300;
    $res = client()->login("$long\@example.org", $gpw);
    my $r = one_row($res, 'login_failure', 'an over-long login');
    ok(length($r->{login} // '') <= 254, 'an over-long login: stored cut to 254 octets');
}

my $huge = 'Huge secret ' . ('h' x 5000);
push @secrets, substr($huge, 0, 40);
$res = client()->login($email, $huge);
is($res->code, 401, 'a password over 4096 octets');
{
    my $r = one_row($res, 'login_failure', 'a huge password');
    my $d = eval { JSON::PP->new->decode($r->{detail} // '') } || {};
    ok(($d->{reason} // '') =~ /^(password_too_long|bad_password)$/,
       'a huge password: failure reason ' . ($d->{reason} // 'none'));
}

{
    my ($r2, $f2) = client()->register();
    push @secrets, $f2->{password};
    db_do("UPDATE users SET status = 'disabled' WHERE email = " . sql_str($f2->{email}));
    $res = client()->login($f2->{email}, $f2->{password});
    my $r = one_row($res, 'login_failure', 'disabled');
    detail_is($r, {reason => 'disabled'}, 'disabled');
}

# ---- profile change and logout -------------------------------------------------------

$res = $c->patch('/users/me', {first_name => 'Audrey', last_name => 'Tang'});
is($res->code, 200, 'profile change');
{
    my $r = one_row($res, 'profile_update', 'profile_update');
    is($r->{user_id}, $uid, 'profile_update: user_id');
    my $d = eval { JSON::PP->new->decode($r->{detail} // '') } || {};
    is_deeply([sort @{ $d->{changed} || [] }], [qw(first_name last_name)],
              'profile_update: detail names the changed fields') or diag($r->{detail});
}

$res = $c->post('/auth/logout');
is($res->code, 204, 'logout');
{
    my $r = one_row($res, 'logout', 'logout');
    is($r->{user_id}, $uid, 'logout: user_id');
}
is(scalar @{ rows_of(client()->post('/auth/logout')) }, 0, 'a logout without a session: no row');
is(scalar @{ rows_of(client()->get('/users/me')) }, 0, 'reading /users/me: no row');

# ---- client identity -----------------------------------------------------------------

{
    my $p = client(vhost => 'proxied', agent => 'proxied-agent');
    my ($r0, $f) = $p->register();
    push @secrets, $f->{password};
    $res = $p->request(POST => '/auth/login', json => {login => $f->{email}, password => $f->{password}},
                       headers => ['X-Forwarded-For' => '203.0.113.7']);
    is($res->code, 200, 'login through a proxy');
    my $r = one_row_ip($res, '203.0.113.7', 'behind mod_remoteip');
    my $s = db_row('SELECT ip FROM sessions WHERE token_hash = ' . sql_str(sha256_hex($p->jar->{authsvc})));
    is($s->{ip}, '203.0.113.7', 'behind mod_remoteip: the session has the client IP too');

    $res = client()->request(POST => '/auth/login', json => {login => $f->{email}, password => 'x' x 12},
                             headers => ['X-Forwarded-For' => '203.0.113.8']);
    one_row_ip($res, '127.0.0.1', 'X-Forwarded-For without mod_remoteip configured');
}
sub one_row_ip {
    my ($res, $ip, $name) = @_;
    my $r = rows_of($res)->[0] || {};
    is($r->{ip}, $ip, "$name: ip $ip");
    return $r;
}

{
    my $raw = client(agent => "Agent\xc3\xa9\xe2\x98\xba");   # UTF-8 octets of e-acute, smiley
    $res = $raw->login(unique_email(), 'x' x 12);
    my $r = rows_of($res)->[0] || {};
    like($r->{user_agent} // '', qr/^Agent\?+$/, 'non-ASCII in the user agent becomes ?');
    $res = client(agent => 'A' x 300)->login(unique_email(), 'x' x 12);
    $r = rows_of($res)->[0] || {};
    is(length($r->{user_agent} // ''), 256, 'a long user agent is cut to 256');
    $res = client(agent => '')->login(unique_email(), 'x' x 12);
    $r = rows_of($res)->[0] || {};
    ok(!defined $r->{user_agent} || $r->{user_agent} eq '', 'no user agent: none stored');
}

# ---- the error log -------------------------------------------------------------------

my $log = error_log_since($mark);
like($log, qr/\[authsvc:info\].*audit event=login_failure user=- ip=127\.0\.0\.1 request_id=\S+ result=failure detail=\{"reason":"unknown_login"\} stored=yes/,
     'login failures are logged at info with the request id');
like($log, qr/audit event=login_success user=\Q$uid\E ip=\S+ request_id=\S+ result=success /,
     'login success is logged, result=success');
like($log, qr/audit event=logout user=\Q$uid\E /, 'logout is logged');

# Malformed bodies that contain a password: the parser's message must not carry it
# into the log (LogLevel authsvc:debug is on in this suite).
{
    my $m2 = error_log_mark();
    my $s1 = 'Truncated secret ' . int(rand 1e9);
    my $s2 = 'Escaped secret ' . int(rand 1e9);
    my $s3 = 'Garbage secret ' . int(rand 1e9);
    my $s4 = 'Bad byte secret ' . int(rand 1e9);
    push @secrets, $s1, $s2, $s3, $s4;
    my $p = problem_ok(client()->post('/auth/login', undef,
                                      body => qq({"login":"a\@example.org","password":"$s4\xff"})),
                       400, 'invalid_json', 'an invalid UTF-8 byte after a password');
    ok(index($p->{detail} // '', $s4) < 0, '... the detail does not echo the password')
        or diag("detail: $p->{detail}");
    problem_ok(client()->post('/auth/login', undef, body => qq({"login":"a\@example.org","password":"$s1)),
               400, 'invalid_json', 'a truncated body with a password');
    problem_ok(client()->post('/auth/login', undef, body => qq({"login":"a\@example.org","password":"$s2\\q"})),
               400, 'invalid_json', 'a bad escape after a password');
    problem_ok(client()->post('/auth/register', undef, body => qq({"email":"a\@example.org","password":$s3})),
               400, 'invalid_json', 'an unquoted password');
}

# ---- no secret anywhere --------------------------------------------------------------

$log = error_log_since(0);
my $audit = json_enc(db_rows('SELECT * FROM audit_log'));
my $sessions = json_enc(db_rows('SELECT * FROM sessions'));
for my $s (grep { defined && length } @secrets) {
    my $short = substr($s, 0, 24);
    ok(index($log, $short) < 0, "error log does not contain '$short'")
        or diag(join "\n", grep { index($_, $short) >= 0 } split /\n/, $log);
    ok(index($audit, $short) < 0, "audit_log does not contain '$short'");
    ok(index($sessions, $short) < 0, "sessions do not contain '$short'");
}

done_testing();
