// PostgreSQL operations (issue 6, items 3 and 4): doorman survives its database server going away
// (503 "unavailable" while it is down, the running job and the poller resume, nothing lost), and
// `doorman migrate` moves a SQLite installation to PostgreSQL, verified, refusing a second run and
// never printing the URL's password. Needs DOORMAN_TEST_PG_URL (scripts/test.sh sets it in its
// PostgreSQL run). The outage test stops a cluster of its own, never the shared one.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOORMAN_BIN, makeTempDir, waitFor } from '../lib/processes.mjs';
import { addRequester, tgAddJoinRequests, tgRequestMap } from '../lib/tgsim.mjs';
import { PG_URL, psql, startDoorman } from '../lib/doorman.mjs';
import { Client, waitRecorded, waitJob, decide, counts, listAll } from '../lib/api.mjs';
import { startStack, ADMIN } from '../lib/stacks.mjs';

const SKIP = PG_URL ? false : 'needs DOORMAN_TEST_PG_URL (PostgreSQL)';
const PG_SH = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'pg.sh');

// ---------------------------------------------------------------------------------------------
// A cluster of our own, made by scripts/pg.sh, that can be stopped and started again in place.

function pgBindir() {
    const r = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
    if (r.status === 0 && existsSync(path.join(r.stdout.trim(), 'pg_ctl'))) return r.stdout.trim();
    const base = '/usr/lib/postgresql';
    const vs = readdirSync(base).filter((v) => existsSync(path.join(base, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(a) - Number(b));
    if (!vs.length) throw new Error('pg_ctl not found');
    return path.join(base, vs[vs.length - 1], 'bin');
}

// Runs argv as the cluster's owner, as scripts/pg.sh does (doorman-test when we are root).
function asOwner(argv) {
    const full = process.getuid() === 0 ? ['runuser', '-u', 'doorman-test', '--', ...argv] : argv;
    const r = spawnSync(full[0], full.slice(1), { encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.error}): ${r.stderr}`);
    return r.stdout;
}

function clusterStart() {
    const dir = mkdtempSync(path.join(tmpdir(), 'doorman-pgops-'));
    const r = spawnSync('bash', [PG_SH, 'start', dir], { encoding: 'utf8', timeout: 120000 });
    if (r.status !== 0) throw new Error(`pg.sh start failed (${r.status}): ${r.stderr}`);
    const url = r.stdout.trim();
    const port = new URL(url).port;
    const bin = pgBindir();
    const data = path.join(dir, 'data');
    return {
        dir, url,
        // Stops the server, keeping the cluster (fast: open connections are cut).
        stop: () => asOwner([path.join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']),
        // Starts it again with the options pg.sh used, on the same port.
        start: () => asOwner([path.join(bin, 'pg_ctl'), '-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', 'start',
            '-o', `-c listen_addresses=127.0.0.1 -c unix_socket_directories='${dir}' -c fsync=off ` +
            `-c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -p ${port}`]),
        remove: () => {
            const s = spawnSync('bash', [PG_SH, 'stop', dir], { encoding: 'utf8', timeout: 60000 });
            if (s.status !== 0) throw new Error(`pg.sh stop failed (${s.status}): ${s.stderr}`);
        },
    };
}

describe('PostgreSQL outage', { skip: SKIP }, () => {
    let cluster, s;
    after(async () => {
        const errs = [];
        for (const f of [() => s?.cleanup(), () => cluster?.remove()]) {
            try { await f(); } catch (e) { errs.push(e); }
        }
        if (errs.length) throw errs[0];
    });

    test('503 unavailable while the server is down; the job and the poller resume; nothing lost', { timeout: 240000 }, async () => {
        const N = 150;
        cluster = clusterStart();
        s = await startStack({ tgsimOpts: { latencyMs: 5 }, world: { channels: 1 }, doormanOpts: { dbUrl: cluster.url } });
        const chat = s.world.chatIds[0];
        await tgAddJoinRequests(s.tg, { chat_id: chat, count: N, first_name: 'Before' });
        await waitRecorded(s.client, N, { timeoutMs: 60000 });
        // 150 at 20 per second: the job runs for several seconds, across the outage.
        const st = await s.client.post('/api/settings', { bot_rate: 20 });
        assert.equal(st.status, 200, st.text);

        const job = await decide(s.client, 'approve-all', {}, { wait: false });
        assert.equal(job.total, N);
        await waitFor(async () => (await s.client.ok(`/api/jobs/${job.id}`)).job.done > 0,
            { timeoutMs: 30000, intervalMs: 20, what: 'the job to start' });

        cluster.stop();
        const down = await waitFor(async () => {
            const r = await s.client.get('/api/invite-requests?limit=1');
            return r.status === 503 ? r : null;
        }, { timeoutMs: 15000, intervalMs: 100, what: 'GET /api/invite-requests to answer 503' });
        assert.equal(down.json?.error?.code, 'unavailable', down.text);
        assert.doesNotMatch(down.text, /postgres@/, 'the message names host:port/db only');
        const mid = await tgRequestMap(s.tg);
        assert.ok([...mid.values()].some((r) => r.status === 'pending'), 'the job was interrupted mid-way');

        const late = [];
        for (let i = 0; i < 3; i++) late.push(await addRequester(s.tg, chat, { first_name: `During${i}` }));
        // Still down after the new requests were made.
        assert.equal((await s.client.get('/api/invite-requests?limit=1')).status, 503);

        cluster.start();
        await waitFor(async () => (await s.client.get('/api/invite-requests?limit=1')).status === 200,
            { timeoutMs: 30000, intervalMs: 100, what: 'the API to answer 200 again' });
        const fin = (await waitJob(s.client, job.id, { timeoutMs: 90000 })).job;
        assert.equal(fin.state, 'done', JSON.stringify(fin));

        const tg = await tgRequestMap(s.tg);
        const lateKeys = new Set(late.map((u) => `${u.chat_id}/${u.user_id}`));
        let decided = 0;
        for (const [k, r] of tg) {
            if (lateKeys.has(k)) continue;
            assert.equal(r.status, 'approved', `tgsim status of ${k}`);
            assert.equal(r.decisions, 1, `tgsim decisions of ${k}`);
            decided++;
        }
        assert.equal(decided, N, 'every request of the job decided');

        const c = await waitRecorded(s.client, N + 3, { timeoutMs: 30000 });
        assert.equal(c.total, N + 3);
        const pending = await listAll(s.client, { status: 'pending' });
        assert.deepEqual(pending.map((r) => `${r.chat_id}/${r.user_id}`).sort(), [...lateKeys].sort(),
            'the requests made during the outage are recorded, pending');
        for (const k of lateKeys) assert.equal(tg.get(k).status, 'pending', `${k} untouched in tgsim`);
    });
});

describe('doorman migrate sqlite -> postgresql', { skip: SKIP }, () => {
    let s, pgDm, dbName;
    after(async () => {
        const errs = [];
        for (const f of [() => pgDm?.stop(), () => s?.cleanup(),
            () => dbName && psql(PG_URL, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)]) {
            try { await f(); } catch (e) { errs.push(e); }
        }
        if (errs.length) throw errs[0];
    });

    test('copies an installation, verified; the copy serves the same data; a second run is refused; no password printed', { timeout: 240000 }, async () => {
        const N = 300;
        const dataDir = makeTempDir('doorman-migrate-');
        const sqlite = `sqlite:${path.join(dataDir, 'doorman.db')}`;
        s = await startStack({ tgsimOpts: { latencyMs: 1 }, world: { channels: 2 }, doormanOpts: { dataDir, dbUrl: sqlite } });
        for (const chat of s.world.chatIds) await tgAddJoinRequests(s.tg, { chat_id: chat, count: N / 2, first_name: 'Mig' });
        await waitRecorded(s.client, N, { timeoutMs: 60000 });
        assert.equal((await s.client.post('/api/settings', { bot_rate: 1000 })).status, 200);
        const all = await listAll(s.client, {});
        const ids = all.slice(0, 40).map((r) => r.id);
        const j1 = await decide(s.client, 'approve', { request_ids: ids.slice(0, 25) }, { timeoutMs: 60000 });
        const j2 = await decide(s.client, 'deny', { request_ids: ids.slice(25) }, { timeoutMs: 60000 });
        assert.equal(j1.state, 'done');
        assert.equal(j2.state, 'done');
        const before = await counts(s.client);
        assert.deepEqual([before.approved, before.declined, before.pending, before.total], [25, 15, N - 40, N]);
        const jobsBefore = (await s.client.ok('/api/jobs?limit=500')).items;
        const reqsBefore = all.map((r) => r.id).sort((a, b) => a - b);
        // rules, a list and modes (migration 7) move too
        const ruleBody = { chat_id: s.world.chatIds[0], name: 'Mig', conditions: [{ type: 'in_list', list: 'mig' }], action: 'hold' };
        assert.equal((await s.client.post('/api/rule-lists/mig', { text: 'id\n5\n@Some_One\n' })).status, 200);
        for (const r of [ruleBody, { ...ruleBody, name: 'Second' }, { name: 'Global', conditions: [], action: 'decline' }]) {
            assert.equal((await s.client.post('/api/rules', r)).status, 200);
        }
        assert.equal((await s.client.post('/api/modes', { chat_id: 0, mode: 'approve_all', per_hour: 30 })).status, 200);
        const rulesState = async (c) => ({
            channel: (await c.ok(`/api/rules?chat_id=${s.world.chatIds[0]}`)).rules,
            global: (await c.ok('/api/rules')).rules,
            list: await c.ok('/api/rule-lists/mig'),
            modes: await c.ok('/api/modes'),
        });
        const rulesBefore = await rulesState(s.client);
        // roles, granted channels and API tokens (migration 9) move too
        const inv = await s.client.post('/api/admins/invite', { role: 'viewer', channels: [s.world.chatIds[0]] });
        const joined = await new Client(s.dm).post('/api/invite', { token: inv.json.link.split('#token=')[1], name: 'mig_viewer', password: 'viewer password 1' });
        assert.equal(joined.status, 200, joined.text);
        const tok = (await s.client.post('/api/tokens', { name: 'mig', role: 'viewer', channels: [s.world.chatIds[0]] })).json.token;
        const adminsBefore = (await s.client.ok('/api/admins')).items;
        await s.dm.stop();

        dbName = `doorman_pgops_${process.pid}`;
        psql(PG_URL, `CREATE DATABASE ${dbName}`);
        const u = new URL(PG_URL);
        u.pathname = '/' + dbName;
        // The shared test server trusts loopback, so a password in the URL is accepted and unused;
        // if its URL has one, keep it.
        const password = u.password || 'pgopsSecretPw42';
        u.password = password;
        const target = u.toString();

        const migrate = () => spawnSync(DOORMAN_BIN, ['migrate', '--from', sqlite, '--to', target], {
            encoding: 'utf8', timeout: 120000,
            env: Object.fromEntries(Object.entries(process.env)
                .filter(([k]) => k !== 'DOORMAN_DATABASE_URL' && k !== 'DOORMAN_SECRET_KEY')),
        });
        const m = migrate();
        const out = (m.stdout || '') + (m.stderr || '');
        assert.equal(m.status, 0, out);
        const lines = out.split('\n').filter((l) => /\brows\b.*sha256/.test(l));
        assert.ok(lines.length >= 5, `per-table lines:\n${out}`);
        for (const l of lines) assert.match(l, /\bok\s*$/, `table line says ok: ${l}`);
        for (const t of ['admins', 'invite_requests', 'jobs']) {
            assert.ok(lines.some((l) => l.trim().startsWith(t + ' ')), `a line for ${t}:\n${out}`);
        }
        assert.match(lines.find((l) => l.trim().startsWith('invite_requests ')), new RegExp(`\\b${N} rows\\b`));
        assert.match(out, /migrated: every table verified/);
        assert.ok(!out.includes(password), 'the password is never printed');
        assert.ok(!out.includes(`${u.username}:`), 'the URL userinfo is never printed');

        pgDm = await startDoorman({ tgsim: s.tg, dataDir, dbUrl: target });
        const c = new Client(pgDm);
        await c.login(ADMIN.name, ADMIN.password);
        assert.deepEqual(await counts(c), before, 'counts per status');
        assert.deepEqual((await listAll(c, {})).map((r) => r.id).sort((a, b) => a - b), reqsBefore, 'the same requests');
        const jobsAfter = (await c.ok('/api/jobs?limit=500')).items;
        assert.deepEqual(jobsAfter, jobsBefore, 'the job list');
        assert.deepEqual(await rulesState(c), rulesBefore, 'rules, lists and modes');
        assert.deepEqual((await c.ok('/api/admins')).items, adminsBefore, 'admins, roles and channels');
        const scoped = await fetch(pgDm.url + '/api/invite-requests?limit=500', { headers: { authorization: `Bearer ${tok.token}` } }).then((r) => r.json());
        assert.ok(scoped.items.length > 0 && scoped.items.every((r) => r.chat_id === s.world.chatIds[0]), 'the token works, in its channel');
        const tok2 = await c.post('/api/tokens', { name: 'mig2', role: 'owner' });
        assert.equal(tok2.json.token.id, tok.id + 1, 'the tokens id sequence goes on');
        const next = await c.post('/api/rules', ruleBody);
        assert.equal(next.status, 200, next.text);
        assert.equal(next.json.rule.id, Math.max(...rulesBefore.channel.map((r) => r.id), ...rulesBefore.global.map((r) => r.id)) + 1, 'the rules id sequence goes on');
        // The sealed bot token still opens with the same secret.key: configured, and it polls.
        const st = await waitFor(async () => {
            const j = await c.ok('/api/settings');
            return j.bot.configured && j.bot.receiving ? j : null;
        }, { timeoutMs: 20000, what: 'the bot configured and receiving' });
        assert.equal(st.bot.id, s.world.botId);
        await tgAddJoinRequests(s.tg, { chat_id: s.world.chatIds[0], count: 2, first_name: 'After' });
        await waitRecorded(c, N + 2, { timeoutMs: 20000 });

        const again = migrate();
        const out2 = (again.stdout || '') + (again.stderr || '');
        assert.equal(again.status, 1, out2);
        assert.match(out2, /already holds data/, 'a clear refusal');
        assert.ok(!out2.includes(password), 'the password is never printed on refusal');
        assert.ok(!out2.includes(`${u.username}:`), 'the URL userinfo is never printed on refusal');
        assert.ok(!pgDm.output.includes(password), 'doorman serve does not print the password');
    });
});
