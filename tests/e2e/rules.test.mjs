// The Rules page in a real browser (headless Debian chromium) against the real doorman and tgsim
// (issue 13, item 7 and the browser test of "Proof"): the editor (two conditions; a bad regular
// expression shows the API's message and saves nothing), reordering with the keyboard,
// enable/disable, delete, the dry run's numbers against the API's for the same rule set, the
// mode switch, the lists, and a hostile name in the dry run's examples rendered as text. Every
// check of what was saved reads the API, not the page.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { addRequester } from '../lib/tgsim.mjs';
import { waitRecorded } from '../lib/api.mjs';
import { startSessionStack, ADMIN } from '../lib/stacks.mjs';
import { newBotSession } from '../lib/sessions.mjs';
import { launchBrowser, watchedPage, login } from '../lib/browser.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const XSS_LAST = '"><script>alert(2)</script>';
const OUTCOMES = ['approve', 'decline', 'decline_and_ban', 'hold', 'approve_after', 'verify', 'no_match'];

describe('Rules page in chromium', () => {
    let s, browser, page, seen, c1, c2;
    const users = {};

    before(async () => {
        s = await startSessionStack({ dcs: 1, world: { channels: 2, pending: 0 }, configureBot: true });
        [c1, c2] = s.world.chatIds;
        const add = async (key, chat, f) => { users[key] = await addRequester(s.tg, chat, f); };
        await add('hostile', c1, { first_name: XSS, last_name: XSS_LAST, username: 'xss_probe', bio: 'Earn now: https://spam.example.com/x' });
        await add('casino1', c1, { first_name: 'Free CASINO', last_name: 'spins' });
        await add('casino2', c1, { first_name: 'Bonus', last_name: 'King' });
        await add('casinoNamed', c1, { first_name: 'Casino', last_name: 'Fan', username: 'casino_fan' });
        await add('premium', c1, { first_name: 'Pavel', username: 'pavel_p', is_premium: true });
        await add('plain', c1, { first_name: 'Ann', last_name: 'Lee', username: 'ann_lee' });
        await add('other', c2, { first_name: 'Elsewhere' });
        await waitRecorded(s.client, 7);
        browser = await launchBrowser();
        ({ page, seen } = await watchedPage(browser));
        await login(page, s.dm.url, ADMIN);
    });
    after(async () => {
        await browser?.close();
        await s?.cleanup();
    });

    const rulesOf = async (chat) => (await s.client.ok(`/api/rules?chat_id=${chat}`)).rules;
    const editor = () => page.locator('.rule-editor');
    const ruleRows = () => page.locator('.rules-table tbody tr');
    // The rules the page lists now: [{id, text, enabled}].
    const shown = () => page.$$eval('.rules-table tbody tr', (trs) => trs.map((tr) => ({
        id: Number(tr.dataset.id), text: tr.querySelector('.rule-text').textContent, enabled: tr.dataset.enabled === 'true',
    })));
    const waitShown = (pred, what) => waitFor(async () => {
        const t = await shown();
        return pred(t) ? t : null;
    }, { timeoutMs: 10000, what });
    const waitApi = (chat, pred, what) => waitFor(async () => {
        const r = await rulesOf(chat);
        return pred(r) ? r : null;
    }, { timeoutMs: 10000, what });

    // Fills condition row i of the editor.
    async function condition(i, { type, negate, fields = {} }) {
        const row = editor().locator('.cond-row').nth(i);
        await row.locator('select[name=type]').selectOption(type);
        if (negate) await row.locator('input[name=negate]').check();
        for (const [name, value] of Object.entries(fields)) {
            const el = row.locator(`[name=${name}]`);
            if (await el.evaluate((e) => e.tagName === 'SELECT')) await el.selectOption(value);
            else await el.fill(value);
        }
    }

    test('the page opens from the nav; the scope picker lists Global rules and each channel', async () => {
        await page.getByRole('link', { name: 'Rules' }).click();
        await page.locator('.rules-card').waitFor();
        const scopes = await waitFor(async () => {
            const o = await page.locator('select[name=scope] option').allTextContents();
            return o.length > 1 ? o : null;
        }, { what: 'the channels in the scope picker' });
        assert.deepEqual(scopes, ['Global rules', 'Channel 1', 'Channel 2']);
        await page.locator('select[name=scope]').selectOption({ label: 'Channel 1' });
        await waitFor(() => page.url().includes(`chat_id=${c1}`), { what: 'the scope in the address' });
        await page.getByText('No rules yet', { exact: false }).waitFor();
    });

    test('the editor: a rule with two conditions is saved as typed and listed as a sentence', async () => {
        await page.getByRole('button', { name: '+ Add rule' }).click();
        await editor().waitFor();
        await editor().locator('input[name=rule_name]').fill('casino spam');
        await condition(0, { type: 'name_matches', fields: { how: 'words', pattern: 'casino, bonus' } });
        await editor().getByRole('button', { name: '+ Add condition' }).click();
        await condition(1, { type: 'has_username', negate: true });
        await editor().locator('select[name=action]').selectOption('decline_and_ban');
        await editor().getByRole('button', { name: 'Save rule' }).click();
        await editor().waitFor({ state: 'hidden' });
        const rules = await waitApi(c1, (r) => r.length === 1, 'the rule saved');
        assert.equal(rules[0].name, 'casino spam');
        assert.equal(rules[0].enabled, true);
        assert.equal(rules[0].action, 'decline_and_ban');
        assert.deepEqual(rules[0].conditions, [
            { type: 'name_matches', words: ['casino', 'bonus'] },
            { type: 'has_username', negate: true },
        ]);
        const t = await waitShown((x) => x.length === 1, 'the rule listed');
        assert.equal(t[0].text, 'If name matches casino, bonus and has no username → decline and ban');
    });

    test("a bad regular expression shows the API's message naming the field, and nothing is saved", async () => {
        await page.getByRole('button', { name: '+ Add rule' }).click();
        await condition(0, { type: 'name_matches', fields: { how: 'regex', pattern: '(unclosed' } });
        await editor().locator('select[name=action]').selectOption('decline');
        await editor().getByRole('button', { name: 'Save rule' }).click();
        const err = editor().locator('.form-error');
        await err.waitFor();
        const api = await s.client.post('/api/rules', { chat_id: c1, name: '', enabled: true,
            conditions: [{ type: 'name_matches', regex: '(unclosed' }], action: 'decline' });
        assert.equal(api.status, 400);
        assert.equal(await err.textContent(), api.json.error.message);
        assert.match(await err.textContent(), /conditions\[0\]\.regex/);
        assert.equal(await editor().locator('.cond-row').first().getAttribute('aria-invalid'), 'true', 'the condition is marked');
        assert.equal((await rulesOf(c1)).length, 1, 'nothing was saved');
        assert.ok(await editor().isVisible(), 'the editor stays open with what was typed');
        await editor().getByRole('button', { name: 'Cancel' }).click();
        await editor().waitFor({ state: 'hidden' });
    });

    test('more rules; reordering with the keyboard follows the API order', async () => {
        for (const [name, type, action] of [['links', 'bio_has_link', 'decline'], ['premium', 'is_premium', 'approve']]) {
            await page.getByRole('button', { name: '+ Add rule' }).click();
            await editor().locator('input[name=rule_name]').fill(name);
            await condition(0, { type });
            await editor().locator('select[name=action]').selectOption(action);
            await editor().getByRole('button', { name: 'Save rule' }).click();
            await editor().waitFor({ state: 'hidden' });
        }
        let rules = await waitApi(c1, (r) => r.length === 3, 'three rules');
        const [casino, links, premium] = rules.map((r) => r.id);
        assert.deepEqual(rules.map((r) => r.name), ['casino spam', 'links', 'premium']);
        await waitShown((x) => x.length === 3, 'three rules listed');

        // "premium" up twice by keyboard: Enter on the focused button, focus stays on the rule.
        await page.getByRole('button', { name: 'Move premium up' }).focus();
        await page.keyboard.press('Enter');
        rules = await waitApi(c1, (r) => r.map((x) => x.id).join() === [casino, premium, links].join(), 'premium second');
        await waitShown((x) => x.map((r) => r.id).join() === [casino, premium, links].join(), 'the page in the new order');
        await waitFor(() => page.evaluate(() => document.activeElement?.closest('tr')?.dataset.id), { what: 'focus on a row' });
        assert.equal(await page.evaluate(() => document.activeElement.closest('tr').dataset.id), String(premium),
            'focus stays on the moved rule');
        await page.keyboard.press('Enter');
        await waitApi(c1, (r) => r.map((x) => x.id).join() === [premium, casino, links].join(), 'premium first');
        await waitShown((x) => x.map((r) => r.id).join() === [premium, casino, links].join(), 'premium listed first');
        assert.equal(await page.getByRole('button', { name: 'Move premium up' }).isDisabled(), true, 'the first cannot move up');

        await page.getByRole('button', { name: 'Move premium down' }).click();
        await waitApi(c1, (r) => r.map((x) => x.id).join() === [casino, premium, links].join(), 'premium second again');
        await waitShown((x) => x.map((r) => r.id).join() === [casino, premium, links].join(), 'listed second again');
    });

    test('enable and disable', async () => {
        const box = page.getByRole('checkbox', { name: 'Enabled: premium' });
        await box.uncheck();
        await waitApi(c1, (r) => r.find((x) => x.name === 'premium').enabled === false, 'premium disabled');
        await waitShown((x) => x.some((r) => r.text === 'If is Premium → approve' && !r.enabled), 'shown disabled');
        await page.getByRole('checkbox', { name: 'Enabled: premium' }).check();
        await waitApi(c1, (r) => r.find((x) => x.name === 'premium').enabled === true, 'premium enabled again');
        await page.getByRole('checkbox', { name: 'Enabled: links' }).uncheck();
        await waitApi(c1, (r) => r.find((x) => x.name === 'links').enabled === false, 'links disabled');
    });

    test("the dry run of the rules as edited matches the API's dry run; the hostile name is text", async () => {
        // Edit "links" (disabled) without saving: it becomes decline_and_ban; the dry run tries
        // the set with that edit in its place (still disabled: checked, not tried), then enabled.
        await page.getByRole('checkbox', { name: 'Enabled: links' }).check();
        await waitApi(c1, (r) => r.find((x) => x.name === 'links').enabled === true, 'links enabled');
        await page.getByRole('button', { name: 'Edit links' }).click();
        await editor().waitFor();
        assert.equal(await page.locator('.rules-table tr.is-editing .rule-name').textContent(), 'links', 'the rule edited is marked');
        await editor().locator('select[name=action]').selectOption('hold');
        const saved = await rulesOf(c1);
        const set = saved.map((r) => ({ name: r.name, enabled: r.enabled, conditions: r.conditions, action: r.action }));
        set[saved.findIndex((r) => r.name === 'links')].action = 'hold';
        const api = await s.client.post('/api/rules/dry-run', { chat_id: c1, rules: set });
        assert.equal(api.status, 200, api.text);
        assert.deepEqual(api.json.counts, { approve: 1, decline: 0, decline_and_ban: 2, hold: 1, approve_after: 0, verify: 0, no_match: 2 },
            'the set as edited does what the test expects');

        await page.getByRole('button', { name: 'Run dry run' }).click();
        await page.locator('.rules-dryrun[data-state=done]').waitFor();
        const ui = Object.fromEntries(await page.$$eval('.dry-outcome', (els) => els.map((e) => [e.dataset.outcome, Number(e.dataset.count)])));
        assert.deepEqual(ui, Object.fromEntries(OUTCOMES.map((k) => [k, api.json.counts[k]])));
        assert.match(await page.locator('.dry-summary').textContent(), /^6 pending evaluated in \d+ ms\.$/);
        const names = await page.$$eval('.dry-outcome', (els) => Object.fromEntries(els.map((e) => [e.dataset.outcome,
            [...e.querySelectorAll('.dry-example .user-name')].map((n) => n.textContent)])));
        for (const k of OUTCOMES) {
            assert.deepEqual(names[k], api.json.examples[k].map((x) => [x.first_name, x.last_name].filter(Boolean).join(' ')), `${k} examples`);
        }
        assert.deepEqual(names.hold, [`${XSS} ${XSS_LAST}`], 'the hostile name is held by the edited rule, shown as text');
        assert.equal(await page.locator('.rules-dryrun img, .rules-dryrun script').count(), 0, 'no element made from a name');
        assert.ok(await page.getByText(`${XSS} ${XSS_LAST}`, { exact: true }).isVisible());

        // Editing again marks the numbers as out of date; Cancel leaves the saved rule as it was.
        await editor().locator('select[name=action]').selectOption('decline');
        await page.locator('.dry-stale').waitFor();
        await editor().getByRole('button', { name: 'Cancel' }).click();
        assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Edit links',
            'Cancel puts the focus back on the rule');
        assert.equal((await rulesOf(c1)).find((r) => r.name === 'links').action, 'decline', 'the edit was never saved');
        assert.deepEqual(seen.dialogs, [], 'no dialog fired');
        assert.deepEqual(seen.pageErrors, [], 'no page error');
        assert.deepEqual(seen.cspViolations, [], 'no CSP violation');
    });

    test('delete asks first; Cancel keeps the rule, Delete removes it', async () => {
        const dlg = page.locator('dialog.modal[open]');
        await page.getByRole('button', { name: 'Delete links' }).click();
        await dlg.getByRole('button', { name: 'Cancel' }).click();
        await dlg.waitFor({ state: 'detached' });
        assert.equal((await rulesOf(c1)).length, 3, 'Cancel deleted nothing');
        await page.getByRole('button', { name: 'Delete links' }).click();
        assert.match(await dlg.textContent(), /If bio has a link → decline/);
        await dlg.getByRole('button', { name: 'Delete rule' }).click();
        await waitApi(c1, (r) => r.length === 2 && !r.some((x) => x.name === 'links'), 'links deleted');
        await waitShown((x) => x.length === 2, 'two rules listed');
    });

    test('the mode switch: a channel paced, back to the default; the default to rules; bad values refused', async () => {
        const card = page.locator('.mode-card');
        const modes = () => s.client.ok('/api/modes');
        // The channel's mode decides through a session (set through the API): the select shows it, saving keeps it.
        await newBotSession(s.client, s.tg, { name: 'helper_bot', username: 'rules_helper_bot' });
        const set = await s.client.post('/api/modes', { chat_id: c1, mode: 'manual', session_name: 'helper_bot' });
        assert.equal(set.status, 200, set.text);
        await page.reload();
        await card.locator('.mode-now[data-mode=manual]').waitFor();
        await card.locator('.mode-option[data-mode=approve_all]').click();
        await card.locator('input[name=approve_how][value=paced]').check();
        await card.locator('input[name=per_hour]').fill('30');
        await card.getByRole('button', { name: 'Save mode' }).click();
        await card.locator('.form-ok').waitFor();
        let m = await modes();
        assert.deepEqual(m.channels.map((x) => [x.chat_id, x.mode, x.per_hour, x.delay_seconds, x.session_name]),
            [[c1, 'approve_all', 30, 0, 'helper_bot']]);
        assert.equal(await card.locator('.mode-now').textContent(), 'Now: approve all, at most 30 an hour, through session helper_bot');
        assert.equal(await card.locator('select[name=session_name]').inputValue(), 'helper_bot', 'the account shown in its select');

        await card.locator('input[name=approve_how][value=delay]').check();
        await card.locator('input[name=mode_delay]').fill('5');
        await card.locator('select[name=mode_delay_unit]').selectOption({ label: 'seconds' });
        await card.getByRole('button', { name: 'Save mode' }).click();
        const err = card.locator('.form-error');
        await err.waitFor();
        assert.match(await err.textContent(), /delay_seconds/);
        assert.deepEqual((await modes()).channels.map((x) => [x.mode, x.per_hour]), [['approve_all', 30]], 'the refused mode changed nothing');

        await card.locator('input[name=mode_delay]').fill('2');
        await card.locator('select[name=mode_delay_unit]').selectOption({ label: 'minutes' });
        await card.getByRole('button', { name: 'Save mode' }).click();
        await waitFor(async () => (await modes()).channels[0]?.delay_seconds === 120, { what: 'a delay of 2 min' });

        await card.locator('.mode-option[data-mode=default]').click();
        await card.getByRole('button', { name: 'Save mode' }).click();
        await waitFor(async () => (await modes()).channels.length === 0, { what: 'the channel follows the default' });
        await card.locator('.mode-now[data-mode=default]').waitFor();

        await page.locator('select[name=scope]').selectOption({ label: 'Global rules' });
        await card.locator('.mode-now[data-mode=manual]').waitFor();
        assert.equal(await card.locator('.mode-option[data-mode=default]').isVisible(), false, 'the default cannot follow itself');
        await card.locator('.mode-option[data-mode=rules]').click();
        await card.getByRole('button', { name: 'Save mode' }).click();
        await waitFor(async () => (await modes()).default.mode === 'rules', { what: 'the default is rules' });
        m = await modes();
        assert.equal(m.default.chat_id, 0);
        assert.deepEqual(m.channels, []);
    });

    test('global rules: saved at chat_id 0, their dry run tried on a chosen channel', async () => {
        await page.getByText('No rules yet', { exact: false }).waitFor();
        await page.getByRole('button', { name: '+ Add rule' }).click();
        await condition(0, { type: 'name_matches', fields: { how: 'regex', pattern: '^ann\\b' } });
        await editor().locator('select[name=action]').selectOption('approve_after');
        await editor().locator('input[name=delay]').fill('90');
        await editor().locator('select[name=delay_unit]').selectOption({ label: 'seconds' });
        await page.locator('select[name=dry_chat_id]').selectOption({ label: 'Channel 1' });
        await page.getByRole('button', { name: 'Run dry run' }).click();
        await page.locator('.rules-dryrun[data-state=done]').waitFor();
        const api = await s.client.post('/api/rules/dry-run', { chat_id: c1, global_rules: [
            { name: '', enabled: true, conditions: [{ type: 'name_matches', regex: '^ann\\b' }], action: 'approve_after', delay_seconds: 90 }] });
        assert.equal(api.json.counts.approve_after, 1);
        assert.equal(Number(await page.locator('.dry-outcome[data-outcome=approve_after]').getAttribute('data-count')), 1);
        assert.equal(Number(await page.locator('.dry-outcome[data-outcome=no_match]').getAttribute('data-count')), api.json.counts.no_match);
        await editor().getByRole('button', { name: 'Save rule' }).click();
        await editor().waitFor({ state: 'hidden' });
        const g = await waitApi(0, (r) => r.length === 1, 'one global rule');
        assert.equal(g[0].chat_id, 0);
        assert.equal(g[0].delay_seconds, 90);
        // the table is drawn again after the save: wait for the row (CI at 21d84f9 read it first)
        const row = await waitShown((t) => t.length === 1, 'the global rule shown');
        assert.equal(row[0].text, 'If name matches /^ann\\b/ → approve after 90 s');
        assert.equal((await rulesOf(c1)).length, 2, "the channel's rules are untouched");
    });

    test('lists: import a CSV file, a bad line named, a list in use cannot be deleted', async () => {
        const card = page.locator('.rules-lists');
        await card.locator('input[name=list_name]').fill('deny');
        await card.locator('input[name=list_file]').setInputFiles({ name: 'deny.csv', mimeType: 'text/csv',
            buffer: Buffer.from(`user_id;note\n${users.plain.user_id};x\n@Casino_Fan;y\n`) });
        await card.getByRole('button', { name: 'Import' }).click();
        await card.locator('tr[data-list=deny]').waitFor();
        assert.equal(await card.locator('tr[data-list=deny] td.num').textContent(), '2');
        assert.deepEqual((await s.client.ok('/api/rule-lists/deny')).items.sort(), [String(users.plain.user_id), '@casino_fan'].sort());

        await card.locator('input[name=list_file]').setInputFiles({ name: 'bad.txt', mimeType: 'text/plain',
            buffer: Buffer.from('12345\nnot a name!\n') });
        await card.getByRole('button', { name: 'Import' }).click();
        await card.locator('.form-error').waitFor();
        assert.match(await card.locator('.form-error').textContent(), /line 2/);
        assert.equal((await s.client.ok('/api/rule-lists')).lists[0].entries, 2, 'the bad file added nothing');

        // A rule using the list (through the editor, which now offers it).
        await page.getByRole('button', { name: '+ Add rule' }).click();
        await editor().locator('input[name=rule_name]').fill('deny list');
        await condition(0, { type: 'in_list', fields: { list: 'deny' } });
        await editor().getByRole('button', { name: 'Save rule' }).click();
        await editor().waitFor({ state: 'hidden' });
        const g = await waitApi(0, (r) => r.length === 2, 'the list rule saved');
        assert.deepEqual(g[1].conditions, [{ type: 'in_list', list: 'deny' }]);
        await card.getByRole('button', { name: 'Delete list deny' }).click();
        await page.locator('dialog.modal[open]').getByRole('button', { name: 'Delete list' }).click();
        await card.locator('.form-error').filter({ hasText: `rule ${g[1].id} uses list deny` }).waitFor();
        assert.equal((await s.client.ok('/api/rule-lists')).lists.length, 1, 'the list in use is kept');
        assert.deepEqual(seen.dialogs, []);
        assert.deepEqual(seen.pageErrors, []);
        assert.deepEqual(seen.cspViolations, []);
    });
});
