# Session lifetimes: AuthsvcSessionIdleTimeout and AuthsvcSessionMaxAge, with short
# values on two vhosts (idle: 5s idle, 1h max; absolute: 5s idle, 8s max). The idle
# clock is written at most every min(60s, idle/2) = 2s here. Stamps are whole seconds,
# so a session made at T has at least 7 real seconds of its 8; the checks leave 4 of
# them to the time a loaded machine takes between the one-second steps.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Time::HiRes qw(sleep);
use Test::More;
use AuthsvcTest;

sub signed_in_on {
    my ($vhost) = @_;
    my $c = client(vhost => $vhost);
    my ($f, $u) = $c->signed_in();
    return ($c, $u);
}

my ($kept, $ku)   = signed_in_on('idle');    # used every second: stays alive
my ($idle, $iu)   = signed_in_on('idle');    # left alone: idles out
my ($abs, $au)    = signed_in_on('absolute'); # used every second: ends at 8s anyway

{
    my $s = session_rows($ku->{id})->[0];
    is($s->{idle_expires_at} - $s->{created_at}, 5, 'idle vhost: idle expiry 5s after creation');
    is($s->{expires_at} - $s->{created_at}, 3600, 'idle vhost: absolute expiry 1h');
    $s = session_rows($au->{id})->[0];
    is($s->{expires_at} - $s->{created_at}, 8, 'absolute vhost: absolute expiry 8s');
    is($s->{idle_expires_at} - $s->{created_at}, 5, 'absolute vhost: idle expiry 5s');
}

# Activity every second keeps the idle clock moving; the session nobody uses is gone
# after its 5 idle seconds; the absolute limit holds despite activity.
for my $i (1 .. 9) {
    sleep 1;
    is($kept->get('/users/me')->code, 200, "idle vhost, used at ~${i}s: 200");
    is($abs->get('/users/me')->code, 200, "absolute vhost, used at ~${i}s: 200") if $i <= 3;
    if ($i == 6) {
        problem_ok($idle->get('/users/me'), 401, 'unauthenticated', 'unused session after ~6s');
        is($idle->get('/private/', abs => 1)->code, 401, '... /private/ too');
        my $s = session_rows($ku->{id})->[0];
        ok($s->{last_seen_at} > $s->{created_at}, 'last_seen_at was written');
        ok($s->{idle_expires_at} - $s->{created_at} > 5, 'idle_expires_at moved on');
        ok($s->{idle_expires_at} <= $s->{expires_at}, '... never past expires_at');
    }
}
problem_ok($abs->get('/users/me'), 401, 'unauthenticated',
           'absolute vhost after ~9s, used every second');
{
    my $s = session_rows($au->{id})->[0];
    ok($s->{idle_expires_at} <= $s->{expires_at},
       '... its idle expiry was capped at the absolute one');
}
is($kept->get('/users/me')->code, 200, 'the idle vhost session used all along is alive at ~9s');

# Both sign in again after expiry.
{
    my $c = client(vhost => 'absolute');
    my ($f2) = $c->signed_in();
    is($c->get('/users/me')->code, 200, 'a new login after expiry works');
}

done_testing();
