// pages/rules_editor.js: the Rules page's editor of one rule (new or saved): name, conditions,
// action and the delay of approve_after. Saving goes through the API; its 400 (which names the
// field) is shown above the form, the condition it names is marked, and nothing is saved.
import { h, busy, fieldRow } from '../dom.js';
import { api } from '../api.js';
import { ACTIONS } from './rules_text.js';
import { conditionRow } from './rules_conditions.js';

const UNITS = [['1', 'seconds'], ['60', 'minutes'], ['3600', 'hours']];

// The delay's inputs: {nodes, seconds(), set(seconds)}.
export function delayInput(name, label) {
    const n = h('input.input-num', { type: 'text', name, inputmode: 'numeric', autocomplete: 'off', 'aria-label': label });
    const unit = h('select', { name: `${name}_unit`, 'aria-label': `${label} unit` },
        UNITS.map(([v, l]) => h('option', { value: v }, l)));
    return {
        nodes: [n, unit],
        // Whole numbers as seconds; anything else as typed, for the API to refuse by name.
        seconds: () => (/^\s*\d+\s*$/.test(n.value) ? Number(n.value) * Number(unit.value) : n.value.trim()),
        set(s) {
            const u = [...UNITS].reverse().find(([v]) => s && s % Number(v) === 0) || UNITS[0];
            unit.value = u[0];
            n.value = s ? String(s / Number(u[0])) : '';
        },
    };
}

// The editor; scope() is the chat_id the page shows, listNames() the lists there are.
// onSaved(rule) after a save; onClose(id, cancelled) when closed (id: the saved rule that was
// being edited, or null; cancelled: by its Cancel button); onInput() whenever the rule changes.
export function ruleEditor({ scope, listNames, onSaved, onClose, onInput }) {
    let editing = null; // the saved rule being edited, or null for a new one
    let rows = [];
    const heading = h('h2', null, 'New rule');
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const name = h('input', { type: 'text', name: 'rule_name', autocomplete: 'off', placeholder: 'e.g. casino spam' });
    const condList = h('ol.cond-list');
    const noConds = h('p.muted.small', null, 'No conditions: the rule matches every request.');
    const addCond = h('button.btn.btn-ghost.btn-small', { type: 'button' }, '+ Add condition');
    const action = h('select', { name: 'action' }, ACTIONS.map(([v, l]) => h('option', { value: v }, l)));
    const delay = delayInput('delay', 'Delay');
    const delayRow = fieldRow('Delay', h('span.inline-fields', null, delay.nodes),
        '10 seconds to 24 hours. When it is over the rules are checked again, and a wave then counts the requests after it too.');
    const save = h('button.btn.btn-primary', { type: 'submit' }, 'Save rule');
    const cancel = h('button.btn.btn-ghost', { type: 'button' }, 'Cancel');
    const form = h('form.form.rule-form', { novalidate: true },
        err,
        fieldRow('Name', name, 'Shown in the list and the dry run; optional.'),
        h('div.cond-field', null, h('span.field-label', null, 'Conditions (all must hold)'), condList, noConds,
            h('div', null, addCond),
            h('span.field-hint', null, 'Conditions on waves, earlier declines and other channels read earlier requests, not only this one.')),
        fieldRow('Action', action),
        delayRow,
        h('div.form-actions', null, save, cancel));
    const el = h('section.card.rule-editor', { hidden: true, 'aria-labelledby': 'rule-editor-title' }, heading, form);
    heading.id = 'rule-editor-title';

    const syncDelay = () => { delayRow.hidden = action.value !== 'approve_after'; };
    const changed = () => { syncDelay(); noConds.hidden = rows.length > 0; onInput(); };
    action.addEventListener('change', changed);
    form.addEventListener('input', () => onInput());
    form.addEventListener('change', () => onInput());

    function addRow(c) {
        const row = conditionRow(c, {
            listNames,
            onRemove: (r) => {
                rows = rows.filter((x) => x !== r);
                r.el.remove();
                changed();
                addCond.focus();
            },
        });
        rows.push(row);
        condList.append(row.el);
        return row;
    }
    addCond.addEventListener('click', () => { addRow({}).focus(); changed(); });

    // The rule as typed, as the API takes it (also what the dry run tries).
    function spec() {
        const out = { name: name.value.trim(), conditions: rows.map((r) => r.value()), action: action.value };
        if (action.value === 'approve_after') out.delay_seconds = delay.seconds();
        return out;
    }

    function fail(message) {
        err.textContent = message;
        err.hidden = false;
        const m = /conditions\[(\d+)\]/.exec(message);
        rows.forEach((r, i) => r.invalid(!!m && Number(m[1]) === i));
    }
    function clearError() {
        err.hidden = true;
        rows.forEach((r) => r.invalid(false));
    }

    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        clearError();
        const body = spec();
        try {
            const res = await busy([save, cancel], () => (editing
                ? api('POST', `/api/rules/${editing.id}/update`, body)
                : api('POST', '/api/rules', { chat_id: scope(), enabled: true, ...body })));
            close();
            onSaved(res.rule);
        } catch (e) {
            fail(e.message);
        }
    });
    cancel.addEventListener('click', () => close(true));

    function open(rule) {
        editing = rule;
        heading.textContent = rule ? `Edit rule${rule.name ? ` “${rule.name}”` : ''}` : 'New rule';
        name.value = rule ? rule.name : '';
        rows = [];
        condList.replaceChildren();
        (rule ? rule.conditions : [{ type: 'name_matches' }]).forEach(addRow);
        action.value = rule ? rule.action : 'decline';
        delay.set(rule && rule.delay_seconds ? rule.delay_seconds : 60);
        clearError();
        el.hidden = false;
        changed();
        name.focus();
    }
    function close(cancelled = false) {
        if (el.hidden) return;
        const id = editing ? editing.id : null;
        editing = null;
        el.hidden = true;
        onClose(id, cancelled);
    }
    return {
        el, open, spec,
        close: () => close(),
        isOpen: () => !el.hidden,
        editingId: () => (editing ? editing.id : null),
    };
}
