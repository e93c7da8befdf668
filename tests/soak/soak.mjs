// soak.mjs: the crash soak (`make soak` = scripts/soak.sh; issue 10, item 10). Rounds of kill -9
// of doorman at a random moment of its work, a restart on the same data dir and database, and a
// check against tgsim's own records that nothing was lost and nothing decided twice.
//
// One tgsim (Bot API and two MTProto data centres) and one doorman data dir (its database:
// SQLite in it, or with DOORMAN_TEST_PG_URL a PostgreSQL database of its own) serve every round,
// so the kills pile up on the same data as they would on a server that crashes now and then. Each
// round works on channels of its own, so its check covers exactly its requests; at the end of
// every round doorman's counts must also equal tgsim's over every channel. Scenarios, in turn:
//
//   approve-all  N pending requests recorded by the bot, Approve All of that channel through the
//                bot; killed once or twice mid-job. Check: the job is done with nothing failed,
//                every request approved on tgsim, none decided twice (tgsim's decisions <= 1 and
//                no decline call), re-sent calls (answered HIDE_REQUESTER_MISSING) only for the
//                calls in flight at a kill (at most 8, the runner's workers, per kill), and
//                doorman shows every one approved.
//   load         N pending requests in a channel only a user session administers, a Load Requests
//                job through that session (MTProto); killed once or twice mid-load. Check: the
//                same job finishes by itself with done = total = N, doorman has each of tgsim's
//                requests exactly once, pending, and no decision was asked of tgsim.
//   recording    tgsim makes a stream of new join requests in a channel of the bot while doorman
//                polls and records them; killed during the stream (and perhaps again while the
//                new process records the backlog). Check: doorman has each of tgsim's requests
//                exactly once, pending, and no decision was asked of tgsim.
//
// Every choice of a round (the scenario, sizes, the moment of each kill, a second kill) comes
// from the round's seed, printed on its line with the replay command: SOAK_REPLAY=<scenario>:<seed>
// runs that one round on a fresh stack. Environment: SOAK_ROUNDS (50), SOAK_SEED (the master seed;
// random), SOAK_REPLAY, and the tests' TGSIM_BIN, DOORMAN_BIN, DOORMAN_TEST_PG_URL,
// TEST_VERBOSE, KEEP_TEST_DIRS. Prints one line per round and the totals per scenario; exits 1
// after the first failed round (what differed and its seed printed), else 0.
import { createHash, randomInt } from 'node:crypto';
import { makeTempDir, waitFor } from '../lib/processes.mjs';
import { startTgsimDcs, setupWorld, tgCreateChannel, tgMakeAdmin, tgAddJoinRequests, tgJoinRequests } from '../lib/tgsim.mjs';
import { PG_URL, startDoormanDcs } from '../lib/doorman.mjs';
import { listAll, counts, waitRecorded, FINAL_JOB_STATES } from '../lib/api.mjs';
import { newUserSession } from '../lib/sessions.mjs';
import { adminStack } from '../lib/stacks.mjs';

const BACKEND = PG_URL ? 'postgresql' : 'sqlite';
const SCENARIOS = ['approve-all', 'load', 'recording'];
const WORKERS = 8; // src/jobs/runner.c: decisions in flight at most, so re-sent at most per kill
const SESSION = 'soak';

// ---------------------------------------------------------------------------------------------
// Seeds: a master seed gives each round its own, and a round's seed gives every choice in it.

