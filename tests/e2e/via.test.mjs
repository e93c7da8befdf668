// The decision modal in a real browser (headless Debian chromium via playwright-core) against the
// real doorman and tgsim with MTProto data centres (issue 5, "Proof": browser test of the modal):
// Approve/Deny Selected and Approve/Deny All ask who decides, the bot or an active session (an
// invalid one is not offered); the choice is remembered per admin across reloads; a fresh check
// warns when the chosen account has no invite-users right in an affected channel; an approval
// through a session is recorded by tgsim as decided by that account.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { addRequester, tgAddJoinRequests, tgJoinRequests, tgRevoke } from '../lib/tgsim.mjs';
import { waitRecorded } from '../lib/api.mjs';
import { newUserSession, newBotSession, listSessions } from '../lib/sessions.mjs';
import { ADMIN, startSessionStack } from '../lib/stacks.mjs';
import { signedInPage } from '../lib/browser.mjs';

const ALPHA = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov'];
const BETA = ['Ken Thompson', 'Dennis Ritchie'];
const DEADLINE_S = 5; // the preflight's; a slow Telegram passes it in the last test

describe('who decides: the decision modal in chromium', () => {
    let s, browser, page, seen;
    let marta, sessBot, alpha, beta;
    const people = new Map(); // full name -> {user_id, chat_id}

    before(async () => {
        s = await startSessionStack({ dcs: 2, world: { channels: 0 }, configureBot: true,
            doormanEnv: { DOORMAN_PREFLIGHT_DEADLINE_S: String(DEADLINE_S) } });
        marta = (await newUserSession(s.client, s.tg, { name: 'marta', first_name: 'Marta', last_name: 'Kowalska',
            username: 'marta_via' })).account;
        sessBot = (await newBotSession(s.client, s.tg, { name: 'door_bot', username: 'via_door_bot' })).bot;
        // A session whose key Telegram revoked: Check Status marks it invalid, so it is not offered.
        const gone = (await newUserSession(s.client, s.tg, { name: 'gone', first_name: 'Gone' })).account;
        await tgRevoke(s.tg, gone.id);
        const chk = await s.client.post('/api/sessions/gone/check', {});
        assert.equal(chk.status, 200, chk.text);
        assert.equal(chk.json.session.status, 'invalid');

        // Both channels have the bot as admin (it receives the requests); Marta may invite users
        // only in Alpha.
        const botId = s.world.botId;
        alpha = await s.tg.control('POST', '/control/channels', { title: 'Via Alpha', username: 'via_alpha',
            admins: [{ id: botId, can_invite_users: true }, { id: marta.id, can_invite_users: true }] });
        beta = await s.tg.control('POST', '/control/channels', { title: 'Via Beta', username: 'via_beta',
            admins: [{ id: botId, can_invite_users: true }, { id: marta.id, can_invite_users: false }] });
        for (const [chat, names] of [[alpha, ALPHA], [beta, BETA]]) {
            for (const full of names) {
                const [first_name, last_name] = full.split(' ');
                people.set(full, await addRequester(s.tg, chat.id, { first_name, last_name }));
            }
        }
        await waitRecorded(s.client, ALPHA.length + BETA.length);

        ({ browser, page, seen } = await signedInPage(s.dm.url, ADMIN));
    });
    after(async () => {
        await browser?.close();
        await s?.cleanup();
    });

    const dialog = () => page.locator('dialog.modal[open]');
    const select = () => dialog().locator('select[name=session_name]');
    const check = () => dialog().locator('.preflight');
    const row = (name) => page.locator('.requests-table tbody tr').filter({ hasText: name });
    const chatItem = (chat) => check().locator(`.preflight-chat[data-chat-id="${chat.id}"]`);
    // The modal's check once it has answered for the current choice: ok, warned, blocked or failed.
    const checked = async () => waitFor(async () => {
        const st = await check().getAttribute('data-state');
        return st && st !== 'checking' ? st : null;
    }, { what: 'the modal to show what the account can do' });
    const tgRecord = async (name) => {
        const p = people.get(name);
        return (await tgJoinRequests(s.tg, `chat_id=${p.chat_id}&user_id=${p.user_id}`)).pop();
    };
    const choose = async (value) => {
        await select().selectOption({ value });
        return checked();
    };
    // Unticks every row (a selection outlives a cancelled modal).
    const clearSelection = async () => {
        const ticked = page.locator('.requests-table tbody input[type=checkbox]:checked');
        while (await ticked.count()) await ticked.first().uncheck();
    };
    const openFor = async (names, button) => {
        await clearSelection();
        for (const n of names) await row(n).locator('input[type=checkbox]').check();
        await page.getByRole('button', { name: button }).click();
        await dialog().waitFor();
        return checked();
    };
    const cancel = async () => {
        await dialog().getByRole('button', { name: 'Cancel' }).click();
        await dialog().waitFor({ state: 'detached' });
    };
    // Each test starts without a dialog or a selection a failed test may have left.
    beforeEach(async () => {
        if (!page) return;
        while (await dialog().count()) {
            await page.keyboard.press('Escape');
            await dialog().first().waitFor({ state: 'detached', timeout: 5000 }).catch(() => {});
        }
        await clearSelection();
    });

    test('the dropdown offers the bot and every active session, not the invalid one', async () => {
        assert.equal(await openFor(['Ada Lovelace'], 'Approve Selected'), 'ok');
        assert.equal(await dialog().locator('h2').textContent(), 'Approve 1 selected request?');
        const options = await select().locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
        const active = (await listSessions(s.client, '/api/sessions/list')).map((x) => x.name);
        assert.deepEqual([...active].sort(), ['door_bot', 'marta']);
        assert.deepEqual(options[0], ['', 'Bot (Default)'], 'the bot comes first');
        assert.deepEqual(options.slice(1, -2).map(([v]) => v), active, 'then every active session');
        assert.deepEqual(options.at(-2), ['sessions:any', 'Any active session — the next takes over on a flood wait'],
            'and, with two or more, any of them');
        assert.deepEqual(options.at(-1), ['sessions:several', 'Several sessions… — tick them, in order'], 'or the ticked ones');
        assert.equal(await dialog().locator('.session-picker').isVisible(), false, 'the boxes show only for several');
        const label = new Map(options);
        assert.equal(label.get('marta'), 'marta — Marta Kowalska @marta_via — user');
        assert.equal(label.get('door_bot'), 'door_bot — via_door_bot @via_door_bot — bot');
        assert.ok(!options.some(([v]) => v === 'gone'), 'the invalid session is not offered');
        assert.equal(await select().inputValue(), '', 'the bot is the default');
        assert.equal(await chatItem(alpha).getAttribute('data-can'), 'true', 'the bot can decide in Alpha');
        assert.equal(await dialog().locator('.preflight-warning').count(), 0);
        assert.equal(await dialog().getByRole('button', { name: 'Approve 1' }).isEnabled(), true);
        await cancel();
        assert.equal((await tgRecord('Ada Lovelace')).status, 'pending', 'Cancel decides nothing');
    });

    test('an approval through a session: tgsim records it as decided by that account', async () => {
        const names = ['Ada Lovelace', 'Alan Turing'];
        await openFor(names, 'Approve Selected');
        assert.equal(await choose('marta'), 'ok');
        assert.doesNotMatch(await check().textContent(), /null|undefined/, 'no stray text beside the channels');
        assert.match(await chatItem(alpha).textContent(), /Via Alpha/);
        assert.equal(await chatItem(alpha).getAttribute('data-can'), 'true');
        const [resp] = await Promise.all([
            page.waitForResponse((r) => r.url().endsWith('/api/invite-requests/approve')),
            dialog().getByRole('button', { name: 'Approve 2' }).click(),
        ]);
        assert.equal(resp.status(), 202);
        assert.equal(JSON.parse(resp.request().postData()).session_name, 'marta');
        await dialog().waitFor({ state: 'detached' });
        await page.locator('.job-panel .job[data-state=done]').waitFor({ timeout: 60000 });
        assert.equal((await page.locator('.job-panel .job-pct').textContent()).trim(), '2 of 2 · 100%');
        assert.match(await page.locator('.job-panel .job-counts').textContent(), /2 approved/);
        assert.equal(await page.locator('.job-panel .job-via').textContent(), 'via marta');
        for (const n of names) {
            const r = await tgRecord(n);
            assert.equal(r.status, 'approved', `${n} approved in tgsim`);
            assert.equal(r.decided_by, marta.id, `${n} decided by Marta's account in tgsim`);
            assert.equal(r.decisions, 1);
        }
        await page.locator('.tab[data-status=approved]').click();
        await waitFor(async () => (await row('Ada Lovelace').count()) === 1, { what: 'Ada among the approved' });
        assert.match(await row('Ada Lovelace').locator('.decided').textContent(), /via marta/);
        await page.locator('.tab[data-status=pending]').click();
        await waitFor(async () => (await row('Alan Turing').count()) === 0 && (await row('Grace Hopper').count()) === 1,
            { what: 'the pending list without the approved two' });
    });

    test('the choice is remembered across reloads, and a warning shows where the account has no right', async () => {
        assert.deepEqual(await s.client.ok('/api/me/preferences'), { approve_via: 'marta' });
        await page.reload();
        await row('Ken Thompson').waitFor();
        // Beta only: Marta is an admin there without the invite-users right.
        assert.equal(await openFor(['Ken Thompson'], 'Deny Selected'), 'blocked');
        assert.equal(await select().inputValue(), 'marta', 'the last choice is preselected');
        const warning = dialog().locator('.preflight-warning');
        assert.ok(await warning.isVisible(), 'the warning is visible');
        assert.match(await warning.textContent(), /Session “marta” cannot deny requests in this channel/);
        assert.equal(await chatItem(beta).getAttribute('data-can'), 'false');
        const reason = (await chatItem(beta).locator('.preflight-reason').textContent()).trim();
        assert.ok(reason.length > 0 && !/can decide here/.test(reason), `the reason is shown: ${reason}`);
        const deny = dialog().getByRole('button', { name: 'Deny 1' });
        assert.equal(await deny.isDisabled(), true, 'nothing could be decided: the button is off');

        // The bot can: the warning goes, the button comes back.
        assert.equal(await choose(''), 'ok');
        assert.equal(await warning.count(), 0);
        assert.equal(await chatItem(beta).getAttribute('data-can'), 'true');
        assert.equal(await deny.isEnabled(), true);
        await cancel();
        assert.equal((await tgRecord('Ken Thompson')).status, 'pending');
        assert.deepEqual(await s.client.ok('/api/me/preferences'), { approve_via: 'marta' }, 'a cancelled modal changes no choice');

        // Alpha and Beta together: decidable in one, so a warning on an enabled, warned button.
        assert.equal(await openFor(['Grace Hopper', 'Dennis Ritchie'], 'Approve Selected'), 'warned');
        assert.equal(await select().inputValue(), 'marta');
        assert.match(await warning.textContent(), /cannot decide in 1 of 2 channels/);
        assert.equal(await chatItem(alpha).getAttribute('data-can'), 'true');
        assert.equal(await chatItem(beta).getAttribute('data-can'), 'false');
        const approve = dialog().getByRole('button', { name: 'Approve 2' });
        assert.equal(await approve.isEnabled(), true);
        assert.match(await approve.getAttribute('class'), /btn-warned/);
        await cancel();
    });

    test('Approve All of a channel: the count, and the one-call note when a session decides', async () => {
        await page.locator('select[name=chat_id]').selectOption({ label: 'Via Alpha' });
        await waitFor(async () => (await page.locator('.requests-table tbody tr').count()) === 3 &&
            (await page.locator('.requests-table tbody tr').filter({ hasText: 'Via Beta' }).count()) === 0,
        { what: 'the three pending Alpha rows' });
        await page.getByRole('button', { name: 'Approve All' }).click();
        await dialog().waitFor();
        assert.equal(await checked(), 'ok');
        assert.equal(await dialog().locator('h2').textContent(), 'Approve 3 pending requests?');
        assert.match(await dialog().textContent(), /every pending request in channel “Via Alpha”: 3 pending requests now/);
        assert.equal(await select().inputValue(), 'marta');
        const note = dialog().locator('.decide-note');
        assert.ok(await note.isVisible(), 'the one-call note shows for a session');
        assert.match(await note.textContent(), /decide the whole channel in one call/);
        assert.equal(await choose(''), 'ok');
        assert.equal(await note.isVisible(), false, 'no such note for the bot');
        assert.equal(await choose('marta'), 'ok');
        const [resp] = await Promise.all([
            page.waitForResponse((r) => r.url().endsWith('/api/invite-requests/approve-all')),
            dialog().getByRole('button', { name: 'Approve 3' }).click(),
        ]);
        assert.equal(resp.status(), 202);
        assert.deepEqual(JSON.parse(resp.request().postData()), { filter: { chat_id: alpha.id }, session_name: 'marta' });
        await page.locator('.job-panel .job[data-state=done]').waitFor({ timeout: 60000 });
        for (const n of ALPHA) {
            const r = await tgRecord(n);
            assert.equal(r.status, 'approved', `${n} approved in tgsim`);
            assert.equal(r.decided_by, marta.id, `${n} decided by Marta's account`);
        }
        for (const n of BETA) assert.equal((await tgRecord(n)).status, 'pending', `${n} in Beta untouched`);
        await waitFor(async () => (await page.locator('.requests-table tbody tr').count()) === 0,
            { what: 'no pending Alpha rows left' });
    });

    test('a slow Telegram: the channels the check did not reach are marked, and deciding stays possible', async () => {
        await page.locator('select[name=chat_id]').selectOption({ label: 'Via Beta' });
        await row('Ken Thompson').waitFor();
        // the bot's check starts with getMe: 6 s, past the 5 s deadline before the channel
        await s.tg.control('POST', '/control/config', { latency_ms: 6000 });
        try {
            await openFor(['Ken Thompson'], 'Deny Selected');
            assert.equal(await choose(''), 'warned');
        } finally {
            await s.tg.control('POST', '/control/config', { latency_ms: 0 });
        }
        assert.equal(await chatItem(beta).getAttribute('data-can'), 'false');
        assert.equal((await chatItem(beta).locator('.preflight-mark').textContent()).trim(), '?');
        assert.match(await chatItem(beta).locator('.preflight-reason').textContent(),
            new RegExp(`Not checked: Telegram answered too slowly, and the check stops after ${DEADLINE_S} s`));
        assert.match(await dialog().locator('.preflight-warning').textContent(),
            /Telegram answered too slowly: 1 of 1 channels was not checked/);
        assert.equal(await dialog().getByRole('button', { name: 'Deny 1' }).isEnabled(), true, 'not blocked');
        await cancel();
    });

    test('any active session: the first that can decide does, and the job shows what each did', async () => {
        const linus = await addRequester(s.tg, alpha.id, { first_name: 'Linus', last_name: 'Torvalds' });
        people.set('Linus Torvalds', linus);
        await waitFor(async () => (await s.client.ok(`/api/invite-requests?chat_id=${alpha.id}&status=pending`)).items
            .some((r) => r.user_id === linus.user_id), { what: 'Linus recorded by doorman' });
        await page.locator('select[name=chat_id]').selectOption({ label: 'Via Alpha' }); // from Via Beta: a fresh list
        await row('Linus Torvalds').waitFor({ timeout: 20000 });
        await openFor(['Linus Torvalds'], 'Approve Selected');
        assert.equal(await choose('sessions:any'), 'ok');
        assert.match(await check().textContent(), /first active session .* the next takes over/);
        const [resp] = await Promise.all([
            page.waitForResponse((r) => r.url().endsWith('/api/invite-requests/approve')),
            dialog().getByRole('button', { name: 'Approve 1' }).click(),
        ]);
        assert.equal(resp.status(), 202);
        assert.equal(JSON.parse(resp.request().postData()).session_name, 'sessions:any');
        await page.locator('.job-panel .job[data-state=done]').waitFor({ timeout: 60000 });
        assert.equal(await page.locator('.job-panel .job-via').textContent(), 'via sessions:any');
        // door_bot comes first by name but is no admin of Alpha: marta decides.
        const lines = await page.locator('.job-panel .job-accounts li').allTextContents();
        assert.deepEqual(lines, ['marta: 1 approved']);
        const r = await tgRecord('Linus Torvalds');
        assert.equal(r.status, 'approved');
        assert.equal(r.decided_by, marta.id);
        assert.deepEqual(await s.client.ok('/api/me/preferences'), { approve_via: 'marta' }, 'the choice of several is not remembered');
    });

    test('several ticked sessions: tried in order, the next takes over, the job shows what each did', async () => {
        const margaret = await addRequester(s.tg, alpha.id, { first_name: 'Margaret', last_name: 'Hamilton' });
        people.set('Margaret Hamilton', margaret);
        await waitFor(async () => (await s.client.ok(`/api/invite-requests?chat_id=${alpha.id}&status=pending`)).items
            .some((r) => r.user_id === margaret.user_id), { what: 'Margaret recorded by doorman' });
        await page.reload();
        await row('Margaret Hamilton').waitFor({ timeout: 20000 });
        await openFor(['Margaret Hamilton'], 'Approve Selected');
        assert.equal(await choose('sessions:several'), 'ok');
        const boxes = dialog().locator('.session-picker input[type=checkbox]');
        assert.deepEqual(await boxes.evaluateAll((bs) => bs.map((b) => [b.value, b.checked])), [['door_bot', false], ['marta', false]],
            'every active session, none ticked');
        const approve = dialog().getByRole('button', { name: 'Approve 1' });
        assert.equal(await approve.isDisabled(), true, 'nothing to decide through yet');
        await boxes.nth(1).check();
        await boxes.nth(0).check();
        assert.match(await check().textContent(), /first ticked session \(in this order\)/);
        assert.equal(await approve.isEnabled(), true);
        const [resp] = await Promise.all([
            page.waitForResponse((r) => r.url().endsWith('/api/invite-requests/approve')),
            approve.click(),
        ]);
        assert.equal(resp.status(), 202);
        assert.deepEqual(JSON.parse(resp.request().postData()).session_name, ['door_bot', 'marta'], 'in the order shown');
        await page.locator('.job-panel .job[data-state=done]').waitFor({ timeout: 60000 });
        assert.equal(await page.locator('.job-panel .job-via').textContent(), 'via door_bot,marta');
        // door_bot is no admin of Alpha: marta takes over
        assert.deepEqual(await page.locator('.job-panel .job-accounts li').allTextContents(), ['marta: 1 approved']);
        assert.equal((await tgRecord('Margaret Hamilton')).decided_by, marta.id);
        assert.deepEqual(await s.client.ok('/api/me/preferences'), { approve_via: 'marta' }, 'a list is not remembered');
    });

    test('Load Requests through several sessions: the others ticked, what each loaded', async () => {
        await tgAddJoinRequests(s.tg, { chat_id: alpha.id, count: 3, first_name: 'Loaded' });
        await page.locator('.nav a[data-route="/sessions"]').click();
        const sessionRow = page.locator('.sessions-table tbody tr[data-name="marta"]');
        await sessionRow.getByRole('button', { name: 'Load Requests' }).click();
        await dialog().locator('input[name=channel]').fill('@via_alpha');
        const boxes = dialog().locator('.session-picker input[type=checkbox]');
        await boxes.first().waitFor();
        assert.match(await dialog().locator('.session-picker legend').textContent(), /when marta must wait or cannot load/);
        assert.deepEqual(await boxes.evaluateAll((bs) => bs.map((b) => b.value)), ['door_bot'], 'the other active sessions');
        await boxes.first().check();
        const [resp] = await Promise.all([
            page.waitForResponse((r) => r.url().endsWith('/api/sessions/load')),
            dialog().getByRole('button', { name: 'Load Requests' }).click(),
        ]);
        assert.equal(resp.status(), 202, await resp.text());
        assert.deepEqual(JSON.parse(resp.request().postData()).session_name, ['marta', 'door_bot']);
        await page.locator('.job-panel .job[data-state=done]').waitFor({ timeout: 60000 });
        assert.equal(await page.locator('.job-panel .job-via').textContent(), 'via marta,door_bot');
        // marta has the right and was never held back: it loaded the three pending ones
        assert.deepEqual(await page.locator('.job-panel .job-accounts li').allTextContents(), ['marta: 3 loaded']);
    });

    test('no dialog, page error or CSP violation happened', () => {
        assert.deepEqual(seen.dialogs, []);
        assert.deepEqual(seen.pageErrors, []);
        assert.deepEqual(seen.cspViolations, []);
    });
});
