// harness.mjs: runs the real doorman and tgsim binaries on loopback for the integration and
// browser tests, and talks to them only through their public interfaces (doorman's HTTP API and
// CLI, tgsim's control API).
//
// Every process started here is registered; it is killed when its test file's process exits, even
// after a failed assertion or an uncaught error, and every temp dir made here is removed then.
// Nothing sleeps blindly: waiting is done by waitFor() (a condition polled with a deadline) or by
// watching a process's output for a line.
//
// With DOORMAN_TEST_PG_URL set (a PostgreSQL server where its user may CREATE DATABASE), every
// doorman data dir gets its own fresh database on that server (see dbUrlFor), dropped at exit.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const testsDir = path.resolve(here, '..');

export const TGSIM_BIN = process.env.TGSIM_BIN || path.join(testsDir, '..', 'build-test', 'src', 'sim', 'tgsim');
export const DOORMAN_BIN = process.env.DOORMAN_BIN || path.join(testsDir, '..', 'build-test', 'src', 'doorman');

// ---------------------------------------------------------------------------------------------
// Cleanup: every child and temp dir, whatever happens.

const children = new Set();
const tempDirs = new Set();
const pgDatabases = new Map(); // data dir -> {name, url}

function cleanupNow() {
    for (const c of children) {
        try { process.kill(c.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    children.clear();
    if (!process.env.KEEP_TEST_DIRS) {
        for (const { name } of pgDatabases.values()) {
            try { psql(PG_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); } catch { /* best effort */ }
        }
        for (const d of tempDirs) {
            try { rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ }
        }
    }
    tempDirs.clear();
    pgDatabases.clear();
}
process.on('exit', cleanupNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => { cleanupNow(); process.exit(128 + 2); });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL (only with DOORMAN_TEST_PG_URL)

export const PG_URL = process.env.DOORMAN_TEST_PG_URL || null;

// Runs sql with psql on url; returns its stdout (unaligned, tuples only), throws on failure.
export function psql(url, sql) {
    const r = spawnSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql],
        { encoding: 'utf8', timeout: 30000 });
    if (r.status !== 0) throw new Error(`psql ${JSON.stringify(sql).slice(0, 200)} failed (${r.status ?? r.error}): ${r.stderr}`);
    return r.stdout;
}

// The database URL doorman uses for dataDir: null (SQLite in the data dir) without
// DOORMAN_TEST_PG_URL, else a database of its own on that server, created on first use; the same
// data dir keeps its database across restarts.
export function dbUrlFor(dataDir) {
    if (!PG_URL) return null;
    const have = pgDatabases.get(dataDir);
    if (have) return have.url;
    const name = `doorman_t${process.pid}_${pgDatabases.size + 1}`;
    psql(PG_URL, `CREATE DATABASE ${name}`);
    const u = new URL(PG_URL);
    u.pathname = '/' + name;
    const db = { name, url: u.toString() };
    pgDatabases.set(dataDir, db);
    return db.url;
}

export function makeTempDir(prefix = 'doorman-test-') {
    const d = mkdtempSync(path.join(tmpdir(), prefix));
    tempDirs.add(d);
    return d;
}

// Sanitizer builds run the binaries under ASan/UBSan; a report in their output fails the test
// that stops the process. Leak detection is off: libraries (curl, sodium) keep global state.
function childEnv(extra) {
    const env = { ...process.env };
    env.ASAN_OPTIONS = env.ASAN_OPTIONS || 'detect_leaks=0:abort_on_error=0';
    env.UBSAN_OPTIONS = env.UBSAN_OPTIONS || 'print_stacktrace=1';
    for (const [k, v] of Object.entries(extra || {})) {
        if (v === undefined || v === null) delete env[k];
        else env[k] = String(v);
    }
    return env;
}

const SANITIZER_RE = /(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer)/;

export function sanitizerReport(text) {
    const m = SANITIZER_RE.exec(text);
    if (!m) return null;
    return text.slice(Math.max(0, m.index - 200), m.index + 3000);
}

// A started binary: collects stdout+stderr, waits for lines, stops and reports sanitizer findings.
class Proc {
    constructor(name, bin, args, env) {
        if (!existsSync(bin)) {
            throw new Error(`${name}: binary ${bin} does not exist (build it with ninja -C build-test, ` +
                `or set ${name === 'tgsim' ? 'TGSIM_BIN' : 'DOORMAN_BIN'})`);
        }
        this.name = name;
        this.out = '';   // stdout and stderr interleaved as they came
        this.err = '';   // stderr only
        this.exited = null; // {code, signal} once gone
        this.child = spawn(bin, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
        children.add(this.child);
        this.exitPromise = new Promise((resolve) => {
            this.child.on('exit', (code, signal) => {
                children.delete(this.child);
                this.exited = { code, signal };
                resolve(this.exited);
            });
            this.child.on('error', (e) => {
                children.delete(this.child);
                this.exited = { code: -1, signal: null, error: e };
                resolve(this.exited);
            });
        });
        // Unreferenced: a test file whose tests are over exits even if a process was left
        // running (the exit hook kills it); waits below hold their own timers.
        this.child.unref();
        this.child.stdout.unref();
        this.child.stderr.unref();
        this.child.stdout.setEncoding('utf8');
        this.child.stderr.setEncoding('utf8');
        this.child.stdout.on('data', (d) => { this.out += d; if (process.env.TEST_VERBOSE) process.stderr.write(`[${name}] ${d}`); });
        this.child.stderr.on('data', (d) => { this.out += d; this.err += d; if (process.env.TEST_VERBOSE) process.stderr.write(`[${name}!] ${d}`); });
    }

    get pid() { return this.child.pid; }

    // Resolves with the first match of re in the output; rejects when the process exits first or
    // the deadline passes, quoting the output so the failure explains itself.
    waitOutput(re, { timeoutMs = 15000, what = String(re) } = {}) {
        return new Promise((resolve, reject) => {
            const check = () => {
                const m = re.exec(this.out);
                if (m) { finish(); resolve(m); return true; }
                return false;
            };
            const onData = () => { check(); };
            const onExit = () => {
                // drain: data may still be buffered when 'exit' fires
                setImmediate(() => {
                    if (check()) return;
                    finish();
                    reject(new Error(`${this.name} exited (${JSON.stringify(this.exited)}) before printing ${what}; output:\n${this.out.slice(-4000)}`));
                });
            };
            const timer = setTimeout(() => {
                finish();
                reject(new Error(`${this.name} did not print ${what} within ${timeoutMs} ms; output:\n${this.out.slice(-4000)}`));
            }, timeoutMs);
            const finish = () => {
                clearTimeout(timer);
                this.child.stdout.off('data', onData);
                this.child.stderr.off('data', onData);
                this.child.off('exit', onExit);
            };
            this.child.stdout.on('data', onData);
            this.child.stderr.on('data', onData);
            this.child.on('exit', onExit);
            if (check()) return;
            if (this.exited) onExit();
        });
    }

    checkSanitizer() {
        const rep = sanitizerReport(this.out);
        if (rep) throw new Error(`${this.name} (pid ${this.pid}) reported a sanitizer error:\n${rep}`);
    }

    // SIGTERM, then SIGKILL after graceMs. Throws when a sanitizer reported anything, or when
    // expectClean and the process did not exit 0 on SIGTERM.
    async stop({ graceMs = 10000, expectClean = true } = {}) {
        let forced = false;
        if (!this.exited) {
            try { this.child.kill('SIGTERM'); } catch { /* gone */ }
            const t = setTimeout(() => {
                forced = true;
                try { this.child.kill('SIGKILL'); } catch { /* gone */ }
            }, graceMs);
            const keepAlive = setInterval(() => {}, 1000); // the child is unreferenced
            await this.exitPromise;
            clearTimeout(t);
            clearInterval(keepAlive);
        }
        this.checkSanitizer();
        if (expectClean && forced) {
            throw new Error(`${this.name} did not exit within ${graceMs} ms of SIGTERM (killed); output:\n${this.out.slice(-3000)}`);
        }
        if (expectClean && this.exited.code !== 0 && this.exited.signal !== 'SIGTERM') {
            throw new Error(`${this.name} did not exit cleanly on SIGTERM: ${JSON.stringify(this.exited)}; output:\n${this.out.slice(-3000)}`);
        }
        return this.exited;
    }

    async kill() {
        if (!this.exited) {
            try { this.child.kill('SIGKILL'); } catch { /* gone */ }
            const keepAlive = setInterval(() => {}, 1000); // the child is unreferenced
            await this.exitPromise;
            clearInterval(keepAlive);
        }
        this.checkSanitizer();
        return this.exited;
    }
}

function listenUrl(m) {
    return `http://${m[1]}:${m[2]}`;
}

// ---------------------------------------------------------------------------------------------
// tgsim

// Starts tgsim on a free loopback port. rateLimit: requests per second per bot (0/undefined =
// tgsim's default); latencyMs: added to every Bot API answer.
export async function startTgsim({ rateLimit, latencyMs, args = [], env } = {}) {
    const a = ['--listen', '127.0.0.1:0'];
    if (rateLimit !== undefined) a.push('--rate-limit', String(rateLimit));
    if (latencyMs !== undefined) a.push('--latency-ms', String(latencyMs));
    a.push(...args);
    const p = new Proc('tgsim', TGSIM_BIN, a, env);
    const m = await p.waitOutput(/tgsim: listening on http:\/\/([0-9.]+|\[[0-9a-f:]+\]):(\d+)/, { what: 'its listening line' });
    const url = listenUrl(m);

    // control(method, path, body): tgsim's control API; returns the JSON answer, throws on non-2xx.
    async function control(method, p2, body) {
        const r = await controlRaw(method, p2, body);
        if (r.status < 200 || r.status > 299) {
            throw new Error(`tgsim control ${method} ${p2} ${JSON.stringify(body)} -> ${r.status} ${r.text}`);
        }
        return r.json;
    }
    async function controlRaw(method, p2, body) {
        const init = { method, headers: {} };
        if (body !== undefined) {
            init.body = JSON.stringify(body);
            init.headers['content-type'] = 'application/json';
        }
        const res = await fetch(url + p2, init);
        const text = await res.text();
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
        return { status: res.status, json, text };
    }
    // The Bot API as a bot would call it (for checks such as getWebhookInfo).
    async function botApi(token, method, params = {}) {
        const res = await fetch(`${url}/bot${token}/${method}`, {
            method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params),
        });
        return { status: res.status, json: await res.json() };
    }
    return {
        url, proc: p, control, controlRaw, botApi,
        get output() { return p.out; },
        stop: (o) => p.stop(o),
        kill: () => p.kill(),
    };
}

// ---------------------------------------------------------------------------------------------
// doorman

export const DOORMAN_LISTEN_RE = /listening on http:\/\/([0-9.]+|\[[0-9a-f:]+\]):(\d+)/;

// Starts `doorman serve` on a free loopback port with a fresh (or the given) data dir, pointed at
// tgsim's Bot API. Short poll timeout and job lease so restarts are quick to recover. dbUrl: the
// database (default: dbUrlFor(dataDir), i.e. SQLite in the data dir without DOORMAN_TEST_PG_URL).
export async function startDoorman({ tgsim, dataDir, env = {}, args = [], dbUrl } = {}) {
    const dir = dataDir || makeTempDir('doorman-data-');
    const db = dbUrl || dbUrlFor(dir);
    const baseEnv = {
        DOORMAN_POLL_TIMEOUT: '1',
        DOORMAN_JOB_LEASE: '3',
        DOORMAN_SECRET_KEY: undefined,
        DOORMAN_DATA: undefined,
        DOORMAN_LISTEN: undefined,
        DOORMAN_DATABASE_URL: undefined,
        DOORMAN_BOT_API_URL: undefined,
        DOORMAN_PUBLIC_URL: undefined,
        ...env,
    };
    const d = { dataDir: dir, proc: null, url: null, allOutput: '' };

    async function launch() {
        const a = ['serve', '--data', dir, ...(db ? ['--db', db] : []), '--listen', '127.0.0.1:0'];
        if (tgsim) a.push('--bot-api', tgsim.url);
        a.push(...args);
        const p = new Proc('doorman', DOORMAN_BIN, a, baseEnv);
        d.proc = p;
        const m = await p.waitOutput(DOORMAN_LISTEN_RE, { what: '"listening on http://HOST:PORT"' });
        d.url = listenUrl(m);
        return d;
    }

    d.stop = async (o) => {
        const r = await d.proc.stop(o);
        d.allOutput += d.proc.out;
        return r;
    };
    d.kill = async () => {
        const r = await d.proc.kill();
        d.allOutput += d.proc.out;
        return r;
    };
    // Same data dir, new process (a new port too). Stops the old one first if it still runs.
    d.restart = async ({ kill = false } = {}) => {
        if (d.proc && !d.proc.exited) await (kill ? d.kill() : d.stop());
        else if (d.proc) { d.proc.checkSanitizer(); d.allOutput += d.proc.out; }
        return launch();
    };
    Object.defineProperty(d, 'stderr', { get: () => d.proc.err });
    Object.defineProperty(d, 'output', { get: () => d.allOutput + (d.proc && !d.proc.exited ? d.proc.out : '') });
    await launch();
    return d;
}

// The one-time setup token doorman prints at first start ("…/setup#token=XYZ").
export function setupTokenFrom(output) {
    const m = /\/setup#token=([A-Za-z0-9_\-]+)/.exec(output);
    return m ? m[1] : null;
}

// `doorman admin add NAME --data DIR --password-stdin`, password on stdin; dbUrl as in
// startDoorman.
export function createAdmin(dataDir, name, password, { env = {}, dbUrl } = {}) {
    const db = dbUrl || dbUrlFor(dataDir);
    const r = spawnSync(DOORMAN_BIN, ['admin', 'add', name, '--data', dataDir, ...(db ? ['--db', db] : []), '--password-stdin'], {
        input: password, env: childEnv({ DOORMAN_SECRET_KEY: undefined, DOORMAN_DATABASE_URL: undefined, ...env }), encoding: 'utf8', timeout: 30000,
    });
    const rep = sanitizerReport((r.stdout || '') + (r.stderr || ''));
    if (rep) throw new Error(`doorman admin add reported a sanitizer error:\n${rep}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// ---------------------------------------------------------------------------------------------
// HTTP client with doorman's cookie and CSRF token.

export class Client {
    constructor(baseUrl) {
        this.base = typeof baseUrl === 'string' ? baseUrl : null;
        this.target = typeof baseUrl === 'string' ? null : baseUrl; // an object with .url (follows restarts)
        this.cookies = new Map();
        this.csrf = null;
        this.lastSetCookie = [];
    }

    get url() { return this.base || this.target.url; }

    cookieHeader() {
        return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }

    async request(method, p, { body, headers = {}, csrf = true, contentType = 'application/json', cookie = true } = {}) {
        const h = { ...headers };
        if (cookie && this.cookies.size) h.cookie = this.cookieHeader();
        if (csrf && this.csrf && method !== 'GET' && method !== 'HEAD') h['x-csrf-token'] = this.csrf;
        let b;
        if (body !== undefined) {
            b = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
            if (contentType) h['content-type'] = contentType;
        }
        const res = await fetch(this.url + p, { method, headers: h, body: b, redirect: 'manual' });
        const setCookies = res.headers.getSetCookie ? res.headers.getSetCookie() : [];
        this.lastSetCookie = setCookies;
        for (const sc of setCookies) {
            const [pair, ...attrs] = sc.split(';');
            const eq = pair.indexOf('=');
            const name = pair.slice(0, eq).trim();
            const value = pair.slice(eq + 1).trim();
            const maxAge = attrs.map((s) => s.trim()).find((s) => /^max-age=/i.test(s));
            const expires = attrs.map((s) => s.trim()).find((s) => /^expires=/i.test(s));
            const gone = value === '' || (maxAge && Number(maxAge.split('=')[1]) <= 0) ||
                (expires && Date.parse(expires.slice(8)) < Date.now());
            if (gone) this.cookies.delete(name);
            else this.cookies.set(name, value);
        }
        const text = await res.text();
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
        if (json && typeof json.csrf_token === 'string') this.csrf = json.csrf_token;
        return { status: res.status, headers: res.headers, json, text, setCookie: setCookies };
    }

    get(p, o) { return this.request('GET', p, o); }
    post(p, body, o = {}) { return this.request('POST', p, { ...o, body: body === undefined ? {} : body }); }

    async login(name, password) {
        const r = await this.post('/api/login', { name, password });
        if (r.status !== 200) throw new Error(`login as ${name} -> ${r.status} ${r.text}`);
        return r;
    }

    // GET that must answer 200; returns the JSON.
    async ok(p) {
        const r = await this.get(p);
        if (r.status !== 200) throw new Error(`GET ${p} -> ${r.status} ${r.text}`);
        return r.json;
    }
}

// ---------------------------------------------------------------------------------------------
// Waiting

// Polls fn until it returns a truthy value (returned) or the deadline passes (throws naming what,
// with the last value or error seen).
export async function waitFor(fn, { timeoutMs = 15000, intervalMs = 50, what = 'condition' } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last, lastErr;
    for (;;) {
        try {
            last = await fn();
            if (last) return last;
            lastErr = undefined;
        } catch (e) {
            lastErr = e;
        }
        if (Date.now() >= deadline) {
            const detail = lastErr ? `last error: ${lastErr.stack || lastErr}` : `last value: ${JSON.stringify(last)?.slice(0, 500)}`;
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${detail}`);
        }
        await new Promise((r) => setTimeout(r, intervalMs));
    }
}

