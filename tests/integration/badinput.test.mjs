// Bad input as a table (issue 10, item 8): every endpoint of docs/api.md and src/api/router.c gets
// wrong types, missing and unknown fields, huge and negative numbers, invalid UTF-8, NUL bytes,
// duplicate keys, deep nesting, wrong methods and content types, missing CSRF or session, and
// oversized values. Each case is its own subtest; it asserts the status, the error code, a message
// for people (that echoes no secret of the body), the JSON content type, and that nothing changed:
// doorman's requests, counts, jobs, audit log, sessions, settings and preferences, and tgsim's
// join requests are the same after the case as before it.
//
// Most cases are made by combinators below (each endpoint with a body x each kind of bad body, each
// field x each bad value of its type); the rest are written out. Bodies JSON.stringify cannot
// express (invalid UTF-8, raw NUL bytes, duplicate keys, 3,000-deep nesting, 1e400, 2^63, 2^64)
// are sent as the bytes they are.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgJoinRequests, tgMakeAdmin } from '../lib/tgsim.mjs';
import { waitRecorded, listAll, snapshot, decide, Client, rawHttp } from '../lib/api.mjs';
import { startSessionStack } from '../lib/stacks.mjs';
import { newUserSession, API_ID, API_HASH } from '../lib/sessions.mjs';

const MiB = 1024 * 1024;
const BIG = MiB + 1; // over the limit of every route, today's and the public routes' smaller one
const SECRET = 'Pw-S3cret-9Qz'; // where secrets go; no answer may contain it (jansson quotes up to 20 bytes near an error)
const DEEP = 3000; // past jansson's 2,048 levels, and within the 8 KiB public routes take

// ---------------------------------------------------------------------------------------------
// Bodies

const bytes = (...parts) => new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)))));
// The JSON of obj with `"<field>":` followed by raw text (a number JSON.stringify cannot write).
const rawField = (obj, field, raw) => {
    const rest = JSON.stringify(Object.fromEntries(Object.entries(obj).filter(([k]) => k !== field)));
    return `{"${field}":${raw}${rest === '{}' ? '}' : ',' + rest.slice(1)}`;
};
// obj padded to `size` bytes with an unknown field (its value is a plain string).
const padded = (obj, size) => {
    const head = JSON.stringify({ ...obj, pad: '' });
    return head.slice(0, -2) + 'x'.repeat(size - head.length) + '"}';
};

// ---------------------------------------------------------------------------------------------
// The world every case runs against: a session stack (bot configured, 6 pending requests over 2
// channels), a user session `s1` that administers the first channel, a session `victim` only the
// delete cases name, and a finished job.

let s, ids, jobDone, anon;
const fromAddrs = { next: 2 }; // a login case from its own loopback address: bad bodies count per address

