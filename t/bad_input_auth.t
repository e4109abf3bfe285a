# Hostile input on every route that needs no session: the sign-in, registration, token
# and lifecycle endpoints of the JSON API and the forms of the pages (issue 10; the
# table and the hostile values are in t/lib/AuthsvcBadInput.pm).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::INET ();
use Test::More;
use AuthsvcTest;
use AuthsvcBadInput;

my $mark = error_log_mark();
my $fx = fixtures();

# The table is the router's: every route that reads a body is in it, each in one file.
{
    my ($n, $missing, $shares) = route_coverage();
    ok($n > 30, "src/router.c read: $n routes with a body method");
    is_deeply($missing, [], 'every route that reads a body is in the table');
    is_deeply($shares, [], 'every table route is in exactly one of the three files');
}

my @names = route_names('auth');
ok(@names > 10, 'routes of this file: ' . scalar @names);
run_route($fx, $_) for @names;

# Chunked bodies, as a client writes them on the wire: one over the limit (413, the
# connection closed), malformed chunk sizes (a 4xx, from httpd or from us), a chunked
# body of broken JSON (400 invalid_json).
{
    my $hp = AuthsvcTest::hostport('badinput');
    my $raw = sub {
        my ($body, $path) = @_;
        my $s = IO::Socket::INET->new(PeerAddr => $hp, Timeout => 30) or return 'no connection';
        print $s "POST " . ($path // '/api/auth/login') . " HTTP/1.1\r\nHost: $hp\r\nContent-Type: application/json\r\n"
            . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n$body";
        # The client is done: a body shorter than it said ends here, not at a timeout.
        shutdown($s, 1);
        local $/;
        my $res = <$s> // '';
        close $s;
        return $res;
    };
    my $big = join '', map { sprintf("%x\r\n%s\r\n", 1000, 'a' x 1000) } 1 .. 300;
    my @cases = (
        ['over the limit (300 KB to a 256-byte location)', $big . "0\r\n\r\n", 413, '/small/auth/login'],
        # (httpd's own answers: 400, or 413 for a size beyond any limit)
        ['a chunk size of letters', "zz\r\nabc\r\n0\r\n\r\n", '4..'],
        ['a chunk size of 2^64', "10000000000000000\r\nabc\r\n0\r\n\r\n", '4..'],
        ['a chunk shorter than its size', "10\r\n{}\r\n0\r\n\r\n", '4..'],
        ['broken JSON', "1\r\n{\r\n0\r\n\r\n", 400],
        ['a NUL in a chunk', "3\r\n{\0}\r\n0\r\n\r\n", 400],
    );
    my @bad;
    for my $c (@cases) {
        my ($name, $body, $want, $path) = @$c;
        my $res = $raw->($body, $path);
        my ($st) = $res =~ m{^HTTP/1\.1 (\d{3})};
        push @bad, "$name: " . ($st // 'no answer') . ' ' . substr($res, 0, 200) unless ($st // 0) =~ /^$want$/;
    }
    ok(!@bad, 'chunked bodies: ' . scalar(@cases) . ' cases') or diag(join "\n", @bad);
    alive_ok('chunked bodies');
}

my $log = error_log_since($mark);
ok($log !~ /exit signal|Segmentation|AddressSanitizer/, 'no child crashed')
    or diag(join "\n", grep { /exit signal|Segmentation|AddressSanitizer/ } split /\n/, $log);

done_testing();
