# SetHandler authsvc-metrics: the Prometheus exposition (format, promtool), GET only,
# local callers only; every kind of event moves its series by what happened; the
# counts are the same whichever child served (many connections at once); a graceful
# restart keeps them. Counters are the whole server's: the test reads, acts, and reads
# again, and compares the differences (nothing else runs while a .t file does, but mail
# of earlier tests may still be retried in the background: mail counts are "at least").
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Spec::Functions qw(catfile);
use JSON::PP ();
use Test::More;
use Time::HiRes ();
use AuthsvcTest;

my $V = 'metrics';

my @COUNTERS = qw(authsvc_logins_total authsvc_registrations_total authsvc_mfa_total
    authsvc_password_resets_total authsvc_rate_limited_total authsvc_lockouts_total
    authsvc_guard_decisions_total authsvc_tokens_issued_total authsvc_refresh_reuse_total
    authsvc_mail_total authsvc_db_errors_total);
my %LABELS = (
    authsvc_logins_total => [result => qw(success failure mfa_required locked rate_limited
                                          busy unverified invalid error)],
    authsvc_mfa_total => [result => qw(success failure)],
    authsvc_rate_limited_total => [class => qw(login register forgot verify mfa refresh)],
    authsvc_guard_decisions_total => [result => qw(granted denied unauthenticated step_up
                                                   invalid_token unavailable)],
    authsvc_tokens_issued_total => [kind => qw(access refresh)],
    authsvc_mail_total => [result => qw(sent retried failed)],
);
my @GAUGES = qw(authsvc_sessions_active authsvc_mail_queue_depth);
my @HISTOGRAMS = qw(authsvc_request_duration_seconds authsvc_password_hash_seconds);

# A new account on a client of its own (vhost => NAME): the client and the fields sent.
sub registered {
    my (%o) = @_;
    my $c = client(%o);
    my ($res, $f) = $c->register();
    die 'register: ' . $res->status_line . ' ' . $res->content . "\n" unless $res->code == 201;
    return ($c, $f);
}

# Every sample now (a failed scrape is a failed test, and an empty hash).
sub scrape {
    my $res = metrics_get(@_);
    is($res->code, 200, 'scrape: 200') or return {};
    my ($s) = eval { metrics_parse($res->content) };
    ok($s, 'scrape: readable') or diag($@);
    return $s || {};
}

sub mk { metric_key(@_) }
sub login_k { mk('authsvc_logins_total', result => $_[0]) }
sub dur_count { mk('authsvc_request_duration_seconds_count', endpoint => $_[0]) }
my $HASHES = 'authsvc_password_hash_seconds_count';

# The counter series that only this test's requests move (mail and database errors may
# move in the background, request durations and hashes are checked where they matter).
sub quiet_keys {
    my ($s) = @_;
    return grep { /^authsvc_\w+_total\b/ && !/^authsvc_(?:mail|db_errors)_total\b/ } keys %$s;
}

# Every sample now, or {} (no assertion: for polling).
sub peek {
    my $res = metrics_get(@_);
    return {} unless $res->code == 200;
    my ($s) = eval { metrics_parse($res->content) };
    return $s || {};
}

