// The Invite Links page in chromium (issue 15, items 3-4): a link made from the panel with a
// hostile name, shown as text; its pending count; Show requests (the Invite Requests table
// filtered by the link); Deny All for the link through the who-decides dialog; a revoke; and a
// request another admin approved in the Telegram app shown as "decided in Telegram by …" after
// "Check decisions made in Telegram".
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { tgAddJoinRequests, tgCreateUser, tgMakeAdmin, tgRequestMap } from '../lib/tgsim.mjs';
import { listAll, waitRecorded } from '../lib/api.mjs';
import { newUserSession } from '../lib/sessions.mjs';
import { ADMIN, startSessionStack } from '../lib/stacks.mjs';
import { signedInPage } from '../lib/browser.mjs';

const HOSTILE = '<img src=x onerror=alert(1)>';
const SESS = 'lina';

describe('invite links in chromium', () => {
    let s, browser, page, seen, chat, other;
    before(async () => {
        s = await startSessionStack({ dcs: 2, world: { channels: 1, pending: 2 }, configureBot: true,
            doormanEnv: { DOORMAN_TELEGRAM_DECISIONS_S: '0' } });
        chat = s.world.chatIds[0];
        await waitRecorded(s.client, 2);
        const acc = (await newUserSession(s.client, s.tg, { name: SESS, first_name: 'Lina' })).account;
        await tgMakeAdmin(s.tg, chat, acc.id, true);
        other = await tgCreateUser(s.tg, { first_name: 'Otto', username: 'otto_in_app' });
        await tgMakeAdmin(s.tg, chat, other.id, true);
        ({ browser, page, seen } = await signedInPage(s.dm.url, ADMIN));
    });
    after(async () => {
        await browser?.close();
        await s?.cleanup();
    });

    const dialog = () => page.locator('dialog.modal[open]');
    const row = (text) => page.locator('.links-table tbody tr').filter({ hasText: text });
    const noHarm = () => {
        assert.deepEqual(seen.dialogs, [], 'no alert ran');
        assert.deepEqual(seen.pageErrors, []);
        assert.deepEqual(seen.cspViolations, []);
    };

    let link;
    test('create a link with a hostile name: shown as text, listed with its pending count', async () => {
        await page.locator('.nav').getByRole('link', { name: 'Invite Links' }).click();
        await page.locator('main .page-head h1', { hasText: 'Invite Links' }).waitFor();
        await page.locator('select[name=chat_id]').selectOption({ value: String(chat) });
        await page.getByRole('button', { name: 'New link' }).click();
        await dialog().locator('input[name=name]').fill(HOSTILE);
        await dialog().getByRole('button', { name: 'Create' }).click();
        await dialog().waitFor({ state: 'detached' });
        await row(HOSTILE).waitFor();
        assert.equal(await row(HOSTILE).locator('td.link-name').textContent(), HOSTILE);
        assert.equal(await page.locator('.links-table img').count(), 0, 'the name is not HTML');
        link = (await row(HOSTILE).locator('td.link-url').textContent()).trim();
        assert.match(link, /^https:\/\/t\.me\/\+/);
        const r = await tgAddJoinRequests(s.tg, { chat_id: chat, count: 3, first_name: 'Linked', invite_link: link });
        assert.equal(r.created, 3);
        await waitRecorded(s.client, 5);
        await page.getByRole('button', { name: 'Read from Telegram' }).click();
        await waitFor(async () => (await row(HOSTILE).locator('td.link-pending').textContent()) === '3', { what: 'the pending count' });
        noHarm();
    });

    test("Requests: the table filtered by the link; Deny all for the link through the bot", async () => {
        await row(HOSTILE).getByRole('button', { name: 'Requests' }).click();
        await page.locator('.requests-table tbody tr').first().waitFor();
        await waitFor(async () => (await page.locator('.requests-table tbody tr').count()) === 3, { what: 'three rows of the link' });
        assert.equal(await page.locator('input[name=invite_link]').inputValue(), link);
        await page.locator('.nav').getByRole('link', { name: 'Invite Links' }).click();
        await row(HOSTILE).waitFor();
        await row(HOSTILE).getByRole('button', { name: 'Deny all' }).click();
        await dialog().locator('.preflight[data-state=ok]').waitFor();
        await dialog().getByRole('button', { name: 'Deny 3' }).click();
        await waitFor(async () => (await row(HOSTILE).locator('td.link-pending').textContent()) === '0', { what: 'none pending after Deny all' });
        const tg = await tgRequestMap(s.tg);
        const linked = [...tg.values()].filter((x) => x.invite_link === link);
        assert.equal(linked.length, 3);
        assert.ok(linked.every((x) => x.status === 'declined'));
        const others = (await listAll(s.client, { status: 'pending' }));
        assert.equal(others.length, 2, 'requests without the link are untouched');
        noHarm();
    });

    test('revoke', async () => {
        await row(HOSTILE).getByRole('button', { name: 'Revoke' }).click();
        await dialog().getByRole('button', { name: 'Revoke' }).click();
        await row(HOSTILE).locator('td', { hasText: 'revoked' }).waitFor();
        noHarm();
    });

    test('an approval made in the Telegram app: "decided in Telegram by" its admin', async () => {
        const [r] = await listAll(s.client, { status: 'pending' });
        await s.tg.control('POST', '/control/join-requests/decide', { chat_id: chat, user_id: r.user_id, approve: true, by: other.id });
        await page.locator('select[name=session_name]').selectOption({ value: SESS });
        await page.getByRole('button', { name: 'Check decisions made in Telegram' }).click();
        await page.locator('#banner-text', { hasText: '1 request was found decided in Telegram' }).waitFor();
        await page.goto(`${s.dm.url}/#/requests?status=approved`);
        const cell = page.locator('.requests-table tbody tr').filter({ hasText: r.first_name }).locator('.decided-telegram');
        await cell.waitFor();
        assert.equal((await cell.textContent()).trim(), 'decided in Telegram by @otto_in_app');
        noHarm();
    });
});
