// mtproto.mjs: helpers for the Session Manager tests (issue 4): tgsim with MTProto data centres,
// its accounts / login codes / flood / revocation control API (docs/tgsim.md), doorman pointed at
// those DCs, the session endpoints of docs/api.md ("Sessions"), and clients we did not write
// (Debian's Telethon, npm GramJS from tests/interop) to make real session files against tgsim.
// Built on harness.mjs; nothing here sleeps: every wait is a condition with a deadline.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync, readdirSync, statSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
    startTgsim, startDoorman, adminStack, Client, waitFor, waitRecorded, makeTempDir, setupWorld,
} from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const INTEROP_DIR = path.resolve(here, '..', 'interop');
export const PYTHON = '/usr/bin/python3';

// An API hash that must never come back: in no answer, no output, not in plain text on disk.
export const API_ID = 246813;
export const API_HASH = 'c0ffee5ecret4a5b6c7d8e9f0a1b2c3d';

// ---------------------------------------------------------------------------------------------
// tgsim with data centres

// Starts tgsim with `dcs` MTProto data centres on free ports; resolves once every
// "tgsim: dc N listening on 127.0.0.1:PORT" line is out. Returns harness's tgsim object plus
// {dcPorts: {1: port, ...}, pem, dcsArg: "1=127.0.0.1:P1,..."}.
export async function startTgsimDcs({ dcs = 3, args = [], ...opts } = {}) {
    const dir = makeTempDir('tgsim-dc-');
    const pem = path.join(dir, 'dc.pem');
    const tg = await startTgsim({ ...opts, args: ['--dc-ports', Array(dcs).fill('0').join(','), '--rsa-pem', pem, ...args] });
    const ports = {};
    for (let i = 1; i <= dcs; i++) {
        const m = await tg.proc.waitOutput(new RegExp(`tgsim: dc ${i} listening on 127\\.0\\.0\\.1:(\\d+)`),
            { what: `the line of dc ${i}` });
        ports[i] = Number(m[1]);
    }
    await waitFor(() => existsSync(pem) && readFileSync(pem, 'utf8').includes('END'), { what: `tgsim's RSA key in ${pem}` });
    tg.dcPorts = ports;
    tg.pem = pem;
    tg.dcsArg = Object.entries(ports).map(([dc, p]) => `${dc}=127.0.0.1:${p}`).join(',');
    return tg;
}

// doorman serve pointed at tgsim's Bot API and data centres.
export async function startDoormanDcs({ tg, dataDir, env = {}, args = [] } = {}) {
    return startDoorman({ tgsim: tg, dataDir, env, args: ['--mtproto-dcs', tg.dcsArg, '--mtproto-rsa', tg.pem, ...args] });
}

// A Client that keeps every answer's text, to check later that no secret ever came back.
export class RecordingClient extends Client {
    constructor(target) {
        super(target);
        this.transcript = [];
    }

    async request(method, p, o = {}) {
        const r = await super.request(method, p, o);
        this.transcript.push(`${method} ${p} -> ${r.status} ${[...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${r.text}`);
        return r;
    }

    // Raw bytes of a GET (for the export).
    async getBytes(p) {
        const h = { cookie: this.cookieHeader() };
        const res = await fetch(this.url + p, { headers: h });
        const buf = Buffer.from(await res.arrayBuffer());
        this.transcript.push(`GET ${p} -> ${res.status} (binary ${buf.length} bytes)`);
        return { status: res.status, headers: res.headers, body: buf };
    }
}

// tgsim (3 DCs) + optional Bot API world + doorman (admin logged in, bot configured when asked).
// Returns {tg, world, dm, client, restart({kill}), cleanup()}.
export async function startSessionStack({ dcs = 3, world = null, configureBot = false, tgsimOpts = {}, doormanEnv = {} } = {}) {
    const tg = await startTgsimDcs({ dcs, ...tgsimOpts });
    const w = world ? await setupWorld(tg, world) : null;
    const dataDir = makeTempDir('doorman-data-');
    const stack = await adminStack({
        tg, world: w, dataDir, configureBot,
        startDoorman: () => startDoormanDcs({ tg, dataDir, env: doormanEnv }),
        newClient: (dm) => new RecordingClient(dm),
    });
    return { ...stack, dataDir };
}

