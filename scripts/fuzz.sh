#!/usr/bin/env bash
# fuzz.sh short|long: builds every tests/fuzz/*_fuzz.c with clang -fsanitize=fuzzer,address,undefined
# and runs each for a bounded time (short: 10 s each, for `make test`; long: FUZZ_SECONDS, default
# 600 s each, for `make fuzz`), one after the other. A target lists the sources it links in a
# "fuzz-sources:" comment (a directory such as src/api/ stands for its .c files; build-fuzz/
# web_assets.c is the panel, made here as meson makes it), its pkg-config packages in
# "fuzz-pkgs:" and libFuzzer flags of its own in "fuzz-flags:". Each source is compiled once a
# run (FUZZ_JOBS at a time, default 2) and shared by the targets that list it. Seeds: the
# committed interop vectors, valid requests for every route of docs/api.md (api_fuzz,
# http_fuzz), and every input under tests/fuzz/regressions/<target>/ (inputs that once failed);
# the corpus grows in build-fuzz/corpus/<target>. Exits non-zero when a target crashes, hangs or
# fails to build; the input is then build-fuzz/<target>-crash-* (or -timeout-*).
# FUZZ_TARGETS="api_fuzz http_fuzz" runs only those (all are built).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
mode=${1:-short}
case "$mode" in
short) seconds=10 ;;
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
# api_fuzz: [route][flags] "<arg>\n<query>\n<body>" (tests/fuzz/api_fuzz.c), a valid request for
# every route of docs/api.md, the route numbered by its place in the target's table
import re
routes = re.findall(r'\{"(GET|POST)", "([^"]+)"\}', open('tests/fuzz/api_fuzz.c').read())
def api(method, path, arg='', query='', body=None, flags=0):
    b = body if isinstance(body, (bytes, str)) else json.dumps(body) if body is not None else ''
    b = b.encode() if isinstance(b, str) else b
    put('api_fuzz', bytes([routes.index((method, path)), flags]) +
        arg.encode() + b'\n' + query.encode() + b'\n' + b)
HASH = '0123456789abcdef0123456789abcdef'
api('GET', '/api/setup')
api('POST', '/api/setup', body={"token": "0" * 32, "name": "admin", "password": "a long password"})
api('POST', '/api/login', body={"name": "fuzz", "password": "not the password"})
api('POST', '/api/login', body='name=fuzz', flags=4)
api('POST', '/api/logout', body={})
api('GET', '/api/me')
api('GET', '/api/me', flags=1)
api('GET', '/api/settings')
api('POST', '/api/settings', body={"mode": "polling", "bot_rate": 20})
api('POST', '/api/settings', body={"bot_token": "123456:ABC-DEF"})
api('POST', '/api/settings', body={"mode": "webhook", "webhook_url": "https://hook.example/telegram/webhook"})
api('GET', '/api/invite-requests', query='status=pending&chat_id=-1001000000001&from=2023-11-14&to=1800000000&q=ann&limit=2')
api('GET', '/api/invite-requests', query='status=all&q=%E9%A2%91&before=5&limit=1')
api('GET', '/api/invite-requests', query='q=500')
for path in ('/api/invite-requests/approve', '/api/invite-requests/deny'):
    api('POST', path, body={"request_ids": [1, 2, 3]})
    api('POST', path, body={"request_ids": [4], "session_name": "my_session"})
api('POST', '/api/invite-requests/approve', body={"request_ids": [1]}, flags=2)
for path in ('/api/invite-requests/approve-all', '/api/invite-requests/deny-all'):
    api('POST', path, body={"filter": {"chat_id": -1001000000001, "from": "2023-11-14", "to": 1800000000, "q": "ann"}})
    api('POST', path, body={})
