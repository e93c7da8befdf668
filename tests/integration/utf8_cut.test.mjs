// Text cut in the middle of a character (issue 10, item 1). A channel titled 41 × 频 + "ab" and an
// Approve All with q = 42 × 频 make a job description longer than its field: it must be cut at a
// character boundary, and the job must be listed and shown like any other. A path that is not
// UTF-8 (GET /api/%ff) gets an error with a message, never an empty `{}`. tgsim takes titles,
// names and bios of Telegram's real lengths in characters (a 128-character title is 384 bytes of
// 频), and doorman shows them cut at a boundary at worst.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { addRequester, tgCreateChannel, tgCreateUser } from '../lib/tgsim.mjs';
import { waitRecorded, waitJob, listAll } from '../lib/api.mjs';
import { startStack } from '../lib/stacks.mjs';
import { dbUrlFor, psql } from '../lib/doorman.mjs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const PIN = '频';

// True when s has no U+FFFD and no lone surrogate (what a cut or replaced byte would leave).
const clean = (s) => typeof s === 'string' && !s.includes('\uFFFD') && s.isWellFormed();

describe('text cut at a character boundary', () => {
    let s, ch;
    before(async () => {
        s = await startStack({ world: { channels: 1, pending: 1 } });
        ch = await tgCreateChannel(s.tg, { title: PIN.repeat(41) + 'ab', username: 'utf8chan', botId: s.world.botId });
        await addRequester(s.tg, ch.id, { first_name: 'Req' });
        await waitRecorded(s.client, 2);
    });
    after(async () => { await s?.cleanup(); });

    test('Approve All with a long title and q: the job is created, listed and shown', async () => {
        const q = PIN.repeat(42);
        const r = await s.client.post('/api/invite-requests/approve-all', { filter: { chat_id: ch.id, q } });
        console.log(`POST approve-all -> ${r.status} ${r.text}`);
        const all = await s.client.get('/api/jobs');
        console.log(`GET /api/jobs -> ${all.status} ${all.text.slice(0, 600)}`);
        // The job's id from the answer; with the answer broken, job 1 (the first of this doorman).
        const id = r.json?.job?.id ?? 1;
        const one = await s.client.get(`/api/jobs/${id}`);
        console.log(`GET /api/jobs/${id} -> ${one.status} ${one.text}`);
        assert.equal(r.status, 202, r.text);
        assert.ok(r.json.job && r.json.job.id, `the answer holds the job: ${r.text}`);
        assert.equal(all.status, 200, all.text);
        assert.ok((all.json.items || []).some((j) => j.id === id), `job ${id} is listed: ${all.text}`);
        assert.equal(one.status, 200, one.text);
        assert.ok(one.json.job, `GET /api/jobs/${id} holds the job: ${one.text}`);
        const fin = (await waitJob(s.client, id)).job;
        const d = fin.description;
        assert.ok(clean(d), `description is clean text: ${JSON.stringify(d)}`);
        assert.ok(d.startsWith(`Approve all pending in ${PIN.repeat(41)}ab matching "${PIN}`), d);
        assert.equal(fin.state, 'done', JSON.stringify(fin));
    });

    test('GET /api/%ff answers an error with a message', async () => {
        const r = await s.client.get('/api/%ff');
        console.log(`GET /api/%ff -> ${r.status} ${r.text}`);
        assert.equal(r.status, 404, r.text);
        assert.ok(r.json?.error?.message, `an error message: ${r.text}`);
        // the byte that is not UTF-8 shows as U+FFFD in the message
        assert.match(r.json.error.message, /^No such endpoint: \/api\/\uFFFD$/, r.text);
    });

    test('tgsim takes titles, names and bios of Telegram lengths in characters', async () => {
        const title = PIN.repeat(128);
        const c2 = await tgCreateChannel(s.tg, { title, username: 'utf8long', botId: s.world.botId });
        assert.ok(c2.id, `tgsim took a 128-character title: ${JSON.stringify(c2)}`);
        const tooLong = await s.tg.controlRaw('POST', '/control/channels', { title: PIN.repeat(129), admins: [] });
        assert.equal(tooLong.status, 400, 'a 129-character title is refused');
        const u = await tgCreateUser(s.tg, { first_name: PIN.repeat(64), last_name: PIN.repeat(64), bio: PIN.repeat(70) });
        assert.ok(u.id, `tgsim took 64-character names and a 70-character bio: ${JSON.stringify(u)}`);
        const bad = await s.tg.controlRaw('POST', '/control/users', { first_name: PIN.repeat(65) });
        assert.equal(bad.status, 400, 'a 65-character first name is refused');
        await addRequester(s.tg, c2.id, { first_name: PIN.repeat(64), last_name: PIN.repeat(64), bio: PIN.repeat(70) });
        await waitRecorded(s.client, 3);
        const rows = (await listAll(s.client)).filter((x) => x.chat_id === c2.id);
        assert.equal(rows.length, 1);
        for (const k of ['first_name', 'last_name', 'bio', 'chat_title'])
            if (rows[0][k] !== undefined && rows[0][k] !== null) assert.ok(clean(rows[0][k]), `${k}: ${JSON.stringify(rows[0][k])}`);
        const chats = await s.client.get('/api/chats');
        assert.equal(chats.status, 200, chats.text);
        const t = (chats.json.items || []).find((x) => x.chat_id === c2.id)?.title;
        assert.equal(t, title, 'doorman keeps a 128-character title whole');
        assert.equal(rows[0].first_name, PIN.repeat(64));
        assert.equal(rows[0].bio, PIN.repeat(70));
        // Now the description cannot hold title and q: it is cut at a character boundary, and
        // the job is shown and listed like any other.
        const r = await s.client.post('/api/invite-requests/approve-all', { filter: { chat_id: c2.id, q: PIN.repeat(42) } });
        assert.equal(r.status, 202, r.text);
        const fin = (await waitJob(s.client, r.json.job.id)).job;
        const d = fin.description;
        console.log(`description of the cut job: ${Buffer.byteLength(d)} bytes, ${[...d].length} characters`);
        assert.ok(clean(d), `clean text: ${JSON.stringify(d)}`);
        assert.ok(d.startsWith(`Approve all pending in ${PIN.repeat(128)} matching "${PIN}`), d);
        assert.ok(Buffer.byteLength(d) <= 512 && !d.endsWith('"'), `cut: ${d}`);
        const all = await s.client.ok('/api/jobs');
        assert.ok(all.items.some((j) => j.id === fin.id && j.description === d), 'listed');
    });
});

