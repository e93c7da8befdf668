// Roles in the panel (issue 16, item 2): an owner invites a viewer from Settings' Admins card; the
// viewer, signed in through the invitation link, sees the pages of its role only (Rules to read, Invite
// Links and Statistics of its channel) and no decision controls; two-factor login asks for the code in the login form; the Account page makes
// an API token shown once.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { waitFor } from '../lib/processes.mjs';
import { waitRecorded } from '../lib/api.mjs';
import { startStack, ADMIN } from '../lib/stacks.mjs';
import { launchBrowser, watchedPage, login } from '../lib/browser.mjs';

const PW = 'viewer password 1';

// RFC 6238 (SHA-1, 30 s, 6 digits) of a base32 secret.
function totp(secret, step) {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let bits = 0, acc = 0;
    const key = [];
    for (const ch of secret) {
        acc = (acc << 5) | alphabet.indexOf(ch);
        bits += 5;
        if (bits >= 8) { key.push((acc >> (bits - 8)) & 0xff); bits -= 8; }
    }
    const msg = Buffer.alloc(8);
    msg.writeBigUInt64BE(BigInt(step));
    const mac = crypto.createHmac('sha1', Buffer.from(key)).update(msg).digest();
    const off = mac[mac.length - 1] & 0x0f;
    return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

describe('roles in the panel', () => {
    let s, browser, A;
    before(async () => {
        s = await startStack({ world: { channels: 2, pending: 4 } });
        A = s.world.chatIds[0];
        await waitRecorded(s.client, 4);
        browser = await launchBrowser();
    });
    after(async () => {
        await browser?.close();
        await s?.cleanup();
    });

    test('an owner invites a viewer, who sees no decision controls and no owner pages', async () => {
        const { page: owner, seen: ownerSeen } = await watchedPage(browser);
        await login(owner, s.dm.url, ADMIN);
        assert.equal(await owner.locator('.nav a:visible').count(), 10, 'an owner sees every page');
        await owner.locator('.nav').getByRole('link', { name: 'Settings' }).click();
        const card = owner.locator('.admins-card');
        await card.locator('.admins-table tbody tr').first().waitFor();
        await card.locator('select[name=invite_role]').selectOption('viewer');
        await card.locator(`.channel-picker input[value="${A}"]`).check();
        await card.getByRole('button', { name: 'Create invitation link' }).click();
        const link = await card.locator('.invite-url').textContent();
        assert.match(link, /\/invite#token=[0-9a-f]{32}$/);
        assert.deepEqual(ownerSeen.pageErrors, []);

        const { page, seen } = await watchedPage(browser);
        await page.goto(link);
        await page.locator('input[name=name]').fill('vera');
        await page.locator('input[name=password]').fill(PW);
        await page.getByRole('button', { name: 'Create account and sign in' }).click();
        await page.locator('.requests-table').waitFor();
        await waitFor(async () => (await page.locator('.requests-table tbody tr').count()) === 2, { what: 'the two requests of channel A' });
        assert.equal(await page.locator('.requests-table input[type=checkbox]:visible').count(), 0, 'no selection');
        for (const name of ['Approve Selected', 'Deny Selected', 'Approve All', 'Deny All']) {
            assert.equal(await page.getByRole('button', { name }).count(), 0, `no ${name}`);
        }
        const nav = await page.locator('.nav a:visible').allTextContents();
        assert.deepEqual(nav, ['Invite Requests', 'Rules', 'Invite Links', 'Statistics', 'Jobs', 'Account']);
        // Rules: the mode, rules and challenge to read, every control disabled
        await page.locator('.nav').getByRole('link', { name: 'Rules' }).click();
        const readOnly = page.locator('fieldset.rules-read-only');
        await readOnly.waitFor();
        assert.notEqual(await readOnly.getAttribute('disabled'), null);
        assert.equal(await page.getByRole('button', { name: '+ Add rule' }).isDisabled(), true);
        assert.equal(await page.locator('.rules-side').count(), 0, 'no dry run');
        const picker = page.locator('select[name=scope] option');
        await waitFor(async () => (await picker.count()) === 2, { what: 'the scope picker: global rules, and channel A' });
        // Invite Links: the channel's links to read, nothing to change them with
        await page.locator('.nav').getByRole('link', { name: 'Invite Links' }).click();
        await page.locator('.links-table').waitFor();
        for (const name of ['New link', 'Read from Telegram', 'Check decisions made in Telegram', 'Approve all', 'Deny all', 'Edit', 'Revoke']) {
            assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `no ${name}`);
        }
        // Statistics: channel A's numbers only
        await page.locator('.nav').getByRole('link', { name: 'Statistics' }).click();
        await page.locator('h1', { hasText: 'Statistics' }).waitFor();
        const channels = page.locator('select[name=chat_id] option');
        await waitFor(async () => (await channels.count()) === 2, { what: 'the channel picker: all, and channel A' });
        assert.equal(await channels.nth(1).getAttribute('value'), String(A));
        assert.deepEqual([seen.pageErrors, seen.cspViolations], [[], []]);
        await page.close();
        await owner.close();
    });

    test('two-factor login asks for the code; the Account page shows a new token once', async () => {
        const c = s.client;
        const setup = await c.post('/api/me/totp/setup', {});
        const secret = setup.json.secret;
        const step = Math.floor(Date.now() / 30000);
        assert.equal((await c.post('/api/me/totp/enable', { code: totp(secret, step) })).status, 200);

        const { page, seen } = await watchedPage(browser);
        await page.goto(s.dm.url + '/');
        await page.locator('input[name=name]').fill(ADMIN.name);
        await page.locator('input[name=password]').fill(ADMIN.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        const code = page.locator('input[name=code]');
        await code.waitFor();
        await code.fill(totp(secret, step + 1));
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.locator('.requests-table').waitFor();

        await page.locator('.nav').getByRole('link', { name: 'Account' }).click();
        const tokens = page.locator('.tokens-card');
        await tokens.locator('input[name=token_name]').fill('panel-ci');
        await tokens.locator('select[name=token_role]').selectOption('viewer');
        await tokens.locator(`.channel-picker input[value="${A}"]`).check();
        await tokens.getByRole('button', { name: 'Create token' }).click();
        const value = await tokens.locator('.token-value').textContent();
        assert.match(value, /^dm_[0-9a-f]{64}$/);
        await waitFor(async () => (await tokens.locator('tbody tr', { hasText: 'panel-ci' }).count()) === 1, { what: 'the token listed' });
        const me = await fetch(s.dm.url + '/api/me', { headers: { authorization: `Bearer ${value}` } }).then((r) => r.json());
        assert.equal(me.admin, `token panel-ci of ${ADMIN.name}`);
        assert.deepEqual([seen.pageErrors, seen.cspViolations], [[], []]);
        await page.close();
    });
});
