// interop.mjs: session files and logins made by clients we did not write, against tgsim's data
// centres: Debian's Telethon (python3-telethon) logs in and saves its own sessions or uses up a
// login code; tests/interop/session_fixtures.py writes Pyrogram files and strings from the
// published schemas; npm GramJS (as pinned in tests/interop) saves StringSessions and logs in.
// They are what doorman's session import must read (issue 4).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPython, runToEnd, makeTempDir } from './processes.mjs';
import { API_ID } from './sessions.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const INTEROP_DIR = path.resolve(here, '..', 'interop');

// ---------------------------------------------------------------------------------------------
// Telethon and Pyrogram (Debian's python3)

const TELETHON_PRELUDE = `
import asyncio, json, sys, urllib.parse, urllib.request
sys.path.insert(0, '/usr/lib/python3/dist-packages')
from telethon import TelegramClient, errors
from telethon.crypto import rsa, AuthKey
from telethon.sessions import MemorySession, SQLiteSession, StringSession

req = json.load(sys.stdin)
rsa.add_key(open(req['pem']).read(), old=False)

def control(path):
    with urllib.request.urlopen(req['control'] + path, timeout=10) as r:
        return json.load(r)

def client_for(dc, port):
    s = MemorySession()
    s.set_dc(dc, '127.0.0.1', port)
    return TelegramClient(s, 12345, '0123456789abcdef0123456789abcdef', connection_retries=1,
                          receive_updates=False, flood_sleep_threshold=0)
`;

// Logs in with Telethon to tgsim, once per spec ({phone, dc, password?}), each on a fresh auth
// key, and disconnects. Returns per spec {dc, port, user_id, auth_key (hex), telethon_string,
// telethon_file (when spec.file is a path: Telethon's own SQLiteSession saved there)}.
export async function telethonLogins(tg, specs) {
    const code = TELETHON_PRELUDE + `
async def login(spec):
    port = req['ports'][str(spec['dc'])]
    c = client_for(spec['dc'], port)
    await c.connect()
    sent = await c.send_code_request(spec['phone'])
    code = control('/control/login-code?phone=' + urllib.parse.quote(spec['phone']))['code']
    try:
        await c.sign_in(spec['phone'], code, phone_code_hash=sent.phone_code_hash)
    except errors.SessionPasswordNeededError:
        await c.sign_in(password=spec['password'])
    me = await c.get_me()
    key = c.session.auth_key.key
    await c.disconnect()
    out = {'dc': spec['dc'], 'port': port, 'user_id': me.id, 'auth_key': key.hex()}
    s = StringSession()
    s.set_dc(spec['dc'], '127.0.0.1', port)
    s.auth_key = AuthKey(key)
    out['telethon_string'] = s.save()
    if spec.get('file'):
        f = SQLiteSession(spec['file'])
        f.set_dc(spec['dc'], '127.0.0.1', port)
        f.auth_key = AuthKey(key)
        f.save()
        f.close()
        out['telethon_file'] = spec['file'] if spec['file'].endswith('.session') else spec['file'] + '.session'
    return out

async def main():
    res = []
    for spec in req['specs']:
        res.append(await login(spec))
    print(json.dumps(res))

asyncio.run(main())
`;
    const out = await runPython(code, [], { input: JSON.stringify({ pem: tg.pem, control: tg.url, ports: tg.dcPorts, specs }) });
    return JSON.parse(out.trim().split('\n').pop());
}

// Runs Telethon code against tgsim's data centres: `body` defines `async def main(c)`, called
// with a client logged in as the account {phone, dc} (its key fresh), whose result is printed
// as JSON and returned. The code sees req (input plus pem, control, ports) and control(path).
export async function telethonRun(tg, { phone, dc = 1 }, body, input = {}) {
    const code = TELETHON_PRELUDE + `
from telethon import functions, types
${body}

async def run():
    c = client_for(req['dc'], req['ports'][str(req['dc'])])
    await c.connect()
    sent = await c.send_code_request(req['phone'])
    code = control('/control/login-code?phone=' + urllib.parse.quote(req['phone']))['code']
    await c.sign_in(req['phone'], code, phone_code_hash=sent.phone_code_hash)
    try:
        out = await main(c)
    finally:
        await c.disconnect()
    print(json.dumps(out))

asyncio.run(run())
`;
    const out = await runPython(code, [], {
        input: JSON.stringify({ ...input, pem: tg.pem, control: tg.url, ports: tg.dcPorts, phone, dc }),
    });
    return JSON.parse(out.trim().split('\n').pop());
}

