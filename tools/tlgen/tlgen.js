#!/usr/bin/env node
// tlgen: reads the newest schema pinned in schemas.json (api + mtproto + errors, unpacked by fetch.sh
// into schemas/<layer>/) and writes the C tables in src/mtproto/tl/ (schema.h, schema.c, errors.c),
// and Telegram's RSA public keys from its binary/rsa-keys.js (rsa_keys.h, rsa_keys.c).
// Usage: node tlgen.js <output dir>
// Output is deterministic and committed; tools/tlgen/check.sh proves it is fresh.
'use strict';
const fs = require('fs');
const path = require('path');

const pinned = require(path.join(__dirname, 'schemas.json')).layers;
const newest = Object.keys(pinned).map(Number).sort((a, b) => b - a)[0];
const source = pinned[newest].package;
const schemaDir = path.join(__dirname, 'schemas', String(newest));
if (!fs.existsSync(path.join(schemaDir, 'api-schema.json'))) {
    process.stderr.write(`tlgen: ${schemaDir} is missing; run tools/tlgen/fetch.sh\n`);
    process.exit(1);
}
const api = require(path.join(schemaDir, 'api-schema.json'));
const mtp = require(path.join(schemaDir, 'mtp-schema.json'));
const rawErrors = require(path.join(schemaDir, 'raw-errors.json'));
// binary/rsa-keys.js is CommonJS in @mtcute/tl and an ES module in @mtcute/core; both hold the
// index as one JSON.parse('...') literal.
const rsaSrc = fs.readFileSync(path.join(schemaDir, 'binary', 'rsa-keys.js'), 'utf8');
const rsaJson = /JSON\.parse\('([^']*)'\)/.exec(rsaSrc);
const rsaKeys = rsaJson ? JSON.parse(rsaJson[1]) : null;

function fail(msg) {
    process.stderr.write('tlgen: ' + msg + '\n');
    process.exit(1);
}

const outDir = process.argv[2];
if (!outDir) fail('usage: node tlgen.js <output dir>');
if (!rsaKeys) fail('no JSON.parse(...) key index in binary/rsa-keys.js');
if (api.l !== newest) fail(`schemas/${newest} says layer ${api.l}`);

// mtcute's mtp-schema.json lists the ---functions--- of mtproto.tl as classes; these are the
// functions of core.telegram.org/schema/mtproto. The builtin "message" is named mt_message, since the
// API schema has its own message constructor.
const MTP_METHODS = new Set(['req_pq_multi', 'req_DH_params', 'set_client_DH_params', 'rpc_drop_answer',
    'get_future_salts', 'ping', 'ping_delay_disconnect', 'destroy_session', 'destroy_auth_key']);

// Combinators that mtcute implements in code rather than in its JSON schema
// (core.telegram.org/schema/mtproto and core.telegram.org/mtproto/serialize). Each id is checked
// below against the CRC32 of its TL line, so a typo here cannot go unnoticed, except msg_container
// and gzip_packed, whose ids are fixed by the protocol and are not the CRC32 of their lines (the same
// constants as Telethon's telethon/tl/core/messagecontainer.py and gzippacked.py).
const BUILTINS = [
    { tl: 'boolFalse = Bool', id: 0xbc799737, name: 'boolFalse', type: 'Bool', args: [] },
    { tl: 'boolTrue = Bool', id: 0x997275b5, name: 'boolTrue', type: 'Bool', args: [] },
    { tl: 'message msg_id:long seqno:int bytes:int body:Object = Message', id: 0x5bb8e511, name: 'mt_message',
      type: 'Message', args: [['msg_id', 'long'], ['seqno', 'int'], ['bytes', 'int'], ['body', 'Object']] },
    { tl: 'msg_container messages:vector<%Message> = MessageContainer', id: 0x73f1f8dc, notCrc: true, name: 'msg_container',
      type: 'MessageContainer', args: [['messages', 'mt_message', { isBareVector: true, isBareType: true }]] },
    { tl: 'msg_copy orig_message:Message = MessageCopy', id: 0xe06046b2, name: 'msg_copy', type: 'MessageCopy',
      args: [['orig_message', 'mt_message', { isBareType: true }]] },
    { tl: 'rpc_result req_msg_id:long result:Object = RpcResult', id: 0xf35c6d01, name: 'rpc_result',
      type: 'RpcResult', args: [['req_msg_id', 'long'], ['result', 'Object']] },
    { tl: 'gzip_packed packed_data:bytes = Object', id: 0x3072cfa1, notCrc: true, name: 'gzip_packed', type: 'Object',
      args: [['packed_data', 'bytes']] },
];

