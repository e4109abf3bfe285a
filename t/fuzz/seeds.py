#!/usr/bin/env python3
# t/fuzz/seeds.py - (re)write the seed corpora t/fuzz/corpus/<target>/: valid and
# edge-case inputs per target, named for what they are. Run from the repository root.
import base64, hashlib, os, re, struct

def w(target, name, data):
    d = f"t/fuzz/corpus/{target}"
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    open(f"{d}/{name}", "wb").write(data)

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

# json: request bodies
for n, v in {
    "login": '{"email":"Alice@Example.COM","password":"correct horse"}',
    "register": '{"email":"bob@example.org","password":"pw","name":"Bob Ünïcode"}',
    "roles_array": '{"roles":["admin","user"],"ttl":3600,"remember":true}',
    "dup_keys": '{"email":"a@b.c","email":"d@e.f"}',
    "not_object": '["email"]',
    "nul_escape": '{"name":"a\\u0000b"}',
    "surrogate": '{"name":"\\ud83d\\ude00 \\udc00"}',
    "big_int": '{"ttl":99999999999999999999999}',
    "real": '{"ttl":1.5e3}',
    "deep": "[" * 40 + "]" * 40,
    "email_idn": '{"email":"x@b\\u00fccher.example"}',
    "email_edge": '{"email":"a..b@-x-.example."}',
    "control": '{"name":"tab\\there\\u0085"}',
    "empty": "",
}.items():
    w("fuzz_json", n, v)

# credparse: one or two Cookie lines (cut at LF), also read as an Authorization header
for n, v in {
    "cookie": "theme=dark; authsvc=abcDEF123_-; lang=fr",
    "cookie_host": "__Host-authsvc=tok; a=1",
    "cookie_twice_same": "authsvc=x; authsvc=x",
    "cookie_twice_diff": "authsvc=x; authsvc=y",
    "cookie_two_lines": "authsvc=x\nb=2, authsvc=y",
    "cookie_rfc2965": "$Version=1; authsvc=x; $Path=/, other=1",
    "cookie_lookalike": "xauthsvc=1; authsvcx=2; authsvc =3; a=authsvc=4",
    "cookie_empty_value": "authsvc=;a=",
    "cookie_separators": ";;, ,\t;",
    "bearer": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
    "bearer_case": "bEaReR \t tok",
    "bearer_alone": "Bearer",
    "bearer_glued": "Bearertok",
    "basic": "Basic dXNlcjpwdw==",
}.items():
    w("fuzz_credparse", n, v)

# mail: template index octet, then to NUL from_name NUL the AUTHSVC_MAIL_VARS values
def mail(i, to, from_name, **v):
    order = ["site", "email", "name", "link", "code", "expires", "new_email", "old_email",
             "time", "ip", "agent", "lang", "passkey"]
    return bytes([i]) + "\0".join([to, from_name] + [v.get(k, "") for k in order]).encode()
for n, v in {
    "verify": mail(0, "bob@example.org", "Example", site="Example", email="bob@example.org",
                   name="Bob", link="https://example.org/verify?t=abc", expires="86400"),
    "reset_unicode": mail(1, "zoë@example.org", "Ëxample Sérvice", name="Zoë <b>&amp;",
                          link="https://example.org/r?t=x&y=<z>", code="123456"),
    "crlf_name": mail(2, "bob@example.org", "Ex", name="Bob\r\nBcc: evil@example.com"),
    "crlf_to": mail(3, "bob@example.org\r\nBcc: evil@example.com", "Ex", name="x"),
    "two_rcpt": mail(4, "a@example.org, b@example.org", "Ex"),
    "long_subject_site": mail(5, "a@example.org", "x" * 200, site="S" * 300,
                              agent="Mozilla/5.0 (X11; Linux x86_64) \u00e9", ip="::1"),
    "new_email": mail(6, "a@example.org", "", new_email="new@example.org",
                      old_email="old@example.org", time="2026-11-22 04:00 UTC"),
    "passkey": mail(8, "a@example.org", "", passkey="YubiKey 5 \u2014 \"work\"", lang="de"),
    "empty": b"",
}.items():
    w("fuzz_mail", n, v)

# returnto
for n, v in {
    "path": "/account?tab=mfa#x", "root": "/", "protocol_relative": "//evil.example/",
    "backslash": "/\\evil.example", "encoded_slash": "/%2F%2Fevil.example",
    "allowed": "https://app.example.com/dash", "allowed_port": "http://localhost:8080/x",
    "userinfo": "https://app.example.com@evil.example/", "scheme_js": "javascript:alert(1)",
    "tab": "/\t/evil.example", "double_enc": "/%252F%252Fevil", "empty": "",
    "ctrl": "/a\r\nLocation: x",
    "origin_upper": "HTTPS://App.Example.COM:443", "origin_ipv6": "http://[::1]:8080",
    "origin_ipv6_port_inside": "http://[::1:8080]", "origin_null": "null",
    "origin_brackets_bad": "http://[[]",  # found by fuzz_returnto: its origin was "http://["
}.items():
    w("fuzz_returnto", n, v)

