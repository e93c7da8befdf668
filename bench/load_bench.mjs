// load_bench: Load Requests (a user session over MTProto, limit "all") of N pending requests of
// one channel that only Telegram (tgsim) has, then the same Load again (every request known
// already: each page read again changes nothing). Prints for each the time, doorman's CPU time
// (user + system, /proc) and its CPU per loaded request, on PostgreSQL also the CPU of the
// server processes serving doorman's database (pg_stat_activity; the server on this machine),
// and checks the job (done = N, nothing failed) and doorman's count of the channel's pending
// requests (= N). CPU per request is what to compare between two builds: run this with each
// DOORMAN_BIN in turn, a few times.
//
// env: N (10000), LATENCY_MS (0: tgsim's MTProto answers at once); DOORMAN_BIN / TGSIM_BIN and
// DOORMAN_TEST_PG_URL (PostgreSQL instead of SQLite) as in tests.
import { readFileSync } from 'node:fs';
import { tgAddJoinRequests, tgCreateChannel, tgMakeAdmin } from '../tests/lib/tgsim.mjs';
import { counts, waitLoadJob } from '../tests/lib/api.mjs';
import { PG_URL, dbUrlFor, psql } from '../tests/lib/doorman.mjs';
import { newUserSession } from '../tests/lib/sessions.mjs';
import { startSessionStack } from '../tests/lib/stacks.mjs';

const N = Number(process.env.N || 10000);
const LATENCY = Number(process.env.LATENCY_MS || 0);
const TICK_MS = 10; // /proc's clock ticks (USER_HZ 100 on Linux)

// CPU time (ms) process pid has used, user + system.
function cpuMs(pid) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
    return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime (14), stime (15)
}

// CPU time (ms) of the PostgreSQL processes serving database db now, by pid.
function serverCpu(db) {
    const out = new Map();
    for (const pid of psql(PG_URL, `SELECT pid FROM pg_stat_activity WHERE datname = '${db}'`).split('\n').filter(Boolean))
        out.set(pid, cpuMs(pid));
    return out;
}

// What the processes of `before` (a serverCpu) and those started since used in between.
function serverCpuSince(db, before) {
    let sum = 0;
    for (const [pid, ms] of serverCpu(db)) sum += ms - (before.get(pid) || 0);
    return sum;
}

const s = await startSessionStack({ tgsimOpts: { args: ['--dc-latency-ms', String(LATENCY)] } });
try {
    const { account } = await newUserSession(s.client, s.tg, { name: 'bench', first_name: 'Bench' });
    // the requests reach Telegram before the session administers the channel: only a Load finds them
    const chat = (await tgCreateChannel(s.tg, { title: 'Load bench', username: 'load_bench_chan' })).id;
    for (let left = N; left > 0; left -= 10000)
        await tgAddJoinRequests(s.tg, { chat_id: chat, count: Math.min(left, 10000), date: 1720000000 + left });
    await tgMakeAdmin(s.tg, chat, account.id, true);

    const db = PG_URL ? new URL(dbUrlFor(s.dataDir)).pathname.slice(1) : null;
    let ok = true;
    console.log(`Load of ${N} pending requests through a session on ${PG_URL ? 'PostgreSQL' : 'SQLite'}, MTProto latency ${LATENCY} ms`);
    for (const run of ['first (all new)', 'again (all known)']) {
        const cpu0 = cpuMs(s.dm.proc.pid);
        const server0 = db && serverCpu(db);
        const t0 = performance.now();
        const r = await s.client.post('/api/sessions/bench/load', { channel: '@load_bench_chan', limit: 'all' });
        if (r.status !== 202) throw new Error(`POST /api/sessions/bench/load: ${r.status} ${r.text}`);
        const job = await waitLoadJob(s.client, r.json.job.id, { timeoutMs: 3600000 });
        const secs = (performance.now() - t0) / 1000;
        const cpu = cpuMs(s.dm.proc.pid) - cpu0;
        const server = db ? serverCpuSince(db, server0) : null;
        const pending = (await counts(s.client, { chat_id: chat })).pending;
        ok &&= job.state === 'done' && job.done === N && job.failed === 0 && pending === N;
        const perReq = (ms) => `${ms} ms = ${(1000 * ms / N).toFixed(1)} µs a request`;
        console.log(`  ${run.padEnd(18)} ${secs.toFixed(2)} s, doorman CPU ${perReq(cpu)}` +
            (db ? `, PostgreSQL CPU ${perReq(server)}` : '') +
            `; job ${job.state} done ${job.done}/${job.total} failed ${job.failed}; pending in doorman ${pending}`);
    }
    process.exitCode = ok ? 0 : 1;
} finally {
    await s.cleanup();
}
