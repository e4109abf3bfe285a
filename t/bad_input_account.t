# Hostile input on the routes of a signed-in account: the profile, password, address,
# second factor and passkeys of the JSON API (session cookie or Bearer) and the forms of
# the account page; and CR/LF in every name that reaches a mail (issue 10; the table and
# the hostile values are in t/lib/AuthsvcBadInput.pm).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthsvcTest;
use AuthsvcBadInput;

my $mark = error_log_mark();
my $fx = fixtures();

my @names = route_names('account');
ok(@names > 10, 'routes of this file: ' . scalar @names);
run_route($fx, $_) for @names;

# The fixture's session and its bearer still work: no hostile value signed them out.
is($fx->{user}->get('/users/me')->code, 200, 'the session survived every case');
is($fx->{bearer}->get('/users/me')->code, 200, 'the access token survived every case');

# ---- SQL metacharacters are data ------------------------------------------------------
# A name of SQL metacharacters is stored and answered exactly as sent.
{
    my @bad;
    for my $v (q{' OR '1'='1' -- }, q{x"; DROP TABLE users; --}, q{\'\"%_}, q{a'); DELETE FROM sessions; --},
               "O'Brien") {
        my $res = $fx->{user}->patch('/users/me', {first_name => $v});
        my $got = $res->code == 200 ? (json_body($res) || {})->{user}{first_name} : undef;
        my $db = db_value('SELECT first_name FROM users WHERE id = ' . sql_str($fx->{user_id}));
        push @bad, json_enc($v) . ': ' . $res->code . ', answered ' . json_enc($got) . ', stored ' . json_enc($db)
            unless $res->code == 200 && defined $got && $got eq $v && defined $db && $db eq $v;
    }
    ok(!@bad, 'SQL metacharacters in a name are stored as sent') or diag(join "\n", @bad);
    is(db_value('SELECT count(*) AS n FROM users WHERE id = ' . sql_str($fx->{victim_id})), 1,
       '... and the other accounts are still there');
}

# ---- CR/LF in names that reach a mail -----------------------------------------------
# A name with a line break is refused, or kept out of every header of the mail it is
# written into (the verification mail greets the new account by its first name).
{
    my $c = keepalive();
    my @bad;
    for my $name ("Eve\r\nBcc: evil\@example.org", "Eve\nSubject: x", "Eve\rX-Evil: 1",
                  "=?UTF-8?B?RXZlDQpCY2M6IGV2aWxAZXhhbXBsZS5vcmc=?=") {
        my $email = unique_email('crlf');
        my ($res) = $c->register(email => $email, first_name => $name, last_name => $name);
        my @why = response_ok($res, accept => 1);
        if ($res->code == 201) {
            my $m = wait_mail(to => $email);
            if (!$m) {
                push @why, 'no verification mail';
            }
            else {
                my @names = map { lc } @{ $m->{header_order} };
                push @why, "headers: @names" if grep { !/^(?:from|to|subject|date|message-id|mime-version|content-language|auto-submitted|content-type)$/ } @names;
                push @why, 'bad header lines: ' . join(' | ', @{ $m->{bad_header_lines} }) if @{ $m->{bad_header_lines} };
                push @why, "line ends $m->{eol}" unless $m->{eol} eq 'CRLF';
                push @why, 'To: ' . join(' | ', @{ $m->{headers}{to} || [] })
                    unless @{ $m->{headers}{to} || [] } == 1 && $m->{headers}{to}[0] =~ /^<?\Q$email\E>?$/i;
            }
        }
        push @bad, json_enc($name) . ': ' . join('; ', @why) if @why;
    }
    ok(!@bad, 'a name with CR/LF never reaches a mail header') or diag(join "\n", @bad);
}

my $log = error_log_since($mark);
ok($log !~ /exit signal|Segmentation|AddressSanitizer/, 'no child crashed')
    or diag(join "\n", grep { /exit signal|Segmentation|AddressSanitizer/ } split /\n/, $log);

done_testing();
