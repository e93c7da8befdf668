// rules_latency_bench: how long a request waits for the rules' decision. Requests arrive in
// tgsim at RATE a second (N of them) in a channel in rules mode (20 rules the request passes
// through, the last approving); doorman receives them by long polling, judges each as it is
// recorded and decides through the bot. Prints the time from the request's creation in tgsim
// to its decision there (tgsim's own clock: asked_at_ms, decided_at_ms), p50 and p99, against
// one control call's round trip measured in the same run (the floor any client pays), and how
// many requests were not decided exactly once (must be 0).
//
// env: N (1000), RATE (100 per second); DOORMAN_BIN / TGSIM_BIN as in tests.
import { tgAddJoinRequests, tgCreateUser, tgJoinRequests } from '../tests/lib/tgsim.mjs';
import { startStack } from '../tests/lib/stacks.mjs';
import { waitFor } from '../tests/lib/processes.mjs';

const N = Number(process.env.N || 1000);
const RATE = Number(process.env.RATE || 100);

const pct = (v, p) => v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))];

const s = await startStack({ world: { channels: 1, pending: 0 } });
try {
    const chat = s.world.chatIds[0];
    const post = async (p, body) => {
        const r = await s.client.post(p, body);
        if (r.status !== 200) throw new Error(`${p}: ${r.status} ${r.text}`);
    };
    await post('/api/settings', { bot_rate: 1000 });
    const kinds = [
        { type: 'name_matches', words: ['casino', 'bonus', 'crypto'] },
        { type: 'bio_matches', regex: '\\b(?:earn|profit)\\s+\\d+' },
        { type: 'name_script', script: 'Han' },
        { type: 'bio_has_link' },
        { type: 'user_id_above', value: 9e15 },
    ];
    for (let i = 0; i < 19; i++) await post('/api/rules', { chat_id: chat, name: `r${i}`, conditions: [kinds[i % kinds.length]], action: i % 2 ? 'decline' : 'hold' });
    await post('/api/rules', { chat_id: chat, name: 'wave', conditions: [{ type: 'wave', count: 100000, minutes: 10, per: 'link' }], action: 'decline' });
    await post('/api/rules', { chat_id: chat, name: 'the rest', conditions: [], action: 'approve' });
    await post('/api/modes', { chat_id: chat, mode: 'rules' });

    const users = [];
    for (let i = 0; i < N; i++) users.push((await tgCreateUser(s.tg, { first_name: `Guest${i}`, username: `guest_${i}` })).id);
    // the floor: one control call's round trip, median of 200
    const rtt = [];
    for (let i = 0; i < 200; i++) {
        const t = performance.now();
        await s.tg.control('GET', '/control/stats');
        rtt.push(performance.now() - t);
    }
    rtt.sort((a, b) => a - b);

    const t0 = performance.now();
    const sent = [];
    for (let i = 0; i < N; i++) {
        const wait = t0 + (i * 1000) / RATE - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        sent.push(tgAddJoinRequests(s.tg, { chat_id: chat, user_id: users[i] }));
    }
    await Promise.all(sent);
    const arrival = N / ((performance.now() - t0) / 1000);
    let items = [];
    await waitFor(async () => {
        items = await tgJoinRequests(s.tg, `chat_id=${chat}`);
        return items.length === N && items.every((r) => r.status !== 'pending');
    }, { timeoutMs: 120000, intervalMs: 200, what: 'every request decided' });
    const lat = items.map((r) => r.decided_at_ms - r.asked_at_ms).sort((a, b) => a - b);
    const notOnce = items.filter((r) => r.decisions !== 1).length;
    const floor = pct(rtt, 50);
    console.log(`rules deciding on arrival: ${N} requests at ${arrival.toFixed(0)}/s (asked ${RATE}/s), 21 rules, through the bot`);
    console.log(`  arrival in tgsim -> decision in tgsim: p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${lat[lat.length - 1]} ms`);
    console.log(`  one control call's round trip (p50): ${floor.toFixed(2)} ms; p50 decision / round trip = ${(pct(lat, 50) / floor).toFixed(1)}`);
    console.log(`  requests not decided exactly once: ${notOnce}   (must be 0)`);
    process.exitCode = notOnce === 0 ? 0 : 1;
} finally {
    await s.cleanup();
}