// Endpoints that read a JSON body: path, who may call it, a body it accepts (`valid`, or `base`
// when it needs the world; each bad variant is bad in one field only), and its fields with the bad
// values of their kinds. Every field's bad value answers 400 bad_request naming the field (`names`:
// a pattern when the message words it otherwise; `status`: the few values answered otherwise).
// `validStatus`: what the accepted body answers when that changes nothing either.
const T = {
    str: [42, true, [], {}], // not strings
};
const endpoints = () => [
    {
        path: '/api/setup', who: 'public',
        valid: { token: 'a'.repeat(32), name: 'second', password: 'long enough password' },
        fields: { token: [...T.str, 'x'.repeat(129)], name: [...T.str, 'n'.repeat(65)], password: [...T.str, 'p'.repeat(1025)] },
        required: ['token', 'name', 'password'], validStatus: [409, 'conflict'], // an admin exists
    },
    {
        path: '/api/login', who: 'login',
        valid: { name: 'nobody_here', password: SECRET },
        fields: { name: [...T.str, 'n'.repeat(257)], password: [...T.str, 'p'.repeat(1025)] },
        required: ['name', 'password'],
    },
    { path: '/api/logout', who: 'admin', valid: {}, fields: {}, required: [] },
    {
        path: '/api/settings', who: 'admin', valid: {},
        fields: {
            bot_token: [42, [], '', 'x'.repeat(129), 'not a token', '123:abc\r\nX-Injected: 1', '123:abc/../../getMe', '123:abc?x=1',
                'wrongtoken'], // the last one is well-formed: Telegram (tgsim) refuses it
            mode: [3, 'fast', 'Polling', []],
            webhook_url: [42, ['https://a.example'], 'w'.repeat(501)],
            bot_rate: ['fast', 0, -1, 0.001, 100001, true, []],
            blocklist_url: [42, [], 'ftp://cas.example', 'api.cas.chat', 'https://cas.example/a b', 'https://' + 'c'.repeat(500)],
        },
        names: { bot_token: /bot.token/i },
        required: [],
    },
    {
        path: '/api/invite-requests/approve', who: 'admin', valid: () => ({ request_ids: [ids[0]] }),
        fields: {
            request_ids: ['1', ['1'], [1.5], [true], [null], [], [0], [-1], [[1]], {}, 7, Array.from({ length: 10001 }, (_, i) => i + 1)],
            session_name: [42, true, '', 'n'.repeat(65), ['s1', 's1'], [], 'no_such_sess'],
        },
        required: ['request_ids'],
    },
    {
        path: '/api/invite-requests/deny', who: 'admin', valid: () => ({ request_ids: [ids[1]] }),
        fields: { request_ids: ['all', [-9007199254740991], [2.5]], session_name: [{ name: 's1' }] },
        required: ['request_ids'],
    },
    {
        path: '/api/invite-requests/approve-all', who: 'admin', valid: {},
        fields: {
            filter: ['everything', 42, [], { chat_id: 'abc' }, { chat_id: 1.5 }, { from: 'last week' }, { from: -1 },
                { to: '2026-13-45' }, { to: true }, { q: 42 }, { q: 'q'.repeat(129) }],
            session_name: [42, '', 'no_such_sess'],
        },
        names: { filter: /filter|chat_id|from|to|q\b/ },
        required: [],
    },
    {
        path: '/api/invite-requests/deny-all', who: 'admin', valid: {},
        fields: { filter: [{ chat_id: [] }, { from: '2026-02-30' }, { q: ['a'] }], session_name: [false] },
        names: { filter: /filter|chat_id|from|to|q\b/ },
        required: [],
    },
    {
        path: '/api/invite-requests/preflight', who: 'admin', valid: () => ({ request_ids: [ids[0]] }),
        fields: { request_ids: ['1', [0], [], [1.5]], session_name: [42, '', 'no_such_sess'] },
        required: [],
    },
    {
        path: '/api/me/preferences', who: 'admin', valid: { approve_via: null },
        fields: { approve_via: [42, true, '', 'n'.repeat(65), [], {}] },
        required: ['approve_via'],
    },
    { path: () => `/api/jobs/${jobDone}/cancel`, name: '/api/jobs/{done}/cancel', who: 'admin', valid: {}, fields: {}, required: [], validStatus: [409, 'conflict'] },
    {
        path: '/api/sessions/login', who: 'admin',
        valid: { name: 'fresh', api_id: API_ID, api_hash: API_HASH, phone: '+19995550000' },
        fields: {
            name: [...T.str, '', 'bad name', '../x', 'n'.repeat(65), 'login', 's1'],
            api_id: ['12345', 1.5, 0, -1, 2147483648, 9223372036854775807n, true],
            api_hash: [...T.str, '', 'has space', 'h'.repeat(257)],
            phone: [...T.str, '', 'call me', '+1', '+' + '1'.repeat(30), 'p'.repeat(65)],
        },
        names: { name: /name|session/i, api_id: /api_id|API ID/, api_hash: /api_hash|API hash/, phone: /phone/i },
        required: ['name', 'api_id', 'api_hash', 'phone'],
        // a taken name is 409 conflict
        status: { name: { s1: [409, 'conflict'] } },
    },
    {
        path: '/api/sessions/login/code', who: 'admin', valid: { login_id: 'no_such_login', code: '12345' },
        fields: { login_id: [...T.str, 'l'.repeat(129)], code: [...T.str, 'c'.repeat(65)] },
        required: ['login_id', 'code'], validStatus: [404, 'login_not_found'],
    },
    {
        path: '/api/sessions/login/resend', who: 'admin', valid: { login_id: 'no_such_login' },
        fields: { login_id: [...T.str, 'l'.repeat(129)] },
        required: ['login_id'], validStatus: [404, 'login_not_found'],
    },
    {
        path: '/api/sessions/login/password', who: 'admin', valid: { login_id: 'no_such_login', password: SECRET },
        fields: { login_id: [...T.str], password: [...T.str, 'p'.repeat(1025)] },
        required: ['login_id', 'password'], validStatus: [404, 'login_not_found'],
    },
    {
        path: '/api/sessions/bot', who: 'admin',
        valid: { name: 'botsess', api_id: API_ID, api_hash: API_HASH, bot_token: SECRET },
        fields: {
            name: [42, '', 'a/b'], api_id: ['1', -5, 1e10], api_hash: [[], ''], bot_token: [...T.str, 't'.repeat(257)],
        },
        names: { name: /name|session/i, api_id: /api_id|API ID/, api_hash: /api_hash|API hash/, bot_token: /bot_token|token/i },
        required: ['name', 'api_id', 'api_hash', 'bot_token'],
    },
    {
        path: '/api/sessions/import', who: 'admin',
        valid: { name: 'imported', api_id: API_ID, api_hash: API_HASH, string: 'not-a-string-session' },
        fields: {
            name: [42, '.', 'list'], api_id: [null, 'x'], api_hash: [42],
            phone: [42, 'p'.repeat(65)],
            file: [42, [], '!!! not base64 !!!', Buffer.from('not a session file at all').toString('base64')],
            string: [42, 's'.repeat(4097)],
        },
        names: { name: /name|session/i, api_id: /api_id|API ID/, api_hash: /api_hash|API hash/, file: /file|string|session/i, string: /string|session/i },
        required: ['name', 'api_id', 'api_hash'],
        validStatus: [400, 'bad_request'], // the string is not a session: what is wrong, nothing stored
    },
    { path: '/api/sessions/s1/check', who: 'admin', valid: null, fields: {}, required: [] },
    {
        path: '/api/sessions/victim/delete', who: 'admin', valid: null,
        fields: { logout: ['yes', 1, 0, [], {}] }, required: [],
    },
    {
        path: '/api/sessions/s1/load', who: 'admin', valid: null,
        fields: {
            channel: [...T.str, '', 'not a channel', 'c'.repeat(513)],
            limit: [0, -1, 1.5, 'some', 'ALL', 100000001, true, []],
        },
        names: { channel: /channel|@|t\.me|-100/, limit: /limit/ },
        required: ['channel'],
        base: () => ({ channel: `${s.world.chatIds[0]}`, limit: 10 }),
    },
    {
        path: '/api/rules', who: 'admin',
        base: () => ({ chat_id: s.world.chatIds[0], name: 'r', enabled: true, conditions: [{ type: 'is_premium' }], action: 'hold' }),
        fields: {
            chat_id: ['x', 1.5, true, []],
            name: [...T.str, 'n'.repeat(513)],
            enabled: ['yes', 1, []],
            conditions: ['x', 42, {}, [42], [{ type: 'nope' }], [{ type: 'name_matches', regex: '(' }], [{ type: 'is_premium', negate: 'no' }]],
            action: [...T.str, 'explode', ''],
            delay_seconds: ['x', 60, -1],
        },
        required: ['action'],
    },
    {
        path: '/api/rules/dry-run', who: 'admin',
        base: () => ({ chat_id: s.world.chatIds[0], rules: [{ conditions: [], action: 'hold' }], global_rules: [] }),
        fields: {
            chat_id: ['x', 1.5, 0, true],
            rules: ['x', 42, {}, [42], [{ action: 'maybe' }], [{ conditions: [{ type: 'wave', count: 'k' }], action: 'hold' }]],
            global_rules: ['x', [{ action: 'hold', when: 1 }]],
        },
        required: ['chat_id'],
    },
    {
        path: '/api/rules/reorder', who: 'admin', valid: { chat_id: 0, ids: [] },
        fields: { chat_id: ['x', 1.5], ids: ['x', 42, ['1'], [1.5], [999999]] },
        required: ['ids'],
    },
    {
        path: '/api/rule-lists/bad_input_list', who: 'admin', valid: { entries: [1] },
        fields: { entries: ['x', 42, {}, ['not a name!'], [1.5], [true]], text: [42, true, 'abc\nnot valid!'], replace: ['yes', 1] },
        names: { text: /text/ },
        required: [],
    },
    {
        path: '/api/modes', who: 'admin', valid: () => ({ chat_id: s.world.chatIds[0], mode: 'rules' }),
        fields: {
            chat_id: ['x', 1.5, true],
            mode: [42, 'yolo', ''],
            delay_seconds: ['x', 5, 86401, 60],
            per_hour: ['x', -1, 100001, 10],
            session_name: [42, true, '', 'nobody'],
        },
        required: ['chat_id', 'mode'],
    },
    {
        path: '/api/rules/apply', who: 'admin', base: () => ({ chat_id: s.world.chatIds[0] }),
        fields: { chat_id: ['x', 1.5, 0, true, []] },
        required: ['chat_id'],
    },
    {
        path: '/api/invite-requests/release', who: 'admin', base: () => ({ request_ids: [ids[0]] }),
        fields: { request_ids: ['1', ['1'], [1.5], [true], [], [0], [-1], {}, Array.from({ length: 1001 }, (_, i) => i + 1)] },
        required: ['request_ids'],
    },
    {
        path: '/api/invite-requests/unban', who: 'admin', base: () => ({ request_ids: [ids[0]] }),
        fields: {
            request_ids: ['1', ['1'], [1.5], [], [0], [-1], {}, Array.from({ length: 101 }, (_, i) => i + 1)],
            session_name: [42, true, '', 'nobody'],
        },
        required: ['request_ids'],
    },
    {
        path: '/api/admins/invite', who: 'admin', base: () => ({ role: 'viewer', channels: [s.world.chatIds[0]] }),
        fields: { role: [...T.str, 'boss', 'Owner'], channels: ['1', [1.5], ['x'], [0], {}, Array.from({ length: 1001 }, (_, i) => i + 1)] },
        names: { channels: /channel/ },
        required: ['role'],
    },
    {
        path: '/api/admins/admin/update', who: 'admin', base: () => ({ role: 'viewer', channels: [s.world.chatIds[0]] }),
        fields: { role: [...T.str, 'boss'], channels: ['1', [1.5], [0], {}] },
        names: { channels: /channel/ },
        required: ['role'],
    },
    {
        path: '/api/me/password', who: 'admin', valid: { current_password: 'not the password', new_password: 'a new long password' },
        fields: { current_password: [...T.str, 'p'.repeat(1025)], new_password: [...T.str, 'p'.repeat(1025)] },
        required: ['current_password', 'new_password'], validStatus: [403, 'wrong_password'],
    },
    {
        path: '/api/me/totp/enable', who: 'admin', valid: { code: '123456' },
        fields: { code: [...T.str, 'c'.repeat(17)] },
        required: ['code'], validStatus: [409, 'conflict'], // no secret asked for
    },
    {
        path: '/api/me/totp/disable', who: 'admin', valid: { password: 'not the password' },
        fields: { password: [...T.str, 'p'.repeat(1025)] },
        required: ['password'], validStatus: [403, 'wrong_password'],
    },
    {
        path: '/api/tokens', who: 'admin', base: () => ({ name: 'bad_input', role: 'viewer', channels: [s.world.chatIds[0]] }),
        fields: { name: [...T.str, '', 'n'.repeat(33), 'a b', 'ä'], role: [...T.str, 'boss'], channels: ['1', [1.5], {}, [0]] },
        names: { channels: /channel/ },
        required: ['name', 'role'],
    },
    {
        path: '/api/invite', who: 'public',
        valid: { token: 'a'.repeat(32), name: 'newbie', password: 'long enough password' },
        fields: { token: [...T.str, 'x'.repeat(129)], name: [...T.str, 'n'.repeat(65)], password: [...T.str, 'p'.repeat(1025)] },
        required: ['token', 'name', 'password'], validStatus: [404, 'not_found'], // no such invitation
    },
    {
        path: '/api/challenges', who: 'admin',
        base: () => ({ chat_id: s.world.chatIds[0], challenge: { steps: ['text'], texts: { default: { prompt: 'Why?' } } } }),
        fields: {
            chat_id: ['x', 1.5, true],
            challenge: [42, 'x', [], { steps: [] }, { steps: ['text'], texts: {} }, { steps: ['text'], texts: { default: { prompt: 7 } } },
                { steps: ['text'], texts: { default: { prompt: 'p'.repeat(16000) }, de: { prompt: 'p'.repeat(500) } } }],
        },
        names: { challenge: /challenge/ },
        required: ['chat_id', 'challenge'],
    },
];

