// Rules, lists, modes and the dry run through the API (issue 13, first slice): requests fed by
// tgsim's Bot API carry what rules look at (premium, language code); a rule set being edited is
// tried on a channel's pending requests without deciding any; bad rules are refused naming the
// field and change nothing. Runs on PostgreSQL too with DOORMAN_TEST_PG_URL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { addRequester, tgJoinRequests } from '../lib/tgsim.mjs';
import { listAll, waitRecorded } from '../lib/api.mjs';
import { startStack } from '../lib/stacks.mjs';

const HOSTILE = '<img src=x onerror=alert(1)>';
const WAVE_LINK = 'https://t.me/+WaveLink';

describe('rules API and dry run', () => {
    let s, chat, other;
    const users = {};
    before(async () => {
        s = await startStack({ world: { channels: 2, pending: 0 } });
        [chat, other] = s.world.chatIds;
        const add = async (key, f) => { users[key] = await addRequester(s.tg, chat, f); };
        await add('premium', { first_name: 'Pavel', username: 'pavel_p', is_premium: true, language_code: 'ru', bio: 'fan of cats' });
        await add('linker', { first_name: 'Linda', username: 'linda_l', bio: 'Earn now: https://spam.example.com/x' });
        await add('han', { first_name: '张伟', language_code: 'zh-hans' });
        await add('hostile', { first_name: HOSTILE, last_name: '"><script>alert(2)</script>', bio: 'write to @spammer_bot now' });
        await add('vip', { first_name: 'Ann', last_name: 'Lee', username: 'Ann_Lee', language_code: 'en' });
        await add('casino', { first_name: 'Free CASINO bonus', username: 'bonus_x' });
        for (let i = 0; i < 12; i++) await add(`wave${i}`, { first_name: `Wave${i}`, username: `wave_user_${i}`, invite_link: WAVE_LINK });
        await addRequester(s.tg, other, { first_name: 'Elsewhere' });
        await waitRecorded(s.client, 19);
    });
    after(async () => { await s?.cleanup(); });

    const post = (p, body) => s.client.post(p, body);
    async function ok(p, body) {
        const r = await post(p, body);
        assert.equal(r.status, 200, `${p}: ${r.text}`);
        return r.json;
    }
    async function refused(p, body, field) {
        const r = await post(p, body);
        assert.equal(r.status, 400, `${p} ${JSON.stringify(body)} -> ${r.status} ${r.text}`);
        assert.equal(r.json.error.code, 'bad_request');
        assert.match(r.json.error.message, field, `message names ${field}: ${r.json.error.message}`);
        return r.json;
    }

    test('requests carry the premium flag and language code Telegram sends', async () => {
        const items = await listAll(s.client, { chat_id: String(chat) });
        const byUser = new Map(items.map((r) => [r.user_id, r]));
        const p = byUser.get(users.premium.user_id);
        assert.equal(p.is_premium, true);
        assert.equal(p.language_code, 'ru');
        const h = byUser.get(users.han.user_id);
        assert.equal(h.is_premium, false);
        assert.equal(h.language_code, 'zh-hans');
        assert.equal(byUser.get(users.linker.user_id).language_code, '');
    });

    test('lists: written from entries and from a CSV file, read back, bad lines refused', async () => {
        const csv = 'user_id;name\n' + `${users.casino.user_id};bonus\n"@ANN_LEE";Ann\n\n  777 ,x\n`;
        const w = await ok('/api/rule-lists/vip', { text: csv });
        assert.equal(w.list.entries, 3);
        await refused('/api/rule-lists/vip', { text: '1\nnot a name!\n' }, /line 2/);
        await refused('/api/rule-lists/vip', { text: `1\n2\n${'x'.repeat(300)}\n` }, /line 3/);
        await refused('/api/rule-lists/vip', { entries: [12, 'x y'] }, /entries\[1\]/);
        await refused('/api/rule-lists/vip', { entries: [], color: 'red' }, /color/);
        const l = await s.client.ok('/api/rule-lists/vip');
        assert.deepEqual(l.items.sort(), [String(users.casino.user_id), '777', '@ann_lee'].sort(), 'the bad writes changed nothing');
        await ok('/api/rule-lists/vip', { entries: [777], replace: true });
        assert.deepEqual((await s.client.ok('/api/rule-lists/vip')).items, ['777']);
        await ok('/api/rule-lists/vip', { entries: ['@Ann_Lee'], replace: true });
        const all = await s.client.ok('/api/rule-lists');
        assert.deepEqual(all.lists.map((x) => [x.name, x.entries]), [['vip', 1]]);
        await ok('/api/rule-lists/temp', { entries: [1] });
        await ok('/api/rule-lists/temp/delete');
        assert.equal((await s.client.get('/api/rule-lists/temp')).status, 404);
    });

    test('bad rules get a 400 naming the field, and nothing is saved', async () => {
        const cases = [
            [{ conditions: [{ type: 'name_matches', regex: '(unclosed' }], action: 'decline' }, /conditions\[0\]\.regex/],
            [{ conditions: [{ type: 'shoe_size' }], action: 'decline' }, /conditions\[0\]\.type.*shoe_size/],
            [{ conditions: [{ type: 'wave', count: 'many', minutes: 5, per: 'link' }], action: 'decline' }, /conditions\[0\]\.count/],
            [{ conditions: [{ type: 'is_premium', colour: 1 }], action: 'approve' }, /conditions\[0\]\.colour/],
            [{ conditions: [{ type: 'is_premium', negate: 'yes' }], action: 'approve' }, /negate/],
            [{ conditions: [{ type: 'name_script', script: 'Klingon' }], action: 'hold' }, /script/],
            [{ conditions: [{ type: 'in_list', list: 'nope' }], action: 'hold' }, /list.*nope/],
            [{ conditions: [], action: 'explode' }, /action/],
            [{ conditions: [], action: 'approve_after' }, /delay_seconds/],
            [{ conditions: [], action: 'approve', delay_seconds: 30 }, /delay_seconds/],
            [{ conditions: [], action: 'approve', priority: 1 }, /priority/],
            [{ conditions: {}, action: 'approve' }, /conditions/],
        ];
        for (const [rule, field] of cases) {
            await refused('/api/rules', { chat_id: chat, ...rule }, field);
            await refused('/api/rules/dry-run', { chat_id: chat, rules: [{ conditions: [], action: 'hold' }, rule] }, new RegExp('rules\\[1\\]'));
        }
        assert.deepEqual((await s.client.ok(`/api/rules?chat_id=${chat}`)).rules, []);
        assert.deepEqual((await s.client.ok('/api/rules')).rules, []);
    });

    test('a hostile regular expression is bounded: the dry run answers, the rule matches nobody', async () => {
        const r = await ok('/api/rules/dry-run', {
            chat_id: chat, rules: [{ conditions: [{ type: 'name_matches', regex: '^(\\w+\\s?)*$' }], action: 'decline' }],
            global_rules: [],
        });
        assert.equal(r.pending, 18);
        assert.ok(r.took_ms < 5000, `took ${r.took_ms} ms`);
    });

    test('the dry run: counts per action, examples with the rule that matched, hostile names as data', async () => {
        const before = await tgJoinRequests(s.tg);
        const rules = [
            { name: 'wave', conditions: [{ type: 'wave', count: 10, minutes: 5, per: 'link' }], action: 'decline_and_ban' },
            { name: 'links', conditions: [{ type: 'bio_has_link' }], action: 'decline' },
            { name: 'han', conditions: [{ type: 'name_script', script: 'Han' }], action: 'hold' },
            { name: 'mention', conditions: [{ type: 'bio_has_mention' }], action: 'decline' },
            { name: 'vip', conditions: [{ type: 'in_list', list: 'vip' }], action: 'approve' },
            { name: 'premium ru', conditions: [{ type: 'is_premium' }, { type: 'language_code', in: ['RU', 'uk'] }], action: 'approve_after', delay_seconds: 60 },
            { name: 'off', enabled: false, conditions: [], action: 'decline' },
            { name: 'casino', conditions: [{ type: 'name_matches', words: ['casino', 'ставки'] }], action: 'decline_and_ban' },
            { name: 'not wave link', conditions: [{ type: 'invite_link', link: WAVE_LINK, negate: true }, { type: 'has_username' }], action: 'approve' },
        ];
        const r = await ok('/api/rules/dry-run', { chat_id: chat, rules, global_rules: [] });
        assert.equal(r.pending, 18);
        assert.deepEqual(r.counts, { approve: 1, decline: 2, decline_and_ban: 3, hold: 1, approve_after: 1, verify: 0, no_match: 10 });
        const ids = (k) => r.examples[k].map((x) => x.user_id).sort();
        assert.deepEqual(ids('decline_and_ban'), [users.casino.user_id, users.wave10.user_id, users.wave11.user_id].sort());
        assert.deepEqual(ids('decline'), [users.linker.user_id, users.hostile.user_id].sort());
        assert.deepEqual(ids('hold'), [users.han.user_id]);
        assert.deepEqual(ids('approve'), [users.vip.user_id]);
        assert.deepEqual(ids('approve_after'), [users.premium.user_id]);
        assert.equal(r.examples.no_match.length, 10);
        const h = r.examples.decline.find((x) => x.user_id === users.hostile.user_id);
        assert.equal(h.first_name, HOSTILE, 'names come back as the data they are');
        assert.equal(h.last_name, '"><script>alert(2)</script>');
        assert.equal(h.rule_name, 'mention');
        assert.equal(h.rule_index, 3);
        assert.equal(r.examples.no_match[0].rule_name, null);
        // decided nothing: doorman and Telegram as before
        const items = await listAll(s.client, { chat_id: String(chat) });
        assert.ok(items.every((x) => x.status === 'pending'));
        assert.deepEqual(await tgJoinRequests(s.tg), before);
    });

    test('rules CRUD: create, order, enable and disable, update, delete; dry run of the saved set', async () => {
        const a = (await ok('/api/rules', { chat_id: chat, name: 'vip first', conditions: [{ type: 'in_list', list: 'vip' }], action: 'approve' })).rule;
        const b = (await ok('/api/rules', { chat_id: chat, name: 'premium', conditions: [{ type: 'is_premium' }], action: 'hold' })).rule;
        const g = (await ok('/api/rules', { name: 'catch all', conditions: [], action: 'decline' })).rule;
        assert.equal(a.position, 0);
        assert.equal(b.position, 1);
        assert.equal(g.chat_id, 0);
        assert.deepEqual(a.conditions, [{ type: 'in_list', list: 'vip' }]);
        let saved = await ok('/api/rules/dry-run', { chat_id: chat });
        assert.deepEqual(saved.counts, { approve: 1, decline: 16, decline_and_ban: 0, hold: 1, approve_after: 0, verify: 0, no_match: 0 });
        const order = await ok('/api/rules/reorder', { chat_id: chat, ids: [b.id, a.id] });
        assert.deepEqual(order.rules.map((x) => [x.id, x.position]), [[b.id, 0], [a.id, 1]]);
        await refused('/api/rules/reorder', { chat_id: chat, ids: [b.id] }, /ids/);
        await refused('/api/rules/reorder', { chat_id: chat, ids: [b.id, g.id] }, /ids/);
        await ok(`/api/rules/${g.id}/disable`);
        saved = await ok('/api/rules/dry-run', { chat_id: chat });
        assert.equal(saved.counts.no_match, 16);
        await ok(`/api/rules/${g.id}/enable`);
        const u = (await ok(`/api/rules/${b.id}/update`, { name: 'premium ru', conditions: [{ type: 'language_code', in: ['ru'] }], action: 'approve_after', delay_seconds: 10 })).rule;
        assert.equal(u.action, 'approve_after');
        assert.equal(u.delay_seconds, 10);
        await refused(`/api/rules/${b.id}/update`, { conditions: [{ type: 'name_matches', regex: '[' }], action: 'hold' }, /regex/);
        assert.equal((await s.client.ok(`/api/rules?chat_id=${chat}`)).rules[0].action, 'approve_after', 'a refused update changed nothing');
        const inUse = await post('/api/rule-lists/vip/delete', {});
        assert.equal(inUse.status, 409, inUse.text);
        assert.match(inUse.json.error.message, new RegExp(`rule ${a.id} uses list vip`));
        await ok('/api/rule-lists/vip_2', { entries: [1] }); // a name the LIKE pattern must not confuse
        await ok('/api/rule-lists/vip_2/delete');
        await ok(`/api/rules/${a.id}/delete`);
        const left = (await s.client.ok(`/api/rules?chat_id=${chat}`)).rules;
        assert.deepEqual(left.map((x) => [x.id, x.position]), [[b.id, 0]]);
        assert.equal((await post(`/api/rules/${a.id}/delete`, {})).status, 404);
        // the draft replaces the channel's saved rules, the saved global rules still follow
        const draft = await ok('/api/rules/dry-run', { chat_id: chat, rules: [{ conditions: [{ type: 'user_id_above', value: 0 }], action: 'hold' }] });
        assert.equal(draft.counts.hold, 18);
    });

    test('modes: per channel and a default, checked', async () => {
        let m = await s.client.ok('/api/modes');
        assert.equal(m.default.mode, 'manual');
        await ok('/api/modes', { chat_id: 0, mode: 'approve_all', per_hour: 120 });
        await ok('/api/modes', { chat_id: chat, mode: 'rules' });
        await ok('/api/modes', { chat_id: other, mode: 'approve_all', delay_seconds: 600 });
        await refused('/api/modes', { chat_id: chat, mode: 'rules', delay_seconds: 60 }, /delay_seconds/);
        await refused('/api/modes', { chat_id: chat, mode: 'approve_all', delay_seconds: 5 }, /delay_seconds/);
        await refused('/api/modes', { chat_id: chat, mode: 'approve_all', delay_seconds: 60, per_hour: 5 }, /per_hour/);
        await refused('/api/modes', { chat_id: chat, mode: 'yolo' }, /mode/);
        await refused('/api/modes', { chat_id: chat, mode: 'rules', speed: 1 }, /speed/);
        m = await s.client.ok('/api/modes');
        assert.deepEqual(m.default.mode, 'approve_all');
        assert.equal(m.default.per_hour, 120);
        const byChat = new Map(m.channels.map((x) => [x.chat_id, x]));
        assert.equal(byChat.get(chat).mode, 'rules');
        assert.equal(byChat.get(other).delay_seconds, 600);
        await ok('/api/modes', { chat_id: other, mode: null });
        m = await s.client.ok('/api/modes');
        assert.deepEqual(m.channels.map((x) => x.chat_id), [chat]);
    });
});
