// guard_bench: guard mode under a burst. A channel made doorman's bot its join-request bot (Bot
// API 10.1); N requests (500) arrive within one second, each a query with a 10-second deadline,
// while tgsim answers every Bot API call LATENCY_MS (30) late. The channel's rules approve most,
// decline some and hold some (answered "queue"). Prints, on tgsim's own clock, the time from each
// request's creation to its answer (query.answered_at_ms - asked_at_ms): p50, p99 and max, against
// the deadline and against one Bot API call's round trip at that latency measured in the same run
// (answering one after another would need N of them); and how many queries were not answered in
// time or were answered other than once (must be 0).
//
// env: N (500), LATENCY_MS (30); DOORMAN_BIN / TGSIM_BIN as in tests.
import { tgAddJoinRequests, tgBotSettings, tgGuardBot, tgJoinRequests } from '../tests/lib/tgsim.mjs';
import { startStack } from '../tests/lib/stacks.mjs';
import { waitFor } from '../tests/lib/processes.mjs';

const N = Number(process.env.N || 500);
const LATENCY_MS = Number(process.env.LATENCY_MS || 30);
const DEADLINE_MS = 10000;

const pct = (v, p) => v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))];

const s = await startStack({ world: { channels: 1, pending: 0 }, tgsimOpts: { latencyMs: LATENCY_MS } });
try {
    const chat = s.world.chatIds[0];
    const post = async (p, body) => {
        const r = await s.client.post(p, body);
        if (r.status !== 200) throw new Error(`${p}: ${r.status} ${r.text}`);
    };
    await tgBotSettings(s.tg, s.world.botId, { supports_join_request_queries: true });
    await tgGuardBot(s.tg, chat, s.world.botId);
    await post('/api/rules', { chat_id: chat, name: 'casino', conditions: [{ type: 'name_matches', words: ['casino'] }], action: 'decline' });
    await post('/api/rules', { chat_id: chat, name: 'links', conditions: [{ type: 'bio_has_link' }], action: 'hold' });
    await post('/api/rules', { chat_id: chat, name: 'the rest', conditions: [], action: 'approve' });
    await post('/api/modes', { chat_id: chat, mode: 'rules' });

    // the reference: one Bot API call's round trip at this latency, median of 50
    const rtt = [];
    for (let i = 0; i < 50; i++) {
        const t = performance.now();
        await s.tg.botApi('0:reference', 'getMe');
        rtt.push(performance.now() - t);
    }
    rtt.sort((a, b) => a - b);

    // the burst: ten waves of N/10 new users 100 ms apart; one wave "casino" (declined), one with
    // a link in the bio (held: queued), the rest approved
    const waves = 10, per = Math.ceil(N / waves);
    const t0 = performance.now();
    const sent = [];
    for (let i = 0; i < waves; i++) {
        const wait = t0 + i * 100 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const kind = i === 0 ? { first_name: 'Casino' } : i === 1 ? { first_name: 'Link', bio: 'https://spam.example' } : { first_name: 'Guest' };
        sent.push(tgAddJoinRequests(s.tg, { chat_id: chat, count: Math.min(per, N - i * per), ...kind }));
    }
    await Promise.all(sent);
    const burst = performance.now() - t0;
    let items = [];
    await waitFor(async () => {
        items = await tgJoinRequests(s.tg, `chat_id=${chat}`);
        return items.length === N && items.every((r) => r.query && r.query.state !== 'open');
    }, { timeoutMs: 60000, intervalMs: 200, what: 'every query answered or expired' });
    const answered = items.filter((r) => r.query.answered_at_ms > 0);
    const lat = answered.map((r) => r.query.answered_at_ms - r.asked_at_ms).sort((a, b) => a - b);
    const late = items.length - answered.length + lat.filter((x) => x >= DEADLINE_MS).length;
    const notOnce = items.filter((r) => r.query.answer_calls !== 1 || r.decisions > 1 || r.approve_calls + r.decline_calls > 0).length;
    const by = (st) => items.filter((r) => r.query.state === st).length;
    const floor = pct(rtt, 50);
    console.log(`guard mode: ${N} join-request queries within ${(burst / 1000).toFixed(2)} s, tgsim at ${LATENCY_MS} ms a Bot API call`);
    console.log(`  answers: ${by('approve')} approve, ${by('decline')} decline, ${by('queue')} queue; ${by('expired')} expired`);
    console.log(`  request in tgsim -> its answer there: p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${lat[lat.length - 1]} ms (deadline ${DEADLINE_MS} ms: max / deadline = ${(lat[lat.length - 1] / DEADLINE_MS).toFixed(2)})`);
    console.log(`  one Bot API call's round trip (p50): ${floor.toFixed(1)} ms; p50 answer / round trip = ${(pct(lat, 50) / floor).toFixed(1)}; answering one after another would need ${((N * floor) / 1000).toFixed(1)} s`);
    console.log(`  not answered inside the deadline: ${late}; answered other than once or also decided by a call: ${notOnce}   (both must be 0)`);
    process.exitCode = late === 0 && notOnce === 0 ? 0 : 1;
} finally {
    await s.cleanup();
}