// ---------------------------------------------------------------------------------------------
// tgsim's control API for MTProto accounts (docs/tgsim.md)

let phoneSeq = 0;
// A fresh phone number per call within one test process (distinct across files by the pid).
export function newPhone() {
    phoneSeq += 1;
    return `+1${String(process.pid % 100000).padStart(5, '0')}${String(phoneSeq).padStart(4, '0')}`;
}

// {phone, first_name, last_name?, username?, bio?, password?, dc?, user_id?} -> {id, phone, dc, ...}
export async function tgAccount(tg, a) {
    return tg.control('POST', '/control/accounts', { first_name: 'Acc', ...a });
}

export async function tgLoginCode(tg, phone) {
    return tg.control('GET', `/control/login-code?phone=${encodeURIComponent(phone)}`);
}

// {flood_limit?, wait?, count?}: a per-minute call limit, or the next `count` calls answering
// FLOOD_WAIT_<wait>.
export async function tgFlood(tg, userId, body) {
    return tg.control('POST', `/control/accounts/${userId}/flood`, body);
}

export async function tgRevoke(tg, userId, error = 'SESSION_REVOKED') {
    return tg.control('POST', `/control/accounts/${userId}/revoke`, { error });
}

// ---------------------------------------------------------------------------------------------
// doorman's session API

export function sessionsDir(dataDir) { return path.join(dataDir, 'sessions'); }

export function sessionFiles(dataDir) {
    const d = sessionsDir(dataDir);
    return existsSync(d) ? readdirSync(d).sort() : [];
}

export function mode(p) { return statSync(p).mode & 0o777; }

// Every session doorman lists.
export async function listSessions(client, p = '/api/sessions') {
    return (await client.ok(p)).items;
}

export async function getSession(client, name) {
    return (await listSessions(client)).find((s) => s.name === name) || null;
}

// POST /api/sessions/login; returns the raw answer.
export async function loginStart(client, { name, phone, api_id = API_ID, api_hash = API_HASH }) {
    return client.post('/api/sessions/login', { name, api_id, api_hash, phone });
}

// The whole phone -> code (-> 2FA) flow through doorman, the code read from tgsim. Returns the
// session object of the final answer; throws with the answer when a step fails.
export async function createUserSession(client, tg, { name, phone, password, api_id = API_ID, api_hash = API_HASH }) {
    const r = await loginStart(client, { name, phone, api_id, api_hash });
    if (r.status !== 200) throw new Error(`POST /api/sessions/login -> ${r.status} ${r.text}`);
    const { code } = await tgLoginCode(tg, phone);
    let a = await client.post('/api/sessions/login/code', { login_id: r.json.login_id, code });
    if (a.status === 200 && a.json.state === 'password_needed') {
        a = await client.post('/api/sessions/login/password', { login_id: r.json.login_id, password });
    }
    if (a.status !== 200 || a.json.state !== 'done') throw new Error(`login of ${name} -> ${a.status} ${a.text}`);
    return a.json.session;
}

// A user account in tgsim and a doorman session logged in as it. Returns {account, session, phone}.
export async function newUserSession(client, tg, { name, password, dc, first_name = 'Sess', ...acc } = {}) {
    const phone = newPhone();
    const account = await tgAccount(tg, { phone, first_name, password, dc, ...acc });
    const session = await createUserSession(client, tg, { name, phone, password });
    return { account, session, phone };
}

export async function waitLoadJob(client, id, { timeoutMs = 60000, onPoll } = {}) {
    return waitFor(async () => {
        const j = (await client.ok(`/api/jobs/${id}`)).job;
        if (onPoll) onPoll(j);
        return ['done', 'failed', 'cancelled'].includes(j.state) ? j : null;
    }, { timeoutMs, intervalMs: 50, what: `load job ${id} to finish` });
}

// Everything doorman has for one chat, via the Invite Requests API (all pages).
export async function requestsOf(client, chatId) {
    const items = [];
    let before = null;
    for (;;) {
        const q = new URLSearchParams({ chat_id: String(chatId), limit: '500' });
        if (before !== null) q.set('before', String(before));
        const j = await client.ok(`/api/invite-requests?${q}`);
        items.push(...j.items);
        if (j.next_before === null || j.next_before === undefined) return items;
        before = j.next_before;
    }
}

