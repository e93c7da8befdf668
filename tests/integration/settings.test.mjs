// Settings: the bot token checked with getMe, never returned, encrypted at rest (issue 2, item 4).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../lib/processes.mjs';
import { dbUrlFor } from '../lib/doorman.mjs';
import { startStack } from '../lib/stacks.mjs';

// Every file under dir, recursively, as [path, Buffer].
function filesUnder(dir) {
    const out = [];
    for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) out.push(...filesUnder(p));
        else if (e.isFile()) out.push([p, readFileSync(p)]);
    }
    return out;
}

// The database doorman writes, as [name, Buffer]: on PostgreSQL a pg_dump of its data (bytea
// comes out hex-encoded, which the checks below look for too); on SQLite none (doorman.db is a
// file of the data dir).
function databaseDump(dataDir) {
    const url = dbUrlFor(dataDir);
    if (!url) return [];
    const r = spawnSync('pg_dump', ['--data-only', '--no-owner', '-d', url], { timeout: 60000, maxBuffer: 256 << 20 });
    assert.equal(r.status, 0, `pg_dump failed: ${r.stderr}`);
    assert.match(r.stdout.toString(), /COPY public\./, 'pg_dump printed the tables');
    return [[`pg_dump of ${url.replace(/\/\/[^@]*@/, '//')}`, r.stdout]];
}

describe('settings', () => {
    let s;
    before(async () => { s = await startStack({ configureBot: false, world: { channels: 1, pending: 0 } }); });
    after(async () => { await s?.cleanup(); });

    test('before a token: configured is false', async () => {
        const g = await s.client.ok('/api/settings');
        assert.equal(g.bot.configured, false);
        assert.ok(['polling', 'webhook'].includes(g.mode));
    });

    test('a token Telegram rejects gets 400 with Telegram\'s reason and changes nothing', async () => {
        const before = await s.client.ok('/api/settings');
        const bad = s.world.token.replace(/:.*/, ':AAwrongwrongwrongwrongwrongwrongwrong');
        const r = await s.client.post('/api/settings', { bot_token: bad });
        assert.equal(r.status, 400, r.text);
        assert.equal(r.json.error.code, 'bad_request');
        assert.match(r.json.error.message, /Unauthorized/, 'names Telegram\'s reason');
        assert.ok(!r.text.includes(bad), 'the rejected token is not echoed');
        assert.deepEqual(await s.client.ok('/api/settings'), before);
        assert.ok(!s.dm.output.includes(bad), 'the rejected token is not logged');
    });

    test('a good token is checked with getMe, stored, and the bot starts receiving', async () => {
        const r = await s.client.post('/api/settings', { bot_token: s.world.token });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.bot.configured, true);
        assert.equal(r.json.bot.id, s.world.botId);
        assert.equal(r.json.bot.username, s.world.bot.username);
        assert.ok(!r.text.includes(s.world.token), 'answer does not contain the token');
        await waitFor(async () => (await s.client.ok('/api/settings')).bot.receiving === true,
            { what: 'settings.bot.receiving to become true' });
    });

    test('GET never returns the token', async () => {
        const g = await s.client.get('/api/settings');
        assert.equal(g.status, 200);
        const secretPart = s.world.token.split(':')[1];
        assert.ok(!g.text.includes(s.world.token) && !g.text.includes(secretPart), g.text);
    });

    test('bot_rate and mode validation', async () => {
        const r = await s.client.post('/api/settings', { bot_rate: 7 });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.bot_rate, 7);
        assert.equal((await s.client.ok('/api/settings')).bot_rate, 7);
        const before = await s.client.ok('/api/settings');
        for (const body of [{ mode: 'carrier-pigeon' }, { bot_rate: 'fast' }, { bot_token: 12345 }, { mode: 'webhook', webhook_url: 'not a url' }]) {
            const b = await s.client.post('/api/settings', body);
            assert.equal(b.status, 400, `${JSON.stringify(body)} -> ${b.status} ${b.text}`);
            assert.equal(b.json.error.code, 'bad_request');
        }
        const after = await s.client.ok('/api/settings');
        delete before.bot.last_update_at; delete after.bot.last_update_at;
        assert.deepEqual(after, before, 'refused settings changed nothing');
    });

    test('the token is not in plain text in any file of the data dir nor in the database, nor in doorman\'s output', async () => {
        const secretPart = s.world.token.split(':')[1];
        const files = filesUnder(s.dm.dataDir);
        const dump = databaseDump(s.dm.dataDir);
        if (!dump.length) assert.ok(files.some(([p]) => /doorman\.db$/.test(p)), `database file exists: ${files.map(([p]) => p)}`);
        for (const [p, bytes] of [...files, ...dump]) {
            assert.equal(bytes.indexOf(secretPart), -1, `token found in plain text in ${p}`);
            assert.equal(bytes.indexOf(Buffer.from(secretPart).toString('base64')), -1, `token found base64-encoded in ${p}`);
            assert.equal(bytes.indexOf(Buffer.from(secretPart).toString('hex')), -1, `token found hex-encoded in ${p}`);
        }
        assert.ok(!s.dm.output.includes(secretPart), 'token not in doorman output');
        const key = path.join(s.dm.dataDir, 'secret.key');
        const st = statSync(key);
        assert.equal(st.mode & 0o777, 0o600, `secret.key mode ${(st.mode & 0o777).toString(8)}`);
    });

    test('after a restart the stored token still works (decrypted with data/secret.key)', async () => {
        await s.dm.restart();
        const me = await s.client.get('/api/me');
        assert.equal(me.status, 200, `the session survives a restart (sessions are stored): ${me.text}`);
        const g = await waitFor(async () => {
            const j = await s.client.ok('/api/settings');
            return j.bot.configured && j.bot.receiving ? j : null;
        }, { what: 'bot configured and receiving after restart' });
        assert.equal(g.bot.id, s.world.botId);
        assert.equal(g.bot_rate, 7);
        assert.ok(!s.dm.output.includes(s.world.token.split(':')[1]), 'token not in doorman output after restart');
    });
});
