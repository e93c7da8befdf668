// sessions.mjs: doorman's Session Manager (issue 4; docs/api.md "Sessions") through its API. The
// session list, the phone -> code (-> 2FA) login with the code read from tgsim, user and bot
// sessions made in one call, a load or an approval through a session held in its middle by a
// FLOOD_WAIT, the session files in the data dir, and the checks that no secret (the API hash,
// login codes) comes back or lands on disk. Nothing here sleeps: every wait is a condition with a
// deadline.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { waitJobPaused } from './api.mjs';
import { waitFor } from './processes.mjs';
import {
    tgAccount, tgLoginCode, tgFlood, tgCreateBot, tgCreateChannel, tgMakeAdmin, tgAddJoinRequests, newPhone,
} from './tgsim.mjs';

// An API hash that must never come back: in no answer, no output, not in plain text on disk.
export const API_ID = 246813;
export const API_HASH = 'c0ffee5ecret4a5b6c7d8e9f0a1b2c3d';

// ---------------------------------------------------------------------------------------------
// Session files on disk

export function sessionsDir(dataDir) { return path.join(dataDir, 'sessions'); }

export function sessionFiles(dataDir) {
    const d = sessionsDir(dataDir);
    return existsSync(d) ? readdirSync(d).sort() : [];
}

export function mode(p) { return statSync(p).mode & 0o777; }

// ---------------------------------------------------------------------------------------------
// doorman's session API

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

// Waits until doorman dm logs that session `name` listens to its updates (in step with them: its
// updates.getState made), in dm's output from offset `since` on (a restart's: the output's length
// before it). Telegram pushes a request arriving after that to the session, which records it; a
// test that counts the account's calls under a flood limit waits for it first.
export async function waitListening(dm, name, { since = 0, timeoutMs = 15000 } = {}) {
    const line = `session ${name}: listening to its updates`;
    await waitFor(() => dm.output.indexOf(line, since) >= 0, { timeoutMs, what: `"${line}"` });
}

// A user account in tgsim and a doorman session logged in as it. Returns {account, session, phone}.
export async function newUserSession(client, tg, { name, password, dc, first_name = 'Sess', ...acc } = {}) {
    const phone = newPhone();
    const account = await tgAccount(tg, { phone, first_name, password, dc, ...acc });
    const session = await createUserSession(client, tg, { name, phone, password });
    return { account, session, phone };
}

// A new bot in tgsim and a doorman bot session logged in as it (POST /api/sessions/bot).
// Returns {bot, session}.
export async function newBotSession(client, tg, { name, username }) {
    const bot = await tgCreateBot(tg, { username, first_name: username });
    const r = await client.post('/api/sessions/bot', { name, api_id: API_ID, api_hash: API_HASH, bot_token: bot.token });
    if (r.status !== 201) throw new Error(`POST /api/sessions/bot ${name} -> ${r.status} ${r.text}`);
    return { bot, session: r.json.session };
}

// ---------------------------------------------------------------------------------------------
// Jobs held in their middle by a FLOOD_WAIT

// The flood window of the jobs held by a FLOOD_WAIT below: Telegram's waits are often a minute;
// doorman treats any X of FLOOD_WAIT_X alike, and a 15-second one keeps the suites short.
export const FLOOD_WINDOW = 15;

// Gives accountId a limit of floodLimit calls per FLOOD_WINDOW seconds (tgsim's window starts
// now), makes the POST path body (it must answer 202 with a job) and waits until the job shows
// wait_until: a call past the limit answers FLOOD_WAIT_<about FLOOD_WINDOW>. Returns {jobId,
// paused}.
async function startFloodedJob(s, accountId, floodLimit, p, body) {
    await tgFlood(s.tg, accountId, { flood_limit: floodLimit, window: FLOOD_WINDOW });
    const r = await s.client.post(p, body);
    if (r.status !== 202) throw new Error(`POST ${p} -> ${r.status} ${r.text}`);
    const jobId = r.json.job.id;
    return { jobId, paused: await waitJobPaused(s.client, jobId) };
}

// A user session `session` administering a new channel {title, username} with `total` (3,000)
// join requests from new users ({first_name, bio, date} of `requests`), and a load of it (channel:
// how the load names it) that meets FLOOD_WAIT in its middle, deterministically: the account may
// make `floodLimit` calls per FLOOD_WINDOW (tgsim's window starts now), so a call past them (a
// page in the middle of the load) answers FLOOD_WAIT_<about FLOOD_WINDOW>. The requests reach
// Telegram before doorman has the session (only a Load finds them), and the session is listening
// to its updates before the limit is set, so every call under it is the load's. Resolves with
// {account, ch, jobId, paused} once doorman's job shows wait_until; the caller lifts the limit
// (tgFlood(..., {flood_limit: 0})).
export async function startFloodedLoad(s, { session, title, username, requests, channel, limit = 'all', floodLimit = 12, total = 3000 }) {
    const phone = newPhone();
    const account = await tgAccount(s.tg, { phone, first_name: 'Sess' });
    const ch = await tgCreateChannel(s.tg, { title, username });
    await tgMakeAdmin(s.tg, ch.id, account.id, true);
    await tgAddJoinRequests(s.tg, { chat_id: ch.id, count: total, ...requests });
    await createUserSession(s.client, s.tg, { name: session, phone });
    await waitListening(s.dm, session);
    const { jobId, paused } = await startFloodedJob(s, account.id, floodLimit, `/api/sessions/${session}/load`, { channel, limit });
    if (!(paused.done > 0 && paused.done < total)) {
        throw new Error(`the flood wait was not in the middle of the load: ${JSON.stringify(paused)}`);
    }
    return { account, ch, jobId, paused };
}

// Approve Selected of requestIds through session `session` (its account accountId) that meets
// FLOOD_WAIT in the middle of the batch, deterministically: the account may make `floodLimit`
// (12) calls per FLOOD_WINDOW, one a request. Resolves with {jobId, paused} once the job shows
// wait_until; the caller lifts the limit (tgFlood(..., {flood_limit: 0})).
export async function startFloodedApproval(s, { session, accountId, requestIds, floodLimit = 12 }) {
    return startFloodedJob(s, accountId, floodLimit, '/api/invite-requests/approve', { request_ids: requestIds, session_name: session });
}

// ---------------------------------------------------------------------------------------------
// Secrets

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
