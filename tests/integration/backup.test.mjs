// `doorman backup DIR` while doorman serves (issue 16, item 6): on SQLite a copy taken during an
// Approve All passes `PRAGMA integrity_check`, has every request recorded before it began, the
// same secret.key and the session files (0600), and a second doorman started on it serves the
// list and opens the session with the copied key; on PostgreSQL it says to use pg_dump and still
// copies the key and the session files. A DIR that is not empty is refused.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, runPython, runToEnd } from '../lib/processes.mjs';
import { Client, listAll, counts, waitRecorded, waitJob } from '../lib/api.mjs';
import { startSessionStack, ADMIN } from '../lib/stacks.mjs';
import { newBotSession, sessionFiles, mode } from '../lib/sessions.mjs';
import { startDoormanDcs, backupCli, dbUrlFor, PG_URL } from '../lib/doorman.mjs';

const N = Number(process.env.BACKUP_TEST_REQUESTS || 3000);

// What Python's sqlite3 reads from the copy: integrity_check, every request id, the approved count.
const INSPECT = `
import json, sqlite3, sys
db = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
print(json.dumps({
    'integrity': [r[0] for r in db.execute('PRAGMA integrity_check')],
    'ids': [r[0] for r in db.execute('SELECT id FROM invite_requests ORDER BY id')],
    'approved': db.execute('SELECT count(*) FROM invite_requests WHERE status = 1').fetchone()[0],
}))
`;

// tgsim, doorman (ADMIN, a configured bot, the bot session 'keeper') for every test of the file.
let s;

function checkFilesCopied(dataDir, dir, sessionName) {
    assert.equal(mode(dir), 0o700, 'the backup folder is 0700');
    assert.deepEqual(readFileSync(path.join(dir, 'secret.key')), readFileSync(path.join(dataDir, 'secret.key')),
        'secret.key copied as it is');
    assert.equal(mode(path.join(dir, 'secret.key')), 0o600);
    const files = sessionFiles(dir);
    assert.deepEqual(files, sessionFiles(dataDir), 'every session file copied');
    assert.ok(files.includes(`${sessionName}.session`), files.join(' '));
    assert.equal(mode(path.join(dir, 'sessions')), 0o700);
    for (const f of files) {
        assert.equal(mode(path.join(dir, 'sessions', f)), 0o600, f);
        assert.deepEqual(readFileSync(path.join(dir, 'sessions', f)), readFileSync(path.join(dataDir, 'sessions', f)), f);
    }
}

// docs/operations.md, Restoring: a new data directory with the backup's files (their modes kept)
// and its sessions/.
function restoreFiles(dir, files) {
    const restored = makeTempDir('doorman-restored-');
    for (const f of files) writeFileSync(path.join(restored, f), readFileSync(path.join(dir, f)), { mode: 0o600 });
    mkdirSync(path.join(restored, 'sessions'), { mode: 0o700 });
    for (const f of sessionFiles(dir)) {
        writeFileSync(path.join(restored, 'sessions', f), readFileSync(path.join(dir, 'sessions', f)), { mode: 0o600 });
    }
    return restored;
}

// A second doorman on the restored data directory (and its database: dbUrlFor) lists every
// request of ids and opens the session file with the restored key.
async function checkRestored(restored, ids) {
    const dm2 = await startDoormanDcs({ tg: s.tg, dataDir: restored });
    try {
        const c2 = new Client(dm2);
        await c2.login(ADMIN.name, ADMIN.password);
        const listed = new Set((await listAll(c2, {})).map((x) => x.id));
        const missing = ids.filter((x) => !listed.has(x));
        assert.deepEqual(missing.slice(0, 5), [], `the restored doorman lacks ${missing.length} of ${ids.length} requests`);
        const ex = await c2.get('/api/sessions/keeper/export');
        assert.equal(ex.status, 200, `the restored key opens the restored session file: ${ex.text}`);
    } finally {
        await dm2.stop();
    }
}