// Asserts nothing secret is in text: the API hash (as given, and any case), login codes.
export function secretsIn(text, secrets) {
    const low = text.toLowerCase();
    return secrets.filter((s) => s && low.includes(String(s).toLowerCase()));
}

// Every file under dir (recursively) whose bytes contain needle.
export function filesContaining(dir, needle) {
    const hits = [];
    const walk = (d) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.isFile() && readFileSync(p).includes(Buffer.from(needle))) hits.push(p);
        }
    };
    walk(dir);
    return hits;
}

// ---------------------------------------------------------------------------------------------
// Python (Debian's python3 with python3-telethon)

export function runPython(code, args = [], { input, timeoutMs = 120000 } = {}) {
    return new Promise((resolve, reject) => {
        const dir = makeTempDir('py-');
        const f = path.join(dir, 'script.py');
        writeFileSync(f, code);
        const p = spawn(PYTHON, [f, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '', err = '';
        p.stdout.on('data', (d) => { out += d; });
        p.stderr.on('data', (d) => { err += d; });
        const t = setTimeout(() => { p.kill('SIGKILL'); }, timeoutMs);
        p.on('close', (code2, sig) => {
            clearTimeout(t);
            if (code2 !== 0) reject(new Error(`python ${f} exited ${code2 ?? sig}: ${err.slice(-3000)}`));
            else resolve(out);
        });
        p.stdin.end(input ?? '');
    });
}

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

// A 3,000-request load that meets FLOOD_WAIT in its middle, deterministically: the account may
// make `floodLimit` calls per minute (tgsim's window starts now), so a call past them (a page in
// the middle of the load) answers FLOOD_WAIT_<about 60>. Resolves with {jobId, paused} once
// doorman's job shows wait_until; the caller lifts the limit (tgFlood(..., {flood_limit: 0})).
export async function startFloodedLoad(s, { session, accountId, channel, limit = 'all', floodLimit = 12, total = 3000 }) {
    await tgFlood(s.tg, accountId, { flood_limit: floodLimit });
    const r = await s.client.post(`/api/sessions/${session}/load`, { channel, limit });
    if (r.status !== 202) throw new Error(`POST /api/sessions/${session}/load -> ${r.status} ${r.text}`);
    const jobId = r.json.job.id;
    const paused = await waitFor(async () => {
        const j = (await s.client.ok(`/api/jobs/${jobId}`)).job;
        if (['done', 'failed', 'cancelled'].includes(j.state)) {
            throw new Error(`the load job ended (${JSON.stringify(j)}) without showing wait_until`);
        }
        return j.wait_until ? j : null;
    }, { timeoutMs: 30000, intervalMs: 50, what: `load job ${jobId} to show wait_until` });
    if (!(paused.done > 0 && paused.done < total)) {
        throw new Error(`the flood wait was not in the middle of the load: ${JSON.stringify(paused)}`);
    }
    return { jobId, paused };
}

// ---------------------------------------------------------------------------------------------
// Choosing who decides (issue 5): helpers for tests/integration/via_*.test.mjs

// Makes userId (a user account or a bot) an admin of chatId in tgsim, with or without the
// invite-users right.
export async function tgMakeAdmin(tg, chatId, userId, canInvite = true) {
    return tg.control('POST', `/control/channels/${chatId}/admins`, { id: userId, can_invite_users: canInvite });
}

// A session stack (bot configured) with one channel of `pending` requests doorman has recorded
// and a user session `name` whose account (first_name) administers the channel with the
// invite-users right. Returns the stack with acc, the session's account.
export async function startDeciderStack({ pending, name, first_name }) {
    const s = await startSessionStack({ world: { channels: 1, pending }, configureBot: true });
    try {
        await waitRecorded(s.client, pending);
        s.acc = (await newUserSession(s.client, s.tg, { name, first_name })).account;
        await tgMakeAdmin(s.tg, s.world.chatIds[0], s.acc.id, true);
        return s;
    } catch (e) {
        await s.cleanup();
        throw e;
    }
}

// Waits until job `id` shows wait_until (paused by a FLOOD_WAIT) and returns the job; fails if
// the job ends without waiting.
export async function waitJobPaused(client, id) {
    return waitFor(async () => {
        const j = (await client.ok(`/api/jobs/${id}`)).job;
        if (['done', 'failed', 'cancelled'].includes(j.state)) throw new Error(`the job ended without waiting: ${JSON.stringify(j)}`);
        return j.wait_until ? j : null;
    }, { timeoutMs: 30000, intervalMs: 50, what: `job ${id} to show wait_until` });
}

// A new bot in tgsim and a doorman bot session logged in as it (POST /api/sessions/bot).
// Returns {bot, session}.
export async function newBotSession(client, tg, { name, username }) {
    const bot = await tg.control('POST', '/control/bots', { username, first_name: username });
    const r = await client.post('/api/sessions/bot', { name, api_id: API_ID, api_hash: API_HASH, bot_token: bot.token });
    if (r.status !== 201) throw new Error(`POST /api/sessions/bot ${name} -> ${r.status} ${r.text}`);
    return { bot, session: r.json.session };
}

// What tgsim recorded for the given users of one chat differs from want ({status, decided_by,
// decisions}; a field left out is not compared): one line per difference, [] when all agree.
export async function tgMismatches(tg, chatId, userIds, want) {
    const items = (await tg.control('GET', `/control/join-requests?chat_id=${chatId}`)).items;
    const latest = new Map(items.map((r) => [r.user_id, r]));
    const out = [];
    for (const u of userIds) {
        const r = latest.get(u);
        if (!r) { out.push(`${chatId}/${u}: tgsim has no record`); continue; }
        for (const [k, v] of Object.entries(want)) {
            if (r[k] !== v) out.push(`${chatId}/${u}: ${k} is ${JSON.stringify(r[k])}, want ${JSON.stringify(v)}`);
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// A session GramJS itself saved (issue 4's import proof)

// n distinct ports in [20000, 32000) that 127.0.0.1 accepts a listener on right now (all held
// open together, then closed): below 32768, so GramJS's StringSession.save() can write them.
export async function freeLowPorts(n) {
    const { createServer } = await import('node:net');
    const held = [];
    try {
        for (let tries = 0; held.length < n; tries++) {
            if (tries >= 200) throw new Error(`no ${n} free ports in 20000-31999 after 200 tries`);
            const port = 20000 + Math.floor(Math.random() * 12000);
            const srv = createServer();
            const ok = await new Promise((resolve) => {
                srv.once('error', () => resolve(false));
                srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(true));
            });
            if (ok) held.push(srv);
        }
        return held.map((srv) => srv.address().port);
    } finally {
        await Promise.all(held.map((srv) => new Promise((resolve) => srv.close(resolve))));
    }
}

// startSessionStack with the DCs on freeLowPorts; a port taken between the probe and tgsim's
// bind fails the start, so it chooses again (3 tries).
export async function startLowPortSessionStack(opts = {}) {
    for (let attempt = 1; ; attempt++) {
        const ports = await freeLowPorts(opts.dcs ?? 3);
        try {
            return await startSessionStack({ ...opts, tgsimOpts: { args: ['--dc-ports', ports.join(',')] } });
        } catch (e) {
            if (attempt >= 3) throw e;
        }
    }
}

// Logs in to tgsim with GramJS (tests/interop/gramjs_client.js --mode session) as the account
// {phone, dc, password?} on its home DC. Returns {me: {id}, dc, session (StringSession.save()),
// auth_key (hex), password_needed}.
export async function gramjsLogin(tg, { phone, dc, password }) {
    const args = [path.join(INTEROP_DIR, 'gramjs_client.js'), '--mode', 'session', '--port', String(tg.dcPorts[dc]),
        '--dc', String(dc), '--pem', tg.pem, '--phone', phone, '--control', tg.url];
    if (password) args.push('--password', password);
    return new Promise((resolve, reject) => {
        const p = spawn(process.execPath, args, { cwd: INTEROP_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '', err = '';
        p.stdout.on('data', (d) => { out += d; });
        p.stderr.on('data', (d) => { err += d; });
        const t = setTimeout(() => { p.kill('SIGKILL'); }, 60000);
        p.on('close', (code, sig) => {
            clearTimeout(t);
            if (code !== 0) reject(new Error(`gramjs_client.js --mode session exited ${code ?? sig}: ${err.slice(-3000)}`));
            else resolve(JSON.parse(out.trim().split('\n').pop()));
        });
    });
}