// ---------------------------------------------------------------------------------------------
// tgsim world (control API, see docs/tgsim.md). Kept together so a control API change is one edit.

export async function tgCreateBot(tg, { username = 'doorman_test_bot', first_name = 'Doorman Test' } = {}) {
    return tg.control('POST', '/control/bots', { username, first_name });
}

export async function tgCreateChannel(tg, { title, username, botId }) {
    const admins = botId !== undefined ? [{ id: botId, can_invite_users: true }] : [];
    return tg.control('POST', '/control/channels', { title, username, admins });
}

export async function tgCreateUser(tg, u) {
    return tg.control('POST', '/control/users', u);
}

// Adds join requests: {chat_id, user_id, invite_link?, date?} for one existing user, or
// {chat_id, count, first_name?, bio?, date?} for count new users. Returns tgsim's answer
// ({created, first_user_id, last_user_id, user_ids?}).
export async function tgAddJoinRequests(tg, body) {
    return tg.control('POST', '/control/join-requests', body);
}

// Every join request tgsim knows, as [{chat_id, user_id, status, date, decided_by, decided_at,
// decisions, invite_link?}] (a user who asked again after a decision has several records).
export async function tgJoinRequests(tg, query = '') {
    const r = await tg.control('GET', `/control/join-requests${query ? '?' + query : ''}`);
    return Array.isArray(r) ? r : r.items;
}

