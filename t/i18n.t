# Translations (issue 11, area E): pages in the language Accept-Language asks for among
# the shipped ones (en, de, fr, es), q-values and ranges, an unsupported language gets
# the default, Content-Language, Vary and <html lang>, a mail in German after a German
# request, the C code's texts (titles, errors) translated too, an admin catalogue that
# overrides a message and adds a language (vhost i18nover), AuthsvcLanguages and
# AuthsvcDefaultLanguage (vhost i18nlimit), JSON problems staying English, and the
# catalogues httpd refuses at start-up. M is /api.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use Test::More;
use AuthsvcTest;

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

# GET M/PATH with Accept-Language (undef: none); returns the response and its text.
sub page_in {
    my ($lang, $path, %o) = @_;
    my $c = $o{client} || client(vhost => $o{vhost});
    my $res = $c->page_get($path, defined $lang ? (headers => ['Accept-Language' => $lang]) : ());
    my $html = $res->decoded_content // '';
    return ($res, $html);
}

sub lang_ok {
    my ($res, $html, $want, $name) = @_;
    is($res->code, 200, "$name: 200");
    is($res->header('Content-Language'), $want, "$name: Content-Language: $want");
    like($html, qr/<html lang="\Q$want\E">/, "$name: <html lang=\"$want\">");
    like(join(',', $res->header('Vary')), qr/(?:^|[\s,])Accept-Language(?:$|[\s,])/i,
         "$name: Vary names Accept-Language");
}

# ---- each language, each page --------------------------------------------------------

my %WANT = (
    '/login' => {
        en => [qr/>Sign in</, qr/Forgot your password\?/, qr/<title>Sign in ·/],
        de => [qr/>Anmelden</, qr/Passwort vergessen\?/, qr/<title>Anmelden ·/],
        fr => [qr/>Se connecter</, qr/Mot de passe oublié \?/, qr/<title>Connexion ·/],
        es => [qr/>Iniciar sesión</, qr/¿Has olvidado tu contraseña\?/, qr/<title>Iniciar sesión ·/],
    },
    '/register' => {
        en => [qr/Already have an account\?/],
        de => [qr/Sie haben schon ein Konto\?/, qr/mindestens 12 Zeichen/],
        fr => [qr/Vous avez déjà un compte \?/, qr/au moins 12 caractères/],
        es => [qr/¿Ya tienes una cuenta\?/, qr/al menos 12 caracteres/],
    },
    '/forgot-password' => {
        en => [qr/Send the link/],
        de => [qr/Link senden/],
        fr => [qr/Envoyer le lien/],
        es => [qr/Enviar el enlace/],
    },
    '/logout' => {
        en => [qr/You are not signed in on this browser\./],
        de => [qr/Sie sind in diesem Browser nicht angemeldet\./],
        fr => [qr/Vous n’êtes pas connecté sur ce navigateur\./],
        es => [qr/No has iniciado sesión en este navegador\./],
    },
    '/reset-password' => {
        en => [qr/This link is incomplete/],
        de => [qr/Dieser Link ist unvollständig/],
        fr => [qr/Ce lien est incomplet/],
        es => [qr/Este enlace está incompleto/],
    },
    '/verify-email' => {
        en => [qr/Verify your email address/],
        de => [qr/E-Mail-Adresse bestätigen/],
        fr => [qr/Vérifier votre adresse e-mail/],
        es => [qr/Verifica tu dirección de correo/],
    },
);
for my $path (sort keys %WANT) {
    for my $lang (qw(en de fr es)) {
        my ($res, $html) = page_in($lang, $path);
        lang_ok($res, $html, $lang, "GET $path in $lang");
        like($html, $_, "... says $_") for @{ $WANT{$path}{$lang} };
        unlike($html, qr/\{\{|\b(?:common|login|account|mail)\.[a-z_]+\b/, '... no placeholder or message id left')
            if $lang ne 'en';
    }
}

# The sign-in code page (area B; vhost emailcode has it on) in each language.
for my $case (['de', qr/<h1>Mit einem Code anmelden<\/h1>/], ['fr', qr/<h1>Se connecter avec un code<\/h1>/],
              ['es', qr/<h1>Iniciar sesión con un código<\/h1>/], ['en', qr/<h1>Sign in with a code<\/h1>/]) {
    my ($res, $html) = page_in($case->[0], '/email-code', vhost => 'emailcode');
    lang_ok($res, $html, $case->[0], "GET /email-code in $case->[0]");
    like($html, $case->[1], '... its heading');
}

# Without the header, English exactly as before.
{
    my ($res, $html) = page_in(undef, '/login');
    lang_ok($res, $html, 'en', 'GET /login without Accept-Language');
    like($html, qr{<h1>Sign in</h1>}, '... the English heading');
    my ($res2, $html2) = page_in('en-US', '/login');
    # (the CSRF token differs per request: in the forms, and for the passkey script)
    (my $a = $html) =~ s/(?:name="csrf_token" value|data-csrf)="[^"]*"//g;
    (my $b = $html2) =~ s/(?:name="csrf_token" value|data-csrf)="[^"]*"//g;
    is($b, $a, 'en-US: the very same page');
}

