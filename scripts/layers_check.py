#!/usr/bin/python3
"""layers_check.py: every #include "LAYER/..." in src/ names the file's own layer or one its
build file lets it use. The layers and what each may use come from src/*/meson.build: the
`dependencies` of its `<layer>_dep = declare_dependency(...)`, followed to the end (a layer may
use what the layers it names use). The link of each layer's unit tests catches calls upward;
this catches header-only use (structs, macros, inline functions). Exits 1 on a violation."""
import os, re, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
SRC = os.path.join(ROOT, 'src')
names = {}
for layer in sorted(os.listdir(SRC)):
    build = os.path.join(SRC, layer, 'meson.build')
    if not os.path.isfile(build):
        continue
    text = open(build).read()
    m = re.search(r'(\w+)_dep = declare_dependency\((.*?)\)\n', text, re.S)
    if not m:
        continue  # tgsim: an executable, checked below by its own dependencies
    deps = re.search(r'dependencies : \[([^\]]*)\]', m.group(2))
    names[layer] = {d[:-4] for d in re.findall(r'\w+_dep', deps.group(1))} if deps else set()
sim = re.search(r"executable\('tgsim'.*?dependencies : \[([^\]]*)\]",
                open(os.path.join(SRC, 'sim', 'meson.build')).read(), re.S)
names['sim'] = {d[:-4] for d in re.findall(r'\w+_dep', sim.group(1))}


def closure(layer, seen=None):
    seen = set() if seen is None else seen
    for d in names.get(layer, ()):
        if d not in seen:
            seen.add(d)
            closure(d, seen)
    return seen


bad = 0
for layer in sorted(names):
    allowed = closure(layer) | {layer}
    for dirpath, _, files in os.walk(os.path.join(SRC, layer)):
        for f in sorted(files):
            if not f.endswith(('.c', '.h')):
                continue
            path = os.path.join(dirpath, f)
            for n, line in enumerate(open(path, encoding='utf-8'), 1):
                m = re.match(r'\s*#\s*include\s+"(\w+)/', line)
                if m and m.group(1) not in allowed and os.path.isdir(os.path.join(SRC, m.group(1))):
                    print('layers check: %s:%d: %s may not use %s (its build file names: %s)' % (
                        os.path.relpath(path, ROOT), n, layer, m.group(1),
                        ', '.join(sorted(names[layer])) or 'nothing'), file=sys.stderr)
                    bad += 1
if bad:
    sys.exit(1)
print('layers check: %d layers, every #include within what its build file names' % len(names))
