// processes.mjs: the processes the tests start and what they leave behind. Where the doorman and
// tgsim binaries are; Proc, a started binary whose output is collected, watched for a line and
// checked for sanitizer reports when it stops; temp dirs; waitFor; free ports; runToEnd and
// runPython for helper programs (Node, Debian's python3) that run to completion.
//
// Every Proc is registered; it is killed when its test file's process exits, even after a failed
// assertion or an uncaught error, and every temp dir made here is removed then (other throwaway
// resources join that cleanup through removeAtExit). Nothing sleeps blindly: waiting is done by
// waitFor() (a condition polled with a deadline) or by watching a process's output for a line.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const testsDir = path.resolve(here, '..');

export const TGSIM_BIN = process.env.TGSIM_BIN || path.join(testsDir, '..', 'build-test', 'src', 'sim', 'tgsim');
export const DOORMAN_BIN = process.env.DOORMAN_BIN || path.join(testsDir, '..', 'build-test', 'src', 'doorman');

// ---------------------------------------------------------------------------------------------
// Cleanup: every child and temp dir, whatever happens.

const children = new Set();
const tempDirs = new Set();
const removers = [];

function cleanupNow() {
    for (const c of children) {
        try { process.kill(c.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    children.clear();
    if (!process.env.KEEP_TEST_DIRS) {
        for (const fn of removers.splice(0)) {
            try { fn(); } catch { /* best effort */ }
        }
        for (const d of tempDirs) {
            try { rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ }
        }
    }
    tempDirs.clear();
}
process.on('exit', cleanupNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => { cleanupNow(); process.exit(128 + 2); });
}

// fn (synchronous) runs at exit with the temp dirs' removal: after every child is killed, before
// the temp dirs go, and not at all with KEEP_TEST_DIRS. For throwaway resources other than dirs.
export function removeAtExit(fn) {
    removers.push(fn);
}

export function makeTempDir(prefix = 'doorman-test-') {
    const d = mkdtempSync(path.join(tmpdir(), prefix));
    tempDirs.add(d);
    return d;
}

// ---------------------------------------------------------------------------------------------
// Binaries under the sanitizers

// Sanitizer builds run the binaries under ASan/UBSan; a report in their output fails the test
// that stops the process. Leak detection is off: libraries (curl, sodium) keep global state.
export function childEnv(extra) {
    const env = { ...process.env };
    env.ASAN_OPTIONS = env.ASAN_OPTIONS || 'detect_leaks=0:abort_on_error=0';
    env.UBSAN_OPTIONS = env.UBSAN_OPTIONS || 'print_stacktrace=1';
    for (const [k, v] of Object.entries(extra || {})) {
        if (v === undefined || v === null) delete env[k];
        else env[k] = String(v);
    }
    return env;
}

const SANITIZER_RE = /(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer)/;

export function sanitizerReport(text) {
    const m = SANITIZER_RE.exec(text);
    if (!m) return null;
    return text.slice(Math.max(0, m.index - 200), m.index + 3000);
}

// A started binary: collects stdout+stderr, waits for lines, stops and reports sanitizer findings.
export class Proc {
    constructor(name, bin, args, env) {
        if (!existsSync(bin)) {
            throw new Error(`${name}: binary ${bin} does not exist (build it with ninja -C build-test, ` +
                `or set ${name === 'tgsim' ? 'TGSIM_BIN' : 'DOORMAN_BIN'})`);
        }
        this.name = name;
        this.out = '';   // stdout and stderr interleaved as they came
        this.err = '';   // stderr only
        this.exited = null; // {code, signal} once gone
        this.child = spawn(bin, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
        children.add(this.child);
        this.exitPromise = new Promise((resolve) => {
            this.child.on('exit', (code, signal) => {
                children.delete(this.child);
                this.exited = { code, signal };
                resolve(this.exited);
            });
            this.child.on('error', (e) => {
                children.delete(this.child);
                this.exited = { code: -1, signal: null, error: e };
                resolve(this.exited);
            });
        });
        // Unreferenced: a test file whose tests are over exits even if a process was left
        // running (the exit hook kills it); waits below hold their own timers.
        this.child.unref();
        this.child.stdout.unref();
        this.child.stderr.unref();
        this.child.stdout.setEncoding('utf8');
        this.child.stderr.setEncoding('utf8');
        this.child.stdout.on('data', (d) => { this.out += d; if (process.env.TEST_VERBOSE) process.stderr.write(`[${name}] ${d}`); });
        this.child.stderr.on('data', (d) => { this.out += d; this.err += d; if (process.env.TEST_VERBOSE) process.stderr.write(`[${name}!] ${d}`); });
    }

    get pid() { return this.child.pid; }

    // Resolves with the first match of re in the output; rejects when the process exits first or
    // the deadline passes, quoting the output so the failure explains itself.
    waitOutput(re, { timeoutMs = 15000, what = String(re) } = {}) {
        return new Promise((resolve, reject) => {
            const check = () => {
                const m = re.exec(this.out);
                if (m) { finish(); resolve(m); return true; }
                return false;
            };
            const onData = () => { check(); };
            const onExit = () => {
                // drain: data may still be buffered when 'exit' fires
                setImmediate(() => {
                    if (check()) return;
                    finish();
                    reject(new Error(`${this.name} exited (${JSON.stringify(this.exited)}) before printing ${what}; output:\n${this.out.slice(-4000)}`));
                });
            };
            const timer = setTimeout(() => {
                finish();
                reject(new Error(`${this.name} did not print ${what} within ${timeoutMs} ms; output:\n${this.out.slice(-4000)}`));
            }, timeoutMs);
            const finish = () => {
                clearTimeout(timer);
                this.child.stdout.off('data', onData);
                this.child.stderr.off('data', onData);
                this.child.off('exit', onExit);
            };
            this.child.stdout.on('data', onData);
            this.child.stderr.on('data', onData);
            this.child.on('exit', onExit);
            if (check()) return;
            if (this.exited) onExit();
        });
    }

    checkSanitizer() {
        const rep = sanitizerReport(this.out);
        if (rep) throw new Error(`${this.name} (pid ${this.pid}) reported a sanitizer error:\n${rep}`);
    }

    // SIGTERM, then SIGKILL after graceMs. Throws when a sanitizer reported anything, or when
    // expectClean and the process did not exit 0 on SIGTERM.
    async stop({ graceMs = 10000, expectClean = true } = {}) {
        let forced = false;
        if (!this.exited) {
            try { this.child.kill('SIGTERM'); } catch { /* gone */ }
            const t = setTimeout(() => {
                forced = true;
                try { this.child.kill('SIGKILL'); } catch { /* gone */ }
            }, graceMs);
            const keepAlive = setInterval(() => {}, 1000); // the child is unreferenced
            await this.exitPromise;
            clearTimeout(t);
            clearInterval(keepAlive);
        }
        this.checkSanitizer();
        if (expectClean && forced) {
            throw new Error(`${this.name} did not exit within ${graceMs} ms of SIGTERM (killed); output:\n${this.out.slice(-3000)}`);
        }
        if (expectClean && this.exited.code !== 0 && this.exited.signal !== 'SIGTERM') {
            throw new Error(`${this.name} did not exit cleanly on SIGTERM: ${JSON.stringify(this.exited)}; output:\n${this.out.slice(-3000)}`);
        }
        return this.exited;
    }

    async kill() {
        if (!this.exited) {
            try { this.child.kill('SIGKILL'); } catch { /* gone */ }
            const keepAlive = setInterval(() => {}, 1000); // the child is unreferenced
            await this.exitPromise;
            clearInterval(keepAlive);
        }
        this.checkSanitizer();
        return this.exited;
    }
}

// The URL of a "listening on http://HOST:PORT" line matched as (HOST)(PORT).
export function listenUrl(m) {
    return `http://${m[1]}:${m[2]}`;
}

// ---------------------------------------------------------------------------------------------
// Helper programs run to completion

// Runs cmd with args (in cwd; input on stdin when given, else no stdin) and resolves with its
// stdout once it exits 0; rejects naming `what` with the end of its stderr otherwise. Killed after
// timeoutMs. Not registered for the exit cleanup: its own deadline ends it.
export function runToEnd(cmd, args, { cwd, input, timeoutMs, what }) {
    return new Promise((resolve, reject) => {
        const p = spawn(cmd, args, { cwd, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
        let out = '', err = '';
        p.stdout.on('data', (d) => { out += d; });
        p.stderr.on('data', (d) => { err += d; });
        const t = setTimeout(() => { p.kill('SIGKILL'); }, timeoutMs);
        p.on('close', (code, sig) => {
            clearTimeout(t);
            if (code !== 0) reject(new Error(`${what} exited ${code ?? sig}: ${err.slice(-3000)}`));
            else resolve(out);
        });
        if (input !== undefined) p.stdin.end(input);
    });
}

// Debian's python3 (with python3-telethon), for the interop helpers.
export const PYTHON = '/usr/bin/python3';

// Runs Python source code (written to a temp file) with args, input on stdin; resolves with its
// stdout.
export async function runPython(code, args = [], { input, timeoutMs = 120000 } = {}) {
    const dir = makeTempDir('py-');
    const f = path.join(dir, 'script.py');
    writeFileSync(f, code);
    return runToEnd(PYTHON, [f, ...args], { input: input ?? '', timeoutMs, what: `python ${f}` });
}

// ---------------------------------------------------------------------------------------------
// Waiting

// Polls fn until it returns a truthy value (returned) or the deadline passes (throws naming what,
// with the last value or error seen).
export async function waitFor(fn, { timeoutMs = 15000, intervalMs = 50, what = 'condition' } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last, lastErr;
    for (;;) {
        try {
            last = await fn();
            if (last) return last;
            lastErr = undefined;
        } catch (e) {
            lastErr = e;
        }
        if (Date.now() >= deadline) {
            const detail = lastErr ? `last error: ${lastErr.stack || lastErr}` : `last value: ${JSON.stringify(last)?.slice(0, 500)}`;
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${detail}`);
        }
        await new Promise((r) => setTimeout(r, intervalMs));
    }
}

// ---------------------------------------------------------------------------------------------
// Free ports

// n distinct ports in [20000, 32000) that 127.0.0.1 accepts a listener on right now (all held
// open together, then closed): below 32768, so GramJS's StringSession.save() can write them.
export async function freeLowPorts(n) {
    const { createServer } = await import('node:net');
    const held = [];
    try {
        for (let tries = 0; held.length < n; tries++) {
            if (tries >= 200) throw new Error(`no ${n} free ports in 20000-31999 after 200 tries`);
            const port = 20000 + Math.floor(Math.random() * 12000);
            const srv = createServer();
            const ok = await new Promise((resolve) => {
                srv.once('error', () => resolve(false));
                srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(true));
            });
            if (ok) held.push(srv);
        }
        return held.map((srv) => srv.address().port);
    } finally {
        await Promise.all(held.map((srv) => new Promise((resolve) => srv.close(resolve))));
    }
}
