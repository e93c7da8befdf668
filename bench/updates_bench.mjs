// updates_bench: how soon doorman records a join request that arrives in Telegram, through a
// session's pushed updates (a channel where the bot is not an admin: updatePendingJoinRequests,
// then the channel's newest page read with getChatInviteImporters) next to the bot's long polling
// (a channel the bot administers: getUpdates), in one run. N requests per path arrive in tgsim at
// RATE a second, the two channels taking turns. The time of a request is from its creation in
// tgsim (its asked_at_ms) to the first time doorman's list shows it (the list of each channel is
// read every POLL_MS; both paths are measured alike, so the figures include up to POLL_MS of that
// reading). Prints p50 and p99 of each path and their ratio, and how many were never recorded
// (must be 0).
//
// env: N (300), RATE (20 per second), POLL_MS (10); DOORMAN_BIN / TGSIM_BIN as in tests.
import { tgAddJoinRequests, tgCreateUser, tgJoinRequests } from '../tests/lib/tgsim.mjs';
import { newUserSession } from '../tests/lib/sessions.mjs';
import { startSessionStack } from '../tests/lib/stacks.mjs';
import { waitFor } from '../tests/lib/processes.mjs';

const N = Number(process.env.N || 300);
const RATE = Number(process.env.RATE || 20);
const POLL_MS = Number(process.env.POLL_MS || 10);

const pct = (v, p) => v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))];

const s = await startSessionStack({ world: { channels: 1, pending: 0 }, configureBot: true, doormanEnv: { DOORMAN_SESSION_UPDATES: '1' } });
try {
    const botChat = s.world.chatIds[0];
    const acc = (await newUserSession(s.client, s.tg, { name: 'listener', first_name: 'Listener' })).account;
    const sessChat = (await s.tg.control('POST', '/control/channels', {
        title: 'Session only', username: 'session_only', admins: [{ id: acc.id, can_invite_users: true }],
    })).id;
    await waitFor(() => /session listener: listening to its updates/.test(s.dm.output), { timeoutMs: 10000, what: 'the listener' });

    const users = [];
    for (let i = 0; i < 2 * N; i++) users.push((await tgCreateUser(s.tg, { first_name: `Guest${i}` })).id);
    const seen = new Map(); // user_id -> Date.now() when doorman's list first showed it
    let polling = true;
    const poll = async (chat) => {
        while (polling) {
            const t = Date.now();
            const r = await s.client.ok(`/api/invite-requests?chat_id=${chat}&limit=50`);
            for (const x of r.items) if (!seen.has(x.user_id)) seen.set(x.user_id, t);
            const wait = POLL_MS - (Date.now() - t);
            if (wait > 0) await new Promise((ok) => setTimeout(ok, wait));
        }
    };
    const pollers = [poll(botChat), poll(sessChat)];

    const t0 = performance.now();
    const sent = [];
    for (let i = 0; i < 2 * N; i++) {
        const wait = t0 + (i * 1000) / (2 * RATE) - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        sent.push(tgAddJoinRequests(s.tg, { chat_id: i % 2 ? sessChat : botChat, user_id: users[i] }));
    }
    await Promise.all(sent);
    await waitFor(() => seen.size >= 2 * N, { timeoutMs: 60000, intervalMs: 100, what: 'every request recorded' }).catch(() => {});
    polling = false;
    await Promise.all(pollers);

    const report = async (chat, what) => {
        const items = await tgJoinRequests(s.tg, `chat_id=${chat}`);
        const lat = items.filter((r) => seen.has(r.user_id)).map((r) => seen.get(r.user_id) - r.asked_at_ms).sort((a, b) => a - b);
        console.log(`  ${what}: p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${lat[lat.length - 1]} ms; never recorded: ${items.length - lat.length}`);
        return { p50: pct(lat, 50), p99: pct(lat, 99), missing: items.length - lat.length };
    };
    console.log(`join request in tgsim -> shown by doorman: ${N} per path at ${RATE}/s each, the list read every ${POLL_MS} ms`);
    const sess = await report(sessChat, "session's updates (no bot in the channel)");
    const bot = await report(botChat, "bot's long polling                       ");
    console.log(`  session / bot: p50 ${(sess.p50 / bot.p50).toFixed(2)}, p99 ${(sess.p99 / bot.p99).toFixed(2)}`);
    process.exitCode = sess.missing === 0 && bot.missing === 0 ? 0 : 1;
} finally {
    await s.cleanup();
}
