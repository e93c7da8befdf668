// api.mjs: doorman's HTTP API as the panel uses it (docs/api.md). Client keeps the session cookie
// and the CSRF token (RecordingClient also keeps every answer, to look for secrets later); on top
// of it: every page of the Invite Requests list and of the audit log, the counts, a snapshot to
// compare, Approve/Deny as jobs, and waits for requests to be recorded and for jobs to finish,
// pause or get part of the way.
import http from 'node:http';
import net from 'node:net';
import { waitFor } from './processes.mjs';

// ---------------------------------------------------------------------------------------------
// Requests fetch() cannot make: from a chosen local address (any 127.0.0.x works on Linux), with
// a chosen Host header, or as raw bytes.

// Like fetch(url, {method, headers, body}) but over node:http, so `localAddress` picks the
// source address and a `host` header is sent as given. Resolves with a fetch Response.
export function httpFetch(url, { method = 'GET', headers = {}, body, localAddress } = {}) {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method, headers, localAddress, agent: false }, (res) => {
            const chunks = [];
            res.on('data', (d) => chunks.push(d));
            res.on('error', reject);
            res.on('end', () => {
                const h = new Headers();
                for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
                const noBody = [204, 304].includes(res.statusCode) || method === 'HEAD';
                resolve(new Response(noBody ? null : Buffer.concat(chunks), { status: res.statusCode, headers: h }));
            });
        });
        req.on('error', reject);
        if (body !== undefined) req.write(body);
        req.end();
    });
}

// Sends `text` as it is to host:port and resolves with everything the server sent back before
// closing (use "Connection: close" or HTTP/1.0).
export function rawHttp(host, port, text) {
    return new Promise((resolve, reject) => {
        const s = net.connect(port, host, () => s.write(text));
        const chunks = [];
        s.on('data', (d) => chunks.push(d));
        s.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
        s.on('error', reject);
        s.setTimeout(10000, () => s.destroy(new Error('rawHttp: no answer in 10 s')));
    });
}

// ---------------------------------------------------------------------------------------------
// HTTP client with doorman's cookie and CSRF token.

