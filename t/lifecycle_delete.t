# DELETE /users/me {password}: the account, its sessions, tokens and password history
# go; its audit rows stay without personal data; a notice goes to the address.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthsvcTest;

my $anon = client();

sub guarded { guard_code($_[0], %{ $_[1] || {} }) }

sub count_of {
    my ($table, $uid) = @_;
    return db_value("SELECT count(*) AS n FROM $table WHERE user_id = " . sql_str($uid));
}

# ---- without a session -------------------------------------------------------------------

problem_ok($anon->del('/users/me', json => {password => 'whatever it is'}), 401, 'unauthenticated',
           'without a session');
problem_ok($anon->del('/users/me', json => {password => 'x'}, cookie => 'authsvc=' . random_token()),
           401, 'unauthenticated', 'with an unknown session');

# ---- refusals ----------------------------------------------------------------------------

my ($c, $f, $u) = account(agent => 'deleting-agent/1.0', username => unique_username('Del'),
                          first_name => 'Dora', last_name => 'Delete');
my $uid = $u->{id};
my $other = client(agent => 'other-device/1.0');
is($other->login($f->{email}, $f->{password})->code, 200, 'a second session');
is(guarded($c), 200, 'the guarded page (now cached)');
is(guarded($other), 200, '... for the second session too');
is(client()->login($f->{email}, 'a wrong password here')->code, 401, 'a failed login (audited)');

# A reset token and a change_email token outstanding when the account goes.
is($anon->post('/auth/forgot-password', {email => $f->{email}})->code, 202, 'forgot-password');
my $rm = mail_ok('the reset mail', to => $f->{email}, template => 'reset_password');
my $new = unique_email('never');
is($c->post('/users/me/email', {new_email => $new, password => $f->{password}})->code, 202,
   'ask for an email change');
my $cm = mail_ok('the change mail', to => $new, template => 'change_email');
ok(count_of('tokens', $uid) >= 2, 'tokens stored for the account');

{
    my $res = $c->del('/users/me', json => {password => $f->{password} . 'x'});
    my $p = problem_ok($res, 401, 'invalid_credentials', 'wrong password');
    ok(!exists $p->{errors}, '... no field errors');
    ok(!defined $res->header('Set-Cookie'), '... the cookie stays');
    for my $case ([{}, {password => 'required'}, 'empty object'],
                  [{password => undef}, {password => 'required'}, 'password null'],
                  [{password => 42}, {password => 'wrong_type'}, 'password as a number']) {
        my ($body, $fields, $name) = @$case;
        my $p = problem_ok($c->del('/users/me', json => $body), 422, 'validation_failed', $name);
        fields_ok($p, $fields, $name);
    }
    problem_ok($c->del('/users/me', body => '{"password":', ctype => 'application/json'), 400,
               'invalid_json', 'broken JSON');
    problem_ok($c->del('/users/me', body => '', ctype => 'application/json'), 400,
               'invalid_json', 'an empty body');
    problem_ok($c->del('/users/me', json => {password => ''}), 401, 'invalid_credentials',
               'an empty password (a wrong one)');
    ok(user_row($f->{email}), 'the account is still there');
    is($c->get('/users/me')->code, 200, '... and the session works');
}

# ---- the deletion ------------------------------------------------------------------------

my $audit_before = db_rows('SELECT * FROM audit_log WHERE user_id = ' . sql_str($uid) . ' ORDER BY id');
ok(scalar @$audit_before >= 2, 'the account has audit rows (' . scalar(@$audit_before) . ')');
ok((grep { defined $_->{ip} || defined $_->{login} || defined $_->{user_agent} } @$audit_before),
   '... with personal data in them');

