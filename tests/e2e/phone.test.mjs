// The panel on a phone (issue 16, item 7): chromium at 390×844 against the real doorman and tgsim
// holding requests with the rules' verdicts (held: Release; banned: Unban), sessions, jobs (one
// with a failed item), rules and audit entries. Every page is opened (and the decision dialog, the
// Delete session dialog, the rule editor with its dry run, a job's errors): no page is wider than
// the screen, no element reaches past its left or right edge (except inside the elements listed
// in SCROLLERS, which scroll sideways on purpose), the navigation and Log out are reachable
// through the menu button (aria-expanded, keyboard), the Invite Requests list is one card per
// request with its checkbox, status and verdict actions on screen, and the decision buttons are
// within the viewport. No page error, dialog or CSP violation on the way.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { addRequester, tgInjectFault } from '../lib/tgsim.mjs';
import { waitRecorded, decide } from '../lib/api.mjs';
import { startSessionStack, ADMIN } from '../lib/stacks.mjs';
import { newBotSession, newUserSession } from '../lib/sessions.mjs';
import { launchBrowser, watchedPage, login } from '../lib/browser.mjs';

const PHONE = { width: 390, height: 844 };

// Selectors of the elements whose content may reach past the screen's edge because they scroll
// sideways on purpose. None: on a phone every table is cards and every bar wraps, so content past
// the edge inside any scroller (a table frame, the job errors' box) fails the test.
const SCROLLERS = [];

// Long words and links that a careless layout lets push the page wider.
const LONG = {
    first_name: 'Maximiliana-Alexandrovna',
    last_name: 'Wolfeschlegelsteinhausenbergerdorff',
    username: 'a_very_long_username_for_a_phone',
    bio: 'Backend engineer. Portfolio and rates: https://www.an-extremely-long-domain-name-for-testing.example/portfolio/2026',
    invite_link: 'https://t.me/+AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
};

// In the page: what reaches past the viewport's left or right edge: elements and text (a long
// word sticks out of its box). Returns {vw, scrollWidth, bad: [description], scrollers:
// [description of a scroller holding content past the edge]}.
function measure(allowed) {
    const vw = window.innerWidth;
    const describe = (el, r) => {
        const cls = typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '';
        const text = (el.getAttribute('aria-label') || el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 40);
        return `${el.tagName.toLowerCase()}${cls} [${Math.round(r.left)}..${Math.round(r.right)}] “${text}”`;
    };
    // [the element the box is or whose text it holds, its rect, the element that may clip it first]
    const boxes = [];
    for (const el of document.body.querySelectorAll('*')) boxes.push([el, el.getBoundingClientRect(), el.parentElement]);
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
        if (!t.textContent.trim()) continue;
        range.selectNodeContents(t);
        boxes.push([t.parentElement, range.getBoundingClientRect(), t.parentElement]);
    }
    const bad = [];
    const scrollers = new Set();
    for (const [el, r, clipper] of boxes) {
        if (r.width === 0 && r.height === 0) continue;
        if (r.right <= vw + 0.5 && r.left >= -0.5) continue;
        // the nearest ancestor that does not let its content overflow (scrolls or clips it)
        let box = clipper;
        while (box && box !== document.body && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
        if (box && box !== document.body) {
            const b = box.getBoundingClientRect();
            const inside = b.left >= -0.5 && b.right <= vw + 0.5;
            const ox = getComputedStyle(box).overflowX;
            if (inside && (ox === 'hidden' || ox === 'clip')) continue; // cut off, e.g. an ellipsis
            if (inside && allowed.some((sel) => box.matches(sel))) continue;
            if (inside) scrollers.add(describe(box, b));
        }
        // report the outermost offender only
        if (!bad.some((d) => d.el.contains(el))) bad.push({ el, d: describe(el, r) });
    }
    return { vw, scrollWidth: document.documentElement.scrollWidth, bad: bad.map((b) => b.d), scrollers: [...scrollers] };
}