// A store error that will not go away (here a trigger that refuses to mark an item done, as a
// PostgreSQL "invalid byte sequence" did) while recording an item's outcome: the item is failed
// with that reason instead, and the job ends, rather than the runner retrying it forever.
describe('a store error that will not go away while recording an outcome', () => {
    let s;
    before(async () => {
        s = await startStack({ world: { channels: 1, pending: 2 } });
        await waitRecorded(s.client, 2);
    });
    after(async () => { await s?.cleanup(); });

    function refuseDone(dataDir) {
        const url = dbUrlFor(dataDir);
        if (url) {
            psql(url, `CREATE FUNCTION refuse_done() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.outcome = 1 THEN RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; END $$;
                CREATE TRIGGER refuse_done BEFORE UPDATE ON job_items FOR EACH ROW EXECUTE FUNCTION refuse_done();`);
            return;
        }
        const r = spawnSync('sqlite3', [path.join(dataDir, 'doorman.db')], {
            // doorman may be writing (its listener, a fold): wait for the lock as doorman's own writes do
            input: ".timeout 10000\nCREATE TRIGGER refuse_done BEFORE UPDATE ON job_items WHEN NEW.outcome = 1 BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END;\n",
            encoding: 'utf8',
        });
        assert.equal(r.status, 0, r.stderr);
    }

    test('the item fails with the store\'s reason and the job ends', async () => {
        refuseDone(s.dm.dataDir);
        const rows = await listAll(s.client, { status: 'pending' });
        assert.equal(rows.length, 2);
        const r = await s.client.post('/api/invite-requests/approve', { request_ids: rows.map((x) => x.id) });
        assert.equal(r.status, 202, r.text);
        let last = null;
        let fin;
        try {
            fin = await waitJob(s.client, r.json.job.id, { timeoutMs: 15000, onPoll: (j) => { last = j; } });
        } finally {
            console.log(`job after the store refused: ${JSON.stringify(fin || { still: last })}`);
        }
        assert.equal(fin.job.state, 'done', JSON.stringify(fin));
        assert.deepEqual([fin.job.done, fin.job.failed], [0, 2], JSON.stringify(fin.job));
        assert.equal(fin.errors.length, 2, JSON.stringify(fin.errors));
        for (const e of fin.errors) assert.match(e.error, /^Could not record the outcome: .*refused by a test trigger/, JSON.stringify(e));
    });
});
