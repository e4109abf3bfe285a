# The session cookie: name and attributes per server configuration.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;

# Parse one Set-Cookie header: (name, value, {lower-cased attribute => value or 1}).
sub parse_cookie {
    my ($h) = @_;
    my ($pair, @attrs) = split /;\s*/, $h // '';
    my ($name, $value) = split /=/, $pair // '', 2;
    my %a;
    for (@attrs) {
        my ($k, $v) = split /=/, $_, 2;
        $a{lc $k} = $v // 1;
    }
    return ($name, $value, \%a);
}

# Sign in on a vhost; returns the client, the Set-Cookie header and the token.
sub login_on {
    my ($vhost) = @_;
    my $c = client(vhost => $vhost);
    my ($res, $f) = $c->register(password => 'Twelve chars');
    die "register on $vhost: " . $res->content unless $res->code == 201;
    $res = $c->login($f->{email}, $f->{password});
    my @sc = $res->header('Set-Cookie');
    is(scalar @sc, 1, "$vhost: login sets one cookie");
    return ($c, $sc[0], $f);
}

sub attrs_are {
    my ($a, $want, $name) = @_;
    is_deeply($a, $want, "$name: attributes") or diag(explain($a));
}

# ---- the default: plain HTTP ---------------------------------------------------------

{
    my ($c, $sc) = login_on('default');
    my ($n, $v, $a) = parse_cookie($sc);
    is($n, 'authsvc', 'default: name authsvc over HTTP');
    like($v, qr/^[A-Za-z0-9_-]{43}$/, 'default: a 43-character base64url token');
    attrs_are($a, {path => '/', httponly => 1, samesite => 'Lax'},
              'default: Path=/; HttpOnly; SameSite=Lax (no Secure, Domain or expiry)');
    is($c->get('/users/me', cookie => "other=1; authsvc=$v; more=2")->code, 200,
       'default: found among other cookies');
    is($c->get('/users/me', cookie => "__Host-authsvc=$v")->code, 401,
       'default: the Secure name is not read over HTTP');
    my $res = $c->post('/auth/logout');
    my ($n2, $v2, $a2) = parse_cookie(scalar $res->header('Set-Cookie'));
    is($n2, 'authsvc', 'default: logout clears the same name');
    is($v2, '', '... with an empty value');
    is($a2->{'max-age'}, '0', '... Max-Age=0');
    like($a2->{expires} // '', qr/1970/, '... Expires in the past');
    is($a2->{path}, '/', '... the same Path');
    is($a2->{samesite}, 'Lax', '... the same SameSite');
    ok(!exists $a2->{secure}, '... no Secure');
}

# ---- AuthsvcCookieSecure On: __Host- prefix and Secure -------------------------------

{
    my ($c, $sc) = login_on('secure');
    my ($n, $v, $a) = parse_cookie($sc);
    is($n, '__Host-authsvc', 'secure: name __Host-authsvc');
    attrs_are($a, {path => '/', httponly => 1, samesite => 'Strict', secure => 1},
              'secure: Path=/; HttpOnly; SameSite=Strict; Secure; no Domain');
    is($c->get('/users/me', cookie => "__Host-authsvc=$v")->code, 200,
       'secure: the cookie signs in');
    is($c->get('/users/me', cookie => "authsvc=$v")->code, 401,
       'secure: the plain name is not read');
    my ($n2, $v2, $a2) = parse_cookie(scalar $c->post('/auth/logout')->header('Set-Cookie'));
    ok($n2 eq '__Host-authsvc' && $v2 eq '' && $a2->{secure} && $a2->{'max-age'} eq '0',
       'secure: logout clears __Host-authsvc with Secure');
}

# ---- AuthsvcCookieSecure unset: Secure when the server's scheme is https ------------

{
    my ($c, $sc) = login_on('tls');
    my ($n, $v, $a) = parse_cookie($sc);
    is($n, '__Host-authsvc', 'https scheme: name __Host-authsvc');
    attrs_are($a, {path => '/', httponly => 1, samesite => 'Lax', secure => 1},
              'https scheme: Path=/; HttpOnly; SameSite=Lax; Secure');
    is($c->get('/users/me', cookie => "__Host-authsvc=$v")->code, 200,
       'https scheme: the cookie signs in');
}

# ---- AuthsvcCookieName, AuthsvcCookieDomain, SameSite Strict ------------------------

{
    my ($c, $sc) = login_on('custom');
    my ($n, $v, $a) = parse_cookie($sc);
    is($n, 'sid', 'custom: AuthsvcCookieName sid');
    attrs_are($a, {path => '/', httponly => 1, samesite => 'Strict', domain => 'example.test'},
              'custom: Domain=example.test; SameSite=Strict; no Secure');
    is($c->get('/users/me', cookie => "sid=$v")->code, 200, 'custom: sid signs in');
    is($c->get('/users/me', cookie => "authsvc=$v")->code, 401, 'custom: authsvc is not read');
    my ($n2, $v2, $a2) = parse_cookie(scalar $c->post('/auth/logout')->header('Set-Cookie'));
    ok($n2 eq 'sid' && $v2 eq '' && ($a2->{domain} // '') eq 'example.test',
       'custom: logout clears sid for the same Domain');
}

# ---- SameSite None needs Secure; __Secure- prefix ------------------------------------

{
    my ($c, $sc) = login_on('crosssite');
    my ($n, $v, $a) = parse_cookie($sc);
    is($n, '__Secure-sid', 'crosssite: name __Secure-sid');
    attrs_are($a, {path => '/', httponly => 1, samesite => 'None', secure => 1},
              'crosssite: SameSite=None; Secure');
}

# ---- a password change and an account deletion use the vhost's cookie too ------------

for my $case (['custom', 'sid', {path => '/', httponly => 1, samesite => 'Strict',
                                 domain => 'example.test'}],
              ['crosssite', '__Secure-sid', {path => '/', httponly => 1, samesite => 'None',
                                             secure => 1}]) {
    my ($vhost, $name, $attrs) = @$case;
    my ($c, $sc, $f) = login_on($vhost);
    my $res = $c->put('/users/me/password',
                      {current_password => $f->{password}, new_password => 'Fourteen chars'});
    is($res->code, 200, "$vhost: change the password") or diag($res->content);
    my @sc = $res->header('Set-Cookie');
    is(scalar @sc, 1, "$vhost: ... one Set-Cookie");
    my ($n, $v, $a) = parse_cookie($sc[0]);
    is($n, $name, "$vhost: ... named $name");
    like($v // '', qr/^[A-Za-z0-9_-]{43}$/, "$vhost: ... a new token");
    attrs_are($a, $attrs, "$vhost: the new session's cookie");
    is($c->get('/users/me', cookie => "$name=$v")->code, 200, "$vhost: ... which signs in");
    $res = $c->del('/users/me', json => {password => 'Fourteen chars'}, cookie => "$name=$v");
    is($res->code, 204, "$vhost: delete the account");
    my ($n2, $v2, $a2) = parse_cookie(scalar $res->header('Set-Cookie'));
    ok($n2 eq $name && $v2 eq '' && ($a2->{'max-age'} // '') eq '0'
       && ($a2->{domain} // '') eq ($attrs->{domain} // ''),
       "$vhost: ... clears $name (same Domain)") or diag(scalar $res->header('Set-Cookie'));
}

# ---- the cookie is only set at login -------------------------------------------------

{
    my $c = client();
    my ($f) = $c->signed_in();
    for my $case ([GET => '/users/me'], [PATCH => '/users/me', {first_name => 'C'}]) {
        my ($m, $p, $b) = @$case;
        my $res = $c->request($m => $p, defined $b ? (json => $b) : ());
        is($res->code, 200, "$m $p: 200");
        ok(!defined $res->header('Set-Cookie'), "$m $p: sets no cookie");
    }
    my $res = client()->login($f->{email}, 'wrong password!');
    ok(!defined $res->header('Set-Cookie'), 'a failed login sets no cookie');
    $res = client()->post('/auth/register', {email => unique_email(), password => new_password()});
    ok(!defined $res->header('Set-Cookie'), 'registering sets no cookie');
}

# ---- tokens are random and only their hash is stored ----------------------------------

{
    my $c = client();
    my ($f, $u) = $c->signed_in();
    my %seen;
    for (1 .. 5) {
        $c->login($f->{email}, $f->{password});
        $seen{ $c->jar->{authsvc} }++;
    }
    is(scalar keys %seen, 5, 'five logins, five different tokens');
    my $rows = session_rows($u->{id});
    is(scalar @$rows, 6, '... six session rows');
    my %hashes = map { $_->{token_hash} => 1 } @$rows;
    ok(!grep({ $hashes{$_} } keys %seen), '... no token stored as such');
    ok(!grep({ !$hashes{ sha256_hex($_) } } keys %seen), '... each stored as its SHA-256');
    ok(!grep({ $_->{token_hash} !~ /^[0-9a-f]{64}$/ } @$rows), '... lower-case hex');
    my %ids = map { $_->{id} => 1 } @$rows;
    is(scalar keys %ids, 6, '... each with its own public id');
    ok(!grep({ my $id = $_; grep { $id eq $_ } keys %seen } keys %ids),
       '... which is not the token');
}

done_testing();
