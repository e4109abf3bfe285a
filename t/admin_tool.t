# tools/authsvc-admin's account commands against the server's database: user add, show,
# list, disable, enable, delete, verify, set-password, role add|remove; sessions list and
# revoke (one account, or --all on a scratch database); audit; --config; help and exit
# codes (0 ok, 1 failed, 2 usage, 3 no such account). Every change is checked in the
# database, in its audit row ({"reason":"admin","via":"authsvc-admin"}) and, where it
# matters, through the API (vhost fresh: the session cache lives one second).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Path qw(make_path);
use File::Spec::Functions qw(catfile);
use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $ADMIN = admin_bin();
plan skip_all => "no $ADMIN (run make)" unless -x $ADMIN;

my $backend = backend();
my @live = admin_live_args();
my $JSON = JSON::PP->new->canonical;

sub admin    { run_admin(@live, @_) }
sub admin_in { my ($in, @a) = @_; run_admin_stdin($in, @live, @a) }

sub user_by_id { db_row('SELECT * FROM users WHERE id = ' . sql_str($_[0])) }

# The audit rows of event for user id, oldest first.
sub tool_rows {
    my ($id, $event) = @_;
    return db_rows('SELECT * FROM audit_log WHERE user_id = ' . sql_str($id)
                   . ' AND event = ' . sql_str($event) . ' ORDER BY id');
}

