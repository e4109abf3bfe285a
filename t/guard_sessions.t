# The sessions a user can see and end (GET/DELETE /users/me/sessions[/{id}]), and
# revocation taking effect at once on a guarded page although the guard caches
# sessions (the main server: AuthsvcCache shmcb, AuthsvcCacheTTL 30s by default).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use POSIX qw(strftime);
use Test::More;
use AuthsvcTest;

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $_[0]) }

sub guarded  { $_[0]->get('/private/', abs => 1)->code }
sub sessions { my $b = json_body($_[0]->get('/users/me/sessions')) || {}; $b->{sessions} || [] }
sub srow {
    my ($c) = @_;
    return db_row('SELECT * FROM sessions WHERE token_hash = '
                  . sql_str(sha256_hex($c->jar->{authsvc} // '')));
}

# ---- the cache is on -------------------------------------------------------------------------

# A revocation written to the database behind the module's back is not seen while the
# session is cached: what follows shows that the module's own revocations do not wait.
{
    my ($c) = account();
    is(guarded($c), 200, 'a session on the guarded page: 200 (now cached)');
    db_do('UPDATE sessions SET revoked_at = ' . time . ' WHERE id = ' . sql_str(srow($c)->{id}));
    is(guarded($c), 200, '... revoked directly in the database: still 200 from the cache');
}

# ---- logout ------------------------------------------------------------------------------

{
    my ($c, $f) = account();
    my $other = client();
    is($other->login($f->{email}, $f->{password})->code, 200, 'a second session of the account');
    is(guarded($c), 200, 'the guarded page: 200');
    is(guarded($other), 200, '... for the second session too');
    my $old = $c->cookie_header;
    is($c->post('/auth/logout')->code, 204, 'logout: 204');
    my $res = $c->get('/private/', abs => 1, cookie => $old);
    problem_ok($res, 401, 'unauthenticated', 'the old cookie on the guarded page right after logout');
    problem_ok($c->get('/users/me', cookie => $old), 401, 'unauthenticated', '... and on /users/me');
    is(guarded($other), 200, 'the other session still passes');
}

# ---- listing -------------------------------------------------------------------------------

my ($b1, $bf, $bu) = account(agent => 'agent-one/1.0');
my $b2 = client(agent => 'agent-two/2.0');
my $b3 = client(agent => 'agent-three/3.0');
is($b2->login($bf->{email}, $bf->{password})->code, 200, 'sign in a second time');
is($b3->login($bf->{email}, $bf->{password})->code, 200, 'and a third time');
is(guarded($_), 200, 'each session on the guarded page: 200') for $b1, $b2, $b3;

my %sid;   # client name => public session id
{
    my $res = $b1->get('/users/me/sessions');
    is($res->code, 200, 'GET /users/me/sessions: 200');
    like($res->header('Content-Type') // '', qr{^application/json}, '... JSON');
    no_store_ok($res, '...');
    my $list = (json_body($res) || {})->{sessions} || [];
    is(scalar @$list, 3, '... three sessions');
    my %by_agent = map { ($_->{user_agent} // '?') => $_ } @$list;
    is_deeply([sort keys %by_agent], [qw(agent-one/1.0 agent-three/3.0 agent-two/2.0)],
              '... one per client, with its user agent');
    is_deeply([sort map { $_->{current} } @$list], [JSON::PP::false, JSON::PP::false, JSON::PP::true],
              '... exactly one current');
    ok($by_agent{'agent-one/1.0'}{current}, '... the caller\'s own');
    for my $pair ([b1 => $b1, 'agent-one/1.0'], [b2 => $b2, 'agent-two/2.0'],
                  [b3 => $b3, 'agent-three/3.0']) {
        my ($name, $c, $agent) = @$pair;
        my $s = $by_agent{$agent} || {};
        my $row = srow($c);
        $sid{$name} = $s->{id};
        is_deeply([sort keys %$s],
                  [sort qw(id created_at last_seen_at expires_at idle_expires_at ip user_agent current authenticated_at methods mfa)],
                  "$name: the fields");
        is($s->{id}, $row->{id}, "$name: id is the session's public id");
        my $token = $c->jar->{authsvc};
        ok(index(json_enc($s), $token) < 0 && index(json_enc($s), sha256_hex($token)) < 0,
           "$name: neither the token nor its hash");
        is($s->{created_at}, iso($row->{created_at}), "$name: created_at");
        is($s->{last_seen_at}, iso($row->{last_seen_at}), "$name: last_seen_at");
        is($s->{expires_at}, iso($row->{expires_at}), "$name: expires_at");
        is($s->{idle_expires_at}, iso($row->{idle_expires_at}), "$name: idle_expires_at");
        is($s->{ip}, '127.0.0.1', "$name: ip");
    }
    my $cur = (grep { $_->{current} } @{ sessions($b2) })[0] || {};
    is($cur->{id}, $sid{b2}, 'listed by the second session, that one is current');
}

# Sessions that ended are not listed.
{
    my ($c, $f, $u) = account();
    my $gone = client();
    my $old = client();
    $gone->login($f->{email}, $f->{password});
    $old->login($f->{email}, $f->{password});
    $gone->post('/auth/logout');
    db_do('UPDATE sessions SET expires_at = ' . (time - 10) . ', idle_expires_at = ' . (time - 10)
          . ' WHERE id = ' . sql_str(srow($old)->{id}));
    my $list = sessions($c);
    is(scalar @$list, 1, 'logged-out and expired sessions are not listed');
    ok($list->[0]{current}, '... only the current one is');
    my $old_id = srow($old)->{id};
    problem_ok($c->del("/users/me/sessions/$old_id"), 404, 'not_found', 'DELETE an expired session');
}

# ---- DELETE /users/me/sessions/{id} ------------------------------------------------------------

{
    my $res = $b1->del("/users/me/sessions/$sid{b2}");
    is($res->code, 204, 'DELETE one of my other sessions: 204');
    is($res->content, '', '... no body');
    problem_ok($b2->get('/private/', abs => 1), 401, 'unauthenticated',
               'that session on the guarded page at once');
    problem_ok($b2->get('/users/me'), 401, 'unauthenticated', '... and on /users/me');
    ok(defined srow($b2)->{revoked_at}, '... revoked in the database');
    is(guarded($b1), 200, 'the caller still passes');
    is(guarded($b3), 200, 'the third session still passes');
    is_deeply([sort map { $_->{id} } @{ sessions($b1) }], [sort $sid{b1}, $sid{b3}],
              'the list no longer has it');
    my $audit = db_rows("SELECT * FROM audit_log WHERE event = 'session_revoked' AND user_id = "
                        . sql_str($bu->{id}));
    is(scalar @$audit, 1, 'one session_revoked audit row');
    is_deeply(eval { JSON::PP->new->decode($audit->[0]{detail} // '') },
              {session => $sid{b2}, count => 1}, '... naming the session');

    problem_ok($b1->del("/users/me/sessions/$sid{b2}"), 404, 'not_found', 'DELETE it again');
    problem_ok($b1->del('/users/me/sessions/' . ('A' x 22)), 404, 'not_found', 'DELETE an unknown id');
    problem_ok($b1->del('/users/me/sessions/' . sha256_hex($b1->jar->{authsvc})), 404, 'not_found',
               'DELETE by the token hash (not an id)');
    problem_ok($b1->del('/users/me/sessions/%27%20OR%201%3D1--'), 404, 'not_found',
               'DELETE with SQL in the id');
    problem_ok($b1->del('/users/me/sessions/' . ('x' x 2000)), 404, 'not_found', 'DELETE a 2000-character id');
    is(guarded($b1), 200, 'none of those ended the caller\'s session');
    is(guarded($b3), 200, '... or the third');
}

# Another user's session: 404, and it is neither revealed nor touched.
my ($cc, $cf, $cu) = account();
is(guarded($cc), 200, 'another account\'s session on the guarded page: 200');
{
    my $cid = srow($cc)->{id};
    my $res = $b1->del("/users/me/sessions/$cid");
    my $p = problem_ok($res, 404, 'not_found', 'DELETE another user\'s session id');
    is($p->{detail}, json_body($b1->del('/users/me/sessions/' . ('B' x 22)))->{detail},
       '... the same answer as for an id that does not exist');
    ok(!defined srow($cc)->{revoked_at}, '... its session is not revoked in the database');
    is(guarded($cc), 200, '... it still passes the guard');
    is($cc->get('/users/me')->code, 200, '... and /users/me');
    ok(!grep({ $_->{id} eq $cid } @{ sessions($b1) }), '... and it is not in the caller\'s list');
}

# ---- DELETE /users/me/sessions: all the others -------------------------------------------------

{
    my $b4 = client(agent => 'agent-four/4.0');
    is($b4->login($bf->{email}, $bf->{password})->code, 200, 'a fourth session');
    is(guarded($b4), 200, '... on the guarded page: 200');
    my $res = $b1->del('/users/me/sessions');
    is($res->code, 204, 'DELETE /users/me/sessions: 204');
    is($res->content, '', '... no body');
    problem_ok($b3->get('/private/', abs => 1), 401, 'unauthenticated', 'the third session at once');
    problem_ok($b4->get('/private/', abs => 1), 401, 'unauthenticated', 'the fourth session at once');
    is(guarded($b1), 200, 'the current session still passes');
    my $list = sessions($b1);
    is(scalar @$list, 1, 'one session left');
    is($list->[0]{id}, $sid{b1}, '... the current one');
    is(scalar(grep { !defined $_->{revoked_at} } @{ session_rows($bu->{id}) }), 1,
       '... and one not revoked in the database');
    is(guarded($cc), 200, 'the other account\'s session is untouched');
    is($b1->del('/users/me/sessions')->code, 204, 'DELETE /users/me/sessions with no others: 204');
    is(guarded($b1), 200, '... the current session still passes');
}

# Ending the current session by its id is a logout.
{
    my $old = $b1->cookie_header;
    is($b1->del("/users/me/sessions/$sid{b1}")->code, 204, 'DELETE my current session by id: 204');
    problem_ok($b1->get('/private/', abs => 1, cookie => $old), 401, 'unauthenticated',
               '... the guarded page refuses it at once');
}

# ---- without a session, and wrong methods -----------------------------------------------------

{
    my $anon = client();
    problem_ok($anon->get('/users/me/sessions'), 401, 'unauthenticated', 'GET the list without a session');
    problem_ok($anon->del('/users/me/sessions'), 401, 'unauthenticated', 'DELETE all without a session');
    problem_ok($anon->del("/users/me/sessions/$sid{b3}"), 401, 'unauthenticated',
               'DELETE one without a session');
    my $res = $cc->post('/users/me/sessions', {});
    problem_ok($res, 405, 'method_not_allowed', 'POST /users/me/sessions');
    is($res->header('Allow'), 'GET, HEAD, DELETE', '... Allow: GET, HEAD, DELETE');
    $res = $cc->put('/users/me/sessions/' . srow($cc)->{id}, {});
    problem_ok($res, 405, 'method_not_allowed', 'PUT /users/me/sessions/{id}');
    is($res->header('Allow'), 'DELETE', '... Allow: DELETE');
    is(guarded($cc), 200, 'none of those ended a session');
}

done_testing();