# ---- negotiation ---------------------------------------------------------------------

for my $case (['de-CH', 'de'], ['de-ch,en;q=0.5', 'de'], ['fr;q=0.4, es;q=0.9', 'es'],
              ['ja, fr;q=0.1', 'fr'], ['ja', 'en'], ['*', 'en'], ['en;q=0, *;q=0.5', 'de'],
              ['es-419', 'es'], ['FR', 'fr'], ['fr;q=x, de;q=0.2', 'de'],
              ['de;q=0', 'en'], ['x' x 300, 'en'], [';;;,,=', 'en']) {
    my ($lang, $want) = @$case;
    my ($res, $html) = page_in($lang, '/login');
    is($res->header('Content-Language'), $want,
       "Accept-Language: " . substr($lang, 0, 30) . " -> $want");
    is($res->code, 200, '... 200');
}

# ---- text from the C code: titles and errors -----------------------------------------

{
    my $c = client();
    my $get = $c->page_get('/login', headers => ['Accept-Language' => 'de']);
    my $tok = csrf_from($get);
    my $res = $c->page_post('/login', {csrf_token => $tok, login => unique_email(), password => 'x' x 14},
                            headers => ['Accept-Language' => 'de']);
    my $html = $res->decoded_content // '';
    is($res->code, 401, 'a failed sign-in in German: 401');
    like($html, qr/<p id="error" class="alert" role="alert">Anmeldename oder Passwort ist falsch</, '... the error in German');
    like($html, qr/<title>Anmelden ·/, '... the title in German');

    my $res2 = client()->page_post('/login', {login => 'a', password => 'b'},
                                   headers => ['Accept-Language' => 'fr']);
    my $h2 = $res2->decoded_content // '';
    is($res2->code, 403, 'a form without its CSRF token, in French: 403');
    like($h2, qr/Ce formulaire a expiré/, '... the heading in French');
    like($h2, qr/Code d’erreur : <code>csrf_failed<\/code>/, '... the problem code stays as it is');
    is($res2->header('Content-Language'), 'fr', '... Content-Language: fr');

    my $c3 = client();
    my $tok3 = csrf_from($c3->page_get('/register'));
    my $res3 = $c3->page_post('/register', {csrf_token => $tok3, email => 'not-an-address'},
                              headers => ['Accept-Language' => 'es']);
    my $h3 = $res3->decoded_content // '';
    like($h3, qr/<p id="error" class="alert" role="alert">uno o varios campos no son válidos; mira los errores</,
         'a form with errors in Spanish: the page error');
    like($h3, qr/<p id="email-error" class="field-error">debe contener exactamente una @</, '... the email field error');
    like($h3, qr/<p id="password-error" class="field-error">es obligatorio</, '... a field error ("is required")');
}