// Runs Telethon code on a client connected to tgsim's DC `dc` but logged in as nobody (the login
// calls themselves): `body` defines `async def main(c)`, whose result is printed as JSON and
// returned. The code sees req (input plus pem, control, ports) and control(path).
export async function telethonAnon(tg, { dc = 1 }, body, input = {}) {
    const code = TELETHON_PRELUDE + `
from telethon import functions, types
${body}

async def run():
    c = client_for(req['dc'], req['ports'][str(req['dc'])])
    await c.connect()
    try:
        out = await main(c)
    finally:
        await c.disconnect()
    print(json.dumps(out))

asyncio.run(run())
`;
    const out = await runPython(code, [], {
        input: JSON.stringify({ ...input, pem: tg.pem, control: tg.url, ports: tg.dcPorts, dc }),
    });
    return JSON.parse(out.trim().split('\n').pop());
}

// Signs in with Telethon using the code and phone_code_hash doorman's login got (read from
// tgsim), so that code is used up: doorman's own signIn then meets PHONE_CODE_EXPIRED. tgsim has
// no control to age a code (its codes live 300 s), and a code consumed elsewhere is how Telegram
// expires one early. Returns Telethon's result ("signed_in" or the RPC error name).
export async function consumeLoginCode(tg, { phone, dc = 1 }) {
    const code = TELETHON_PRELUDE + `
async def main():
    lc = control('/control/login-code?phone=' + urllib.parse.quote(req['phone']))
    c = client_for(req['dc'], req['ports'][str(req['dc'])])
    await c.connect()
    try:
        await c.sign_in(req['phone'], lc['code'], phone_code_hash=lc['phone_code_hash'])
        res = 'signed_in'
    except errors.SessionPasswordNeededError:
        res = 'signed_in'
    except errors.RPCError as e:
        res = e.message
    await c.disconnect()
    print(json.dumps({'result': res}))

asyncio.run(main())
`;
    const out = await runPython(code, [], { input: JSON.stringify({ pem: tg.pem, control: tg.url, ports: tg.dcPorts, phone, dc }) });
    return JSON.parse(out.trim().split('\n').pop()).result;
}

// Pyrogram files and strings holding a given key, built by tests/interop/session_fixtures.py
// (the published Pyrogram schemas and struct formats). kind: v2 | v3 | v3_migrated | v7 |
// string | string_old32 | string_old64. Returns {file} or {string}.
export async function pyrogramSession(kind, { file, dc, api_id = API_ID, user_id, is_bot = false, auth_key, extraSql = '' }) {
    const code = `
import json, sys, sqlite3
sys.path.insert(0, ${JSON.stringify(INTEROP_DIR)})
import session_fixtures as sf
a = json.load(sys.stdin)
key = bytes.fromhex(a['auth_key'])
k = a['kind']
if k == 'v2':
    sf.pyrogram_file(a['file'], sf.PYROGRAM_V2, 2, (a['dc'], 0, key, 1700000000, a['user_id'], int(a['is_bot'])))
elif k == 'v3':
    sf.pyrogram_file(a['file'], sf.PYROGRAM_V3, 3, (a['dc'], a['api_id'], 0, key, 1700000100, a['user_id'], int(a['is_bot'])))
elif k == 'v3_migrated':
    sf.pyrogram_file(a['file'], sf.PYROGRAM_V2, 2, (a['dc'], 0, key, 1700000200, a['user_id'], int(a['is_bot'])), migrate_api_id=a['api_id'])
elif k == 'v7':
    sf.pyrogram_file(a['file'], sf.PYROGRAM_V7, 7, (a['dc'], '127.0.0.1', 443, a['api_id'], 0, key, 1700000300, a['user_id'], int(a['is_bot'])))
elif k == 'string':
    print(json.dumps({'string': sf.pyrogram_string('>BI?256sQ?', a['dc'], a['api_id'], False, key, a['user_id'], bool(a['is_bot']))}))
elif k == 'string_old32':
    print(json.dumps({'string': sf.pyrogram_string('>B?256sI?', a['dc'], False, key, a['user_id'], bool(a['is_bot']))}))
elif k == 'string_old64':
    print(json.dumps({'string': sf.pyrogram_string('>B?256sQ?', a['dc'], False, key, a['user_id'], bool(a['is_bot']))}))
else:
    raise SystemExit('unknown kind ' + k)
if a.get('extra_sql'):
    conn = sqlite3.connect(a['file'])
    conn.executescript(a['extra_sql'])
    conn.commit()
    conn.close()
if a.get('file'):
    print(json.dumps({'file': a['file']}))
`;
    const out = await runPython(code, [], {
        input: JSON.stringify({ kind, file, dc, api_id, user_id, is_bot, auth_key, extra_sql: extraSql }),
    });
    return JSON.parse(out.trim().split('\n').pop());
}

