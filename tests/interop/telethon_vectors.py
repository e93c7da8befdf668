#!/usr/bin/python3
"""Prints JSON crypto vectors made by Telethon (Debian python3-telethon) for fixed inputs.

os.urandom is replaced by a recorded deterministic stream, so every random byte Telethon used
is in the vector and the C tests can replay it. Usage:
    /usr/bin/python3 telethon_vectors.py > vectors/telethon_crypto.json
"""
import collections
import hashlib
import logging
import json
import os
import struct
import sys

import telethon
from telethon.crypto import AES, AuthKey, Factorization, rsa
from telethon.network.mtprotostate import MTProtoState
from telethon import password as tpassword
from telethon.tl import types


class Stream:
    """Deterministic bytes: SHA256(seed || counter) blocks; remembers what was handed out."""

    def __init__(self, seed):
        self.seed, self.counter, self.pool, self.used = seed, 0, b'', b''

    def __call__(self, n):
        while len(self.pool) < n:
            self.pool += hashlib.sha256(self.seed + struct.pack('<I', self.counter)).digest()
            self.counter += 1
        out, self.pool = self.pool[:n], self.pool[n:]
        self.used += out
        return out


def det(label, n):
    return Stream(label.encode())(n)


def hx(b):
    return bytes(b).hex()


out = {'producer': 'Telethon %s (Debian python3-telethon), %s' % (telethon.__version__, sys.version.split()[0])}

# AES-256-IGE
out['aes_ige'] = []
for n in (16, 48, 1024):
    key, iv, plain = det('key%d' % n, 32), det('iv%d' % n, 32), det('plain%d' % n, n)
    out['aes_ige'].append({'key': hx(key), 'iv': hx(iv), 'plain': hx(plain), 'cipher': hx(AES.encrypt_ige(plain, key, iv))})

# auth key derived values
auth_key = det('auth_key', 256)
ak = AuthKey(auth_key)
new_nonce = det('new_nonce', 32)
out['auth_key'] = {
    'auth_key': hx(auth_key), 'key_id': str(ak.key_id), 'aux_hash': str(ak.aux_hash), 'new_nonce': hx(new_nonce),
    'new_nonce_hash': [hx(ak.calc_new_nonce_hash(int.from_bytes(new_nonce, 'little', signed=True), i)
                          .to_bytes(16, 'little', signed=True)) for i in (1, 2, 3)],
}

# MTProto 2.0 key derivation, both directions
msg_key = det('msg_key', 16)
out['kdf'] = []
for client in (True, False):
    k, iv = MTProtoState._calc_key(auth_key, msg_key, client)
    out['kdf'].append({'x': 0 if client else 8, 'msg_key': hx(msg_key), 'key': hx(k), 'iv': hx(iv)})

# Message encryption by MTProtoState (client -> server) with recorded padding
out['encrypt'] = []
for body_len in (4, 60, 1000):
    state = MTProtoState(AuthKey(auth_key), loggers=collections.defaultdict(lambda: logging.getLogger('telethon')))
    state.salt = struct.unpack('<q', det('salt%d' % body_len, 8))[0]
    state.id = struct.unpack('<q', det('session%d' % body_len, 8))[0]
    body = det('body%d' % body_len, body_len)
    message = struct.pack('<qii', 0x5f000000_00000004 + body_len * 4, 1, body_len) + body
    stream = Stream(b'padding%d' % body_len)
    real = os.urandom
    os.urandom = stream
    try:
        enc = state.encrypt_message_data(message)
    finally:
        os.urandom = real
    plain = struct.pack('<qq', state.salt, state.id) + message
    out['encrypt'].append({'plain': hx(plain), 'random': hx(stream.used), 'encrypted': hx(enc)})

# A server -> client message made with Telethon's primitives (x = 8)
plain = struct.pack('<qq', 77, 88) + struct.pack('<qii', 0x5f00000000000001, 2, 8) + det('srvbody', 8)
padding = det('srvpad', 12 + (-(len(plain) + 12) % 16) + 16)
large = hashlib.sha256(auth_key[96:128] + plain + padding).digest()
k, iv = MTProtoState._calc_key(auth_key, large[8:24], False)
out['server_message'] = {'plain': hx(plain), 'encrypted': hx(struct.pack('<Q', ak.key_id) + large[8:24] +
                                                                  AES.encrypt_ige(plain + padding, k, iv))}