export async function tgInjectFault(tg, fault) {
    return tg.control('POST', '/control/faults', fault);
}

export async function tgAddMember(tg, chatId, userId) {
    return tg.control('POST', `/control/channels/${chatId}/members`, { user_id: userId });
}

// A bot, `channels` channels with the bot as admin (can_invite_users), and `pending` join requests
// spread over the channels, each from a new user with a name, username and bio.
export async function setupWorld(tg, { channels = 2, pending = 0, namePrefix = 'User' } = {}) {
    const bot = await tgCreateBot(tg);
    const chats = [];
    for (let i = 0; i < channels; i++) {
        chats.push(await tgCreateChannel(tg, { title: `Channel ${i + 1}`, username: `test_channel_${i + 1}`, botId: bot.id }));
    }
    const users = [];
    for (let i = 0; i < pending; i++) {
        const chat = chats[i % chats.length];
        users.push(await addRequester(tg, chat.id, { first_name: `${namePrefix}${i}`, last_name: `Last${i}`, username: `user_${namePrefix.toLowerCase()}_${i}`, bio: `bio of ${i}` }));
    }
    return { bot, token: bot.token, botId: bot.id, chats, chatIds: chats.map((c) => c.id), users };
}

// A new user asking to join chatId. Returns {user_id, chat_id, ...fields}.
export async function addRequester(tg, chatId, fields = {}) {
    const u = await tgCreateUser(tg, { first_name: fields.first_name || 'Someone', last_name: fields.last_name, username: fields.username, bio: fields.bio });
    const jr = { chat_id: chatId, user_id: u.id };
    if (fields.invite_link !== undefined) jr.invite_link = fields.invite_link;
    if (fields.date !== undefined) jr.date = fields.date;
    await tgAddJoinRequests(tg, jr);
    return { ...fields, user_id: u.id, chat_id: chatId };
}

