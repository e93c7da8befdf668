#!/usr/bin/env bash
# fuzz.sh short|long: builds every tests/fuzz/*_fuzz.c with clang -fsanitize=fuzzer,address,undefined
# and runs each for a bounded time (short: 20 s each, for `make test`; long: FUZZ_SECONDS, default
# 600 s each, for `make fuzz`). A target lists the sources it links in a "fuzz-sources:" comment and
# its pkg-config packages in "fuzz-pkgs:". Seeds come from the committed interop vectors; the
# corpus grows in build-fuzz/corpus/<target>. Exits non-zero when a target crashes or fails to build.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-short}
case "$mode" in
short) seconds=20 ;;
long) seconds=${FUZZ_SECONDS:-600} ;;
*) echo "usage: scripts/fuzz.sh short|long" >&2; exit 2 ;;
esac
if ! command -v clang >/dev/null; then
    echo "fuzz: clang is not installed (apt-get install clang)" >&2
    exit 1
fi
out=build-fuzz
mkdir -p "$out/corpus"

# Seeds: the TL bytes and transport streams in tests/interop/vectors.
seed() {
    /usr/bin/python3 - "$out/corpus" <<'PY'
import json, os, sys, hashlib
root = sys.argv[1]
def put(target, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), 'wb') as f:
        f.write(data)
g = json.load(open('tests/interop/vectors/gramjs_tl.json'))
for v in g['vectors']:
    put('tl_decode_fuzz', bytes.fromhex(v['hex']))
t = json.load(open('tests/interop/vectors/telethon_crypto.json'))
for s in t['transport']:
    put('transport_fuzz', b'\x07' + bytes.fromhex(s['stream']))
put('update_fuzz', json.dumps({"update_id": 1, "chat_join_request": {
    "chat": {"id": -1001, "title": "T", "username": "t", "type": "channel"},
    "from": {"id": 5, "is_bot": False, "first_name": "A\u00e9", "username": "a"},
    "user_chat_id": 5, "date": 1700000000, "bio": "b",
    "invite_link": {"invite_link": "https://t.me/+x", "creates_join_request": True}}}).encode())
put('update_fuzz', b'2026-01-31')
for f in sorted(os.listdir('tests/interop/sessions')):
    put('session_fuzz', open(os.path.join('tests/interop/sessions', f), 'rb').read())
for m in t['encrypt']:
    enc = bytes.fromhex(m['encrypted'])
    put('transport_fuzz', b'\x03\xee\xee\xee\xee' + len(enc).to_bytes(4, 'little') + enc)
# mt_session_fuzz: server messages [flags][len u16][msg_id][seqno][body]; 5eed..NN names our call NN
import struct, gzip
def ref(n): return struct.pack('<Q', 0x5eed5eed5eed5e00 + n)
def tlbytes(b):
    h = bytes([len(b)]) if len(b) < 254 else b'\xfe' + len(b).to_bytes(3, 'little')
    out = h + b
    return out + b'\0' * (-len(out) % 4)
def msg(body, n, flags=0, seqno=1):
    m = struct.pack('<QI', (1700000000 << 32) + 4 * n + 1, seqno) + body
    return bytes([flags]) + struct.pack('<H', len(m)) + m
rpc_true = struct.pack('<I', 0xf35c6d01) + ref(0) + struct.pack('<I', 0x997275b5)
rpc_err = struct.pack('<I', 0xf35c6d01) + ref(1) + struct.pack('<Ii', 0x2144ca19, 420) + tlbytes(b'FLOOD_WAIT_7')
pong = struct.pack('<I', 0x347773c5) + ref(8) + bytes(range(1, 9))
salt = struct.pack('<I', 0xedab447b) + ref(2) + struct.pack('<iiQ', 3, 48, 0xabcdef)
bad16 = struct.pack('<I', 0xa7eff811) + ref(3) + struct.pack('<ii', 5, 16)
bad64 = struct.pack('<I', 0xa7eff811) + ref(4) + struct.pack('<ii', 7, 64)
newsess = struct.pack('<I', 0x9ec20908) + ref(0) + struct.pack('<QQ', 99, 0x55)
ack = struct.pack('<III', 0x62d6b459, 0x1cb5c415, 1) + ref(5)
gz = struct.pack('<I', 0x3072cfa1) + tlbytes(gzip.compress(struct.pack('<I', 0xf35c6d01) + ref(6) + struct.pack('<I', 0x997275b5)))
def container(*bodies):
    inner = b''.join(struct.pack('<QIi', (1700000000 << 32) + 4 * (50 + i) + 1, 2 * i + 1, len(b)) + b
                     for i, b in enumerate(bodies))
    return struct.pack('<II', 0x73f1f8dc, len(bodies)) + inner
