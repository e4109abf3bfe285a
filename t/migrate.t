# tools/authsvc-admin migrate: status / up / down 0 / up on a fresh database of the
# backend under test, usage errors, and the live database seen from the shell.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Spec::Functions qw(catfile);
use Test::More;
use AuthsvcTest;

my $ADMIN = admin_bin();
plan skip_all => "no $ADMIN (run make)" unless -x $ADMIN;

sub admin { run_admin(@_) }

my $backend = backend();
my ($driver, $params, $tables, $cleanup);
if ($backend eq 'pgsql') {
    my $db = "authsvc_migrate_$$";
    system(pg_psql('postgres'), '-c', "DROP DATABASE IF EXISTS $db") == 0
        and system(pg_psql('postgres'), '-c', "CREATE DATABASE $db") == 0
        or BAIL_OUT('cannot create a PostgreSQL database for the migration test');
    ($driver, $params) = ('pgsql', pg_admin_params($db));
    $tables = sub {
        open(my $fh, '-|', pg_psql($db), '-c',
             "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
             . 'ORDER BY 1') or die;
        local $/;
        my $o = <$fh>;
        close $fh;
        return join ' ', split /\n/, $o // '';
    };
    $cleanup = sub { system(pg_psql('postgres'), '-c', "DROP DATABASE IF EXISTS $db") };
}
else {
    my $file = catfile(serverroot(), 'state', "migrate-$$.db");
    unlink $file, "$file-wal", "$file-shm";
    ($driver, $params) = ('sqlite3', $file);
    $tables = sub {
        return '' unless -e $file;
        my $o = `sqlite3 -batch '$file' "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"`;
        return join ' ', split /\n/, $o // '';
    };
    $cleanup = sub { unlink $file, "$file-wal", "$file-shm" };
}
my @db = ('--driver', $driver, '--params', $params);

# The migrations the tool carries: those in sql/sqlite (sql/pgsql has the same names).
my @migrations = map { m{(\d{4}_\w+)\.up\.sql$} ? $1 : () }
    sort glob catfile(serverroot(), '..', 'sql', 'sqlite', '*.up.sql');
my $LATEST = scalar @migrations;
# The tables each schema version has.
my %TABLES = (
    1 => 'audit_log schema_migrations sessions users',
    2 => 'audit_log mail_outbox password_history schema_migrations sessions tokens users',
    3 => 'audit_log mail_outbox password_history schema_migrations sessions tokens users',
    4 => 'audit_log mail_outbox mfa_challenges mfa_recovery_codes password_history '
       . 'schema_migrations sessions tokens users',
    5 => 'audit_log mail_outbox mfa_challenges mfa_recovery_codes password_history '
       . 'refresh_tokens schema_migrations sessions tokens users',
    6 => 'audit_log mail_outbox mfa_challenges mfa_recovery_codes password_history '
       . 'refresh_tokens schema_migrations sessions tokens users',
    # issue 11: email codes and seen devices (0007), remembered devices (0008)
    7 => 'audit_log devices_seen email_codes mail_outbox mfa_challenges mfa_recovery_codes '
       . 'password_history refresh_tokens schema_migrations sessions tokens users',
    8 => 'audit_log devices_seen email_codes mail_outbox mfa_challenges mfa_recovery_codes '
       . 'password_history refresh_tokens remembered_devices schema_migrations sessions '
       . 'tokens users',
    # issue 11: passkeys (0009)
    9 => 'audit_log devices_seen email_codes mail_outbox mfa_challenges mfa_recovery_codes '
       . 'passkeys password_history refresh_tokens remembered_devices schema_migrations '
       . 'sessions tokens users webauthn_challenges',
    # issue 10: an index on sessions (expires_at) (0010)
    10 => 'audit_log devices_seen email_codes mail_outbox mfa_challenges mfa_recovery_codes '
       . 'passkeys password_history refresh_tokens remembered_devices schema_migrations '
       . 'sessions tokens users webauthn_challenges',
    # issue 10: password_history.seq (0011)
    11 => 'audit_log devices_seen email_codes mail_outbox mfa_challenges mfa_recovery_codes '
       . 'passkeys password_history refresh_tokens remembered_devices schema_migrations '
       . 'sessions tokens users webauthn_challenges',
);
ok($LATEST >= 1 && $TABLES{$LATEST}, "the latest migration ($LATEST) is one this test knows")
    or diag("migrations: @migrations; add the tables of version $LATEST to %TABLES");