// ---------------------------------------------------------------------------------------------
// The table

function bodyEndpointCases() {
    const cases = [];
    for (const ep of endpoints()) {
        const path = ep.path;
        const label = ep.name || (typeof path === 'string' ? path : path());
        const base = () => (ep.base ? ep.base() : typeof ep.valid === 'function' ? ep.valid() : (ep.valid || {}));
        const who = ep.who;
        const add = (kind, c) => cases.push({ name: `POST ${label}: ${kind}`, method: 'POST', path, who, ...c });
        const firstField = Object.keys(ep.fields)[0] || 'x';

        // the body as a whole
        add('malformed JSON (unterminated, the secret inside)', {
            body: () => `{"${firstField}":"${SECRET}`, status: 400, code: 'bad_json', message: /line \d+, column \d+/,
        });
        add('malformed JSON (no colon before the secret)', {
            body: () => `{"${firstField}" "${SECRET}"}`, status: 400, code: 'bad_json', message: /line \d+, column \d+/,
        });
        add('malformed JSON (unquoted key)', { body: '{name:1}', status: 400, code: 'bad_json', message: /line/ });
        add('trailing garbage after the object', { body: () => JSON.stringify(base()) + '}', status: 400, code: 'bad_json' });
        add('duplicate keys', {
            body: () => `{"${firstField}":${JSON.stringify(base()[firstField] ?? 1)},"${firstField}":${JSON.stringify(base()[firstField] ?? 2)}}`,
            status: 400, code: 'bad_json', message: /duplicate/,
        });
        add(`${DEEP}-deep nesting`, { body: `{"${firstField}":${'['.repeat(DEEP)}${']'.repeat(DEEP)}}`, status: 400, code: 'bad_json' });
        add('invalid UTF-8 in a string', { body: bytes(`{"${firstField}":"a`, [0xff, 0xfe, 0xc0, 0x80], 'b"}'), status: 400, code: 'bad_json' });
        add('a raw NUL byte in a string', { body: bytes(`{"${firstField}":"a`, [0], 'b"}'), status: 400, code: 'bad_json' });
        add('\\u0000 in a string', { body: `{"${firstField}":"a\\u0000b"}`, status: 400, code: 'bad_json' });
        add('a lone surrogate \\ud800', { body: `{"${firstField}":"\\ud800"}`, status: 400, code: 'bad_json' });
        add('a NUL byte after the object', { body: () => bytes(JSON.stringify(base()), [0]), status: 400, code: 'bad_json' });
        add('1e400 (overflows a double)', { body: () => rawField(base(), firstField, '1e400'), status: 400, code: 'bad_json' });
        add('2^64 (overflows an integer)', { body: () => rawField(base(), firstField, '18446744073709551616'), status: 400, code: 'bad_json' });
        add('a JSON array, not an object', { body: '[1,2]', status: 400, code: 'bad_request', message: /object/ });
        add('a JSON string, not an object', { body: '"text"', status: 400, code: 'bad_request', message: /object/ });
        add('JSON null', { body: 'null', status: 400, code: 'bad_request', message: /object/ });
        add('an unknown field', { body: () => ({ ...base(), surprise: 1 }), status: 400, code: 'bad_request', message: /surprise/ });
        add('an unknown field that looks like a known one', {
            body: () => ({ ...base(), [firstField.toUpperCase()]: base()[firstField] ?? 1 }), status: 400, code: 'bad_request',
            message: new RegExp(firstField.toUpperCase()),
        });
        add('content type text/plain', { body: () => base(), contentType: 'text/plain', status: 415, code: 'unsupported_media_type' });
        add('no content type', { body: () => base(), contentType: null, status: 415, code: 'unsupported_media_type' });
        add('content type application/jsonp', { body: () => base(), contentType: 'application/jsonp', status: 415, code: 'unsupported_media_type' });
        add(`a body of ${BIG} bytes`, { body: () => padded(base(), BIG), status: 413, code: 'body_too_large' });
        if (who === 'admin') {
            add('no CSRF header', { body: () => base(), csrf: false, status: 403, code: 'csrf' });
            add('a wrong CSRF header', { body: () => base(), headers: { 'x-csrf-token': 'f'.repeat(64) }, csrf: false, status: 403, code: 'csrf' });
            add('no session', { body: () => base(), who: 'anon', status: 401, code: 'unauthorized' });
        }
        if (ep.validStatus) {
            add('the accepted body (answers as documented, changes nothing)', { body: () => base(), status: ep.validStatus[0], code: ep.validStatus[1] });
        }

        // each field
        for (const [field, values] of Object.entries(ep.fields)) {
            const names = ep.names?.[field] || (field === 'session_name' ? /session/i : new RegExp(field));
            if (ep.required.includes(field)) {
                add(`'${field}' missing`, {
                    body: () => { const b = { ...base() }; delete b[field]; return b; },
                    status: 400, code: 'bad_request', message: names,
                });
            }
            for (const v of values) {
                const special = ep.status?.[field]?.[v];
                const shown = typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
                add(`'${field}' = ${shown.length > 40 ? shown.slice(0, 30) + `… (${shown.length} bytes)` : shown}`, {
                    body: () => (typeof v === 'bigint' ? rawField(base(), field, v.toString()) : { ...base(), [field]: v }),
                    status: special ? special[0] : 400, code: special ? special[1] : 'bad_request', message: special ? undefined : names,
                });
            }
        }
    }
    return cases;
}

