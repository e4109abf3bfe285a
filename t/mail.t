# Mail: the message format, templates, HTML escaping, header injection, the outbox
# with its retries, and the transports (file:, sendmail:, smtp://). The vhosts and
# directories are in t/conf/extra.conf.in; messages land in state/mail/NAME.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Encode ();
use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep);
use Time::Local qw(timegm);
use Test::More;
use AuthsvcTest;

my $URL = 'https://accounts.example.test/api';
my $mark = error_log_mark();
my @tokens;
my $anon = client();

sub max_outbox_id { db_value('SELECT coalesce(max(id), 0) AS n FROM mail_outbox') // 0 }
sub outbox_count  { db_value('SELECT count(*) AS n FROM mail_outbox') }

sub keep_token { push @tokens, $_[0]{token} if defined $_[0]{token}; $_[0] }

# The structure every message must have (RFC 5322 / 2045 / 2046 and the contract).
sub message_ok {
    my ($m, $to, $name, %o) = @_;
    my @why;
    my $h = $m->{headers} || {};
    for my $k (qw(from to subject date message-id mime-version content-type)) {
        my $n = scalar @{ $h->{$k} || [] };
        push @why, "$n $k headers" unless $n == 1;
    }
    push @why, 'unparsable header lines: ' . join(' | ', @{ $m->{bad_header_lines} })
        if @{ $m->{bad_header_lines} || [] };
    push @why, "To '" . (mail_header($m, 'to') // '') . "' is not the address"
        unless (mail_header($m, 'to') // '') =~ /(?:^|<)\Q$to\E(?:>|$)/i;
    push @why, "Date '" . (mail_header($m, 'date') // '') . "'"
        unless (mail_header($m, 'date') // '')
            =~ /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d(?::\d\d)? [+-]\d{4}$/;
    push @why, "Message-ID '" . (mail_header($m, 'message-id') // '') . "'"
        unless (mail_header($m, 'message-id') // '') =~ /^<[^<>\s@]+@[^<>\s@]+>$/;
    push @why, 'MIME-Version ' . (mail_header($m, 'mime-version') // 'none')
        unless (mail_header($m, 'mime-version') // '') =~ /^1\.0\b/;
    push @why, 'Auto-Submitted ' . (mail_header($m, 'auto-submitted') // 'none')
        unless (mail_header($m, 'auto-submitted') // '') =~ /^auto-generated\b/i;
    push @why, "Content-Type $m->{type}" unless $m->{type} eq 'multipart/alternative';
    my @parts = @{ $m->{parts} || [] };
    push @why, scalar(@parts) . ' parts' unless @parts == 2;
    my @types = map { $_->{type} } @parts;
    push @why, "part types @types" unless "@types" eq 'text/plain text/html';
    for my $p (@parts) {
        push @why, "$p->{type}: charset $p->{charset}" unless $p->{charset} eq 'utf-8';
        push @why, "$p->{type}: Content-Transfer-Encoding $p->{cte}" unless $p->{cte} eq 'base64';
        push @why, "$p->{type}: not UTF-8" unless $p->{utf8_ok};
        my @long = grep { length > 76 } split /\r?\n/, $p->{encoded} // '';
        push @why, "$p->{type}: base64 lines over 76 characters" if @long;
    }
    my @long = grep { length > 998 } split /\r?\n/, $m->{raw};
    push @why, 'lines over 998 octets' if @long;
    push @why, 'non-ASCII octets in the message' if $m->{raw} =~ /[^\x00-\x7f]/;
    push @why, "line ends $m->{eol}, wanted $o{eol}" if $o{eol} && $m->{eol} ne $o{eol};
    ok(!@why, "$name: a well-formed multipart/alternative message") or diag(join "\n", @why);
}

# ---- the message (main server, file: transport) -------------------------------------------

my $t0 = time;
my $eve = '<b>Eve & "Co"</b>';
my ($evef, $m1);
{
    my $before = max_outbox_id();
    my ($res, $f) = client()->register(first_name => $eve, last_name => "O'Neil");
    is($res->code, 201, 'register with HTML in the first name: 201') or diag($res->content);
    $evef = $f;
    my $rows = outbox_rows("id > $before");
    is(scalar @$rows, 1, '... one message queued');
    is($rows->[0]{template}, 'verify_email', '... template verify_email');

    $m1 = keep_token(mail_ok('verify mail', to => $f->{email}, template => 'verify_email'));
    message_ok($m1, $f->{email}, 'verify mail', eol => 'CRLF');
    my $from = mail_header($m1, 'from') // '';
    like($from, qr/<noreply\@example\.test>/, '... From: the AuthsvcMailFrom address');
    like($from, qr/Example Accounts/, '... with its display name');
    like(mail_header($m1, 'subject') // '', qr/^[\x20-\x7e]+$/, '... an ASCII subject stays plain');
    my ($d, $mon, $y, $hh, $mm, $ss) = (mail_header($m1, 'date') // '')
        =~ /(\d{1,2}) (\w{3}) (\d{4}) (\d\d):(\d\d):?(\d\d)? ([+-]\d{4})$/;
    if (defined $y) {
        my %mi = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5, Jul => 6, Aug => 7,
                  Sep => 8, Oct => 9, Nov => 10, Dec => 11);
        my ($zone) = (mail_header($m1, 'date')) =~ /([+-]\d{4})$/;
        my $off = ($zone =~ /^-/ ? -1 : 1) * (substr($zone, 1, 2) * 3600 + substr($zone, 3, 2) * 60);
        my $e = timegm($ss // 0, $mm, $hh, $d, $mi{$mon} // 0, $y) - $off;
        ok(abs($e - $t0) < 300, '... Date is now');
    }
    else {
        fail('... Date is now');
    }

    my $text = $m1->{text};
    my $html = $m1->{html};
    like($text, qr/^Code: [A-Za-z0-9_-]{43}\r?$/m, '... text: a "Code: TOKEN" line');
    like($text, qr/\Q$URL\E\/verify-email\?token=\Q$m1->{token}\E/, '... text: the link');
    like($html, qr/\Q$m1->{token}\E/, '... html: the code');
    like($html, qr/href="\Q$URL\E\/verify-email\?token=\Q$m1->{token}\E"/, '... html: the link');
    like($text, qr/\Q$eve\E/, '... text: the first name as it is');
    unlike($html, qr/<b>Eve/, '... html: no raw tag from the name');
    like($html, qr/&lt;b&gt;Eve &amp; (?:&quot;|&#34;|&#x22;)Co(?:&quot;|&#34;|&#x22;)&lt;\/b&gt;/i,
         '... html: the name HTML-escaped');
    like($text, qr/\Q${\ lc $f->{email}}\E/, '... text: the address');
}

# Every message has its own Message-ID.
{
    my ($res, $f) = client()->register();
    my $m = keep_token(mail_ok('a second verify mail', to => $f->{email}, template => 'verify_email'));
    isnt(mail_header($m, 'message-id') // 'x', mail_header($m1, 'message-id') // 'x',
         '... another Message-ID');
    isnt($m->{token} // 'x', $m1->{token} // 'x', '... another token');
}

# Non-ASCII in the body.
{
    my $name = "Zo\x{eb} \x{674e}";
    my ($res, $f) = client()->register(first_name => $name);
    my $m = keep_token(mail_ok('verify mail to a non-ASCII name', to => $f->{email},
                               template => 'verify_email'));
    message_ok($m, $f->{email}, 'non-ASCII name');
    like($m->{text}, qr/\Q$name\E/, '... text: the name in UTF-8');
    like($m->{html}, qr/\Q$name\E|Zo&(?:euml|#235|#xeb);/i, '... html: the name');
}

# A long non-ASCII name in a Subject (templated vhost: "... ({{name}})"): encoded-words
# of at most 75 characters (RFC 2047), decoding to the name.
{
    my $name = substr(("\x{e9}t\x{e9} " x 25) . "\x{674e}", 0, 100);
    my ($res, $f) = client(vhost => 'templated')->register(first_name => $name);
    is($res->code, 201, 'templated: register with a long non-ASCII name') or diag($res->content);
    my $m = keep_token(mail_ok('... its mail', to => $f->{email}, subject => qr/^Best/));
    message_ok($m, $f->{email}, 'long encoded subject');
    my @words = (mail_header($m, 'subject') // '') =~ /(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)/g;
    ok(@words > 1, '... several encoded-words');
    is(scalar(grep { length > 75 } @words), 0, '... none longer than 75 characters');
    like($m->{subject}, qr/\(\Q$name\E\)$/, '... decoding to the whole name');
}

# An internationalised address (allowed at registration): only the address itself
# may carry UTF-8 (RFC 6532); every other line stays ASCII, and registering works.
{
    my $tag = int rand 1e9;
    my $idn = "\x{fc}ser.$tag\@b\x{fc}cher.example";
    my ($res) = client()->register(email => $idn);
    is($res->code, 201, 'register with an internationalised address: 201') or diag($res->content);
    my ($r2, $g) = client()->register();
    mail_ok('... a later message (the outbox ran)', to => $g->{email}, template => 'verify_email');
    my $dir = mail_dir('main');
    opendir(my $dh, $dir) or die "$dir: $!";
    my (@bad, $found);
    for my $e (grep { /\.eml$/ } readdir $dh) {
        my $raw = do { local (@ARGV, $/) = ("$dir/$e"); <> } // '';
        next unless $raw =~ /ser\.$tag\@/;
        $found++;
        for my $line (grep { /[^\x00-\x7f]/ } split /\r?\n/, $raw) {
            my $copy = $line;    # decode with a CHECK eats its input
            my $utf8 = eval { Encode::decode('UTF-8', $copy, Encode::FB_CROAK()); 1 };
            push @bad, "$e: $line" unless $line =~ /^To:/i && $utf8;
        }
    }
    closedir $dh;
    ok($found, '... it got its mail');
    is(scalar @bad, 0, '... 8-bit octets only in its address, as UTF-8') or diag(join "\n", @bad);
}

# The file: transport writes atomically: nothing but finished .eml files stay.
{
    my $dir = mail_dir('main');
    my @other;
    for (1 .. 25) {
        opendir(my $dh, $dir) or last;
        @other = grep { !/^\.\.?$/ && !/\.eml$/ } readdir $dh;
        closedir $dh;
        last unless @other;
        sleep 0.2;
    }
    is(scalar @other, 0, 'file: transport: no temporary files left in the directory')
        or diag("@other");
}

# ---- AuthsvcMailTemplates (vhost templated) -----------------------------------------------

{
    my $c = client(vhost => 'templated');
    my $name = "Zo\x{eb}";
    my ($res, $f) = $c->register(first_name => $name);
    is($res->code, 201, 'templated vhost: register');
    my $subject = "Best\x{e4}tigung f\x{fc}r " . lc($f->{email}) . " ($name)";
    my $m = keep_token(mail_ok('the custom verify mail', to => $f->{email},
                               subject => qr/^\Q$subject\E$/));
    message_ok($m, $f->{email}, 'custom verify mail');
    my $raw_subject = mail_header($m, 'subject') // '';
    like($raw_subject, qr/^[\x20-\x7e]+$/, '... the non-ASCII subject is ASCII on the wire');
    like($raw_subject, qr/=\?utf-8\?[bq]\?/i, '... as RFC 2047 encoded-words');
    is($m->{subject}, $subject, '... decoding to the custom subject');
    like($m->{text}, qr/^custom-template verify_email$/m, '... the custom text part');
    like($m->{text}, qr/^email=\[\Q${\ lc $f->{email}}\E\]$/m, '... {{email}}');
    like($m->{text}, qr/^name=\[[^\]]*\Q$name\E[^\]]*\]$/m, '... {{name}}');
    like($m->{text}, qr/^link=\[\Q$URL\E\/verify-email\?token=\Q${\ ($m->{token} \/\/ '')}\E\]$/m,
         '... {{link}}');
    like($m->{text}, qr/^site=\[[^\]\r\n]+\]$/m, '... {{site}} has a value');
    like($m->{text}, qr/^expires=\[[^\]\r\n]+\]$/m, '... {{expires}} has a value');
    like($m->{html}, qr/class="custom-template"/, '... the custom html part');
    is($anon->post('/auth/verify-email', {token => $m->{token}})->code, 200, '... its code verifies');

    # Only reset_password.subject is replaced: its text and html are the built-in ones.
    is($c->post('/auth/forgot-password', {email => $f->{email}})->code, 202, 'templated: forgot-password');
    my $r = keep_token(mail_ok('the reset mail', to => $f->{email},
                               subject => qr/^Custom reset subject for \Q${\ lc $f->{email}}\E$/));
    unlike($r->{text}, qr/custom-template/, '... with the built-in text');
    like($r->{text}, qr/\Q$URL\E\/reset-password\?token=\Q${\ ($r->{token} \/\/ '')}\E/,
         '... which has the link');
    ok(defined $r->{token}, '... and the code');

    # Templates not in the directory at all are the built-in ones.
    my $new = new_password();
    is($anon->post('/auth/reset-password', {token => $r->{token}, password => $new})->code, 200,
       'templated: reset');
    mail_ok('the built-in "password changed" subject', to => $f->{email},
            template => 'password_changed');
}

# ---- header injection -----------------------------------------------------------------------

{
    my ($c, $f) = account();
    my $before = outbox_count();
    for my $case (["Eve\r\nBcc: evil\@example.org", 'CR LF'], ["Eve\nBcc: evil\@example.org", 'LF'],
                  ["Eve\rBcc: evil\@example.org", 'CR']) {
        my ($v, $what) = @$case;
        my ($res) = client()->register(first_name => $v);
        my $p = problem_ok($res, 422, 'validation_failed', "register: first_name with $what");
        fields_ok($p, {first_name => 'invalid'}, "register: first_name with $what");
        ($res) = client()->register(last_name => $v);
        problem_ok($res, 422, 'validation_failed', "register: last_name with $what");
        problem_ok($c->patch('/users/me', {first_name => $v}), 422, 'validation_failed',
                   "PATCH /users/me: first_name with $what");
        $p = problem_ok($c->post('/users/me/email', {new_email => "x\@example.org$v", password => $f->{password}}),
                        422, 'validation_failed', "new_email with $what");
        problem_ok($anon->post('/auth/forgot-password', {email => "$f->{email}$v"}), 422,
                   'validation_failed', "forgot-password: email with $what");
    }
    is(outbox_count(), $before, 'none of them queued a mail');

    # Line breaks outside ASCII in a name that goes into a Subject (templated vhost):
    # refused, or encoded so that they add no header.
    my ($res, $g) = client(vhost => 'templated')
        ->register(first_name => "Eve\x{2028}Bcc: evil\@example.org\x{2029}X");
    if ($res->code == 201) {
        my $m = keep_token(mail_ok('a name with U+2028 in the Subject', to => $g->{email},
                                   subject => qr/^Best/));
        message_ok($m, $g->{email}, 'a name with U+2028 in the Subject');
        ok(!exists $m->{headers}{bcc}, '... no Bcc header');
    }
    else {
        problem_ok($res, 422, 'validation_failed', 'a name with U+2028 and U+2029: refused');
        pass('... (refused, so no mail)');
    }
}

# ---- sendmail: (vhost stub) -------------------------------------------------------------------

my $stub = mail_dir('stub');
{
    my $c = client(vhost => 'stub');
    my ($res, $f) = $c->register();
    is($res->code, 201, 'stub vhost: register');
    my $m = keep_token(mail_ok('sendmail: delivered through the command', to => $f->{email},
                               dir => 'stub', template => 'verify_email'));
    message_ok($m, $f->{email}, 'sendmail', eol => 'LF');
    no_mail_ok('... not by the main server\'s transport', to => $f->{email}, dir => 'main');
    (my $args = $m->{file} // '') =~ s/\.eml$/.args/;
    my $argv = do { local (@ARGV, $/) = ($args); <> } // '';
    is($argv, "-t\n-i\n", '... the command\'s arguments as configured');
}

# The transport fails (exit 75): the request is answered, the message waits and is
# retried; once the command works again it is delivered and the outbox row cleared.
{
    my $flag = catfile($stub, '.fail');
    open(my $fh, '>', $flag) or die "$flag: $!";
    close $fh;
    my $c = client(vhost => 'stub');
    my $before = max_outbox_id();
    my ($res, $f) = $c->register();
    is($res->code, 201, 'sendmail failing: register still 201');
    my ($row) = @{ outbox_rows("id > $before") };
    ok($row, '... the message is in the outbox');
    $row ||= {};
    is($row->{template}, 'verify_email', '... template verify_email');
    is($row->{recipient}, lc $f->{email}, '... recipient');
    like($row->{transport} // '', qr/sendmail-stub/, '... the transport of the vhost that queued it');
    is($row->{status}, 'queued', '... queued');
    like($row->{message} // '', qr/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+$/,
         '... sealed at rest (AuthsvcSecretKeyFile): the token is not in the database');
    is($c->post('/auth/forgot-password', {email => $f->{email}})->code, 202,
       '... forgot-password answers 202 too');
    my ($r2, $ok) = wait_outbox($row->{id}, sub { $_[0]{attempts} >= 2 }, 20);
    ok($ok, '... tried again after failing') or diag(json_enc($r2));
    is($r2->{status}, 'queued', '... still queued');
    like($r2->{last_error} // '', qr/\S/, '... last_error says why');
    ok(($r2->{next_attempt_at} // 0) > ($r2->{created_at} // 0), '... next_attempt_at later');
    no_mail_ok('... nothing delivered meanwhile', to => $f->{email}, dir => 'stub');

    unlink $flag;
    my $m = keep_token(mail_ok('sendmail works again: delivered', to => $f->{email}, dir => 'stub',
                               template => 'verify_email', timeout => 20));
    my ($r3, $sent) = wait_outbox($row->{id}, sub { $_[0]{status} eq 'sent' }, 10);
    ok($sent, '... the outbox row is sent') or diag(json_enc($r3));
    ok(defined $r3->{sent_at} && $r3->{sent_at} >= $row->{created_at}, '... sent_at set');
    ok(!defined $r3->{recipient}, '... recipient cleared');
    ok(!defined $r3->{message}, '... message (with the token) cleared');
    ok($r3->{attempts} >= 3, "... after $r3->{attempts} attempts");
    is($anon->post('/auth/verify-email', {token => $m->{token}})->code, 200,
       '... the delayed token verifies');
    keep_token(mail_ok('... the reset mail too', to => $f->{email}, dir => 'stub',
                       template => 'reset_password'));
}

# ---- giving up (vhost giveup: AuthsvcMailRetry 1s 1s 4s, the command always fails) -------

{
    my $dir = mail_dir('giveup');
    my $flag = catfile($dir, '.fail');
    open(my $fh, '>', $flag) or die "$flag: $!";
    close $fh;
    my $c = client(vhost => 'giveup');
    my $before = max_outbox_id();
    my ($res, $f) = $c->register();
    is($res->code, 201, 'giveup vhost: register');
    my ($row) = @{ outbox_rows("id > $before") };
    ok($row, '... queued');
    $row ||= {id => -1};
    my ($r2, $failed) = wait_outbox($row->{id}, sub { $_[0]{status} eq 'failed' }, 25);
    ok($failed, '... marked failed after AuthsvcMailRetry\'s give-up time') or diag(json_enc($r2));
    ok(($r2->{attempts} // 0) >= 2, '... after several attempts');
    ok(!defined $r2->{recipient} && !defined $r2->{message}, '... recipient and message cleared');
    unlink $flag;
    my ($r3, $g) = $c->register();
    keep_token(mail_ok('a later message of the same transport', to => $g->{email}, dir => 'giveup',
                       template => 'verify_email'));
    no_mail_ok('the given-up message is not sent later', to => $f->{email}, dir => 'giveup');
}

# ---- smtp:// (vhosts smtp and smtpauth) ---------------------------------------------------

SKIP: {
    my $sink = start_smtp_sink(180);
    ok($sink, 'the SMTP sink runs on port ' . smtp_sink_port()) or skip('no SMTP sink', 20);
    my $dir = mail_dir('smtp');
    my $c = client(vhost => 'smtp');
    my ($res, $f) = $c->register();
    is($res->code, 201, 'smtp vhost: register');
    my $m = keep_token(mail_ok('smtp: delivered to the sink', to => $f->{email}, dir => 'smtp',
                               template => 'verify_email'));
    message_ok($m, $f->{email}, 'smtp', eol => 'CRLF');
    (my $envf = $m->{file} // '') =~ s/\.eml$/.env/;
    my $env = do { local (@ARGV, $/) = ($envf); <> } // '';
    like($env, qr/^MAIL FROM:<noreply\@example\.test>$/m, '... envelope sender: the AuthsvcMailFrom address');
    like($env, qr/^RCPT TO:<\Q${\ lc $f->{email}}\E>$/mi, '... envelope recipient: the address');
    is(scalar(() = $env =~ /^RCPT TO:/mg), 1, '... and only it');
    no_mail_ok('... not by the main server\'s transport', to => $f->{email}, dir => 'main');

    # The server says 451: retried.
    my $flag = catfile($dir, '.fail');
    open(my $fh, '>', $flag) or die "$flag: $!";
    close $fh;
    my $before = max_outbox_id();
    my ($r2, $g) = $c->register();
    my ($row) = @{ outbox_rows("id > $before") };
    $row ||= {id => -1};
    my ($r3, $tried) = wait_outbox($row->{id}, sub { $_[0]{attempts} >= 1 }, 15);
    ok($tried && $r3->{status} eq 'queued', 'smtp: a 451 answer leaves the message queued')
        or diag(json_enc($r3));
    like($r3->{last_error} // '', qr/\S/, '... with last_error');
    unlink $flag;
    keep_token(mail_ok('... and it is delivered once the server accepts', to => $g->{email},
                       dir => 'smtp', template => 'verify_email', timeout => 20));

    # An internationalised address needs SMTPUTF8 (RFC 6531), which the sink does not
    # offer: the envelope must stay ASCII (the message may wait or fail instead).
    $before = max_outbox_id();
    my $tag = int rand 1e9;
    my ($ri) = $c->register(email => "\x{fc}ser.$tag\@b\x{fc}cher.example");
    is($ri->code, 201, 'smtp: register an internationalised address');
    ($row) = @{ outbox_rows("id > $before") };
    $row ||= {id => -1};
    my ($ri2, $tried3) = wait_outbox($row->{id}, sub { $_[0]{attempts} >= 1 }, 15);
    ok($tried3, '... delivery was attempted') or diag(json_enc($ri2));
    {
        local $TODO = 'the smtp transport sends UTF-8 in MAIL/RCPT without SMTPUTF8';
        my $cmds = do { local (@ARGV, $/) = (catfile($dir, 'commands.log')); <> } // '';
        my @eight = grep { /^(?:MAIL|RCPT)\b/i && /[^\x00-\x7f]/ } split /\n/, $cmds;
        is(scalar @eight, 0, '... no 8-bit envelope command to a server without SMTPUTF8')
            or diag(join "\n", @eight);
    }

    # An AUTHFILE demands STARTTLS, which the sink does not offer: no delivery, and the
    # credentials are never sent.
    my $log_before = -s catfile($dir, 'commands.log') // 0;
    $before = max_outbox_id();
    my ($r4, $h) = client(vhost => 'smtpauth')->register();
    is($r4->code, 201, 'smtpauth vhost: register');
    ($row) = @{ outbox_rows("id > $before") };
    $row ||= {id => -1};
    my ($r5, $tried2) = wait_outbox($row->{id}, sub { $_[0]{attempts} >= 1 }, 15);
    ok($tried2, '... delivery was attempted') or diag(json_enc($r5));
    is($r5->{status}, 'queued', '... and did not succeed');
    like($r5->{last_error} // '', qr/\S/, '... last_error says why');
    no_mail_ok('... the sink got no message', to => $h->{email}, dir => 'smtp');
    my $log = do { local (@ARGV, $/) = (catfile($dir, 'commands.log')); <> } // '';
    unlike($log, qr/^AUTH\b/mi, '... no AUTH command without TLS');
    unlike($log, qr/sink-secret|c2luay1zZWNyZXQ/, '... the password never reached the sink');
}

# ---- no AuthsvcPublicURL: a server of its own ---------------------------------------------

{
    my $HTTPD = httpd_bin();
    my $MODS = httpd_modules();
    my $SO = catfile(serverroot(), '..', 'mod_authsvc.so');
    my $dir = tempdir('mail-XXXXXX', DIR => catfile(serverroot(), 'state'), CLEANUP => 1);
    mkdir "$dir/logs";
    mkdir "$dir/mail";
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0) or die;
    my $port = $s->sockport;
    close $s;
    my $conf = join "\n",
        "ServerRoot $dir",
        "LoadModule mpm_prefork_module $MODS/mod_mpm_prefork.so",
        "LoadModule authn_core_module $MODS/mod_authn_core.so",
        "LoadModule authz_core_module $MODS/mod_authz_core.so",
        "LoadModule socache_shmcb_module $MODS/mod_socache_shmcb.so",
        "LoadModule dbd_module $MODS/mod_dbd.so",
        "LoadModule authsvc_module $SO",
        'ServerName localhost',
        "Listen 127.0.0.1:$port",
        "PidFile $dir/logs/httpd.pid",
        "ErrorLog $dir/logs/error_log",
        'LogLevel warn',
        'StartServers 1',
        'DBDriver sqlite3', "DBDParams $dir/db.sqlite",
        'AuthsvcAutoMigrate On',
        'AuthsvcPasswordHash argon2id m=1024 t=1 p=1',
        "AuthsvcMailTransport file:$dir/mail",
        '<Location /api>', '    SetHandler authsvc', '</Location>', '';
    open(my $fh, '>', "$dir/httpd.conf") or die;
    print {$fh} $conf;
    close $fh;
    my $pid = fork // die;
    if (!$pid) {
        POSIX::setsid();
        open STDOUT, '>', "$dir/out";
        open STDERR, '>&', \*STDOUT;
        exec $HTTPD, '-d', $dir, '-f', "$dir/httpd.conf", '-DFOREGROUND';
        exit 127;
    }
    my $up = 0;
    for (1 .. 150) {
        last if waitpid($pid, WNOHANG) == $pid;
        if (IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1)) {
            $up = 1;
            last;
        }
        sleep 0.1;
    }
    ok($up, 'a server without AuthsvcPublicURL starts')
        or diag(do { local (@ARGV, $/) = ("$dir/out", "$dir/logs/error_log"); <> } // '');
    SKIP: {
        skip('it did not start', 8) unless $up;
        # The port answers before start-up is over: wait for its last line.
        my $log = '';
        for (1 .. 100) {
            $log = do { local (@ARGV, $/) = ("$dir/logs/error_log"); <> } // '';
            last if $log =~ /resuming normal operations/;
            sleep 0.1;
        }
        like($log, qr/AuthsvcPublicURL/, '... warning that mails will carry no link');
        my $c = client(base => "http://127.0.0.1:$port");
        my ($res, $f) = $c->register();
        is($res->code, 201, '... register') or diag($res->content);
        my $m = keep_token(mail_ok('... the verify mail', to => $f->{email}, dir => "$dir/mail",
                                   template => 'verify_email'));
        message_ok($m, $f->{email}, 'without AuthsvcPublicURL');
        like($m->{token} // '', qr/^[A-Za-z0-9_-]{43}$/, '... carries the code');
        ok(!defined $m->{link} && $m->{text} !~ /token=/ && $m->{html} !~ /token=/,
           '... and no link');
        like(mail_header($m, 'from') // '', qr/noreply\@localhost/,
             '... From: noreply@ServerName by default');
        is($c->post('/auth/verify-email', {token => $m->{token}})->code, 200, '... the code verifies');
    }
    kill 'TERM', $pid;
    waitpid($pid, 0);
}

# ---- no token in the error log -----------------------------------------------------------

{
    my $log = error_log_since($mark);
    ok(@tokens >= 10, 'tokens were mailed (' . scalar(@tokens) . ')');
    my @leaked = grep { index($log, $_) >= 0 } @tokens;
    is(scalar @leaked, 0, 'no mailed token appears in the error log');
    unlike($log, qr/sink-secret/, '... nor the SMTP password');
}

done_testing();
