# A child killed with SIGKILL in the middle of a request leaves nothing half-written
# (issue 10, faults). On an httpd of the test's own with one prefork child and a
# PostgreSQL database of its own, the test holds a table lock from psql, so that the
# child stops inside its transaction just before the last writes: registration (the
# account is inserted, its audit row waits), sign-in (the session and refresh token are
# inserted, the audit row waits) and token refresh (the old refresh token is marked
# used, the session's activity waits). Then it kills the child, lets the lock go, and
# reads the tables: the account, the session, the new token are not there, the used
# token works once more, and every row that is there has its counterparts.
#
# SQLite: a second writer cannot make the child wait inside its transaction (its
# BEGIN IMMEDIATE takes the write lock first, before any write), so the state of a
# killed transaction cannot be caught there; SQLite's own atomic commit (WAL) drops
# what a dead process did not commit. The PostgreSQL prefork run only.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes ();
use AuthsvcTest;

plan skip_all => 'a transaction paused by a table lock: PostgreSQL runs only'
    unless backend() eq 'pgsql';
# Its server is prefork whatever the run's MPM: once is enough.
plan skip_all => 'runs once, on the PostgreSQL prefork run'
    unless (Apache::Test::config()->{server}{mpm} // '') eq 'prefork';

my ($args, $drop) = scratch_db('kill');
my ($db) = $args->[3] =~ /dbname=(\S+)/;
my $srv = fault_httpd(mpm => 'prefork', dbd => [$args->[1], $args->[3]],
    conf => ['StartServers 1', 'MinSpareServers 1', 'MaxSpareServers 1', 'ServerLimit 1',
             'MaxRequestWorkers 1', 'AuthsvcTokenSigningKey ' . jwt_key_file('ed25519')]);

sub rows { scratch_rows($args, $_[0]) }
sub one  { (values %{ rows($_[0])->[0] || {} })[0] }

# Run $req (a sub making one request) while $table is locked against writes; when the
# child waits for the lock, having written to $written already in its transaction,
# SIGKILL it, then let the lock go. Returns the killed pid.
sub killed_inside {
    my ($table, $written, $req) = @_;
    open(my $lock, '|-', join(' ', map { "'$_'" } pg_psql($db)) . ' >/dev/null 2>&1')
        or die "psql: $!\n";
    select((select($lock), $| = 1)[0]);
    print {$lock} "BEGIN;\nLOCK TABLE $table IN EXCLUSIVE MODE;\n";
    # The lock is held once psql answers a second query in the same session: wait
    # until a fresh session sees it.
    for (1 .. 100) {
        last if one("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    . "WHERE c.relname = '$table' AND l.mode = 'ExclusiveLock' AND l.granted");
        Time::HiRes::sleep(0.1);
    }
    my $pid = fork // die "fork: $!\n";
    if (!$pid) { $req->(); POSIX::_exit(0) }
    # Wait for the request's own backend: waiting for the lock, having written to
    # $written in its transaction. (Another backend may wait for the lock too: the
    # mail deliverer's housekeeping prunes audit_log and sessions when a child starts.)
    my $inside = "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        . "JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.datname = '$db' "
        . "AND a.wait_event_type = 'Lock' AND c.relname = '$written' "
        . "AND l.mode = 'RowExclusiveLock' AND l.granted";
    my $written_in = 0;
    for (1 .. 300) {
        $written_in = one($inside);
        last if $written_in;
        Time::HiRes::sleep(0.1);
    }
    ok(one("SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' "
           . "AND wait_event_type = 'Lock'"),
       "a child waits inside its transaction (lock on $table)");
    # ... after its first writes: the waiting backend holds a row lock on $written.
    ok($written_in, "... having written to $written in it");
    my @kids = $srv->children;
    is(scalar @kids, 1, 'one child');
    ok(kill('KILL', @kids), "SIGKILL to the child (@kids)");
    Time::HiRes::sleep(0.5);
    print {$lock} "COMMIT;\n";
    close $lock;
    waitpid($pid, 0);
    # The backend sees its client gone once it has the lock: its transaction rolls back.
    for (1 .. 100) {
        last unless one("SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' "
                        . "AND (state LIKE 'idle in transaction%' OR wait_event_type = 'Lock')");
        Time::HiRes::sleep(0.1);
    }
    # A new child is up again.
    for (1 .. 100) {
        last if $srv->client->get('/health', abs => 1)->code =~ /^[25]/;
        Time::HiRes::sleep(0.1);
    }
    return $kids[0];
}

my $c = $srv->client;
my ($res, $f) = $c->register;
is($res->code, 201, 'an account to start with');
my $tok = token_login($c, $f->{email}, $f->{password});
is($tok->{res}->code, 200, 'its sign-in, with tokens');
my $uid = $tok->{b}{user}{id};

# 1. Registration: the account row written, its audit row waiting.
my $email = unique_email('killed');
my $pw = new_password();
killed_inside('audit_log', 'users',
              sub { $srv->client->register(email => $email, password => $pw) });
is(one('SELECT count(*) FROM users WHERE email = ' . sql_str($email)), 0,
   'registration: no account left');
is(one('SELECT count(*) FROM audit_log WHERE login = ' . sql_str($email)), 0,
   '... and no audit row');
($res) = $srv->client->register(email => $email, password => $pw);
is($res->code, 201, '... the address registers afterwards') or diag($res->content);

# 2. Sign-in: session and refresh token written, the audit row waiting.
my $sessions = one('SELECT count(*) FROM sessions WHERE user_id = ' . sql_str($uid));
my $refresh = one('SELECT count(*) FROM refresh_tokens WHERE user_id = ' . sql_str($uid));
my $audits = one('SELECT count(*) FROM audit_log WHERE user_id = ' . sql_str($uid));
killed_inside('audit_log', 'sessions',
              sub { $srv->client->login($f->{email}, $f->{password}) });
is(one('SELECT count(*) FROM sessions WHERE user_id = ' . sql_str($uid)), $sessions,
   'sign-in: no session left');
is(one('SELECT count(*) FROM refresh_tokens WHERE user_id = ' . sql_str($uid)), $refresh,
   '... no refresh token');
is(one('SELECT count(*) FROM audit_log WHERE user_id = ' . sql_str($uid)), $audits,
   '... no audit row');

# 3. Refresh: the old token marked used, the session's activity waiting.
killed_inside('sessions', 'refresh_tokens', sub { refresh_post($srv->client, $tok->{rt}) });
is(one('SELECT count(*) FROM refresh_tokens WHERE user_id = ' . sql_str($uid)), $refresh,
   'refresh: no new token left');
$res = refresh_post($srv->client, $tok->{rt});
is($res->code, 200, '... the token whose use was killed works (once)') or diag($res->content);
is(refresh_post($srv->client, $tok->{rt})->code, 401, '... and is used now');

# Whatever is there is whole.
is(one(q{SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM audit_log a
          WHERE a.user_id = u.id AND a.event = 'register')}), 0,
   'every account has its registration audit row');
is(one('SELECT count(*) FROM sessions s WHERE NOT EXISTS '
       . '(SELECT 1 FROM users u WHERE u.id = s.user_id)'), 0, 'every session has its account');
is(one('SELECT count(*) FROM refresh_tokens t WHERE NOT EXISTS '
       . '(SELECT 1 FROM users u WHERE u.id = t.user_id)'), 0, 'every refresh token has its account');

# (httpd does not log a child's death by SIGKILL: any line is another death.)
ok(!$srv->exit_signals, 'no other child died') or diag(join "\n", $srv->exit_signals);
$srv->stop;
$drop->();
done_testing;
