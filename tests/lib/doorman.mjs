// doorman.mjs: running doorman. `doorman serve` on a free loopback port (pointed at tgsim's Bot
// API, and at its data centres when asked), restarted on the same data dir; `doorman admin add`;
// `doorman backup`; `doorman demo`; and the database each data dir uses.
//
// With DOORMAN_TEST_PG_URL set (a PostgreSQL server where its user may CREATE DATABASE), every
// doorman data dir gets its own fresh database on that server (see dbUrlFor), dropped at exit.
import { spawn, spawnSync } from 'node:child_process';
import {
    Proc, DOORMAN_BIN, childEnv, sanitizerReport, listenUrl, makeTempDir, removeAtExit,
} from './processes.mjs';

// ---------------------------------------------------------------------------------------------
// PostgreSQL (only with DOORMAN_TEST_PG_URL)

export const PG_URL = process.env.DOORMAN_TEST_PG_URL || null;

const pgDatabases = new Map(); // data dir -> {name, url}

removeAtExit(() => {
    for (const { name } of pgDatabases.values()) {
        try { psql(PG_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); } catch { /* best effort */ }
    }
    pgDatabases.clear();
});

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

// ---------------------------------------------------------------------------------------------
// doorman serve

export const DOORMAN_LISTEN_RE = /listening on http:\/\/([0-9.]+|\[[0-9a-f:]+\]):(\d+)/;

// Starts `doorman serve` on a free loopback port with a fresh (or the given) data dir, pointed at
// tgsim's Bot API. Short poll timeout and job lease so restarts are quick to recover. Sessions
// listen to their updates (DOORMAN_SESSION_UPDATES's default, 1), as in production: a request
// asked in a channel a session administers is recorded at once, so "requests only Telegram has"
// are asked before the session administers the channel (or existed), and a test counting a
// session's calls under a flood limit waits until it listens first (sessions.mjs waitListening).
// dbUrl: the database (default: dbUrlFor(dataDir), i.e. SQLite in the data dir without
// DOORMAN_TEST_PG_URL).
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

    // An ended process's output joins allOutput once.
    let collected = null;
    const collect = () => {
        if (collected !== d.proc) d.allOutput += d.proc.out;
        collected = d.proc;
    };
    d.stop = async (o) => {
        const r = await d.proc.stop(o);
        collect();
        return r;
    };
    d.kill = async () => {
        const r = await d.proc.kill();
        collect();
        return r;
    };
    // Same data dir, new process (a new port too). Stops the old one first if it still runs.
    d.restart = async ({ kill = false } = {}) => {
        if (d.proc && !d.proc.exited) await (kill ? d.kill() : d.stop());
        else if (d.proc) { d.proc.checkSanitizer(); collect(); }
        return launch();
    };
    Object.defineProperty(d, 'stderr', { get: () => d.proc.err });
    Object.defineProperty(d, 'output', { get: () => d.allOutput + (d.proc && collected !== d.proc ? d.proc.out : '') });
    await launch();
    return d;
}

// doorman serve pointed at tgsim's Bot API and data centres (tg from startTgsimDcs).
export async function startDoormanDcs({ tg, dataDir, env = {}, args = [], dbUrl } = {}) {
    return startDoorman({ tgsim: tg, dataDir, env, dbUrl, args: ['--mtproto-dcs', tg.dcsArg, '--mtproto-rsa', tg.pem, ...args] });
}

// The one-time setup token doorman prints at first start ("…/setup#token=XYZ").
export function setupTokenFrom(output) {
    const m = /\/setup#token=([A-Za-z0-9_\-]+)/.exec(output);
    return m ? m[1] : null;
}

// ---------------------------------------------------------------------------------------------
// doorman's other commands

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

// `doorman backup DIR --data dataDir [--db URL]` (dbUrl as in startDoorman), run without blocking
// the test's event loop (the doorman it copies from keeps writing to its pipes meanwhile).
// Resolves with {status, stdout, stderr}; a sanitizer report in its output rejects.
export function backupCli(dataDir, dir, { dbUrl, env = {}, timeoutMs = 120000 } = {}) {
    const db = dbUrl || dbUrlFor(dataDir);
    return new Promise((resolve, reject) => {
        const p = spawn(DOORMAN_BIN, ['backup', dir, '--data', dataDir, ...(db ? ['--db', db] : [])], {
            env: childEnv({ DOORMAN_SECRET_KEY: undefined, DOORMAN_DATABASE_URL: undefined, ...env }),
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '', stderr = '';
        p.stdout.on('data', (d) => { stdout += d; });
        p.stderr.on('data', (d) => { stderr += d; });
        const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
        p.on('close', (code, sig) => {
            clearTimeout(t);
            const rep = sanitizerReport(stdout + stderr);
            if (rep) reject(new Error(`doorman backup reported a sanitizer error:\n${rep}`));
            else resolve({ status: code ?? sig, stdout, stderr });
        });
    });
}

// `doorman demo` with a fresh data dir on a free port: resolves with {proc, url, login:{name,
// password}, tgsimUrl, account:{phone, apiId, apiHash, codeUrl, password}, unseen} once it printed
// its banner (account: the demo Telegram account for the Session Manager; unseen: how many
// requests only Telegram knows of; applicantsUrl: tgsim's page of what applicants see).
export async function startDemo({ dataDir } = {}) {
    const dir = dataDir || makeTempDir('doorman-demo-');
    const p = new Proc('doorman', DOORMAN_BIN, ['demo', '--data', dir, '--listen', '127.0.0.1:0'],
        { DOORMAN_POLL_TIMEOUT: '1', DOORMAN_SECRET_KEY: undefined, DOORMAN_DATA: undefined });
    const m = await p.waitOutput(/panel:\s+(http:\/\/\S+)\s+login:\s+(\S+) \/ (\S+)\s+tgsim:\s+(http:\/\/\S+)[^]*?phone:\s+(\+\d+)[^]*?API ID:\s+(\d+)\s+API hash:\s+([0-9a-f]{32})[^]*?code:\s+(http:\/\/\S+)[^]*?password:\s+(\S+)[^]*?(\d+) requests reached Telegram while the bot was down[^]*?what applicants see:\s+(http:\/\/\S+)/,
        { timeoutMs: 60000, what: 'the demo banner' });
    return {
        proc: p, url: m[1], login: { name: m[2], password: m[3] }, tgsimUrl: m[4], dataDir: dir,
        account: { phone: m[5], apiId: Number(m[6]), apiHash: m[7], codeUrl: m[8], password: m[9] },
        unseen: Number(m[10]), applicantsUrl: m[11],
    };
}