# What is wrong with $after - $before: $want->{key} for every key given, and 0 for
# every other quiet counter (an event must not move what it is not).
sub moved_wrong {
    my ($before, $after, $want) = @_;
    my @bad;
    for my $k (sort keys %$want) {
        my $d = ($after->{$k} // 'NaN') - ($before->{$k} // 'NaN');
        push @bad, "$k moved by $d, not $want->{$k}" unless $d == $want->{$k};
    }
    for my $k (sort(quiet_keys($after))) {
        next if exists $want->{$k};
        my $d = $after->{$k} - ($before->{$k} // 0);
        push @bad, "$k moved by $d, not 0" if $d != 0;
    }
    return @bad;
}

sub moved_ok {
    my ($before, $after, $want, $name) = @_;
    my @bad = moved_wrong($before, $after, $want);
    ok(!@bad, $name) or diag(join "\n", @bad);
}

# Run $act between two scrapes and check the differences. A request is timed by the log
# hook, which runs once the answer has gone out: the client may scrape a moment before
# its own last request is counted, so the second scrape is repeated (for 10 s at most:
# a loaded machine) until the differences are right.
sub event_ok {
    my ($name, $want, $act) = @_;
    my $before = scrape();
    $act->();
    my $deadline = Time::HiRes::time() + 10;
    my $after = peek();
    while (moved_wrong($before, $after, $want) && Time::HiRes::time() < $deadline) {
        Time::HiRes::sleep(0.1);
        $after = peek();
    }
    moved_ok($before, $after, $want, $name);
    return ($before, $after);
}

# ---- the exposition -------------------------------------------------------------------

{
    my $res = metrics_get();
    is($res->code, 200, 'GET /metrics: 200');
    is($res->header('Content-Type'), 'text/plain; version=0.0.4; charset=utf-8',
       '... Content-Type of the text format 0.0.4');
    no_store_ok($res, '...');
    my $text = $res->content;
    like($text, qr/\n\z/, '... ends with a line end');
    unlike($text, qr/\r/, '... no CR');
    my ($s, $f) = eval { metrics_parse($text) };
    ok($s, '... every line is a comment or a sample') or diag($@);
    $s ||= {};
    $f ||= {};
    for my $n (@COUNTERS, @GAUGES, @HISTOGRAMS) {
        my $type = grep({ $_ eq $n } @COUNTERS) ? 'counter'
                 : grep({ $_ eq $n } @GAUGES)   ? 'gauge' : 'histogram';
        is($f->{$n}{type}, $type, "$n: # TYPE $type");
        like($f->{$n}{help} // '', qr/\w{3,}/, "$n: # HELP with a text");
    }
    is_deeply([sort keys %$f], [sort @COUNTERS, @GAUGES, @HISTOGRAMS],
              'no other family') or diag(join ' ', sort keys %$f);
    # Every label value of a fixed set is printed, zero or not.
    for my $n (@COUNTERS) {
        my ($label, @values) = @{ $LABELS{$n} || [] };
        my @want = $label ? map { mk($n, $label => $_) } @values : ($n);
        my @have = sort grep { /^\Q$n\E(?:\{|$)/ } keys %$s;
        is_deeply(\@have, [sort @want], "$n: its series") or diag("have: @have");
        ok(!grep({ $s->{$_} !~ /^\d+$/ } @have), "$n: whole numbers");
    }
    for my $n (@GAUGES) {
        like($s->{$n} // '', qr/^\d+$/, "$n: a whole number");
    }
    # The endpoints: every JSON route once ({id} for a path segment), page, other.
    my %ep = map { /endpoint="([^"]*)"/ ? ($1 => 1) : () } grep { /^authsvc_request_duration_seconds_count\{/ } keys %$s;
    for my $e ('/auth/login', '/auth/register', '/users/me', '/users/me/sessions/{id}',
               '/.well-known/jwks.json', 'page', 'other') {
        ok($ep{$e}, "endpoint \"$e\" has a histogram");
    }
    ok(!grep({ /\*/ || $_ eq '/login' } keys %ep), 'no raw * and no page path as an endpoint');
    # Histograms: cumulative buckets ending in +Inf = count, a sum.
    my $bad = 0;
    for my $key (grep { /_count(?:\{|$)/ } keys %$s) {
        my ($n, $labels) = $key =~ /^(\w+)_count(?:\{(.*)\})?$/;
        next unless grep { $_ eq $n } @HISTOGRAMS;
        my @b = sort { $a->[0] <=> $b->[0] }
            map { /le="([^"]+)"/ ? [$1 eq '+Inf' ? 9**9**9 : $1, $s->{$_}] : () }
            grep { index($_, "${n}_bucket{" . ($labels ? "$labels," : '')) == 0 } keys %$s;
        $bad++ unless @b >= 2 && $b[-1][0] == 9**9**9 && $b[-1][1] == $s->{$key};
        $bad++ if grep { $b[$_][1] < $b[$_ - 1][1] } 1 .. $#b;
        $bad++ unless defined $s->{ $n . '_sum' . ($labels ? "{$labels}" : '') };
    }
    is($bad, 0, 'histograms: buckets cumulative, +Inf equals _count, a _sum');
    ok(exists $s->{ mk('authsvc_password_hash_seconds_bucket', le => '+Inf') },
       'authsvc_password_hash_seconds has no label but le');

  SKIP: {
        skip 'promtool is not installed (/usr/bin/promtool, Debian package prometheus)', 2
            unless -x '/usr/bin/promtool';
        my $file = catfile(serverroot(), 'state', "metrics-$$.txt");
        open(my $fh, '>', $file) or die "$file: $!";
        print {$fh} $text;
        close $fh;
        my $out = `/usr/bin/promtool check metrics < '$file' 2>&1`;
        is($? >> 8, 0, 'promtool check metrics: valid') or diag($out);
        is($out, '', '... and no lint complaint') or diag($out);
        unlink $file;
    }
}

# ---- the Grafana dashboard and the alert rules (conf/grafana/) -----------------------------

{
    my ($s) = eval { metrics_parse(metrics_get()->content) };
    my %names = map { /^(\w+)/ ? ($1 => 1) : () } keys %{ $s || {} };
    my %labels = map { $_ => 1 } qw(result class kind endpoint le instance job);
    my $dir = catfile(serverroot(), '..', 'conf', 'grafana');
    my $d = eval {
        open(my $fh, '<', catfile($dir, 'authsvc.json')) or die "authsvc.json: $!\n";
        local $/;
        JSON::PP->new->decode(<$fh>);
    };
    ok(ref $d eq 'HASH', 'the dashboard is a JSON object') or diag($@);
    $d = {} unless ref $d eq 'HASH';
    my @vars = @{ $d->{templating}{list} || [] };
    ok((grep { $_->{type} eq 'datasource' && $_->{name} eq 'datasource' && $_->{query} eq 'prometheus' } @vars),
       'a Prometheus data source variable');
    my @panels = map { ($_, @{ $_->{panels} || [] }) } @{ $d->{panels} || [] };
    my @targets = map { @{ $_->{targets} || [] } } @panels;
    my @exprs = map { $_->{expr} // '' } @targets;
    ok(@exprs >= 10, scalar(@exprs) . ' queries');
    is(scalar(grep { ($_->{datasource}{uid} // '') ne '${datasource}' } @targets), 0,
       'every query uses the data source variable');
    my %ids;
    is(scalar(grep { !defined $_->{id} || $ids{ $_->{id} }++ || !$_->{gridPos} } @panels), 0,
       'panels have ids of their own and a place');
    my (@bad, %used);
    for my $e (@exprs) {
        for my $n ($e =~ /\b(authsvc_\w+)/g) {
            $used{$n} = 1;
            push @bad, "$n (in $e)" unless $names{$n};
        }
        for my $l (map { split /\s*,\s*/ } $e =~ /\b(?:by|without)\s*\(([^)]*)\)/g) {
            push @bad, "label $l (in $e)" unless $labels{$l};
        }
        for my $sel ($e =~ /\{([^}]*)\}/g) {
            for my $l ($sel =~ /(\w+)\s*(?:=~|!~|!=|=)/g) {
                push @bad, "label $l (in $e)" unless $labels{$l};
            }
        }
    }
    ok(!@bad, 'every metric and label the dashboard names is exported') or diag(join "\n", @bad);
    for my $n (qw(authsvc_logins_total authsvc_request_duration_seconds_bucket
                  authsvc_password_hash_seconds_bucket authsvc_rate_limited_total authsvc_lockouts_total
                  authsvc_mail_queue_depth authsvc_sessions_active authsvc_db_errors_total)) {
        ok($used{$n}, "a panel shows $n");
    }
    for my $q (qw(0.5 0.95 0.99)) {
        ok((grep { /histogram_quantile\(\Q$q\E,.*by \(le, endpoint\).*authsvc_request_duration_seconds_bucket/ } @exprs),
           "request latency quantile $q by endpoint");
    }
    my $rules = eval {
        open(my $fh, '<', catfile($dir, 'authsvc-alerts.yml')) or die "authsvc-alerts.yml: $!\n";
        local $/;
        <$fh>;
    } // '';
    my @rbad = grep { !$names{$_} } $rules =~ /\b(authsvc_\w+)/g;
    ok($rules =~ /alert:/ && !@rbad, 'the alert rules name only exported metrics') or diag("@rbad");
  SKIP: {
        skip 'promtool is not installed (/usr/bin/promtool, Debian package prometheus)', 2
            unless -x '/usr/bin/promtool';
        my $out = `/usr/bin/promtool check rules '@{[catfile($dir, 'authsvc-alerts.yml')]}' 2>&1`;
        is($? >> 8, 0, 'promtool check rules: the alert rules are valid') or diag($out);
        # The dashboard's queries as recording rules, Grafana's variables filled in.
        my $file = catfile(serverroot(), 'state', "dashboard-rules-$$.yml");
        open(my $fh, '>', $file) or die "$file: $!";
        print {$fh} "groups:\n  - name: dashboard\n    rules:\n";
        my $i = 0;
        for my $e (@exprs) {
            (my $q = $e) =~ s/\$__rate_interval/5m/g;
            $q =~ s/\$instance/.*/g;
            $q =~ s/'/''/g;
            $i++;
            print {$fh} "      - record: dashboard:q$i\n        expr: '$q'\n";
        }
        close $fh;
        $out = `/usr/bin/promtool check rules '$file' 2>&1`;
        is($? >> 8, 0, 'promtool check rules: every dashboard query is valid PromQL') or diag($out);
        unlink $file;
    }
}

# ---- GET only, local callers only -------------------------------------------------------

{
    my $c = client(prefix => '');
    for my $m (qw(HEAD POST PUT DELETE)) {
        my $res = $c->request($m => '/metrics', ($m eq 'POST' || $m eq 'PUT') ? (json => {}) : ());
        is($res->code, 405, "$m /metrics: 405");
        is($res->header('Allow'), 'GET', '... Allow: GET');
        problem_ok($res, 405, 'method_not_allowed', "$m /metrics") unless $m eq 'HEAD';
    }
    my $res = metrics_get(vhost => $V, headers => ['X-Forwarded-For' => random_ipv4()]);
    is($res->code, 403, 'a caller from another address (Require ip): 403');
    unlike($res->content, qr/authsvc_/, '... and no metrics');
    is(metrics_get(vhost => $V)->code, 200, 'the same vhost from 127.0.0.1: 200');
    is(metrics_get(vhost => 'idle')->code, 200, 'another vhost inherits the location');
}

# ---- sign-in ---------------------------------------------------------------------------

my ($c, $f) = registered();
event_ok('a right password: logins{success}, one hash, one /auth/login',
         {login_k('success') => 1, $HASHES => 1, dur_count('/auth/login') => 1},
         sub { is($c->login($f->{email}, $f->{password})->code, 200, 'sign-in: 200') });
event_ok('a wrong password: logins{failure}, one hash',
         {login_k('failure') => 1, $HASHES => 1},
         sub { is($c->login($f->{email}, 'not-' . $f->{password})->code, 401, 'wrong password: 401') });
event_ok('an unknown account: logins{failure}, one (dummy) hash',
         {login_k('failure') => 1, $HASHES => 1},
         sub { is($c->login(unique_email(), 'whatever-1234')->code, 401, 'unknown: 401') });
event_ok('no password: logins{invalid}, no hash',
         {login_k('invalid') => 1, $HASHES => 0, dur_count('/auth/login') => 1},
         sub { is($c->post('/auth/login', {login => $f->{email}})->code, 422, 'no password: 422') });
{
    my ($vc, $vf) = registered(vhost => 'verified');
    event_ok('an unverified account where verification is required: logins{unverified}',
             {login_k('unverified') => 1, $HASHES => 1},
             sub { is($vc->login($vf->{email}, $vf->{password})->code, 403, 'unverified: 403') });
}
{
    # shortwindow: 2 sign-ins per address in 3 s.
    my $x = xff_client('shortwindow', random_ipv4());
    my $email = unique_email();
    $x->login($email, 'wrong-pass-1') for 1 .. 2;
    event_ok('a third sign-in from one address: logins{rate_limited}, rate_limited{login}',
             {login_k('rate_limited') => 1, mk('authsvc_rate_limited_total', class => 'login') => 1,
              $HASHES => 0},
             sub { is($x->login($email, 'wrong-pass-1')->code, 429, 'rate limited: 429') });
}

{
    my $pc = client();
    event_ok('a wrong password on the sign-in page: logins{failure}, two page requests',
             {login_k('failure') => 1, $HASHES => 1, dur_count('page') => 2},
             sub {
                 my ($res) = $pc->page_submit('/login', {login => $f->{email}, password => 'wrong-page-1'});
                 is($res->code, 401, 'the page answers the failure: 401');
             });
    event_ok('no route: the endpoint "other"', {dur_count('other') => 1},
             sub { is($pc->get('/no/such/endpoint')->code, 404, 'no route: 404') });
}

# ---- lockout (vhost metrics: AuthsvcLockout 3 1h 1h) --------------------------------------

{
    my ($lc, $lf) = registered(vhost => $V);
    my $bad = sub { $lc->login($lf->{email}, 'wrong-' . $lf->{password})->code };
    event_ok('two failures: no lockout yet', {login_k('failure') => 2, mk('authsvc_lockouts_total') => 0},
             sub { is($bad->(), 401, 'failure 1') for 1 .. 2 });
    event_ok('the third failure locks: lockouts +1', {login_k('failure') => 1, mk('authsvc_lockouts_total') => 1},
             sub { is($bad->(), 401, 'failure 3') });
    event_ok('a locked account (not revealed): a failure, no second lockout',
             {login_k('failure') => 1, mk('authsvc_lockouts_total') => 0},
             sub { is($lc->login($lf->{email}, $lf->{password})->code, 401, 'locked: 401') });
}

# ---- registration, password reset ---------------------------------------------------------

event_ok('a registration: registrations +1, one hash',
         {mk('authsvc_registrations_total') => 1, $HASHES => 1, dur_count('/auth/register') => 1},
         sub { is((client()->register)[0]->code, 201, 'register: 201') });
event_ok('a refused registration (taken email): nothing counted but the request',
         {mk('authsvc_registrations_total') => 0, dur_count('/auth/register') => 1},
         sub { is((client()->register(email => $f->{email}))[0]->code, 409, 'taken: 409') });
{
    my ($rc, $rf) = registered();
    is($rc->post('/auth/forgot-password', {email => $rf->{email}})->code, 202, 'forgot-password: 202');
    my $mail = mail_ok('reset mail', to => $rf->{email}, template => 'reset_password');
    event_ok('a password reset: password_resets +1',
             {mk('authsvc_password_resets_total') => 1, dur_count('/auth/reset-password') => 1},
             sub {
                 is($rc->post('/auth/reset-password', {token => $mail->{token}, password => new_password()})->code,
                    200, 'reset-password: 200');
             });
    event_ok('a used reset link: no reset counted',
             {mk('authsvc_password_resets_total') => 0},
             sub {
                 is($rc->post('/auth/reset-password', {token => $mail->{token}, password => new_password()})->code,
                    400, 'used link: 400');
             });
    # vhost metrics: one forgot-password per address and hour.
    my $x = xff_client($V, random_ipv4());
    is($x->post('/auth/forgot-password', {email => unique_email()})->code, 202, 'forgot-password from an address');
    event_ok('the second from that address: rate_limited{forgot}',
             {mk('authsvc_rate_limited_total', class => 'forgot') => 1},
             sub { is($x->post('/auth/forgot-password', {email => unique_email()})->code, 429, 'second forgot-password: 429') });
}

# ---- MFA (vhost metrics has a key) ----------------------------------------------------------

{
    my $a = mfa_account(vhost => $V);
    my ($mc, $res, $token);
    event_ok('the right password of an MFA account: logins{mfa_required}',
             {login_k('mfa_required') => 1},
             sub { ($mc, $res, $token) = mfa_start($a); is($res->code, 401, 'step one: 401') });
    event_ok('a wrong code: mfa{failure}', {mk('authsvc_mfa_total', result => 'failure') => 1},
             sub { is($mc->post('/auth/login/mfa', {mfa_token => $token, code => wrong_code($a)})->code, 401, 'wrong code: 401') });
    event_ok('the right code: mfa{success}, no login counted again',
             {mk('authsvc_mfa_total', result => 'success') => 1, login_k('success') => 0,
              dur_count('/auth/login/mfa') => 1,
              # this vhost gives API clients tokens
              mk('authsvc_tokens_issued_total', kind => 'access') => 1,
              mk('authsvc_tokens_issued_total', kind => 'refresh') => 1},
             sub { is($mc->post('/auth/login/mfa', {mfa_token => $token, code => mfa_code($a)})->code, 200, 'step two: 200') });
}

# ---- tokens (vhost metrics has a signing key) -----------------------------------------------

{
    my $t;
    event_ok('a sign-in with tokens: one access and one refresh token',
             {mk('authsvc_tokens_issued_total', kind => 'access') => 1,
              mk('authsvc_tokens_issued_total', kind => 'refresh') => 1,
              mk('authsvc_registrations_total') => 1, login_k('success') => 1, $HASHES => 2},
             sub { $t = token_account(vhost => $V) });
    my $new;
    event_ok('a refresh: one of each more',
             {mk('authsvc_tokens_issued_total', kind => 'access') => 1,
              mk('authsvc_tokens_issued_total', kind => 'refresh') => 1},
             sub { $new = refresh_post($t->{c}, $t->{rt}); is($new->code, 200, 'refresh: 200') });
    event_ok('the used refresh token again: refresh_reuse +1, no token',
             {mk('authsvc_refresh_reuse_total') => 1,
              mk('authsvc_tokens_issued_total', kind => 'access') => 0},
             sub { is(refresh_post($t->{c}, $t->{rt})->code, 401, 'reuse: 401') });
}

# ---- the guard (vhost metrics: /mx/any/, /mx/role/, /mx/mfa/) -----------------------------

{
    my $anon = client(vhost => $V, prefix => '');
    my $g = 'authsvc_guard_decisions_total';
    event_ok('no session: guard{unauthenticated}', {mk($g, result => 'unauthenticated') => 1},
             sub { is($anon->get('/mx/any/')->code, 401, 'anonymous: 401') });
    event_ok('a bad access token: guard{invalid_token}', {mk($g, result => 'invalid_token') => 1},
             sub { is($anon->get('/mx/any/', headers => [bearer('not.a.token')])->code, 401, 'bad token: 401') });
    my ($sc) = account(vhost => $V);
    $sc->{prefix} = '';
    event_ok('a session: guard{granted}', {mk($g, result => 'granted') => 1},
             sub { is($sc->get('/mx/any/')->code, 200, 'signed in: 200') });
    event_ok('a session without the role: guard{denied}', {mk($g, result => 'denied') => 1},
             sub { is($sc->get('/mx/role/')->code, 403, 'no role: 403') });
    event_ok('a session without MFA where MFA is required: guard{step_up}', {mk($g, result => 'step_up') => 1},
             sub { is($sc->get('/mx/mfa/')->code, 403, 'no MFA: 403') });
    event_ok('a page no Require line guards: no decision', {},
             sub { is($sc->get('/health')->code, 200, 'health: 200') });
}

# ---- mail: sent, retried, failed --------------------------------------------------------------

{
    my $before = scrape();
    my ($mc, $mf) = registered();
    mail_ok('verify mail', to => $mf->{email}, template => 'verify_email');
    my $after = scrape();
    my $k = mk('authsvc_mail_total', result => 'sent');
    ok($after->{$k} - $before->{$k} >= 1, 'a delivered message: mail{sent} +1 at least');

    # vhost giveup: the command fails while .fail exists; given up after 4 s.
    my $flag = catfile(mail_dir('giveup'), '.fail');
    open(my $fh, '>', $flag) or die "$flag: $!";
    close $fh;
    $before = scrape();
    my ($res, $gf) = client(vhost => 'giveup')->register();
    is($res->code, 201, 'giveup vhost: register');
    my $row = db_row('SELECT id FROM mail_outbox WHERE template = ' . sql_str('verify_email')
                     . ' ORDER BY id DESC LIMIT 1') || {id => -1};
    my ($r2, $failed) = wait_outbox($row->{id}, sub { $_[0]{status} eq 'failed' }, 25);
    ok($failed, '... the message failed for good');
    $after = scrape();
    unlink $flag;
    my ($kr, $kf) = map { mk('authsvc_mail_total', result => $_) } qw(retried failed);
    ok($after->{$kf} - $before->{$kf} >= 1, 'mail{failed} +1 at least');
    ok($after->{$kr} - $before->{$kr} >= ($r2->{attempts} // 2) - 1,
       'mail{retried}: every attempt but the last') or diag("attempts $r2->{attempts}");
}

# ---- database errors ---------------------------------------------------------------------------

{
    my $before = scrape();
    my $res = client(vhost => 'nodb')->get('/users/me');
    is($res->code, 503, 'a database without the schema: 503');
    my $after = scrape();
    my $k = mk('authsvc_db_errors_total');
    ok($after->{$k} > $before->{$k}, 'db_errors moved') or diag("$before->{$k} -> $after->{$k}");
}

# ---- the gauges: read from the database, cached a few seconds -------------------------------

sub live_sessions {
    my $now = time;
    return db_value("SELECT count(*) AS n FROM sessions WHERE revoked_at IS NULL AND expires_at > $now "
                    . "AND (idle_expires_at > $now OR EXISTS (SELECT 1 FROM refresh_tokens t "
                    . "WHERE t.session_hash = sessions.token_hash AND t.revoked_at IS NULL "
                    . "AND t.rotated_at IS NULL AND t.expires_at > $now))");
}

{
    sleep 6;    # the cache is older than its 5 s now
    my $db = live_sessions();
    my $q = db_value(q{SELECT count(*) AS n FROM mail_outbox WHERE status = 'queued'});
    my $t0 = Time::HiRes::time();    # before the scrape that fills the cache
    my $s = scrape();
    is($s->{authsvc_sessions_active}, $db, "sessions_active: what the database counts ($db)");
    ok(defined $s->{authsvc_mail_queue_depth} && $s->{authsvc_mail_queue_depth} <= $q + 2,
       "mail_queue_depth: about what the database counts ($q)");
    account();
  SKIP: {
        my $s2 = scrape();
        skip 'the machine is too slow to see the cache', 1 if Time::HiRes::time() - $t0 > 3.5;
        is($s2->{authsvc_sessions_active}, $db, 'a new session: not seen within the cache time');
    }
    sleep 6;
    my $db2 = live_sessions();
    my $s3 = scrape();
    is($s3->{authsvc_sessions_active}, $db2, "... seen once it has passed ($db2)");
    ok($db2 > $db, '... one more than before');
}

# ---- many connections at once: one count, whichever child served ----------------------------

{
    my $n = 24;
    my $email = unique_email();
    event_ok("$n sign-ins at once, each on its own connection",
        {login_k('failure') => $n, $HASHES => $n, dur_count('/auth/login') => $n},
        sub {
            my @codes = parallel_posts(undef, '/auth/login',
                                       [map { {login => $email, password => "wrong-$_"} } 1 .. $n]);
            is(scalar(grep { $_ == 401 } @codes), $n, "all $n answered 401") or diag("@codes");
        });
    event_ok('10 requests one after another, each on a new connection: /users/me +10',
             {dur_count('/users/me') => 10},
             sub { is(scalar(grep { client()->get('/users/me')->code == 401 } 1 .. 10), 10, 'all 401') });
}

# ---- a graceful restart keeps every value -------------------------------------------------------

{
    my $before = scrape();
    my $pidfile = catfile(Apache::Test::vars('t_logs'), 'httpd.pid');
    open(my $fh, '<', $pidfile) or die "$pidfile: $!";
    chomp(my $pid = <$fh> // '');
    close $fh;
    my $mark = error_log_mark();
    ok($pid =~ /^\d+$/ && kill('USR1', $pid), "graceful restart (SIGUSR1 to $pid)");
    my $deadline = time + 30;
    sleep 1 until error_log_since($mark) =~ /resuming normal operations/ || time > $deadline;
    like(error_log_since($mark), qr/resuming normal operations/, '... httpd restarted');
    my $after;
    for (1 .. 50) {
        my $res = metrics_get();
        if ($res->code == 200) {
            ($after) = metrics_parse($res->content);
            last;
        }
        Time::HiRes::sleep(0.2);
    }
    ok($after, 'metrics after the restart');
    moved_ok($before, $after || {}, {}, 'every counter kept its value');
    is($after->{$HASHES}, $before->{$HASHES}, '... and the histograms theirs');
    event_ok('the new generation counts in the same place', {mk('authsvc_registrations_total') => 1},
             sub { is((client()->register)[0]->code, 201, 'register: 201') });
}

done_testing();
