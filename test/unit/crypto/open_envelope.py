#!/usr/bin/env python3
"""Opens a Sealpost message envelope, written from docs/format.md alone.

usage: open_envelope.py PRIVATE_KEY.pem ENVELOPE.bin
Prints JSON {body_hex, meta} on success; exits 1 with a reason on stderr otherwise.
Needs the `cryptography` package (python3-cryptography).
"""
import gzip, hashlib, json, struct, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def padme(n):
    if n < 2:
        return n
    e = n.bit_length() - 1
    s = e.bit_length()
    unit = 1 << (e - s)
    return -(-n // unit) * unit


def main(key_path, env_path):
    priv = serialization.load_pem_private_key(open(key_path, "rb").read(), password=None)
    spki = priv.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    my_id = hashlib.sha256(spki).digest()[:16]
    env = open(env_path, "rb").read()
    if env[:4] != b"SPEN" or env[4] != 1 or env[5] != 0:
        raise ValueError("not a v1 envelope")
    nonce = env[6:18]
    (ct_len, n) = struct.unpack(">IH", env[18:24])
    header_len = 24 + 32 * n
    header = env[:header_len]
    pos, wrapped, ids = header_len, None, []
    for i in range(n):
        kid = env[24 + 32 * i: 40 + 32 * i]
        digest = env[40 + 32 * i: 56 + 32 * i]
        ids.append(kid.hex())
        (ln,) = struct.unpack(">H", env[pos:pos + 2])
        w = env[pos + 2: pos + 2 + ln]
        pos += 2 + ln
        if ln and hashlib.sha256(w).digest()[:16] != digest:
            raise ValueError("wrapped key digest mismatch")
        if kid == my_id:
            wrapped = w
    if wrapped is None:
        raise ValueError("not addressed to this key")
    if len(env) != pos + ct_len:
        raise ValueError("length mismatch")
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    key = priv.decrypt(wrapped, oaep)
    padded = AESGCM(key).decrypt(nonce, env[pos:], header)
    (gz_len,) = struct.unpack(">I", padded[:4])
    if padme(4 + gz_len) != len(padded) or any(padded[4 + gz_len:]):
        raise ValueError("bad padding")
    inner = gzip.decompress(padded[4:4 + gz_len])
    (meta_len,) = struct.unpack(">I", inner[:4])
    meta_bytes = inner[4:4 + meta_len]
    sig = inner[4 + meta_len: 68 + meta_len]
    body = inner[68 + meta_len:]
    meta = json.loads(meta_bytes.decode("utf-8"))
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(meta["spk"])).verify(sig, b"sealpost/envelope/v1\x00" + meta_bytes)
    if meta["bh"] != hashlib.sha256(body).hexdigest() or meta["bl"] != len(body):
        raise ValueError("body does not match the signed digest")
    if meta["to"] != ids:
        raise ValueError("recipients do not match the signed list")
    print(json.dumps({"body_hex": body.hex(), "meta": meta}))


if __name__ == "__main__":
    try:
        main(sys.argv[1], sys.argv[2])
    except Exception as e:  # noqa: BLE001 - report any failure as exit 1
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
