// pages/rules_conditions.js: one condition of the rule editor as a row: its type, the fields
// that type takes (docs/api.md, Rules), "not", and Remove. What is typed goes to the API as typed
// (numbers as numbers): the API checks it and names the field that is wrong.
import { h } from '../dom.js';
import { CONDITION_TYPES } from './rules_text.js';

const SCRIPTS = ['Han', 'Arabic', 'Cyrillic', 'Latin', 'Greek', 'Hebrew', 'Devanagari', 'Thai',
    'Hangul', 'Hiragana', 'Katakana', 'Armenian', 'Georgian', 'Ethiopic', 'Bengali', 'Tamil'];

// What to tell the admin of a condition: those that read the channel's earlier requests, and
// those that ask outside doorman (docs/api.md, Rules).
const NOTES = {
    wave: 'Reads earlier requests: it counts the requests that arrived before this one.',
    declined_before: 'Reads earlier requests: it looks up this user\'s earlier requests to the channel.',
    member_elsewhere: 'Reads earlier requests: it looks up this user\'s requests to the other channels doorman manages.',
    has_photo: 'Costs one call to Telegram per request it is asked for (asked only after the rule\'s other conditions held).',
    on_blocklist: 'Asks the blocklist service set in Settings; while it is off this condition is unknown and the rule is passed over; when the service does not answer, the request waits and is checked again a minute later.',
};

// A whole number as a number; anything else as typed, for the API to refuse by name.
const num = (s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : s.trim());
let datalists = 0; // ids for the script name suggestions
const words = (s) => s.split(',').map((w) => w.trim()).filter(Boolean);

const text = (name, value, placeholder, label) => h('input', { type: 'text', name, value: value ?? '',
    placeholder, autocomplete: 'off', spellcheck: 'false', 'aria-label': label });
const select = (name, options, value, label) => {
    const s = h('select', { name, 'aria-label': label },
        options.map(([v, l]) => h('option', { value: v }, l)));
    if (value !== undefined && value !== null) s.value = value;
    return s;
};

// The inputs of one condition type: {nodes, read()} where read() gives the type's fields.
function fieldsOf(type, c, listNames) {
    switch (type) {
    case 'language_code': {
        const i = text('in', (c.in || []).join(', '), 'en, ru, uk', 'Language codes');
        return { nodes: [i], read: () => ({ in: words(i.value) }) };
    }
    case 'name_matches':
    case 'bio_matches': {
        const how = select('how', [['words', 'one of the words'], ['regex', 'the regular expression']],
            c.regex !== undefined ? 'regex' : 'words', 'Match');
        const i = text('pattern', c.regex !== undefined ? c.regex : (c.words || []).join(', '), 'casino, bonus', 'Words or pattern');
        const hint = () => { i.placeholder = how.value === 'regex' ? '\\bfree\\s+crypto\\b' : 'casino, bonus'; };
        how.addEventListener('change', hint);
        hint();
        return { nodes: [how, i],
            read: () => (how.value === 'regex' ? { regex: i.value } : { words: words(i.value) }) };
    }
    case 'name_script': {
        const id = `scripts-${++datalists}`;
        const i = h('input', { type: 'text', name: 'script', value: c.script || 'Han', list: id,
            autocomplete: 'off', 'aria-label': 'Unicode script' });
        return { nodes: [i, h('datalist', { id }, SCRIPTS.map((s) => h('option', { value: s })))],
            read: () => ({ script: i.value.trim() }) };
    }
    case 'user_id_above': {
        const i = text('value', c.value !== undefined ? String(c.value) : '', '7000000000', 'User id');
        return { nodes: [i], read: () => ({ value: num(i.value) }) };
    }
    case 'invite_link': {
        const none = c.link === null;
        const how = select('link_kind', [['link', 'through the link'], ['none', 'without a link']],
            none ? 'none' : 'link', 'Invite link');
        const i = text('link', none ? '' : c.link, 'https://t.me/+AbCdEf', 'Invite link');
        const sync = () => { i.hidden = how.value === 'none'; };
        how.addEventListener('change', sync);
        sync();
        return { nodes: [how, i], read: () => ({ link: how.value === 'none' ? null : i.value.trim() }) };
    }
    case 'in_list': {
        const names = [...new Set([...listNames, c.list].filter(Boolean))];
        const s = select('list', names.length ? names.map((n) => [n, n]) : [['', '(no lists yet: import one below)']],
            c.list, 'List');
        return { nodes: [s], read: () => ({ list: s.value }) };
    }
    case 'wave': {
        const count = h('input.input-num', { type: 'text', name: 'count', inputmode: 'numeric',
            value: String(c.count ?? 50), 'aria-label': 'More than this many requests' });
        const minutes = h('input.input-num', { type: 'text', name: 'minutes', inputmode: 'numeric',
            value: String(c.minutes ?? 5), 'aria-label': 'Minutes' });
        const per = select('per', [['link', 'through the same link'], ['channel', 'to the channel']], c.per || 'link', 'Counted');
        return { nodes: [h('span.muted', null, 'more than'), count, h('span.muted', null, 'requests in'), minutes,
            h('span.muted', null, 'min'), per],
        read: () => ({ count: num(count.value), minutes: num(minutes.value), per: per.value }) };
    }
    default:
        return { nodes: [], read: () => ({}) };
    }
}

// A condition row for c ({type, negate, …}; {} for a new one). onRemove(row) when Remove is
// pressed. Returns {el, value(), invalid(bool)}.
export function conditionRow(c, { listNames, onRemove }) {
    const type = select('type', CONDITION_TYPES, c.type || 'name_matches', 'Condition');
    const negate = h('input', { type: 'checkbox', name: 'negate', checked: !!c.negate });
    const fields = h('span.cond-fields');
    const note = h('span.cond-note', { role: 'note' });
    const remove = h('button.btn.btn-ghost.btn-small', { type: 'button', 'aria-label': 'Remove condition' }, 'Remove');
    let f = null;
    const build = (cond) => {
        f = fieldsOf(type.value, cond, listNames());
        fields.replaceChildren(...f.nodes);
        note.textContent = NOTES[type.value] || '';
        note.hidden = !NOTES[type.value];
    };
    type.addEventListener('change', () => build({}));
    build(c);
    const el = h('li.cond-row', null,
        h('div.cond-line', null, h('label.cond-not', null, negate, 'not'), type, fields, h('span.spacer'), remove),
        note);
    remove.addEventListener('click', () => onRemove(row));
    const row = {
        el,
        value: () => ({ type: type.value, ...(negate.checked ? { negate: true } : {}), ...f.read() }),
        invalid(on) {
            el.classList.toggle('is-invalid', on);
            if (on) el.setAttribute('aria-invalid', 'true');
            else el.removeAttribute('aria-invalid');
        },
        focus: () => type.focus(),
    };
    return row;
}
