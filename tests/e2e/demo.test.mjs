// `doorman demo` in the browser, as a newcomer tries it with nothing but the banner: sign in with
// the printed login, Create New Session with the printed phone, API ID and hash, read the login
// code on tgsim's page the banner names (a message from "Telegram"), enter it and the printed
// password, Check Status, Load Requests from @demo_news (which brings in the requests made while
// the bot was down), then approve one of them through the session: tgsim records the approval as
// the demo account's.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { startDemo } from '../lib/doorman.mjs';
import { Client } from '../lib/api.mjs';
import { launchBrowser, watchedPage, login } from '../lib/browser.mjs';

describe('the demo in the browser: the Session Manager from the banner alone', () => {
    let demo, browser, page, seen, client;
    before(async () => {
        demo = await startDemo();
        client = new Client(demo.url);
        await client.login(demo.login.name, demo.login.password);
        browser = await launchBrowser();
        ({ page, seen } = await watchedPage(browser));
        await login(page, demo.url, demo.login);
    });
    after(async () => {
        await browser?.close();
        await demo?.proc.stop();
    });

    const dialog = () => page.locator('dialog.modal[open]');
    const field = (name) => dialog().locator(`[name=${name}]`);
    const row = () => page.locator('.sessions-table tbody tr[data-name="dana"]');
    async function tgsim(path) {
        const r = await fetch(demo.tgsimUrl + path);
        assert.equal(r.status, 200, `tgsim ${path}`);
        return r.json();
    }

    test('create, check, load and approve through the demo account', async () => {
        const acc = demo.account;
        await page.locator('.nav a[data-route="/sessions"]').click();
        await page.getByRole('button', { name: 'Create New Session' }).click();
        await field('name').fill('dana');
        await field('api_id').fill(String(acc.apiId));
        await field('api_hash').fill(acc.apiHash);
        await field('phone').fill(acc.phone);
        await dialog().getByRole('button', { name: 'Send Phone' }).click();
        await field('code').waitFor({ timeout: 20000 });

        // The code, where the banner says: tgsim's page, in a second tab.
        const inbox = await page.context().newPage();
        await inbox.goto(acc.codeUrl);
        const message = (await inbox.locator('.msg .text').first().textContent()) || '';
        assert.equal(await inbox.locator('.msg .from').first().textContent(), 'Telegram');
        const code = /^Login code: (\d{5})\./.exec(message)?.[1];
        assert.ok(code, `a login code in "${message}"`);
        await inbox.close();

        await field('code').fill(code);
        await dialog().getByRole('button', { name: 'Submit Code' }).click();
        await field('password').waitFor();
        await field('password').fill(acc.password);
        await dialog().getByRole('button', { name: 'Submit Password' }).click();
        await dialog().locator('.form-ok').waitFor();
        assert.match(await dialog().textContent(), /Dana Admin/);
        await dialog().getByRole('button', { name: 'Done' }).click();
        await dialog().waitFor({ state: 'detached' });

        // Check Status
        const [checked] = await Promise.all([
            page.waitForResponse((r) => r.url().endsWith('/api/sessions/dana/check')),
            row().getByRole('button', { name: 'Check Status' }).click(),
        ]);
        assert.equal(checked.status(), 200);
        const accountId = (await checked.json()).session.account.id;
        await waitFor(async () => (await row().getAttribute('data-status')) === 'active', { what: 'the session row to show active' });

        // Load Requests from @demo_news: the requests only Telegram had get recorded.
        const news = (await client.ok('/api/chats')).items.find((c) => c.username === 'demo_news');
        const unseen = (await tgsim(`/control/join-requests?chat_id=${news.chat_id}&status=pending`)).items
            .filter((r) => r.date < Date.now() / 1000 - 3 * 86400);
        assert.ok(unseen.length > 0, 'Demo News holds requests the bot never saw');
        const before = await client.ok(`/api/invite-requests?q=${unseen[0].user_id}`);
        assert.equal(before.items.length, 0, 'doorman does not know them before the load');
        await row().getByRole('button', { name: 'Load Requests' }).click();
        await field('channel').fill('@demo_news');
        await dialog().getByRole('button', { name: 'Load Requests' }).click();
        await dialog().waitFor({ state: 'detached' });
        await page.locator('.job-panel .job[data-state=done]').waitFor({ timeout: 60000 });

        // On Invite Requests, find one by its user id and approve it as the session.
        await page.locator('.nav a[data-route="/requests"]').click();
        await page.locator('input[name=q]').fill(String(unseen[0].user_id));
        const rows = page.locator('.requests-table tbody tr');
        await waitFor(async () => (await rows.count()) === 1 &&
            (await rows.first().textContent()).includes(String(unseen[0].user_id)), { what: 'the loaded request in the table' });
        await rows.first().locator('input[type=checkbox]').check();
        await page.getByRole('button', { name: 'Approve Selected' }).click();
        await dialog().locator('select[name=session_name]').selectOption({ value: 'dana' });
        await waitFor(async () => (await dialog().locator('.preflight').getAttribute('data-state')) === 'ok',
            { what: 'the modal to find that Dana can decide in Demo News' });
        await dialog().getByRole('button', { name: 'Approve 1', exact: true }).click();
        await dialog().waitFor({ state: 'detached' });
        await page.locator('.job-panel .job[data-state=done]').waitFor({ timeout: 30000 });
        assert.equal(await page.locator('.job-panel .job-via').textContent(), 'via dana');

        const rec = (await tgsim(`/control/join-requests?chat_id=${news.chat_id}&user_id=${unseen[0].user_id}`)).items.pop();
        assert.equal(rec.status, 'approved');
        assert.equal(rec.decided_by, accountId, 'approved by the demo account');
        assert.equal(rec.decisions, 1);
        assert.deepEqual([seen.dialogs, seen.pageErrors, seen.cspViolations], [[], [], []], JSON.stringify(seen));
    });
});
