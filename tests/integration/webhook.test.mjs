// Webhook mode: tgsim delivers updates to POST /telegram/webhook with the secret header; a wrong
// or missing secret gets 401 and records nothing (issue 2, item 4).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { addRequester } from '../lib/tgsim.mjs';
import { listAll, counts, waitRecorded } from '../lib/api.mjs';
import { startStack } from '../lib/stacks.mjs';

describe('webhook mode', () => {
    let s;
    before(async () => {
        s = await startStack({ world: { channels: 1, pending: 2 } });
        await waitRecorded(s.client, 2);
    });
    after(async () => { await s?.cleanup(); });

    test('switching to webhook registers doorman\'s URL with a secret, and deliveries are recorded', async () => {
        const hook = `${s.dm.url}/telegram/webhook`;
        const r = await s.client.post('/api/settings', { mode: 'webhook', webhook_url: hook });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.mode, 'webhook');
        assert.equal(r.json.webhook_url, hook);
        const info = await waitFor(async () => {
            const i = await s.tg.botApi(s.world.token, 'getWebhookInfo');
            return i.json.ok && i.json.result.url === hook ? i.json.result : null;
        }, { what: 'tgsim getWebhookInfo to show doorman\'s URL' });
        assert.equal(info.url, hook);
        // Polling now conflicts, as on the real server.
        const gu = await s.tg.botApi(s.world.token, 'getUpdates', { timeout: 0 });
        assert.equal(gu.status, 409, 'getUpdates is refused while a webhook is set');

        const u = await addRequester(s.tg, s.world.chatIds[0], { first_name: 'Hooked', username: 'hooked_user', bio: 'via webhook' });
        await waitFor(async () => (await listAll(s.client)).find((x) => x.user_id === u.user_id),
            { what: 'the webhook-delivered request to be recorded' });
        const row = (await listAll(s.client)).find((x) => x.user_id === u.user_id);
        assert.equal(row.first_name, 'Hooked');
        assert.equal(row.bio, 'via webhook');
        assert.equal(row.status, 'pending');
        await waitFor(async () => (await s.client.ok('/api/settings')).bot.receiving, { what: 'receiving in webhook mode' });
    });

    test('a wrong or missing secret header gets 401 and records nothing', async () => {
        const c0 = await counts(s.client);
        const update = {
            update_id: 999999,
            chat_join_request: {
                chat: { id: s.world.chatIds[0], title: 'Channel 1', type: 'channel' },
                from: { id: 777000111, is_bot: false, first_name: 'Forged' },
                user_chat_id: 777000111,
                date: Math.floor(Date.now() / 1000),
            },
        };
        for (const secret of ['wrong-secret', '', null]) {
            const headers = { 'content-type': 'application/json' };
            if (secret !== null) headers['x-telegram-bot-api-secret-token'] = secret;
            const r = await fetch(`${s.dm.url}/telegram/webhook`, { method: 'POST', headers, body: JSON.stringify(update) });
            assert.equal(r.status, 401, `secret ${JSON.stringify(secret)} -> ${r.status}`);
            assert.equal((await r.json()).error.code, 'unauthorized');
        }
        // A real delivery after the forged ones is recorded; the forged one never is.
        const u = await addRequester(s.tg, s.world.chatIds[0], { first_name: 'Genuine' });
        await waitFor(async () => (await listAll(s.client)).some((x) => x.user_id === u.user_id), { what: 'the genuine request' });
        const items = await listAll(s.client);
        assert.ok(!items.some((x) => x.user_id === 777000111), 'the forged request was not recorded');
        assert.equal((await counts(s.client)).total, c0.total + 1);
    });

    test('back to polling removes the webhook and receives again', async () => {
        const r = await s.client.post('/api/settings', { mode: 'polling' });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.mode, 'polling');
        await waitFor(async () => {
            const i = await s.tg.botApi(s.world.token, 'getWebhookInfo');
            return i.json.ok && i.json.result.url === '';
        }, { what: 'the webhook to be deleted in tgsim' });
        const u = await addRequester(s.tg, s.world.chatIds[0], { first_name: 'Polled' });
        await waitFor(async () => (await listAll(s.client)).some((x) => x.user_id === u.user_id), { what: 'the polled request' });
        const items = await listAll(s.client);
        assert.equal(new Set(items.map((x) => `${x.chat_id}/${x.user_id}`)).size, items.length, 'no duplicates across mode switches');
    });
});