describe('the panel on a phone (chromium, 390×844)', () => {
    let s, browser, page, seen, c1, c2;
    let held, banned, plain;

    before(async () => {
        s = await startSessionStack({ dcs: 1, world: { channels: 2, pending: 0 }, configureBot: true });
        [c1, c2] = s.world.chatIds;
        const ok = async (p, body) => {
            const r = await s.client.post(p, body);
            if (r.status !== 200) throw new Error(`${p} -> ${r.status} ${r.text}`);
            return r.json;
        };
        // rules in channel 1: a link in the bio is held, a casino name declined and banned
        await ok('/api/rules', { chat_id: c1, name: 'links in bio', conditions: [{ type: 'bio_has_link' }], action: 'hold' });
        await ok('/api/rules', { chat_id: c1, name: 'casino spam with a long name to wrap',
            conditions: [{ type: 'name_matches', words: ['casino'] }], action: 'decline_and_ban' });
        await ok('/api/rules', { chat_id: 0, name: 'rustaceans', conditions: [{ type: 'bio_matches', words: ['rust'] }],
            action: 'approve_after', delay_seconds: 3600 });
        await ok('/api/modes', { chat_id: c1, mode: 'rules' });
        held = await addRequester(s.tg, c1, LONG);
        banned = await addRequester(s.tg, c1, { first_name: 'Casino', last_name: 'Royale', bio: 'Bonus 777' });
        plain = await addRequester(s.tg, c1, { first_name: 'Plain', last_name: 'Person', username: 'plain_person' });
        const others = [];
        for (const n of ['Sofia Martínez', 'Liam O\'Brien', 'Yuki Tanaka', 'Amara Okafor', 'Mateo Rossi']) {
            const [first_name, last_name] = n.split(' ');
            others.push(await addRequester(s.tg, c2, { first_name, last_name, bio: `Hi, I am ${first_name}.`,
                invite_link: LONG.invite_link }));
        }
        await waitRecorded(s.client, 3 + others.length);
        const requestOf = async (u) => (await s.client.ok(`/api/invite-requests?limit=100`)).items.find((r) => r.user_id === u.user_id);
        await waitFor(async () => (await requestOf(banned))?.banned && (await requestOf(held))?.rule_id,
            { timeoutMs: 15000, what: 'the rules to hold one request and ban another' });
        // jobs: one approval done, one denial with a failed item (an Errors button on the Jobs page)
        const ids = [];
        for (const u of others) ids.push((await requestOf(u)).id);
        await decide(s.client, 'approve', { request_ids: [ids[0]] });
        await tgInjectFault(s.tg, { method: 'declineChatJoinRequest', count: 1, error_code: 400,
            description: 'Bad Request: USER_CHANNELS_TOO_MUCH' });
        await decide(s.client, 'deny', { request_ids: [ids[1]] });
        // sessions: a user account (long names) and a bot
        await newUserSession(s.client, s.tg, { name: 'ops_maximiliana', first_name: LONG.first_name, last_name: LONG.last_name,
            username: 'maximiliana_ops' });
        await newBotSession(s.client, s.tg, { name: 'backup_bot', username: 'doorman_phone_helper_bot' });
        for (const name of ['ops_maximiliana', 'backup_bot']) await s.client.post(`/api/sessions/${name}/check`, {});

        browser = await launchBrowser();
        ({ page, seen } = await watchedPage(browser, { viewport: PHONE }));
        await login(page, s.dm.url, ADMIN);
    });
    after(async () => {
        await browser?.close();
        await s?.cleanup();
    });

    const noHarm = () => {
        assert.deepEqual(seen.dialogs, [], 'no dialog fired');
        assert.deepEqual(seen.pageErrors, [], 'no page error');
        assert.deepEqual(seen.cspViolations, [], 'no CSP violation');
    };
    // Nothing wider than the screen: the page does not scroll sideways, no element reaches past
    // an edge (outside SCROLLERS).
    const assertFits = async (what) => {
        const m = await page.evaluate(measure, SCROLLERS);
        assert.equal(m.vw, PHONE.width);
        assert.deepEqual(m.bad, [], `${what}: elements past the screen's edge`);
        assert.deepEqual(m.scrollers, [], `${what}: content past the edge inside a scroller not in SCROLLERS`);
        assert.ok(m.scrollWidth <= PHONE.width, `${what}: the page is ${m.scrollWidth} px wide`);
    };
    // el's box lies within the viewport (on screen without scrolling sideways or, with
    // vertical: true, up or down).
    const onScreen = async (loc, what, { vertical = true } = {}) => {
        const b = await loc.boundingBox();
        assert.ok(b, `${what} is displayed`);
        assert.ok(b.x >= 0 && b.x + b.width <= PHONE.width, `${what} within the screen's width: ${JSON.stringify(b)}`);
        if (vertical) assert.ok(b.y >= 0 && b.y + b.height <= PHONE.height, `${what} within the screen's height: ${JSON.stringify(b)}`);
    };
    const open = async (hash, ready) => {
        await page.goto(`${s.dm.url}/${hash}`);
        await page.locator(ready).first().waitFor();
    };
    const menuBtn = () => page.locator('#menu-toggle');
    const card = (id) => page.locator(`.requests-table tbody tr[data-id="${id}"]`);
    const idOf = async (u) => (await s.client.ok(`/api/invite-requests?limit=100&status=`)).items.find((r) => r.user_id === u.user_id).id;

    test('Invite Requests: one card per request with its checkbox, status and verdict actions on screen', async () => {
        await open('#/requests?status=all', '.requests-table tbody tr');
        await waitFor(async () => (await page.locator('.requests-table tbody tr').count()) === 8, { what: 'the eight requests listed' });
        await assertFits('Invite Requests (all)');
        // a card: the row is one block, its cells one under the other, labelled
        const heldCard = card(await idOf(held));
        const [w, labels] = await heldCard.evaluate((tr) => [tr.getBoundingClientRect().width,
            [...tr.cells].map((td) => td.dataset.label || '')]);
        assert.ok(w <= PHONE.width, 'the card fits');
        assert.deepEqual(labels.filter(Boolean), ['User', 'Bio', 'Channel', 'Invite link', 'Requested', 'Status', 'Verdict', 'Decided']);
        const box = (sel) => heldCard.locator(sel).boundingBox();
        const [bio, chat] = [await box('td.bio'), await box('td.chat')];
        assert.ok(chat.y >= bio.y + bio.height - 1, 'the cells are stacked, not side by side');
        for (const [loc, what] of [[heldCard.locator('td.check input'), 'the checkbox'],
            [heldCard.locator('td.status .badge'), 'the status'],
            [heldCard.getByRole('button', { name: /^Release/ }), 'Release'],
            [heldCard.locator('.verdict-link'), 'the verdict']]) {
            await loc.scrollIntoViewIfNeeded();
            await onScreen(loc, `held card: ${what}`);
        }
        const unban = card(await idOf(banned)).getByRole('button', { name: /^Unban/ });
        await unban.scrollIntoViewIfNeeded();
        await onScreen(unban, 'Unban');
        // the header's select-all stays usable; the column headings are not shown as a bar
        await page.evaluate(() => window.scrollTo(0, 0));
        await onScreen(page.getByRole('checkbox', { name: 'Select all visible pending requests' }), 'select all', { vertical: false });
        noHarm();
    });

    test('Invite Requests: the decision buttons and Export are within the screen; the decision dialog fits', async () => {
        await open('#/requests', '.requests-table tbody tr');
        await assertFits('Invite Requests (pending)');
        for (const name of ['Refresh', 'Export', 'Clear filters']) {
            await onScreen(page.locator('.filters').getByRole(name === 'Export' ? 'link' : 'button', { name }), name, { vertical: false });
        }
        const cb = card(await idOf(plain)).locator('td.check input');
        await cb.scrollIntoViewIfNeeded();
        await cb.check();
        // with the list scrolled to the selected card, the decision buttons are still on screen
        for (const name of ['Approve Selected', 'Deny Selected', 'Approve All', 'Deny All']) {
            await onScreen(page.getByRole('button', { name, exact: true }), name);
        }
        await page.getByRole('button', { name: 'Approve Selected', exact: true }).click();
        const dlg = page.locator('dialog.modal[open]');
        await dlg.waitFor();
        await waitFor(async () => (await dlg.locator('.preflight').getAttribute('data-state')) === 'ok', { what: 'the dialog to check the bot' });
        await onScreen(dlg, 'the decision dialog');
        for (const name of ['Cancel', 'Approve 1']) await onScreen(dlg.getByRole('button', { name, exact: true }), `dialog: ${name}`);
        await assertFits('the decision dialog');
        await dlg.getByRole('button', { name: 'Cancel' }).click();
        await dlg.waitFor({ state: 'detached' });
        noHarm();
    });

    test('the navigation and Log out are in a menu: a button with aria-expanded, usable by keyboard', async () => {
        await open('#/requests', '.requests-table tbody tr');
        await page.evaluate(() => window.scrollTo(0, 0));
        const btn = menuBtn();
        await onScreen(btn, 'the menu button');
        assert.equal(await btn.getAttribute('aria-expanded'), 'false');
        const links = page.locator('.nav a');
        assert.equal(await links.count(), 10);
        assert.equal(await links.first().isVisible(), false, 'closed: the navigation is out of the way');
        await btn.click();
        assert.equal(await btn.getAttribute('aria-expanded'), 'true');
        for (let i = 0; i < 10; i++) await onScreen(links.nth(i), `nav: ${await links.nth(i).textContent()}`);
        await onScreen(page.getByRole('button', { name: 'Log out' }), 'Log out');
        await assertFits('the open menu');
        // Escape closes it and gives the focus back to the button
        await page.keyboard.press('Escape');
        assert.equal(await btn.getAttribute('aria-expanded'), 'false');
        assert.equal(await page.evaluate(() => document.activeElement?.id), 'menu-toggle');
        // Enter opens it, Tab reaches the first item, Enter follows it and the menu closes
        await page.keyboard.press('Enter');
        assert.equal(await btn.getAttribute('aria-expanded'), 'true');
        await page.keyboard.press('Tab');
        assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Invite Requests');
        await page.keyboard.press('Tab');
        await page.keyboard.press('Enter');
        await page.locator('.rules-card').waitFor();
        assert.equal(await btn.getAttribute('aria-expanded'), 'false', 'following a link closes the menu');
        assert.equal(await links.first().isVisible(), false);
        // each page through the menu, by a click
        for (const [name, ready] of [['Audit Log', 'main tbody tr'], ['Logs', 'main .page-head'], ['Settings', '.settings-grid'], ['Account', '.account-grid'], ['Sessions', '.sessions-table tbody tr'],
            ['Jobs', 'main tbody tr'], ['Statistics', '.stat-card'], ['Invite Links', 'main .page-head'], ['Invite Requests', '.requests-table tbody tr']]) {
            await btn.click();
            await page.locator('.nav').getByRole('link', { name }).click();
            // the page named current first: a generic `ready` (main .page-head) is on the page
            // being left too (CI at ab83fdb read the menu while Statistics was still current)
            await page.waitForFunction((n) => document.querySelector('.nav a[aria-current=page]')?.textContent === n, name, { timeout: 10000 });
            await page.locator(ready).first().waitFor();
            assert.equal(await page.locator('.nav a[aria-current=page]').textContent(), name);
            assert.equal(await btn.getAttribute('aria-expanded'), 'false');
        }
        noHarm();
    });

    test('Rules: the rules, the editor and its dry run one under the other, within the screen', async () => {
        await open(`#/rules?chat_id=${c1}`, '.rules-table tbody tr');
        await page.locator('.apply-card').getByRole('button', { name: /^Apply the rules to the \d+ pending$/ }).waitFor();
        await assertFits('Rules');
        await page.getByRole('button', { name: 'Edit links in bio' }).click();
        await page.getByRole('button', { name: 'Run dry run' }).click();
        await page.locator('.rules-dryrun[data-state=done]').waitFor();
        await assertFits('Rules with the editor and a dry run');
        const editor = await page.locator('.rule-editor').boundingBox();
        const dry = await page.locator('.rules-dryrun').boundingBox();
        assert.ok(dry.y >= editor.y + editor.height - 1, 'the dry run is under the editor');
        for (const name of ['Save rule', 'Cancel', 'Run dry run']) {
            const b = page.locator(name === 'Run dry run' ? '.rules-dryrun' : '.rule-editor').getByRole('button', { name, exact: true });
            await b.scrollIntoViewIfNeeded();
            await onScreen(b, `Rules: ${name}`);
        }
        await open('#/rules', '.rules-table tbody tr');
        await assertFits('Rules (global)');
        noHarm();
    });

    test('Jobs: every job and its errors within the screen', async () => {
        await open('#/jobs', 'main tbody tr');
        await waitFor(async () => (await page.locator('main tbody tr').count()) >= 2, { what: 'the two jobs' });
        await assertFits('Jobs');
        const errors = page.getByRole('button', { name: 'Errors' });
        await errors.scrollIntoViewIfNeeded();
        await onScreen(errors, 'Errors');
        await errors.click();
        await page.locator('.detail-row').waitFor();
        assert.match(await page.locator('.detail-row').textContent(), /USER_CHANNELS_TOO_MUCH/);
        await assertFits('Jobs with a job\'s errors');
        noHarm();
    });

    test('Audit Log: every entry within the screen', async () => {
        await open('#/audit', 'main tbody tr');
        await assertFits('Audit Log');
        await onScreen(page.locator('.page-head').getByRole('link', { name: 'Export' }), 'Export', { vertical: false });
        noHarm();
    });

    test('Logs: within the screen', async () => {
        await open('#/logs', 'main .page-head');
        await assertFits('Logs');
        noHarm();
    });

    test('Sessions: each session\'s status, checks and actions within the screen; the Delete dialog fits', async () => {
        await open('#/sessions', '.sessions-table tbody tr');
        await waitFor(async () => (await page.locator('.sessions-table tbody tr').count()) === 2, { what: 'the two sessions' });
        await assertFits('Sessions');
        for (const name of ['Create New Session', 'Add Bot Session', 'Import Session']) {
            await onScreen(page.getByRole('button', { name }), name, { vertical: false });
        }
        const row = page.locator('.sessions-table tbody tr[data-name=ops_maximiliana]');
        for (const [loc, what] of [[row.locator('td.session-status .badge'), 'status'], [row.locator('td.date'), 'last check'],
            ...['Check Status', 'Load Requests', 'Export', 'Delete'].map((n) => [row.getByRole('button', { name: n }), n])]) {
            await loc.scrollIntoViewIfNeeded();
            await onScreen(loc, `session: ${what}`);
        }
        await row.getByRole('button', { name: 'Delete' }).click();
        const dlg = page.locator('dialog.modal[open]');
        await dlg.waitFor();
        await onScreen(dlg, 'the Delete dialog');
        await assertFits('the Delete dialog');
        await dlg.getByRole('button', { name: 'Cancel' }).click();
        await dlg.waitFor({ state: 'detached' });
        noHarm();
    });

    test('Settings: within the screen', async () => {
        await open('#/settings', '.settings-grid');
        await page.locator('.admins-table tbody tr').first().waitFor();
        await assertFits('Settings');
        noHarm();
    });

    test('Account: within the screen', async () => {
        await open('#/account', '.account-grid');
        await page.locator('.tokens-card .channel-picker input').first().waitFor();
        await assertFits('Account');
        noHarm();
    });

    test('Log out from the menu', async () => {
        await open('#/requests', '.requests-table tbody tr');
        await menuBtn().click();
        await page.getByRole('button', { name: 'Log out' }).click();
        await page.locator('input[name=name]').waitFor();
        await assertFits('the login page');
        assert.equal(await menuBtn().isVisible(), false, 'no menu while signed out');
        noHarm();
    });
});
