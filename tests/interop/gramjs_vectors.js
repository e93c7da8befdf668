#!/usr/bin/env node
// Prints JSON vectors made by GramJS (npm telegram, pinned in package.json): for each value in
// calls.json and objects.json, the bytes GramJS serializes for it and the constructor ids GramJS
// used (so the C test can tell a layer difference from a codec bug).
// Usage: node gramjs_vectors.js > vectors/gramjs_tl.json
'use strict';
const path = require('path');
const { Api } = require('telegram');
const { LAYER } = require('telegram/tl/AllTLObjects');
const { parseTl, variableSnakeToCamelCase } = require('telegram/tl/generationHelpers');
const { readBigIntFromBuffer } = require('telegram/Helpers');
const bigInt = require('big-integer');

const defs = [...parseTl(require('telegram/tl/apiTl.js'), LAYER), ...parseTl(require('telegram/tl/schemaTl.js'), LAYER)];
const norm = (s) => s.toLowerCase().replace(/_/g, '');
const byKey = new Map();
for (const d of defs) byKey.set((d.namespace ? d.namespace + '.' : '') + norm(d.name), d);

function classOf(name) {
    const dot = name.lastIndexOf('.');
    const ns = dot < 0 ? null : name.slice(0, dot);
    const key = (ns ? ns + '.' : '') + norm(name.slice(dot + 1));
    const d = byKey.get(key);
    if (!d) throw new Error(`GramJS ${LAYER} has no ${name}`);
    const cls = ns ? Api[ns][d.name] : Api[d.name];
    if (!cls) throw new Error(`GramJS Api has no class for ${name}`);
    return { d, cls };
}

function convert(type, v, ids) {
    switch (type) {
    case 'int': case 'double': case 'string': return v;
    case 'Bool': case 'true': return v;
    case 'long': return bigInt(String(v));
    case 'int128': case 'int256': return readBigIntFromBuffer(Buffer.from(v, 'hex'), true, true);
    case 'bytes': return Buffer.from(v, 'hex');
    default: return build(v, ids);
    }
}

function build(obj, ids) {
    const { d, cls } = classOf(obj._);
    ids[obj._] = d.constructorId >>> 0;
    const args = {};
    for (const [k, v] of Object.entries(obj)) {
        if (k === '_') continue;
        const camel = variableSnakeToCamelCase(k);
        const cfg = d.argsConfig[camel];
        if (!cfg) throw new Error(`GramJS ${LAYER} ${obj._} has no field ${k}`);
        if (cfg.flagIndicator) continue;
        args[camel] = cfg.isVector ? v.map((x) => convert(cfg.type, x, ids)) : convert(cfg.type, v, ids);
    }
    return new cls(args);
}

const out = { producer: `GramJS (npm telegram ${require('telegram/package.json').version}), layer ${LAYER}`, vectors: [] };
for (const file of ['calls.json', 'objects.json']) {
    for (const value of require(path.join(__dirname, file))) {
        const ids = {};
        const obj = build(value, ids);
        out.vectors.push({ value, ids, hex: Buffer.from(obj.getBytes()).toString('hex') });
    }
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
