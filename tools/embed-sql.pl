#!/usr/bin/perl
# embed-sql.pl — turn sql/<dir>/NNNN_name.{up,down}.sql into a C file.
#
# Usage: tools/embed-sql.pl [--sql-dir DIR] OUTPUT.c
#   DIR defaults to the sql/ directory next to this script's tools/.
#   The Makefile runs it to generate src/migrations_data.c (not committed).
#
# The output defines one array of authsvc_migration_t per driver, sorted by
# version, and authsvc_migrate_list() (see src/migrate.h). It refuses, with a
# message and exit status 1, anything the runner could not apply safely:
#   - a file name other than NNNN_name.up.sql / NNNN_name.down.sql
#     (name: [a-z0-9_]+; hidden files are ignored), or version 0000;
#   - two files for one version and direction (duplicate numbering);
#   - an up without a down or a down without an up;
#   - a gap in the numbering (versions must be 1..N);
#   - the drivers disagreeing on the list of versions or their names;
#   - a script breaking the statement rules in src/migrate.h: no statement,
#     text after the last ';', a ';' followed by a comment on the same line,
#     or a statement that is transaction control or a PRAGMA.
# The output is written to OUTPUT.tmp and renamed, so a failed run never
# leaves a half-written file behind for make to take as up to date.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use Getopt::Long qw(GetOptions);

# apr_dbd driver name => directory under sql/ (order = order in the output)
my @DRIVERS = ([ 'sqlite3', 'sqlite' ], [ 'pgsql', 'pgsql' ]);

my @errors;
sub problem { push @errors, join('', @_) }

sub usage {
    print STDERR "usage: $0 [--sql-dir DIR] OUTPUT.c\n";
    exit 2;
}

my $sql_dir = File::Spec->catdir(dirname(File::Spec->rel2abs($0)), '..', 'sql');
GetOptions('sql-dir=s' => \$sql_dir) or usage();
usage() unless @ARGV == 1;
my $output = $ARGV[0];

sub slurp {
    my ($path) = @_;
    open(my $fh, '<:raw', $path) or die "embed-sql: cannot read $path: $!\n";
    local $/;
    my $text = <$fh>;
    close($fh);
    return $text;
}

# Same splitting as authsvc_migrate_split() in src/migrate.c: comment lines
# dropped, a statement ends at a line whose last non-blank character is ';'.
sub check_script {
    my ($path, $text) = @_;
    my ($stmt, $count, $lineno) = ('', 0, 0);
    for my $line (split /\n/, $text, -1) {
        $lineno++;
        next if $line =~ /^\s*--/;
        if ($line =~ /;\s*--/) {
            problem("$path:$lineno: ';' followed by a comment: put the "
                    . "comment on its own line");
        }
        $stmt .= "$line\n";
        next unless $line =~ /;\s*$/;
        if ($stmt =~ /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|VACUUM)\b/i) {
            problem("$path:$lineno: '\U$1\E' is not allowed in a migration: "
                    . "the runner owns the transaction, and connection "
                    . "settings belong to DBDInitSQL");
        }
        $count++ if $stmt =~ /\S/;
        $stmt = '';
    }
    if ($stmt =~ /\S/) {
        problem("$path: text after the last statement (every statement must "
                . "end with ';' at the end of a line)");
    }
    problem("$path: no SQL statement") unless $count;
}

# Read one driver's directory: { version => { name, up, down } }.
sub read_dir {
    my ($dir) = @_;
    my %m;
    opendir(my $dh, $dir) or die "embed-sql: cannot open $dir: $!\n";
    for my $file (sort readdir($dh)) {
        next if $file =~ /^\./;
        my $path = "$dir/$file";
        my ($num, $name, $dir_kind) =
            $file =~ /^([0-9]{4})_([a-z0-9_]+)\.(up|down)\.sql$/;
        if (!defined $num) {
            problem("$path: bad file name (want NNNN_name.up.sql or "
                    . "NNNN_name.down.sql, name of [a-z0-9_])");
            next;
        }
        my $version = $num + 0;
        if ($version == 0) {
            problem("$path: versions start at 0001");
            next;
        }
        my $e = $m{$version} //= { name => $name, files => {} };
        if (exists $e->{files}{$dir_kind} || $e->{name} ne $name) {
            problem("$path: duplicate version $num (also "
                    . join(', ', map { "$e->{files}{$_}" } sort keys %{ $e->{files} })
                    . ")");
            next;
        }
        $e->{files}{$dir_kind} = $path;
        $e->{$dir_kind} = slurp($path);
        check_script($path, $e->{$dir_kind});
    }
    closedir($dh);
    for my $v (sort { $a <=> $b } keys %m) {
        for my $need ('up', 'down') {
            next if exists $m{$v}{files}{$need};
            my $have = (values %{ $m{$v}{files} })[0];
            problem("$have: no matching .$need.sql");
        }
    }
    my @versions = sort { $a <=> $b } keys %m;
    problem("$dir: no migrations") unless @versions;
    for my $i (0 .. $#versions) {
        if ($versions[$i] != $i + 1) {
            problem(sprintf("%s: gap in numbering: expected %04d, found %04d",
                            $dir, $i + 1, $versions[$i]));
            last;
        }
    }
    return \%m;
}