// Opens a Pyrogram file with Python's sqlite3 and returns its sessions row by column name, the
// column list, the version and the tables (the key as hex).
export async function readPyrogramFile(file) {
    const code = `
import json, sqlite3, sys
conn = sqlite3.connect('file:%s?mode=ro' % sys.argv[1], uri=True)
cols = [r[1] for r in conn.execute('PRAGMA table_info(sessions)')]
rows = conn.execute('SELECT * FROM sessions').fetchall()
out = {'columns': cols, 'rows': [], 'tables': sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")),
       'version': [r[0] for r in conn.execute('SELECT number FROM version')]}
out['peers'] = [list(r) for r in conn.execute('SELECT id, access_hash, type FROM peers ORDER BY id')] if 'peers' in out['tables'] else []
for r in rows:
    d = dict(zip(cols, r))
    if isinstance(d.get('auth_key'), bytes):
        d['auth_key_len'] = len(d['auth_key'])
        d['auth_key'] = d['auth_key'].hex()
    out['rows'].append(d)
print(json.dumps(out))
`;
    return JSON.parse((await runPython(code, [file])).trim());
}

// Opens doorman's stored session file <dataDir>/sessions/<name>.session with the master key in
// <dataDir>/secret.key (libsodium's XChaCha20-Poly1305 through ctypes, as doorman seals it: the
// line "doorman sealed session 1", then "v1:" + base64url(nonce, ciphertext and tag); docs/api.md,
// Sessions) and reads the Pyrogram file inside as readPyrogramFile does.
export async function readStoredSession(dataDir, name) {
    const code = `
import base64, ctypes, sys
data_dir, name, out = sys.argv[1:4]
key = bytes.fromhex(open(data_dir + '/secret.key').read().strip())
raw = open('%s/sessions/%s.session' % (data_dir, name), 'rb').read()
head, sealed = raw.split(b'\\n', 1)
assert head == b'doorman sealed session 1', head
sealed = sealed.rstrip(b'\\n')
assert sealed.startswith(b'v1:')
b = base64.urlsafe_b64decode(sealed[3:] + b'=' * (-len(sealed[3:]) % 4))
nonce, ct = b[:24], b[24:]
na = ctypes.CDLL('libsodium.so.23')
assert na.sodium_init() >= 0
plain = ctypes.create_string_buffer(len(ct))
plen = ctypes.c_ulonglong(0)
rc = na.crypto_aead_xchacha20poly1305_ietf_decrypt(plain, ctypes.byref(plen), None, ct, ctypes.c_ulonglong(len(ct)),
                                                   None, ctypes.c_ulonglong(0), nonce, key)
assert rc == 0, 'the master key does not open it'
open(out, 'wb').write(plain.raw[:plen.value])
`;
    const out = path.join(makeTempDir('stored-'), `${name}.session`);
    await runPython(code, [dataDir, name, out]);
    return readPyrogramFile(out);
}

// ---------------------------------------------------------------------------------------------
// GramJS

// A GramJS StringSession (npm telegram, as pinned in tests/interop) for a key. GramJS writes the
// port as a signed 16-bit number (StringSession.save: writeInt16BE), so a port above 32767 -- as
// tgsim's free ports usually are -- throws there; Telegram's 443 is used instead (doorman reaches a
// DC by its id through --mtproto-dcs, not by the address a session file carries).
export async function gramjsString({ dc, port = 443, auth_key }) {
    if (port > 32767) port = 443;
    const req = createRequire(path.join(INTEROP_DIR, 'package.json'));
    const { StringSession } = req('telegram/sessions');
    const { AuthKey } = req('telegram/crypto/AuthKey');
    const s = new StringSession('');
    s.setDC(dc, '127.0.0.1', port);
    const k = new AuthKey();
    await k.setKey(Buffer.from(auth_key, 'hex'));
    s.authKey = k;
    return s.save();
}

// Logs in to tgsim with GramJS (tests/interop/gramjs_client.js --mode session) as the account
// {phone, dc, password?} on its home DC. Returns {me: {id}, dc, session (StringSession.save()),
// auth_key (hex), password_needed}.
export async function gramjsLogin(tg, { phone, dc, password }) {
    const args = [path.join(INTEROP_DIR, 'gramjs_client.js'), '--mode', 'session', '--port', String(tg.dcPorts[dc]),
        '--dc', String(dc), '--pem', tg.pem, '--phone', phone, '--control', tg.url];
    if (password) args.push('--password', password);
    const out = await runToEnd(process.execPath, args, { cwd: INTEROP_DIR, timeoutMs: 60000, what: 'gramjs_client.js --mode session' });
    return JSON.parse(out.trim().split('\n').pop());
}
