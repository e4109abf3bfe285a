package AuthsvcTest;

# Helpers for the mod_authsvc Apache::Test suite.
#
#   my $c = client();                     # the main server, API mounted at /api
#   my $c = client(vhost => 'idle');      # a <VirtualHost idle> of extra.conf.in
#   my $c = client(headers => [X => 1]);  # headers sent with every request
#   my ($c, $f, $u) = account(roles => 'admin', verified => 1);   # signed in
#   my $res = $c->post('/auth/login', {login => $email, password => $pw});
#   my $res = $c->get('/private/', abs => 1);   # a path outside the mount
#   my $body = json_body($res);
#   my $p = problem_ok($res, 422, 'validation_failed', 'name');
#   fields_ok($p, {email => 'invalid_email'}, 'name');
#   my $rows = db_rows("SELECT ... WHERE email = " . sql_str($email));
#   my $m = mail_ok('verify mail', to => $email, template => 'verify_email');
#   $c->post('/auth/verify-email', {token => $m->{token}});
#
# The client keeps its own cookie jar (name => value, from Set-Cookie, cleared
# by Max-Age=0), so a test can also replay an old cookie on purpose.
# The database is the one the server under test uses: SQLite through the
# sqlite3 CLI, or PostgreSQL through psql when AUTHSVC_TEST_BACKEND=pgsql (see
# tools/dev/test.sh for the variables).

use strict;
use warnings;

use Exporter 'import';
use File::Spec::Functions qw(catfile);
use JSON::PP ();
use POSIX ();
use Test::More;
use Time::HiRes ();

use Apache::Test ();
use Apache::TestRequest ();

our @EXPORT = qw(
    client json_body json_enc problem_ok fields_ok no_store_ok
    unique_email unique_username new_password
    backend db_rows db_row db_value db_do sql_str user_row session_rows
    sha256_hex serverroot error_log_mark error_log_since
    pg_admin_params pg_psql
    set_roles set_verified free_logins account kv_body htdocs httpd_bin httpd_modules free_port
    mail_dir parse_mail mail_header mails wait_mail mail_ok no_mail_ok mail_seen template_subject_re
    outbox_rows outbox_row wait_outbox random_token bad_tokens_ok live_session_count
    parallel_posts guard_code smtp_sink_port start_smtp_sink
    random_ipv4 random_ipv6_net random_ipv6 xff_client retry_after_ok
    request_rows audit_rows audit_detail parallel_requests admin_bin run_admin scratch_db
    events_in audit_events wrong_code
    totp_step totp_wait_margin totp_code totp_code_step totp_code_at base32_decode secret_key_file key_kid
    mfa_enroll mfa_account mfa_code mfa_start mfa_login recovery_code_re iso_time_ok
    bool_is client_error_ok wrong_type_ok prompt_redirect_ok
    b64url_enc b64url_dec jwt_parts jwt_claims run_python pyjwt_verify jwt_key_file key_info
    hs_secret hs_kid forge_token sign_with token_account token_login bearer bearer_get
    refresh_post token_invalid_ok jwks_of
    html_accept page_csp form_enc page_headers_ok page_answer_ok message_page_ok redirect_ok loc_split
    csrf_from form_ids form_fields html_elements by_id html_text no_cr_lf_ok set_cookies
    session_set_cookie page_structure_ok page_failed_ok
);

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

sub json_enc { $JSON->encode($_[0]) }

