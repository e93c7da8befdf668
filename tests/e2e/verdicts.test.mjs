// The rules' decisions in the panel, in a real browser (headless Debian chromium) against the real
// doorman and tgsim (issue 13, items 4, 5 and 7): the blocklist service set on the Settings page
// (the API's 400 shown); requests decided by rules show their verdict in the Invite Requests table
// and a click on it filters by the rule as GET /api/invite-requests?rule_id= does; Release gives a
// held request back; Unban lifts a rule's ban in tgsim, a failed one says why in its row; on the
// Rules page, Apply runs a channel's rules over its backlog as a job to its end, the editor
// explains has_photo and on_blocklist, the dry run explains its unknown count, and the mode's
// account is chosen in a select. Rule names and user names are hostile: they must stay text.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { addRequester, casUrl, tgAddJoinRequests, tgBans, tgCasAdd, tgCreateUser, tgInjectFault, tgJoinRequests } from '../lib/tgsim.mjs';
import { waitRecorded } from '../lib/api.mjs';
import { startSessionStack, ADMIN } from '../lib/stacks.mjs';
import { newBotSession } from '../lib/sessions.mjs';
import { launchBrowser, watchedPage, login } from '../lib/browser.mjs';

const XSS_RULE = '<img src=x onerror=alert(1)> links';
const XSS_NAME = '<script>alert(2)</script>';

