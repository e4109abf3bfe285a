# SetHandler authsvc-health: ready or not, and why.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Spec::Functions qw(catfile);
use Test::More;
use AuthsvcTest;

sub iso_time_ok {
    my ($t, $name) = @_;
    my ($y, $mo, $d, $h, $mi, $s) = ($t // '') =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$/;
    ok(defined $s, "$name: ISO 8601 UTC") or return;
    require Time::Local;
    my $e = Time::Local::timegm($s, $mi, $h, $d, $mo - 1, $y);
    ok(abs($e - time) < 300, "$name: now");
}

my $c = client(prefix => '');

# The schema version this build needs: its number of migrations.
my $LATEST = () = glob catfile(serverroot(), '..', 'sql', 'sqlite', '*.up.sql');

{
    my $res = $c->get('/health');
    is($res->code, 200, 'health: 200');
    like($res->header('Content-Type') // '', qr{^application/json\b}, '... JSON');
    no_store_ok($res, '...');
    ok(!defined $res->header('Retry-After'), '... no Retry-After');
    my $b = json_body($res) || {};
    is_deeply([sort keys %$b],
              [qw(cache database mail probe schema_expected schema_version status time)],
              '... its members');
    is($b->{status}, 'ok', '... status ok');
    is($b->{probe}, 'ready', '... the readiness probe by default');
    is($b->{database}{status}, 'ok', '... database ok');
    is($b->{database}{driver}, backend() eq 'pgsql' ? 'pgsql' : 'sqlite3', '... its driver');
    like($b->{database}{latency_ms} // '', qr/^\d+$/, '... latency_ms a whole number');
    is($b->{schema_version}, $LATEST, "... schema_version $LATEST (the latest migration)");
    is($b->{schema_expected}, $LATEST, "... schema_expected $LATEST");
    is_deeply($b->{cache}, {status => 'ok', provider => 'shmcb'}, '... the cache answers');
    is($b->{mail}{status}, 'ok', '... mail ok');
    like($b->{mail}{queued} // '', qr/^\d+$/, '... mail queued a count');
    iso_time_ok($b->{time}, '... time');

    $res = $c->head('/health');
    is($res->code, 200, 'HEAD /health: 200');
    is($res->content, '', '... no body');
    is($c->get('/health?verbose=1')->code, 200, 'another query parameter is ignored');
    $res = $c->get('/health?probe=ready');
    is($res->code, 200, 'probe=ready: 200');
    is((json_body($res) || {})->{probe}, 'ready', '... the readiness answer');
}

# probe=live answers without the database: its members are only these.
{
    my $res = $c->get('/health?probe=live');
    is($res->code, 200, 'probe=live: 200');
    no_store_ok($res, '...');
    my $b = json_body($res) || {};
    is_deeply([sort keys %$b], [qw(probe status time)], '... status, probe and time only');
    is($b->{status}, 'ok', '... ok');
    iso_time_ok($b->{time}, '... time');
}

# A probe we do not know is refused, not taken for readiness.
for my $p ('bogus', 'LIVE', '') {
    my $res = $c->get("/health?probe=$p");
    my $pb = problem_ok($res, 422, 'validation_failed', "probe=$p");
    fields_ok($pb, {probe => 'invalid'}, "probe=$p: the field");
}

# Mail waiting longer than 15 minutes makes the node degraded, still ready (200).
{
    my $old = time - 3600;
    db_do("INSERT INTO mail_outbox (created_at, template, transport, sender, recipient, "
          . "message, status, attempts, next_attempt_at) VALUES ($old, 'health', "
          . "'file:/nonexistent', 'a\@example.test', NULL, NULL, 'queued', 0, "
          . (time + 86400 * 365) . ')');
    my $res = $c->get('/health');
    is($res->code, 200, 'a stale mail queue: still 200');
    my $b = json_body($res) || {};
    is($b->{status}, 'degraded', '... status degraded');
    is($b->{mail}{status}, 'delayed', '... mail delayed');
    cmp_ok($b->{mail}{queued} // 0, '>=', 1, '... the message counted');
    cmp_ok($b->{mail}{oldest_age_seconds} // 0, '>=', 3600, '... its age');
    db_do("DELETE FROM mail_outbox WHERE template = 'health'");
    is((json_body($c->get('/health')) || {})->{mail}{status}, 'ok', '... ok once it is gone');
}

# The server uses the backend under test (tools/dev/test.sh: -defines AUTHSVC_PGSQL and
# AUTHSVC_PG_PARAMS for PostgreSQL).
{
    my $sqlite = catfile(serverroot(), 'state', 'authsvc.db');
    my ($res, $f) = client()->register();
    is($res->code, 201, 'an account registered through the server');
    ok(user_row($f->{email}), '... is in the ' . backend() . ' database the tests read');
    if (backend() eq 'pgsql') {
        ok(!-e $sqlite, '... and no SQLite file was created');
    }
    else {
        ok(-s $sqlite, '... the SQLite file under t/state');
    }
}

# Another vhost with the same database is healthy too.
is(client(vhost => 'idle', prefix => '')->get('/health')->code, 200, 'health on another vhost');

# A database without the schema and AuthsvcAutoMigrate Off.
{
    my $res = client(vhost => 'nodb', prefix => '')->get('/health');
    is($res->code, 503, 'health without the schema: 503');
    like($res->header('Content-Type') // '', qr{^application/json\b}, '... JSON');
    no_store_ok($res, '...');
    like($res->header('Retry-After') // '', qr/^\d+$/, '... Retry-After');
    my $b = json_body($res) || {};
    is($b->{status}, 'unavailable', '... status unavailable');
    is($b->{database}{status}, 'unavailable', '... database unavailable');
    ok(!defined $b->{schema_version} || $b->{schema_version} == 0,
       '... schema_version 0 or null');
    iso_time_ok($b->{time}, '... time');
}

# A database that does not answer: not ready (503), but alive.
{
    my $d = client(vhost => 'deaddb', prefix => '');
    my $res = $d->get('/health');
    is($res->code, 503, 'the database down: 503');
    like($res->header('Retry-After') // '', qr/^\d+$/, '... Retry-After');
    my $b = json_body($res) || {};
    is($b->{status}, 'unavailable', '... status unavailable');
    is($b->{database}{status}, 'unavailable', '... database unavailable');
    is($b->{database}{driver}, 'pgsql', '... its driver');
    is($b->{mail}{status}, 'unknown', '... the mail queue unknown');
    ok(!defined $b->{schema_version}, '... schema_version null');
    $res = $d->get('/health?probe=live');
    is($res->code, 200, '... yet probe=live: 200');
    is((json_body($res) || {})->{status}, 'ok', '... alive');
}

# The start-up line saying what is wrong and how to fix it.
my $log = error_log_since(0);
like($log, qr/database schema is at version 0 but this mod_authsvc needs $LATEST\b.*authsvc-admin.*migrate up/,
     'the error log says the schema is behind and names the fix');

done_testing();
