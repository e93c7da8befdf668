// login_memory_bench: doorman's resident memory idle, while serving the list, and at its peak
// during N logins at once (each Argon2id hash takes 64 MiB; doorman runs one at a time).
// Prints the three figures (the first two also split by smaps_rollup) and the peak's bound (aim:
// under 100 MB with 20 logins at once); idle twice: at once after the setup, and after a quiet
// QUIET_S seconds (35: doorman's idle pass, every 30 s, gives back memory kept for speed).
//
// env: N (20) logins, each as its own admin (the login throttle would refuse a sixth attempt on one
// name under way at once) from its own loopback address; DOORMAN_BIN / TGSIM_BIN as in tests.
import { readFileSync, writeFileSync } from 'node:fs';
import { Client, waitRecorded } from '../tests/lib/api.mjs';
import { startStack, ADMIN } from '../tests/lib/stacks.mjs';

const N = Number(process.env.N || 20);
const QUIET_S = Number(process.env.QUIET_S ?? 35);
const mb = (kb) => (kb / 1024).toFixed(1);
// VmRSS and VmHWM (the peak since the last reset) of a process, in kB.
function mem(pid) {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(st)[1]);
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}
// The process's resident memory split (proc(5), smaps_rollup), in kB: Pss is its fair share of
// pages it shares with others (the libraries' file-backed pages), anonymous its own.
function split(pid) {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)[1]);
    const rss = kb('Rss'), anon = kb('Anonymous');
    return `Rss ${mb(rss)} = anonymous ${mb(anon)} + file-backed ${mb(rss - anon)}; Pss ${mb(kb('Pss'))} ` +
        `(anonymous ${mb(kb('Pss_Anon'))}, file-backed ${mb(kb('Pss_File'))})`;
}
// Resets VmHWM to the present RSS (proc(5): clear_refs, 5).
const resetPeak = (pid) => writeFileSync(`/proc/${pid}/clear_refs`, '5');

const s = await startStack({ world: { channels: 2, pending: 200 } });
try {
    await waitRecorded(s.client, 200);
    // N admins: the stack's and N - 1 invited owners (each invitation's acceptance hashes once).
    const admins = [ADMIN];
    for (let i = 1; i < N; i++) {
        const inv = await s.client.post('/api/admins/invite', { role: 'owner' });
        if (inv.status !== 200) throw new Error(`inviting: ${inv.status} ${inv.text}`);
        const admin = { name: `owner${i}`, password: ADMIN.password };
        const token = inv.json.link.split('#token=')[1];
        const r = await new Client(s.dm).post('/api/invite', { token, ...admin });
        if (r.status !== 200) throw new Error(`inviting ${admin.name}: ${r.status} ${r.text}`);
        admins.push(admin);
    }
    const pid = s.dm.proc.pid;
    const idleAtOnce = mem(pid).rss;
    const idleAtOnceSplit = split(pid);
    await new Promise((r) => setTimeout(r, QUIET_S * 1000));
    const idle = mem(pid).rss;
    const idleSplit = split(pid);
    for (let i = 0; i < 200; i++) await s.client.ok('/api/invite-requests?limit=50');
    const listing = mem(pid).rss;
    const listingSplit = split(pid);

    resetPeak(pid);
    const before = mem(pid);
    const clients = Array.from({ length: N }, (_, i) => new Client(s.dm, { from: `127.0.${1 + (i >> 7)}.${2 + (i & 127)}` }));
    const t0 = performance.now();
    const answers = await Promise.all(clients.map((c, i) => c.post('/api/login', admins[i])));
    const secs = (performance.now() - t0) / 1000;
    const after = mem(pid);
    const ok = answers.filter((r) => r.status === 200).length;
    const threads = /^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1];
    console.log(`doorman RSS idle ${mb(idle)} MB after ${QUIET_S} s quiet (${threads} threads; ${mb(idleAtOnce)} MB at once), ` +
        `after 200 list pages ${mb(listing)} MB`);
    console.log(`  idle at once: ${idleAtOnceSplit}`);
    console.log(`  idle:        ${idleSplit}`);
    console.log(`  after lists: ${listingSplit}`);
    console.log(`${N} logins at once: ${ok} answered 200 in ${secs.toFixed(1)} s; RSS before ${mb(before.rss)} MB, ` +
        `peak during ${mb(after.peak)} MB   (aim < 100 MB)`);
    process.exitCode = ok === N ? 0 : 1;
} finally {
    await s.cleanup();
}