api('POST', '/api/invite-requests/preflight', body={"session_name": None, "request_ids": [1, 2]})
api('POST', '/api/invite-requests/preflight', body={"session_name": None, "filter": {"chat_id": -1001000000002}})
api('GET', '/api/me/preferences')
api('POST', '/api/me/preferences', body={"approve_via": None})
api('POST', '/api/me/preferences', body={"approve_via": "my_session"})
api('GET', '/api/chats')
api('GET', '/api/jobs', query='limit=10')
api('GET', '/api/jobs/{}', arg='1')
api('POST', '/api/jobs/{}/cancel', arg='1', body={})
api('GET', '/api/audit', query='before=100&limit=5')
api('GET', '/api/invite-requests/export', query='format=csv&bom=1&status=pending&chat_id=-1001000000001&from=2023-11-14&to=1800000000&q=ann')
api('GET', '/api/invite-requests/export', query='format=jsonl&q=%E9%A2%91')
api('GET', '/api/audit/export', query='format=jsonl')
api('GET', '/api/sessions')
api('GET', '/api/sessions/list')
api('GET', '/api/sessions/login/{}', arg='0' * 64)
api('POST', '/api/sessions/login/code', body={"login_id": "0" * 64, "code": "12345"})
api('POST', '/api/sessions/login/resend', body={"login_id": "0" * 64})
api('POST', '/api/sessions/login/password', body={"login_id": "0" * 64, "password": "hunter2"})
api('GET', '/api/sessions/{}/export', arg='s1')
api('POST', '/api/sessions/{}/delete', arg='s1', body={"logout": False})
api('GET', '/api/health')
api('POST', '/telegram/webhook', body={"update_id": 1, "chat_join_request": {"chat": {"id": -1001, "title": "T", "type": "channel"}, "from": {"id": 5, "is_bot": False, "first_name": "A"}, "user_chat_id": 5, "date": 1700000000}})
api('GET', '/api/{}', arg='%ff')
api('GET', '/{}', arg='js/main.js')
api('GET', '/{}', arg='setup')
api('GET', '/api/me', flags=32)
api('GET', '/api/rules', query='chat_id=-1001000000001')
api('POST', '/api/rules', body={"chat_id": -1001000000001, "name": "casino", "conditions": [{"type": "name_matches", "words": ["casino"]}, {"type": "wave", "count": 5, "minutes": 10, "per": "link"}], "action": "decline_and_ban"})
api('POST', '/api/rules', body={"conditions": [{"type": "bio_matches", "regex": "(?i)earn\\s+\\d+"}, {"type": "has_photo", "negate": True}], "action": "approve_after", "delay_seconds": 60})
api('POST', '/api/rules/reorder', body={"chat_id": 0, "ids": [1]})
api('POST', '/api/rules/dry-run', body={"chat_id": -1001000000001, "rules": [{"conditions": [{"type": "name_script", "script": "Han"}], "action": "hold"}]})
api('POST', '/api/rules/apply', body={"chat_id": -1001000000001})
api('POST', '/api/rules/{}/update', arg='1', body={"name": "x", "conditions": [], "action": "approve"})
api('POST', '/api/rules/{}/enable', arg='1', body={})
api('POST', '/api/rules/{}/delete', arg='1', body={})
api('GET', '/api/rule-lists')
api('GET', '/api/rule-lists/{}', arg='deny', query='after=&limit=10')
api('POST', '/api/rule-lists/{}', arg='deny', body={"text": "user_id,name\n123,x\n@spam_bot,y\n", "replace": True})
api('POST', '/api/rule-lists/{}/delete', arg='deny', body={})
api('GET', '/api/modes')
api('POST', '/api/modes', body={"chat_id": -1001000000001, "mode": "approve_all", "delay_seconds": 60})
api('GET', '/api/stats', query='from=2023-11-01&to=2023-11-30&chat_id=-1001000000001')
api('GET', '/api/stats', query='bucket=hour&from=1700000000&to=1700100000')
api('POST', '/api/invite-requests/release', body={"request_ids": [1]})
api('POST', '/api/invite-requests/unban', body={"request_ids": [1]})
api('GET', '/api/guard')
api('GET', '/api/guard', query='chat_id=-1001000000001')
api('GET', '/api/links', query='chat_id=-1001000000001')
api('POST', '/api/links', body={"chat_id": -1001000000001, "name": "Ads", "expire_date": 1900000000, "creates_join_request": True})
api('POST', '/api/links/edit', body={"chat_id": -1001000000001, "link": "https://t.me/+AbCdEfGhIjKlMnOp", "member_limit": 10})
api('POST', '/api/links/revoke', body={"chat_id": -1001000000001, "link": "https://t.me/+AbCdEfGhIjKlMnOp"})
api('POST', '/api/links/refresh', body={"chat_id": -1001000000001, "session_name": "my_session"})
api('POST', '/api/decisions/check', body={"chat_id": -1001000000001, "session_name": "my_session"})
api('GET', '/api/invite-requests', query='invite_link=https%3A%2F%2Ft.me%2F%2BAbCd&chat_id=-1001000000001')
api('POST', '/api/invite-requests/approve-all', body={"filter": {"chat_id": -1001000000001, "invite_link": "https://t.me/+AbCd"}, "session_name": "my_session"})
# http_fuzz: raw requests; @HOST@, @COOKIE@ and @CSRF@ are filled in (tests/fuzz/http_fuzz.c)
def http(head, body=b''):
    put('http_fuzz', head.replace('\n', '\r\n').encode() + b'\r\n' + body)