# The decoded JSON body of a response, or undef (with a diagnostic) if it is none.
sub json_body {
    my ($res) = @_;
    my $v = eval { $JSON->decode($res->decoded_content(charset => 'none')) };
    diag("not JSON: $@ in: " . substr($res->content // '', 0, 300)) unless defined $v;
    return $v;
}

sub serverroot { Apache::Test::vars('serverroot') }

# ---- unique test data ----------------------------------------------------------------

my $seq = 0;
sub _tag { sprintf '%x%x%02d%03d', $$, time, $seq++ % 100, int rand 1000 }

sub unique_email {
    my ($prefix) = @_;
    return lc(($prefix // 'user') . '.' . _tag()) . '@example.org';
}

sub unique_username {
    my ($prefix) = @_;
    my $u = ($prefix // 'u') . '_' . _tag();
    return substr($u, 0, 32);
}

sub new_password {
    my @c = ('a' .. 'z', 'A' .. 'Z', '0' .. '9');
    return 'Pw ' . join('', map { $c[rand @c] } 1 .. 16) . ' horse';
}

sub sha256_hex {
    require Digest::SHA;
    return Digest::SHA::sha256_hex($_[0]);
}

# ---- assertions ----------------------------------------------------------------------

sub no_store_ok {
    my ($res, $name) = @_;
    my $cc = $res->header('Cache-Control') // '';
    ok($cc =~ /\bno-store\b/, "$name: Cache-Control: no-store")
        or diag("Cache-Control: '$cc'");
}

# One ok() for the whole problem+json contract; returns the decoded body.
sub problem_ok {
    my ($res, $status, $code, $name) = @_;
    my @why;
    push @why, 'status ' . $res->code . ", wanted $status" if $res->code != $status;
    my $ct = $res->header('Content-Type') // '';
    push @why, "Content-Type '$ct'" unless $ct =~ m{^application/problem\+json\b};
    my $cc = $res->header('Cache-Control') // '';
    push @why, "Cache-Control '$cc'" unless $cc =~ /\bno-store\b/;
    my $p = eval { $JSON->decode($res->content) };
    if (ref $p ne 'HASH') {
        push @why, 'body is not a JSON object: ' . substr($res->content // '', 0, 200);
    }
    else {
        push @why, "code '" . ($p->{code} // 'undef') . "', wanted '$code'"
            unless defined $p->{code} && $p->{code} eq $code;
        push @why, "type '" . ($p->{type} // 'undef') . "'"
            unless defined $p->{type} && $p->{type} =~ /\Q$code\E$/;
        push @why, "status member '" . ($p->{status} // 'undef') . "'"
            unless defined $p->{status} && !ref $p->{status} && $p->{status} eq $status;
        for my $k (qw(title detail)) {
            push @why, "no $k" unless defined $p->{$k} && !ref $p->{$k} && length $p->{$k};
        }
        push @why, 'errors is not an array'
            if exists $p->{errors} && ref $p->{errors} ne 'ARRAY';
    }
    if ($status == 503) {
        push @why, 'no Retry-After' unless defined $res->header('Retry-After');
    }
    ok(!@why, "$name: $status $code") or diag(join "\n", @why);
    return ref $p eq 'HASH' ? $p : {};
}

# The problem's errors[] names exactly these fields with these codes.
sub fields_ok {
    my ($p, $want, $name) = @_;
    my %got;
    my @bad;
    for my $e (@{ $p->{errors} || [] }) {
        push @bad, 'error without message: ' . json_enc($e)
            unless defined $e->{message} && length $e->{message};
        $got{ $e->{field} // '?' } = $e->{code} // '?';
    }
    my $g = json_enc(\%got);
    my $w = json_enc($want);
    ok($g eq $w && !@bad, "$name: errors $w") or diag("got errors $g @bad");
}

# ---- the HTTP client -----------------------------------------------------------------

sub client { AuthsvcTest::Client->new(@_) }

# host:port of the main server or of a named <VirtualHost>.
sub hostport {
    my ($vhost) = @_;
    local $Apache::TestRequest::Module =
        (!defined $vhost || $vhost eq 'default') ? undef : $vhost;
    my $config = Apache::Test::config();
    die "no vhost '$vhost' in the test configuration\n"
        if defined $vhost && $vhost ne 'default' && !$config->{vhosts}{$vhost};
    return Apache::TestRequest::hostport($config);
}

# ---- the database --------------------------------------------------------------------

sub backend { $ENV{AUTHSVC_TEST_BACKEND} || 'sqlite' }

sub sqlite_file { $ENV{AUTHSVC_TEST_SQLITE} || catfile(serverroot(), 'state', 'authsvc.db') }

sub sql_str {
    my ($s) = @_;
    return 'NULL' unless defined $s;
    $s =~ s/'/''/g;
    return "'$s'";
}

sub _pgbin {
    my $bin = $ENV{PGBIN} || '/usr/lib/postgresql/15/bin';
    return -x "$bin/psql" ? "$bin/psql" : 'psql';
}

# psql against a database of the test cluster: the arguments before -c.
sub pg_psql {
    my ($db) = @_;
    return (_pgbin(), '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1',
            '-h', $ENV{AUTHSVC_PG_HOST}, '-p', $ENV{AUTHSVC_PG_PORT} || 5432,
            '-U', $ENV{AUTHSVC_PG_USER} || scalar(getpwuid $<),
            '-d', $db // $ENV{AUTHSVC_PG_DB} || 'authsvc');
}

# A DBDParams string for another database of the same cluster.
sub pg_admin_params {
    my ($db) = @_;
    return sprintf 'host=%s port=%s dbname=%s user=%s', $ENV{AUTHSVC_PG_HOST},
        $ENV{AUTHSVC_PG_PORT} || 5432, $db, $ENV{AUTHSVC_PG_USER} || scalar(getpwuid $<);
}

sub _run {
    my (@cmd) = @_;
    open(my $fh, '-|', @cmd) or die "cannot run $cmd[0]: $!\n";
    local $/;
    my $out = <$fh>;
    close $fh;
    die "$cmd[0] failed (exit " . ($? >> 8) . ") for: $cmd[-1]\n" if $?;
    return $out // '';
}

# All rows of a query, as hashes.
sub db_rows {
    my ($sql) = @_;
    my $out;
    if (backend() eq 'pgsql') {
        $out = _run(pg_psql(), '-c',
                    "SELECT coalesce(json_agg(t), '[]'::json) FROM ($sql) t");
    }
    else {
        $out = _run('sqlite3', '-bail', '-batch', '-json', '-cmd', '.timeout 5000',
                    sqlite_file(), $sql);
    }
    return [] unless $out =~ /\S/;
    return $JSON->decode($out);
}

sub db_row { db_rows(@_)->[0] }

sub db_value {
    my $row = db_row(@_) or return undef;
    my ($k) = keys %$row;
    return $row->{$k};
}

# A statement without result rows.
sub db_do {
    my ($sql) = @_;
    if (backend() eq 'pgsql') {
        _run(pg_psql(), '-c', $sql);
    }
    else {
        _run('sqlite3', '-bail', '-batch', '-cmd', '.timeout 5000', sqlite_file(), $sql);
    }
    return 1;
}

sub user_row {
    my ($email) = @_;
    return db_row('SELECT * FROM users WHERE email = ' . sql_str(lc $email));
}

sub session_rows {
    my ($user_id) = @_;
    return db_rows('SELECT * FROM sessions WHERE user_id = ' . sql_str($user_id)
                   . ' ORDER BY created_at, id');
}

# Account attributes the API does not set (roles, verification), written directly.
# The guard caches sessions (AuthsvcCacheTTL): change them before the session is first
# used, or on a vhost with a short TTL and wait it out.
sub set_roles {
    my ($email, $roles) = @_;
    db_do('UPDATE users SET roles = ' . sql_str($roles) . ' WHERE email = ' . sql_str(lc $email));
}

sub set_verified {
    my ($email, $on) = @_;
    db_do('UPDATE users SET email_verified_at = ' . (($on // 1) ? time : 'NULL')
          . ' WHERE email = ' . sql_str(lc $email));
}

# Fixed logins (named in extra.conf.in) for a test that runs again on the same
# database: whoever holds them gets an unused email and no username.
sub free_logins {
    my (%o) = @_;
    my @where;
    push @where, 'email = ' . sql_str(lc $o{email}) if defined $o{email};
    push @where, 'lower(username) = ' . sql_str(lc $o{username}) if defined $o{username};
    return unless @where;
    db_do("UPDATE users SET email = 'gone.' || id || '\@example.org', username = NULL WHERE "
          . join(' OR ', @where));
}

# A new account on a client of its own (vhost => NAME, agent => UA, roles => 'a b',
# verified => 1, and the registration fields): the client and the fields sent. Dies
# unless registration works.
sub registered {
    my (%o) = @_;
    my $c = client(vhost => delete $o{vhost}, agent => delete $o{agent});
    my $roles = delete $o{roles};
    my $verified = delete $o{verified};
    my ($res, $f) = $c->register(%o);
    die 'register failed: ' . $res->status_line . ' ' . $res->content . "\n"
        unless $res->code == 201;
    set_roles($f->{email}, $roles) if defined $roles;
    set_verified($f->{email}) if $verified;
    return ($c, $f);
}

# A signed-in client for a new account: account(vhost => NAME, agent => UA,
# roles => 'a b', verified => 1, email/username/first_name/last_name => ...).
# Roles and verification are written before the session is first used.
# Returns the client, the fields sent and the user as the API returned it.
sub account {
    my ($c, $f) = registered(@_);
    my $res = $c->login($f->{email}, $f->{password});
    die 'login failed: ' . $res->status_line . ' ' . $res->content . "\n"
        unless $res->code == 200;
    return ($c, $f, json_body($res)->{user});
}

# NAME=VALUE lines (the test CGI's environment, SSI pages) as a hash.
sub kv_body {
    my ($res) = @_;
    my %kv;
    for my $line (split /\r?\n/, $res->decoded_content(charset => 'none') // '') {
        $kv{$1} = $2 if $line =~ /^([^=\s]+)=(.*)$/;
    }
    return \%kv;
}

sub htdocs { Apache::Test::vars('documentroot') }

# tools/authsvc-admin of the tree under test.
sub admin_bin { catfile(serverroot(), '..', 'tools', 'authsvc-admin') }

# Run authsvc-admin with @args; returns (exit status, stdout, stderr).
sub run_admin {
    my (@args) = @_;
    my $err = catfile(serverroot(), 'state', "admin-$$.err");
    my $cmd = join ' ', map { "'" . s/'/'\\''/gr . "'" } admin_bin(), @args;
    my $out = `$cmd 2>'$err'`;
    my $rc = $? >> 8;
    open(my $fh, '<', $err);
    local $/;
    my $e = $fh ? <$fh> : '';
    unlink $err;
    return ($rc, $out // '', $e // '');
}

# An empty database of its own for a test of authsvc-admin (named after NAME): the
# tool's --driver/--params arguments, and a sub that drops it.
sub scratch_db {
    my ($name) = @_;
    if (backend() eq 'pgsql') {
        my $db = "authsvc_${name}_$$";
        system(pg_psql('postgres'), '-c', "DROP DATABASE IF EXISTS $db") == 0
            and system(pg_psql('postgres'), '-c', "CREATE DATABASE $db") == 0
            or Test::More::BAIL_OUT("cannot create a PostgreSQL database for $name");
        return (['--driver', 'pgsql', '--params', pg_admin_params($db)],
                sub { system(pg_psql('postgres'), '-c', "DROP DATABASE IF EXISTS $db") });
    }
    my $file = catfile(serverroot(), 'state', "$name-$$.db");
    unlink $file, "$file-wal", "$file-shm";
    return (['--driver', 'sqlite3', '--params', $file],
            sub { unlink $file, "$file-wal", "$file-shm" });
}

# The httpd binary the suite runs.
sub httpd_bin { Apache::Test::vars('httpd') }

# Where Debian keeps httpd's modules (the throwaway servers' LoadModule lines).
sub httpd_modules { '/usr/lib/apache2/modules' }

# ---- mail ----------------------------------------------------------------------------
#
# The transports of t/conf/extra.conf.in leave one file per message in
# state/mail/NAME (main: file:, stub and giveup: t/bin/sendmail-stub, smtp:
# t/bin/smtp-sink). wait_mail() polls such a directory for a message to an address
# (and of a template), parses it and marks it seen, so that the next call for the same
# address finds the next message; messages are taken in the order they were written.
#
#   my $m = wait_mail(to => $email, template => 'reset_password', dir => 'main',
#                     timeout => 15) or ...;
#   $m->{token}, $m->{link}, $m->{text}, $m->{html} (decoded, LF line ends), $m->{subject},
#   $m->{headers}{'message-id'} (lower-cased name => [values in order]),
#   $m->{parts} ([{type, charset, cte, headers, body}]), $m->{raw}, $m->{file}, $m->{eol}

sub mail_dir {
    my ($name) = @_;
    return $name if defined $name && $name =~ m{^/};    # a directory of its own
    return catfile(serverroot(), 'state', 'mail', $name // 'main');
}

my (%MAIL_CACHE, %MAIL_SEEN, %MAIL_RAW);

# RFC 2047 encoded-words in a header value, decoded to a Perl string.
sub _decode_words {
    my ($v) = @_;
    require Encode;
    require MIME::Base64;
    require MIME::QuotedPrint;
    # White space between two adjacent encoded-words is not part of the text.
    1 while $v =~ s/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[BbQq]\?)/$1/;
    $v =~ s{=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=}{
        my ($cs, $enc, $t) = ($1, uc $2, $3);
        my $bytes;
        if ($enc eq 'B') {
            $bytes = MIME::Base64::decode_base64($t);
        }
        else {
            $t =~ tr/_/ /;
            $t =~ s/=([0-9A-Fa-f]{2})/chr hex $1/ge;
            $bytes = $t;
        }
        $cs =~ s/\*.*//;    # RFC 2231 language tag
        my $s = eval { Encode::decode($cs, my $copy = $bytes, Encode::FB_CROAK()) };
        defined $s ? $s : "[undecodable $cs]";
    }ge;
    return $v;
}

# Header block text => ({lower-cased name => [values]}, [names in order], [bad lines]).
sub _headers {
    my ($block) = @_;
    my (@lines, %h, @order, @bad);
    for my $l (split /\r?\n/, $block) {
        if ($l =~ /^[ \t]/ && @lines) {
            $lines[-1] .= $l;    # unfold: the line break goes, the white space stays
        }
        else {
            push @lines, $l;
        }
    }
    for my $l (@lines) {
        if ($l =~ /^([\x21-\x39\x3b-\x7e]+):[ \t]*(.*?)[ \t]*$/) {
            push @{ $h{ lc $1 } }, $2;
            push @order, $1;
        }
        else {
            push @bad, $l;
        }
    }
    return (\%h, \@order, \@bad);
}

sub _param {
    my ($v, $name) = @_;
    return undef unless defined $v;
    return $1 if $v =~ /;\s*\Q$name\E\s*=\s*"([^"]*)"/i;
    return $1 if $v =~ /;\s*\Q$name\E\s*=\s*([^;\s]+)/i;
    return undef;
}

# One MIME entity (headers + body) => {type, charset, cte, headers, body (decoded)}.
sub _entity {
    my ($text) = @_;
    require Encode;
    require MIME::Base64;
    require MIME::QuotedPrint;
    my ($head, $body) = split /\r?\n\r?\n/, $text, 2;
    my ($h) = _headers($head // '');
    my $ct = ($h->{'content-type'} || [])->[0] // 'text/plain';
    my ($type) = lc($ct) =~ /^\s*([^;\s]+)/;
    my $cs = lc(_param($ct, 'charset') // 'us-ascii');
    my $cte = lc(($h->{'content-transfer-encoding'} || [])->[0] // '7bit');
    $body //= '';
    my $bytes = $cte eq 'base64'           ? MIME::Base64::decode_base64($body)
              : $cte eq 'quoted-printable' ? MIME::QuotedPrint::decode_qp($body)
              :                              $body;
    # (decode with a CHECK eats its input: give it a copy)
    my $str = eval { Encode::decode($cs eq 'us-ascii' ? 'utf-8' : $cs, my $copy = $bytes,
                                    Encode::FB_CROAK()) };
    return {type => $type // '', charset => $cs, cte => $cte, headers => $h,
            body => $str, bytes => $bytes, encoded => $body, utf8_ok => defined $str};
}

# A message as it was written (octets) => the structure wait_mail returns.
sub parse_mail {
    my ($raw) = @_;
    my ($head, $body) = split /\r?\n\r?\n/, $raw, 2;
    my ($h, $order, $bad) = _headers($head // '');
    my $crlf = () = $raw =~ /\r\n/g;
    my $lf = () = $raw =~ /\n/g;
    my $m = {
        raw => $raw, headers => $h, header_order => $order, bad_header_lines => $bad,
        eol => !$lf ? 'none' : $crlf == $lf ? 'CRLF' : $crlf == 0 ? 'LF' : 'mixed',
        parts => [],
    };
    my $ct = ($h->{'content-type'} || [])->[0] // '';
    $m->{type} = lc(($ct =~ /^\s*([^;\s]+)/)[0] // '');
    $m->{subject} = _decode_words(($h->{subject} || [])->[0] // '');
    if ($m->{type} =~ m{^multipart/}) {
        my $b = _param($ct, 'boundary') // '';
        $m->{boundary} = $b;
        my @chunks = split /^--\Q$b\E(?:--)?[ \t]*\r?\n?/m, $body // '';
        shift @chunks;    # the preamble
        for my $chunk (@chunks) {
            next unless $chunk =~ /\S/;
            $chunk =~ s/\r?\n\z//;    # the line break before the next boundary
            push @{ $m->{parts} }, _entity($chunk);
        }
    }
    else {
        push @{ $m->{parts} }, _entity($raw);
    }
    for my $p (@{ $m->{parts} }) {
        $m->{text} //= $p->{body} if $p->{type} eq 'text/plain';
        $m->{html} //= $p->{body} if $p->{type} eq 'text/html';
    }
    # Line ends inside the parts as LF, whatever the transport wrote.
    for my $k (qw(text html)) {
        $m->{$k} //= '';
        $m->{$k} =~ s/\r\n/\n/g;
    }
    ($m->{token}) = $m->{text} =~ /^[ \t]*Code:[ \t]*([A-Za-z0-9_-]{43})(?![A-Za-z0-9_=+\/-])/m;
    ($m->{link}) = $m->{text} =~ m{(https?://[^\s<>"']+[?&]token=[A-Za-z0-9_-]+)};
    return $m;
}

# The header's only value, or undef (several values also give undef).
sub mail_header {
    my ($m, $name) = @_;
    my $v = ($m->{headers} || {})->{ lc $name } || [];
    return @$v == 1 ? $v->[0] : undef;
}

# The subject line a built-in template gives, as a pattern: {{var}} matches anything,
# a section {{#var}}...{{/var}} or {{^var}}...{{/var}} may be there or not. undef when
# the template's subject file cannot be read.
my %SUBJECT_RE;
sub template_subject_re {
    my ($name, $dir) = @_;
    $dir //= catfile(serverroot(), '..', 'conf', 'mail');
    my $key = "$dir/$name";
    return $SUBJECT_RE{$key} if exists $SUBJECT_RE{$key};
    my $re;
    if (open(my $fh, '<:encoding(UTF-8)', catfile($dir, "$name.subject"))) {
        local $/;
        my $t = <$fh> // '';
        $t =~ s/^\s+|\s+$//g;
        # {{@id}}: the English text of the message (conf/i18n/en.json), area E.
        if ($t =~ /\{\{@/ && open(my $cf, '<:raw', catfile($dir, '..', 'i18n', 'en.json'))) {
            my $en = JSON::PP->new->utf8->decode(do { local $/; <$cf> // '{}' });
            $t =~ s/\{\{@([a-z0-9_.]+)\}\}/$en->{$1} \/\/ $1/ge;
        }
        my $pat = '';
        for my $piece (split /(\{\{[#^\/]?\s*\w+\s*\}\})/, $t) {
            if ($piece =~ /^\{\{([#^])/)   { $pat .= '(?:' }
            elsif ($piece =~ /^\{\{\//)    { $pat .= ')?' }
            elsif ($piece =~ /^\{\{/)      { $pat .= '.*?' }
            else                           { $pat .= quotemeta $piece }
        }
        $re = qr/^\s*$pat\s*$/s;
    }
    return $SUBJECT_RE{$key} = $re;
}

# The messages in a mail directory (to an address, if given), oldest first.
sub mails {
    my (%o) = @_;
    my $dir = mail_dir($o{dir});
    opendir(my $dh, $dir) or return ();
    my @files;
    for my $e (readdir $dh) {
        next unless $e =~ /\.eml$/ && $e !~ /^\./;
        my $f = catfile($dir, $e);
        push @files, [$f, (Time::HiRes::stat($f))[9] // 0];
    }
    closedir $dh;
    my @out;
    for my $fm (sort { $a->[1] <=> $b->[1] || $a->[0] cmp $b->[0] } @files) {
        my $f = $fm->[0];
        my $m = $MAIL_CACHE{$f};
        if (!$m) {
            # Files are written once (renamed into place): each is read once.
            my $raw = $MAIL_RAW{$f} //= do {
                open(my $fh, '<:raw', $f) or next;
                local $/;
                lc(<$fh> // '');
            };
            # Cheap filter first: the address appears literally in To.
            next if defined $o{to} && index($raw, lc $o{to}) < 0;
            open(my $fh, '<:raw', $f) or next;
            local $/;
            $m = $MAIL_CACHE{$f} = parse_mail(<$fh> // '');
            close $fh;
            $m->{file} = $f;
            delete $MAIL_RAW{$f};
        }
        if (defined $o{to}) {
            my $to = lc join ',', @{ $m->{headers}{to} || [] };
            next unless $to =~ /(?:^|[\s<,])\Q${\ lc $o{to}}\E(?:$|[\s>,])/;
        }
        push @out, $m;
    }
    return @out;
}

sub _mail_matches {
    my ($m, %o) = @_;
    if (defined $o{subject}) {
        return 0 unless $m->{subject} =~ $o{subject};
    }
    elsif (defined $o{template}) {
        my $re = template_subject_re($o{template});
        return 0 if $re && $m->{subject} !~ $re;
    }
    return 0 if $o{with_token} && !defined $m->{token};
    return 1;
}

sub mail_seen { $MAIL_SEEN{ $_[0]{file} // '' } = 1 }

# Wait (up to timeout seconds, 15 by default) for an unseen message to `to` in dir
# (main by default) matching template (its subject) or subject (a pattern). Returns
# it, marked seen, or undef with a diagnostic naming what did arrive.
sub wait_mail {
    my (%o) = @_;
    die "wait_mail: no 'to'\n" unless defined $o{to};
    require Time::HiRes;
    my $deadline = Time::HiRes::time() + ($o{timeout} // 15);
    while (1) {
        for my $m (mails(dir => $o{dir}, to => $o{to})) {
            next if $MAIL_SEEN{ $m->{file} };
            next unless _mail_matches($m, %o);
            mail_seen($m);
            return $m;
        }
        last if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.2);
    }
    my @got = map { ($MAIL_SEEN{ $_->{file} } ? 'seen: ' : 'unseen: ') . $_->{subject} }
        mails(dir => $o{dir}, to => $o{to});
    diag(sprintf "no %s mail to %s in %s within %ss; to this address: %s",
         $o{template} // ($o{subject} ? "subject $o{subject}" : 'any'), $o{to}, mail_dir($o{dir}),
         $o{timeout} // 15, @got ? join('; ', @got) : 'nothing');
    return undef;
}

# wait_mail as one assertion; returns the message, or an empty one so that a test can
# go on (and fail where it uses it).
sub mail_ok {
    my ($name, %o) = @_;
    my $m = wait_mail(%o);
    ok($m, "$name: the mail arrives");
    return $m || {headers => {}, parts => [], text => '', html => '', subject => '', raw => ''};
}

# No unseen message to `to` (matching template/subject) is in dir now. Call it after a
# later message of the same transport arrived (the outbox is delivered in order), or
# after waiting.
sub no_mail_ok {
    my ($name, %o) = @_;
    my @m = grep { !$MAIL_SEEN{ $_->{file} } && _mail_matches($_, %o) }
        mails(dir => $o{dir}, to => $o{to});
    ok(!@m, "$name: no mail to $o{to}") or diag('got: ' . join '; ', map { $_->{subject} } @m);
}

# ---- the outbox ----------------------------------------------------------------------

sub outbox_rows {
    my ($where) = @_;
    return db_rows('SELECT * FROM mail_outbox' . (defined $where ? " WHERE $where" : '')
                   . ' ORDER BY id');
}

sub outbox_row {
    my ($id) = @_;
    return db_row('SELECT * FROM mail_outbox WHERE id = ' . sql_str($id));
}

# Poll the outbox row until $cond->($row) holds (up to timeout seconds, 15 by default);
# returns the last row seen and whether the condition held.
sub wait_outbox {
    my ($id, $cond, $timeout) = @_;
    require Time::HiRes;
    my $deadline = Time::HiRes::time() + ($timeout // 15);
    my $row;
    while (1) {
        $row = outbox_row($id);
        return ($row, 1) if $row && $cond->($row);
        last if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.25);
    }
    return ($row, 0);
}

# A well-formed token nobody was given.
sub random_token {
    my @c = ('A' .. 'Z', 'a' .. 'z', '0' .. '9', '-', '_');
    return join '', map { $c[rand @c] } 1 .. 43;
}

# POST PATH with every kind of bad token (plus the fields of %$extra): a well-formed
# unknown one, malformed strings (400 token_invalid), wrong JSON types (422
# wrong_type) and none at all (422 required). Nothing is changed by any of them.
sub bad_tokens_ok {
    my ($c, $path, $extra, $name) = @_;
    $extra ||= {};
    my $t = random_token();
    my @invalid = (
        ['an unknown token',            random_token()],
        ['42 characters',               substr($t, 0, 42)],
        ['44 characters',               $t . 'A'],
        ['base64 padding',              substr($t, 0, 42) . '='],
        ['standard base64 characters',  substr($t, 0, 41) . '+/'],
        ['a space inside',              substr($t, 0, 20) . ' ' . substr($t, 21)],
        ['a trailing newline',          "$t\n"],
        ['a NUL inside',                substr($t, 0, 20) . "\x{0}" . substr($t, 21)],
        ['non-ASCII',                   substr($t, 0, 42) . "\x{e9}"],
        ['an empty string',             ''],
        ['10000 characters',            'A' x 10000],
    );
    for my $case (@invalid) {
        my ($what, $v) = @$case;
        my $res = $c->post($path, {%$extra, token => $v});
        my $p = problem_ok($res, 400, 'token_invalid', "$name: $what");
        ok(!defined $res->header('Set-Cookie'), "$name: $what: no cookie");
    }
    for my $case ([number => 42], [true => JSON::PP::true()], [array => [$t]],
                  [object => {token => $t}]) {
        my ($what, $v) = @$case;
        my $p = problem_ok($c->post($path, {%$extra, token => $v}), 422, 'validation_failed',
                           "$name: token as $what");
        fields_ok($p, {token => 'wrong_type'}, "$name: token as $what");
    }
    # No token at all is a field error (docs/api.md, "Links and codes in mail").
    for my $case (['no token', {%$extra}], ['token null', {%$extra, token => undef}]) {
        my ($what, $body) = @$case;
        my $p = problem_ok($c->post($path, $body), 422, 'validation_failed', "$name: $what");
        fields_ok($p, {token => 'required'}, "$name: $what");
    }
    problem_ok($c->post($path, undef, body => '{"token":'), 400, 'invalid_json',
               "$name: broken JSON");
    problem_ok($c->post($path, undef, body => json_enc({%$extra, token => $t}), ctype => 'text/plain'),
               415, 'unsupported_media_type', "$name: text/plain");
}

# Sessions of a user that still count (not revoked, not expired).
sub live_session_count {
    my ($user_id) = @_;
    my $now = time;
    return db_value('SELECT count(*) AS n FROM sessions WHERE user_id = ' . sql_str($user_id)
                    . " AND revoked_at IS NULL AND expires_at > $now AND idle_expires_at > $now");
}

# POST each of @$bodies to PATH at the same moment, each from its own process and
# connection (vhost as in client()); returns the statuses in the order of @$bodies.
sub parallel_posts {
    my ($vhost, $path, $bodies) = @_;
    return map { $_->{code} } parallel_requests(vhost => $vhost, path => $path, bodies => $bodies);
}

# Like parallel_posts, with more control and more of each answer:
#   parallel_requests(vhost => NAME, path => PATH, method => 'POST',
#                     bodies => [DATA ...], headers => [NAME => VALUE ...],
#                     each_headers => [[NAME => VALUE ...] ...], cookie => RAW)
# fires one request per body, each from its own process and connection, all in the
# same second; returns one {code, retry_after, body (raw text), request_id} per body,
# in the order of bodies.
sub parallel_requests {
    my (%o) = @_;
    my $bodies = $o{bodies} || [];
    my $go = time + 2;
    my @kids;
    for my $i (0 .. $#$bodies) {
        pipe(my $r, my $w) or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            close $r;
            my $c = client(vhost => $o{vhost});
            my @h = (@{ $o{headers} || [] }, @{ ($o{each_headers} || [])->[$i] || [] });
            Time::HiRes::sleep(0.01) while Time::HiRes::time() < $go;
            my $res = $c->request($o{method} // 'POST', $o{path}, json => $bodies->[$i],
                                  headers => \@h,
                                  (defined $o{cookie} ? (cookie => $o{cookie}) : ()));
            print {$w} $JSON->encode({
                code        => $res->code,
                retry_after => scalar $res->header('Retry-After'),
                request_id  => scalar $res->header('X-Request-Id'),
                body        => $res->decoded_content(charset => 'none') // '',
            });
            close $w;
            POSIX::_exit(0);
        }
        close $w;
        push @kids, [$pid, $r];
    }
    my @out;
    for my $k (@kids) {
        my ($pid, $r) = @$k;
        local $/;
        my $text = <$r>;
        my $v = defined $text && length $text ? eval { $JSON->decode($text) } : undef;
        push @out, $v || {code => 'none', body => ''};
        waitpid($pid, 0);
    }
    return @out;
}

# ---- client addresses (vhosts behind mod_remoteip) ---------------------------------------
#
# The throttle vhosts trust X-Forwarded-For from 127.0.0.1 (RemoteIPInternalProxy): each
# test sends its own random address, so that counters kept per client IP (which last
# for their window and are shared by every vhost on the database) never collide.

# A random address in 10.0.0.0/8 (never .0 or .255 in the last octet).
sub random_ipv4 {
    return join '.', 10, int rand 256, int rand 256, 1 + int rand 254;
}

# A random /64 of 2001:db8::/32, as its first four groups ("2001:db8:a1b:c2d"); no
# group is 0, so that an address written from it is already in canonical form.
sub random_ipv6_net {
    return sprintf '2001:db8:%x:%x', 1 + int rand 0xfffe, 1 + int rand 0xfffe;
}

# An address in the /64 NET (random_ipv6_net() unless given); the interface part is
# HOST (a string like "1" or "1:2:3:4") or random.
sub random_ipv6 {
    my ($net, $host) = @_;
    $net //= random_ipv6_net();
    $host //= join ':', map { sprintf '%x', 1 + int rand 0xfffe } 1 .. 4;
    return $host =~ /:.*:.*:/ ? "$net:$host" : "$net\::$host";
}

# A client of VHOST that says it is (a proxy forwarding for) IP.
sub xff_client {
    my ($vhost, $ip, %o) = @_;
    return client(%o, vhost => $vhost, headers => ['X-Forwarded-For' => $ip, @{ $o{headers} || [] }]);
}

# The response has Retry-After: an integer of seconds from 1 to MAX. Returns it.
sub retry_after_ok {
    my ($res, $max, $name) = @_;
    my $ra = ref $res eq 'HASH' ? $res->{retry_after} : $res->header('Retry-After');
    my $ok = defined $ra && $ra =~ /^[0-9]+$/ && $ra >= 1 && $ra <= $max;
    ok($ok, "$name: Retry-After is an integer from 1 to $max")
        or diag('Retry-After: ' . ($ra // 'none'));
    return $ok ? $ra + 0 : undef;
}

# ---- the audit log -------------------------------------------------------------------------

# The audit rows a response's request wrote (found by the X-Request-Id it carries).
sub request_rows {
    my ($res) = @_;
    my $id = ref $res eq 'HASH' ? $res->{request_id} : $res->header('X-Request-Id');
    return [] unless defined $id && length $id;
    return db_rows('SELECT * FROM audit_log WHERE request_id = ' . sql_str($id) . ' ORDER BY id');
}

# audit_log rows matching a WHERE clause, oldest first.
sub audit_rows {
    my ($where) = @_;
    return db_rows('SELECT * FROM audit_log' . (defined $where ? " WHERE $where" : '')
                   . ' ORDER BY id');
}

# The audit rows of one event written by the request of response $res.
sub events_in {
    my ($res, $event) = @_;
    return grep { $_->{event} eq $event } @{ request_rows($res) };
}

# The audit rows of one event of a user.
sub audit_events {
    my ($uid, $event) = @_;
    return audit_rows('event = ' . sql_str($event) . ' AND user_id = ' . sql_str($uid));
}

# A 6-digit code the MFA account's secret ($a from mfa_account) gives at no step near now.
sub wrong_code {
    my ($a) = @_;
    my %near = map { totp_code_at($a->{secret}, totp_step() + $_) => 1 } -3 .. 3;
    for my $n (map { sprintf '%06d', ($_ * 271_829) % 1_000_000 } 1 .. 20) {
        return $n unless $near{$n};
    }
}

# An audit row's detail, decoded (undef if there is none or it is not JSON).
sub audit_detail {
    my ($row) = @_;
    return undef unless $row && defined $row->{detail} && length $row->{detail};
    return eval { $JSON->decode($row->{detail}) };
}

# The status of a guarded page (/private/: Require authsvc; or path => PATH) for the
# client, asked 8 times on fresh connections so that several server processes (each
# with its own session cache) answer: the status if all agree, else all of them
# ("200 401 200 ...").
sub guard_code {
    my ($c, %opt) = @_;
    my $path = delete $opt{path} // '/private/';
    my @codes = map { $c->get($path, abs => 1, %opt)->code } 1 .. 8;
    my %distinct = map { $_ => 1 } @codes;
    return keys %distinct == 1 ? $codes[0] : "@codes";
}

# ---- the SMTP sink -------------------------------------------------------------------

# The port of the smtp vhosts (Define AUTHSVC_SMTP_PORT in the generated extra.conf).
sub smtp_sink_port {
    my $conf = catfile(Apache::Test::vars('t_conf'), 'extra.conf');
    open(my $fh, '<', $conf) or die "$conf: $!\n";
    while (<$fh>) {
        return $1 if /^\s*Define\s+AUTHSVC_SMTP_PORT\s+(\d+)/;
    }
    die "no 'Define AUTHSVC_SMTP_PORT' in $conf\n";
}

my @SINKS;
END { local $?; for my $pid (@SINKS) { kill 'TERM', $pid; waitpid($pid, 0) } }

# Start t/bin/smtp-sink on the smtp vhosts' port, writing into state/mail/smtp, for at
# most $lifetime seconds (default 180); stopped when the test ends. Returns its pid,
# or undef (with a diagnostic) if it does not answer within 10 seconds.
sub start_smtp_sink {
    my ($lifetime) = @_;
    require IO::Socket::INET;
    require Time::HiRes;
    my $port = smtp_sink_port();
    my $dir = mail_dir('smtp');
    my $bin = catfile(serverroot(), 'bin', 'smtp-sink');
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        open STDOUT, '>', '/dev/null';
        exec $^X, $bin, $port, $dir, $lifetime // 180;
        exit 127;
    }
    push @SINKS, $pid;
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1);
        if ($s) {
            close $s;
            return $pid;
        }
        last if waitpid($pid, POSIX::WNOHANG()) == $pid;
        Time::HiRes::sleep(0.1);
    }
    diag("the SMTP sink did not start on 127.0.0.1:$port");
    return undef;
}

# ---- the error log -------------------------------------------------------------------

sub _error_log { catfile(Apache::Test::vars('t_logs'), 'error_log') }

sub error_log_mark { -s _error_log() || 0 }

sub error_log_since {
    my ($mark) = @_;
    open(my $fh, '<', _error_log()) or return '';
    seek($fh, $mark // 0, 0);
    local $/;
    my $s = <$fh>;
    return $s // '';
}

# ---- MFA (issue 6) -----------------------------------------------------------------------
#
# Codes come from oathtool (OATH Toolkit), an implementation independent of the module's.
#
#   my $a = mfa_account(vhost => 'mfa');   # signed up, signed in, enrolled and confirmed
#   $a->{c}, $a->{f}, $a->{u}, $a->{secret}, $a->{recovery} (10 codes), $a->{enroll}
#   my $code = mfa_code($a);               # a code the server has not seen accepted yet
#   my ($c, $res) = mfa_start($a);         # sign-in step one: 401 mfa_required
#   my $c = mfa_login($a);                 # both steps; a signed-in client

# The TOTP time step (30 s) of a time (now by default).
sub totp_step { int(($_[0] // Time::HiRes::time()) / 30) }

# Wait until at least $margin seconds (3 by default) are left in the current time step,
# so that a code computed now is still of the step meant when the server checks it.
sub totp_wait_margin {
    my ($margin) = @_;
    $margin //= 3;
    my $now = Time::HiRes::time();
    my $left = 30 * (totp_step($now) + 1) - $now;
    Time::HiRes::sleep($left + 0.05) if $left < $margin;
    return;
}

# The 6-digit code of a base32 secret for time step $step (oathtool --totp -b -N @T).
sub totp_code_at {
    my ($secret, $step) = @_;
    my $t = $step * 30;
    open(my $fh, '-|', 'oathtool', '--totp', '-b', '-N', "\@$t", $secret)
        or die "cannot run oathtool: $!\n";
    my $out = <$fh>;
    close $fh;
    die "oathtool failed for step $step\n" if $? || !defined $out;
    chomp $out;
    die "oathtool said '$out'\n" unless $out =~ /^[0-9]{6}$/;
    return $out;
}

# The code of the current step + $offset (0 by default), after waiting for a margin of
# 3 s in the step (no_wait => 1: at once).
sub totp_code { (totp_code_step(@_))[0] }

# The same, and the step: ($code, $step).
sub totp_code_step {
    my ($secret, $offset, %o) = @_;
    totp_wait_margin() unless $o{no_wait};
    my $step = totp_step() + ($offset // 0);
    return (totp_code_at($secret, $step), $step);
}

# RFC 4648 base32 (upper or lower case, no padding needed) to bytes; undef if malformed.
sub base32_decode {
    my ($s) = @_;
    return undef unless defined $s;
    $s = uc $s;
    $s =~ s/=+$//;
    return undef if $s =~ /[^A-Z2-7]/;
    my $bits = join '', map { sprintf '%05b', index('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', $_) }
        split //, $s;
    $bits = substr($bits, 0, 8 * int(length($bits) / 8));
    return pack 'B*', $bits;
}

# The key files of t/conf/extra.conf.in (written by t/TEST.PL): 1 = secret.key, 2 = secret2.key.
sub secret_key_file {
    my ($n) = @_;
    return catfile(serverroot(), 'state', ($n // 1) == 1 ? 'secret.key' : "secret$n.key");
}

# The key id a sealed value names: 8 hex digits of SHA-256("authsvc-secretbox-kid" || key).
sub key_kid {
    my ($file) = @_;
    open(my $fh, '<', $file) or die "$file: $!\n";
    local $/;
    my $hex = <$fh>;
    $hex =~ s/\s+//g;
    require Digest::SHA;
    return substr(Digest::SHA::sha256_hex('authsvc-secretbox-kid' . pack('H*', $hex)), 0, 8);
}

# A recovery code as the API gives it: 16 base32 characters in groups of four.
sub recovery_code_re { qr/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/ }

sub iso_time_ok {
    my ($v, $name) = @_;
    like($v // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, "$name: an ISO 8601 time");
}

# POST /users/me/mfa with a signed-in client; dies unless 200. Returns the body.
sub mfa_enroll {
    my ($c) = @_;
    my $res = $c->post('/users/me/mfa', {});
    die 'POST /users/me/mfa: ' . $res->status_line . ' ' . $res->content . "\n"
        unless $res->code == 200;
    return json_body($res);
}

# A new account with MFA on (vhost 'mfa' unless given; the other options as for
# account()): signed in (the client counts as MFA-passed), enrolled, confirmed.
sub mfa_account {
    my (%o) = @_;
    $o{vhost} //= 'mfa';
    my $vhost = $o{vhost};
    my ($c, $f, $u) = account(%o);
    my $e = mfa_enroll($c);
    my ($code, $step) = totp_code_step($e->{secret});
    my $res = $c->post('/users/me/mfa/confirm', {code => $code});
    die 'POST /users/me/mfa/confirm: ' . $res->status_line . ' ' . $res->content . "\n"
        unless $res->code == 200;
    my $b = json_body($res);
    return {c => $c, f => $f, u => $u, vhost => $vhost, secret => $e->{secret}, enroll => $e,
            recovery => $b->{recovery_codes}, last_step => $step};
}

# A code for the account that the server will not take for a replay: of a step after
# the last one used (by these helpers) and within the window ($window, 1 by default);
# waits for the next step when it must. The step is taken as used.
sub mfa_code {
    my ($a, $window) = @_;
    $window //= 1;
    while (1) {
        totp_wait_margin();
        my $now = totp_step();
        my $step = $now;
        $step = $a->{last_step} + 1 if defined $a->{last_step} && $step <= $a->{last_step};
        if ($step <= $now + $window) {
            $a->{last_step} = $step;
            return totp_code_at($a->{secret}, $step);
        }
        Time::HiRes::sleep(30 * ($now + 1) - Time::HiRes::time() + 0.05);
    }
}

# Sign-in step one for an MFA account (on its vhost unless given): the new client, the
# response (401 mfa_required) and its mfa_token.
sub mfa_start {
    my ($a, %o) = @_;
    my $c = $o{client} // client(vhost => $o{vhost} // $a->{vhost}, agent => $o{agent});
    my $res = $c->login($a->{f}{email}, $a->{f}{password});
    my $p = eval { $JSON->decode($res->content) } || {};
    return ($c, $res, ref $p eq 'HASH' ? $p->{mfa_token} : undef);
}

# Both steps of a sign-in with a TOTP code (or recovery_code => CODE); dies unless it
# works. Returns the signed-in client and the 200 response.
sub mfa_login {
    my ($a, %o) = @_;
    my ($c, $res, $token) = mfa_start($a, %o);
    die 'sign-in step one: ' . $res->status_line . ' ' . $res->content . "\n"
        unless $res->code == 401 && defined $token;
    my %second = defined $o{recovery_code} ? (recovery_code => $o{recovery_code})
               :                             (code => mfa_code($a));
    $res = $c->post('/auth/login/mfa', {mfa_token => $token, %second});
    die 'sign-in step two: ' . $res->status_line . ' ' . $res->content . "\n"
        unless $res->code == 200;
    return wantarray ? ($c, $res) : $c;
}

# A JSON boolean (not a number or a string) with this truth value.
sub bool_is {
    my ($v, $want, $name) = @_;
    ok(JSON::PP::is_bool($v) && (!!$v) == (!!$want), "$name: " . ($want ? 'true' : 'false'))
        or diag('got ' . (defined $v ? (JSON::PP::is_bool($v) ? ($v ? 'true' : 'false') : "'$v'") : 'undef'));
}

# Bad input refused as the client's fault: a 4xx problem+json with a code (never a 5xx,
# never a success), and no cookie. Returns the problem.
sub client_error_ok {
    my ($res, $name) = @_;
    my @why;
    push @why, 'status ' . $res->code unless $res->code >= 400 && $res->code < 500;
    my $ct = $res->header('Content-Type') // '';
    push @why, "Content-Type '$ct'" unless $ct =~ m{^application/problem\+json\b};
    my $p = eval { $JSON->decode($res->content) };
    push @why, 'no problem code' unless ref $p eq 'HASH' && defined $p->{code} && length $p->{code};
    push @why, 'Set-Cookie: ' . $res->header('Set-Cookie') if defined $res->header('Set-Cookie');
    ok(!@why, "$name: 4xx problem+json (" . $res->code . ' ' . (ref $p eq 'HASH' ? $p->{code} // '' : '')
       . ')') or diag(join "\n", @why, substr($res->content // '', 0, 300));
    return ref $p eq 'HASH' ? $p : {};
}

# A member of the wrong JSON type: 422 validation_failed naming the field (wrong_type,
# or invalid).
sub wrong_type_ok {
    my ($res, $field, $name) = @_;
    my $p = problem_ok($res, 422, 'validation_failed', $name);
    my ($e) = grep { ($_->{field} // '') eq $field } @{ $p->{errors} || [] };
    ok($e && ($e->{code} // '') =~ /^(?:wrong_type|invalid)$/, "$name: errors name $field")
        or diag(json_enc($p->{errors}));
}

# A browser sent to the login page: 302 to LOGIN?return_to=<the path asked, URL-encoded>
# &prompt=PROMPT (undef: no prompt member).
sub prompt_redirect_ok {
    my ($res, $login, $asked, $prompt, $name) = @_;
    my $loc = $res->header('Location') // '';
    my ($base, $qref) = loc_split($loc);
    my %q = %$qref;
    my @why;
    push @why, 'status ' . $res->code unless $res->code == 302;
    push @why, "to '$base'" unless ($base // '') eq $login;
    push @why, "return_to '" . ($q{return_to} // 'none') . "'" unless ($q{return_to} // '') eq $asked;
    push @why, "prompt '" . ($q{prompt} // 'none') . "'"
        unless defined $prompt ? ($q{prompt} // '') eq $prompt : !exists $q{prompt};
    ok(!@why, "$name: 302 to $login with return_to" . (defined $prompt ? " and prompt=$prompt" : ''))
        or diag(join "\n", @why, "Location: $loc");
}

# ---- Tokens (issue 7) -------------------------------------------------------------------
#
# Keys come from t/TEST.PL (openssl CLI); thumbprints, signatures and verification of the
# module's tokens are made here with Python's cryptography and PyJWT (Debian python3-jwt),
# implementations independent of the module's.
#
#   my $t = token_account(vhost => 'tok', roles => 'admin');   # a new account, signed in
#   $t->{c}, $t->{f}, $t->{u}, $t->{res}, $t->{b} (login body), $t->{at}, $t->{rt}
#   my ($h, $p, $sig) = jwt_parts($t->{at});   # header, claims, signature bytes
#   my $res = bearer_get($c, $t->{at}, '/private/');          # no cookie
#   token_invalid_ok($res, 'name');                           # 401 token_invalid + Bearer
#   my $jwt = forge_token(header => {...}, payload => {...}, hmac_key => hs_secret());
#   my $jwt = forge_token(header => {...}, payload => {...}, key => 'ed25519-b');
#   my $v = pyjwt_verify($jwt, jwks => $jwks, alg => 'EdDSA', iss => ..., aud => ...);

sub b64url_enc {
    require MIME::Base64;
    return MIME::Base64::encode_base64url($_[0] // '');
}

# Strict base64url (no padding, no other characters) to bytes; undef if malformed.
sub b64url_dec {
    my ($s) = @_;
    return undef unless defined $s && $s =~ /^[A-Za-z0-9_-]*$/ && length($s) % 4 != 1;
    require MIME::Base64;
    return MIME::Base64::decode_base64url($s);
}

# A compact JWS => (header, payload (both decoded JSON, undef if not), signature bytes,
# payload JSON text); the empty list if it does not have three parts.
sub jwt_parts {
    my ($jwt) = @_;
    my @p = split /\./, $jwt // '', -1;
    return () unless @p == 3;
    my ($h, $b) = map { my $t = b64url_dec($_); defined $t ? eval { $JSON->decode($t) } : undef }
        @p[0, 1];
    return ($h, $b, b64url_dec($p[2]), b64url_dec($p[1]));
}

# The claims of a token (an empty hash if it has none).
sub jwt_claims {
    my (undef, $p) = jwt_parts($_[0]);
    return ref $p eq 'HASH' ? $p : {};
}

sub python_bin { -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3' }

# Run a Python 3 script with $input on its standard input; returns (exit status, stdout,
# stderr).
sub run_python {
    my ($script, $input) = @_;
    require File::Temp;
    my $in = File::Temp->new;
    binmode $in;
    print {$in} $input // '';
    close $in;
    my $err = File::Temp->new;
    close $err;
    my $pid = open(my $fh, '-|') // die "fork: $!\n";
    if (!$pid) {
        open(STDIN, '<', $in->filename) or POSIX::_exit(126);
        open(STDERR, '>', $err->filename) or POSIX::_exit(126);
        exec(python_bin(), '-c', $script) or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    my $rc = $? >> 8;
    open(my $efh, '<', $err->filename);
    my $e = $efh ? <$efh> // '' : '';
    return ($rc, $out, $e);
}

# Run a script that reads one JSON request and prints one JSON answer.
sub _py_json {
    my ($script, $req) = @_;
    my ($rc, $out, $err) = run_python($script, $JSON->encode($req));
    my $v = eval { $JSON->decode($out) };
    die "python failed (exit $rc): $err $out\n" if $rc || ref $v ne 'HASH';
    return $v;
}

# The files t/TEST.PL writes: ed25519, ed25519-b, es256, rs256 (.pem), hs256 (.key).
sub jwt_key_file {
    my ($name) = @_;
    return catfile(serverroot(), 'state', $name eq 'hs256' ? 'jwt-hs256.key' : "jwt-$name.pem");
}

my $PY_KEYINFO = <<'PY';
import sys, json, base64, hashlib
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import ed25519, ec, rsa
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
def ib(n): return n.to_bytes(max(1, (n.bit_length() + 7) // 8), 'big')
r = json.load(sys.stdin)
key = s.load_pem_private_key(open(r['file'], 'rb').read(), None)
pub = key.public_key()
if isinstance(pub, ed25519.Ed25519PublicKey):
    raw = pub.public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
    jwk = {'crv': 'Ed25519', 'kty': 'OKP', 'x': b64(raw)}; alg = 'EdDSA'
elif isinstance(pub, ec.EllipticCurvePublicKey):
    n = pub.public_numbers()
    raw = pub.public_bytes(s.Encoding.X962, s.PublicFormat.UncompressedPoint)
    jwk = {'crv': 'P-256', 'kty': 'EC', 'x': b64(n.x.to_bytes(32, 'big')),
           'y': b64(n.y.to_bytes(32, 'big'))}; alg = 'ES256'
elif isinstance(pub, rsa.RSAPublicKey):
    n = pub.public_numbers()
    raw = pub.public_bytes(s.Encoding.DER, s.PublicFormat.PKCS1)
    jwk = {'e': b64(ib(n.e)), 'kty': 'RSA', 'n': b64(ib(n.n))}; alg = 'RS256'
else:
    raise SystemExit('unexpected key type')
canon = json.dumps(jwk, sort_keys=True, separators=(',', ':'))
print(json.dumps({'kid': b64(hashlib.sha256(canon.encode()).digest()), 'jwk': jwk, 'alg': alg,
    'canonical': canon, 'pub_raw': b64(raw),
    'pub_pem': pub.public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode(),
    'pub_der': b64(pub.public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo))}))
PY

# What the test knows of a key file (ed25519, ed25519-b, es256, rs256): {kid (RFC 7638
# thumbprint), jwk (the public members), alg, canonical (the thumbprint's input), pub_raw
# (b64url), pub_pem, pub_der (b64url)}.
my %KEYINFO;
sub key_info {
    my ($name) = @_;
    return $KEYINFO{$name} //= _py_json($PY_KEYINFO, {file => jwt_key_file($name)});
}

# The HS256 secret of tokhs (the bytes of the 64 hex digits in the file).
sub hs_secret {
    open(my $fh, '<', jwt_key_file('hs256')) or die jwt_key_file('hs256') . ": $!\n";
    local $/;
    my $hex = <$fh>;
    $hex =~ s/\s+//g;
    return pack 'H*', $hex;
}

# The kid of an HS256 key: "hs-" + base64url of the first 12 bytes of
# HMAC-SHA256(secret, "authsvc-jwt-kid").
sub hs_kid {
    require Digest::SHA;
    return 'hs-' . b64url_enc(substr(Digest::SHA::hmac_sha256('authsvc-jwt-kid', $_[0] // hs_secret()),
                                     0, 12));
}

my $PY_SIGN = <<'PY';
import sys, json, base64
from cryptography.hazmat.primitives import serialization as s, hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
r = json.load(sys.stdin)
key = s.load_pem_private_key(open(r['file'], 'rb').read(), None)
data = r['input'].encode()
alg = r['alg']
if alg == 'EdDSA':
    sig = key.sign(data)
elif alg == 'ES256':
    rr, ss = utils.decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    sig = rr.to_bytes(32, 'big') + ss.to_bytes(32, 'big')
elif alg == 'RS256':
    sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
else:
    raise SystemExit('alg ' + alg)
print(json.dumps({'sig': base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}))
PY

# The signature (bytes) of the key file NAME over TEXT, with the key's own algorithm.
sub sign_with {
    my ($name, $text) = @_;
    my $r = _py_json($PY_SIGN, {file => jwt_key_file($name), alg => key_info($name)->{alg},
                                input => $text});
    return b64url_dec($r->{sig});
}

# A compact JWS the test makes itself:
#   header => {...} | raw_header => JSON TEXT;  payload => {...} | raw_payload => JSON TEXT
#   hmac_key => BYTES (HS256) | key => NAME (signed with that key file) | sig => BYTES
#   (none of these: an empty signature)
# exp, nbf, iat and auth_time given as decimal strings are written as JSON numbers.
sub forge_token {
    my (%o) = @_;
    my $h = exists $o{raw_header} ? $o{raw_header} : $JSON->encode($o{header});
    my $p;
    if (exists $o{raw_payload}) {
        $p = $o{raw_payload};
    }
    else {
        my %c = %{ $o{payload} };
        for my $k (qw(exp nbf iat auth_time)) {
            $c{$k} = 0 + $c{$k} if defined $c{$k} && !ref $c{$k} && $c{$k} =~ /^-?[0-9]+$/;
        }
        $p = $JSON->encode(\%c);
    }
    my $input = b64url_enc($h) . '.' . b64url_enc($p);
    my $sig = $o{sig} // '';
    if (defined $o{hmac_key}) {
        require Digest::SHA;
        $sig = Digest::SHA::hmac_sha256($input, $o{hmac_key});
    }
    elsif (defined $o{key}) {
        $sig = sign_with($o{key}, $input);
    }
    return $input . '.' . b64url_enc($sig);
}

my $PY_VERIFY = <<'PY';
import sys, json, jwt
r = json.load(sys.stdin)
try:
    nkeys = None
    if 'jwks' in r:
        ks = jwt.PyJWKSet.from_dict(r['jwks'])
        nkeys = len(ks.keys)
        key = ks[jwt.get_unverified_header(r['token'])['kid']].key
    else:
        key = bytes.fromhex(r['secret_hex'])
    claims = jwt.decode(r['token'], key, algorithms=[r['alg']], audience=r['aud'],
                        issuer=r['iss'], leeway=r.get('leeway', 0),
                        options={'require': ['exp', 'iat', 'nbf', 'iss', 'aud', 'sub']})
    print(json.dumps({'ok': True, 'claims': claims, 'nkeys': nkeys}))
except Exception as e:
    print(json.dumps({'ok': False, 'error': type(e).__name__ + ': ' + str(e)}))
PY

# Verify a token with PyJWT: jwks => {keys => [...]} (the key its kid names) or
# secret => BYTES (HS256), alg => the one algorithm allowed, iss, aud. Returns
# {ok => 1, claims => {...}} or {ok => 0, error => TEXT}.
sub pyjwt_verify {
    my ($token, %o) = @_;
    my %req = (token => $token, alg => $o{alg}, iss => $o{iss}, aud => $o{aud});
    $req{jwks} = $o{jwks} if $o{jwks};
    $req{secret_hex} = unpack('H*', $o{secret}) if defined $o{secret};
    return _py_json($PY_VERIFY, \%req);
}

# Sign in with the client $c; returns {res, b (the body), at, rt}.
sub token_login {
    my ($c, $login, $password) = @_;
    my $res = $c->login($login, $password);
    my $b = $res->code == 200 ? json_body($res) || {} : {};
    return {res => $res, b => $b, at => $b->{access_token}, rt => $b->{refresh_token}};
}

# A new account signed in on a token vhost (vhost 'tok' unless given; roles, verified,
# agent and the registration fields as for account()). Dies unless it works. Returns
# {c, f, u, vhost, res, b, at, rt, cookie (the session cookie's value)}.
sub token_account {
    my (%o) = @_;
    my $vhost = delete $o{vhost} // 'tok';
    my ($c, $f) = registered(%o, vhost => $vhost);
    my $l = token_login($c, $f->{email}, $f->{password});
    die 'login failed: ' . $l->{res}->status_line . ' ' . $l->{res}->content . "\n"
        unless $l->{res}->code == 200;
    return {%$l, c => $c, f => $f, u => $l->{b}{user}, vhost => $vhost,
            cookie => $c->jar->{authsvc}};
}

# The Authorization header of a Bearer token, as a list for headers => [...].
sub bearer { ('Authorization' => "Bearer $_[0]") }

# GET PATH (outside the mount; api => 1: under it) with the Bearer token and no cookie
# (cookie => RAW to send one anyway; headers => [...] more headers).
sub bearer_get {
    my ($c, $token, $path, %o) = @_;
    my $api = delete $o{api};
    my @h = (bearer($token), @{ delete $o{headers} || [] });
    my %ck = exists $o{cookie} ? () : (no_cookie => 1);
    return $c->get($path, ($api ? () : (abs => 1)), %ck, %o, headers => \@h);
}

# POST /auth/refresh {refresh_token} without a cookie (body => RAW to send other bytes).
sub refresh_post {
    my ($c, $rt, %o) = @_;
    return $c->post('/auth/refresh', {refresh_token => $rt}, no_cookie => 1, %o);
}

# 401 token_invalid problem+json with WWW-Authenticate: Bearer error="invalid_token"
# (loose => 1: any WWW-Authenticate). Returns the problem.
sub token_invalid_ok {
    my ($res, $name, %o) = @_;
    my $p = problem_ok($res, 401, 'token_invalid', $name);
    my $wa = join ', ', $res->header('WWW-Authenticate');
    if ($o{loose}) {
        ok(length $wa, "$name: WWW-Authenticate") or diag('no WWW-Authenticate');
    }
    else {
        ok($wa =~ /^\s*Bearer\b/i && $wa =~ /\berror\s*=\s*"invalid_token"/,
           "$name: WWW-Authenticate: Bearer error=\"invalid_token\"") or diag("WWW-Authenticate: $wa");
    }
    return $p;
}

# The JWKS of a vhost: (the response, the decoded body).
sub jwks_of {
    my ($vhost) = @_;
    my $res = client(vhost => $vhost)->get('/.well-known/jwks.json');
    my $b = $res->code == 200 ? json_body($res) : undef;
    return ($res, $b);
}

# ---- Pages (issue 8) ------------------------------------------------------------------------
#
#   my $res = $c->page_get('/login?return_to=/x');         # Accept: text/html
#   my $html = page_answer_ok($res, 200, 'login-form', 'GET /login');  # status, headers, form, token
#   my $res = $c->page_post('/login', {login => $l, password => $pw, csrf_token => csrf_from($html)});
#   my ($res, $get) = $c->page_submit('/login?return_to=/x', {login => $l, password => $pw});
#   redirect_ok($c, $res, '/api/account', 'name');        # 303 to exactly that
#   message_page_ok($res, 403, 'csrf_failed', 'name');          # message.html with that code
#   by_id($html, 'password-error')                         # inner HTML of the element, or undef
#   form_fields($html, 'reset-form')                       # {name => value} of its inputs
#
# HTML is read with regular expressions (and HTML::Entities for the values): enough for the
# module's own templates, which the tests know.

my $HTML_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
sub html_accept { $HTML_ACCEPT }

# The Content-Security-Policy of every page (spec: "Security headers on every page").
sub page_csp {
    return "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
         . "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
}

sub _pct {
    my ($s) = @_;
    $s = "$s";
    utf8::encode($s) if utf8::is_utf8($s);
    $s =~ s/([^A-Za-z0-9\-._~ ])/sprintf '%%%02X', ord $1/ge;
    $s =~ tr/ /+/;
    return $s;
}

# application/x-www-form-urlencoded, as a browser writes it: from a hash (keys sorted; an
# array value repeats the name) or an array of pairs (in order). undef values are left out.
sub form_enc {
    my ($data) = @_;
    my @pairs = ref $data eq 'HASH' ? map { [$_, $data->{$_}] } sort keys %$data
              : do { my @a = @{ $data || [] }; my @p; push @p, [splice @a, 0, 2] while @a; @p };
    my @out;
    for my $p (@pairs) {
        my ($k, $v) = @$p;
        for my $one (ref $v eq 'ARRAY' ? @$v : ($v)) {
            push @out, _pct($k) . '=' . _pct($one) if defined $one;
        }
    }
    return join '&', @out;
}

sub _html_of {
    my ($x) = @_;
    return '' unless defined $x;
    return ref $x ? $x->decoded_content(charset => 'none') // '' : $x;
}

my %VOID = map { $_ => 1 } qw(area base br col embed hr img input link meta source track wbr);
my $ATTRS = qr/(?:[^>"']|"[^"]*"|'[^']*')*/;

sub _attrs {
    my ($text) = @_;
    require HTML::Entities;
    my %a;
    while ($text =~ /([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g) {
        my $v = $2 // $3 // $4;
        $a{ lc $1 } = defined $v ? HTML::Entities::decode_entities($v) : '';
    }
    return \%a;
}

# The elements of a page that match all of: id => ID, tag => NAME, class => ONE CLASS,
# name => NAME; each as {tag, attrs => {name => value}, inner => HTML}, in page order.
sub html_elements {
    my ($x, %by) = @_;
    my $html = _html_of($x);
    my @out;
    while ($html =~ /<([A-Za-z][A-Za-z0-9-]*)\b($ATTRS)>/g) {
        my ($tag, $text) = (lc $1, $2);
        my $end = pos $html;
        my $a = _attrs($text);
        next if defined $by{tag} && $tag ne lc $by{tag};
        next if defined $by{id} && ($a->{id} // "\0") ne $by{id};
        next if defined $by{name} && ($a->{name} // "\0") ne $by{name};
        next if defined $by{class} && !grep { $_ eq $by{class} } split ' ', $a->{class} // '';
        my $inner = '';
        if (!$VOID{$tag} && $text !~ m{/\s*$}) {
            my $rest = substr($html, $end);
            my $depth = 1;
            $inner = undef;
            while ($rest =~ /<(\/?)\Q$tag\E\b$ATTRS>/gi) {
                $depth += $1 ? -1 : 1;
                if (!$depth) {
                    $inner = substr($rest, 0, $-[0]);
                    last;
                }
            }
            $inner //= $rest;
        }
        push @out, {tag => $tag, attrs => $a, inner => $inner};
    }
    return @out;
}

# The inner HTML of the element with this id, or undef.
sub by_id {
    my ($x, $id) = @_;
    my ($e) = html_elements($x, id => $id);
    return $e ? $e->{inner} : undef;
}

# The text of an HTML fragment: tags dropped, entities decoded, white space squeezed.
sub html_text {
    my ($s) = @_;
    return undef unless defined $s;
    require HTML::Entities;
    $s =~ s/<$ATTRS>/ /g;
    $s = HTML::Entities::decode_entities($s);
    $s =~ s/\s+/ /g;
    $s =~ s/^ | $//g;
    return $s;
}

# The ids of the page's forms, in page order.
sub form_ids {
    return map { $_->{attrs}{id} // () } html_elements($_[0], tag => 'form');
}

# The named inputs (input, textarea, select, button) of the form with this id (of the
# whole page when the id is undef): {name => value}; a name that appears more than once
# gives an array of its values.
sub form_fields {
    my ($x, $form_id) = @_;
    my $html = _html_of($x);
    if (defined $form_id) {
        my ($f) = html_elements($html, tag => 'form', id => $form_id);
        return undef unless $f;
        $html = $f->{inner};
    }
    my %f;
    while ($html =~ /<(input|textarea|select|button)\b($ATTRS)>/gi) {
        my ($tag, $a) = (lc $1, _attrs($2));
        next unless defined $a->{name};
        my $v = $a->{value} // '';
        if ($tag eq 'textarea' && substr($html, pos $html) =~ m{^(.*?)</textarea}is) {
            require HTML::Entities;
            $v = HTML::Entities::decode_entities($1);
        }
        if (exists $f{ $a->{name} }) {
            $f{ $a->{name} } = [ref $f{ $a->{name} } ? @{ $f{ $a->{name} } } : $f{ $a->{name} }, $v];
        }
        else {
            $f{ $a->{name} } = $v;
        }
    }
    return \%f;
}

# The value of the first csrf_token input of a page (a response or its HTML), or undef.
sub csrf_from {
    my ($x) = @_;
    my ($e) = html_elements($x, tag => 'input', name => 'csrf_token');
    return $e ? $e->{attrs}{value} : undef;
}

# Every security header of a page in one assertion. css => 1: the stylesheet (text/css,
# Cache-Control public, max-age=3600); redirect => 1: a 303 of a page (no Content-Type).
sub page_headers_ok {
    my ($res, $name, %o) = @_;
    my @why;
    my %want = ('X-Content-Type-Options' => 'nosniff', 'X-Frame-Options' => 'DENY',
                'Referrer-Policy' => 'no-referrer');
    for my $h (sort keys %want) {
        my @v = $res->header($h);
        push @why, "$h: " . (@v ? join(' | ', @v) : 'none') unless @v == 1 && lc $v[0] eq lc $want{$h};
    }
    my @csp = $res->header('Content-Security-Policy');
    my $norm = sub { join '; ', sort grep { length } map { s/^\s+|\s+$//gr =~ s/\s+/ /gr } split /;/, $_[0] };
    push @why, 'Content-Security-Policy: ' . (@csp ? join(' | ', @csp) : 'none')
        unless @csp == 1 && $norm->($csp[0]) eq $norm->(page_csp());
    my @cc = $res->header('Cache-Control');
    if ($o{css}) {
        push @why, 'Cache-Control: ' . join(' | ', @cc)
            unless @cc == 1 && $cc[0] =~ /^\s*public,\s*max-age=3600\s*$/i;
    }
    else {
        push @why, 'Cache-Control: ' . join(' | ', @cc) unless "@cc" =~ /\bno-store\b/;
    }
    my $ct = $res->header('Content-Type') // '';
    if ($o{css}) {
        push @why, "Content-Type: $ct" unless $ct =~ m{^text/css\s*(?:;|$)}i;
    }
    elsif (!$o{redirect}) {
        push @why, "Content-Type: $ct" unless $ct =~ m{^text/html;\s*charset=utf-8$}i;
    }
    ok(!@why, "$name: the security headers of a page") or diag(join "\n", @why);
    return !@why;
}

# A page answer: the status, every security header, and (form_id given) that form with a
# csrf_token (43 characters of base64url). Returns the HTML.
sub page_answer_ok {
    my ($res, $status, $form_id, $name) = @_;
    my $html = _html_of($res);
    ok($res->code == $status, "$name: $status")
        or diag('got ' . $res->status_line . '; Location: ' . ($res->header('Location') // 'none')
                . '; #error: ' . (html_text(by_id($html, 'error')) // 'none'));
    page_headers_ok($res, $name);
    if (defined $form_id) {
        my $f = form_fields($html, $form_id);
        my $t = $f ? $f->{csrf_token} : undef;
        ok($f && defined $t && !ref $t && $t =~ /^[A-Za-z0-9_-]{43}$/,
           "$name: form #$form_id with a csrf_token")
            or diag('forms: ' . join(' ', form_ids($html)) . '; csrf_token: ' . ($t // 'none'));
    }
    return $html;
}

# message.html: the status, the security headers, the problem code on the page. Returns
# the HTML.
sub message_page_ok {
    my ($res, $status, $code, $name) = @_;
    my $html = _html_of($res);
    my @why;
    push @why, 'status ' . $res->status_line if $res->code != $status;
    push @why, "the code $code is not on the page" unless $html =~ /\b\Q$code\E\b/;
    push @why, 'Set-Cookie of a session: ' . join(' | ', $res->header('Set-Cookie'))
        if grep { /^(?:__Host-)?authsvc=[^;]/ } $res->header('Set-Cookie');
    ok(!@why, "$name: $status page $code") or diag(join "\n", @why, substr(html_text($html) // '', 0, 300));
    page_headers_ok($res, $name);
    return $html;
}

# The Set-Cookie headers of a response: {name => {value => V, attrs => {lower-cased
# attribute => value (1 for a flag)}}} (the last one of a name wins).
sub set_cookies {
    my ($res) = @_;
    my %c;
    for my $sc ($res->header('Set-Cookie')) {
        my ($pair, @attrs) = split /;\s*/, $sc;
        my ($n, $v) = split /=/, $pair // '', 2;
        my %a = map { my ($k, $x) = split /=/, $_, 2; (lc $k => $x // 1) } @attrs;
        $c{$n} = {value => $v // '', attrs => \%a};
    }
    return \%c;
}

# A session cookie the response sets (NAME: authsvc or __Host-authsvc unless given), or
# undef.
sub session_set_cookie {
    my ($res, $name) = @_;
    my $all = set_cookies($res);
    my $c = $all->{ $name // 'authsvc' } // (defined $name ? undef : $all->{'__Host-authsvc'});
    return $c && length $c->{value} ? $c : undef;
}

# What every page must be (spec "Accessibility", CSP): one <h1> inside <main>, a viewport,
# no inline script or style, every visible input labelled.
sub page_structure_ok {
    my ($html, $name) = @_;
    my @why;
    my @h1 = html_elements($html, tag => 'h1');
    push @why, scalar(@h1) . ' <h1>' unless @h1 == 1;
    my ($main) = html_elements($html, tag => 'main');
    push @why, 'no <main>' unless $main;
    push @why, 'the <h1> is not inside <main>' if $main && !html_elements($main->{inner}, tag => 'h1');
    push @why, 'no <meta name="viewport">' unless html_elements($html, tag => 'meta', name => 'viewport');
    # A script file of the module's own (passkey.js, issue 11) is fine; inline code is not.
    push @why, 'an inline <script>'
        if grep { !defined $_->{attrs}{src} || $_->{inner} =~ /\S/ } html_elements($html, tag => 'script');
    push @why, 'a <style>' if html_elements($html, tag => 'style');
    push @why, 'a style="" attribute' if $html =~ /<[^>]+\sstyle\s*=/i;
    push @why, 'an on*="" handler' if $html =~ /<[^>]+\son[a-z]+\s*=/i;
    my %labels = map { ($_->{attrs}{for} // '') => 1 } html_elements($html, tag => 'label');
    for my $tag (qw(input select textarea)) {
        for my $i (html_elements($html, tag => $tag)) {
            my $type = lc($i->{attrs}{type} // '');
            next if $type =~ /^(?:hidden|submit|button)$/;
            my $id = $i->{attrs}{id};
            push @why, "<$tag name=\"" . ($i->{attrs}{name} // '') . '"> without a <label for>'
                unless defined $id && $labels{$id};
        }
    }
    ok(!@why, "$name: the page's structure (main, h1, viewport, labels, no inline script or style)")
        or diag(join "\n", @why);
}

# A failed form: the page again with the form, its token, the catalogue's status, the
# page-level error and (given) exactly these field errors (id FIELD-error, the input
# aria-invalid). Returns the HTML.
sub page_failed_ok {
    my ($res, $status, $form, $fields, $name) = @_;
    my $html = page_answer_ok($res, $status, $form, $name);
    ok(defined by_id($html, 'error') && length html_text(by_id($html, 'error')),
       "$name: a page-level error (#error)") or diag(substr(html_text($html) // '', 0, 400));
    if ($fields) {
        my @got = sort map { ($_->{attrs}{id} // '') =~ /^(.+)-error$/ ? $1 : () } html_elements($html);
        is("@got", join(' ', sort @$fields), "$name: field errors (#FIELD-error) for: @$fields");
        for my $fd (@$fields) {
            next unless grep { lc($_->{attrs}{type} // '') ne 'hidden' } html_elements($html, tag => 'input', name => $fd);
            my ($in) = grep { ($_->{attrs}{'aria-describedby'} // '') eq "$fd-error" }
                html_elements($html, tag => 'input');
            ok($in && ($in->{attrs}{'aria-invalid'} // '') eq 'true',
               "$name: an input of $fd is aria-invalid and described by #$fd-error");
        }
    }
    ok(!session_set_cookie($res), "$name: no session cookie");
    return $html;
}

# A Location (a string or a response) split into its path and its query, decoded:
# ($path, {name => value}).
sub loc_split {
    my ($x) = @_;
    my $loc = ref $x ? $x->header('Location') // '' : $x // '';
    my ($path, $query) = split /\?/, $loc, 2;
    my %q;
    for my $kv (split /&/, $query // '') {
        my ($k, $v) = split /=/, $kv, 2;
        $v //= '';
        $v =~ tr/+/ /;
        $v =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
        $q{$k} = $v;
    }
    return ($path, \%q);
}

# No CR or LF in any header of the response (in the Location above all).
sub no_cr_lf_ok {
    my ($res, $name) = @_;
    my @bad;
    $res->headers->scan(sub { push @bad, "$_[0]: $_[1]" if $_[1] =~ /[\r\n]/ || $_[0] =~ /[\r\n]/ });
    my $loc = $res->header('Location') // '';
    ok(!@bad && $loc !~ /[\r\n]|%0[ad]/i, "$name: no CR or LF in the headers or the Location")
        or diag(join "\n", @bad, "Location: $loc");
}

# 303 to exactly $want (a path of the client's server, or an absolute URL elsewhere), with
# Cache-Control: no-store. Returns the Location (the client's base taken off).
sub redirect_ok {
    my ($c, $res, $want, $name) = @_;
    my $loc = $c->location($res);
    ok($res->code == 303 && defined $loc && $loc eq $want, "$name: 303 to $want")
        or diag('got ' . $res->status_line . ', Location: ' . ($loc // 'none')
                . '; #error: ' . (html_text(by_id($res, 'error')) // 'none'));
    page_headers_ok($res, "$name (303)", redirect => 1);
    return $loc;
}

package AuthsvcTest::Client;

use strict;
use warnings;

use HTTP::Request ();
use LWP::UserAgent ();

sub new {
    my ($class, %o) = @_;
    my $self = bless {
        vhost  => $o{vhost} // 'default',
        prefix => $o{prefix} // '/api',
        headers => $o{headers} || [],
        jar    => {},
        no_origin => $o{no_origin},
    }, $class;
    # base => 'http://host:port': a server of the test's own instead of a vhost.
    $self->{base} = $o{base} // 'http://' . AuthsvcTest::hostport($self->{vhost});
    # The Origin sent with state-changing requests (origin => URL: another one).
    $self->{origin} = $o{origin} // $self->{base};
    $self->{ua} = LWP::UserAgent->new(
        keep_alive   => 0,
        timeout      => 60,
        max_redirect => 0,
        agent        => $o{agent} // 'authsvc-test/1.0',
    );
    return $self;
}

sub base { $_[0]{base} }

sub url {
    my ($self, $path, %opt) = @_;
    return $self->{base} . ($opt{abs} ? '' : $self->{prefix}) . $path;
}

# The cookie jar: cookie name => value.
sub jar { $_[0]{jar} }
sub clear_cookies { $_[0]{jar} = {} }
sub cookie_header {
    my ($self) = @_;
    my $j = $self->{jar};
    return join '; ', map { "$_=$j->{$_}" } sort keys %$j;
}

# request(METHOD, PATH, %opt): json => DATA | body => BYTES, ctype => TYPE,
# headers => [NAME => VALUE ...], cookie => 'raw Cookie header' (replaces the jar's),
# no_cookie => 1, abs => 1 (PATH is not under the mount).
# Every request but GET, HEAD and OPTIONS carries Origin: the client's own origin (its
# base), as a browser sends it: cookie-authenticated JSON requests need it (issue 8). Not
# when the request (or the client) has no_origin => 1, or names an Origin header itself.
sub request {
    my ($self, $method, $path, %opt) = @_;
    my $req = HTTP::Request->new($method => $self->url($path, %opt));
    my $body;
    if (exists $opt{json}) {
        $body = AuthsvcTest::json_enc($opt{json});
    }
    elsif (exists $opt{body}) {
        $body = $opt{body};
    }
    if (defined $body) {
        $req->content($body);
        $req->header('Content-Length' => length $body);
    }
    my $ctype = exists $opt{ctype} ? $opt{ctype}
              : defined $body     ? 'application/json'
              :                     undef;
    $req->header('Content-Type' => $ctype) if defined $ctype;
    my $cookie = exists $opt{cookie} ? $opt{cookie} : $self->cookie_header;
    $req->header(Cookie => $cookie) if !$opt{no_cookie} && defined $cookie && length $cookie;
    my @h = (@{ $self->{headers} }, @{ $opt{headers} || [] });
    my $named = grep { $_ % 2 == 0 && lc $h[$_] eq 'origin' } 0 .. $#h;
    unshift @h, Origin => $self->{origin}
        unless $named || $opt{no_origin} || $self->{no_origin} || $method =~ /^(?:GET|HEAD|OPTIONS)$/i;
    while (my ($k, $v) = splice @h, 0, 2) {
        $req->header($k => $v);
    }
    my $res = $self->{ua}->request($req);
    $self->_take_cookies($res);
    return $res;
}

sub _take_cookies {
    my ($self, $res) = @_;
    for my $sc ($res->header('Set-Cookie')) {
        my ($pair, @attrs) = split /;\s*/, $sc;
        my ($name, $value) = split /=/, $pair, 2;
        my $gone = !defined $value || $value eq ''
                || grep { /^max-age=0$/i } @attrs;
        if ($gone) {
            delete $self->{jar}{$name};
        }
        else {
            $self->{jar}{$name} = $value;
        }
    }
}

# The Location of a response with the client's base taken off (undef if none).
sub location {
    my ($self, $res) = @_;
    my $loc = $res->header('Location');
    return undef unless defined $loc;
    my $b = $self->{base};
    $loc = substr($loc, length $b) if index($loc, "$b/") == 0;
    return $loc;
}

# Pages (issue 8): GET with Accept: text/html; POST a form (a hash or an array of pairs,
# see AuthsvcTest::form_enc) as application/x-www-form-urlencoded.
sub page_get {
    my ($s, $p, %o) = @_;
    return $s->request(GET => $p, %o, headers => [Accept => AuthsvcTest::html_accept(),
                                                  @{ $o{headers} || [] }]);
}

sub page_post {
    my ($s, $p, $form, %o) = @_;
    return $s->request(POST => $p, body => AuthsvcTest::form_enc($form),
                       ctype => 'application/x-www-form-urlencoded', %o,
                       headers => [Accept => AuthsvcTest::html_accept(), @{ $o{headers} || [] }]);
}

# GET a page and POST one of its forms as a browser would: to the form's action, with its
# hidden inputs (csrf_token, return_to, token ...) and the fields given (a hash; an undef
# value leaves a hidden input out). form => ID picks the form (default: the first with a
# csrf_token); to => PATH (under the mount) posts elsewhere. Returns (the POST's response,
# the GET's response).
sub page_submit {
    my ($s, $page, $fields, %o) = @_;
    my $to = delete $o{to};
    my $form_id = delete $o{form};
    my $get = $s->page_get($page);
    my ($f) = defined $form_id
            ? AuthsvcTest::html_elements($get, tag => 'form', id => $form_id)
            : grep { defined AuthsvcTest::csrf_from($_->{inner}) }
                   AuthsvcTest::html_elements($get, tag => 'form');
    my %form;
    if ($f) {
        for my $i (AuthsvcTest::html_elements($f->{inner}, tag => 'input')) {
            my $a = $i->{attrs};
            $form{ $a->{name} } = $a->{value} // ''
                if defined $a->{name} && lc($a->{type} // '') eq 'hidden';
        }
    }
    else {
        Test::More::diag("page_submit: no form " . ($form_id // 'with a csrf_token') . " on $page ("
                         . $get->status_line . ')');
    }
    %form = (%form, %{ $fields || {} });
    my $action = $f ? $f->{attrs}{action} : undef;
    my $res = defined $to                        ? $s->page_post($to, \%form, %o)
            : defined $action && $action =~ m{^/} ? $s->page_post($action, \%form, %o, abs => 1)
            :                                      $s->page_post($page =~ s/\?.*//sr, \%form, %o);
    return ($res, $get);
}

sub get    { my ($s, $p, %o) = @_; $s->request(GET    => $p, %o) }
sub del    { my ($s, $p, %o) = @_; $s->request(DELETE => $p, %o) }
sub head   { my ($s, $p, %o) = @_; $s->request(HEAD   => $p, %o) }

sub _with_json {
    my ($s, $m, $p, $data, %o) = @_;
    $o{json} = $data if defined $data && !exists $o{body};
    return $s->request($m => $p, %o);
}
sub post  { my ($s, @a) = @_; $s->_with_json(POST  => @a) }
sub put   { my ($s, @a) = @_; $s->_with_json(PUT   => @a) }
sub patch { my ($s, @a) = @_; $s->_with_json(PATCH => @a) }

# Register an account (unique email and a fresh password unless given).
# Returns the response and the fields sent.
sub register {
    my ($self, %f) = @_;
    $f{email}    //= AuthsvcTest::unique_email();
    # A random password may hold a name the policy refuses in it (first_name 'Pia' in
    # '...xPiA3...': about one registration in 2000): draw again until it does not.
    unless (defined $f{password}) {
        my @avoid = grep { length >= 3 } map { lc($_ // '') }
            @f{qw(first_name last_name username)}, (split /\@/, $f{email})[0];
        do { $f{password} = AuthsvcTest::new_password() }
            while grep { index(lc $f{password}, $_) >= 0 } @avoid;
    }
    my $res = $self->post('/auth/register', \%f);
    return ($res, \%f);
}

sub login {
    my ($self, $login, $password) = @_;
    return $self->post('/auth/login', {login => $login, password => $password});
}

# Register and sign in, checking both worked; returns the fields and the user.
sub signed_in {
    my ($self, %f) = @_;
    my ($res, $f) = $self->register(%f);
    die "register failed: " . $res->status_line . ' ' . $res->content . "\n"
        unless $res->code == 201;
    $res = $self->login($f->{email}, $f->{password});
    die "login failed: " . $res->status_line . ' ' . $res->content . "\n"
        unless $res->code == 200;
    return ($f, AuthsvcTest::json_body($res)->{user});
}

1;

# ---- issue 9: admin tool (t/admin_tool.t, t/admin_import.t) ----------------------------
package AuthsvcTest;

push @EXPORT, qw(run_admin_stdin scratch_do admin_live_args);

# run_admin with $input on the tool's standard input (undef: an empty one).
sub run_admin_stdin {
    my ($input, @args) = @_;
    require File::Temp;
    my $in = File::Temp->new;
    binmode $in;
    print {$in} $input // '';
    close $in;
    open(my $saved, '<&', \*STDIN) or die "cannot dup STDIN: $!\n";
    open(STDIN, '<', $in->filename) or die "cannot open $in: $!\n";
    my @r = run_admin(@args);
    open(STDIN, '<&', $saved) or die "cannot restore STDIN: $!\n";
    return @r;
}

# The tool's --driver/--params for the server's own database.
sub admin_live_args {
    return backend() eq 'pgsql'
        ? ('--driver', 'pgsql', '--params', pg_admin_params($ENV{AUTHSVC_PG_DB} || 'authsvc'))
        : ('--driver', 'sqlite3', '--params', sqlite_file());
}

# A statement on a scratch_db() database, given the tool arguments scratch_db returned.
sub scratch_do {
    my ($args, $sql) = @_;
    my ($driver, $params) = @{$args}[1, 3];
    if ($driver eq 'pgsql') {
        my ($db) = $params =~ /dbname=(\S+)/;
        _run(pg_psql($db), '-c', $sql);
    }
    else {
        _run('sqlite3', '-bail', '-batch', '-cmd', '.timeout 5000', $params, $sql);
    }
    return 1;
}

1;

# ---- issue 9: metrics (t/metrics.t) ---------------------------------------------------
#
#   my $res = metrics_get(vhost => 'metrics', headers => [...]);   # GET /metrics
#   my ($samples, $families) = metrics_parse($res->content);
#   $samples->{ metric_key('authsvc_logins_total', result => 'failure') }   # a number
#   $families->{authsvc_logins_total}{type}                                 # 'counter'

package AuthsvcTest;

push @AuthsvcTest::EXPORT, qw(metrics_get metrics_parse metric_key);

# GET /metrics on a server (client() options: vhost, headers ...).
sub metrics_get {
    my (%o) = @_;
    return client(%o, prefix => '')->get('/metrics');
}

# The key of a sample in metrics_parse's hash: the name, and the labels sorted by name.
sub metric_key {
    my ($name, %l) = @_;
    return $name unless %l;
    return $name . '{' . join(',', map { "$_=\"$l{$_}\"" } sort keys %l) . '}';
}

# A text exposition (format 0.0.4) read back: {metric_key => value} and
# {family => {help => TEXT, type => TYPE}}. Dies on a line it cannot read, or on a
# sample seen twice.
sub metrics_parse {
    my ($text) = @_;
    my (%s, %f);
    for my $line (split /\n/, $text // '') {
        if ($line =~ /^# (HELP|TYPE) (\w+) (.*)$/) {
            $f{$2}{ lc $1 } = $3;
            next;
        }
        my ($name, $labels, $value) = $line =~ /^(\w+)(?:\{(.*)\})? (\S+)$/
            or die "metrics_parse: not a sample: '$line'\n";
        my %l;
        while (length($labels // '')) {
            $labels =~ s/^(\w+)="((?:[^"\\]|\\.)*)",?// or die "metrics_parse: bad labels: '$line'\n";
            $l{$1} = $2;
        }
        my $k = metric_key($name, %l);
        die "metrics_parse: '$k' twice\n" if exists $s{$k};
        $s{$k} = $value;
    }
    return (\%s, \%f);
}

1;

# ---- issue 11: passkeys (t/passkeys.t) ----------------------------------------------------
package AuthsvcTest;

push @EXPORT, qw(softauthn pk_origin pk_rp_id pk_register pk_login conf_define browser_tap
                 httpd_syntax);

sub pk_origin { 'https://accounts.example.test' }
sub pk_rp_id  { 'accounts.example.test' }

# Run t/bin/softauthn.py: CMD (create|get) with the authenticator's state file, the
# challenge, and options (rp_id, origin, alg, fmt, user_handle, counter, type, flags,
# rp_hash_of, bad_sig, cross_origin). Returns the credential JSON as a hash.
sub softauthn {
    my ($cmd, $state, $challenge, %o) = @_;
    # --opt=VALUE: a base64url value may begin with '-'.
    my @args = ($cmd, $state, '--rp-id=' . ($o{rp_id} // pk_rp_id()),
                '--origin=' . ($o{origin} // pk_origin()), "--challenge=$challenge");
    for my $k (qw(alg fmt user_handle counter type flags rp_hash_of)) {
        (my $opt = $k) =~ tr/_/-/;
        push @args, "--$opt=$o{$k}" if defined $o{$k};
    }
    push @args, '--bad-sig' if $o{bad_sig};
    push @args, '--cross-origin' if $o{cross_origin};
    push @args, '--reuse' if $o{reuse};
    my $script = catfile(serverroot(), 'bin', 'softauthn.py');
    open(my $fh, '-|', python_bin(), $script, @args) or die "softauthn: $!\n";
    local $/;
    my $out = <$fh>;
    close $fh or die "softauthn @args failed\n";
    return $JSON->decode($out);
}

# Register a passkey for signed-in client $c: options, the authenticator, the POST.
# %o: softauthn options, plus name and state (a file name; a new one by default).
# Returns (response, state file, options).
sub pk_register {
    my ($c, %o) = @_;
    my $state = delete $o{state} // catfile(serverroot(), 'state', 'pk-' . _tag() . '.json');
    # (state => FILE, reuse => 1: that credential once more)
    my $name = delete $o{name};
    my $opts = json_body($c->post('/users/me/passkeys/options')) || {};
    my $cred = softauthn('create', $state, $opts->{challenge} // 'none',
                         user_handle => $opts->{user}{id}, %o);
    my $res = $c->post('/users/me/passkeys',
                       {credential => $cred, (defined $name ? (name => $name) : ())});
    return ($res, $state, $opts);
}

# Sign in with the passkey in $state through client $c (options, then the assertion).
# %o: softauthn options, plus login (sent with the options). Returns the response.
sub pk_login {
    my ($c, $state, %o) = @_;
    my $login = delete $o{login};
    my $opts = json_body($c->post('/auth/passkey/options',
                                  {defined $login ? (login => $login) : ()})) || {};
    my $cred = softauthn('get', $state, $opts->{challenge} // 'none', %o);
    return $c->post('/auth/passkey', {credential => $cred});
}

# The value of 'Define NAME VALUE' in the generated extra.conf (undef when absent).
sub conf_define {
    my ($name) = @_;
    my $conf = catfile(Apache::Test::vars('t_conf'), 'extra.conf');
    open(my $fh, '<', $conf) or die "$conf: $!\n";
    while (<$fh>) {
        return $1 if /^\s*Define\s+\Q$name\E\s+(\S+)/;
    }
    return undef;
}

# Run a browser script (t/e2e/*.py: it writes TAP to --tap FILE) for at most $secs
# seconds and pass its steps on as tests, plus one for its exit status.
sub browser_tap {
    my ($secs, @cmd) = @_;
    require File::Temp;
    my $tmp = File::Temp::tempdir('authsvc-e2e.XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my ($tap, $log) = (catfile($tmp, 'browser.tap'), catfile($tmp, 'browser.log'));
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        open(STDOUT, '>', $log) or die "$log: $!\n";
        open(STDERR, '>&', \*STDOUT) or die "stderr: $!\n";
        local $ENV{TMPDIR} = $tmp;
        exec('timeout', '-k', '10', $secs, @cmd, '--tap', $tap) or die "exec: $!\n";
    }
    waitpid($pid, 0);
    my $rc = $? >> 8;
    my @lines = -e $tap ? do { open(my $fh, '<', $tap); map { chomp; $_ } <$fh> } : ();
    my $output = -e $log ? do { local $/; open(my $fh, '<', $log); <$fh> // '' } : '';
    my ($planned) = map { /^1\.\.(\d+)/ ? $1 : () } @lines;
    unless ($planned) {
        Test::More::plan(tests => 1);
        Test::More::ok(0, "the browser script gave a plan (exit status $rc)");
        Test::More::diag($output);
        return;
    }
    Test::More::plan(tests => $planned + 1);
    my ($seen, $failed) = (0, 0);
    for my $l (@lines) {
        if ($l =~ /^(not )?ok (\d+)(?: - (.*?))?(?:\s+# SKIP\s*(.*))?$/) {
            $seen++;
            if (defined $4) {
                SKIP: { Test::More::skip("$3: $4", 1) }
                next;
            }
            $failed++ if $1;
            Test::More::ok(!$1, $3 // "step $2");
        }
        elsif ($l =~ /^#\s?(.*)$/) {
            $failed ? Test::More::diag($1) : Test::More::note($1);
        }
    }
    for my $n ($seen + 1 .. $planned) {
        Test::More::ok(0, "step $n: no result (exit status $rc)");
    }
    Test::More::ok($rc == 0 || ($rc == 1 && $failed), "the script ended normally ($rc)")
        or Test::More::diag($output);
}

# `httpd -t` of a minimal configuration with the module and LINES: (exit status, output).
sub httpd_syntax {
    my (@lines) = @_;
    my $mods = httpd_modules();
    my $file = catfile(serverroot(), 'state', "syntax-$$-" . _tag() . '.conf');
    open(my $fh, '>', $file) or die "$file: $!\n";
    print {$fh} join "\n", 'ServerRoot ' . catfile(serverroot(), 'state'),
        "LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so",
        "LoadModule authn_core_module $mods/mod_authn_core.so",
        "LoadModule authz_core_module $mods/mod_authz_core.so",
        "LoadModule dbd_module $mods/mod_dbd.so",
        'LoadModule authsvc_module ' . catfile(serverroot(), '..', 'mod_authsvc.so'),
        'ServerName localhost', 'Listen 127.0.0.1:1',
        'ErrorLog ' . catfile(serverroot(), 'state', "syntax-$$.log"), @lines, '';
    close $fh;
    my $httpd = httpd_bin();
    my $out = `$httpd -t -f $file 2>&1`;
    my $rc = $? >> 8;
    unlink $file;
    return ($rc, $out // '');
}

# ---- issue 11: translations (area E) ----------------------------------------------------
#
#   my ($status, $text) = start_httpd_with($dir, "AuthsvcI18nDir $dir/cat");
#   # $status: httpd's exit status, or undef when it came up (it is stopped again), or
#   # -1 when it neither exited nor answered HTTP in 60 s (stopped; $text says so);
#   # $text: its output and error log

package AuthsvcTest;

push @AuthsvcTest::EXPORT, qw(start_httpd_with);

# Start httpd (prefork, in the foreground, a port of its own) on a configuration written
# to DIR (which gets logs/, httpd.conf, out and db.sqlite): the module with mod_dbd on
# SQLite, and LINES. Waits up to 60 s for it to exit or to answer HTTP (wait_httpd).
# Options (issue 10): modules => [NAME ...] more modules (mod_NAME.so), driver => and
# params => another database (params as written after DBDParams), keep => 1 leaves it
# running and also returns its pid and port.
sub start_httpd_with {
    my ($dir, $lines, %o) = @_;
    my $mods = httpd_modules();
    my $port = free_port();
    mkdir "$dir/logs";
    my $conf = join "\n", "ServerRoot $dir",
        "LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so",
        map({ "LoadModule ${_}_module $mods/mod_$_.so" }
            qw(authn_core authz_core dbd socache_shmcb), @{ $o{modules} || [] }),
        'LoadModule authsvc_module ' . catfile(serverroot(), '..', 'mod_authsvc.so'),
        'ServerName localhost', "Listen 127.0.0.1:$port",
        "PidFile $dir/logs/httpd.pid", "ErrorLog $dir/logs/error_log",
        'DBDriver ' . ($o{driver} // 'sqlite3'), 'DBDParams ' . ($o{params} // "$dir/db.sqlite"),
        'AuthsvcAutoMigrate On', $lines, '';
    open(my $fh, '>', "$dir/httpd.conf") or die "start_httpd_with: $dir/httpd.conf: $!\n";
    print {$fh} $conf;
    close $fh;
    unlink "$dir/logs/error_log";
    my $pid = fork // die "start_httpd_with: fork: $!\n";
    if (!$pid) {
        POSIX::setsid();    # prefork's parent signals its whole process group
        open STDOUT, '>', "$dir/out";
        open STDERR, '>&', \*STDOUT;
        { exec(httpd_bin(), '-d', $dir, '-f', "$dir/httpd.conf",
               '-DFOREGROUND') }
        POSIX::_exit(127);
    }
    my ($status, $up) = wait_httpd($pid, $port);
    my $text = '';
    if (!defined $status && !$up) {
        # Neither exited nor answered: no start (a hang is no success).
        kill 'TERM', $pid;
        waitpid($pid, 0);
        ($status, $text) = (-1, "httpd did not answer HTTP within 60 s\n");
    }
    elsif (!defined $status && !$o{keep}) { kill 'TERM', $pid; waitpid($pid, 0) }
    for my $f ("$dir/out", "$dir/logs/error_log") {
        open(my $in, '<', $f) or next;
        local $/;
        $text .= <$in> // '';
    }
    return ($status, $text, $pid, $port);
}

1;

# ---- issue 10: multinode (area A) -----------------------------------------------------
#
#   my $redis = start_redis($dir);   # redis-server on a free loopback port, no persistence,
#                                    # its files in DIR; undef (and a diagnostic) when it
#                                    # does not come up; stopped when $redis goes away
#   redis_cmd($redis, 'DBSIZE');     # one command: its reply (an error reply dies)
#   stop_started($redis);            # stop it now (and again: nothing happens)
#   my $n = start_node($dir, $lines, redis => $redis);
#                                    # httpd (start_httpd_with, keep => 1) on the suite's
#                                    # PostgreSQL database, AuthsvcCache redis:...;
#                                    # $n->{base}, $n->{port}, $n->{log}; undef when it
#                                    # does not come up; stop_started($n)
#   my $pgb = start_pgbouncer($dir);   # PgBouncer (session mode) before the suite's
#                                      # PostgreSQL; start_node(..., params =>
#                                      # pgbouncer_params($pgb)) goes through it

package AuthsvcTest;

push @AuthsvcTest::EXPORT, qw(start_redis redis_cmd start_node stop_started start_pgbouncer
                              pgbouncer_params);

# A TCP port on 127.0.0.1 that nothing listens on now.
sub free_port {
    require IO::Socket::INET;
    my $sock = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0)
        or die "free_port: $!\n";
    my $port = $sock->sockport;
    close $sock;
    return $port;
}

sub redis_bin { $ENV{AUTHSVC_REDIS_SERVER} || '/usr/bin/redis-server' }

# A redis-server of the test's own on a free port of 127.0.0.1, its files in $dir (no
# persistence): an AuthsvcTest::FaultRedis (port, halt, resume; stop_started stops it
# too), or undef with the reason shown when it does not start.
sub start_redis {
    my ($dir) = @_;
    my $r = bless {dir => $dir, port => free_port(), owner => $$}, 'AuthsvcTest::FaultRedis';
    return $r if $r->resume;
    Test::More::diag("redis-server did not come up on port $r->{port}: " . $r->log_text);
    $r->halt;
    return undef;
}

# Stop what start_redis or start_node started (in this process), once.
sub stop_started {
    my ($x) = @_;
    return unless $x && $x->{pid} && $x->{owner} == $$;
    _stop_pid($x->{pid});    # TERM, then KILL after 20 s: a stuck server hangs no test
    $x->{pid} = 0;
}

# Send one command (RESP) and read its reply: a string, a number, undef (nil), or an
# array reference; an error reply or a closed connection dies.
sub redis_cmd {
    my ($r, @args) = @_;
    require IO::Socket::INET;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $r->{port}, Timeout => 5)
        or die "redis_cmd: connect to $r->{port}: $!\n";
    print {$s} '*' . @args . "\r\n", map { '$' . length($_) . "\r\n$_\r\n" } @args;
    # The socket's Timeout covers the connect only: a Redis that stops answering must
    # not hang the test.
    my $reply = eval {
        local $SIG{ALRM} = sub { die "redis_cmd: no reply in 10 s\n" };
        alarm 10;
        my $r = _redis_reply($s);
        alarm 0;
        $r;
    };
    my $err = $@;
    alarm 0;
    close $s;
    die $err if $err;
    return $reply;
}

sub _redis_reply {
    my ($s) = @_;
    my $line = <$s> // die "redis_cmd: no reply\n";
    $line =~ s/\r\n\z//;
    my ($t, $v) = (substr($line, 0, 1), substr($line, 1));
    return $v if $t eq '+' || $t eq ':';
    die "redis_cmd: $v\n" if $t eq '-';
    if ($t eq '$') {
        return undef if $v < 0;
        my $data = '';
        read($s, $data, $v + 2) == $v + 2 or die "redis_cmd: short reply\n";
        return substr($data, 0, $v);
    }
    return [map { _redis_reply($s) } 1 .. $v] if $t eq '*' && $v >= 0;
    die "redis_cmd: unexpected reply '$line'\n";
}

sub pgbouncer_bin { $ENV{AUTHSVC_PGBOUNCER} || '/usr/sbin/pgbouncer' }

# PgBouncer in session mode (the mode mod_dbd needs) on a free loopback port, in front
# of the suite's PostgreSQL, its files in DIR: {port, pid, log}; undef (and a
# diagnostic) when it does not come up. params($pgb) is a DBDParams string through it.
sub start_pgbouncer {
    my ($dir) = @_;
    my $port = free_port();
    my $user = $ENV{AUTHSVC_PG_USER} || scalar(getpwuid $<);
    open(my $fh, '>', "$dir/users.txt") or die "$dir/users.txt: $!\n";
    print {$fh} qq{"$user" ""\n};
    close $fh;
    open($fh, '>', "$dir/pgbouncer.ini") or die "$dir/pgbouncer.ini: $!\n";
    print {$fh} join "\n", '[databases]',
        "* = host=$ENV{AUTHSVC_PG_HOST} port=" . ($ENV{AUTHSVC_PG_PORT} || 5432),
        '[pgbouncer]', 'listen_addr = 127.0.0.1', "listen_port = $port", 'unix_socket_dir =',
        'auth_type = trust', "auth_file = $dir/users.txt", 'pool_mode = session',
        'default_pool_size = 20', 'max_client_conn = 100', "logfile = $dir/pgbouncer.log", '';
    close $fh;
    my $pid = fork // die "start_pgbouncer: fork: $!\n";
    if (!$pid) {
        POSIX::setsid();
        open STDOUT, '>', "$dir/pgbouncer.out";
        open STDERR, '>&', \*STDOUT;
        { exec(pgbouncer_bin(), "$dir/pgbouncer.ini") }
        POSIX::_exit(127);
    }
    my $b = bless {port => $port, pid => $pid, owner => $$, log => "$dir/pgbouncer.log",
                   user => $user}, 'AuthsvcTest::Started';
    for (1 .. 100) {
        last if waitpid($pid, POSIX::WNOHANG()) == $pid;
        return $b if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1);
        select(undef, undef, undef, 0.1);
    }
    Test::More::diag('pgbouncer did not come up: ' .
                     (open($fh, '<', "$dir/pgbouncer.out") ? join('', <$fh>) : ''));
    stop_started($b);
    return undef;
}

sub pgbouncer_params {
    my ($b) = @_;
    return sprintf 'host=127.0.0.1 port=%d dbname=%s user=%s', $b->{port},
        $ENV{AUTHSVC_PG_DB} || 'authsvc', $b->{user};
}

# One node of a deployment: httpd (prefork, 2 to 4 children) on the suite's database
# (PostgreSQL only: DBDParams from $AUTHSVC_PG_PARAMS, or params => '...' such as
# pgbouncer_params(), plus extra_params => '...'),
# the cache of redis => $redis, and LINES. Returns undef (and a diagnostic) when httpd
# does not come up.
sub start_node {
    my ($dir, $lines, %o) = @_;
    mkdir $dir;
    my $params = join ' ', grep { defined && length } $o{params} // $ENV{AUTHSVC_PG_PARAMS},
        $o{extra_params};
    my ($status, $text, $pid, $port) = start_httpd_with(
        $dir, join("\n", 'StartServers 2', 'MinSpareServers 1', 'MaxSpareServers 4',
                   "AuthsvcCache redis:127.0.0.1:$o{redis}{port}", $lines),
        keep => 1, driver => 'pgsql', params => qq{"$params"},
        modules => ['socache_redis', @{ $o{modules} || [] }]);
    my $n = bless {dir => $dir, pid => $pid, port => $port, owner => $$,
                   base => "http://127.0.0.1:$port", log => "$dir/logs/error_log"},
        'AuthsvcTest::Started';
    return $n if !defined $status;
    Test::More::diag('node did not come up (exit ' . ($status // 'none') . "): $text");
    stop_started($n);
    return undef;
}

# What start_redis, start_pgbouncer and start_node return: stopped when it goes away.
package AuthsvcTest::Started;
sub DESTROY { AuthsvcTest::stop_started($_[0]) }

package AuthsvcTest;

# ---- issue 10: faults (t/fault_*.t) -----------------------------------------------------
#
# Fault tests stop databases, caches and httpd children on purpose, so each runs on
# servers of its own, never on the suite's (t/zz_errorlog.t reads the suite's error_log):
#
#   my $pg = fault_pg();            # a PostgreSQL cluster of its own (tools/dev/pg.sh)
#   $pg->{params}; $pg->halt('immediate'); $pg->resume; $pg->rows($sql); $pg->do($sql)
#   my $rd = fault_redis();         # a redis-server of its own: {port}, halt, resume
#   my $srv = fault_httpd(mpm => 'prefork' (default: the run's), db => $pg, or
#                         dbd => [DRIVER, PARAMS] (default: SQLite of its own),
#                         conf => [LINES], modules => [NAMES]);
#   $srv->{base}; $srv->client; $srv->children; $srv->graceful; $srv->log_text;
#   $srv->exit_signals; $srv->stop
#   my $load = fault_load($srv, clients => 4, requests => [[GET => '/private/', cookie => C], ...]);
#   ...; my $seen = $load->stop;    # [{t, code, what, body}], one per request answered
#
# Every one stops what it started when it goes out of scope (only in the process that
# made it: forked load clients leave with POSIX::_exit).

package AuthsvcTest;

push @AuthsvcTest::EXPORT, qw(fault_pg fault_redis fault_httpd fault_load fault_tally
                              scratch_rows);

# All rows of a query, as hashes, through psql with these arguments (before -c).
sub _psql_rows {
    my ($psql, $sql) = @_;
    my $out = _run(@$psql, '-c', "SELECT coalesce(json_agg(t), '[]'::json) FROM ($sql) t");
    return $out =~ /\S/ ? $JSON->decode($out) : [];
}

# All rows of a query on a scratch_db() database (as scratch_do), as hashes.
sub scratch_rows {
    my ($args, $sql) = @_;
    my ($driver, $params) = @{$args}[1, 3];
    if ($driver eq 'pgsql') {
        my ($db) = $params =~ /dbname=(\S+)/;
        return _psql_rows([pg_psql($db)], $sql);
    }
    my $out = _run('sqlite3', '-bail', '-batch', '-json', '-cmd', '.timeout 5000', $params, $sql);
    return $out =~ /\S/ ? $JSON->decode($out) : [];
}

sub _fault_dir {
    my ($name) = @_;
    require File::Temp;
    # Short: a PostgreSQL socket path is limited to about 107 bytes.
    return File::Temp::tempdir("f$name.XXXXXX", TMPDIR => 1, CLEANUP => 1);
}

# Wait up to $secs for a TCP listener on 127.0.0.1:$port (1) or for $pid to exit (0).
sub _wait_listen {
    my ($port, $pid, $secs) = @_;
    require IO::Socket::INET;
    for (1 .. $secs * 10) {
        return 0 if defined $pid && waitpid($pid, POSIX::WNOHANG()) == $pid;
        return 1 if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                          Timeout => 1);
        Time::HiRes::sleep(0.1);
    }
    return 0;
}

# Fork and exec @cmd in a session of its own (prefork's parent signals its process group),
# its output to $out; returns the pid.
sub _spawn {
    my ($out, @cmd) = @_;
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        POSIX::setsid();
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $out;
        open STDERR, '>&', \*STDOUT;
        { exec(@cmd) }
        POSIX::_exit(127);
    }
    return $pid;
}

sub _stop_pid {
    my ($pid, $secs) = @_;
    return unless $pid && kill(0, $pid);
    kill 'TERM', $pid;
    for (1 .. ($secs // 20) * 10) {
        return if waitpid($pid, POSIX::WNOHANG()) == $pid;
        Time::HiRes::sleep(0.1);
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

# ---- a PostgreSQL cluster of the test's own ---------------------------------------------

sub fault_pg {
    my $dir = _fault_dir('pg');
    my $port = free_port();
    my $sh = catfile(serverroot(), '..', 'tools', 'dev', 'pg.sh');
    my $env = `'$sh' start '$dir/c' $port 2>&1`;
    die "fault_pg: tools/dev/pg.sh start failed: $env\n" if $?;
    my $pgbin = $ENV{PGBIN} || '/usr/lib/postgresql/15/bin';
    my $self = bless {dir => "$dir/c", port => $port, pgbin => $pgbin, owner => $$, up => 1,
                      params => "host=$dir/c port=$port dbname=authsvc user="
                                . scalar(getpwuid $<) . ' connect_timeout=3'},
        'AuthsvcTest::FaultPg';
    return $self;
}

# ---- a redis-server of the test's own -----------------------------------------------------

sub fault_redis {
    return start_redis(_fault_dir('redis')) // die "fault_redis: redis-server did not start\n";
}

# ---- an httpd of the test's own -------------------------------------------------------------

sub fault_httpd {
    my (%o) = @_;
    my $mods = httpd_modules();
    my $mpm = $o{mpm} // (eval { Apache::Test::config()->{server}{mpm} } || 'event');
    my $dir = _fault_dir('httpd');
    my $port = free_port();
    mkdir "$dir/$_" for qw(logs htdocs htdocs/private);
    open(my $ok, '>', "$dir/htdocs/private/index.html") or die "$dir: $!\n";
    print {$ok} "private\n";
    close $ok;
    my ($driver, $params) = $o{db} ? ('pgsql', $o{db}{params})
                          : $o{dbd} ? @{ $o{dbd} }
                          : ('sqlite3', "$dir/db.sqlite");
    my @db = ("DBDriver $driver", qq{DBDParams "$params"});
    my @mods = (qw(authn_core authz_core dbd socache_shmcb mime dir), @{ $o{modules} || [] });
    my $conf = join "\n", "ServerRoot $dir",
        "LoadModule mpm_${mpm}_module $mods/mod_mpm_$mpm.so",
        map({ "LoadModule ${_}_module $mods/mod_$_.so" } @mods),
        'LoadModule authsvc_module ' . catfile(serverroot(), '..', 'mod_authsvc.so'),
        'ServerName localhost', "Listen 127.0.0.1:$port", "PidFile $dir/logs/httpd.pid",
        "ErrorLog $dir/logs/error_log", 'LogLevel info authsvc:debug',
        'TypesConfig /etc/mime.types', "DocumentRoot $dir/htdocs", "Mutex file:$dir/logs",
        @db, 'AuthsvcAutoMigrate On', 'AuthsvcPasswordHash argon2id m=1024 t=1 p=1',
        (map { "AuthsvcRateLimit $_ off" } qw(login register forgot verify mfa refresh)),
        'AuthsvcLoginBackoff off', "AuthsvcMailTransport file:$dir/mail",
        "AuthsvcPublicURL http://127.0.0.1:$port/api",
        '<Location /api>', 'SetHandler authsvc', '</Location>',
        '<Location /health>', 'SetHandler authsvc-health', '</Location>',
        '<Location /metrics>', 'SetHandler authsvc-metrics', '</Location>',
        '<Location /private>', 'Require authsvc', '</Location>',
        @{ $o{conf} || [] }, '';
    mkdir "$dir/mail";
    open(my $fh, '>', "$dir/httpd.conf") or die "fault_httpd: $dir/httpd.conf: $!\n";
    print {$fh} $conf;
    close $fh;
    my $self = bless {dir => $dir, port => $port, base => "http://127.0.0.1:$port",
                      owner => $$, error_log => "$dir/logs/error_log"},
        'AuthsvcTest::FaultHttpd';
    $self->{pid} = _spawn("$dir/out", httpd_bin(),
                          '-d', $dir, '-f', "$dir/httpd.conf", '-DFOREGROUND');
    _wait_listen($port, $self->{pid}, 30)
        or die "fault_httpd: httpd did not start:\n" . $self->log_text . "\n";
    return $self;
}

# ---- load ---------------------------------------------------------------------------------

# CLIENTS processes, each sending the requests of REQUESTS ([METHOD, PATH, %client request
# options, what => LABEL]) in turn, over and over, until stop; keep_alive => 1 keeps
# connections open between requests. Returns an object whose stop() ends them and returns
# every answer: [{t (time), code, what, body (of a 5xx or a problem), client}]; code 599
# is LWP's own answer (connection refused or reset, timeout).
sub fault_load {
    my ($srv, %o) = @_;
    my $dir = _fault_dir('load');
    my @pids;
    for my $n (1 .. $o{clients} // 4) {
        my $pid = fork // die "fork: $!\n";
        if (!$pid) {
            my $stop = 0;
            $SIG{TERM} = sub { $stop = 1 };
            my $c = client(base => $srv->{base});
            $c->{ua}->conn_cache({total_capacity => 1}) if $o{keep_alive};
            open(my $out, '>', "$dir/$n") or POSIX::_exit(1);
            select((select($out), $| = 1)[0]);
            my $i = 0;
            while (!$stop) {
                my ($m, $p, %ro) = @{ $o{requests}[$i++ % @{ $o{requests} }] };
                my $what = delete $ro{what} // "$m $p";
                my $res = $c->request($m, $p, %ro);
                last if $stop;    # perhaps cut short by the signal: not an answer
                # LWP's own 500 (connection refused or reset, timeout): 599.
                my $code = ($res->header('Client-Warning') // '') eq 'Internal response'
                         ? 599 : $res->code;
                my $body = $code >= 500 || ($res->header('Content-Type') // '') =~ /problem/
                         ? $res->decoded_content(charset => 'none') // '' : '';
                print {$out} json_enc({t => Time::HiRes::time(), code => $code + 0,
                                       what => $what, body => substr($body, 0, 300),
                                       client => $n}), "\n";
            }
            close $out;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    return bless {dir => $dir, pids => \@pids, owner => $$}, 'AuthsvcTest::FaultLoad';
}

# Answers (from a load's stop()) counted: {"WHAT CODE" => n}, of those from time $from
# to $to (default: all).
sub fault_tally {
    my ($seen, $from, $to) = @_;
    my %n;
    for my $a (@$seen) {
        next if defined $from && $a->{t} < $from;
        next if defined $to && $a->{t} >= $to;
        $n{"$a->{what} $a->{code}"}++;
    }
    return \%n;
}

package AuthsvcTest::FaultPg;

sub _ctl {
    my ($self, @args) = @_;
    my $cmd = join ' ', map { "'" . s/'/'\\''/gr . "'" } "$self->{pgbin}/pg_ctl", '-D',
        "$self->{dir}/data", '-l', "$self->{dir}/postgres.log", '-w', '-t', '60', @args;
    my $out = `$cmd 2>&1`;
    return $? == 0 ? 1 : (Test::More::diag("pg_ctl @args: $out"), 0);
}

# Stop the cluster (pg_ctl -m fast or immediate); 1 when it stopped.
sub halt {
    my ($self, $mode) = @_;
    $self->{up} = 0;
    return $self->_ctl('-m', $mode // 'fast', 'stop');
}

# Start it again, as tools/dev/pg.sh did; 1 when it is up.
sub resume {
    my ($self) = @_;
    my $ok = $self->_ctl('-o', "-k $self->{dir} -c listen_addresses='' -p $self->{port} "
                         . '-c fsync=off -c synchronous_commit=off -c full_page_writes=off '
                         . '-c max_connections=200', 'start');
    $self->{up} = $ok;
    return $ok;
}

sub psql_args {
    my ($self) = @_;
    return (AuthsvcTest::_pgbin(), '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h',
            $self->{dir}, '-p', $self->{port}, '-d', 'authsvc');
}

# All rows of a query, as hashes; a statement without rows.
sub rows {
    my ($self, $sql) = @_;
    return AuthsvcTest::_psql_rows([$self->psql_args], $sql);
}

sub do { my ($self, $sql) = @_; AuthsvcTest::_run($self->psql_args, '-c', $sql); 1 }

sub DESTROY {
    my ($self) = @_;
    return unless $self->{owner} == $$;
    my $sh = File::Spec::Functions::catfile(AuthsvcTest::serverroot(), '..', 'tools', 'dev',
                                            'pg.sh');
    system($sh, 'stop', $self->{dir});
}

package AuthsvcTest::FaultRedis;

# Start (again) on the same port; 1 when it listens.
sub resume {
    my ($self) = @_;
    $self->{pid} = AuthsvcTest::_spawn("$self->{dir}/out", AuthsvcTest::redis_bin(), '--port',
        $self->{port}, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--dir', $self->{dir}, '--daemonize', 'no');
    return AuthsvcTest::_wait_listen($self->{port}, $self->{pid}, 20);
}

# Stop it (SIGTERM: redis-server exits at once, without saving here).
sub halt {
    my ($self) = @_;
    AuthsvcTest::_stop_pid(delete $self->{pid});
    return 1;
}

sub log_text {
    my ($self) = @_;
    open(my $in, '<', "$self->{dir}/out") or return '';
    local $/;
    return <$in> // '';
}

sub DESTROY { $_[0]->halt if $_[0]{owner} == $$ }

package AuthsvcTest::FaultHttpd;

sub client { my ($self, %o) = @_; AuthsvcTest::client(%o, base => $self->{base}) }

# The pids of the parent's children (prefork: one per process; event: the processes).
sub children {
    my ($self) = @_;
    my @k = map { /(\d+)/ ? $1 : () } `ps --ppid $self->{pid} -o pid=`;
    return @k;
}

# apachectl graceful: SIGUSR1 to the parent. Waits until the parent logged it.
sub graceful {
    my ($self) = @_;
    my $before = () = $self->log_text =~ /resuming normal operations/g;
    kill 'USR1', $self->{pid} or return 0;
    for (1 .. 300) {
        my $now = () = $self->log_text =~ /resuming normal operations/g;
        return 1 if $now > $before;
        Time::HiRes::sleep(0.1);
    }
    return 0;
}

sub log_text {
    my ($self) = @_;
    my $text = '';
    for my $f ("$self->{dir}/out", $self->{error_log}) {
        open(my $in, '<', $f) or next;
        local $/;
        $text .= <$in> // '';
    }
    return $text;
}

# Lines of the error log that say a child died of a signal.
sub exit_signals {
    my ($self) = @_;
    return grep { /exit signal/ } split /\n/, $self->log_text;
}

sub stop {
    my ($self) = @_;
    AuthsvcTest::_stop_pid(delete $self->{pid}, 30);
}

sub DESTROY { $_[0]->stop if $_[0]{owner} == $$ }

package AuthsvcTest::FaultLoad;

sub stop {
    my ($self) = @_;
    kill 'TERM', @{ $self->{pids} };
    waitpid($_, 0) for @{ $self->{pids} };
    $self->{pids} = [];
    my @seen;
    for my $f (glob "$self->{dir}/*") {
        open(my $in, '<', $f) or next;
        while (my $l = <$in>) {
            my $v = eval { JSON::PP->new->utf8->decode($l) } or next;
            push @seen, $v;
        }
    }
    return [sort { $a->{t} <=> $b->{t} } @seen];
}

sub DESTROY {
    my ($self) = @_;
    return unless $self->{owner} == $$ && @{ $self->{pids} || [] };
    kill 'KILL', @{ $self->{pids} };
    waitpid($_, 0) for @{ $self->{pids} };
}

# ---- issue 10: sanitizers (area E) ------------------------------------------------------
#
#   wait_httpd($pid, $port [, $seconds]) -> (exit status, or undef; 1 if it answers)
#
# An httpd started by a test listens before its start-up is over (the MPM opens the
# listeners before post_config): a port that accepts says nothing yet, and a server
# that refuses its configuration accepts too, then exits. wait_httpd waits (60 s at
# most) until the process has exited (its status) or a child answers HTTP on the port
# (post_config done, start-up warnings written), whichever comes first. Under the ASan
# module start-up is several times slower, so no test may decide from the port alone.

package AuthsvcTest;

push @AuthsvcTest::EXPORT, qw(wait_httpd);

sub _answers_http {
    my ($port) = @_;
    require IO::Select;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1)
        or return 0;
    print {$s} "OPTIONS * HTTP/1.0\r\n\r\n";
    my $line = '';
    $line = <$s> // '' if IO::Select->new($s)->can_read(5);
    close $s;
    return $line =~ m{^HTTP/} ? 1 : 0;
}

sub wait_httpd {
    my ($pid, $port, $seconds) = @_;
    require IO::Socket::INET;
    require Time::HiRes;
    my $until = time + ($seconds // 60);
    while (time < $until) {
        return ($? >> 8, 0) if waitpid($pid, POSIX::WNOHANG()) == $pid;
        return (undef, 1) if _answers_http($port);
        Time::HiRes::sleep(0.1);
    }
    return (undef, 0);
}

1;
