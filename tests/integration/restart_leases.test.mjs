// A doorman started again on its data directory after kill -9 takes back what the one before held
// at once (its job, its session, the bot's polling), instead of waiting for the leases to run out;
// a second doorman on a data directory in use is refused with a message.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { DOORMAN_BIN, runToEnd, makeTempDir } from '../lib/processes.mjs';
import { startDoorman } from '../lib/doorman.mjs';
import { tgAddJoinRequests, tgJoinRequests } from '../lib/tgsim.mjs';
import { waitRecorded, waitJob, waitJobPart } from '../lib/api.mjs';
import { startStack, startSessionStack } from '../lib/stacks.mjs';
import { newUserSession } from '../lib/sessions.mjs';

const LONG = '300'; // seconds: the leases outlast every deadline below, so only taking them back passes

describe('starting again after kill -9', () => {
    const stacks = [];
    after(async () => { for (const s of stacks) await s.cleanup(); });

    test('a second doorman on the same data directory is refused, naming it', async () => {
        const s = await startStack({ world: { channels: 1, pending: 0 } });
        stacks.push(s);
        await assert.rejects(
            runToEnd(DOORMAN_BIN, ['serve', '--data', s.dm.dataDir, '--listen', '127.0.0.1:0'], { timeoutMs: 30000, what: 'a second doorman' }),
            (e) => /another doorman is running with the data directory/.test(e.message) && e.message.includes(s.dm.dataDir));
        assert.equal((await s.client.get('/api/health')).status, 200, 'the first one runs on');
        const name = readFileSync(path.join(s.dm.dataDir, 'instance'), 'utf8');
        assert.equal(name, `${name.slice(0, 32)} ${hostname()} ${realpathSync(s.dm.dataDir)}\n`);
        assert.match(name, /^[0-9a-f]{32} /);
        // a data directory copied from another machine, or another folder: its name is not kept
        const copy = makeTempDir('doorman-copied-');
        const foreign = `${'ab'.repeat(16)} ${hostname()} /somewhere/else\n`;
        writeFileSync(path.join(copy, 'instance'), foreign);
        const d = await startDoorman({ tgsim: s.tg, dataDir: copy });
        try {
            const mine = readFileSync(path.join(copy, 'instance'), 'utf8');
            assert.notEqual(mine.slice(0, 32), 'ab'.repeat(16), 'a fresh name on this machine');
            assert.equal(mine, `${mine.slice(0, 32)} ${hostname()} ${realpathSync(copy)}\n`);
        } finally {
            await d.stop();
        }
    });

    test('the job and the bot\'s polling go on at once, not after their leases', { timeout: 180000 }, async () => {
        const env = { DOORMAN_JOB_LEASE: LONG };
        const s = await startStack({ tgsimOpts: { latencyMs: 5 }, world: { channels: 1, pending: 0 }, doormanOpts: { env } });
        stacks.push(s);
        const chat = s.world.chats[0].id;
        await tgAddJoinRequests(s.tg, { chat_id: chat, count: 600 });
        await waitRecorded(s.client, 600, { timeoutMs: 60000 });
        assert.equal((await s.client.post('/api/settings', { bot_rate: 100 })).status, 200);
        const r = await s.client.post('/api/invite-requests/approve-all', {});
        assert.equal(r.status, 202, r.text);
        const id = r.json.job.id;
        await waitJobPart(s.client, id, 600, 0.1, { timeoutMs: 60000 });
        await s.dm.kill();
        await s.restart();
        // the lease of the job runs for 300 s: finishing well inside that means it was taken back
        const job = (await waitJob(s.client, id, { timeoutMs: 90000 })).job;
        assert.equal(job.state, 'done', JSON.stringify(job));
        assert.equal(job.done + job.skipped, 600);
        const twice = (await tgJoinRequests(s.tg, `chat_id=${chat}`)).filter((x) => x.decisions !== 1);
        assert.deepEqual(twice, [], 'each approved exactly once');
        // the bot polls again too: a new request is recorded (the poller's lease would hold 13 s)
        await tgAddJoinRequests(s.tg, { chat_id: chat, count: 1 });
        await waitRecorded(s.client, 601, { timeoutMs: 8000 });
    });

    test('a session in use when doorman died is usable at once after the start', { timeout: 120000 }, async () => {
        const s = await startSessionStack({ doormanEnv: { DOORMAN_JOB_LEASE: LONG } });
        stacks.push(s);
        await newUserSession(s.client, s.tg, { name: 'held' });
        const first = await s.client.post('/api/sessions/held/check', {});
        assert.equal(first.status, 200, first.text); // the session's client is open: its lease held
        await s.dm.kill();
        await s.restart();
        const again = await s.client.post('/api/sessions/held/check', {});
        assert.equal(again.status, 200, `not "in use by another doorman instance": ${again.text}`);
    });
});
