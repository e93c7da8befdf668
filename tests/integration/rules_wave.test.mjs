// A spam wave against the rules (issue 13, Proof): 2,000 requests through one invite link within
// a minute, mixed with 200 ordinary ones through ten other links. The channel's rules: a wave
// through one link (more than 50 in 5 minutes) is declined and banned; everyone else is approved
// after 15 s — so the first requests of the wave, which came before it was a wave, are caught
// when their delay is over. doorman is killed (-9) in the middle and started again. Checked in
// tgsim's records: every wave request declined once and its user banned, every ordinary one
// approved once and not banned, none decided twice. Runs on PostgreSQL too.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { addRequester, tgAddJoinRequests, tgBans, tgJoinRequests } from '../lib/tgsim.mjs';
import { counts } from '../lib/api.mjs';
import { waitFor } from '../lib/processes.mjs';
import { startStack } from '../lib/stacks.mjs';

const WAVE = 2000;
const ORDINARY = 200;
const WAVE_LINK = 'https://t.me/+SpamWave0001';

describe('a spam wave against the rules, with a kill -9 in the middle', () => {
    let s, chat;
    before(async () => {
        s = await startStack({ world: { channels: 1, pending: 0 } });
        chat = s.world.chatIds[0];
        const ok = async (p, body) => {
            const r = await s.client.post(p, body);
            assert.equal(r.status, 200, `${p}: ${r.text}`);
        };
        await ok('/api/settings', { bot_rate: 1000 });
        await ok('/api/rules', { chat_id: chat, name: 'wave through one link', conditions: [{ type: 'wave', count: 50, minutes: 5, per: 'link' }], action: 'decline_and_ban' });
        await ok('/api/rules', { chat_id: chat, name: 'everyone else, after a pause', conditions: [], action: 'approve_after', delay_seconds: 15 });
        await ok('/api/modes', { chat_id: chat, mode: 'rules' });
    });
    after(async () => { await s?.cleanup(); });

    test(`${WAVE} through one link and ${ORDINARY} ordinary: the wave declined and banned, the rest approved, each once`, { timeout: 300000 }, async () => {
        const ordinary = [];
        const addOrdinary = async (from, to) => {
            for (let i = from; i < to; i++) {
                ordinary.push((await addRequester(s.tg, chat, { first_name: `Reader${i}`, invite_link: `https://t.me/+Friends${i % 10}` })).user_id);
            }
        };
        await addOrdinary(0, ORDINARY / 2);
        const w = await tgAddJoinRequests(s.tg, { chat_id: chat, count: WAVE, first_name: 'Promo', invite_link: WAVE_LINK, spread_seconds: 60 });
        assert.equal(w.created, WAVE);
        const wave = new Set(Array.from({ length: WAVE }, (_, i) => w.first_user_id + i));
        await addOrdinary(ORDINARY / 2, ORDINARY);

        // kill -9 once a part of the wave is declined in tgsim
        await waitFor(async () => (await tgJoinRequests(s.tg, `chat_id=${chat}&status=declined`)).length >= 300, { timeoutMs: 120000, intervalMs: 100, what: '300 of the wave declined' });
        await s.restart({ kill: true });

        let items = [];
        await waitFor(async () => {
            items = await tgJoinRequests(s.tg, `chat_id=${chat}`);
            return items.length === WAVE + ORDINARY && items.every((r) => r.status !== 'pending');
        }, { timeoutMs: 180000, intervalMs: 250, what: 'every request decided in tgsim' });

        const twice = items.filter((r) => r.decisions !== 1);
        assert.deepEqual(twice.slice(0, 3), [], `${twice.length} requests decided other than once`);
        const waveWrong = items.filter((r) => wave.has(r.user_id) && r.status !== 'declined');
        assert.deepEqual(waveWrong.slice(0, 3), [], `${waveWrong.length} wave requests not declined`);
        const ordSet = new Set(ordinary);
        const ordWrong = items.filter((r) => ordSet.has(r.user_id) && r.status !== 'approved');
        assert.deepEqual(ordWrong.slice(0, 3), [], `${ordWrong.length} ordinary requests not approved`);
        assert.equal(items.filter((r) => r.approve_calls > 0 && wave.has(r.user_id)).length, 0, 'no wave request was ever approved');

        // bans: every wave user, no ordinary one
        let bans;
        await waitFor(async () => {
            bans = (await tgBans(s.tg, `chat_id=${chat}&banned=true`)).items;
            return bans.length >= WAVE;
        }, { timeoutMs: 60000, what: 'every wave user banned' });
        const banned = new Set(bans.map((b) => b.user_id));
        assert.equal([...wave].filter((u) => !banned.has(u)).length, 0, 'every wave user banned');
        assert.equal(ordinary.filter((u) => banned.has(u)).length, 0, 'no ordinary user banned');

        const c = await counts(s.client, { chat_id: String(chat) });
        assert.equal(c.declined, WAVE, JSON.stringify(c));
        assert.equal(c.approved, ORDINARY, JSON.stringify(c));
        assert.equal(c.pending, 0);
    });
});
