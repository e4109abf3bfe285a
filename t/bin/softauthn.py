#!/usr/bin/python3
"""softauthn.py - a software WebAuthn authenticator for the tests (python3-cryptography,
python3-cbor2). It holds its keys in a JSON state file and answers the browser's part of
a ceremony: the PublicKeyCredential JSON a page would post.

  softauthn.py create STATE --rp-id localhost --origin http://localhost:8529 \
      --challenge B64URL [--alg -7|-8|-257] [--fmt none|packed] [--user-handle B64URL]
  softauthn.py get STATE --rp-id ... --origin ... --challenge ... [--counter N]

Knobs for bad input: --type, --flags (hex byte), --rp-hash-of OTHER, --bad-sig,
--cross-origin; --reuse registers the state file's credential again. Prints the credential JSON on stdout.
"""
import argparse
import base64
import hashlib
import json
import os
import struct
import sys

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def load_key(pem):
    return serialization.load_pem_private_key(pem.encode(), password=None)


def new_key(alg):
    if alg == -7:
        return ec.generate_private_key(ec.SECP256R1())
    if alg == -8:
        return ed25519.Ed25519PrivateKey.generate()
    if alg == -257:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise SystemExit("unknown alg %d" % alg)


def cose_key(key, alg):
    pub = key.public_key()
    if alg == -7:
        n = pub.public_numbers()
        return {1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, "big"), -3: n.y.to_bytes(32, "big")}
    if alg == -8:
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {1: 1, 3: -8, -1: 6, -2: raw}
    n = pub.public_numbers()
    return {1: 3, 3: -257, -1: n.n.to_bytes(256, "big"), -2: n.e.to_bytes(3, "big")}


def sign(key, alg, data):
    if alg == -7:
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if alg == -8:
        return key.sign(data)
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def client_data(a, typ):
    cd = {"type": a.type or typ, "challenge": a.challenge, "origin": a.origin}
    if a.cross_origin:
        cd["crossOrigin"] = True
    return json.dumps(cd, separators=(",", ":")).encode()


def auth_data(a, flags, counter, attested=b""):
    rp_hash = hashlib.sha256((a.rp_hash_of or a.rp_id).encode()).digest()
    if a.flags is not None:
        flags = int(a.flags, 16)
    return rp_hash + bytes([flags]) + struct.pack(">I", counter) + attested


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["create", "get"])
    ap.add_argument("state")
    ap.add_argument("--rp-id", required=True)
    ap.add_argument("--origin", required=True)
    ap.add_argument("--challenge", required=True)
    ap.add_argument("--alg", type=int, default=-7)
    ap.add_argument("--fmt", default="none")
    ap.add_argument("--user-handle", default=None)
    ap.add_argument("--counter", type=int, default=None)
    ap.add_argument("--type", default=None)
    ap.add_argument("--flags", default=None)
    ap.add_argument("--rp-hash-of", default=None)
    ap.add_argument("--bad-sig", action="store_true")
    ap.add_argument("--cross-origin", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="create: the state file's key and id")
    a = ap.parse_args()

    if a.cmd == "create":
        if a.reuse:
            with open(a.state) as f:
                old = json.load(f)
            key, cred_id, a.alg = load_key(old["key"]), unb64u(old["id"]), old["alg"]
        else:
            key, cred_id = new_key(a.alg), os.urandom(16)
        cdj = client_data(a, "webauthn.create")
        counter = a.counter if a.counter is not None else 0
        attested = (b"\x00" * 16 + struct.pack(">H", len(cred_id)) + cred_id +
                    cbor2.dumps(cose_key(key, a.alg)))
        ad = auth_data(a, 0x45, counter, attested)  # UP UV AT
        stmt = {}
        if a.fmt == "packed":
            sig = sign(key, a.alg, ad + hashlib.sha256(cdj).digest())
            if a.bad_sig:
                sig = sig[:-1] + bytes([sig[-1] ^ 1])
            stmt = {"alg": a.alg, "sig": sig}
        att = cbor2.dumps({"fmt": a.fmt, "attStmt": stmt, "authData": ad})
        state = {"alg": a.alg, "id": b64u(cred_id), "counter": counter,
                 "user_handle": a.user_handle,
                 "key": key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode()}
        with open(a.state, "w") as f:
            json.dump(state, f)
        out = {"id": b64u(cred_id), "rawId": b64u(cred_id), "type": "public-key",
               "response": {"clientDataJSON": b64u(cdj), "attestationObject": b64u(att),
                            "transports": ["internal"]}}
    else:
        with open(a.state) as f:
            state = json.load(f)
        key = load_key(state["key"])
        counter = a.counter if a.counter is not None else state["counter"] + 1
        cdj = client_data(a, "webauthn.get")
        ad = auth_data(a, 0x05, counter)  # UP UV
        sig = sign(key, state["alg"], ad + hashlib.sha256(cdj).digest())
        if a.bad_sig:
            sig = sig[:-1] + bytes([sig[-1] ^ 1])
        state["counter"] = counter
        with open(a.state, "w") as f:
            json.dump(state, f)
        out = {"id": state["id"], "rawId": state["id"], "type": "public-key",
               "response": {"clientDataJSON": b64u(cdj), "authenticatorData": b64u(ad),
                            "signature": b64u(sig), "userHandle": state["user_handle"]}}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
