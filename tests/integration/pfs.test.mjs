// Perfect forward secrecy (issue 11, item 3; docs/operations.md, Sessions): a session's MTProto
// traffic goes under a temporary auth key bound to its permanent one with auth.bindTempAuthKey
// (tgsim refuses every other call on an unbound temporary key with AUTH_KEY_PERM_EMPTY, so a call
// that works went through a binding); a temporary key the server forgot (-404) is replaced and
// bound again; a key near its end is renewed by itself; DOORMAN_MTPROTO_TEMP_KEY_S=0 turns it off.
// mtcute's own temporary keys against tgsim are in interop.test.mjs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeTempDir, waitFor } from '../lib/processes.mjs';
import { startDoormanDcs } from '../lib/doorman.mjs';
import { newUserSession } from '../lib/sessions.mjs';
import { adminStack, startSessionStack } from '../lib/stacks.mjs';

const LIFE = 12; // seconds: renewed when an eighth is left, about 10.5 s after it was made

async function keyStats(tg) {
    const m = (await tg.control('GET', '/control/stats')).mtproto;
    return { made: m.temp_keys, binds: m.temp_binds, refused: m.perm_empty };
}

async function checkActive(client, name) {
    const r = await client.post(`/api/sessions/${name}/check`, {});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.session.status, 'active', r.text);
}

describe('temporary auth keys', () => {
    let s;
    before(async () => {
        s = await startSessionStack({ dcs: 2, doormanEnv: { DOORMAN_MTPROTO_TEMP_KEY_S: String(LIFE) } });
    });
    after(async () => { await s?.cleanup(); });

    test('DOORMAN_MTPROTO_TEMP_KEY_S=0: the permanent key carries everything, no temporary key is made', async () => {
        const dataDir = makeTempDir('doorman-data-');
        const off = await adminStack({
            tg: s.tg, dataDir,
            startDoorman: () => startDoormanDcs({ tg: s.tg, dataDir, env: { DOORMAN_MTPROTO_TEMP_KEY_S: '0' } }),
        });
        try {
            const k0 = await keyStats(s.tg); // nothing else talks to the DCs yet
            await newUserSession(off.client, s.tg, { name: 'plain' });
            await checkActive(off.client, 'plain');
            assert.deepEqual(await keyStats(s.tg), k0, 'no temporary key made or bound');
        } finally {
            await off.dm.stop();
        }
    });

    test('a login and the calls after it go under a temporary key bound to the permanent one', async () => {
        const before0 = await keyStats(s.tg);
        await newUserSession(s.client, s.tg, { name: 'pfs' });
        await checkActive(s.client, 'pfs');
        const k = await keyStats(s.tg);
        assert.ok(k.made > before0.made, `temporary keys were made: ${JSON.stringify(k)}`);
        assert.ok(k.binds > before0.binds, `and bound: ${JSON.stringify(k)}`);
        assert.equal(k.refused, 0, 'no call went under an unbound temporary key');
        // the session's calls in /metrics (issue 16, item 5: MTProto calls per session)
        const m = await (await fetch(`${s.dm.url}/metrics`)).text();
        const line = m.split('\n').find((l) => l.startsWith('doorman_mtproto_calls_total{session="pfs",outcome="OK"}'));
        assert.ok(line && Number(line.split(' ').pop()) >= 1, `the session's calls counted: ${line}`);
    });

    test('the server forgets the temporary key: a new one is made and bound, the session goes on', async () => {
        const k0 = await keyStats(s.tg);
        await s.tg.control('POST', '/control/temp-keys/expire', {});
        await checkActive(s.client, 'pfs');
        const k = await keyStats(s.tg);
        assert.ok(k.made > k0.made && k.binds > k0.binds, `${JSON.stringify(k0)} -> ${JSON.stringify(k)}`);
        assert.equal(k.refused, 0);
    });

    test('a temporary key near its end is replaced by itself, before the server forgets it', async () => {
        await checkActive(s.client, 'pfs');
        const k0 = await keyStats(s.tg);
        await waitFor(async () => (await keyStats(s.tg)).binds > k0.binds,
            { timeoutMs: LIFE * 2000, what: 'a new temporary key bound without being asked' });
        await checkActive(s.client, 'pfs');
        assert.equal((await keyStats(s.tg)).refused, 0);
    });
});
