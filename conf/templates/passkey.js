/* passkey.js - the WebAuthn ceremonies of the pages: "Add a passkey" on the account
 * page and "Sign in with a passkey" on the login page. Adding posts to the JSON
 * endpoints of the same mount (same origin: the browser's Origin header is the CSRF
 * check); signing in posts the assertion to the page route POST /passkey with the login
 * page's csrf_token, which answers a session cookie and never tokens. Then it reloads
 * or goes on. Everything else on the pages works without it; without
 * WebAuthn in the browser the buttons stay hidden. */
(function () {
    "use strict";

    function b64u(buf) {
        var s = "", b = new Uint8Array(buf), i;
        for (i = 0; i < b.length; i++) {
            s += String.fromCharCode(b[i]);
        }
        return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    }

    function unb64u(s) {
        var bin = atob(s.replace(/-/g, "+").replace(/_/g, "/")), b, i;
        b = new Uint8Array(bin.length);
        for (i = 0; i < bin.length; i++) {
            b[i] = bin.charCodeAt(i);
        }
        return b.buffer;
    }

    function say(text) {
        var el = document.getElementById("passkey-status");
        if (el) {
            el.textContent = text;
        }
    }

    function post(url, body) {
        return fetch(url, {
            method: "POST",
            credentials: "same-origin",
            headers: {"Content-Type": "application/json", "Accept": "application/json"},
            body: JSON.stringify(body || {})
        }).then(function (res) {
            return res.json().catch(function () { return {}; }).then(function (data) {
                if (!res.ok) {
                    var e = new Error(data.detail || data.title || ("HTTP " + res.status));
                    e.code = data.code;
                    throw e;
                }
                return data;
            });
        });
    }

    function descriptors(list) {
        return (list || []).map(function (d) {
            var o = {type: d.type, id: unb64u(d.id)};
            if (d.transports) {
                o.transports = d.transports;
            }
            return o;
        });
    }

    function failed(e) {
        if (e && e.name === "NotAllowedError") {
            say("The passkey request was cancelled or timed out.");
        } else {
            say((e && e.message) || "Something went wrong.");
        }
    }

    function add(box) {
        var api = box.getAttribute("data-api"), name = document.getElementById("passkey-new-name");
        say("");
        post(api + "/users/me/passkeys/options").then(function (o) {
            o.challenge = unb64u(o.challenge);
            o.user.id = unb64u(o.user.id);
            o.excludeCredentials = descriptors(o.excludeCredentials);
            return navigator.credentials.create({publicKey: o});
        }).then(function (cred) {
            var r = cred.response, body = {credential: {
                id: cred.id, rawId: b64u(cred.rawId), type: cred.type,
                response: {
                    clientDataJSON: b64u(r.clientDataJSON),
                    attestationObject: b64u(r.attestationObject),
                    transports: r.getTransports ? r.getTransports() : []
                }
            }};
            if (name && name.value) {
                body.name = name.value;
            }
            return post(api + "/users/me/passkeys", body);
        }).then(function () {
            window.location.assign(api + "/account?done=passkey_added#passkeys");
        }, function (e) {
            if (e && e.code === "reauthentication_required") {
                window.location.assign(api + "/login?prompt=reauthenticate&return_to=" +
                                       encodeURIComponent(api + "/account#passkeys"));
                return;
            }
            failed(e);
        });
    }

    function signIn(box) {
        var api = box.getAttribute("data-api"), rt = box.getAttribute("data-return-to");
        var csrf = box.getAttribute("data-csrf");
        say("");
        post(api + "/auth/passkey/options", {}).then(function (o) {
            return navigator.credentials.get({publicKey: {
                challenge: unb64u(o.challenge),
                rpId: o.rpId,
                timeout: o.timeout,
                allowCredentials: descriptors(o.allowCredentials),
                userVerification: o.userVerification
            }});
        }).then(function (cred) {
            var r = cred.response;
            return post(api + "/passkey", {csrf_token: csrf, credential: {
                id: cred.id, rawId: b64u(cred.rawId), type: cred.type,
                response: {
                    clientDataJSON: b64u(r.clientDataJSON),
                    authenticatorData: b64u(r.authenticatorData),
                    signature: b64u(r.signature),
                    userHandle: r.userHandle ? b64u(r.userHandle) : null
                }
            }});
        }).then(function () {
            /* Signed in: the login page sends a session on to return_to (checked there). */
            window.location.assign(api + "/login" +
                                   (rt ? "?return_to=" + encodeURIComponent(rt) : ""));
        }, function (e) {
            /* A passkey without user verification on an account with a second factor:
             * that step's page (its token came as a cookie). */
            if (e.code === "mfa_required") {
                window.location.assign(api + "/mfa" +
                                       (rt ? "?return_to=" + encodeURIComponent(rt) : ""));
                return;
            }
            failed(e);
        });
    }

    function init() {
        var addBox = document.getElementById("passkey-add");
        var signInBox = document.getElementById("passkey-signin");
        if (!window.PublicKeyCredential || !navigator.credentials) {
            return;
        }
        if (addBox !== null) {
            addBox.hidden = false;
            document.getElementById("passkey-add-button").addEventListener("click", function () {
                add(addBox);
            });
        }
        if (signInBox !== null) {
            signInBox.hidden = false;
            document.getElementById("passkey-signin-button").addEventListener("click", function () {
                signIn(signInBox);
            });
        }
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", init);
    } else {
        init();
    }
}());