// Raw-JSON numbers in the places that take ids and counts.
function numberCases() {
    const c = [];
    const approve = '/api/invite-requests/approve';
    const nums = [
        ['1e400', 400, 'bad_json'], ['-1e400', 400, 'bad_json'], ['9223372036854775808', 400, 'bad_json'],
        ['18446744073709551616', 400, 'bad_json'], ['-9223372036854775808', 400, 'bad_request'],
        ['1.0', 400, 'bad_request'], ['1e2', 400, 'bad_request'], ['-0', 400, 'bad_request'],
        ['9223372036854775807', 404, 'not_found'], ['NaN', 400, 'bad_json'], ['Infinity', 400, 'bad_json'], ['0x10', 400, 'bad_json'],
    ];
    for (const [n, status, code] of nums)
        c.push({ name: `POST ${approve}: request_ids [${n}]`, method: 'POST', path: approve, who: 'admin', body: `{"request_ids":[${n}]}`, status, code });
    c.push({ name: `POST ${approve}: a known id and two unknown ones (404 naming the first)`, method: 'POST', path: approve, who: 'admin',
        body: () => ({ request_ids: [ids[0], 987654321, 987654322] }), status: 404, code: 'not_found', message: /987654321/ });
    c.push({ name: 'POST /api/invite-requests/preflight: an unknown id (404 naming it)', method: 'POST', path: '/api/invite-requests/preflight', who: 'admin',
        body: () => ({ request_ids: [ids[0], 987654321] }), status: 404, code: 'not_found', message: /987654321/ });
    for (const [n, status, code] of [['9223372036854775808', 400, 'bad_json'], ['1e400', 400, 'bad_json'], ['-1', 400, 'bad_request'], ['1.5', 400, 'bad_request'], ['"2026-02-30"', 400, 'bad_request']])
        c.push({ name: `POST /api/invite-requests/approve-all: filter.from ${n}`, method: 'POST', path: '/api/invite-requests/approve-all', who: 'admin',
            body: `{"filter":{"from":${n}}}`, status, code });
    for (const [n, status, code] of [['9223372036854775808', 400, 'bad_json'], ['"abc"', 400, 'bad_request'], ['1e3', 400, 'bad_request']])
        c.push({ name: `POST /api/invite-requests/deny-all: filter.chat_id ${n}`, method: 'POST', path: '/api/invite-requests/deny-all', who: 'admin',
            body: `{"filter":{"chat_id":${n}}}`, status, code });
    for (const [n, status, code] of [['1e400', 400, 'bad_json'], ['1e-300', 400, 'bad_request'], ['-0.0', 400, 'bad_request'], ['100000.0001', 400, 'bad_request']])
        c.push({ name: `POST /api/settings: bot_rate ${n}`, method: 'POST', path: '/api/settings', who: 'admin', body: `{"bot_rate":${n}}`, status, code });
    return c;
}