# template: template NUL json
for n, (t, d) in {
    "simple": ("Hello {{name}}!", '{"name":"<b>x</b>"}'),
    "section": ("{{#items}}<li>{{name}}</li>{{/items}}", '{"items":[{"name":"a"},{"name":"b"}]}'),
    "inverted": ("{{^show}}hidden{{/show}}", '{"show":false}'),
    "raw": ("{{{html}}}", '{"html":"<i>ok</i>"}'),
    "msg": ("{{@greet}} {{@unknown}}", '{"name":"N"}'),
    "unclosed": ("{{#items}}x", "{}"),
    "mismatch": ("{{#items}}{{/show}}", "{}"),
    "unknown_name": ("{{nope}}", "{}"),
    "nested": ("{{#items}}{{#show}}{{name}}{{/show}}{{/items}}", '{"items":[{"show":true,"name":1}]}'),
    "braces": ("{{{{}}}}{{", ""),
    "numbers": ("{{name}} {{email}}", '{"name":1.5,"email":null}'),
    "deep_nesting": ("{{#items}}" * 30 + "{{/items}}" * 30, '{"items":[1]}'),
}.items():
    w("fuzz_template", n, t.encode() + b"\0" + d.encode())

# jwt: 0x00 + token, or 0x01 + JWK
def hs256(header, payload, key=b"0123456789abcdef0123456789abcdef"):
    import hmac
    si = b64u(header.encode()) + "." + b64u(payload.encode())
    return si + "." + b64u(hmac.new(key, si.encode(), hashlib.sha256).digest())
pl = '{"sub":"u1","iss":"https://issuer","aud":"aud","exp":1800000000,"iat":1700000000}'
for n, v in {
    "hs256_valid_nokid": hs256('{"alg":"HS256","typ":"JWT"}', pl),
    "hs256_badsig": hs256('{"alg":"HS256"}', pl, b"x" * 32),
    "alg_none": b64u(b'{"alg":"none"}') + "." + b64u(pl.encode()) + ".",
    "two_parts": "a.b", "four_parts": "a.b.c.d", "padding": "eyJ=.e30=.AA==",
    "crit": hs256('{"alg":"HS256","crit":["x"]}', pl),
    "exp_real": hs256('{"alg":"HS256"}', '{"exp":1.8e9}'),
    "aud_array": hs256('{"alg":"HS256"}', '{"exp":1800000000,"aud":["x","aud"],"iss":"https://issuer","nbf":1}'),
    "es256_kid": hs256('{"alg":"ES256","kid":"abc"}', pl),
}.items():
    w("fuzz_jwt", n, b"\0" + v.encode())
for n, v in {
    "jwk_okp": '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
    "jwk_ec": '{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}',
    "jwk_rsa_small": '{"kty":"RSA","n":"AQAB","e":"AQAB"}',
    "jwk_bad": '{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}',
}.items():
    w("fuzz_jwt", n, b"\1" + v.encode())

# password: pw NUL stored, or '!' params
salt = b64u(b"saltsaltsaltsalt").replace("-", "+").replace("_", "/")
for n, v in {
    "argon2id": "$argon2id$v=19$m=8,t=1,p=1$" + salt + "$" + "A" * 43,
    "argon2i_nov": "$argon2i$m=16,t=2,p=2$" + salt + "$" + "A" * 22,
    "argon2_badver": "$argon2id$v=20$m=8,t=1,p=1$c2FsdHNhbHQ$AAAA",
    "bcrypt": "$2b$04$" + "a" * 22 + "b" * 31,
    "bcrypt_2y": "$2y$05$" + "./" * 11 + "c" * 31,
    "werkzeug_pbkdf2": "pbkdf2:sha256:10$salt$" + "0" * 64,
    "werkzeug_scrypt": "scrypt:16:8:1$salt$" + "0" * 128,
    "passlib_pbkdf2": "$pbkdf2-sha256$10$c2FsdA$" + "A" * 43,
    "empty": "",
    "garbage": "$$$$",
}.items():
    w("fuzz_password", n, b"password\0" + v.encode())
for n, v in {"params": "argon2id m=19456 t=2 p=1", "params_bad": "argon2id m=1 t=0 p=99",
             "params_huge": "argon2id m=99999999999999 t=2 p=1"}.items():
    w("fuzz_password", n, "!" + v)

# totp
for n, v in {"code": "287082", "spaced": "287 082", "seven": "1234567", "letters": "12a456",
             "empty": "", "unicode_digit": "２８７０８２", "recovery": "abcd-efgh-ijkl-mnop",
             "recovery_upper": "ABCD EFGH IJKL MNOP", "recovery_bad": "abcd-efgh-ijkl-mno1",
             "long": "1" * 200, "tabs": "\t287082\t", "nul": "287\x00082",
             "uri": "Example Co\x00alice@example.org",
             "uri_reserved": "Ex:am?ple&=%\x00büb+x@ex ample.org/#"}.items():
    w("fuzz_totp", n, v)