describe('rules decisions in the panel (chromium)', () => {
    let s, browser, page, seen, c1, c2;
    let listedRule, holdRule, spammer, linker, linker2, plain;

    before(async () => {
        s = await startSessionStack({ dcs: 1, world: { channels: 2, pending: 0 }, configureBot: true });
        [c1, c2] = s.world.chatIds;
        browser = await launchBrowser();
        ({ page, seen } = await watchedPage(browser));
        await login(page, s.dm.url, ADMIN);
    });
    after(async () => {
        await browser?.close();
        await s?.cleanup();
    });

    const ok = async (p, body) => {
        const r = await s.client.post(p, body);
        assert.equal(r.status, 200, `${p}: ${r.text}`);
        return r.json;
    };
    const list = async (query) => (await s.client.ok('/api/invite-requests?' + new URLSearchParams({ limit: '500', ...query }))).items;
    const requestOf = async (userId) => (await list({ chat_id: String(c1) })).find((r) => r.user_id === userId);
    const row = (id) => page.locator(`.requests-table tbody tr[data-id="${id}"]`);
    const shownIds = () => page.$$eval('.requests-table tbody tr', (trs) => trs.map((tr) => Number(tr.dataset.id)));
    const noHarm = () => {
        assert.deepEqual(seen.dialogs, [], 'no dialog fired');
        assert.deepEqual(seen.pageErrors, [], 'no page error');
        assert.deepEqual(seen.cspViolations, [], 'no CSP violation');
    };

    test("Settings: a bad blocklist address shows the API's 400 and saves nothing; a good one is saved", async () => {
        await page.goto(s.dm.url + '/#/settings');
        const card = page.locator('.blocklist-card');
        await card.locator('.mode-now[data-on=false]').waitFor();
        await card.locator('input[name=blocklist_url]').fill('ftp://cas.example');
        await card.getByRole('button', { name: 'Save' }).click();
        await card.locator('.form-error').waitFor();
        const api = await s.client.post('/api/settings', { blocklist_url: 'ftp://cas.example' });
        assert.equal(api.status, 400);
        assert.equal(await card.locator('.form-error').textContent(), api.json.error.message);
        assert.equal((await s.client.ok('/api/settings')).blocklist_url, '', 'the bad address was not saved');

        await card.locator('input[name=blocklist_url]').fill(casUrl(s.tg));
        await card.getByRole('button', { name: 'Save' }).click();
        await card.locator('.form-ok').waitFor();
        assert.equal((await s.client.ok('/api/settings')).blocklist_url, casUrl(s.tg));
        assert.equal(await card.locator('.mode-now').textContent(), 'On');
    });

    test('a request decided by a rule shows its verdict; a click filters the table by the rule as the API does', async () => {
        listedRule = (await ok('/api/rules', { chat_id: c1, name: 'listed', conditions: [{ type: 'on_blocklist' }], action: 'decline_and_ban' })).rule;
        holdRule = (await ok('/api/rules', { chat_id: c1, name: XSS_RULE, conditions: [{ type: 'bio_has_link' }], action: 'hold' })).rule;
        await ok('/api/modes', { chat_id: c1, mode: 'rules' });
        const u = await tgCreateUser(s.tg, { first_name: 'Listed', last_name: 'Spammer' });
        await tgCasAdd(s.tg, { user_id: u.id, offenses: 2 });
        await tgAddJoinRequests(s.tg, { chat_id: c1, user_id: u.id });
        spammer = { user_id: u.id };
        linker = await addRequester(s.tg, c1, { first_name: XSS_NAME, bio: 'see https://spam.example.com' });
        linker2 = await addRequester(s.tg, c1, { first_name: 'Linda', bio: 'www.spam.example' });
        plain = await addRequester(s.tg, c1, { first_name: 'Plain', last_name: 'Person' });
        await waitRecorded(s.client, 4);
        await waitFor(async () => (await requestOf(spammer.user_id))?.banned, { timeoutMs: 15000, what: 'the listed user declined and banned' });
        await waitFor(async () => (await requestOf(linker2.user_id))?.verdict.endsWith('hold for review')
            && (await requestOf(linker.user_id))?.verdict.endsWith('hold for review'), { timeoutMs: 15000, what: 'the links held' });

        await page.goto(s.dm.url + '/#/requests?status=all');
        const held = await requestOf(linker.user_id);
        await row(held.id).waitFor();
        await waitFor(async () => (await shownIds()).length === 4, { what: 'the four requests listed' });
        const verdict = row(held.id).locator('td.verdict .verdict-link');
        assert.equal(held.verdict, `rule 2: ${XSS_RULE} → hold for review`);
        assert.equal(await verdict.textContent(), held.verdict, 'the verdict as the API has it, as text');
        const sp = await requestOf(spammer.user_id);
        assert.equal(sp.verdict, 'rule 1: listed → decline and ban');
        assert.equal(sp.rule_id, listedRule.id);
        assert.equal(await row(sp.id).locator('.verdict-link').textContent(), sp.verdict);
        assert.equal(await row(sp.id).locator('.badge-banned').count(), 1, 'the banned marker');
        assert.equal(await row(sp.id).locator('td.decided').textContent().then((t) => t.startsWith('(rules)')), true, 'decided by the rules');
        const pl = await requestOf(plain.user_id);
        assert.equal(pl.verdict, '');
        assert.equal(await row(pl.id).locator('td.verdict').textContent(), '—');
        assert.equal(await row(pl.id).locator('[data-verdict-action]').count(), 0, 'nothing to undo for a request no rule spoke for');
        assert.equal(await row(held.id).getByRole('button', { name: 'Release' }).count(), 1);
        assert.equal(await row(held.id).getByRole('button', { name: 'Unban' }).count(), 0);
        assert.equal(await page.locator('.requests-table img, .requests-table script').count(), 0, 'no element made from a name');

        await verdict.click();
        await waitFor(() => page.url().includes(`rule_id=${holdRule.id}`), { what: 'the rule in the address' });
        const api = await list({ rule_id: String(holdRule.id) });
        assert.equal(api.length, 2, 'the API keeps the two held requests');
        const ids = await waitFor(async () => {
            const t = await shownIds();
            return t.length === api.length ? t : null;
        }, { what: 'the table filtered by the rule' });
        assert.deepEqual(ids, api.map((r) => r.id), 'the table shows what GET ?rule_id= gives, in its order');
        const chip = page.locator('.filter-chips');
        assert.equal(await chip.locator('.chip-text').textContent(), `rule 2: ${XSS_RULE}`);
        // Approve/Deny All take the rule filter too: on, counting the rule's pending requests
        assert.equal(await page.getByRole('button', { name: 'Approve All' }).isDisabled(), false);
        await waitFor(async () => (await page.getByText('2 pending match the filter').count()) > 0, { what: 'the count under the rule filter' });
        noHarm();
    });

    test('Release gives a held request back to the admins; the filtered table follows', async () => {
        const r2 = await requestOf(linker2.user_id);
        await row(r2.id).getByRole('button', { name: 'Release' }).click();
        await waitFor(async () => (await requestOf(linker2.user_id)).rule_id === null, { what: 'released in the API' });
        const after = await requestOf(linker2.user_id);
        assert.equal(after.verdict, 'released by admin');
        assert.equal(after.status, 'pending');
        await row(r2.id).waitFor({ state: 'detached' });
        assert.deepEqual(await shownIds(), (await list({ rule_id: String(holdRule.id) })).map((r) => r.id));

        // the filter kept in the address: a reload shows it again, named by the table's verdicts
        await page.reload();
        await waitFor(async () => (await page.locator('.filter-chips .chip-text').textContent()) === `rule 2: ${XSS_RULE}`,
            { what: 'the rule filter named after a reload' });
        assert.deepEqual(await shownIds(), (await list({ rule_id: String(holdRule.id) })).map((r) => r.id));

        // the filter removed: every status again, the released one without a Release button
        await page.getByRole('button', { name: 'Remove the rule filter' }).click();
        await page.locator('.filter-chips').waitFor({ state: 'hidden' });
        assert.ok(!page.url().includes('rule_id'), 'the rule left the address');
        assert.equal(await page.getByRole('button', { name: 'Approve All' }).isDisabled(), false, 'All is back without the rule filter');
        await row(r2.id).waitFor();
        assert.equal(await row(r2.id).locator('td.verdict').textContent(), 'released by admin');
        assert.equal(await row(r2.id).locator('[data-verdict-action]').count(), 0);
    });

    test('Unban: a failure says why in the row and changes nothing; then the ban is lifted in tgsim', async () => {
        const sp = await requestOf(spammer.user_id);
        const banOf = async () => (await tgBans(s.tg, `chat_id=${c1}`)).items.find((b) => b.user_id === spammer.user_id);
        assert.equal((await banOf()).banned, true);
        await tgInjectFault(s.tg, { method: 'unbanChatMember', count: 1, error_code: 400, description: 'Bad Request: not enough rights' });
        await row(sp.id).getByRole('button', { name: 'Unban' }).click();
        const result = row(sp.id).locator('.verdict-result');
        await result.waitFor();
        assert.match(await result.textContent(), /^Unban failed: .*not enough rights/);
        assert.equal((await requestOf(spammer.user_id)).banned, true, 'doorman still has the ban');
        assert.equal((await banOf()).banned, true, 'tgsim still has the ban');

        await row(sp.id).getByRole('button', { name: 'Unban' }).click();
        await waitFor(async () => (await banOf()).banned === false, { what: 'the ban lifted in tgsim' });
        assert.equal((await requestOf(spammer.user_id)).banned, false);
        await waitFor(async () => (await row(sp.id).locator('.badge-banned').count()) === 0, { what: 'the marker gone' });
        assert.equal(await row(sp.id).locator('[data-verdict-action]').count(), 0, 'no Unban left');
        noHarm();
    });

    test('Rules page: Apply runs the channel\'s rules over its backlog as a job to its end', async () => {
        await ok('/api/rules', { chat_id: c2, name: 'casino', conditions: [{ type: 'name_matches', words: ['casino'] }], action: 'decline' });
        const casino = await addRequester(s.tg, c2, { first_name: 'Casino', last_name: 'Joe' });
        const ann = await addRequester(s.tg, c2, { first_name: 'Ann', photo: true });
        await addRequester(s.tg, c2, { first_name: 'Bob', photo: false });
        await waitRecorded(s.client, 3, { query: { chat_id: String(c2) } });
        const before = (await s.client.ok(`/api/invite-requests?chat_id=${c2}&status=pending&limit=1`)).counts.pending;
        assert.equal(before, 3, 'manual mode: nothing decided yet');

        await page.goto(`${s.dm.url}/#/rules?chat_id=${c2}`);
        const card = page.locator('.apply-card');
        const btn = card.getByRole('button', { name: /^Apply the rules to the/ });
        await card.getByRole('button', { name: 'Apply the rules to the 3 pending' }).waitFor();
        await btn.click();
        await page.locator('dialog.modal[open]').getByRole('button', { name: 'Apply the rules' }).click();
        await card.locator('.job[data-state=done]').waitFor({ timeout: 30000 });
        assert.equal(await card.locator('.job-pct').textContent(), '3 of 3 · 100%');

        await waitFor(async () => (await tgJoinRequests(s.tg, `chat_id=${c2}`)).find((r) => r.user_id === casino.user_id).status === 'declined',
            { timeoutMs: 20000, what: 'the casino request declined in tgsim' });
        const recs = await tgJoinRequests(s.tg, `chat_id=${c2}`);
        assert.equal(recs.find((r) => r.user_id === casino.user_id).decisions, 1);
        assert.equal(recs.find((r) => r.user_id === ann.user_id).status, 'pending', 'no rule matched Ann');
        // The job judged; the decline went out through a (rules) job: once doorman has it, dismissing
        // the finished job counts the pending again.
        await waitFor(async () => (await s.client.ok(`/api/invite-requests?chat_id=${c2}&status=pending&limit=1`)).counts.pending === 2,
            { timeoutMs: 20000, what: 'doorman records the decline' });
        assert.match(await card.locator('.job-foot').textContent(), /jobs of \(rules\)/);
        await card.getByRole('button', { name: 'Dismiss' }).click();
        await card.getByRole('button', { name: 'Apply the rules to the 2 pending' }).waitFor();
    });

    test("the editor explains has_photo and on_blocklist; the dry run explains its unknown count", async () => {
        const editor = page.locator('.rule-editor');
        await page.getByRole('button', { name: '+ Add rule' }).click();
        await editor.waitFor();
        const cond = editor.locator('.cond-row').first();
        await cond.locator('select[name=type]').selectOption('on_blocklist');
        assert.equal(await cond.locator('.cond-note').textContent(),
            'Asks the blocklist service set in Settings; while it is off this condition is unknown and the rule is passed over; when the service does not answer, the request waits and is checked again a minute later.');
        await cond.locator('select[name=type]').selectOption('has_photo');
        assert.match(await cond.locator('.cond-note').textContent(), /^Costs one call to Telegram per request it is asked for/);
        await editor.locator('select[name=action]').selectOption('hold');
        await page.getByRole('button', { name: 'Run dry run' }).click();
        await page.locator('.rules-dryrun[data-state=done]').waitFor();
        const saved = (await s.client.ok(`/api/rules?chat_id=${c2}`)).rules;
        const set = [...saved.map((r) => ({ name: r.name, enabled: r.enabled, conditions: r.conditions, action: r.action })),
            { name: '', enabled: true, conditions: [{ type: 'has_photo' }], action: 'hold' }];
        const api = await ok('/api/rules/dry-run', { chat_id: c2, rules: set });
        assert.equal(api.unknown, 2, 'both pending requests had the photo rule passed over');
        assert.equal(await page.locator('.dry-unknown').textContent(),
            '2 requests could not be fully checked: “Has a profile photo” and “On the blocklist” are not asked in a dry run, ' +
            'so a rule with them was passed over; applied for real, it may decide them.');
        await editor.getByRole('button', { name: 'Cancel' }).click();
        await editor.waitFor({ state: 'hidden' });
    });

    test("the mode's account: a select of the bot and the sessions; saving stores session_name", async () => {
        await newBotSession(s.client, s.tg, { name: 'helper_bot', username: 'verdicts_helper_bot' });
        await page.reload();
        const card = page.locator('.mode-card');
        const modes = () => s.client.ok('/api/modes');
        await card.locator('.mode-now[data-mode=default]').waitFor();
        assert.equal(await card.locator('.mode-account').isVisible(), false, 'a channel following the default has no account of its own');
        await card.locator('.mode-option[data-mode=rules]').click();
        const sel = card.locator('select[name=session_name]');
        await waitFor(async () => (await sel.locator('option').allTextContents()).length === 2, { what: 'the sessions in the select' });
        assert.deepEqual(await sel.locator('option').allTextContents(), ['the bot', 'session helper_bot (bot)']);
        await sel.selectOption('helper_bot');
        await card.getByRole('button', { name: 'Save mode' }).click();
        await card.locator('.form-ok').waitFor();
        let m = (await modes()).channels.find((x) => x.chat_id === c2);
        assert.deepEqual([m.mode, m.session_name], ['rules', 'helper_bot']);
        assert.equal(await card.locator('.mode-now').textContent(), 'Now: rules, through session helper_bot');

        await page.reload();
        await card.locator('.mode-now[data-mode=rules]').waitFor();
        assert.equal(await sel.inputValue(), 'helper_bot', 'the saved account is shown');
        await sel.selectOption({ label: 'the bot' });
        await card.getByRole('button', { name: 'Save mode' }).click();
        await waitFor(async () => (await modes()).channels.find((x) => x.chat_id === c2).session_name === null,
            { what: 'the bot again' });
        m = (await modes()).channels.find((x) => x.chat_id === c2);
        assert.equal(m.mode, 'rules', 'the mode kept');
        noHarm();
    });

    test('the Jobs page tells the rules\' jobs from the admins\'', async () => {
        await page.goto(s.dm.url + '/#/jobs');
        const rows = () => page.locator('tbody tr[data-id]');
        const admins = async () => (await rows().locator('td:nth-child(3)').allTextContents());
        await waitFor(async () => (await rows().count()) > 0, { what: 'the jobs listed' });
        const all = await admins();
        assert.ok(all.includes('(rules)') && all.some((a) => a !== '(rules)'), `both kinds listed: ${all}`);
        const by = page.locator('select[name=by]');
        await by.selectOption('rules');
        const want = (await s.client.ok('/api/jobs?by=rules&limit=50')).items.map((j) => String(j.id));
        await waitFor(async () => JSON.stringify(await rows().evaluateAll((trs) => trs.map((t) => t.dataset.id))) === JSON.stringify(want), { what: 'only the rules\' jobs' });
        await by.selectOption('admins');
        await waitFor(async () => { const a = await admins(); return a.length > 0 && !a.includes('(rules)'); }, { what: 'only the admins\' jobs' });
        noHarm();
    });
});