function crc32js(buf) {
    let c = 0xffffffff;
    for (const b of buf) {
        c ^= b;
        for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
    }
    return (c ^ 0xffffffff) >>> 0;
}
for (const b of BUILTINS) {
    if (b.notCrc) continue;
    const got = crc32js(Buffer.from(b.tl));
    if (got !== b.id) fail(`builtin ${b.name}: crc32 of "${b.tl}" is ${got.toString(16)}, table says ${b.id.toString(16)}`);
}

// ---- collect combinators ----
const entries = [];
for (const e of api.e) entries.push({ src: 'api', name: e.name, kind: e.kind, id: e.id >>> 0, type: e.type,
    typeModifiers: e.typeModifiers || {}, args: e.arguments });
for (const e of mtp) {
    const name = e.name.replace(/^mt_/, '');
    entries.push({ src: 'mtproto', name, kind: MTP_METHODS.has(name) ? 'method' : 'class', id: e.id >>> 0,
        type: e.type, typeModifiers: e.typeModifiers || {}, args: e.arguments });
}
for (const b of BUILTINS) entries.push({ src: 'builtin', name: b.name, kind: 'class', id: b.id, type: b.type,
    typeModifiers: {}, args: b.args.map(([name, type, tm]) => ({ name, type, typeModifiers: tm })) });

const byName = new Map();
const byId = new Map();
for (const e of entries) {
    if (byName.has(e.name)) fail(`duplicate name ${e.name}`);
    if (byId.has(e.id)) fail(`duplicate id ${e.id.toString(16)} (${e.name}, ${byId.get(e.id).name})`);
    byName.set(e.name, e);
    byId.set(e.id, e);
}
entries.sort((a, b) => a.id - b.id); // the C table is sorted by id for binary search
entries.forEach((e, i) => { e.index = i; });

// Boxed types: every constructor's result type (methods produce no type).
const typeNames = [...new Set(entries.filter((e) => e.kind === 'class').map((e) => e.type))].sort(cmp);
const typeIndex = new Map(typeNames.map((t, i) => [t, i]));
function cmp(a, b) { // byte order, as strcmp
    const x = Buffer.from(a), y = Buffer.from(b);
    return Buffer.compare(x, y);
}

const PRIM = { int: 'INT', long: 'LONG', int53: 'LONG', double: 'DOUBLE', int128: 'INT128', int256: 'INT256',
    string: 'STRING', bytes: 'BYTES', Bool: 'BOOL', true: 'TRUE', '#': 'FLAGS', '!X': 'ANY', Object: 'OBJECT' };

// A type reference -> C field descriptor parts.
function typeRef(type, tm, where) {
    let vec = '0';
    if (tm.isBareVector) vec = 'TL_VEC_BARE';
    else if (tm.isVector) vec = 'TL_VEC_BOXED';
    if (type === 'X') return { kind: 'TL_K_ANY', vec, ref: 0 };
    if (PRIM[type] && !(type === 'Bool' && tm.isBareType)) return { kind: 'TL_K_' + PRIM[type], vec, ref: 0 };
    if (tm.isBareType) {
        let ctor = tm.constructorId !== undefined ? byId.get(tm.constructorId >>> 0) : null;
        if (!ctor) ctor = byName.get(type) || byName.get(type.replace(/^mt_/, ''));
        if (!ctor) fail(`${where}: bare type ${type} has no constructor`);
        return { kind: 'TL_K_BARE', vec, ref: ctor.index };
    }
    if (!typeIndex.has(type)) fail(`${where}: unknown type ${type}`);
    return { kind: 'TL_K_TYPE', vec, ref: typeIndex.get(type) };
}