// Lists and items read from the path and the query.
function queryCases() {
    const c = [];
    const get = (path, status, code, extra = {}) => c.push({ name: `GET ${path.length > 90 ? path.slice(0, 80) + '…' : path}`, method: 'GET', path, who: 'admin', status, code, ...extra });
    for (const list of ['/api/invite-requests', '/api/jobs', '/api/audit']) {
        for (const v of ['0', '501', '-1', 'abc', '1.5', '1e3', '9223372036854775808', ''.padEnd(30, '9')]) get(`${list}?limit=${v}`, 400, 'bad_request', { message: /limit/ });
        for (const v of ['0', '-5', 'x', '9223372036854775808', '%ff']) get(`${list}?before=${v}`, 400, 'bad_request', { message: /before/ });
    }
    const ir = '/api/invite-requests';
    for (const v of ['bogus', 'PENDING', 'pending,approved']) get(`${ir}?status=${v}`, 400, 'bad_request', { message: /status/ });
    for (const v of ['abc', '1.5', '9223372036854775808', '-9223372036854775809']) get(`${ir}?chat_id=${v}`, 400, 'bad_request', { message: /chat_id/ });
    for (const v of ['yesterday', '2026-13-45', '2026-02-30', '-1']) get(`${ir}?from=${v}`, 400, 'bad_request', { message: /from/ });
    for (const v of ['x', '2026-1-1']) get(`${ir}?to=${v}`, 400, 'bad_request', { message: /'to'/ });
    for (const v of ['q'.repeat(129), '%ff', 'a%c0%80', '%ed%a0%80', '%e9%a2']) get(`${ir}?q=${v}`, 400, 'bad_request', { message: /'q'/ });
    // the exports take the list's filter, and their own format and bom, all checked before a byte
    for (const ex of [`${ir}/export`, '/api/audit/export']) {
        for (const v of ['xml', 'CSV', 'json', '%ff']) get(`${ex}?format=${v}`, 400, 'bad_request', { message: /format/ });
        for (const v of ['2', 'yes', 'true', '%ff']) get(`${ex}?bom=${v}`, 400, 'bad_request', { message: /bom/ });
        get(`${ex}?format=jsonl&bom=1`, 400, 'bad_request', { message: /CSV only/ });
    }
    get(`${ir}/export?status=bogus`, 400, 'bad_request', { message: /status/ });
    get(`${ir}/export?chat_id=1.5`, 400, 'bad_request', { message: /chat_id/ });
    get(`${ir}/export?from=2026-02-30`, 400, 'bad_request', { message: /from/ });
    get(`${ir}/export?q=${'q'.repeat(129)}`, 400, 'bad_request', { message: /'q'/ });
    get(`${ir}/export?q=%ff`, 400, 'bad_request', { message: /'q'/ });
    for (const id of ['abc', '0', '-1', '1.5', '1e3', '99999999999999999999', '987654321', '%ff', '%00', 'x'.repeat(200), '+1', '%201', '01x'])
        get(`/api/jobs/${id}`, 404, 'not_found');
    for (const id of ['nope', '%ff', 'a'.repeat(64)]) get(`/api/sessions/login/${id}`, 404, 'login_not_found');
    for (const name of ['nosuch', 'bad%20name', '..', '%2e%2e', 'a'.repeat(64)])
        get(`/api/sessions/${name}/export`, 404, 'not_found');
    for (const p of ['/api/nope', '/api/%ff', '/api/jobs/1/nope', '/api/sessions//check', '/api/invite-requests/approve/1', '/api/'])
        get(p, 404, 'not_found');
    for (const id of ['abc', '0', '-1', '99999999999999999999', '987654321', '+1', '%201'])
        c.push({ name: `POST /api/jobs/${id}/cancel`, method: 'POST', path: `/api/jobs/${id}/cancel`, who: 'admin', body: {}, status: 404, code: 'not_found' });
    for (const name of ['nosuch', '%ff', 'x'.repeat(65)]) {
        c.push({ name: `POST /api/sessions/${name.slice(0, 20)}/check (unknown)`, method: 'POST', path: `/api/sessions/${name}/check`, who: 'admin', body: {}, status: 404, code: 'not_found' });
        c.push({ name: `POST /api/sessions/${name.slice(0, 20)}/load (unknown)`, method: 'POST', path: `/api/sessions/${name}/load`, who: 'admin', body: { channel: '@x' }, status: 404, code: 'not_found' });
        c.push({ name: `POST /api/sessions/${name.slice(0, 20)}/delete (unknown)`, method: 'POST', path: `/api/sessions/${name}/delete`, who: 'admin', body: {}, status: 404, code: 'not_found' });
    }
    return c;
}