// ---------------------------------------------------------------------------------------------
// doorman helpers built on the API

export const ADMIN = { name: 'admin', password: 'correct horse battery' };

// tgsim + a world + doorman with an admin, a logged-in client and the bot token configured.
// Returns {tg, world, dm, client, cleanup()}.
export async function startStack({ tgsimOpts = {}, world = {}, doormanOpts = {}, configureBot = true } = {}) {
    const tg = await startTgsim(tgsimOpts);
    const w = await setupWorld(tg, world);
    const dataDir = doormanOpts.dataDir || makeTempDir('doorman-data-');
    return adminStack({
        tg, world: w, dataDir, configureBot, dbUrl: doormanOpts.dbUrl,
        startDoorman: () => startDoorman({ tgsim: tg, dataDir, ...doormanOpts }),
    });
}

// The doorman half of a stack on running tgsim tg (world w): ADMIN created in dataDir, doorman
// started by startDoorman(), a client (newClient(dm)) logged in, w's bot token configured when
// asked; dbUrl as in startDoorman. Returns {tg, world, dm, client, restart({kill}), cleanup()}.
export async function adminStack({ tg, world: w, dataDir, startDoorman, newClient = (dm) => new Client(dm), configureBot, dbUrl }) {
    const r = createAdmin(dataDir, ADMIN.name, ADMIN.password, { dbUrl });
    if (r.status !== 0) throw new Error(`doorman admin add failed (${r.status}): ${r.stderr}`);
    const dm = await startDoorman();
    const client = newClient(dm);
    await client.login(ADMIN.name, ADMIN.password);
    if (configureBot) {
        const s = await client.post('/api/settings', { bot_token: w.token });
        if (s.status !== 200) throw new Error(`configuring the bot token -> ${s.status} ${s.text}`);
    }
    return {
        tg, world: w, dm, client,
        // Restarts doorman on the same data dir (kill: SIGKILL instead of SIGTERM) and logs in
        // again, so tests that restart do not depend on sessions surviving restarts.
        async restart({ kill = false } = {}) {
            await dm.restart({ kill });
            await client.login(ADMIN.name, ADMIN.password);
        },
        async cleanup() {
            const errs = [];
            for (const p of [dm, tg]) {
                try { await p.stop(); } catch (e) { errs.push(e); }
            }
            if (errs.length) throw errs[0];
        },
    };
}