# pq factorization
out['factorize'] = []
for pq in (1468428376148703121, 0x17ED48941A08F981, 2363612107535801713, 1724114033281923457):
    p, q = Factorization.factorize(pq)
    out['factorize'].append({'pq': str(pq), 'p': min(p, q), 'q': max(p, q)})

# RSA keys, fingerprints and the legacy padding (Telethon 1.x does not implement RSA_PAD)
out['rsa'] = []
for fp, (key, old) in sorted(rsa._server_keys.items()):
    data = det('rsa%d' % (fp & 0xffff), 100)
    stream = Stream(b'rsa-random')
    real = os.urandom
    os.urandom = stream
    try:
        enc = rsa.encrypt(fp, data, use_old=True)
    finally:
        os.urandom = real
    out['rsa'].append({'pem': key.save_pkcs1().decode(), 'fingerprint': str(fp - (1 << 64) if fp >= 1 << 63 else fp),
                       'old': old, 'data': hx(data), 'random': hx(stream.used), 'legacy_encrypted': hx(enc)})

# SRP (2FA) with the well-known prime, g = 3
p = bytes.fromhex(
    'c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4dbfa336f6e0ac925'
    '139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc'
    '49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d'
    '5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850c'
    'e929851f0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b')
out['srp'] = []
for pw_text in ('hunter2', 'пароль with spaces'):
    algo = types.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(
        salt1=det('salt1' + pw_text, 40), salt2=det('salt2' + pw_text, 16), g=3, p=p)
    b = int.from_bytes(det('server-b' + pw_text, 256), 'big')
    # the server's B = k v + g^b (what tgsim will compute); Telethon only checks 0 < B < p
    x = int.from_bytes(tpassword.compute_hash(algo, pw_text), 'big')
    pn = int.from_bytes(p, 'big')
    k = int.from_bytes(hashlib.sha256(p + (3).to_bytes(256, 'big')).digest(), 'big')
    B = (k * pow(3, x, pn) + pow(3, b, pn)) % pn
    req = types.account.Password(new_algo=types.PasswordKdfAlgoUnknown(), new_secure_algo=types.SecurePasswordKdfAlgoUnknown(),
                                 secure_random=b'', has_password=True, current_algo=algo,
                                 srp_B=B.to_bytes(256, 'big'), srp_id=1234)
    stream = Stream(('srp-a' + pw_text).encode())
    real = os.urandom
    os.urandom = stream
    try:
        check = tpassword.compute_check(req, pw_text)
    finally:
        os.urandom = real
    out['srp'].append({'password': pw_text, 'salt1': hx(algo.salt1), 'salt2': hx(algo.salt2), 'g': 3, 'p': hx(p),
                       'srp_B': hx(req.srp_B), 'x': hx(tpassword.compute_hash(algo, pw_text)),
                       'random': hx(stream.used), 'A': hx(check.A), 'M1': hx(check.M1)})

# TCP framing by Telethon's packet codecs: the opening tag, then frames of growing sizes
# (508 bytes = 127 words is where abridged switches to its 4-byte length)
from telethon.network.connection.tcpabridged import AbridgedPacketCodec
from telethon.network.connection.tcpintermediate import IntermediatePacketCodec
from telethon.network.connection.tcpfull import FullPacketCodec
out['transport'] = []
payloads = [det('frame%d' % n, n) for n in (4, 504, 508, 1024, 4096)]
for name, codec_cls in (('abridged', AbridgedPacketCodec), ('intermediate', IntermediatePacketCodec), ('full', FullPacketCodec)):
    codec = codec_cls(None)
    stream = (codec.tag or b'') + b''.join(codec.encode_packet(p) for p in payloads)
    out['transport'].append({'kind': name, 'payloads': [hx(p) for p in payloads], 'stream': hx(stream)})

json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write('\n')
