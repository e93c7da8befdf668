// screenshot.mjs: makes the README screenshot of the Invite Requests page
// (docs/screenshot-invite-requests.png) from the real doorman and tgsim with ~30 realistic join
// requests. Run from tests/: `node e2e/screenshot.mjs [OUT.png]` (TGSIM_BIN / DOORMAN_BIN as for
// the tests). Not part of the test run: node --test picks only *.test.mjs files.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../lib/processes.mjs';
import { tgCreateChannel, addRequester } from '../lib/tgsim.mjs';
import { waitRecorded } from '../lib/api.mjs';
import { startStack } from '../lib/stacks.mjs';
import { launchBrowser, watchedPage, login } from '../lib/browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] || path.join(here, '..', '..', 'docs', 'screenshot-invite-requests.png'));

const CHANNELS = [
    { title: 'Rust Jobs Europe', username: 'rustjobs_eu', link: 'https://t.me/+kF3xQ9vLm2pjZDc0' },
    { title: 'Indie Makers Club', username: 'indiemakers', link: 'https://t.me/+Wq8bN1eTz5xkYTRi' },
    { title: 'Lisbon Expats', username: 'lisbon_expats', link: 'https://t.me/+Hn4cR7sUy0ZmNGE5' },
];

// [first, last, username, bio, channel index]
const PEOPLE = [
    ['Sofia', 'Martínez', 'sofi_mtz', 'Backend engineer in Madrid. Rust, Postgres, too much coffee.', 0],
    ['Liam', "O'Brien", 'liamob', '', 1],
    ['Yuki', 'Tanaka', 'yuki_t', 'Product designer · Tokyo → Lisbon', 2],
    ['Amara', 'Okafor', 'amaraokafor', 'Building a tiny SaaS for bakeries. Open to collabs.', 1],
    ['Mateo', 'Rossi', '', 'Embedded systems, Zephyr, a bit of Rust on microcontrollers.', 0],
    ['Priya', 'Raman', 'priya_codes', 'SRE at a fintech. I automate things so I can sleep.', 0],
    ['Jonas', 'Weber', 'jweber', '', 2],
    ['Chloé', 'Dubois', 'chloe_db', 'Photographer, moving to Lisbon in March.', 2],
    ['Omar', 'Haddad', 'omar_h', 'Founder @ a 3-person startup. Bootstrapped and proud.', 1],
    ['Ingrid', 'Larsen', 'ingridl', 'Compiler nerd. LLVM contributor.', 0],
    ['Ali', 'Kaya', '', '', 2],
    ['Mei', 'Chen', 'meichen', 'Frontend + a11y. Looking for remote Rust roles.', 0],
    ['Noah', 'Fischer', 'noahfi', 'Newsletter about side projects, 12k readers.', 1],
    ['Emma', 'Novak', 'emmanovak', 'Teacher, learning Portuguese. Olá!', 2],
    ['Lucas', 'Silva', 'lucas_silva', 'Full-stack dev, Porto. Rust + Svelte.', 0],
    ['Aisha', 'Bello', 'aishab', 'Marketing for indie games.', 1],
    ['Ivan', 'Petrov', 'ivanp', 'Distributed systems, Kafka survivor.', 0],
    ['Zara', 'Ahmed', 'zara_ahmed', '', 2],
    ['Diego', 'Fernández', 'diegofdz', 'Remote worker, surfer, occasional Go programmer.', 2],
    ['Hana', 'Kim', 'hana_k', 'Making a habit tracker, 200 paying users so far.', 1],
    ['Tom', 'Becker', 'tbecker', 'Hiring! Senior Rust engineers in Berlin.', 0],
    ['Fatima', 'Zahra', 'fatimaz', '', 2],
    ['Erik', 'Johansson', 'erikj', 'Bootstrapping a dev-tools company from Stockholm.', 1],
    ['Ana', 'Costa', 'anacosta', 'Architect. Looking for a flat in Alfama.', 2],
    ['Ravi', 'Patel', 'ravi_p', 'Rust in production since 2019.', 0],
    ['Julia', 'Nowak', 'julianowak', 'No-code tools and newsletters.', 1],
    ['Kenji', 'Sato', 'kenjis', 'Game dev (Bevy). Open to freelance.', 0],
    ['Lena', 'Hoffmann', 'lenahoff', 'Digital nomad, UX writer.', 2],
    ['Marco', 'Bianchi', 'marcob', 'Shipping one micro-SaaS per month.', 1],
    ['Sara', 'Lindqvist', 'saral', 'Platform engineer. Kubernetes by day, sourdough by night.', 0],
];

async function main() {
    const s = await startStack({ tgsimOpts: { latencyMs: 15 }, world: { channels: 0, pending: 0 } });
    const browser = await launchBrowser();
    try {
        const chats = [];
        for (const c of CHANNELS) {
            chats.push(await tgCreateChannel(s.tg, { title: c.title, username: c.username, botId: s.world.botId }));
        }
        const now = Math.floor(Date.now() / 1000);
        // Oldest first, a few minutes to an hour apart, so the newest is a minute old.
        let t = now - 60;
        const dates = PEOPLE.map((_, i) => (t -= 120 + ((i * 7919) % 2400)));
        for (let i = PEOPLE.length - 1; i >= 0; i--) {
            const [first_name, last_name, username, bio, ch] = PEOPLE[i];
            await addRequester(s.tg, chats[ch].id, {
                first_name, last_name, username: username || undefined, bio: bio || undefined,
                invite_link: CHANNELS[ch].link, date: dates[i],
            });
        }
        await waitRecorded(s.client, PEOPLE.length);

        const { page, seen } = await watchedPage(browser, { viewport: { width: 1440, height: 960 } });
        await login(page, s.dm.url, { name: 'admin', password: 'correct horse battery' });
        await page.locator('.requests-table tbody tr').nth(PEOPLE.length - 1).waitFor();

        // Decide a few through the panel so the counts and a finished job show.
        const row = (text) => page.locator('.requests-table tbody tr').filter({ hasText: text });
        let left = PEOPLE.length;
        for (const [names, button] of [[['Fatima Zahra', 'Julia Nowak'], 'Deny Selected'],
            [['Hana Kim', 'Marco Bianchi', 'Kenji Sato', 'Ravi Patel', 'Tom Becker'], 'Approve Selected']]) {
            for (const n of names) await row(n).locator('input[type=checkbox]').check();
            await page.getByRole('button', { name: button }).click();
            await page.locator('dialog.modal[open]').getByRole('button',
                { name: `${button.split(' ')[0]} ${names.length}`, exact: true }).click();
            left -= names.length;
            await waitFor(async () => (await page.locator('.requests-table tbody tr').count()) === left &&
                (await page.locator('.job[data-state=done]').count()) === 1, { what: 'the job to finish and the table to refresh' });
        }
        for (const n of ['Sofia Martínez', 'Yuki Tanaka', 'Amara Okafor']) {
            await row(n).locator('input[type=checkbox]').check();
        }
        await page.mouse.move(0, 0);
        await page.evaluate(() => document.activeElement?.blur());
        await page.screenshot({ path: out });
        if (seen.dialogs.length || seen.pageErrors.length || seen.cspViolations.length) {
            throw new Error(`the page misbehaved: ${JSON.stringify(seen)}`);
        }
        console.log(`screenshot: wrote ${out}`);
    } finally {
        await browser.close();
        await s.cleanup();
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
