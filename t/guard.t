# "Require authsvc": a static page only a signed-in user sees, with r->user set.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

my $c = client();

is($c->get('/index.html', abs => 1)->code, 200, 'the public page needs no session');

for my $case (['no cookie', undef], ['a malformed token', 'authsvc=xyz'],
              ['an unknown token', 'authsvc=' . ('C' x 43)]) {
    my ($name, $cookie) = @$case;
    my %o = defined $cookie ? (cookie => $cookie) : (no_cookie => 1);
    my $res = $c->get('/private/', abs => 1, %o);
    is($res->code, 401, "/private/ with $name: 401");
    unlike($res->content, qr/authsvc-private-page/, "... $name: the page is not sent");
    is($res->header('WWW-Authenticate'), 'Authsvc', "... $name: WWW-Authenticate: Authsvc");
}

my ($f, $user) = $c->signed_in();
my $res = $c->get('/private/', abs => 1);
is($res->code, 200, '/private/ with a session: 200');
like($res->content, qr/authsvc-private-page/, '... the page');
$res = $c->get('/private/index.html', abs => 1);
is($res->code, 200, '/private/index.html: 200');

$res = $c->get('/private/whoami.shtml', abs => 1);
is($res->code, 200, 'an SSI page under /private: 200');
like($res->content, qr/user=\Q$user->{email}\E;/, '... REMOTE_USER is the email');
like($res->content, qr/type=authsvc;/, '... AUTH_TYPE is authsvc');

$res = $c->get('/private/missing.html', abs => 1);
is($res->code, 404, 'a missing file under /private with a session: 404');
$res = $c->get('/private/missing.html', abs => 1, no_cookie => 1);
is($res->code, 401, '... and 401 without one (no existence leak)');

# Another vhost reads the same sessions (same database, same cookie name).
is(client(vhost => 'idle')->get('/private/', abs => 1, cookie => $c->cookie_header)->code, 200,
   'the session works on another vhost of the same server');

$c->post('/auth/logout');
is($c->get('/private/', abs => 1, cookie => 'authsvc=' . ($c->jar->{authsvc} // ''))->code,
   401, 'after logout: 401');

# Without the database the guard cannot decide: 503, not 401 or 200.
is(client(vhost => 'nodb')->get('/private/', abs => 1, cookie => 'authsvc=' . ('D' x 43))->code,
   503, '/private/ with a session cookie on a server without its schema: 503');
is(client(vhost => 'nodb')->get('/private/', abs => 1, no_cookie => 1)->code, 401,
   '... and 401 without any cookie (nothing to look up)');

done_testing();
