# docs/operations.md, "Moving from SQLite to PostgreSQL": the script of step 3, taken
# from the page as printed, copies a SQLite database of the latest schema into a
# migrated, empty PostgreSQL one. Every table of the schema gets rows with awkward
# values (NULL and the empty string, quotes, commas, a new line, non-ASCII, integers
# near the top of their PostgreSQL type); after the copy every table holds the same
# rows on both sides, the ids of audit_log and mail_outbox go on after the copied ones,
# and a second run fails and changes nothing.
#
# It needs the suite's PostgreSQL: the PostgreSQL event run only (once is enough).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Cwd ();
use File::Basename qw(dirname);
use File::Spec::Functions qw(catfile);
use File::Temp ();
use JSON::PP ();
use Test::More;
use AuthsvcTest;

plan skip_all => 'copies into PostgreSQL: PostgreSQL runs only' unless backend() eq 'pgsql';
plan skip_all => 'runs once, on the PostgreSQL event run'
    unless (Apache::Test::config()->{server}{mpm} // '') eq 'event';
plan skip_all => 'no sqlite3 command' unless system('sqlite3 -version >/dev/null 2>&1') == 0;

my $JSON = JSON::PP->new->canonical;

# ---- the script, as the page prints it ---------------------------------------------------

my $page = catfile($FindBin::Bin, '..', 'docs', 'operations.md');
my $text = do { local (@ARGV, $/) = ($page); <> } // '';
my ($block) = grep { /# sqlite-to-pgsql\.sh / } $text =~ /^ *```sh\n(.*?)^ *```$/msg;
ok($block, 'docs/operations.md prints the script sqlite-to-pgsql.sh') or BAIL_OUT('no script');
my ($indent) = $block =~ /^( *)/;
$block =~ s/^$indent//mg;    # as the reader saves it: the list item's indent off

my $dir = File::Temp::tempdir('s2p-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $script = catfile($dir, 'sqlite-to-pgsql.sh');
open(my $fh, '>', $script) or die "$script: $!";
print {$fh} $block;
close $fh;

# ---- a SQLite file of the latest schema, rows in every table --------------------------------

my $file = catfile($dir, 'authsvc.db');
my ($rc, $out, $err) = run_admin('--driver', 'sqlite3', '--params', $file, 'migrate', 'up');
is($rc, 0, 'the SQLite file migrated') or diag($err);
my ($pg_args, $drop) = scratch_db('s2p');
($rc, $out, $err) = run_admin(@$pg_args, 'migrate', 'up');
is($rc, 0, 'the PostgreSQL database migrated') or diag($err);
my $sq = ['--driver', 'sqlite3', '--params', $file];

sub sq_rows { scratch_rows($sq, $_[0]) }
sub pg_rows { scratch_rows($pg_args, $_[0]) }

my @tables = map { $_->{name} } @{ sq_rows("SELECT name FROM sqlite_master WHERE type = 'table' "
    . "AND name NOT LIKE 'sqlite%' AND name <> 'schema_migrations' ORDER BY name") };
ok(scalar(grep { $_ eq 'users' } @tables) && @tables >= 10, 'the tables: ' . join(' ', @tables));

# The PostgreSQL columns' types (integer or bigint).
my %PG_TYPE = map { ("$_->{table_name}.$_->{column_name}" => $_->{data_type}) }
    @{ pg_rows("SELECT table_name, column_name, data_type FROM information_schema.columns "
               . "WHERE table_schema = 'public'") };

# The values a CHECK allows; user_id columns name one of the three users.
my %ALLOWED = ('users.status' => 'active', 'tokens.purpose' => 'verify_email',
               'mail_outbox.status' => 'queued');
my $odd = qq{a,"b" 'c'\nd \x{e9}\x{2603}};

# Row $k (1 to 3) of $table: 1 has every column set, 2 has NULL in every column that
# may be NULL, 3 has the empty string (and 0) there.
sub row_values {
    my ($table, $cols, $k) = @_;
    my %v;
    for my $c (@$cols) {
        my ($name, $int) = ($c->{name}, $c->{type} =~ /INT/i);
        my $nullable = !$c->{notnull} && !$c->{pk};
        my $v;
        if ($name eq 'user_id' || ($table eq 'users' && $name eq 'id')) {
            $v = "user-$k";
        }
        elsif (exists $ALLOWED{"$table.$name"}) {
            $v = $ALLOWED{"$table.$name"};
        }
        elsif ($nullable && $k == 2) {
            $v = undef;
        }
        elsif ($nullable && $k == 3) {
            $v = $int ? 0 : '';
        }
        elsif ($int) {
            # Near the top of the PostgreSQL column's type: past 32 bits for a BIGINT.
            $v = $c->{pk} ? $k : ($PG_TYPE{"$table.$name"} // '') eq 'bigint'
                ? 4_000_000_000 + $k : 2_000_000_000 + $k;
        }
        else {
            $v = "$name $k $odd";
        }
        $v{$name} = $v;
    }
    return \%v;
}

my %cols;
for my $t (@tables) {
    $cols{$t} = sq_rows("SELECT name, type, \"notnull\", pk FROM pragma_table_info('$t')");
}
my @sql;
for my $t ('users', grep { $_ ne 'users' } @tables) {
    for my $k (1 .. 3) {
        my $v = row_values($t, $cols{$t}, $k);
        my @names = map { $_->{name} } @{ $cols{$t} };
        push @sql, "INSERT INTO $t (" . join(', ', @names) . ') VALUES ('
            . join(', ', map { my $x = $v->{$_}; defined $x && $x =~ /^\d+$/ ? $x : sql_str($x) } @names)
            . ');';
    }
}
{
    open(my $sql, '|-', 'sqlite3', '-bail', '-batch', $file) or die "sqlite3: $!";
    binmode $sql, ':encoding(UTF-8)';
    print {$sql} "PRAGMA foreign_keys = ON;\nBEGIN;\n", join("\n", @sql), "\nCOMMIT;\n";
    close $sql;
    is($?, 0, 'three rows written to every table of the SQLite file');
}

# ---- the copy ---------------------------------------------------------------------------

my $pg_params = $pg_args->[3];
my $psql_dir = dirname((pg_psql())[0]);
# (From a shell whose locale is Latin-1: the script must still send UTF-8.)
sub copy_once {
    my $work = File::Temp::tempdir('run-XXXXXX', DIR => $dir);
    my $cmd = "cd '$work' && PATH='$psql_dir':\"\$PATH\" PGCLIENTENCODING=LATIN1 "
        . "sh '$script' '$file' '$pg_params' 2>&1";
    my $o = `$cmd`;
    return ($? >> 8, $o);
}

my ($code, $o) = copy_once();
is($code, 0, 'the script ran') or diag($o);

# The rows of a table in an order of their own (the two sort NULL and text apart).
sub rows_of {
    my ($rows) = @_;
    return [sort { $JSON->encode($a) cmp $JSON->encode($b) } @$rows];
}
for my $t (@tables) {
    my $want = rows_of(sq_rows("SELECT * FROM $t"));
    my $got = rows_of(pg_rows("SELECT * FROM $t"));
    is(scalar @$got, 3, "$t: 3 rows in PostgreSQL");
    is_deeply($got, $want, "$t: the same rows on both sides (NULL, '', quotes, new line, "
              . 'non-ASCII, big integers)')
        or diag('sqlite: ' . $JSON->encode($want) . "\npgsql:  " . $JSON->encode($got));
}

# The ids of the two tables with a sequence go on after the copied ones.
for my $t (qw(audit_log mail_outbox)) {
    my $next = pg_rows("SELECT nextval(pg_get_serial_sequence('$t', 'id')) AS n")->[0]{n};
    my $max = sq_rows("SELECT max(id) AS n FROM $t")->[0]{n};
    ok($next > $max, "$t: the next id ($next) comes after the copied ones ($max)");
}

# A second run: the rows are there already, so it fails, and in one transaction.
my $before = { map { $_ => pg_rows("SELECT count(*) AS n FROM $_")->[0]{n} } @tables };
($code, $o) = copy_once();
isnt($code, 0, 'a second run fails (the rows are there)');
is_deeply({ map { $_ => pg_rows("SELECT count(*) AS n FROM $_")->[0]{n} } @tables }, $before,
          '... and changes nothing');

$drop->();
done_testing();
