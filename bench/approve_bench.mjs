// approve_bench: Approve All of N pending requests through the bot against tgsim with a rate
// limit R and 30 ms latency per call. Prints the achieved rate / R (aim >= 0.9) and how many
// requests tgsim did not see decided exactly once (must be 0).
//
// env: N (5000), RATE (100 per second), LATENCY_MS (30); DOORMAN_BIN / TGSIM_BIN as in tests.
import { tgAddJoinRequests, tgJoinRequests } from '../tests/lib/tgsim.mjs';
import { waitRecorded, decide } from '../tests/lib/api.mjs';
import { startStack } from '../tests/lib/stacks.mjs';

const N = Number(process.env.N || 5000);
const RATE = Number(process.env.RATE || 100);
const LATENCY = Number(process.env.LATENCY_MS || 30);

const s = await startStack({ tgsimOpts: { latencyMs: LATENCY }, world: { channels: 1, pending: 0 } });
try {
    const chat = s.world.chats[0].id;
    await tgAddJoinRequests(s.tg, { chat_id: chat, count: N });
    await waitRecorded(s.client, N, { timeoutMs: 600000 });
    await s.tg.control('POST', '/control/config', { rate_limit: RATE, latency_ms: LATENCY });
    const set = await s.client.post('/api/settings', { bot_rate: RATE });
    if (set.status !== 200) throw new Error(`setting bot_rate: ${set.status} ${set.text}`);

    const t0 = performance.now();
    const job = await decide(s.client, 'approve-all', {}, { timeoutMs: 3600000 });
    const secs = (performance.now() - t0) / 1000;
    const records = await tgJoinRequests(s.tg, `chat_id=${chat}`);
    const notOnce = records.filter((r) => r.decisions !== 1).length;
    const stats = await s.tg.control('GET', '/control/stats');
    const achieved = job.done / secs;
    console.log(`approve-all of ${N} via the bot, tgsim rate limit R=${RATE}/s, latency ${LATENCY} ms`);
    console.log(`  job: done ${job.done}, skipped ${job.skipped}, failed ${job.failed}, state ${job.state}`);
    console.log(`  time ${secs.toFixed(1)} s, achieved ${achieved.toFixed(1)}/s, 429s from tgsim: ${stats.rate_limited ?? '?'}`);
    console.log(`  achieved / R = ${(achieved / RATE).toFixed(3)}   (aim >= 0.9)`);
    console.log(`  requests not decided exactly once: ${notOnce}   (must be 0)`);
    process.exitCode = notOnce === 0 && job.state === 'done' ? 0 : 1;
} finally {
    await s.cleanup();
}