// Every request matching query (a URLSearchParams-able object), walking next_before pages.
export async function listAll(client, query = {}, { limit = 500 } = {}) {
    const items = [];
    let before = null;
    for (let pages = 0; pages < 100000; pages++) {
        const q = new URLSearchParams({ ...query, limit: String(limit) });
        if (before !== null) q.set('before', String(before));
        const j = await client.ok(`/api/invite-requests?${q}`);
        items.push(...j.items);
        if (j.next_before === null || j.next_before === undefined) return items;
        before = j.next_before;
    }
    throw new Error('listAll: too many pages');
}

export async function counts(client, query = {}) {
    const q = new URLSearchParams({ ...query, limit: '1' });
    return (await client.ok(`/api/invite-requests?${q}`)).counts;
}

// Waits until doorman has recorded n requests in total (any status).
export async function waitRecorded(client, n, { timeoutMs = 20000, query = {} } = {}) {
    return waitFor(async () => {
        const c = await counts(client, query);
        return c.total >= n ? c : null;
    }, { timeoutMs, what: `${n} requests recorded by doorman` });
}

export const FINAL_JOB_STATES = new Set(['done', 'failed', 'cancelled']);

export async function waitJob(client, jobId, { timeoutMs = 30000, states = FINAL_JOB_STATES } = {}) {
    return waitFor(async () => {
        const j = await client.ok(`/api/jobs/${jobId}`);
        return states.has(j.job.state) ? j : null;
    }, { timeoutMs, intervalMs: 100, what: `job ${jobId} to reach ${[...states].join('/')}` });
}