// Every route, by method: the ones it does not take are 405; without a session, 401.
const ROUTES = [
    ['GET', '/api/setup', 'public'], ['POST', '/api/setup', 'public'], ['POST', '/api/login', 'public'],
    ['POST', '/api/logout'], ['GET', '/api/me'], ['GET', '/api/settings'], ['POST', '/api/settings'],
    ['GET', '/api/invite-requests'], ['POST', '/api/invite-requests/approve'], ['POST', '/api/invite-requests/deny'],
    ['POST', '/api/invite-requests/approve-all'], ['POST', '/api/invite-requests/deny-all'],
    ['POST', '/api/invite-requests/preflight'], ['GET', '/api/me/preferences'], ['POST', '/api/me/preferences'],
    ['GET', '/api/chats'], ['GET', '/api/jobs'], ['GET', '/api/jobs/1'], ['POST', '/api/jobs/1/cancel'], ['GET', '/api/audit'],
    ['GET', '/api/sessions'], ['GET', '/api/sessions/list'], ['POST', '/api/sessions/login'],
    ['GET', '/api/sessions/login/abc'], ['POST', '/api/sessions/login/code'], ['POST', '/api/sessions/login/resend'],
    ['POST', '/api/sessions/login/password'],
    ['POST', '/api/sessions/bot'], ['POST', '/api/sessions/import'], ['POST', '/api/sessions/s1/check'],
    ['GET', '/api/sessions/s1/export'], ['POST', '/api/sessions/s1/delete'], ['POST', '/api/sessions/s1/load'],
    ['POST', '/api/rules/apply'], ['POST', '/api/invite-requests/release'], ['POST', '/api/invite-requests/unban'],
    ['GET', '/api/invite-requests/export'], ['GET', '/api/audit/export'],
    ['GET', '/api/challenges'], ['POST', '/api/challenges'], ['GET', '/api/verifications/1'],
    ['POST', '/api/app/verify/open', 'public'], ['POST', '/api/app/verify/answer', 'public'],
];

function methodCases() {
    const c = [];
    const byPath = new Map();
    for (const [m, p, who] of ROUTES) {
        if (!byPath.has(p)) byPath.set(p, { methods: new Set(), who: who || 'admin' });
        byPath.get(p).methods.add(m);
    }
    for (const [p, { methods, who }] of byPath) {
        for (const m of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
            if (methods.has(m)) continue;
            // GET /api/sessions/login/code is GET /api/sessions/login/{login_id} of the login "code"
            if (m === 'GET' && /^\/api\/sessions\/login\/./.test(p)) {
                c.push({ name: `GET ${p} (a login id)`, method: m, path: p, who: 'admin', status: 404, code: 'login_not_found' });
                continue;
            }
            c.push({ name: `${m} ${p}`, method: m, path: p, who: who === 'public' ? 'anon' : 'admin', body: m === 'GET' || m === 'OPTIONS' ? undefined : {},
                status: 405, code: 'method_not_allowed', message: new RegExp(m) });
        }
        if (who !== 'public') {
            const m = methods.has('GET') ? 'GET' : 'POST';
            c.push({ name: `${m} ${p} without a session`, method: m, path: p, who: 'anon', body: m === 'POST' ? {} : undefined, status: 401, code: 'unauthorized' });
            c.push({ name: `${m} ${p} with a made-up session cookie`, method: m, path: p, who: 'anon', headers: { cookie: `doorman_session=${'a'.repeat(64)}` },
                body: m === 'POST' ? {} : undefined, status: 401, code: 'unauthorized' });
        }
    }
    return c;
}