put('mt_session_fuzz', msg(rpc_true, 1) + msg(rpc_err, 2) + msg(pong, 3))
put('mt_session_fuzz', msg(salt, 1, 4) + msg(rpc_true, 2))
put('mt_session_fuzz', msg(bad16, 1, 4) + msg(bad64, 2) + msg(newsess, 3))
put('mt_session_fuzz', msg(container(rpc_true, gz, ack, pong), 100) + msg(rpc_true, 101))
put('mt_session_fuzz', msg(newsess, 1, 1) + msg(rpc_true, 2, 2) + msg(container(salt, rpc_err), 100, 4))
# gzip_packed: zlib streams (78 9c) as well as gzip; nested ones (refused), as a whole message and
# as an rpc_result's result
import zlib
GZ = struct.pack('<I', 0x3072cfa1)
def packed(b, z=False): return GZ + tlbytes(zlib.compress(b) if z else gzip.compress(b, mtime=0))
rpc_gz_z = struct.pack('<I', 0xf35c6d01) + ref(7) + packed(struct.pack('<I', 0xbc799737), True)
put('mt_session_fuzz', msg(packed(rpc_true, True), 1) + msg(rpc_gz_z, 2))
put('mt_session_fuzz', msg(packed(gz), 1) + msg(packed(rpc_gz_z, True), 2) + msg(rpc_true, 3))
put('mt_session_fuzz', msg(container(packed(rpc_true), packed(rpc_err, True), gz), 100))
# tl_decode_fuzz: boolTrue packed as gzip and as zlib, rpc_error as zlib, two layers, and the
# packet of issue 10: 40 layers, each padded with zeros to 16 MiB (34 KB; made once, it takes
# seconds)
true_ = struct.pack('<I', 0x997275b5)
rpc_error = struct.pack('<Ii', 0x2144ca19, 420) + tlbytes(b'FLOOD_WAIT_31')
put('tl_decode_fuzz', packed(true_))
put('tl_decode_fuzz', packed(true_, True))
put('tl_decode_fuzz', packed(rpc_error, True))
put('tl_decode_fuzz', packed(packed(true_), True))
stamp = os.path.join(root, '.gzip_nested_40')
if not os.path.exists(stamp):
    plain = true_
    for _ in range(39):
        layer = packed(plain)
        plain = layer + bytes((16 << 20) - len(layer))
    put('tl_decode_fuzz', packed(plain))
    open(stamp, 'w').close()
PY
}
seed

status=0
for src in tests/fuzz/*_fuzz.c; do
    name=$(basename "$src" .c)
    # the lists may run over several lines of the comment (clang-format wraps it)
    sources=$(perl -0ne 'print $1 if m{fuzz-sources:(.*?)(?:fuzz-pkgs:|\*/)}s' "$src" | tr -d '*' | tr '\n' ' ')
    pkgs=$(perl -0ne 'print $1 if m{fuzz-pkgs:(.*?)\*/}s' "$src" | tr -d '*' | tr '\n' ' ')
    # shellcheck disable=SC2086
    if ! clang -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -Isrc "$src" $sources $(pkg-config --cflags --libs $pkgs) -o "$out/$name"; then
        echo "fuzz: $name does not build" >&2
        status=1
        continue
    fi
    mkdir -p "$out/corpus/$name"
    echo "fuzz: $name for ${seconds}s"
    if ! "$out/$name" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/$name-" "$out/corpus/$name" >"$out/$name.log" 2>&1; then
        echo "fuzz: $name FAILED; see $out/$name.log and $out/$name-crash-*" >&2
        tail -30 "$out/$name.log" >&2
        status=1
    else
        tail -1 "$out/$name.log"
    fi
done
exit $status
