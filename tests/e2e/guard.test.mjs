// The Rules page's "Join-request bot" card in a real browser (issue 14, item 1: the panel shows
// for each channel whether doorman's bot is its assigned join-request bot, and whether the bot
// supports queries), against the real doorman and tgsim: the global scope lists every channel's,
// a channel's scope says its own, and a hostile channel title is rendered as text.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { tgBotSettings, tgCreateChannel, tgGuardBot } from '../lib/tgsim.mjs';
import { startStack, ADMIN } from '../lib/stacks.mjs';
import { launchBrowser, watchedPage, login } from '../lib/browser.mjs';

const XSS = '<img src=x onerror=alert(1)>';

describe('join-request bot on the Rules page in chromium', () => {
    let s, browser, page, seen, guarded, plain, hostile;
    before(async () => {
        s = await startStack({ world: { channels: 2, pending: 0 } });
        [guarded, plain] = s.world.chatIds;
        hostile = (await tgCreateChannel(s.tg, { title: XSS, username: 'hostile_title', botId: s.world.botId })).id;
        await tgBotSettings(s.tg, s.world.botId, { supports_join_request_queries: true });
        await tgGuardBot(s.tg, guarded, s.world.botId);
        await tgGuardBot(s.tg, hostile, s.world.botId);
        for (const chat_id of [guarded, plain, hostile]) {
            const r = await s.client.post('/api/modes', { chat_id, mode: 'rules' });
            assert.equal(r.status, 200, r.text);
        }
        browser = await launchBrowser();
        ({ page, seen } = await watchedPage(browser));
        await login(page, s.dm.url, ADMIN);
    });
    after(async () => {
        await browser?.close();
        await s?.cleanup();
    });

    const entries = () => page.$$eval('.guard-list li', (lis) => lis.map((li) => ({
        chat: Number(li.dataset.chatId), guard: li.dataset.guard, title: li.querySelector('strong').textContent,
    })));

    test('the global scope lists each channel\'s join-request bot; the bot supports queries', async () => {
        await page.goto(`${s.dm.url}/#/rules`);
        const list = await waitFor(async () => {
            const e = await entries();
            return e.length === 3 ? e : null;
        }, { timeoutMs: 10000, what: 'three channels listed' });
        const by = new Map(list.map((e) => [e.chat, e]));
        assert.equal(by.get(guarded).guard, 'doorman');
        assert.equal(by.get(plain).guard, 'none');
        assert.equal(by.get(hostile).guard, 'doorman');
        assert.equal(by.get(hostile).title, XSS, 'the title shown as text');
        assert.equal(await page.locator('.guard-list img').count(), 0);
        assert.equal(await page.locator('.guard-support').getAttribute('data-supports'), 'true');
        assert.deepEqual(seen.dialogs, []);
        assert.deepEqual(seen.pageErrors, []);
        assert.deepEqual(seen.cspViolations, []);
    });

    test('a channel\'s scope says its own; another bot assigned shows as such', async () => {
        const other = await s.tg.control('POST', '/control/bots', { username: 'someone_elses_bot', supports_join_request_queries: true });
        await s.tg.control('POST', `/control/channels/${plain}/admins`, { id: other.id });
        await tgGuardBot(s.tg, plain, other.id);
        await page.goto(`${s.dm.url}/#/rules?chat_id=${plain}`);
        const line = page.locator('.guard-line');
        await line.waitFor();
        assert.equal(await line.getAttribute('data-guard'), 'other');
        assert.match(await line.textContent(), /another bot \(@someone_elses_bot\)/);
        await page.goto(`${s.dm.url}/#/rules?chat_id=${guarded}`);
        await waitFor(async () => (await page.locator('.guard-line[data-guard=doorman]').count()) === 1 || null,
            { timeoutMs: 10000, what: 'the guarded channel shown' });
        assert.match(await page.locator('.guard-line').textContent(), /guard mode/);
        assert.deepEqual(seen.pageErrors, []);
    });
});