function otherCases() {
    const c = [];
    const me = '/api/me';
    c.push({ name: 'GET /api/me with a 4 KiB session cookie', method: 'GET', path: me, who: 'anon', headers: { cookie: `doorman_session=${'b'.repeat(4096)}` }, status: 401, code: 'unauthorized' });
    c.push({ name: 'GET /api/me with an empty session cookie', method: 'GET', path: me, who: 'anon', headers: { cookie: 'doorman_session=' }, status: 401, code: 'unauthorized' });
    c.push({ name: 'GET /api/me with the session cookie in another cookie\'s name', method: 'GET', path: me, who: 'anon', headers: { cookie: 'x_doorman_session=abc' }, status: 401, code: 'unauthorized' });
    // A body within the limit of logged-in routes is read (a wrong type in it is a 400, not a 413).
    c.push({ name: `POST /api/invite-requests/approve: a body just under 1 MiB`, method: 'POST', path: '/api/invite-requests/approve', who: 'admin',
        body: padded({ request_ids: 'not a list' }, MiB),
        status: 400, code: 'bad_request' });
    // The webhook: Telegram POSTs with the secret header; doorman polls here, so nothing is taken.
    const wh = '/telegram/webhook';
    const update = JSON.stringify({ update_id: 1, chat_join_request: { chat: { id: -1001, type: 'channel', title: 'x' }, from: { id: 5, is_bot: false, first_name: 'X' }, user_chat_id: 5, date: 1 } });
    c.push({ name: `GET ${wh}`, method: 'GET', path: wh, who: 'anon', status: 405, code: 'method_not_allowed' });
    c.push({ name: `PUT ${wh}`, method: 'PUT', path: wh, who: 'anon', body: update, status: 405, code: 'method_not_allowed' });
    c.push({ name: `POST ${wh} without the secret header`, method: 'POST', path: wh, who: 'anon', body: update, status: 401, code: 'unauthorized' });
    c.push({ name: `POST ${wh} with a wrong secret`, method: 'POST', path: wh, who: 'anon', body: update, headers: { 'x-telegram-bot-api-secret-token': 'wrong' }, status: 401, code: 'unauthorized' });
    c.push({ name: `POST ${wh}: malformed JSON, no secret`, method: 'POST', path: wh, who: 'anon', body: '{"update_id":', status: 401, code: 'unauthorized' });
    c.push({ name: `POST ${wh}: invalid UTF-8, no secret`, method: 'POST', path: wh, who: 'anon', body: bytes('{"update_id":1,"x":"', [0xff], '"}'), status: 401, code: 'unauthorized' });
    // without the secret a big body is refused before it is read
    c.push({ name: `POST ${wh}: a body of ${BIG} bytes, no secret`, method: 'POST', path: wh, who: 'anon', body: padded({ update_id: 1 }, BIG), status: 401, code: 'unauthorized' });
    c.push({ name: `POST /api/login: a body of ${BIG} bytes of nested arrays`, method: 'POST', path: '/api/login', who: 'login',
        body: `{"x":[${'{},'.repeat(Math.ceil(BIG / 3))}{}]}`, status: 413, code: 'body_too_large' });
    // webhook mode needs an address Telegram can call
    for (const url of [undefined, 'https://', 'javascript:alert(1)', 'https://a b.example', 'ftp://a.example', 'https://a.example/\u0001'])
        c.push({ name: `POST /api/settings: webhook mode with webhook_url ${JSON.stringify(url)}`, method: 'POST', path: '/api/settings', who: 'admin',
            body: { mode: 'webhook', ...(url === undefined ? {} : { webhook_url: url }) }, status: 400, code: 'bad_request', message: /webhook/i });
    // sessions: the choice between a file and a string
    const imp = { name: 'imported', api_id: API_ID, api_hash: API_HASH };
    c.push({ name: 'POST /api/sessions/import: neither file nor string', method: 'POST', path: '/api/sessions/import', who: 'admin', body: imp, status: 400, code: 'bad_request', message: /file|string/ });
    c.push({ name: 'POST /api/sessions/import: both file and string', method: 'POST', path: '/api/sessions/import', who: 'admin',
        body: { ...imp, file: 'AAAA', string: 'x' }, status: 400, code: 'bad_request', message: /file|string/ });
    c.push({ name: 'POST /api/sessions/import: an empty file', method: 'POST', path: '/api/sessions/import', who: 'admin', body: { ...imp, file: '' }, status: 400, code: 'bad_request' });
    return c;
}