// A snapshot of what doorman shows, to compare before and after a rejected request.
export async function snapshot(client) {
    const reqs = await listAll(client, {});
    const jobs = await client.ok('/api/jobs?limit=500');
    return {
        requests: reqs.map((r) => `${r.id}:${r.status}`).sort(),
        counts: (await counts(client)),
        jobs: jobs.items.map((j) => `${j.id}:${j.state}`).sort(),
    };
}

// POST /api/invite-requests/<action> (approve, deny, approve-all, deny-all); expects 202 and
// returns the job, after waiting for it to finish when wait is set.
export async function decide(client, action, body, { wait = true, timeoutMs = 30000 } = {}) {
    const r = await client.post(`/api/invite-requests/${action}`, body);
    if (r.status !== 202) throw new Error(`POST /api/invite-requests/${action} ${JSON.stringify(body).slice(0, 200)} -> ${r.status} ${r.text}`);
    if (!wait) return r.json.job;
    return (await waitJob(client, r.json.job.id, { timeoutMs })).job;
}

// tgsim's join requests keyed "chat_id/user_id" (the latest record of each pair).
export async function tgRequestMap(tg) {
    const m = new Map();
    for (const r of await tgJoinRequests(tg)) m.set(`${r.chat_id}/${r.user_id}`, r);
    return m;
}