const fields = []; // C rows
for (const e of entries) {
    e.firstField = fields.length;
    const flagPos = new Map();
    e.args.forEach((a, i) => {
        const tm = a.typeModifiers || {};
        const where = `${e.name}.${a.name}`;
        const t = typeRef(a.type, tm, where);
        let cond = 'TL_NO_COND', bit = 0;
        if (tm.predicate) {
            const m = /^(\w+)\.(\d+)$/.exec(tm.predicate);
            if (!m || !flagPos.has(m[1])) fail(`${where}: bad predicate ${tm.predicate}`);
            cond = String(flagPos.get(m[1]));
            bit = Number(m[2]);
            if (bit > 31) fail(`${where}: flag bit ${bit}`);
        } else if (a.type === 'true') {
            fail(`${where}: true without a predicate`);
        }
        if (a.type === '#') flagPos.set(a.name, i);
        fields.push({ name: a.name, ...t, cond, bit });
    });
    if (e.args.length > 250) fail(`${e.name}: too many fields`);
    e.resultField = -1;
    if (e.kind === 'method') {
        e.resultField = fields.length;
        fields.push({ name: null, ...typeRef(e.type, e.typeModifiers, `${e.name} result`), cond: 'TL_NO_COND', bit: 0 });
    }
}
if (fields.length > 65535 || entries.length > 65535) fail('table too large for uint16_t indexes');

// ---- errors ----
const errors = Object.values(rawErrors.errors).map((x) => ({ name: x.name, code: x.code })).sort((a, b) => cmp(a.name, b.name));

// ---- emit ----
const banner = `/* generated by tools/tlgen from ${source} (layer ${api.l}), do not edit */\n`;
const cstr = (s) => JSON.stringify(s); // names are ASCII identifiers and dots