function rng32(seed) { // mulberry32
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

function roundSeed(master, i) {
    return createHash('sha256').update(`${master}:${i}`).digest().readUInt32BE(0);
}

// The random choices of one round.
class Dice {
    constructor(seed) { this.next = rng32(seed); }
    real(lo, hi) { return lo + (hi - lo) * this.next(); }
    int(lo, hi) { return Math.floor(this.real(lo, hi + 1)); } // lo..hi inclusive
    chance(p) { return this.next() < p; }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The stack every round runs on

async function startSoakStack() {
    // A little latency so that a job takes long enough to be hit in its middle.
    const tg = await startTgsimDcs({ dcs: 2, latencyMs: 2, args: ['--dc-latency-ms', '15'] });
    const world = await setupWorld(tg, { channels: 0 });
    const dataDir = makeTempDir('doorman-soak-');
    const s = await adminStack({
        tg, world, dataDir, configureBot: true,
        startDoorman: () => startDoormanDcs({ tg, dataDir }),
    });
    const st = await s.client.post('/api/settings', { bot_rate: 1000 });
    if (st.status !== 200) throw new Error(`setting bot_rate -> ${st.status} ${st.text}`);
    const { account } = await newUserSession(s.client, tg, { name: SESSION, first_name: 'Soak' });
    return { ...s, dataDir, account, channels: 0 };
}

// kill -9 of doorman, then a restart on the same data (and a new login).
async function killAndRestart(s, r) {
    await s.dm.kill();
    r.kills++;
    await s.restart();
}

async function job(s, id) {
    return (await s.client.ok(`/api/jobs/${id}`)).job;
}

// Waits until the job `id` has done at least `target` (or ended); returns the job seen last.
async function jobReaches(s, id, target, what) {
    return waitFor(async () => {
        const j = await job(s, id);
        return j.done + j.skipped >= target || FINAL_JOB_STATES.has(j.state) ? j : null;
    }, { timeoutMs: 120000, intervalMs: 5, what });
}

// Kills doorman once or twice while job `id` (of `total` items) runs, each time when it has done
// a random part of what is left plus a random few milliseconds; restarts it after each kill.
async function killDuringJob(s, r, dice, id, total) {
    const kills = dice.chance(0.35) ? 2 : 1;
    for (let k = 0; k < kills; k++) {
        const j0 = await job(s, id);
        if (FINAL_JOB_STATES.has(j0.state)) break;
        const from = j0.done + j0.skipped;
        const target = Math.max(from + 1, Math.floor(from + (total - from) * dice.real(0.05, 0.7)));
        const j = await jobReaches(s, id, target, `job ${id} to reach ${target} of ${total}`);
        await sleep(dice.int(0, 30));
        if (FINAL_JOB_STATES.has(j.state)) { r.late++; break; }
        r.at.push(`${Math.round((100 * (j.done + j.skipped)) / total)}%`);
        await killAndRestart(s, r);
    }
}

async function waitJobEnd(s, id) {
    return waitFor(async () => {
        const j = await job(s, id);
        return FINAL_JOB_STATES.has(j.state) ? j : null;
    }, { timeoutMs: 180000, intervalMs: 50, what: `job ${id} to end after the restart` });
}

// A new channel for this round: the bot an admin of it (withBot) or the soak session's account.
async function newChannel(s, name, withBot) {
    s.channels++;
    const ch = await tgCreateChannel(s.tg, { title: `Soak ${name} ${s.channels}`, botId: withBot ? s.world.botId : undefined });
    if (!withBot) await tgMakeAdmin(s.tg, ch.id, s.account.id, true);
    return ch;
}

// ---------------------------------------------------------------------------------------------
// Checks against tgsim

// tgsim's and doorman's requests of one channel compared: each of tgsim's recorded in doorman
// exactly once (lost, duplicates), the same status on both sides, and Telegram's record of the
// calls (twice: decided more than once or asked both ways; calls: decide calls received).
async function compareChannel(s, chatId, r) {
    const theirs = await tgJoinRequests(s.tg, `chat_id=${chatId}`);
    const ours = await listAll(s.client, { chat_id: String(chatId) });
    const byUser = new Map();
    for (const o of ours) byUser.set(o.user_id, (byUser.get(o.user_id) || []).concat(o));
    r.requests += theirs.length;
    for (const t of theirs) {
        const mine = byUser.get(t.user_id) || [];
        if (mine.length === 0) r.diff('lost', `${chatId}/${t.user_id} (${t.status} on tgsim) is not in doorman`);
        else if (mine.length > 1) r.diff('dup', `${chatId}/${t.user_id} is in doorman ${mine.length} times`);
        else if (mine[0].status !== t.status) r.diff('status', `${chatId}/${t.user_id} is ${mine[0].status} in doorman, ${t.status} on tgsim`);
        if (t.decisions > 1 || (t.approve_calls > 0 && t.decline_calls > 0)) {
            r.diff('twice', `${chatId}/${t.user_id}: decisions ${t.decisions}, approve calls ${t.approve_calls}, decline calls ${t.decline_calls}`);
        }
        r.calls += t.approve_calls + t.decline_calls;
        r.resent += Math.max(0, t.approve_calls + t.decline_calls - 1);
    }
    const known = new Set(theirs.map((t) => t.user_id));
    for (const o of ours) if (!known.has(o.user_id)) r.diff('extra', `doorman has ${chatId}/${o.user_id}, tgsim does not`);
    return theirs;
}

// doorman's counts over every channel equal tgsim's.
async function compareTotals(s, r) {
    const t = (await s.tg.control('GET', '/control/join-requests?status=declined')).counts;
    const d = await counts(s.client);
    for (const k of ['pending', 'approved', 'declined', 'total']) {
        if (t[k] !== d[k]) r.diff('counts', `${k}: doorman ${d[k]}, tgsim ${t[k]}`);
    }
    if (t.decided_more_than_once) r.diff('twice', `tgsim: ${t.decided_more_than_once} requests decided more than once`);
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async function approveAll(s, r, dice) {
    const n = dice.int(1000, 3000);
    const ch = await newChannel(s, 'approve', true);
    await tgAddJoinRequests(s.tg, { chat_id: ch.id, count: n, first_name: 'Approve' });
    await waitRecorded(s.client, n, { query: { chat_id: String(ch.id) }, timeoutMs: 120000 });
    const a = await s.client.post('/api/invite-requests/approve-all', { filter: { chat_id: ch.id } });
    if (a.status !== 202) throw new Error(`approve-all -> ${a.status} ${a.text}`);
    const id = a.json.job.id;
    if (a.json.job.total !== n) r.diff('job', `the job's total is ${a.json.job.total}, ${n} were pending`);
    await killDuringJob(s, r, dice, id, n);
    const j = await waitJobEnd(s, id);
    if (j.state !== 'done' || j.failed !== 0 || j.done + j.skipped !== n) {
        r.diff('job', `job ${id} ended ${j.state}: done ${j.done} + skipped ${j.skipped} + failed ${j.failed} of ${n} (${j.error || ''})`);
    }
    const theirs = await compareChannel(s, ch.id, r);
    const notApproved = theirs.filter((t) => t.status !== 'approved');
    for (const t of notApproved.slice(0, 5)) r.diff('lost', `${ch.id}/${t.user_id} is ${t.status} on tgsim after Approve All`);
    if (notApproved.length > 5) r.diff('lost', `… ${notApproved.length} not approved on tgsim in all`);
    if (theirs.length !== n) r.diff('lost', `tgsim has ${theirs.length} requests in the channel, ${n} were made`);
    if (r.resent > WORKERS * r.kills) r.diff('twice', `${r.resent} calls re-sent after ${r.kills} kills: more than the ${WORKERS} in flight per kill`);
}

async function load(s, r, dice) {
    const n = dice.int(1500, 4000);
    const ch = await newChannel(s, 'load', false);
    await tgAddJoinRequests(s.tg, { chat_id: ch.id, count: n, first_name: 'Load', bio: 'soak' });
    // After a kill the dead process's lease on the session holds it for up to 30 s (503
    // unavailable, "in use by another doorman instance"): asked again until it ends.
    const a = await waitFor(async () => {
        const x = await s.client.post(`/api/sessions/${SESSION}/load`, { channel: String(ch.id), limit: 'all' });
        if (x.status === 503 && x.json?.error?.code === 'unavailable') return null;
        if (x.status !== 202) throw new Error(`load -> ${x.status} ${x.text}`);
        return x;
    }, { timeoutMs: 60000, intervalMs: 250, what: 'doorman to take the load (the session\'s lease)' });
    const id = a.json.job.id;
    // total is known after the first page
    await waitFor(async () => (await job(s, id)).total > 0, { timeoutMs: 60000, intervalMs: 5, what: `load job ${id} to know its total` });
    await killDuringJob(s, r, dice, id, n);
    const j = await waitJobEnd(s, id);
    if (j.state !== 'done' || j.total !== n || j.done !== n) {
        r.diff('job', `load job ${id} ended ${j.state}: done ${j.done} of total ${j.total}, ${n} pending (${j.error || ''})`);
    }
    const theirs = await compareChannel(s, ch.id, r);
    if (theirs.length !== n) r.diff('lost', `tgsim has ${theirs.length} requests in the channel, ${n} were made`);
    if (r.calls) r.diff('twice', `${r.calls} decide calls reached tgsim in a load`);
}

async function recording(s, r, dice) {
    const ch = await newChannel(s, 'record', true);
    const durationMs = dice.int(1500, 3000);
    const killAtMs = dice.real(0.15, 0.7) * durationMs;
    // tgsim's stream: a batch of new requests every few milliseconds for durationMs.
    // Its own dice: how many draws the stream makes depends on timing, the kills' must not.
    const streamDice = new Dice(dice.int(0, 2 ** 32 - 1));
    const t0 = Date.now();
    let made = 0;
    const stream = (async () => {
        while (Date.now() - t0 < durationMs) {
            const c = streamDice.int(5, 60);
            await tgAddJoinRequests(s.tg, { chat_id: ch.id, count: c, first_name: 'Rec' });
            made += c;
            await sleep(streamDice.int(2, 20));
        }
    })();
    try {
        // The first kill: at killAtMs into the stream, once doorman has recorded some of it.
        const recorded = async () => (await counts(s.client, { chat_id: String(ch.id) })).total;
        await waitFor(async () => Date.now() - t0 >= killAtMs && (await recorded()) > 0,
            { timeoutMs: 60000, intervalMs: 5, what: 'doorman to record part of the stream' });
        r.at.push(`${Math.round((100 * (Date.now() - t0)) / durationMs)}%`);
        await killAndRestart(s, r);
        // Perhaps a second kill, once the new process records again (the backlog or the stream).
        if (dice.chance(0.35)) {
            const base = await recorded();
            await waitFor(async () => (await recorded()) > base,
                { timeoutMs: 60000, intervalMs: 5, what: 'the restarted doorman to record again' });
            await sleep(dice.int(0, 30));
            r.at.push(`+${Math.round((Date.now() - t0) / 100) / 10}s`);
            await killAndRestart(s, r);
        }
    } finally {
        await stream;
    }
    const all = await waitFor(async () => (await counts(s.client, { chat_id: String(ch.id) })).total >= made,
        { timeoutMs: 120000, intervalMs: 50, what: 'doorman to record the stream' }).then(() => true, () => false);
    if (!all) r.diff('lost', `doorman did not record the stream's ${made} requests within 120 s of its end`);
    const theirs = await compareChannel(s, ch.id, r);
    if (theirs.length !== made) r.diff('lost', `tgsim has ${theirs.length} requests in the channel, ${made} were made`);
    if (r.calls) r.diff('twice', `${r.calls} decide calls reached tgsim while recording`);
}

const RUN = { 'approve-all': approveAll, load, recording };

// ---------------------------------------------------------------------------------------------
// Rounds and totals

async function runRound(s, label, scenario, seed) {
    const r = {
        kills: 0, late: 0, at: [], requests: 0, calls: 0, resent: 0, diffs: [],
        diff(kind, text) { this.diffs.push({ kind, text }); },
    };
    const t0 = Date.now();
    await RUN[scenario](s, r, new Dice(seed));
    await compareTotals(s, r);
    r.ms = Date.now() - t0;
    const count = (k) => r.diffs.filter((d) => d.kind === k).length;
    r.lost = count('lost');
    r.twice = count('twice');
    const kills = r.kills + (r.at.length ? ` at ${r.at.join(',')}` : '') + (r.late ? ` (${r.late} late)` : '');
    console.log(`${BACKEND.padEnd(10)} ${label} ${scenario.padEnd(11)} seed=${seed} kills=${kills} ` +
        `requests=${r.requests} lost=${r.lost} twice=${r.twice} resent=${r.resent} ${(r.ms / 1000).toFixed(1)}s` +
        (r.diffs.length ? '  FAILED' : ''));
    return r;
}

function summary(totals) {
    console.log(`\n== soak summary (${BACKEND})`);
    const all = { rounds: 0, kills: 0, late: 0, requests: 0, lost: 0, twice: 0, resent: 0, ms: 0 };
    for (const sc of SCENARIOS) {
        const t = totals[sc];
        if (!t.rounds) continue;
        console.log(`${BACKEND.padEnd(10)} ${sc.padEnd(11)} rounds=${t.rounds} kills=${t.kills} requests=${t.requests} ` +
            `lost=${t.lost} twice=${t.twice} resent=${t.resent} time=${(t.ms / 1000).toFixed(0)}s`);
        for (const k of Object.keys(all)) all[k] += t[k];
    }
    console.log(`${BACKEND.padEnd(10)} ${'all'.padEnd(11)} rounds=${all.rounds} kills=${all.kills} requests=${all.requests} ` +
        `lost=${all.lost} twice=${all.twice} resent=${all.resent} time=${(all.ms / 1000).toFixed(0)}s`);
}

async function main() {
    const replay = process.env.SOAK_REPLAY;
    let plan;
    let master = null;
    if (replay) {
        const m = /^([a-z-]+):(\d+)$/.exec(replay);
        if (!m || !RUN[m[1]]) throw new Error(`SOAK_REPLAY must be <scenario>:<seed> with scenario one of ${SCENARIOS.join(', ')}`);
        plan = [{ scenario: m[1], seed: Number(m[2]) }];
    } else {
        const rounds = Number(process.env.SOAK_ROUNDS || 50);
        if (!Number.isInteger(rounds) || rounds < 1) throw new Error('SOAK_ROUNDS must be a whole number >= 1');
        master = process.env.SOAK_SEED ? Number(process.env.SOAK_SEED) : randomInt(2 ** 31);
        if (!Number.isInteger(master) || master < 0) throw new Error('SOAK_SEED must be a whole number >= 0');
        plan = Array.from({ length: rounds }, (_, i) => ({ scenario: SCENARIOS[i % SCENARIOS.length], seed: roundSeed(master, i) }));
    }
    console.log(`soak on ${BACKEND}: ${plan.length} rounds` + (master !== null ? `, SOAK_SEED=${master}` : `, replaying ${replay}`));

    const totals = Object.fromEntries(SCENARIOS.map((sc) => [sc, { rounds: 0, kills: 0, late: 0, requests: 0, lost: 0, twice: 0, resent: 0, ms: 0 }]));
    const s = await startSoakStack();
    let failed = null;
    for (let i = 0; i < plan.length && !failed; i++) {
        const { scenario, seed } = plan[i];
        const label = `round ${String(i + 1).padStart(String(plan.length).length)}/${plan.length}`;
        let r;
        try {
            r = await runRound(s, label, scenario, seed);
        } catch (e) {
            console.log(`${BACKEND.padEnd(10)} ${label} ${scenario.padEnd(11)} seed=${seed}  FAILED: ${e.stack || e}`);
            failed = { scenario, seed, diffs: [] };
            break;
        }
        const t = totals[scenario];
        t.rounds++;
        for (const k of ['kills', 'late', 'requests', 'lost', 'twice', 'resent', 'ms']) t[k] += r[k];
        if (r.diffs.length) {
            failed = { scenario, seed, diffs: r.diffs };
            for (const d of r.diffs.slice(0, 40)) console.log(`    ${d.kind}: ${d.text}`);
            if (r.diffs.length > 40) console.log(`    … ${r.diffs.length - 40} more differences`);
        }
    }
    summary(totals);
    if (failed) {
        console.log(`soak FAILED on ${BACKEND}: replay the round with SOAK_REPLAY=${failed.scenario}:${failed.seed}` +
            (PG_URL ? ' (and DOORMAN_TEST_PG_URL)' : ''));
        console.log(`doorman's output (last 4000 characters):\n${s.dm.output.slice(-4000)}`);
    }
    try { await s.cleanup(); } catch (e) { console.log(`stopping the stack: ${e.message}`); failed = failed || e; }
    return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
    console.error(`soak: ${e.stack || e}`);
    process.exit(1);
});
