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
use Test::More;

use Apache::Test ();
use Apache::TestRequest ();

our @EXPORT = qw(
    client json_body json_enc problem_ok fields_ok no_store_ok
    unique_email unique_username new_password
    backend db_rows db_row db_value db_do sql_str user_row session_rows
    sha256_hex serverroot error_log_mark error_log_since
    pg_admin_params pg_psql
    set_roles set_verified free_logins account kv_body htdocs httpd_bin
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

# A signed-in client for a new account: account(vhost => NAME, agent => UA,
# roles => 'a b', verified => 1, email/username/first_name/last_name => ...).
# Roles and verification are written before the session is first used.
# Returns the client, the fields sent and the user as the API returned it.
sub account {
    my (%o) = @_;
    my $c = client(vhost => delete $o{vhost}, agent => delete $o{agent});
    my $roles = delete $o{roles};
    my $verified = delete $o{verified};
    my ($res, $f) = $c->register(%o);
    die 'register failed: ' . $res->status_line . ' ' . $res->content . "\n"
        unless $res->code == 201;
    set_roles($f->{email}, $roles) if defined $roles;
    set_verified($f->{email}) if $verified;
    $res = $c->login($f->{email}, $f->{password});
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

# The httpd binary the suite runs.
sub httpd_bin { Apache::Test::vars('httpd') }

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
    }, $class;
    $self->{base} = 'http://' . AuthsvcTest::hostport($self->{vhost});
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
    $f{password} //= AuthsvcTest::new_password();
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