let h = banner;
h += `#ifndef DM_MTPROTO_TL_SCHEMA_H
#define DM_MTPROTO_TL_SCHEMA_H

#include <stdint.h>

#define TL_LAYER ${api.l}
#define TL_SCHEMA_VERSION ${cstr(source)}

/* What a field (or a method's result) holds. */
enum tl_kind {
    TL_K_INT,    /* int: 4 bytes LE */
    TL_K_LONG,   /* long (and mtcute's int53): 8 bytes LE */
    TL_K_DOUBLE, /* 8 bytes IEEE LE */
    TL_K_INT128, /* 16 raw bytes */
    TL_K_INT256, /* 32 raw bytes */
    TL_K_STRING, /* TL string (length-prefixed, padded to 4) holding UTF-8 text */
    TL_K_BYTES,  /* TL string holding binary data */
    TL_K_BOOL,   /* boolTrue / boolFalse, boxed */
    TL_K_TRUE,   /* flags.N?true: no bytes, the flag bit is the value */
    TL_K_FLAGS,  /* #: a 32-bit flags word computed from the optional fields */
    TL_K_TYPE,   /* a boxed object of type tl_types[ref] */
    TL_K_BARE,   /* a bare object of constructor tl_ctors[ref] (no id on the wire) */
    TL_K_ANY,    /* !X: a boxed method call (invokeWithLayer's query) */
    TL_K_OBJECT, /* Object: any boxed object (rpc_result, message body) */
};

enum { TL_VEC_BOXED = 1, TL_VEC_BARE = 2 }; /* vector: with or without the 0x1cb5c415 id */
#define TL_NO_COND 0xff

struct tl_field {
    const char *name;   /* NULL for a method's result descriptor */
    uint8_t kind;       /* enum tl_kind; of the elements when vector != 0 */
    uint8_t vector;     /* 0, TL_VEC_BOXED or TL_VEC_BARE */
    uint8_t cond;       /* index (in the same constructor) of the # field gating this one, or TL_NO_COND */
    uint8_t bit;        /* flag bit when cond != TL_NO_COND */
    uint16_t ref;       /* TL_K_TYPE: index in tl_types; TL_K_BARE: index in tl_ctors */
};

enum { TL_C_METHOD = 1, TL_C_MTPROTO = 2 };

struct tl_ctor {
    uint32_t id;        /* CRC32 constructor id */
    const char *name;   /* "messages.getChatInviteImporters", "resPQ" (mtproto names without mt_) */
    uint16_t type;      /* constructors: index in tl_types; methods: 0 (see result) */
    uint8_t flags;      /* TL_C_* */
    uint8_t nfields;
    uint16_t fields;    /* first field in tl_fields */
    uint16_t result;    /* methods: index in tl_fields of the result descriptor; else 0xffff */
};

struct tl_type {
    const char *name;   /* "InputPeer" */
};

struct tl_error_def {
    const char *name;   /* "FLOOD_WAIT_%d" for errors that carry a number */
    int code;
};

/* Constructors and methods sorted by id; types and errors sorted by name (strcmp order). */
extern const struct tl_ctor tl_ctors[${entries.length}];
extern const struct tl_field tl_fields[${fields.length}];
extern const struct tl_type tl_types[${typeNames.length}];
extern const uint16_t tl_ctors_by_name[${entries.length}];
extern const struct tl_error_def tl_errors[${errors.length}];
#define TL_NCTORS ${entries.length}
#define TL_NFIELDS ${fields.length}
#define TL_NTYPES ${typeNames.length}
#define TL_NERRORS ${errors.length}

/* Constructor ids by name (dots become underscores). */
`;
const idNames = new Set();
for (const e of [...entries].sort((a, b) => cmp(a.name, b.name))) {
    const n = 'TL_ID_' + e.name.replace(/\./g, '_');
    if (idNames.has(n)) fail(`id macro collision ${n}`);
    idNames.add(n);
    h += `#define ${n} 0x${e.id.toString(16).padStart(8, '0')}u\n`;
}
h += '\n#endif\n';

let c = banner + '#include "core/common.h"\n\n#include "mtproto/tl/schema.h"\n\n';
c += `const struct tl_type tl_types[${typeNames.length}] = {\n`;
typeNames.forEach((t) => { c += `    {${cstr(t)}},\n`; });
c += '};\n\n';
c += `const struct tl_field tl_fields[${fields.length}] = {\n`;
fields.forEach((f) => {
    c += `    {${f.name === null ? 'NULL' : cstr(f.name)}, ${f.kind}, ${f.vec}, ${f.cond}, ${f.bit}, ${f.ref}},\n`;
});
c += '};\n\n';
c += `const struct tl_ctor tl_ctors[${entries.length}] = {\n`;
entries.forEach((e) => {
    const flags = [e.kind === 'method' ? 'TL_C_METHOD' : null, e.src !== 'api' ? 'TL_C_MTPROTO' : null].filter(Boolean).join(' | ') || '0';
    const type = e.kind === 'method' ? 0 : typeIndex.get(e.type);
    c += `    {0x${e.id.toString(16).padStart(8, '0')}u, ${cstr(e.name)}, ${type}, ${flags}, ${e.args.length}, ${e.firstField}, ${e.resultField < 0 ? '0xffff' : e.resultField}},\n`;
});
c += '};\n\n';
c += `const uint16_t tl_ctors_by_name[${entries.length}] = {\n`;
const sortedNames = [...entries].sort((a, b) => cmp(a.name, b.name));
for (let i = 0; i < sortedNames.length; i += 12) {
    c += '    ' + sortedNames.slice(i, i + 12).map((e) => e.index).join(', ') + ',\n';
}
c += '};\n';

