// The panel's files as the browser gets them: index.html loads the entry ES module, and every
// module it imports (followed through the import graph) is embedded and served as JavaScript with
// the strict Content-Security-Policy (issue 9, item 5: web/ split into ES modules, no build step).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDoorman } from '../lib/doorman.mjs';
import { Client } from '../lib/api.mjs';

const CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; " +
    "frame-ancestors 'none'; form-action 'self'";
const IMPORT_RE = /\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|^\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/gm;

describe('panel assets', () => {
    let dm, c;
    before(async () => {
        dm = await startDoorman({});
        c = new Client(dm);
    });
    after(async () => { await dm?.stop(); });

    test('index.html loads the entry module; every module it reaches is served as JavaScript', async () => {
        const index = await c.get('/');
        assert.equal(index.status, 200);
        const entry = /<script type="module" src="([^"]+)"><\/script>/.exec(index.text);
        assert.ok(entry, 'index.html loads a <script type="module">');
        assert.ok(!/<script(?![^>]*\bsrc=)/.test(index.text), 'no inline script');

        const seen = new Set();
        const queue = [entry[1]];
        while (queue.length) {
            const p = queue.shift();
            if (seen.has(p)) continue;
            seen.add(p);
            const r = await c.get(p);
            assert.equal(r.status, 200, `${p}: ${r.text.slice(0, 200)}`);
            assert.match(r.headers.get('content-type'), /^text\/javascript\b/, `${p}: content type`);
            assert.equal(r.headers.get('content-security-policy'), CSP, `${p}: CSP`);
            assert.equal(r.headers.get('x-content-type-options'), 'nosniff', `${p}: nosniff`);
            const lines = r.text.split('\n').length;
            assert.ok(lines <= 400, `${p}: ${lines} lines; a module stays under about 400 (split it)`);
            for (const m of r.text.matchAll(IMPORT_RE)) {
                queue.push(new URL(m[1] || m[2], 'http://x' + p).pathname);
            }
        }
        assert.ok(seen.size > 5, `the entry module imports the others (${[...seen].join(', ')})`);
    });

    test('the verification Mini App: its page, script and style; Telegram\'s web clients may frame only the page', async () => {
        const page = await c.get('/app/verify?r=1');
        assert.equal(page.status, 200);
        assert.match(page.headers.get('content-type'), /^text\/html\b/);
        assert.match(page.text, /<script type="module" src="\/app\/verify.js"><\/script>/);
        assert.ok(!/<script(?![^>]*\bsrc=)/.test(page.text), 'no inline script');
        assert.equal(page.headers.get('content-security-policy'),
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; " +
            'frame-ancestors https://web.telegram.org https://webk.telegram.org https://webz.telegram.org');
        assert.equal(page.headers.get('x-frame-options'), null);
        for (const [p, type] of [['/app/verify.js', /^text\/javascript\b/], ['/app/verify.css', /^text\/css\b/]]) {
            const r = await c.get(p);
            assert.equal(r.status, 200, p);
            assert.match(r.headers.get('content-type'), type, p);
            assert.equal(r.headers.get('content-security-policy'), CSP, `${p}: the panel's CSP`);
            assert.equal(r.headers.get('x-frame-options'), 'DENY', p);
        }
        assert.ok(!/innerHTML|insertAdjacentHTML|document\.write/.test((await c.get('/app/verify.js')).text), 'text only, never markup');
    });

    test('a module that does not exist is a 404, not the panel page', async () => {
        for (const p of ['/js/nope.js', '/js/pages/nope.js', '/app.js']) {
            const r = await c.get(p);
            assert.equal(r.status, 404, `${p}: ${r.status}`);
            assert.match(r.headers.get('content-type'), /application\/json/, `${p}: JSON error`);
        }
    });
});