// Requests only raw bytes on the socket make: a chunked body (no Content-Length to refuse it by),
// a method no client library sends, two Content-Type headers.
function rawCases() {
    const c = [];
    const req = (method, path, headers, body = '') => ({ who }) => {
        const host = new URL(s.dm.url).host;
        const auth = who === 'admin' ? `Cookie: ${s.client.cookieHeader()}\r\nX-CSRF-Token: ${s.client.csrf}\r\n` : '';
        return `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n${auth}${headers}Connection: close\r\n\r\n${body}`;
    };
    const chunked = 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n';
    const bigChunk = `${BIG.toString(16)}\r\n{"x":"${'x'.repeat(BIG - 8)}"}\r\n0\r\n\r\n`;
    for (const [path, who] of [['/api/login', 'anon'], ['/api/setup', 'anon'], ['/api/invite-requests/approve', 'admin'], ['/api/settings', 'admin']])
        c.push({ name: `POST ${path}: a chunked body of ${BIG} bytes`, method: 'POST', who, raw: req('POST', path, chunked, bigChunk), status: 413, code: 'body_too_large' });
    c.push({ name: `POST /telegram/webhook: a chunked body of ${BIG} bytes, no secret`, method: 'POST', who: 'anon',
        raw: req('POST', '/telegram/webhook', chunked, bigChunk), status: 401, code: 'unauthorized' });
    c.push({ name: 'FOO /api/me (a method no route has)', method: 'FOO', who: 'admin', raw: req('FOO', '/api/me', ''), status: 405, code: 'method_not_allowed' });
    const one = '{"request_ids":[1]}';
    c.push({ name: 'POST /api/invite-requests/approve with text/plain, then application/json', method: 'POST', who: 'admin',
        raw: req('POST', '/api/invite-requests/approve', `Content-Type: text/plain\r\nContent-Type: application/json\r\nContent-Length: ${one.length}\r\n`, one),
        status: 415, code: 'unsupported_media_type' });
    return c;
}

function allCases() {
    return [...bodyEndpointCases(), ...numberCases(), ...queryCases(), ...methodCases(), ...otherCases(), ...rawCases()];
}

// ---------------------------------------------------------------------------------------------
// Running a case

// Everything a rejected request must leave as it was.
async function state() {
    return { doorman: await snapshot(s.client), telegram: await tgJoinRequests(s.tg) };
}

function clientFor(who) {
    if (who === 'admin') return s.client;
    if (who === 'login') return new Client(s.dm, { from: `127.0.${Math.floor(fromAddrs.next / 250) + 1}.${(fromAddrs.next++ % 250) + 2}` });
    return anon;
}

// A raw answer (Connection: close, Content-Length) as {status, headers, json, text}.
function parseRaw(raw) {
    const [head, ...rest] = raw.split('\r\n\r\n');
    const lines = head.split('\r\n');
    const headers = new Headers();
    for (const l of lines.slice(1)) headers.append(l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim());
    const text = rest.join('\r\n\r\n');
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: Number(lines[0].split(' ')[1]), headers, json, text };
}

async function send(c) {
    if (c.raw) {
        const u = new URL(s.dm.url);
        const text = c.raw({ who: c.who });
        return { path: text.split(' ')[1], r: parseRaw(await rawHttp(u.hostname, Number(u.port), text)) };
    }
    const val = (v) => (typeof v === 'function' ? v() : v);
    const body = val(c.body);
    const path = val(c.path);
    const client = clientFor(c.who);
    const r = await client.request(c.method, path, {
        body, csrf: c.csrf !== false, headers: c.headers || {},
        contentType: c.contentType === undefined ? 'application/json' : c.contentType,
    });
    return { path, r };
}

async function run(c) {
    const { path, r } = await send(c);
    const what = `${c.method} ${path.slice(0, 100)} -> ${r.status} ${r.text.slice(0, 300)}`;
    assert.equal(r.status, c.status, what);
    assert.match(r.headers.get('content-type') || '', /^application\/json/, `JSON content type: ${what}`);
    assert.ok(r.json && typeof r.json.error === 'object', `an error object: ${what}`);
    assert.equal(r.json.error.code, c.code, what);
    const msg = r.json.error.message;
    assert.ok(typeof msg === 'string' && msg.trim().length > 0, `a message: ${what}`);
    if (c.message) assert.match(msg, c.message, `the message says what is wrong: ${what}`);
    assert.ok(!r.text.includes(SECRET), `no secret echoed: ${what}`);
    assert.ok(msg.length <= 600, `a message for people, not the body: ${msg.length} bytes`);
}

// ---------------------------------------------------------------------------------------------

describe('bad input as a table: a clear error, nothing changed', () => {
    const cases = allCases();
    let last;

    before(async () => {
        s = await startSessionStack({ world: { channels: 2, pending: 6 }, configureBot: true });
        await waitRecorded(s.client, 6);
        ids = (await listAll(s.client)).map((r) => r.id).sort((a, b) => a - b);
        const acc = (await newUserSession(s.client, s.tg, { name: 's1', first_name: 'Decider' })).account;
        await tgMakeAdmin(s.tg, s.world.chatIds[0], acc.id, true);
        await newUserSession(s.client, s.tg, { name: 'victim', first_name: 'Victim' });
        jobDone = (await decide(s.client, 'deny', { request_ids: [ids[ids.length - 1]] })).id;
        anon = new Client(s.dm);
        ids = ids.slice(0, -1);
        last = await state();
    });

    after(async () => {
        try {
            assert.equal((await s.client.get('/api/health')).status, 200, 'doorman is alive');
            assert.equal((await s.client.get('/api/me')).status, 200, 'still logged in');
        } finally {
            await s?.cleanup();
        }
    });

    test(`the table holds at least 150 cases (${cases.length})`, () => {
        assert.ok(cases.length >= 150, `${cases.length} cases`);
        const names = new Set();
        for (const c of cases) {
            assert.ok(!names.has(c.name), `case names are unique: ${c.name}`);
            names.add(c.name);
        }
    });

    for (const c of cases) {
        test(c.name, async () => {
            let failed = null;
            try { await run(c); } catch (e) { failed = e; }
            const was = last;
            last = await state(); // the next case compares with what this one left
            if (failed) throw failed;
            assert.deepEqual(last, was, 'nothing changed: requests, counts, jobs, audit log, sessions, settings, Telegram');
        });
    }
});