{
    my $old_cookie = $c->cookie_header;
    my $mark = error_log_mark();
    my $res = $c->del('/users/me', json => {password => $f->{password}});
    is($res->code, 204, 'DELETE /users/me: 204') or diag($res->content);
    is($res->content, '', '... no body');
    my @sc = $res->header('Set-Cookie');
    ok((grep { /^authsvc=;/ && /;\s*Max-Age=0(;|$)/i } @sc), '... clears the cookie')
        or diag("Set-Cookie: @sc");

    ok(!user_row($f->{email}), 'the user row is gone');
    ok(!db_row('SELECT * FROM users WHERE id = ' . sql_str($uid)), '... by id too');
    is(count_of('sessions', $uid), 0, 'its sessions are gone');
    is(count_of('tokens', $uid), 0, 'its tokens are gone');
    is(count_of('password_history', $uid), 0, 'its password history is gone');

    my $audit = db_rows('SELECT * FROM audit_log WHERE user_id = ' . sql_str($uid) . ' ORDER BY id');
    ok(@$audit >= @$audit_before, 'its audit rows stay');
    my %before = map { $_->{id} => $_ } @$audit_before;
    my @kept = grep { $before{ $_->{id} } } @$audit;
    is(scalar @kept, scalar @$audit_before, '... every one of them');
    is_deeply([map { $_->{event} } @kept], [map { $_->{event} } @$audit_before],
              '... with their events');
    is_deeply([map { $_->{at} } @kept], [map { $_->{at} } @$audit_before], '... and times');
    my @personal = grep { defined $_->{login} || defined $_->{ip} || defined $_->{user_agent}
                          || defined $_->{detail} } @$audit;
    is(scalar @personal, 0, '... without login, ip, user_agent or detail')
        or diag(json_enc($personal[0]));
    my ($gone) = grep { $_->{event} eq 'account_deleted' } @$audit;
    ok($gone, '... and the deletion is recorded');
    ok($gone && !defined $gone->{request_id}, '... with its event, time and id only');
    # Its log line is the audit line of every event, without the client's address.
    my @lines = grep { /audit event=account_deleted / } split /\n/, error_log_since($mark);
    is(scalar @lines, 1, 'one audit line for the deletion') or diag(join "\n", @lines);
    like($lines[0] // '', qr/ user=\Q$uid\E ip=- request_id=- result=success detail=- stored=yes/,
         '... in the key=value form, with result= and stored=, no address');

    problem_ok($c->get('/users/me', cookie => $old_cookie), 401, 'unauthenticated',
               'the old cookie on /users/me');
    is(guarded($c, {cookie => $old_cookie}), 401, '... on the guarded page (it was cached)');
    problem_ok($other->get('/users/me'), 401, 'unauthenticated', 'the other session');
    is(guarded($other), 401, '... on the guarded page');
    problem_ok(client()->login($f->{email}, $f->{password}), 401, 'invalid_credentials',
               'signing in');
    problem_ok($anon->post('/auth/reset-password', {token => $rm->{token}, password => new_password()}),
               400, 'token_invalid', 'the outstanding reset token');
    problem_ok($anon->post('/auth/verify-email', {token => $cm->{token}}), 400, 'token_invalid',
               'the outstanding change_email token');
    ok(!user_row($new), '... which changed nothing');

    my $m = mail_ok('"account deleted" notice', to => $f->{email}, template => 'account_deleted');
    ok(!defined $m->{token}, '... carries no code');

    my ($r2, $f2) = client()->register(email => $f->{email}, username => $f->{username});
    is($r2->code, 201, 'the email and username register again') or diag($r2->content);
    isnt((json_body($r2) || {})->{user}{id}, $uid, '... as a new account');
}

# A second DELETE with the old cookie is a 401, not an error.
{
    my ($c2, $f2) = account();
    my $cookie = $c2->cookie_header;
    is($c2->del('/users/me', json => {password => $f2->{password}})->code, 204, 'delete another account');
    problem_ok($c2->del('/users/me', json => {password => $f2->{password}}, cookie => $cookie), 401,
               'unauthenticated', '... deleting it again with the old cookie');
    is($anon->post('/auth/forgot-password', {email => $f2->{email}})->code, 202,
       '... forgot-password for the deleted address: 202 as for anybody');
}

done_testing();