export class Client {
    // from: the local address to send from (httpFetch's localAddress), e.g. '127.0.0.7'.
    constructor(baseUrl, { from } = {}) {
        this.from = from || null;
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
        const res = this.from || Object.keys(h).some((k) => k.toLowerCase() === 'host')
            ? await httpFetch(this.url + p, { method, headers: h, body: b, localAddress: this.from })
            : await fetch(this.url + p, { method, headers: h, body: b, redirect: 'manual' });
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

// ---------------------------------------------------------------------------------------------
// Lists

// Every item of a list endpoint (path) matching query, walking next_before pages of `limit`.
async function allPages(client, p, query, limit) {
    const items = [];
    let before = null;
    for (let pages = 0; pages < 100000; pages++) {
        const q = new URLSearchParams({ ...query, limit: String(limit) });
        if (before !== null) q.set('before', String(before));
        const j = await client.ok(`${p}?${q}`);
        items.push(...j.items);
        if (j.next_before === null || j.next_before === undefined) return items;
        before = j.next_before;
    }
    throw new Error(`${p}: too many pages`);
}

// Every request matching query (a URLSearchParams-able object), walking next_before pages.
export async function listAll(client, query = {}, { limit = 500 } = {}) {
    return allPages(client, '/api/invite-requests', query, limit);
}

// Everything doorman has for one chat, via the Invite Requests API (all pages).
export async function requestsOf(client, chatId) {
    return listAll(client, { chat_id: String(chatId) });
}

// The full audit log (walks pages).
export async function auditAll(client) {
    return allPages(client, '/api/audit', {}, 500);
}

export async function counts(client, query = {}) {
    const q = new URLSearchParams({ ...query, limit: '1' });
    return (await client.ok(`/api/invite-requests?${q}`)).counts;
}

// A snapshot of what doorman shows, to compare before and after a rejected request: every request
// and its status, the counts by status, the jobs and their states, the audit log, the sessions
// (status and last check), the settings and the client's preferences.
export async function snapshot(client) {
    const reqs = await listAll(client, {});
    const jobs = await client.ok('/api/jobs?limit=500');
    const settings = await client.ok('/api/settings');
    return {
        requests: reqs.map((r) => `${r.id}:${r.status}`).sort(),
        counts: (await counts(client)),
        jobs: jobs.items.map((j) => `${j.id}:${j.state}`).sort(),
        audit: (await auditAll(client)).map((a) => `${a.id}:${a.action}:${a.result}:${a.via}`),
        sessions: (await client.ok('/api/sessions')).items.map((x) => `${x.name}:${x.status}:${x.last_check_at}`).sort(),
        settings: { mode: settings.mode, webhook_url: settings.webhook_url, bot_rate: settings.bot_rate, bot: settings.bot.configured && settings.bot.id },
        preferences: await client.ok('/api/me/preferences'),
    };
}

// Waits until doorman has recorded n requests in total (any status).
export async function waitRecorded(client, n, { timeoutMs = 20000, query = {} } = {}) {
    return waitFor(async () => {
        const c = await counts(client, query);
        return c.total >= n ? c : null;
    }, { timeoutMs, what: `${n} requests recorded by doorman` });
}

// ---------------------------------------------------------------------------------------------
// Jobs

export const FINAL_JOB_STATES = new Set(['done', 'failed', 'cancelled']);

// Waits until job jobId reaches one of states; returns GET /api/jobs/<id>'s answer. onPoll(job)
// sees the job at every poll.
export async function waitJob(client, jobId, { timeoutMs = 30000, states = FINAL_JOB_STATES, intervalMs = 100, onPoll } = {}) {
    return waitFor(async () => {
        const j = await client.ok(`/api/jobs/${jobId}`);
        if (onPoll) onPoll(j.job);
        return states.has(j.job.state) ? j : null;
    }, { timeoutMs, intervalMs, what: `job ${jobId} to reach ${[...states].join('/')}` });
}

// waitJob for a load job (a minute by default, polled more often); returns the job itself.
export async function waitLoadJob(client, id, { timeoutMs = 60000, onPoll } = {}) {
    return (await waitJob(client, id, { timeoutMs, intervalMs: 50, onPoll })).job;
}

// Waits until job `id` shows wait_until (paused by a FLOOD_WAIT) and returns the job; fails if
// the job ends without waiting.
export async function waitJobPaused(client, id) {
    return waitFor(async () => {
        const j = (await client.ok(`/api/jobs/${id}`)).job;
        if (FINAL_JOB_STATES.has(j.state)) throw new Error(`the job ended without waiting: ${JSON.stringify(j)}`);
        return j.wait_until ? j : null;
    }, { timeoutMs: 30000, intervalMs: 50, what: `job ${id} to show wait_until` });
}

// Waits until job `id` has done at least `fraction` of its `total` requests (to kill doorman in
// the middle of it) and returns the job; it must not be done by then.
export async function waitJobPart(client, id, total, fraction, { timeoutMs }) {
    return waitFor(async () => {
        const j = (await client.ok(`/api/jobs/${id}`)).job;
        if (j.state === 'done') throw new Error('the job finished before the kill: raise N or tgsim latency');
        return j.done >= total * fraction ? j : null;
    }, { timeoutMs, intervalMs: 20, what: `the job to be ${fraction * 100}% done` });
}

// POST /api/invite-requests/<action> (approve, deny, approve-all, deny-all); expects 202 and
// returns the job, after waiting for it to finish when wait is set.
export async function decide(client, action, body, { wait = true, timeoutMs = 30000 } = {}) {
    const r = await client.post(`/api/invite-requests/${action}`, body);
    if (r.status !== 202) throw new Error(`POST /api/invite-requests/${action} ${JSON.stringify(body).slice(0, 200)} -> ${r.status} ${r.text}`);
    if (!wait) return r.json.job;
    return (await waitJob(client, r.json.job.id, { timeoutMs })).job;
}