describe('doorman backup', () => {
    before(async () => {
        // tgsim's latency keeps the Approve All running for several seconds, through the backup.
        s = await startSessionStack({ world: { channels: 2, pending: 0 }, configureBot: true, tgsimOpts: { latencyMs: 4 } });
        await newBotSession(s.client, s.tg, { name: 'keeper', username: 'keeper_bot' });
    });
    after(async () => { await s?.cleanup(); });

    test('a DIR that exists and is not empty is refused and left as it was', async () => {
        const dir = makeTempDir('backup-full-');
        writeFileSync(path.join(dir, 'other.txt'), 'mine');
        const r = await backupCli(s.dataDir, dir);
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /exists and is not empty: give a new or empty directory/);
        assert.deepEqual(readdirSync(dir), ['other.txt']);
        assert.equal(readFileSync(path.join(dir, 'other.txt'), 'utf8'), 'mine');
    });

    test('on PostgreSQL: says to use pg_dump, exits 1, still copies the key and the session files, which restore with a pg_dump', { skip: !PG_URL, timeout: 120000 }, async () => {
        await s.tg.control('POST', '/control/join-requests', { chat_id: s.world.chatIds[0], count: 50, first_name: 'Kept' });
        await waitRecorded(s.client, 50, { timeoutMs: 60000 });
        const dir = path.join(makeTempDir('backup-pg-'), 'copy');
        const r = await backupCli(s.dataDir, dir);
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stderr, /the database is on PostgreSQL, which doorman backup does not copy: back it up with pg_dump/);
        assert.equal(existsSync(path.join(dir, 'doorman.db')), false, 'no database file');
        checkFilesCopied(s.dataDir, dir, 'keeper');

        // docs/operations.md, Restoring (PostgreSQL): pg_dump, pg_restore into an empty database,
        // the key and the session files into a data directory, start.
        const dump = path.join(makeTempDir('pg-dump-'), 'doorman.dump');
        await runToEnd('pg_dump', ['-Fc', '-f', dump, '-d', dbUrlFor(s.dataDir)], { timeoutMs: 60000, what: 'pg_dump' });
        const restored = restoreFiles(dir, ['secret.key']);
        await runToEnd('pg_restore', ['--no-owner', '-d', dbUrlFor(restored), dump], { timeoutMs: 60000, what: 'pg_restore' });
        await checkRestored(restored, (await listAll(s.client, {})).map((x) => x.id));
    });

    test(`on SQLite: a copy taken during an Approve All of ${N} has every request and restores`, { skip: !!PG_URL, timeout: 300000 }, async (t) => {
        await s.tg.control('POST', '/control/join-requests', { chat_id: s.world.chatIds[0], count: N / 2, first_name: 'Bulk' });
        await s.tg.control('POST', '/control/join-requests', { chat_id: s.world.chatIds[1], count: N / 2, first_name: 'Bulk' });
        await waitRecorded(s.client, N, { timeoutMs: 120000 });
        const st = await s.client.post('/api/settings', { bot_rate: 1000 });
        assert.equal(st.status, 200, st.text);

        const r = await s.client.post('/api/invite-requests/approve-all', {});
        assert.equal(r.status, 202, r.text);
        const id = r.json.job.id;
        const recorded = (await listAll(s.client, {})).map((x) => x.id);
        assert.equal(recorded.length, N);
        const before = await counts(s.client);
        const jobBefore = (await s.client.ok(`/api/jobs/${id}`)).job;
        assert.notEqual(jobBefore.state, 'done', 'the job runs when the backup begins');

        const dir = path.join(makeTempDir('backup-'), 'copy');
        const b = await backupCli(s.dataDir, dir);
        assert.equal(b.status, 0, b.stdout + b.stderr);
        assert.match(b.stdout, /backup complete/);
        assert.match(b.stderr, /100% of the database copied/);
        const jobAfter = (await s.client.ok(`/api/jobs/${id}`)).job;
        const after = await counts(s.client);
        assert.ok(jobAfter.done < N, `the job still ran when the backup ended (done ${jobAfter.done} of ${N}): raise BACKUP_TEST_REQUESTS`);
        assert.ok(jobAfter.done > jobBefore.done, 'the job went on deciding during the backup');

        const copy = JSON.parse(await runPython(INSPECT, [path.join(dir, 'doorman.db')]));
        assert.deepEqual(copy.integrity, ['ok']);
        const inCopy = new Set(copy.ids);
        const lost = recorded.filter((x) => !inCopy.has(x));
        assert.deepEqual(lost.slice(0, 5), [], `${lost.length} requests recorded before the backup are missing`);
        assert.ok(copy.approved >= before.approved && copy.approved <= after.approved,
            `the copy is one moment of the job: ${before.approved} <= ${copy.approved} <= ${after.approved}`);
        assert.equal(mode(path.join(dir, 'doorman.db')), 0o600);
        t.diagnostic(`job done ${jobBefore.done} -> ${jobAfter.done} of ${N} during the backup; the copy has ` +
            `${copy.ids.length} requests, ${copy.approved} approved (API: ${before.approved} before, ${after.approved} after)`);
        checkFilesCopied(s.dataDir, dir, 'keeper');

        // The original finishes its job and stops; a second doorman on the restored copy serves.
        assert.equal((await waitJob(s.client, id, { timeoutMs: 240000 })).job.state, 'done');
        await s.dm.stop();
        await checkRestored(restoreFiles(dir, ['doorman.db', 'secret.key']), recorded);
    });
});
