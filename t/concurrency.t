# Several clients writing at once (register, login, profile change, logout) across
# the server's processes: every request succeeds and the database never reports
# itself locked (SQLite: WAL and busy_timeout; PostgreSQL: pooled connections).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $WORKERS = 6;
my $ROUNDS  = 4;
my $mark = error_log_mark();
my $users_before = db_value('SELECT count(*) AS n FROM users');

# Each worker prints one line per request: "<expected> <got> <what>".
my @pipes;
for my $w (1 .. $WORKERS) {
    pipe(my $r, my $wr) or die;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $r;
        select((select($wr), $| = 1)[0]);
        for my $round (1 .. $ROUNDS) {
            my $c = client(agent => "worker-$w");
            my $try = sub {
                my ($want, $what, $res) = @_;
                print {$wr} "$want " . $res->code . " $what\n";
            };
            my ($res, $f) = $c->register(username => unique_username("w$w"));
            $try->(201, 'register', $res);
            $try->(200, 'login', $c->login($f->{email}, $f->{password}));
            $try->(401, 'bad login', client()->login($f->{email}, 'wrong password!!'));
            $try->(200, 'patch', $c->patch('/users/me', {first_name => "W$w R$round"}));
            $try->(200, 'me', $c->get('/users/me'));
            $try->(204, 'logout', $c->post('/auth/logout'));
        }
        close $wr;
        POSIX::_exit(0);
    }
    close $wr;
    push @pipes, [$pid, $r];
}

my (%bad, $n);
for my $p (@pipes) {
    my ($pid, $r) = @$p;
    while (my $line = <$r>) {
        my ($want, $got, $what) = split ' ', $line, 3;
        chomp $what;
        $n++;
        $bad{"$what: $got (wanted $want)"}++ if $want != $got;
    }
    waitpid($pid, 0);
}
is($n, $WORKERS * $ROUNDS * 6, "all $WORKERS x $ROUNDS x 6 requests answered");
is(scalar keys %bad, 0, 'every concurrent request got the expected status')
    or diag(join "\n", map { "$bad{$_} x $_" } sort keys %bad);
is(db_value('SELECT count(*) AS n FROM users') - $users_before, $WORKERS * $ROUNDS,
   'every account was stored');
is(db_value("SELECT count(*) AS n FROM sessions s JOIN users u ON u.id = s.user_id "
            . "WHERE u.first_name LIKE 'W% R%' AND s.revoked_at IS NULL"), 0,
   'every session was revoked');

my $log = error_log_since($mark);
unlike($log, qr/database is locked|SQLITE_BUSY|deadlock detected/i, 'the database was never locked');
my @errors = $log =~ /^(.*\[authsvc:(?:error|crit|alert|emerg)\].*)$/mg;
is(scalar @errors, 0, 'no authsvc errors logged') or diag(join "\n", @errors[0 .. ($#errors > 4 ? 4 : $#errors)]);

done_testing();