LOGGED = 'Host: @HOST@\nCookie: doorman_session=@COOKIE@\nX-CSRF-Token: @CSRF@\n'
http('GET /api/health HTTP/1.1\nHost: @HOST@\n')
http('GET /api/me HTTP/1.1\nHost: @HOST@\nCookie: a=1; doorman_session=@COOKIE@; b="2"\n')
http('GET /api/invite-requests?status=pending&q=%E9%A2%91&from=2023-11-14&limit=5 HTTP/1.1\n' + LOGGED)
body = b'{"request_ids":[1,2]}'
http('POST /api/invite-requests/approve HTTP/1.1\n' + LOGGED + 'Content-Type: application/json\nContent-Length: %d\n' % len(body), body)
http('POST /api/me/preferences HTTP/1.1\n' + LOGGED + 'Content-Type: application/json; charset=utf-8\nTransfer-Encoding: chunked\n',
     b'5\r\n{"app\r\n11\r\nrove_via":null}\r\n0\r\n\r\n')
body = b'{"name":"fuzz","password":"not the password"}'
http('POST /api/login HTTP/1.1\nHost: @HOST@\nContent-Type: application/json\nExpect: 100-continue\nContent-Length: %d\n' % len(body), body)
http('POST /api/login HTTP/1.1\nHost: @HOST@\nContent-Length: 99999999999\n')
http('GET /api/health HTTP/1.0\n')
http('GET /api/health HTTP/1.1\n')
http('GET /api/health HTTP/1.1\nHost: @HOST@\nHost: @HOST@\n')
http('GET /api/health HTTP/1.1\nHost: localhost\n')
http('GET /api/health HTTP/1.1\nHost: [::1]:1\n')
http('GET http://@HOST@/api/health HTTP/1.1\nHost: @HOST@\n')
http('GET /api/%ff HTTP/1.1\nHost: @HOST@\n')
http('GET / HTTP/1.1\nHost: @HOST@\nIf-None-Match: "x"\n')
http('OPTIONS * HTTP/1.1\nHost: @HOST@\n')
http('POST /telegram/webhook HTTP/1.1\nHost: @HOST@\nX-Telegram-Bot-Api-Secret-Token: s\nContent-Type: application/json\nContent-Length: 15\n', b'{"update_id":1}')
put('http_fuzz', b'GET /api/health HTTP/1.1\r\nHost: @HOST@\r\n\r\nGET /api/me HTTP/1.1\r\n' + LOGGED.replace('\n', '\r\n').encode() + b'Connection: close\r\n\r\n')
PY
}
seed
for d in tests/fuzz/regressions/*/; do
    [[ -d $d ]] || continue
    mkdir -p "$out/corpus/$(basename "$d")"
    cp "$d"* "$out/corpus/$(basename "$d")/"
done

# The panel's files as C (what meson's web_assets target makes), for targets that link the
# HTTP layer: every file under web/ but its meson.build.
mapfile -t web_files < <(find web -type f ! -name meson.build | sort)
if ! python3 tools/embed.py "$out/web_assets.c" web "${web_files[@]}" \
    /vendor/chart.min.js=/usr/share/javascript/chart.js/chart.min.js; then
    echo "fuzz: tools/embed.py failed" >&2
    exit 1
fi

# list FILE KEY: the entries after "KEY:" in a target's header comment, which may run over
# several lines (clang-format wraps it); a directory ("src/api/") stands for its .c files.
list() {
    local entry
    for entry in $(perl -0ne 'if (m{'"$2"':(.*?)(?:fuzz-[a-z]+:|\*/)}s) { ($l = $1) =~ s/^\s*\*//mg; print $l }' "$1"); do
        if [[ -d $entry ]]; then ls "${entry%/}"/*.c; else echo "$entry"; fi
    done
}
obj_of() { local o=${1//\//_}; echo "$out/obj/${o%.c}.o"; }

# Every source is compiled once a run into $out/obj (the targets share most of theirs),
# FUZZ_JOBS (default 2) at a time; then each target is linked with libFuzzer's main.
cflags=(-g -O1 -std=gnu11 -D_GNU_SOURCE '-DDOORMAN_VERSION="fuzz"' -Isrc
    '-fsanitize=fuzzer-no-link,address,undefined' -fno-sanitize-recover=undefined)
declare -A pkgs_of
sources=()
for src in tests/fuzz/*_fuzz.c; do
    pkgs_of[$src]=$(list "$src" fuzz-pkgs | tr '\n' ' ')
    mapfile -t -O "${#sources[@]}" sources < <(echo "$src"; list "$src" fuzz-sources)
done
mapfile -t sources < <(printf '%s\n' "${sources[@]}" | sort -u)
# shellcheck disable=SC2048,SC2086,SC2207
pkg_cflags=($(pkg-config --cflags ${pkgs_of[*]}))
rm -rf "$out/obj"
mkdir -p "$out/obj"
built=$(date +%s)
running=0
for s in "${sources[@]}"; do
    if ((running >= ${FUZZ_JOBS:-2})); then wait -n; running=$((running - 1)); fi
    { clang "${cflags[@]}" "${pkg_cflags[@]}" -c "$s" -o "$(obj_of "$s")" || rm -f "$(obj_of "$s")"; } &
    running=$((running + 1))
done
wait

status=0
for src in tests/fuzz/*_fuzz.c; do
    name=$(basename "$src" .c)
    objs=()
    while read -r s; do objs+=("$(obj_of "$s")"); done < <(echo "$src"; list "$src" fuzz-sources)
    rm -f "$out/$name"
    # shellcheck disable=SC2046,SC2086
    if ! clang -fsanitize=fuzzer,address,undefined "${objs[@]}" $(pkg-config --libs ${pkgs_of[$src]}) \
        -pthread -lm -o "$out/$name"; then
        echo "fuzz: $name does not build" >&2
        status=1
        continue
    fi
done
echo "fuzz: built the targets in $(($(date +%s) - built)) s"

for src in tests/fuzz/*_fuzz.c; do
    name=$(basename "$src" .c)
    [[ -x $out/$name ]] || continue
    [[ -z ${FUZZ_TARGETS:-} || " $FUZZ_TARGETS " == *" $name "* ]] || continue
    mkdir -p "$out/corpus/$name"
    echo "fuzz: $name for ${seconds}s"
    # A target without a leak check (-detect_leaks=0: one that runs a whole doorman, whose
    # libraries keep memory until the process exits) gets none at exit either: LeakSanitizer's
    # exit-time check is ASan's option, not libFuzzer's.
    asan=${ASAN_OPTIONS:-}
    if [[ " $(list "$src" fuzz-flags) " == *" -detect_leaks=0 "* ]]; then
        asan="${asan:+$asan:}detect_leaks=0"
    fi
    # shellcheck disable=SC2046
    if ! ASAN_OPTIONS="$asan" "$out/$name" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        $(list "$src" fuzz-flags) -artifact_prefix="$out/$name-" "$out/corpus/$name" >"$out/$name.log" 2>&1; then
        echo "fuzz: $name FAILED; see $out/$name.log and $out/$name-crash-*" >&2
        tail -30 "$out/$name.log" >&2
        status=1
    else
        tail -1 "$out/$name.log"
    fi
done
exit $status
