// pages/rules_lists.js: the Rules page's named lists of user ids and @usernames (for "in a
// list" conditions): each with its number of entries, import from a text or CSV file, delete.
// The API's 400 names the bad line of a file; its 409 names the rule that uses a list.
import { h, busy, tableHead, labelCells, fieldRow } from '../dom.js';
import { api } from '../api.js';
import { confirmDialog } from '../modal.js';
import { fmtNum, fmtTime, fmtTimeFull } from '../format.js';

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_TEXT = 512 * 1024; // the API takes up to 512 KiB of text

function readText(file) {
    return new Promise((resolve, reject) => {
        const r = new FileReader();
        r.addEventListener('load', () => resolve(String(r.result)));
        r.addEventListener('error', () => reject(new Error(`Cannot read ${file.name}: ${r.error ? r.error.message : 'unknown error'}.`)));
        r.readAsText(file);
    });
}

// The lists card; onChange(names) after the lists were read (the editor offers them).
export function rulesLists(ctx, { onChange }) {
    const tbody = h('tbody');
    const empty = h('div.empty', { hidden: true }, 'No lists yet. Import one from a text or CSV file.');
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const ok = h('p.form-ok', { role: 'status', hidden: true });
    const name = h('input', { type: 'text', name: 'list_name', autocomplete: 'off', spellcheck: 'false', placeholder: 'deny_list' });
    const file = h('input', { type: 'file', name: 'list_file', accept: '.txt,.csv,text/plain,text/csv' });
    const replace = h('input', { type: 'checkbox', name: 'replace' });
    const importBtn = h('button.btn.btn-secondary', { type: 'submit' }, 'Import');
    const form = h('form.form.list-form', { novalidate: true },
        h('div.list-form-row', null,
            fieldRow('List name', name, 'Letters, digits, _ and -; a new name makes a new list.'),
            fieldRow('Text or CSV file', file, 'One user id or @username per line (the first cell of a CSV line).')),
        h('label.check-row', null, replace, 'Replace what the list holds (otherwise the entries are added)'),
        h('div.form-actions', null, importBtn));
    const el = h('section.card.rules-lists', { 'aria-labelledby': 'lists-title' },
        h('h2', { id: 'lists-title' }, 'Lists'),
        h('p.muted.small', null, 'Allow lists and deny lists of user ids and @usernames, used by “In a list” conditions; ' +
            'whether a list allows or denies is up to the rule\'s action.'),
        err, ok,
        h('div.table-wrap', null, labelCells(h('table.table.table-small.lists-table', null,
            tableHead('Name', 'Entries', 'Updated', ''), tbody)), empty),
        form);

    const message = (box, text) => {
        err.hidden = ok.hidden = true;
        box.textContent = text;
        box.hidden = false;
    };

    function row(l) {
        const del = h('button.btn.btn-danger-outline.btn-small', { type: 'button', 'aria-label': `Delete list ${l.name}` }, 'Delete');
        del.addEventListener('click', async () => {
            const yes = await confirmDialog({ title: `Delete the list ${l.name}?`, danger: true, confirmLabel: 'Delete list',
                body: h('p', null, `Its ${fmtNum(l.entries)} entries are removed. A list a rule still uses cannot be deleted.`) });
            if (!yes) return;
            try {
                await busy([del], () => api('POST', `/api/rule-lists/${encodeURIComponent(l.name)}/delete`, {}));
                if (!ctx.alive) return;
                message(ok, `Deleted the list ${l.name}.`);
                await load();
            } catch (e) {
                if (ctx.alive) message(err, e.message);
            }
        });
        return h('tr', { dataset: { list: l.name } },
            h('td.mono', null, l.name),
            h('td.num', null, fmtNum(l.entries)),
            h('td.date', { title: fmtTimeFull(l.updated_at) }, fmtTime(l.updated_at)),
            h('td.row-actions', null, del));
    }

    async function load() {
        try {
            const res = await api('GET', '/api/rule-lists');
            if (!ctx.alive) return;
            tbody.replaceChildren(...res.lists.map(row));
            empty.hidden = res.lists.length > 0;
            onChange(res.lists.map((l) => l.name));
        } catch (e) {
            if (ctx.alive) message(err, e.message);
        }
    }

    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = ok.hidden = true;
        try {
            const n = name.value.trim();
            if (!NAME_RE.test(n)) throw new Error('The list name must be 1–64 letters, digits, _ or -.');
            const picked = file.files && file.files[0];
            if (!picked) throw new Error('Choose the text or CSV file to import.');
            if (picked.size > MAX_TEXT) throw new Error(`${picked.name} is larger than 512 KiB: split it and import the parts.`);
            const res = await busy([importBtn], async () => api('POST', `/api/rule-lists/${encodeURIComponent(n)}`,
                { text: await readText(picked), replace: replace.checked }));
            if (!ctx.alive) return;
            message(ok, `The list ${res.list.name} holds ${fmtNum(res.list.entries)} entries.`);
            file.value = '';
            await load();
        } catch (e) {
            if (ctx.alive) message(err, e.message);
        }
    });
    return { el, load };
}
