// stacks.mjs: ready-made setups for a test file's before(): tgsim with a world, doorman on a fresh
// data dir with ADMIN created and a client logged in, the bot token configured when asked. The Bot
// API stack (startStack), the Session Manager stack with MTProto data centres
// (startSessionStack), the same with ports GramJS can write, and one with a user session that
// administers a channel of recorded requests (startDeciderStack). Each returns what it started
// and cleanup(), which stops it all.
import { makeTempDir, freeLowPorts } from './processes.mjs';
import { startTgsim, startTgsimDcs, setupWorld, tgMakeAdmin } from './tgsim.mjs';
import { startDoorman, startDoormanDcs, createAdmin } from './doorman.mjs';
import { Client, RecordingClient, waitRecorded } from './api.mjs';
import { newUserSession, waitListening } from './sessions.mjs';

export const ADMIN = { name: 'admin', password: 'correct horse battery' };

// The doorman half of a stack on running tgsim tg (world w): ADMIN created in dataDir, doorman
// started by startDoorman(), a client (newClient(dm)) logged in, w's bot token configured when
// asked; dbUrl as in startDoorman. Returns {tg, world, dm, client, restart({kill}), cleanup()}.
export async function adminStack({ tg, world: w, dataDir, startDoorman, newClient = (dm) => new Client(dm), configureBot, dbUrl }) {
    const r = createAdmin(dataDir, ADMIN.name, ADMIN.password, { dbUrl });
    if (r.status !== 0) throw new Error(`doorman admin add failed (${r.status}): ${r.stderr}`);
    const dm = await startDoorman();
    const client = newClient(dm);
    await client.login(ADMIN.name, ADMIN.password);
    if (configureBot) {
        const s = await client.post('/api/settings', { bot_token: w.token });
        if (s.status !== 200) throw new Error(`configuring the bot token -> ${s.status} ${s.text}`);
    }
    return {
        tg, world: w, dm, client,
        // Restarts doorman on the same data dir (kill: SIGKILL instead of SIGTERM) and logs in
        // again, so tests that restart do not depend on sessions surviving restarts.
        async restart({ kill = false } = {}) {
            await dm.restart({ kill });
            await client.login(ADMIN.name, ADMIN.password);
        },
        async cleanup() {
            const errs = [];
            for (const p of [dm, tg]) {
                try { await p.stop(); } catch (e) { errs.push(e); }
            }
            if (errs.length) throw errs[0];
        },
    };
}

// tgsim + a world + doorman with an admin, a logged-in client and the bot token configured.
// Returns {tg, world, dm, client, cleanup()}.
export async function startStack({ tgsimOpts = {}, world = {}, doormanOpts = {}, configureBot = true } = {}) {
    const tg = await startTgsim(tgsimOpts);
    const w = await setupWorld(tg, world);
    const dataDir = doormanOpts.dataDir || makeTempDir('doorman-data-');
    return adminStack({
        tg, world: w, dataDir, configureBot, dbUrl: doormanOpts.dbUrl,
        startDoorman: () => startDoorman({ tgsim: tg, dataDir, ...doormanOpts }),
    });
}

// tgsim (3 DCs) + optional Bot API world + doorman (admin logged in, bot configured when asked),
// its client a RecordingClient. Returns {tg, world, dm, client, dataDir, restart({kill}), cleanup()}.
export async function startSessionStack({ dcs = 3, world = null, configureBot = false, tgsimOpts = {}, doormanEnv = {} } = {}) {
    const tg = await startTgsimDcs({ dcs, ...tgsimOpts });
    const w = world ? await setupWorld(tg, world) : null;
    const dataDir = makeTempDir('doorman-data-');
    const stack = await adminStack({
        tg, world: w, dataDir, configureBot,
        startDoorman: () => startDoormanDcs({ tg, dataDir, env: doormanEnv }),
        newClient: (dm) => new RecordingClient(dm),
    });
    return { ...stack, dataDir };
}

// startSessionStack with the DCs on freeLowPorts (a session GramJS itself saved must carry them);
// a port taken between the probe and tgsim's bind fails the start, so it chooses again (3 tries).
export async function startLowPortSessionStack(opts = {}) {
    for (let attempt = 1; ; attempt++) {
        const ports = await freeLowPorts(opts.dcs ?? 3);
        try {
            return await startSessionStack({ ...opts, tgsimOpts: { args: ['--dc-ports', ports.join(',')] } });
        } catch (e) {
            if (attempt >= 3) throw e;
        }
    }
}

// Choosing who decides (issue 5): a session stack (bot configured) with one channel of `pending`
// requests doorman has recorded and a user session `name` whose account (first_name) administers
// the channel with the invite-users right; doormanEnv as startSessionStack. Returns the stack with acc,
// the session's account, once the session listens to its updates (its getState made: the tests
// count its calls under a flood limit).
export async function startDeciderStack({ pending, name, first_name, doormanEnv = {} }) {
    const s = await startSessionStack({ world: { channels: 1, pending }, configureBot: true, doormanEnv });
    try {
        await waitRecorded(s.client, pending);
        s.acc = (await newUserSession(s.client, s.tg, { name, first_name })).account;
        await tgMakeAdmin(s.tg, s.world.chatIds[0], s.acc.id, true);
        await waitListening(s.dm, name);
        return s;
    } catch (e) {
        await s.cleanup();
        throw e;
    }
}
