// dom.js: building the page from nodes. Everything from Telegram or the server goes in as text
// (Text nodes, textContent, attribute values), never parsed as HTML: there is no innerHTML.

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'indeterminate', 'max', 'min',
    'selected', 'htmlFor', 'colSpan', 'type', 'name', 'placeholder', 'autocomplete', 'required',
    'readOnly', 'step']);

// h('tag.class', {attrs}, ...children): children are Nodes or strings (added as text, inert).
export function h(spec, props, ...children) {
    const [tag, ...classes] = spec.split('.');
    const el = document.createElement(tag || 'div');
    if (classes.length) el.className = classes.join(' ');
    if (props) {
        for (const [k, v] of Object.entries(props)) {
            if (v === undefined || v === null || v === false) continue;
            if (k === 'class') el.className = [el.className, v].filter(Boolean).join(' ');
            else if (k === 'dataset') Object.assign(el.dataset, v);
            else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
            else if (PROPS.has(k)) el[k] = v;
            else el.setAttribute(k, v === true ? '' : String(v));
        }
    }
    add(el, ...children);
    return el;
}

// Appends children (Nodes, strings as text, nested arrays; null/false skipped).
export function add(el, ...children) {
    for (const c of children.flat(Infinity)) {
        if (c === undefined || c === null || c === false) continue;
        el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
}

export function clear(el) {
    el.replaceChildren();
    return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

// A table's <thead> with one row: a string becomes a <th> with that text, a Node is the <th> itself.
export function tableHead(...cells) {
    return h('thead', null, h('tr', null, cells.map((c) => (c instanceof Node ? c : h('th', null, c)))));
}

// Gives each body cell of table its column's heading as data-label (the heading's own data-label
// when it has one; a cell spanning columns and a column without a heading get none), for the rows
// there are and those added later: on a narrow screen style.css turns the rows into cards that
// show each value beside its label. Returns table.
export function labelCells(table) {
    const labels = [...table.tHead.rows[0].cells].map((th) => th.dataset.label ?? th.textContent.trim());
    const label = (tr) => [...tr.cells].forEach((td, i) => {
        if (labels[i] && td.colSpan === 1) td.dataset.label = labels[i];
    });
    for (const body of table.tBodies) {
        [...body.rows].forEach(label);
        new MutationObserver((changes) => {
            for (const c of changes) for (const n of c.addedNodes) if (n instanceof HTMLTableRowElement) label(n);
        }).observe(body, { childList: true });
    }
    return table;
}

// A labelled form field: the label, the input, an optional hint under it.
export function fieldRow(label, input, hint) {
    return h('label.field', null, h('span.field-label', null, label), input,
        hint ? h('span.field-hint', null, hint) : null);
}

// Runs fn with the buttons disabled (a request in flight); re-enables them afterwards.
export async function busy(buttons, fn) {
    const list = buttons.filter(Boolean);
    const before = list.map((b) => b.disabled);
    list.forEach((b) => { b.disabled = true; b.classList.add('is-busy'); });
    try {
        return await fn();
    } finally {
        list.forEach((b, i) => { b.disabled = before[i]; b.classList.remove('is-busy'); });
    }
}