// The full audit log (walks pages).
export async function auditAll(client) {
    const items = [];
    let before = null;
    for (;;) {
        const q = new URLSearchParams({ limit: '500' });
        if (before !== null) q.set('before', String(before));
        const j = await client.ok(`/api/audit?${q}`);
        items.push(...j.items);
        if (j.next_before === null || j.next_before === undefined) return items;
        before = j.next_before;
    }
}

// `doorman demo` with a fresh data dir on a free port: resolves with {proc, url, login:{name,
// password}, tgsimUrl} once it printed its banner.
export async function startDemo({ dataDir } = {}) {
    const dir = dataDir || makeTempDir('doorman-demo-');
    const p = new Proc('doorman', DOORMAN_BIN, ['demo', '--data', dir, '--listen', '127.0.0.1:0'],
        { DOORMAN_POLL_TIMEOUT: '1', DOORMAN_SECRET_KEY: undefined, DOORMAN_DATA: undefined });
    const m = await p.waitOutput(/panel:\s+(http:\/\/\S+)\s+login:\s+(\S+) \/ (\S+)\s+tgsim:\s+(http:\/\/\S+)/,
        { timeoutMs: 60000, what: 'the demo banner' });
    return { proc: p, url: m[1], login: { name: m[2], password: m[3] }, tgsimUrl: m[4], dataDir: dir };
}