my ($rc, $out, $err) = admin(@db, qw(migrate status));
is($rc, 0, "[$driver] status on an empty database: exit 0") or diag($err);
like($out, qr/^current version: 0$/m, '... current version 0');
like($out, qr/^latest version:\s+$LATEST$/m, "... latest version $LATEST");
for my $name (@migrations) {
    like($out, qr/^\s+\Q$name\E$/m, "... $name pending");
}
is($tables->() =~ s/\s*schema_migrations\s*//r, '', '... created no table of ours');

($rc, $out, $err) = admin(@db, qw(migrate up));
is($rc, 0, "[$driver] up: exit 0") or diag($err);
like($out, qr/^applied $LATEST migration/m, "... applied $LATEST");
like($out, qr/^schema version now $LATEST$/m, "... version $LATEST");
is($tables->(), $TABLES{$LATEST} // '?', '... the tables exist');

($rc, $out, $err) = admin(@db, qw(migrate status));
is($rc, 0, "[$driver] status after up: exit 0");
like($out, qr/^up to date$/m, '... up to date');

($rc, $out, $err) = admin(@db, qw(migrate up));
is($rc, 0, "[$driver] up again: exit 0");
like($out, qr/^applied 0 migration/m, '... applies nothing');

($rc, $out, $err) = admin(@db, qw(migrate down), $LATEST + 1);
is($rc, 1, "[$driver] down to a version above the current one: exit 1");
like($err, qr/cannot roll back/, '... says why');

($rc, $out, $err) = admin(@db, qw(migrate down 0));
is($rc, 0, "[$driver] down 0: exit 0") or diag($err);
like($out, qr/^reverted $LATEST migration/m, "... reverted $LATEST");
like($out, qr/^schema version now 0$/m, '... version 0');
is($tables->() =~ s/\s*schema_migrations\s*//r, '', '... the tables are gone');

($rc, $out, $err) = admin(@db, qw(migrate status));
like($out, qr/^current version: 0$/m, "[$driver] status after down: version 0");

($rc, $out, $err) = admin(@db, qw(migrate up 1));
is($rc, 0, "[$driver] up 1 after down: exit 0");
is($tables->(), $TABLES{1}, '... the tables of version 1 are back');
if ($LATEST > 1) {
    ($rc, $out, $err) = admin(@db, qw(migrate status));
    like($out, qr/^current version: 1$/m, "[$driver] status: version 1");
    like($out, qr/^\s+\Q$migrations[1]\E$/m, "... $migrations[1] pending");
    ($rc, $out, $err) = admin(@db, qw(migrate up));
    is($rc, 0, "[$driver] up from 1: exit 0") or diag($err);
    like($out, qr/^applied ${\ ($LATEST - 1)} migration/m, '... applies the rest');
    is($tables->(), $TABLES{$LATEST} // '?', '... all the tables');
    ($rc, $out, $err) = admin(@db, qw(migrate down 1));
    is($rc, 0, "[$driver] down 1: exit 0") or diag($err);
    is($tables->(), $TABLES{1}, '... back to the tables of version 1');
}

# ---- usage errors: exit 2, nothing touched -------------------------------------------

for my $case ([[], 'no arguments'],
              [['migrate'], 'a group without a command'],
              [[@db, qw(migrate down)], 'down without a version'],
              [[@db, qw(migrate down x)], 'down with a non-number'],
              [[@db, qw(migrate down -1)], 'down with a negative version'],
              [[@db, qw(migrate sideways)], 'an unknown command'],
              [[@db, qw(frobnicate status)], 'an unknown group'],
              [['--driver', 'nosuch', '--params', 'x', qw(migrate status)], 'an unknown driver'],
              [['--bogus', qw(migrate status)], 'an unknown option']) {
    my ($args, $name) = @$case;
    ($rc, $out, $err) = admin(@$args);
    is($rc, 2, "usage error, $name: exit 2");
    ok(length $err, "... $name: says so on stderr");
}
is($tables->(), $TABLES{1}, 'usage errors changed nothing');

($rc, $out, $err) = admin(qw(migrate down --help));
is($rc, 0, 'migrate down --help: exit 0');
like($out . $err, qr/migrate down N/, '... prints the synopsis');

# An unreachable database: exit 1 with a message.
if ($driver eq 'sqlite3') {
    ($rc, $out, $err) = admin('--driver', 'sqlite3', '--params', '/nonexistent/dir/x.db',
                              qw(migrate status));
}
else {
    ($rc, $out, $err) = admin('--driver', 'pgsql', '--params', pg_admin_params('no_such_db_here'),
                              qw(migrate status));
}
is($rc, 1, "[$driver] an unreachable database: exit 1");
like($err, qr/cannot open|connect|does not exist/i, '... with the reason');

# ---- the live database (migrated by AuthsvcAutoMigrate) ------------------------------

{
    my @live = $backend eq 'pgsql'
        ? ('--driver', 'pgsql', '--params', pg_admin_params($ENV{AUTHSVC_PG_DB} || 'authsvc'))
        : ('--driver', 'sqlite3', '--params', catfile(serverroot(), 'state', 'authsvc.db'));
    ($rc, $out, $err) = admin(@live, qw(migrate status));
    is($rc, 0, 'status of the server\'s database: exit 0') or diag($err);
    like($out, qr/^up to date$/m, '... up to date (AuthsvcAutoMigrate On applied it)');
}

$cleanup->();
done_testing();
