// pg_bench: the same work on SQLite and on PostgreSQL in one run (issue 6): N pending requests
// recorded through the bot, the list endpoint (GET /api/invite-requests?limit=50, CONC clients
// for SECONDS, first pages and a walk of pages with `before`), then Approve All of the N through
// the bot with no Telegram rate limit. Prints each figure for both backends and PostgreSQL/SQLite.
//
// usage: node bench/pg_bench.mjs POSTGRES_URL   (a server where the URL's user may CREATE DATABASE;
//        scripts/bench.sh starts one with scripts/pg.sh)
// env: N (20000), SECONDS (5), CONC (8); DOORMAN_BIN / TGSIM_BIN as in tests.
import { makeTempDir } from '../tests/lib/processes.mjs';
import { tgAddJoinRequests, tgJoinRequests } from '../tests/lib/tgsim.mjs';
import { psql } from '../tests/lib/doorman.mjs';
import { waitRecorded, decide } from '../tests/lib/api.mjs';
import { startStack } from '../tests/lib/stacks.mjs';

const PG = process.argv[2];
if (!PG) {
    console.error('usage: node bench/pg_bench.mjs POSTGRES_URL');
    process.exit(2);
}
const N = Number(process.env.N || 20000);
const SECONDS = Number(process.env.SECONDS || 5);
const CONC = Number(process.env.CONC || 8);

// Keeps conc GET requests in flight for `seconds`; paths() gives each request's path. Returns
// requests per second; throws on a non-200.
async function load(client, paths, conc, seconds) {
    const end = performance.now() + seconds * 1000;
    let done = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: conc }, async () => {
        while (performance.now() < end) {
            const p = paths();
            const r = await client.get(p);
            if (r.status !== 200) throw new Error(`GET ${p} -> ${r.status} ${r.text}`);
            done++;
        }
    }));
    return done / ((performance.now() - t0) / 1000);
}

async function run(name, dbUrl) {
    const s = await startStack({ world: { channels: 1, pending: 0 }, doormanOpts: { dbUrl } });
    try {
        const chat = s.world.chats[0].id;
        let t0 = performance.now();
        for (let left = N; left > 0; left -= 5000) {
            await tgAddJoinRequests(s.tg, { chat_id: chat, count: Math.min(left, 5000), first_name: 'Bench' });
        }
        await waitRecorded(s.client, N, { timeoutMs: 1800000 });
        const record = (performance.now() - t0) / 1000;
        // Statistics, as autovacuum gathers them within a minute of a bulk change: without them
        // PostgreSQL takes every search for a rare one and reads all its matches through the
        // trigram index (this search matches every row). SQLite needs none.
        if (dbUrl.startsWith('postgres')) psql(dbUrl, 'ANALYZE');

        const first = await load(s.client, () => '/api/invite-requests?limit=50', CONC, SECONDS);
        const ids = (await s.client.ok(`/api/invite-requests?limit=500`)).items.map((r) => r.id);
        let k = 0;
        const paged = await load(s.client, () => `/api/invite-requests?limit=50&before=${ids[(k++ * 97) % ids.length]}`, CONC, SECONDS);
        const search = await load(s.client, () => `/api/invite-requests?limit=50&q=Bench`, CONC, SECONDS);

        const st = await s.client.post('/api/settings', { bot_rate: 100000 });
        if (st.status !== 200) throw new Error(`bot_rate: ${st.status} ${st.text}`);
        t0 = performance.now();
        const job = await decide(s.client, 'approve-all', {}, { timeoutMs: 3600000 });
        const approve = (performance.now() - t0) / 1000;
        const notOnce = (await tgJoinRequests(s.tg, `chat_id=${chat}`)).filter((r) => r.decisions !== 1).length;
        if (job.state !== 'done' || job.done !== N || notOnce) {
            throw new Error(`${name}: approve-all ended ${JSON.stringify(job)}, ${notOnce} not decided once`);
        }
        return { record: N / record, first, paged, search, approve: N / approve };
    } finally {
        await s.cleanup();
    }
}

const dbName = `doorman_bench_${process.pid}`;
psql(PG, `CREATE DATABASE ${dbName}`);
try {
    const u = new URL(PG);
    u.pathname = '/' + dbName;
    const lite = await run('SQLite', `sqlite:${makeTempDir('doorman-bench-')}/doorman.db`);
    const pg = await run('PostgreSQL', u.toString());
    const rows = [
        ['recording through getUpdates (requests/s)', 'record'],
        [`GET /api/invite-requests?limit=50, first page, ${CONC} clients (req/s)`, 'first'],
        ['  … with before= (keyset pages) (req/s)', 'paged'],
        ['  … with q= (search) (req/s)', 'search'],
        ['Approve All through the bot, no rate limit (decisions/s)', 'approve'],
    ];
    console.log(`${N} requests, the same on both backends; ${SECONDS} s per list load`);
    console.log(`${''.padEnd(64)} ${'SQLite'.padStart(9)} ${'PostgreSQL'.padStart(11)}   PG/SQLite`);
    for (const [label, k] of rows) {
        console.log(`${label.padEnd(64)} ${lite[k].toFixed(0).padStart(9)} ${pg[k].toFixed(0).padStart(11)}   ${(pg[k] / lite[k]).toFixed(2)}`);
    }
} finally {
    psql(PG, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
}