sub listing {
    my ($m) = @_;
    return join(' ', map { sprintf('%04d_%s', $_, $m->{$_}{name}) }
                     sort { $a <=> $b } keys %$m);
}

# C string literal, one source line per SQL line. Octal escapes are always
# three digits, and "??" is broken up so no trigraph can form.
sub c_string {
    my ($text, $indent) = @_;
    return '""' if $text eq '';
    my @lines = split /(?<=\n)/, $text;
    my @out;
    for my $line (@lines) {
        my $s = '';
        my $prev = '';
        for my $ch (split //, $line) {
            my $o = ord($ch);
            if    ($ch eq '\\') { $s .= '\\\\' }
            elsif ($ch eq '"')  { $s .= '\\"' }
            elsif ($ch eq "\n") { $s .= '\\n' }
            elsif ($ch eq "\t") { $s .= '\\t' }
            elsif ($ch eq '?' && $prev eq '?') { $s .= '\\?' }
            elsif ($o < 0x20 || $o >= 0x7f) { $s .= sprintf('\\%03o', $o) }
            else { $s .= $ch }
            $prev = $ch;
        }
        push @out, "\"$s\"";
    }
    return join("\n$indent", @out);
}

my %by_driver;
for my $d (@DRIVERS) {
    my ($driver, $dir) = @$d;
    $by_driver{$driver} = read_dir("$sql_dir/$dir");
}
my ($first, @others) = map { $_->[0] } @DRIVERS;
for my $other (@others) {
    my ($x, $y) = (listing($by_driver{$first}), listing($by_driver{$other}));
    next if $x eq $y;
    problem("drivers disagree on the migrations: $first has [$x], "
            . "$other has [$y]");
}
if (@errors) {
    print STDERR "embed-sql: $_\n" for @errors;
    print STDERR "embed-sql: $output not written\n";
    exit 1;
}

my $c = <<'EOT';
/* Generated by tools/embed-sql.pl from sql/: do not edit, do not commit.
 * The migrations for each apr_dbd driver, sorted by version (1..N). */
#include <string.h>

#include "migrate.h"

EOT
for my $d (@DRIVERS) {
    my ($driver, $dir) = @$d;
    my $m = $by_driver{$driver};
    $c .= "static const authsvc_migration_t migrations_$driver\[] = {\n";
    for my $v (sort { $a <=> $b } keys %$m) {
        my $e = $m->{$v};
        my $ind = ' ' x 6;
        $c .= "    { $v, \"$e->{name}\",\n"
            . "      /* sql/$dir/" . sprintf('%04d', $v) . "_$e->{name}.up.sql */\n"
            . "      " . c_string($e->{up}, $ind) . ",\n"
            . "      /* sql/$dir/" . sprintf('%04d', $v) . "_$e->{name}.down.sql */\n"
            . "      " . c_string($e->{down}, $ind) . " },\n";
    }
    $c .= "};\n\n";
}
$c .= <<'EOT';
/* The migrations for a driver and their number; NULL and 0 when unknown. */
const authsvc_migration_t *authsvc_migrate_list(const char *driver_name,
                                                int *count)
{
    int n = 0;
    const authsvc_migration_t *list = NULL;

EOT
my $kw = 'if';
for my $d (@DRIVERS) {
    my ($driver) = @$d;
    $c .= "    $kw (driver_name && strcmp(driver_name, \"$driver\") == 0) {\n"
        . "        list = migrations_$driver;\n"
        . "        n = (int)(sizeof(migrations_$driver) / sizeof(migrations_$driver\[0]));\n"
        . "    }\n";
    $kw = 'else if';
}
$c .= <<'EOT';
    if (count) {
        *count = n;
    }
    return list;
}
EOT

my $tmp = "$output.tmp";
open(my $out, '>', $tmp) or die "embed-sql: cannot write $tmp: $!\n";
print $out $c;
if (!close($out) || !rename($tmp, $output)) {
    my $err = $!;
    unlink($tmp);
    die "embed-sql: cannot write $output: $err\n";
}
exit 0;