let ec = banner + '#include "core/common.h"\n\n#include "mtproto/tl/schema.h"\n\n';
ec += `const struct tl_error_def tl_errors[${errors.length}] = {\n`;
errors.forEach((x) => { ec += `    {${cstr(x.name)}, ${x.code}},\n`; });
ec += '};\n';

// ---- RSA keys ----
// mtcute marks as "old" the keys it only uses with the legacy RSA encryption of p_q_inner_data;
// our handshake encrypts with RSA_PAD only (handshake.c), so those are left out.
const keys = Object.values(rsaKeys).filter((k) => !k.old).sort((a, b) => cmp(a.fingerprint, b.fingerprint));
if (!keys.length) fail('rsa-keys.js lists no current key');
const hexBytes = (hex, what) => {
    if (!/^([0-9a-f]{2})+$/.test(hex)) fail(`${what}: not hex`);
    return Buffer.from(hex, 'hex');
};
const byteRows = (b, indent) => {
    let out = '';
    for (let i = 0; i < b.length; i += 12)
        out += indent + [...b.subarray(i, i + 12)].map((x) => '0x' + x.toString(16).padStart(2, '0')).join(', ') + ',\n';
    return out;
};
let rh = banner + `#ifndef DM_MTPROTO_TL_RSA_KEYS_H
#define DM_MTPROTO_TL_RSA_KEYS_H

#include <stddef.h>
#include <stdint.h>

/* Telegram's current RSA public keys (the ones the handshake offers RSA_PAD for), as listed by
 * @mtcute/tl: n big-endian, e big-endian without leading zeros, and the fingerprint the
 * servers name them by in resPQ (the low 64 bits of SHA1 of TL rsa_public_key n e). */
struct tl_rsa_key {
    uint64_t fingerprint;
    uint8_t n[256];
    uint8_t e[8];
    size_t e_len;
};

#define TL_NRSA_KEYS ${keys.length}
extern const struct tl_rsa_key tl_rsa_keys[TL_NRSA_KEYS];

#endif
`;
let rc = banner + '#include "core/common.h"\n\n#include "mtproto/tl/rsa_keys.h"\n\n';
rc += 'const struct tl_rsa_key tl_rsa_keys[TL_NRSA_KEYS] = {\n';
for (const k of keys) {
    const n = hexBytes(k.modulus, `key ${k.fingerprint} modulus`);
    const e = hexBytes(k.exponent.replace(/^(00)+/, ''), `key ${k.fingerprint} exponent`);
    if (!/^[0-9a-f]{16}$/.test(k.fingerprint)) fail(`key ${k.fingerprint}: bad fingerprint`);
    if (n.length !== 256 || n[0] === 0) fail(`key ${k.fingerprint}: not a 2048-bit modulus`);
    if (e.length === 0 || e.length > 8) fail(`key ${k.fingerprint}: exponent of ${e.length} bytes`);
    rc += `    {0x${k.fingerprint}u,\n     {\n${byteRows(n, '         ')}     },\n`;
    rc += `     {${[...e].map((x) => '0x' + x.toString(16).padStart(2, '0')).join(', ')}},\n     ${e.length}},\n`;
}
rc += '};\n';

fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'schema.h'), h);
fs.writeFileSync(path.join(outDir, 'schema.c'), c);
fs.writeFileSync(path.join(outDir, 'errors.c'), ec);
fs.writeFileSync(path.join(outDir, 'rsa_keys.h'), rh);
fs.writeFileSync(path.join(outDir, 'rsa_keys.c'), rc);
process.stdout.write(`tlgen: layer ${api.l}, ${entries.length} combinators, ${typeNames.length} types, ${fields.length} fields, ${errors.length} errors, ${keys.length} RSA keys -> ${outDir}\n`);
