# AuthsvcAuditLog (where audit events go) and AuthsvcAuditRetention (how long rows
# stay): the row, the key=value line at info, or both; old rows pruned by the
# background watchdog.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Spec::Functions qw(catfile);
use Test::More;
use Time::HiRes ();
use AuthsvcTest;

# The audit rows and the log lines a response's request wrote (by its UNIQUE_ID).
sub trail_of {
    my ($res, $mark) = @_;
    my $id = $res->header('X-Request-Id') // '';
    my $rows = db_rows('SELECT * FROM audit_log WHERE request_id = ' . sql_str($id));
    my @lines = grep { /audit event=\S+ .*request_id=\Q$id\E / }
        split /\n/, error_log_since($mark);
    return ($rows, \@lines, $id);
}

# Both (the default): a row and a line with the stable keys.
{
    my $mark = error_log_mark();
    my ($res) = client()->register();
    is($res->code, 201, 'default: register');
    my ($rows, $lines, $id) = trail_of($res, $mark);
    is(scalar @$rows, 1, '... one row');
    is(scalar @$lines, 1, '... one log line');
    like($lines->[0] // '', qr/\[authsvc:info\].* audit event=register user=\S+ ip=127\.0\.0\.1 request_id=\Q$id\E result=success detail=\S+ stored=yes/,
         '... event, user, ip, request_id, result in that order');
}

# log: the line only, saying no row was wanted.
{
    my $mark = error_log_mark();
    my ($c, $f) = account(vhost => 'auditlog');
    my $res = $c->login($f->{email}, 'not the password ' . rand);
    is($res->code, 401, 'AuthsvcAuditLog log: a failed login');
    my ($rows, $lines) = trail_of($res, $mark);
    is(scalar @$rows, 0, '... no row');
    is(scalar @$lines, 1, '... one log line');
    like($lines->[0] // '', qr/ event=login_failure .* result=failure .* stored=off$/,
         '... result=failure, stored=off');
    $res = $c->login($f->{email}, $f->{password});
    is($res->code, 200, '... the right password still signs in');
    is(scalar @{ (trail_of($res, $mark))[0] }, 0, '... and writes no row either');
}

# db: the row only.
{
    my $mark = error_log_mark();
    my ($c, $f) = account(vhost => 'auditdb');
    my $res = $c->login($f->{email}, $f->{password});
    is($res->code, 200, 'AuthsvcAuditLog db: a login');
    my ($rows, $lines) = trail_of($res, $mark);
    is(scalar @$rows, 1, '... one row');
    is($rows->[0]{event}, 'login_success', '... login_success');
    is(scalar @$lines, 0, '... no log line');
}

# AuthsvcAuditRetention 400 (t/conf/extra.conf.in): the watchdog prunes rows older than
# 400 days when it starts (and hourly after); a graceful restart starts it again.
{
    my $tag = 'retention_' . int(rand 1e9);
    my $day = 86400;
    for my $age (401, 399) {
        db_do('INSERT INTO audit_log (at, event, user_id) VALUES (' . (time - $age * $day)
              . ", 'retention_probe', " . sql_str("$tag-$age") . ')');
    }
    my $count = sub {
        db_value('SELECT count(*) AS n FROM audit_log WHERE user_id = ' . sql_str("$tag-$_[0]"));
    };
    is($count->(401), 1, 'retention: a row of 401 days planted');
    # Sessions past their absolute lifetime by more than a day go at the same time.
    my (undef, undef, $u) = account();
    my $now = time;
    for my $s (['old', $now - 2 * $day], ['recent', $now - 3600]) {
        db_do('INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at, '
              . 'idle_expires_at, expires_at) VALUES ('
              . join(', ', sql_str("$tag-$s->[0]-hash"), sql_str("$tag-$s->[0]"),
                     sql_str($u->{id}), ($s->[1] - 86400) x 2, ($s->[1]) x 2) . ')');
    }
    my $session = sub {
        db_value('SELECT count(*) AS n FROM sessions WHERE id = ' . sql_str("$tag-$_[0]"));
    };
    my $mark = error_log_mark();
    my $pidfile = catfile(Apache::Test::vars('t_logs'), 'httpd.pid');
    open(my $fh, '<', $pidfile) or BAIL_OUT("no $pidfile: $!");
    chomp(my $pid = <$fh> // '');
    ok(kill('USR1', $pid), 'a graceful restart');
    my $gone;
    for (1 .. 60) {
        last if ($gone = $count->(401) == 0);
        Time::HiRes::sleep(0.5);
    }
    ok($gone, '... the row older than 400 days is pruned');
    is($count->(399), 1, '... the one of 399 days stays');
    is($session->('old'), 0, '... a session that ended two days ago is pruned');
    is($session->('recent'), 1, '... one that ended an hour ago stays (a day, for support)');
    like(error_log_since($mark), qr/pruned \d+ audit rows older than 400 days/,
         '... and the error log says so');
    is(client(prefix => '')->get('/health')->code, 200, '... the server serves on');
    db_do("DELETE FROM audit_log WHERE event = 'retention_probe'");
}

done_testing();