# JSON problems stay English.
{
    my $res = client()->post('/auth/login', {login => unique_email(), password => 'x' x 14},
                             headers => ['Accept-Language' => 'de']);
    is($res->code, 401, 'JSON sign-in failure with Accept-Language: de: 401');
    my $p = eval { json_body($res) } || {};
    is($p->{title}, 'Invalid login or password', '... the title stays English');
    is($p->{code}, 'invalid_credentials', '... the code is the contract');
    ok(!defined $res->header('Content-Language'), '... no Content-Language on JSON');

    # A validation failure: the pages translate its field messages, JSON does not.
    $res = client()->post('/auth/register', {email => 'no-at-sign', password => 'x' x 14},
                          headers => ['Accept-Language' => 'es']);
    $p = eval { json_body($res) } || {};
    is($p->{code}, 'validation_failed', 'JSON validation failure in Spanish: the code');
    is($p->{detail}, 'one or more fields are invalid; see errors', '... the detail stays English');
    my ($fe) = grep { ($_->{field} // '') eq 'email' } @{ $p->{errors} || [] };
    like($fe->{message} // '', qr/@/, '... the field message stays English')
        or diag(explain($fe));
    unlike($fe->{message} // '', qr/debe/, '... not the Spanish one');
}

# ---- mail in the language of the request ---------------------------------------------

{
    my $c = client(headers => ['Accept-Language' => 'de-DE, en;q=0.5']);
    my ($res, $f) = $c->register(first_name => 'Jörg');
    is($res->code, 201, 'register with Accept-Language: de-DE: 201') or diag($res->content);
    my $m = mail_ok('the verification mail in German', to => $f->{email},
                    subject => qr/^Bestätigen Sie Ihre E-Mail-Adresse für /);
    is(mail_header($m, 'content-language'), 'de', '... Content-Language: de');
    like($m->{text}, qr/^Hallo Jörg,/m, '... text: greets in German');
    like($m->{text}, qr/^Code: \S+/m, '... text: the code');
    like($m->{text}, qr/läuft in \d+ (?:Stunden|Tagen|Minuten|Tag|Stunde) ab/, '... the lifetime in German');
    like($m->{html}, qr/<html lang="de">/, '... html: <html lang="de">');
    like($m->{html}, qr/E-Mail-Adresse bestätigen/, '... html: the German button');

    my $e = client(headers => ['Accept-Language' => 'es']);
    my ($r2, $g) = $e->register;
    is($r2->code, 201, 'register in Spanish: 201');
    my $m2 = mail_ok('the verification mail in Spanish', to => $g->{email},
                     subject => qr/^Confirma tu dirección de correo para /);
    is(mail_header($m2, 'content-language'), 'es', '... Content-Language: es');

    my ($r3, $h) = client()->register;
    my $m3 = mail_ok('without Accept-Language, the mail in English', to => $h->{email},
                     template => 'verify_email');
    is(mail_header($m3, 'content-language'), 'en', '... Content-Language: en');
    like($m3->{text}, qr/^Please confirm that /m, '... the English text');
}

# ---- an admin catalogue (vhost i18nover) ---------------------------------------------

{
    my ($res, $html) = page_in('de', '/login', vhost => 'i18nover');
    lang_ok($res, $html, 'de', 'i18nover: GET /login in German');
    like($html, qr/>Einloggen \(angepasst\)</, '... the overridden message');
    like($html, qr/Passwort vergessen\?/, '... the other messages built in');
    ($res, $html) = page_in('pt-BR', '/login', vhost => 'i18nover');
    lang_ok($res, $html, 'pt-br', 'i18nover: a language added by a file (pt-br.json)');
    like($html, qr/>Entrar</, '... its message');
    like($html, qr/<label for="password">Senha</, '... another of its messages');
    like($html, qr/Forgot your password\?/, '... a message it lacks: English');
    ($res, $html) = page_in('pt', '/login', vhost => 'i18nover');
    is($res->header('Content-Language'), 'pt-br', '... "pt" matches pt-br (a prefix of its tag)');
    ($res, $html) = page_in('pt-PT', '/login', vhost => 'i18nover');
    is($res->header('Content-Language'), 'en', '... "pt-PT" does not: the default');
    ($res, $html) = page_in('pt-br', '/login');
    is($res->header('Content-Language'), 'en', 'pt-br on another vhost: not there, English');
}

# ---- AuthsvcLanguages fr de, AuthsvcDefaultLanguage de (vhost i18nlimit) -------------

{
    my ($res, $html) = page_in(undef, '/login', vhost => 'i18nlimit');
    lang_ok($res, $html, 'de', 'i18nlimit: no Accept-Language: the default, German');
    ($res, $html) = page_in('es, en;q=0.9', '/login', vhost => 'i18nlimit');
    is($res->header('Content-Language'), 'de', '... Spanish and English not offered: German');
    ($res, $html) = page_in('es, fr;q=0.1', '/login', vhost => 'i18nlimit');
    is($res->header('Content-Language'), 'fr', '... French, even with a low q');
    like($html, qr/>Se connecter</, '... in French');
}

# ---- catalogues httpd refuses ----------------------------------------------------------

my $dir = tempdir('i18n-XXXXXX', DIR => catfile(serverroot(), 'state'), CLEANUP => 1);
mkdir "$dir/logs";
mkdir "$dir/cat";

sub start_with { start_httpd_with($dir, $_[0]) }

sub catalogue {
    my ($name, $text) = @_;
    unlink glob("$dir/cat/*");
    open(my $fh, '>', "$dir/cat/$name") or die;
    print {$fh} $text;
    close $fh;
}

for my $case (
    ['de.json', '{"common.sign_in": "x",}', qr{AuthsvcI18nDir: \S*/cat/de\.json: line 1:}],
    ['de.json', '{"no.such.id": "x"}', qr{de\.json: key "no\.such\.id": unknown message id}],
    ['fr.json', '{"common.password_min": "{{n}}"}', qr{fr\.json: key "common\.password_min": placeholders \{n\} differ}],
    ['es.json', '{"common.sign_in": ""}', qr{es\.json: key "common\.sign_in": the text must be a non-empty string}],
    ['en.json', '{"common.sign_in": "{{#x}}y{{/x}}"}', qr{en\.json: key "common\.sign_in": bad placeholder}],
    ['en.json', '{"common.signed_in_as": "Hi {{nope}}"}', qr{placeholders \{nope\} differ}],
) {
    my ($file, $text, $why) = @$case;
    catalogue($file, $text);
    my ($status, $out) = start_with("AuthsvcI18nDir $dir/cat");
    ok(defined $status && $status != 0, "refused: $file $text");
    like($out, $why, '... naming the file and the key');
}
{
    catalogue('en.json', '{"site.extra": "Welcome {{site}}"}');
    my ($status, $out) = start_with("AuthsvcI18nDir $dir/cat");
    ok(!defined $status, 'an English catalogue adding a message: httpd starts') or diag($out);
    for my $case (['AuthsvcLanguages de xx', qr/AuthsvcLanguages for \S+: no catalogue for "xx"/],
                  ['AuthsvcLanguages d', qr/AuthsvcLanguages: "d": a language tag/],
                  ["AuthsvcLanguages fr de\nAuthsvcDefaultLanguage es",
                   qr/AuthsvcDefaultLanguage for \S+: "es" is not among the languages offered/],
                  ['AuthsvcDefaultLanguage ../../x', qr/AuthsvcDefaultLanguage: "\.\.\/\.\.\/x"/],
                  ["AuthsvcI18nDir $dir/nope", qr{AuthsvcI18nDir: cannot read \S*/nope}]) {
        my ($lines, $why) = @$case;
        my ($st, $o) = start_with($lines);
        (my $name = $lines) =~ s/\n/; /g;
        ok(defined $st && $st != 0, "refused: $name");
        like($o, $why, '... saying why');
    }
}

done_testing();
