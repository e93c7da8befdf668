// approve_session_bench: Approve All of N pending requests of one channel through a user session
// (one messages.hideAllChatJoinRequests after reading the channel's list, 100 a page) against
// tgsim's MTProto DCs with LATENCY_MS on every call, next to the same work through the bot at
// tgsim's Bot API rate limit R, in the same run. The bot's time for N is projected as N / R (its
// floor: one call per request at R a second; 20,000 at 30/s is 11 minutes) and measured over
// BOT_N requests of a second channel, whose achieved rate also projects N. Prints the MTProto
// calls the session made (tgsim's GET /control/stats), both times and the ratio, and how many
// requests tgsim did not see decided exactly once (must be 0).
//
// env: N (20000), LATENCY_MS (50), RATE (30 per second), BOT_N (2000); DOORMAN_BIN / TGSIM_BIN
// as in tests.
import { tgAddJoinRequests, tgCreateChannel, tgJoinRequests, tgMakeAdmin } from '../tests/lib/tgsim.mjs';
import { waitRecorded, decide } from '../tests/lib/api.mjs';
import { newUserSession } from '../tests/lib/sessions.mjs';
import { startSessionStack } from '../tests/lib/stacks.mjs';

const N = Number(process.env.N || 20000);
const LATENCY = Number(process.env.LATENCY_MS || 50);
const RATE = Number(process.env.RATE || 30);
const BOT_N = Number(process.env.BOT_N || 2000);

// MTProto calls by method (the TL names have a dot; the Bot API's do not).
async function mtCalls(tg) {
    const { calls } = await tg.control('GET', '/control/stats');
    return Object.fromEntries(Object.entries(calls).filter(([m]) => m.includes('.')));
}

function callsSince(before, after) {
    const out = {};
    for (const [m, n] of Object.entries(after)) if (n - (before[m] || 0) > 0) out[m] = n - (before[m] || 0);
    return out;
}

// Requests of chatId that tgsim did not see decided exactly once, approved.
async function notOnce(tg, chatId) {
    const recs = await tgJoinRequests(tg, `chat_id=${chatId}`);
    return recs.filter((r) => r.decisions !== 1 || r.status !== 'approved').length;
}

const s = await startSessionStack({
    world: { channels: 1, pending: 0 },
    configureBot: true,
    tgsimOpts: { args: ['--dc-latency-ms', String(LATENCY)] },
});
try {
    let ok = true;
    // the session's channel: the bot administers it too, so doorman records every request
    const big = s.world.chats[0].id;
    const { account } = await newUserSession(s.client, s.tg, { name: 'bench', first_name: 'Bench' });
    await tgMakeAdmin(s.tg, big, account.id, true);
    for (let left = N; left > 0; left -= 10000)
        await tgAddJoinRequests(s.tg, { chat_id: big, count: Math.min(left, 10000), date: 1720000000 + left });
    await waitRecorded(s.client, N, { timeoutMs: 600000, query: { chat_id: big } });

    const before = await mtCalls(s.tg);
    let t0 = performance.now();
    const sj = await decide(s.client, 'approve-all', { filter: { chat_id: big }, session_name: 'bench' }, { timeoutMs: 3600000 });
    const sessSecs = (performance.now() - t0) / 1000;
    const calls = callsSince(before, await mtCalls(s.tg));
    const nCalls = Object.values(calls).reduce((a, b) => a + b, 0);
    const sessBad = await notOnce(s.tg, big);
    ok &&= sj.state === 'done' && sj.done === N && sessBad === 0;

    // the bot: BOT_N requests of a second channel at tgsim's rate limit R
    const small = (await tgCreateChannel(s.tg, { title: 'Bot bench', username: 'bot_bench_chan', botId: s.world.botId })).id;
    await tgAddJoinRequests(s.tg, { chat_id: small, count: BOT_N, date: 1710000000 });
    await waitRecorded(s.client, BOT_N, { timeoutMs: 600000, query: { chat_id: small } });
    await s.tg.control('POST', '/control/config', { rate_limit: RATE });
    const set = await s.client.post('/api/settings', { bot_rate: RATE });
    if (set.status !== 200) throw new Error(`setting bot_rate: ${set.status} ${set.text}`);
    t0 = performance.now();
    const bj = await decide(s.client, 'approve-all', { filter: { chat_id: small } }, { timeoutMs: 3600000 });
    const botSecs = (performance.now() - t0) / 1000;
    const botBad = await notOnce(s.tg, small);
    ok &&= bj.state === 'done' && bj.done === BOT_N && botBad === 0;
    const botRate = bj.done / botSecs;
    const projected = N / RATE;

    console.log(`approve-all of ${N} pending requests in one channel; MTProto latency ${LATENCY} ms a call, Bot API rate limit R=${RATE}/s`);
    console.log(`  session: ${sessSecs.toFixed(1)} s, ${nCalls} MTProto calls (${Object.entries(calls).map(([m, n]) => `${m} ${n}`).join(', ')})`);
    console.log(`           job: done ${sj.done}, skipped ${sj.skipped}, failed ${sj.failed}, state ${sj.state}; not decided exactly once in tgsim: ${sessBad}`);
    console.log(`  bot:     measured ${BOT_N} in ${botSecs.toFixed(1)} s (${botRate.toFixed(1)}/s, ${(botRate / RATE).toFixed(3)} of R); not decided exactly once: ${botBad}`);
    console.log(`           ${N} would take N/R = ${projected.toFixed(0)} s (${(projected / 60).toFixed(1)} min) at best, ${(N / botRate).toFixed(0)} s at the measured rate`);
    console.log(`  bot time (N/R) / session time = ${(projected / sessSecs).toFixed(1)}x;  MTProto calls / requests = ${(nCalls / N).toFixed(4)}`);
    process.exitCode = ok ? 0 : 1;
} finally {
    await s.cleanup();
}
