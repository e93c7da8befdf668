// pages/rules_list.js: the Rules page's ordered rules of one scope, each as a sentence, with
// enable/disable, move up/down (buttons, so the keyboard can reorder), Edit and Delete.
import { h, busy, tableHead, labelCells } from '../dom.js';
import { api } from '../api.js';
import { confirmDialog } from '../modal.js';
import { showBanner } from '../frame.js';
import { ruleSentence } from './rules_text.js';

// The list card. scope() is the chat_id shown; onEdit(rule) opens the editor; after a change
// the API answered, onRules(rules) gets the scope's rules as they are now.
export function rulesList(ctx, { scope, onEdit, onAdd, onRules }) {
    let rules = [];
    const tbody = h('tbody');
    const empty = h('div.empty', { hidden: true }, 'No rules yet: every request waits for an admin.');
    const addBtn = h('button.btn.btn-primary.btn-small', { type: 'button' }, '+ Add rule');
    addBtn.addEventListener('click', () => onAdd());
    const el = h('section.card.rules-card', { 'aria-labelledby': 'rules-title' },
        h('div.card-head', null, h('h2', { id: 'rules-title' }, 'Rules'), h('span.spacer'), addBtn),
        h('p.muted.small.rules-order-note'),
        h('div.table-wrap', null, labelCells(h('table.table.rules-table', null,
            tableHead('#', 'Rule', 'On', 'Order', ''), tbody)), empty));
    const note = el.querySelector('.rules-order-note');

    // Runs an API call that changes the scope's rules, then shows them; refocuses what
    // focus(rowEl) picks in the new rows (keyboard users stay where they were).
    async function change(buttons, call, focus) {
        try {
            await busy(buttons, call);
            const res = await api('GET', `/api/rules?chat_id=${scope()}`);
            if (!ctx.alive) return;
            onRules(res.rules);
            if (focus) focus();
        } catch (e) {
            if (ctx.alive) showBanner(e.message);
        }
    }

    function move(r, by) {
        const ids = rules.map((x) => x.id);
        const i = ids.indexOf(r.id);
        [ids[i], ids[i + by]] = [ids[i + by], ids[i]];
        const which = by < 0 ? 'up' : 'down';
        return change([...tbody.querySelectorAll('button')],
            () => api('POST', '/api/rules/reorder', { chat_id: scope(), ids }),
            () => {
                const b = tbody.querySelector(`tr[data-id="${r.id}"] .move-${which}`);
                const other = tbody.querySelector(`tr[data-id="${r.id}"] .move-${which === 'up' ? 'down' : 'up'}`);
                (b && !b.disabled ? b : other)?.focus();
            });
    }

    function row(r, i) {
        const label = r.name || `rule ${i + 1}`;
        const on = h('input', { type: 'checkbox', name: 'enabled', checked: r.enabled, 'aria-label': `Enabled: ${label}` });
        const up = h('button.btn.btn-ghost.btn-small.move-up', { type: 'button', disabled: i === 0, 'aria-label': `Move ${label} up` }, '↑');
        const down = h('button.btn.btn-ghost.btn-small.move-down', { type: 'button', disabled: i === rules.length - 1,
            'aria-label': `Move ${label} down` }, '↓');
        const edit = h('button.btn.btn-ghost.btn-small.edit', { type: 'button', 'aria-label': `Edit ${label}` }, 'Edit');
        const del = h('button.btn.btn-danger-outline.btn-small', { type: 'button', 'aria-label': `Delete ${label}` }, 'Delete');
        on.addEventListener('change', () => change([on],
            () => api('POST', `/api/rules/${r.id}/${on.checked ? 'enable' : 'disable'}`, {}),
            () => tbody.querySelector(`tr[data-id="${r.id}"] input[name=enabled]`)?.focus()));
        up.addEventListener('click', () => move(r, -1));
        down.addEventListener('click', () => move(r, 1));
        edit.addEventListener('click', () => onEdit(r));
        del.addEventListener('click', async () => {
            const yes = await confirmDialog({ title: `Delete ${label}?`, danger: true, confirmLabel: 'Delete rule',
                body: h('p', null, ruleSentence(r)) });
            if (yes) await change([del], () => api('POST', `/api/rules/${r.id}/delete`, {}), () => addBtn.focus());
        });
        return h('tr', { dataset: { id: String(r.id), enabled: String(r.enabled) }, class: r.enabled ? '' : 'is-off' },
            h('td.num', null, String(i + 1)),
            h('td', null,
                r.name ? h('div.rule-name', null, r.name) : null,
                h('div.rule-text', null, ruleSentence(r))),
            h('td.check', null, on),
            h('td.rule-order', null, up, down),
            h('td.row-actions', null, edit, del));
    }

    return {
        el,
        show(list, { global }) {
            rules = list;
            tbody.replaceChildren(...rules.map(row));
            empty.hidden = rules.length > 0;
            note.textContent = global
                ? 'Global rules are tried after a channel\'s own rules, for every channel. The first enabled rule that matches decides.'
                : 'This channel\'s rules are tried in this order, then the global rules. The first enabled rule that matches decides.';
        },
        rules: () => rules,
        // Puts the focus on the rule's Edit button (on Add rule without it): where the keyboard
        // user was before the editor opened.
        focusRow(id) {
            (tbody.querySelector(`tr[data-id="${id}"] .edit`) || addBtn).focus();
        },
        // Marks the rule being edited (null: none).
        mark(id) {
            for (const tr of tbody.rows) tr.classList.toggle('is-editing', tr.dataset.id === String(id));
        },
    };
}