# webauthn: from the recorded vectors
src = open("t/unit/webauthn_vectors.h").read()
for m in re.finditer(r'\{"([^"]+)", (-?\d+),\s*"([^"]*)",\s*"([^"]*)",\s*"([^"]*)",\s*"([^"]*)",\s*"([^"]*)"\}', src):
    name, alg, rcdj, att, gcdj, ad, sig = m.groups()
    w("fuzz_webauthn", f"{name}_cdj", b"\0" + unb64u(rcdj))
    w("fuzz_webauthn", f"{name}_register", b"\1" + unb64u(rcdj) + b"\0" + unb64u(att))
    w("fuzz_webauthn", f"{name}_assert", b"\2" + unb64u(gcdj) + b"\0" + unb64u(ad) + b"\0" + unb64u(sig) + b"\0" + b"\4" * 64)
w("fuzz_webauthn", "cdj_crossorigin", b'\0{"type":"webauthn.get","challenge":"YQ","origin":"http://localhost:8529","crossOrigin":true}')
w("fuzz_webauthn", "cdj_bad_origin", b'\0{"type":"webauthn.create","challenge":"","origin":"http://localhost:8529/"}')

# breach: text and index
def sha(s): return hashlib.sha1(s.encode()).hexdigest().upper()
lines = sorted([(sha(p), c) for p, c in [("password", 9545824), ("123456", 37359195), ("x", 1)]])
text = "".join(f"{h}:{c}\r\n" for h, c in lines)
w("fuzz_breach", "text", text)
w("fuzz_breach", "text_lf", text.replace("\r\n", "\n"))
w("fuzz_breach", "text_unsorted", "".join(f"{h}:{c}\n" for h, c in reversed(lines)))
w("fuzz_breach", "text_no_count", lines[0][0] + "\n")
w("fuzz_breach", "text_huge_count", lines[0][0] + ":99999999999999999999999\n")
w("fuzz_breach", "text_lower", text.lower())
w("fuzz_breach", "empty", "")
def index(recs, n=None, version=1, prefix=8):
    hdr = b"AUTHSVCB" + struct.pack(">IIQ", version, prefix, len(recs) if n is None else n) + b"\0" * 8
    return hdr + b"".join(bytes.fromhex(h)[:8] + struct.pack(">I", c) for h, c in recs)
w("fuzz_breach", "index", index(lines))
w("fuzz_breach", "index_truncated", index(lines)[:-3])
w("fuzz_breach", "index_bad_count", index(lines, n=2**63))
w("fuzz_breach", "index_version2", index(lines, version=2))
w("fuzz_breach", "index_header_only", index([], n=0))

# i18n: 0x00 + Accept-Language, 0x01 + catalogue
for n, v in {"al_simple": "de", "al_list": "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5",
             "al_zero": "de;q=0, en;q=0.000", "al_bad_q": "de;q=1.5, es;q=abc, fr;q=0.12345",
             "al_star": "*", "al_empty": "", "al_spaces": " , ;q=1,,  en-US ;  q = 0.5",
             "al_long": ",".join(["x-" + "a" * 8] * 100)}.items():
    w("fuzz_i18n", n, b"\0" + v.encode())
w("fuzz_i18n", "cat_shipped_fr", b"\1" + open("conf/i18n/fr.json", "rb").read())
w("fuzz_i18n", "cat_small", b'\1{"c.sign_in":"Se connecter"}')
w("fuzz_i18n", "cat_placeholder", b'\1{"mail.x":"{{name}} {{unknown}}"}')
w("fuzz_i18n", "cat_not_object", b'\1["x"]')

# crypto
for n, v in {"token": b64u(os.urandom(0) + b"\x01" * 32), "b64_pad": "AAAA==", "b64_std": "ab+/",
             "one_char": "A", "two_chars": "AB", "three": "ABC", "empty": "",
             "keyhex": "00" * 32, "keyb64": base64.b64encode(b"k" * 32).decode() + "\n",
             "sealed": "v1.abcdef01." + b64u(b"\0" * 40), "sealed_short": "v1.x.AA",
             "sealed_nokid": "v1..", "space": "  " + "ab" * 32 + "\t"}.items():
    w("fuzz_crypto", n, v)

# fields: password NUL email NUL name; the whole also as address and IP
for n, v in {"good": b"correct horse battery\0alice@example.com\0Alice",
             "blocklisted": b"password123\0a@b\0x",
             "contains_email": b"aliceAlice12345!\0alice+tag@example.com\0Bob",
             "bad_utf8": b"\xff\xfe\0\0", "accents": "é".encode() * 12,
             "ipv4": b"192.168.1.10", "ipv6": b"2001:db8:1:2:3:4:5:6",
             "ipv4_mapped": b"::ffff:10.0.0.1", "ipv6_zone": b"fe80::1%eth0",
             "addr": b"a@b.c", "addr_two_at": b"a@b@c", "addr_crlf": b"x@y\r\nBcc: z@w",
             "control": b"tab\there\0\0"}.items():
    w("fuzz_fields", n, v)