# Exactly $count rows of event for id, the last with the tool's detail (plus %extra).
sub tool_audit_ok {
    my ($id, $event, $count, $name, %extra) = @_;
    my $rows = tool_rows($id, $event);
    is(scalar @$rows, $count, "$name: $count $event audit row(s)") or diag(json_enc($rows));
    return unless $count && @$rows;
    my $d = eval { JSON::PP->new->decode($rows->[-1]{detail} // '') };
    is_deeply($d, {reason => 'admin', via => 'authsvc-admin', %extra},
              "$name: detail names the tool") or diag($rows->[-1]{detail} // 'NULL');
}

sub fresh_client { client(vhost => 'fresh') }

# A password the default policy takes.
sub good_password { 'Tool-' . new_password() }

my ($rc, $out, $err);

# The server migrates its database when it starts taking requests.
account();

# ---- help and usage ----------------------------------------------------------------------

($rc, $out, $err) = run_admin('--help');
is($rc, 0, '--help: exit 0');
for my $cmd ('user add', 'user show', 'user list', 'user disable', 'user enable',
             'user delete', 'user unlock', 'user verify', 'user set-password', 'user role',
             'sessions list', 'sessions revoke', 'mfa reset', 'audit', 'import', 'keygen',
             'migrate status') {
    like($out, qr/^  \Q$cmd\E\b/m, "--help lists $cmd");
    my ($r, $o) = run_admin(split(/ /, $cmd), '--help');
    is($r, 0, "$cmd --help: exit 0");
    like($o, qr/^usage: authsvc-admin .*\Q$cmd\E/s, "$cmd --help: its usage");
}
like($out, qr/--config FILE/, '--help names --config');
like($out, qr/3 no such account/, '--help names the exit codes');
($rc, $out, $err) = run_admin('user', 'sessions', '--help');
is($rc, 2, 'user sessions: unknown command, exit 2');
($rc, $out, $err) = run_admin('frobnicate');
is($rc, 2, 'an unknown group: exit 2');
{
    local %ENV = %ENV;
    delete @ENV{qw(AUTHSVC_DBD_DRIVER AUTHSVC_DBD_PARAMS)};
    ($rc, $out, $err) = run_admin(qw(user show someone));
    is($rc, 2, 'no driver: exit 2');
    like($err, qr/no database driver/, '... says so');
}
($rc, $out, $err) = admin(qw(user show a b));
is($rc, 2, 'user show with two logins: exit 2');
($rc, $out, $err) = admin(qw(user show --bogus x));
is($rc, 2, 'user show --bogus: exit 2');
like($err, qr/unknown option '--bogus'/, '... names the option');

# ---- user add -------------------------------------------------------------------------------

my $email = unique_email('tool.add');
my $uname = 'tool_' . substr(unique_username('a'), 0, 24);
my $pw = good_password();
($rc, $out, $err) = admin_in("$pw\n", qw(user add), uc $email, '--username', $uname,
                             '--first-name', 'Ada', '--last-name', 'Lovelace',
                             '--role', 'ops', '--role', 'audit,ops', '--verified');
is($rc, 0, 'user add: exit 0') or diag($err);
my ($id) = $out =~ /^([0-9a-f-]{36})\n\z/;
ok($id, '... prints the new id') or diag($out);
my $u = user_by_id($id) || {};
is($u->{email}, lc $email, '... email stored lower-case');
is($u->{username}, $uname, '... username');
is("$u->{first_name} $u->{last_name}", 'Ada Lovelace', '... names');
is($u->{roles}, 'ops audit', '... roles joined, once each');
ok($u->{email_verified_at}, '... --verified: address verified');
is($u->{status}, 'active', '... active');
like($u->{password_hash}, qr/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, '... Argon2id hash');
tool_audit_ok($id, 'admin_user_created', 1, 'user add');
my $c = fresh_client();
is($c->login($email, $pw)->code, 200, '... the account signs in through the API');
is($c->login($uname, $pw . 'x')->code, 401, '... and not with another password');

my %bad_add = (
    'a short password'           => ["short\n", []],
    'the username in the password' => ["Pre-${uname}2-post!\n", ['--username', "${uname}2"]],
    'an empty standard input'    => ['', []],
    'a common password'          => ["password1234\n", []],
);
for my $name (sort keys %bad_add) {
    my ($in, $extra) = @{ $bad_add{$name} };
    my $e = unique_email('tool.bad');
    ($rc, $out, $err) = admin_in($in, qw(user add), $e, @$extra);
    is($rc, 1, "user add with $name: exit 1");
    like($err, qr/password|no password/, "... $name: says why") or diag($err);
    is(db_value('SELECT count(*) AS n FROM users WHERE email = ' . sql_str($e)), 0,
       "... $name: no account");
}
($rc, $out, $err) = admin_in("$pw\n", qw(user add), $email);
is($rc, 1, 'user add of a taken email: exit 1');
like($err, qr/exists/, '... says it exists');
($rc, $out, $err) = admin_in("$pw\n", qw(user add), unique_email('tool.dup'), '--username', uc $uname);
is($rc, 1, 'user add of a taken username (other case): exit 1');
for my $case (['not-an-email', [], 'a bad email'],
              [unique_email('tool.u'), ['--username', 'a b'], 'a bad username'],
              [unique_email('tool.u'), ['--role', 'no/slash'], 'a bad role'],
              [unique_email('tool.u'), ['--password', 'secret-in-argv'], 'a password in argv']) {
    my ($e, $extra, $name) = @$case;
    ($rc, $out, $err) = admin_in("$pw\n", qw(user add), $e, @$extra);
    is($rc, 2, "user add with $name: exit 2") or diag($err);
}
($rc, $out, $err) = admin_in("$pw\n", qw(user add));
is($rc, 2, 'user add without an email: exit 2');

# ---- user show ------------------------------------------------------------------------------

for my $login ($id, uc $email, uc $uname) {
    ($rc, $out, $err) = admin(qw(user show), $login);
    is($rc, 0, "user show $login: exit 0") or diag($err);
    my $j = eval { JSON::PP->new->decode($out) } || {};
    is($j->{id}, $id, '... the account');
}
my $show = eval { JSON::PP->new->decode($out) } || {};
is_deeply([sort keys %$show],
          [sort qw(id email username first_name last_name email_verified mfa_enabled roles
                   created_at status updated_at email_verified_at locked locked_until mfa
                   sessions)], '... its fields');
is_deeply($show->{roles}, ['ops', 'audit'], '... roles as an array');
ok($show->{email_verified} && !$show->{locked} && !$show->{mfa}, '... flags');
is($show->{sessions}, 1, '... one live session (the sign-in above)');
like($show->{created_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, '... ISO 8601 times');
($rc, $out, $err) = admin(qw(user show), unique_email('nobody'));
is($rc, 3, 'user show of an unknown account: exit 3');
like($err, qr/no such user/, '... says so');
is($out, '', '... nothing on stdout');

# ---- user list ------------------------------------------------------------------------------

my $tag = 'Lq' . substr(unique_username('l'), -8);
my @listed;
for my $first ("50%off$tag", "50Xoff$tag", "a_b$tag", "ab$tag", "plain$tag") {
    ($rc, $out) = admin_in(good_password() . "\n", qw(user add), unique_email('tool.list'),
                           '--first-name', $first);
    chomp $out;
    push @listed, $out;
}
($rc, $out, $err) = admin(qw(user list --json --search), "50%off$tag");
is($rc, 0, 'user list --search with %: exit 0') or diag($err);
my @j = map { JSON::PP->new->decode($_) } split /\n/, $out;
is_deeply([map { $_->{id} } @j], [$listed[0]], '... % matches only itself');
($rc, $out) = admin(qw(user list --json --search), "a_b$tag");
is_deeply([map { JSON::PP->new->decode($_)->{id} } split /\n/, $out], [$listed[2]],
          '... _ matches only itself');
($rc, $out) = admin(qw(user list --json --search), lc $tag);
is(scalar(split /\n/, $out), 5, '... search in any case finds all five');
my (@seen, $after, $pages);
while (1) {
    ($rc, $out, $err) = admin(qw(user list --json --limit 2 --search), $tag,
                              $after ? ('--after', $after) : ());
    is($rc, 0, 'user list page ' . ++$pages . ': exit 0');
    push @seen, map { JSON::PP->new->decode($_)->{id} } split /\n/, $out;
    last unless $err =~ /^next: (\S+)$/m;
    $after = $1;
    last if $pages > 5;
}
is($pages, 3, 'user list: three pages of two');
is_deeply([sort @seen], [sort @listed], '... every account once, no gap, no duplicate');
($rc, $out) = admin(qw(user list --search), $tag);
like($out, qr/^ID\s+EMAIL\s+USERNAME\s+STATUS\s+ROLES$/m, 'user list: a table by default');
is(scalar(() = $out =~ /^[0-9a-f-]{36}  /mg), 5, '... five rows');
for my $bad (['--limit', '0'], ['--limit', '1001'], ['--limit', 'x'], ['--status', 'gone'],
             ['--after']) {
    ($rc, $out, $err) = admin(qw(user list), @$bad);
    is($rc, 2, "user list @$bad: exit 2");
}

# ---- disable, enable ---------------------------------------------------------------------------

my ($dc, $df, $du) = account(vhost => 'fresh');
is($dc->get('/users/me')->code, 200, 'a signed-in account');
my $rt_before = db_value('SELECT count(*) AS n FROM sessions WHERE revoked_at IS NULL AND user_id = '
                         . sql_str($du->{id}));
($rc, $out, $err) = admin(qw(user disable), $df->{email});
is($rc, 0, 'user disable: exit 0') or diag($err);
is($out, "disabled $du->{id}; $rt_before session(s) revoked\n", '... says what it did');
is(user_by_id($du->{id})->{status}, 'disabled', '... status disabled');
is(db_value('SELECT count(*) AS n FROM sessions WHERE revoked_at IS NULL AND user_id = '
            . sql_str($du->{id})), 0, '... no live session left');
tool_audit_ok($du->{id}, 'admin_user_disabled', 1, 'user disable');
sleep 2;
is($dc->get('/users/me')->code, 401, '... the session is dead (once the cache expired)');
isnt(fresh_client()->login($df->{email}, $df->{password})->code, 200, '... it cannot sign in');
($rc, $out) = admin(qw(user disable), $du->{id});
is($rc, 0, 'user disable again: exit 0');
like($out, qr/already disabled; nothing changed/, '... nothing changed');
tool_audit_ok($du->{id}, 'admin_user_disabled', 1, '... no second row');
($rc, $out, $err) = admin(qw(user enable), $df->{email});
is($rc, 0, 'user enable: exit 0') or diag($err);
is(user_by_id($du->{id})->{status}, 'active', '... active again');
tool_audit_ok($du->{id}, 'admin_user_enabled', 1, 'user enable');
is(fresh_client()->login($df->{email}, $df->{password})->code, 200, '... it signs in again');
($rc, $out) = admin(qw(user enable), $df->{email});
like($out, qr/already active/, 'user enable again: nothing changed');
tool_audit_ok($du->{id}, 'admin_user_enabled', 1, '... no second row');
for my $cmd (qw(disable enable delete verify set-password)) {
    ($rc, $out, $err) = admin_in("x\n", 'user', $cmd, unique_email('nobody'));
    is($rc, 3, "user $cmd of an unknown account: exit 3");
    ($rc, $out, $err) = admin_in("x\n", 'user', $cmd, 'bad@address@example.org');
    is($rc, 2, "user $cmd of an impossible email: exit 2");
}

# ---- verify ------------------------------------------------------------------------------------

my ($vc, $vf, $vu) = account(vhost => 'fresh');
ok(!user_by_id($vu->{id})->{email_verified_at}, 'an unverified account');
($rc, $out, $err) = admin(qw(user verify), $vf->{email});
is($rc, 0, 'user verify: exit 0') or diag($err);
ok(user_by_id($vu->{id})->{email_verified_at}, '... verified');
tool_audit_ok($vu->{id}, 'email_verified', 1, 'user verify');
($rc, $out) = admin(qw(user verify), $vf->{email});
like($out, qr/already verified/, 'user verify again: nothing changed');
tool_audit_ok($vu->{id}, 'email_verified', 1, '... no second row');
sleep 2;
ok((json_body($vc->get('/users/me')) || {})->{email_verified}, '... the API says verified');

# ---- set-password ---------------------------------------------------------------------------

my ($pc, $pf, $pu) = account(vhost => 'fresh');
my $old_hash = user_by_id($pu->{id})->{password_hash};
($rc, $out, $err) = admin_in("short\n", qw(user set-password), $pf->{email});
is($rc, 1, 'user set-password with a short password: exit 1');
is(user_by_id($pu->{id})->{password_hash}, $old_hash, '... hash unchanged');
my $new_pw = good_password();
my $dev_sql = 'SELECT count(*) AS n FROM remembered_devices WHERE user_id = ' . sql_str($pu->{id});
db_do('INSERT INTO remembered_devices (id, token_hash, user_id, created_at, expires_at) '
      . "VALUES ('dev-tool-1', 'hash-tool-1', " . sql_str($pu->{id}) . ', 1, 4102444800)');
is(db_value($dev_sql), 1, 'a remembered device before set-password');
($rc, $out, $err) = admin_in("$new_pw\n", qw(user set-password), $pf->{email});
is($rc, 0, 'user set-password: exit 0') or diag($err);
is(db_value($dev_sql), 0, '... forgets the remembered devices (no device skips MFA now)');
like($out, qr/^password of \Q$pu->{id}\E set; 1 session\(s\) revoked$/, '... says so');
tool_audit_ok($pu->{id}, 'password_changed', 1, 'user set-password');
sleep 2;
is($pc->get('/users/me')->code, 401, '... the old session is dead');
is(fresh_client()->login($pf->{email}, $pf->{password})->code, 401, '... old password refused');
is(fresh_client()->login($pf->{email}, $new_pw)->code, 200, '... new password works');

# ---- role add|remove --------------------------------------------------------------------------

($rc, $out, $err) = admin(qw(user role add), $pf->{email}, 'auditor');
is($rc, 0, 'user role add: exit 0') or diag($err);
is(user_by_id($pu->{id})->{roles}, 'auditor', '... role added');
tool_audit_ok($pu->{id}, 'admin_role_added', 1, 'user role add', role => 'auditor');
($rc, $out) = admin(qw(user role add), $pf->{email}, 'auditor');
like($out, qr/already has role auditor; nothing changed/, 'user role add again: nothing changed');
admin(qw(user role add), $pf->{email}, 'ops');
is(user_by_id($pu->{id})->{roles}, 'auditor ops', '... a second role');
($rc, $out) = admin(qw(user role remove), $pf->{email}, 'auditor');
is($rc, 0, 'user role remove: exit 0');
is(user_by_id($pu->{id})->{roles}, 'ops', '... removed');
tool_audit_ok($pu->{id}, 'admin_role_removed', 1, 'user role remove', role => 'auditor');
($rc, $out) = admin(qw(user role remove), $pf->{email}, 'auditor');
like($out, qr/does not have role auditor/, 'user role remove again: nothing changed');
for my $bad ([qw(grant x r)], ['add', $pf->{email}, 'a b'], ['add', $pf->{email}, ''],
             ['add', $pf->{email}]) {
    ($rc, $out, $err) = admin(qw(user role), @$bad);
    is($rc, 2, "user role @$bad: exit 2");
}
($rc) = admin(qw(user role add), unique_email('nobody'), 'x');
is($rc, 3, 'user role add to an unknown account: exit 3');

# The API's caps (src/account_limits.h): 32 roles, 1024 bytes with the spaces.
{
    my @r32 = map { "r$_" } 1 .. 32;
    my $many = unique_email('tool.r33');
    ($rc, $out, $err) = admin_in("$pw\n", qw(user add), $many, '--role', join(',', @r32, 'r33'));
    is($rc, 2, 'user add with 33 roles: exit 2') or diag($err);
    like($err, qr/at most 32 roles, 1024 bytes/, '... says the cap');
    is(db_value('SELECT count(*) AS n FROM users WHERE email = ' . sql_str($many)), 0,
       '... no account');
    my @long = map { ('x' x 62) . sprintf('%02d', $_) } 1 .. 16;      # 16 * 65 - 1 bytes
    ($rc, $out, $err) = admin_in("$pw\n", qw(user add), unique_email('tool.rlong'), '--role',
                                 join(',', @long));
    is($rc, 2, 'user add with 1039 bytes of roles: exit 2') or diag($err);
    like($err, qr/at most 32 roles/, '... says the cap');
    my $full = unique_email('tool.r32');
    ($rc, $out, $err) = admin_in("$pw\n", qw(user add), $full, '--role', join(',', @r32));
    is($rc, 0, 'user add with 32 roles: exit 0') or diag($err);
    my $fid = db_value('SELECT id FROM users WHERE email = ' . sql_str($full));
    ($rc, $out, $err) = admin(qw(user role add), $full, 'r33');
    is($rc, 1, 'user role add of a 33rd role: exit 1') or diag($out);
    like($err, qr/too many roles \(an account has at most 32 roles/, '... says the cap');
    is(user_by_id($fid)->{roles}, join(' ', @r32), '... roles unchanged');
    tool_audit_ok($fid, 'admin_role_added', 0, '... no audit row');
    ($rc, $out, $err) = admin(qw(user role remove), $full, 'r1');
    is($rc, 0, '... removing one still works') or diag($err);
    ($rc, $out, $err) = admin(qw(user role add), $full, 'r33');
    is($rc, 0, '... and then the 33rd fits as the 32nd') or diag($err);
    is(user_by_id($fid)->{roles}, join(' ', @r32[1 .. 31], 'r33'), '... stored');
}

# ---- sessions list|revoke ------------------------------------------------------------------

my ($sc, $sf, $su) = account(vhost => 'fresh');
my $sc2 = fresh_client();
is($sc2->login($sf->{email}, $sf->{password})->code, 200, 'a second session');
($rc, $out, $err) = admin(qw(sessions list --json), $sf->{email});
is($rc, 0, 'sessions list --json: exit 0') or diag($err);
my @sl = map { JSON::PP->new->decode($_) } split /\n/, $out;
my $db_ids = db_rows('SELECT id FROM sessions WHERE user_id = ' . sql_str($su->{id}));
is_deeply([sort map { $_->{id} } @sl], [sort map { $_->{id} } @$db_ids], '... both sessions');
ok(!grep({ exists $_->{token_hash} } @sl), '... no token hash shown');
($rc, $out) = admin(qw(sessions list), $sf->{email});
my @lines = split /\n/, $out;
like(shift(@lines) // '', qr/^ID\s+CREATED\s+LAST SEEN\s+EXPIRES\s+IP\s+USER AGENT$/,
     'sessions list: a table');
is_deeply([sort map { (split ' ', $_)[0] } @lines], [sort map { $_->{id} } @$db_ids],
          '... of the two sessions');
($rc, $out, $err) = admin(qw(sessions revoke), $sf->{email});
is($rc, 0, 'sessions revoke LOGIN: exit 0') or diag($err);
is($out, "revoked 2 session(s) of $su->{id}\n", '... says how many');
tool_audit_ok($su->{id}, 'admin_sessions_revoked', 1, 'sessions revoke');
sleep 2;
is($sc->get('/users/me')->code, 401, '... first session dead');
is($sc2->get('/users/me')->code, 401, '... second session dead');
($rc, $out) = admin(qw(sessions list), $sf->{email});
is(scalar(split /\n/, $out), 1, '... none listed (the header only)');
($rc, $out) = admin(qw(sessions revoke), $sf->{email});
is($out, "revoked 0 session(s) of $su->{id}\n", 'sessions revoke again: none');
tool_audit_ok($su->{id}, 'admin_sessions_revoked', 1, '... no second row');
($rc) = admin(qw(sessions revoke));
is($rc, 2, 'sessions revoke without LOGIN or --all: exit 2');
($rc) = admin(qw(sessions revoke --all), $sf->{email});
is($rc, 2, 'sessions revoke with both: exit 2');
($rc) = admin(qw(sessions list), unique_email('nobody'));
is($rc, 3, 'sessions list of an unknown account: exit 3');

# Refresh tokens go with the sessions (vhost tok issues them).
my $t = token_account();
($rc, $out, $err) = admin(qw(sessions revoke), $t->{f}{email});
is($rc, 0, 'sessions revoke of a token client: exit 0') or diag($err);
is(db_value('SELECT count(*) AS n FROM refresh_tokens WHERE revoked_at IS NULL AND user_id = '
            . sql_str($t->{u}{id})), 0, '... its refresh tokens revoked');
isnt(refresh_post($t->{c}, $t->{rt})->code, 200, '... the refresh token no longer works');

# --all, on a database of its own (the live one is shared with other tests).
{
    my ($args, $drop) = scratch_db('admintool');
    ($rc, $out, $err) = run_admin(@$args, qw(migrate up));
    is($rc, 0, 'scratch database migrated') or diag($err);
    my $now = time;
    for my $n (1 .. 2) {
        scratch_do($args, "INSERT INTO users (id, email, password_hash, created_at, updated_at) "
                   . "VALUES ('u$n', 'u$n\@example.org', 'x', $now, $now)");
        for my $s (1 .. 2) {
            scratch_do($args, 'INSERT INTO sessions (token_hash, id, user_id, created_at, '
                       . 'last_seen_at, idle_expires_at, expires_at) VALUES '
                       . "('h$n$s', 's$n$s', 'u$n', $now, $now, " . ($now + 600) . ', '
                       . ($now + 3600) . ')');
        }
    }
    scratch_do($args, "INSERT INTO refresh_tokens (token_hash, family_id, session_hash, user_id, "
               . "created_at, expires_at) VALUES ('r1', 'f1', 'h11', 'u1', $now, "
               . ($now + 3600) . ')');
    ($rc, $out, $err) = run_admin(@$args, qw(sessions revoke --all));
    is($rc, 0, 'sessions revoke --all: exit 0') or diag($err);
    is($out, "revoked 4 session(s) of 2 account(s)\n", '... four sessions of two accounts');
    ($rc, $out) = run_admin(@$args, qw(audit --event admin_sessions_revoked));
    my @a = map { JSON::PP->new->decode($_) } split /\n/, $out;
    is_deeply([sort map { $_->{user_id} } @a], ['u1', 'u2'], '... one audit row per account');
    is_deeply($a[0]{detail}, {reason => 'admin', via => 'authsvc-admin', all => JSON::PP::true},
              '... detail says all');
    ($rc, $out) = run_admin(@$args, qw(sessions revoke --all));
    is($out, "revoked 0 session(s) of 0 account(s)\n", 'sessions revoke --all again: none');
    ($rc, $out) = run_admin(@$args, qw(user show u1));
    is(JSON::PP->new->decode($out)->{sessions}, 0, '... user show counts none');
    $drop->();
}

# ---- delete ----------------------------------------------------------------------------------

my ($xc, $xf, $xu) = account(vhost => 'fresh');
($rc) = admin(qw(user role add), $xf->{email}, 'doomed');
is($rc, 0, 'a role added before the deletion');
($rc, $out, $err) = admin(qw(user delete), $xf->{email});
is($rc, 0, 'user delete: exit 0') or diag($err);
is($out, "deleted $xu->{id}\n", '... says so');
ok(!user_by_id($xu->{id}), '... the account is gone');
is(db_value('SELECT count(*) AS n FROM sessions WHERE user_id = ' . sql_str($xu->{id})), 0,
   '... and its sessions');
my $xrows = db_rows('SELECT * FROM audit_log WHERE user_id = ' . sql_str($xu->{id}) . ' ORDER BY id');
ok(!grep({ $_->{event} !~ /^admin_/ && (defined $_->{login} || defined $_->{ip} || defined $_->{detail}) } @$xrows),
   '... its earlier audit rows keep no personal data');
ok(!grep({ defined $_->{login} } @$xrows), '... no row keeps the login as typed');
my ($xrole) = grep { $_->{event} eq 'admin_role_added' } @$xrows;
like($xrole->{detail} // '', qr/"via":"authsvc-admin"/,
     '... the administrator\'s row keeps who did it');
tool_audit_ok($xu->{id}, 'admin_user_deleted', 1, 'user delete');
sleep 2;
is($xc->get('/users/me')->code, 401, '... its session is dead');
is(fresh_client()->login($xf->{email}, $xf->{password})->code, 401, '... it cannot sign in');

# ---- audit -----------------------------------------------------------------------------------

($rc, $out, $err) = admin(qw(audit --user), $pf->{email});
is($rc, 0, 'audit --user: exit 0') or diag($err);
my @ev = map { JSON::PP->new->decode($_) } split /\n/, $out;
ok(@ev >= 5, '... the account\'s events');
ok(!grep({ $_->{user_id} ne $pu->{id} } @ev), '... only that account\'s');
is_deeply([map { $_->{id} } @ev], [sort { $b <=> $a } map { $_->{id} } @ev], '... newest first');
is_deeply([sort keys %{ $ev[0] }],
          [sort qw(id at event user_id login ip user_agent request_id detail)], '... the fields');
($rc, $out) = admin(qw(audit --event admin_role_removed --user), $pu->{id});
@ev = map { JSON::PP->new->decode($_) } split /\n/, $out;
is(scalar @ev, 1, 'audit --event --user: one event');
is_deeply($ev[0]{detail}, {reason => 'admin', via => 'authsvc-admin', role => 'auditor'},
          '... detail as an object');
($rc, $out) = admin(qw(audit --limit 2 --user), $pu->{id});
my @two = map { JSON::PP->new->decode($_) } split /\n/, $out;
is(scalar @two, 2, 'audit --limit 2: two events');
($rc, $out) = admin(qw(audit --limit 1 --user), $pu->{id}, '--before', $two[0]{id});
is(JSON::PP->new->decode($out)->{id}, $two[1]{id}, 'audit --before: the next one');
($rc, $out) = admin(qw(audit --user), $pu->{id}, '--since', time + 3600);
is($out, '', 'audit --since the future: nothing');
($rc, $out) = admin(qw(audit --user), $pu->{id}, '--until', '2000-01-01');
is($out, '', 'audit --until 2000-01-01: nothing');
($rc, $out) = admin(qw(audit --user), $pu->{id}, '--since', '2000-01-01T00:00:00Z');
ok(scalar(split /\n/, $out) >= 5, 'audit --since an ISO time: the events');
($rc, $out) = admin(qw(audit --user), $xu->{id});
ok(scalar(grep { /"admin_user_deleted"/ } split /\n/, $out), 'audit --user ID of a deleted account');
for my $bad (['--since', 'yesterday'], ['--until', '2026-13-01'], ['--limit', '0'],
             ['--before', 'x'], ['--user', ''], ['--since', '2026-02-31'],
             ['--until', '2025-02-29T00:00:00Z'], ['--since', '2026-04-31'],
             ['--since', '2026-00-10'], ['--before', '99999999999999999999']) {
    ($rc, $out, $err) = admin('audit', @$bad);
    is($rc, 2, "audit @$bad: exit 2");
}
for my $good (qw(2024-02-29 2000-02-29 2026-12-31T23:59:59Z 2026-01-31)) {
    ($rc, $out, $err) = admin(qw(audit --limit 1 --since), $good);
    is($rc, 0, "audit --since $good: exit 0") or diag($err);
}

# ---- --config --------------------------------------------------------------------------------

{
    my $dir = catfile(serverroot(), 'state', "admincfg-$$");
    make_path(catfile($dir, 'conf.d'));
    my ($driver, $params) = @live[1, 3];
    open(my $fh, '>', catfile($dir, 'main.conf')) or die $!;
    print {$fh} "# a site\nServerName example\nIncludeOptional conf.d/*.conf\n"
        . "IncludeOptional missing/*.conf\n";
    close $fh;
    open($fh, '>', catfile($dir, 'conf.d', 'db.conf')) or die $!;
    print {$fh} "<IfModule mod_dbd.c>\n  dbdriver $driver\n  DBDParams \\\n  \"$params\"\n</IfModule>\n";
    close $fh;
    local %ENV = %ENV;
    delete @ENV{qw(AUTHSVC_DBD_DRIVER AUTHSVC_DBD_PARAMS)};
    ($rc, $out, $err) = run_admin('--config', catfile($dir, 'main.conf'), qw(migrate status));
    is($rc, 0, '--config with an Include: exit 0') or diag($err);
    like($out, qr/^driver:\s+\Q$driver\E$/m, '... the driver of the included file');
    like($out, qr/up to date/, '... and its database');
    ($rc, $out, $err) = run_admin('--config', catfile($dir, 'main.conf'), '--params',
                                  catfile($dir, 'nowhere', 'x.db'), qw(migrate status));
    is($rc, 1, '--params wins over --config') or diag($out);
    open($fh, '>', catfile($dir, 'empty.conf')) or die $!;
    print {$fh} "ServerName example\n";
    close $fh;
    ($rc, $out, $err) = run_admin('--config', catfile($dir, 'empty.conf'), qw(migrate status));
    is($rc, 1, '--config without DBD lines: exit 1');
    like($err, qr/no DBDriver or DBDParams/, '... says so');
    ($rc, $out, $err) = run_admin('--config', catfile($dir, 'absent.conf'), qw(migrate status));
    is($rc, 1, '--config of a missing file: exit 1');
    open($fh, '>', catfile($dir, 'broken.conf')) or die $!;
    print {$fh} "Include nothere.conf\n";
    close $fh;
    ($rc, $out, $err) = run_admin('--config', catfile($dir, 'broken.conf'), qw(migrate status));
    is($rc, 1, '--config with a missing Include: exit 1');
    like($err, qr/nothere\.conf/, '... names it');

    # Include loops: through a wildcard, and a file including itself. The same file
    # included twice side by side is no loop.
    make_path(catfile($dir, 'loop'));
    my %loop = ('loop/a.conf' => "Include b*.conf\n",     # from the directory of FILE
                'loop/b1.conf' => "IncludeOptional a.conf\n",
                'self.conf' => "DBDriver $driver\nInclude self.conf\n",
                'twice.conf' => "Include conf.d/db.conf\nInclude conf.d/*.conf\n");
    for my $name (sort keys %loop) {
        open($fh, '>', catfile($dir, $name)) or die $!;
        print {$fh} $loop{$name};
        close $fh;
    }
    ($rc, $out, $err) = run_admin('--config', catfile($dir, 'loop', 'a.conf'), qw(migrate status));
    is($rc, 1, '--config with an Include loop: exit 1');
    like($err, qr{Include loop: \S*/loop/a\.conf includes \S*/loop/b1\.conf includes \S*/loop/a\.conf again},
         '... names the chain') or diag($err);
    ($rc, $out, $err) = run_admin('--config', catfile($dir, 'self.conf'), qw(migrate status));
    is($rc, 1, '--config including itself: exit 1');
    like($err, qr{Include loop: \S*/self\.conf includes \S*/self\.conf again}, '... says so')
        or diag($err);
    ($rc, $out, $err) = run_admin('--config', catfile($dir, 'twice.conf'), qw(migrate status));
    is($rc, 0, '--config including one file twice: no loop') or diag($err);
  SKIP: {
        skip 'root reads any directory', 2 if $> == 0;
        make_path(catfile($dir, 'closed'));
        chmod 0, catfile($dir, 'closed');
        open($fh, '>', catfile($dir, 'closed.conf')) or die $!;
        print {$fh} "DBDriver $driver\nIncludeOptional closed/*.conf\n";
        close $fh;
        ($rc, $out, $err) = run_admin('--config', catfile($dir, 'closed.conf'),
                                      qw(migrate status));
        chmod 0755, catfile($dir, 'closed');
        is($rc, 1, '--config with a wildcard in an unreadable directory: exit 1');
        like($err, qr{cannot read \S*/closed: Permission denied}, '... says so') or diag($err);
    }
}

done_testing();
