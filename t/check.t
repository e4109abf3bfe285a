# GET /auth/check: forward authentication for nginx auth_request / Traefik forwardAuth.
# 200 {user} with the identity in response headers when the session cookie is live and
# meets ?role= / ?user= / ?verified; 403 when it does not; 401 without a session; 422
# for an unknown or empty parameter. Also under /fa (AuthsvcRemoteUser id,
# AuthsvcHeaderPrefix X-Auth-).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my @IDH = qw(Remote-User Remote-Email Remote-Name Remote-Groups);

my ($c, $f, $u) = account(username => unique_username('ck'), first_name => 'Grace',
                          last_name => 'Hopper', roles => 'admin ops', verified => 1);
my ($n, $nf, $nu) = account();   # unverified, no roles, no names
my $anon = client();

# ---- 200 -----------------------------------------------------------------------------------

sub granted {
    my ($cl, $query, $name) = @_;
    my $res = $cl->get("/auth/check$query");
    is($res->code, 200, "$name: 200") or diag($res->content);
    return $res;
}

{
    my $res = granted($c, '', 'a live session');
    like($res->header('Content-Type') // '', qr{^application/json}, '... JSON');
    my $b = json_body($res) || {};
    is_deeply([sort keys %$b], ['user'], '... {user}');
    is($b->{user}{id}, $u->{id}, '... user.id');
    is($b->{user}{email}, $u->{email}, '... user.email');
    is_deeply($b->{user}{roles}, [qw(admin ops)], '... user.roles');
    ok($b->{user}{email_verified}, '... user.email_verified');
    is($res->header('Remote-User'), $u->{email}, '... Remote-User: the email');
    is($res->header('Remote-Email'), $u->{email}, '... Remote-Email');
    is($res->header('Remote-Name'), 'Grace Hopper', '... Remote-Name');
    is($res->header('Remote-Groups'), 'admin,ops', '... Remote-Groups: the roles, comma-separated');
    ok(!defined $res->header('Set-Cookie'), '... no Set-Cookie');

    $res = granted($n, '', 'an account without names or roles');
    is($res->header('Remote-User'), $nu->{email}, '... Remote-User');
    is($res->header('Remote-Groups') // '', '', '... Remote-Groups empty');
    is_deeply((json_body($res) || {})->{user}{roles}, [], '... user.roles []');
}

# ---- requirements in the query ------------------------------------------------------------

granted($c, '?role=admin', '?role=admin with it');
granted($c, '?role=nobody,ops', '?role=a,b: any of them');
granted($c, '?role=nobody&role=admin', '?role=a&role=b: any of them');
granted($c, '?role=ad%6Din', '?role= URL-encoded');
granted($c, '?verified', '?verified, verified');
granted($c, '?verified&role=ops', '?verified&role=ops: both hold');
granted($c, "?user=$u->{id}", '?user=ID');
granted($c, '?user=' . uc($u->{id}), '?user=ID in upper case');
granted($c, "?user=$f->{username}", '?user=USERNAME');
granted($c, '?user=' . uc($f->{username}), '?user=USERNAME in upper case');
granted($c, '?user=' . uc($u->{email} =~ s/\@/%40/r), '?user=EMAIL, encoded, in upper case');
granted($c, "?user=nobody,$u->{email}", '?user=a,b: any of them');
granted($c, "?user=nobody&user=$u->{email}&role=ops", '?user=a&user=b&role=');

sub forbidden {
    my ($cl, $query, $name) = @_;
    my $res = $cl->get("/auth/check$query");
    problem_ok($res, 403, 'forbidden', $name);
    ok(!grep({ defined $res->header($_) } @IDH), "$name: no identity headers");
    return $res;
}

forbidden($n, '?role=admin', '?role=admin without it');
forbidden($c, '?role=adm', '?role= a prefix of a role');
forbidden($c, '?role=admin%20ops', '?role= two roles in one name');
forbidden($n, '?verified', '?verified, unverified');
forbidden($c, '?verified&role=nobody', '?verified&role=: one of them fails');
forbidden($c, "?user=$nu->{email}", '?user= someone else');
forbidden($n, "?user=$u->{id}", '?user= another id');
forbidden($n, "?role=nobody&user=$nu->{email}", '?role&user: the role fails');

# ---- bad queries ------------------------------------------------------------------------------

for my $q ('?bogus=1', '?role=', '?role', '?user=', '?user', '?Role=admin', '?role=admin&x=1',
           '?role=%zz', '?=admin') {
    problem_ok($c->get("/auth/check$q"), 422, 'validation_failed', "query '$q'");
}
granted($c, '?', 'an empty query');

# ---- no session -----------------------------------------------------------------------------

for my $case (['no cookie', undef], ['an unknown token', 'authsvc=' . ('Z' x 43)],
              ['a malformed token', 'authsvc=abc']) {
    my ($name, $cookie) = @$case;
    my %o = defined $cookie ? (cookie => $cookie) : (no_cookie => 1);
    for my $q ('', '?role=admin') {
        my $res = $anon->get("/auth/check$q", %o);
        problem_ok($res, 401, 'unauthenticated', "$name, query '$q'");
        ok(!grep({ defined $res->header($_) } @IDH), "$name, query '$q': no identity headers");
    }
}
# Client-sent identity headers mean nothing here.
{
    my $res = $anon->get('/auth/check', headers => ['Remote-User' => $u->{email},
                                                    'Remote-Groups' => 'admin']);
    problem_ok($res, 401, 'unauthenticated', 'no cookie but Remote-User sent');
    ok(!defined $res->header('Remote-User'), '... not echoed');
}

# The session ended: 401 at once (the cache does not keep it alive).
{
    my $other = client();
    is($other->login($nf->{email}, $nf->{password})->code, 200, 'a second session');
    is($other->get('/auth/check')->code, 200, '... checked: 200');
    my $old = $other->cookie_header;
    is($other->post('/auth/logout')->code, 204, '... logged out');
    problem_ok($other->get('/auth/check', cookie => $old), 401, 'unauthenticated',
               'the logged-out cookie');
    is($n->get('/auth/check')->code, 200, 'the first session still checks');
}

# ---- methods ----------------------------------------------------------------------------------

{
    my $res = $c->head('/auth/check');
    is($res->code, 200, 'HEAD: 200');
    is($res->header('Remote-User'), $u->{email}, '... with the identity headers');
    $res = $c->post('/auth/check', {});
    problem_ok($res, 405, 'method_not_allowed', 'POST /auth/check');
    like($res->header('Allow') // '', qr/\bGET\b/, '... Allow names GET');
}

# ---- another mount: AuthsvcRemoteUser id, AuthsvcHeaderPrefix X-Auth- -------------------------

{
    my $fa = client(prefix => '/fa');
    my $res = $fa->get('/auth/check?role=ops', cookie => $c->cookie_header);
    is($res->code, 200, '/fa/auth/check: 200');
    is($res->header('X-Auth-User'), $u->{id}, '... X-Auth-User: the id');
    is($res->header('X-Auth-Email'), $u->{email}, '... X-Auth-Email');
    is($res->header('X-Auth-Name'), 'Grace Hopper', '... X-Auth-Name');
    is($res->header('X-Auth-Groups'), 'admin,ops', '... X-Auth-Groups');
    ok(!defined $res->header('Remote-User'), '... no Remote-User');
    problem_ok($fa->get('/auth/check', no_cookie => 1), 401, 'unauthenticated', '/fa/auth/check without a session');
}

done_testing();
