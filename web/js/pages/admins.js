// pages/admins.js: the Admins card of the Settings page (owners): every admin with their role
// and channels, an invitation link for a new one (one-time, expiring), role and channel
// changes, removal. And the channel picker that the tokens form shares.
import { h, busy, fieldRow, labelCells, tableHead } from '../dom.js';
import { api } from '../api.js';
import { showBanner } from '../frame.js';
import { fmtTime } from '../format.js';
import { confirmDialog } from '../modal.js';
import { ROLES } from '../state.js';

// Checkboxes of the channels GET /api/chats lists (the caller's): {el, load(), value(), set(ids)}.
export function channelPicker() {
    const list = h('div.channel-picker');
    const el = h('fieldset.field', null, h('legend.field-label', null, 'Channels'), list);
    return {
        el,
        async load() {
            const r = await api('GET', '/api/chats');
            list.replaceChildren(...r.items.map((c) => h('label.check-label', null,
                h('input', { type: 'checkbox', value: String(c.chat_id) }), ` ${c.title || c.chat_id}`)));
            if (!r.items.length) list.append(h('span.muted', null, 'No channels with requests yet.'));
        },
        value: () => [...list.querySelectorAll('input:checked')].map((i) => Number(i.value)),
        set(ids) {
            for (const i of list.querySelectorAll('input')) i.checked = ids.includes(Number(i.value));
        },
    };
}

function roleSelect(value, name) {
    return h('select', { name }, ROLES.map((r) => h('option', { value: r, selected: r === value }, r)));
}

export function adminsCard(ctx) {
    const tbody = h('tbody');
    const table = labelCells(h('table.table.admins-table', null,
        tableHead('Name', 'Role', 'Channels', 'Two-factor', 'Since', ''), tbody));
    const linkOut = h('div.invite-link', { hidden: true });
    const role = roleSelect('viewer', 'invite_role');
    const channels = channelPicker();
    const syncRole = () => { channels.el.hidden = role.value === 'owner'; };
    role.addEventListener('change', syncRole);
    const invite = h('button.btn.btn-secondary', { type: 'button' }, 'Create invitation link');

    async function change(a, sel, picker) {
        const body = { role: sel.value };
        if (sel.value !== 'owner') body.channels = picker.value();
        await api('POST', `/api/admins/${encodeURIComponent(a.name)}/update`, body);
        await load();
    }
    function row(a) {
        const sel = roleSelect(a.role, 'role');
        const picker = channelPicker();
        const save = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Save');
        const remove = h('button.btn.btn-danger-outline.btn-small', { type: 'button' }, 'Remove');
        const edit = h('div.admin-edit', { hidden: true }, sel, picker.el, save);
        const editBtn = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Change role');
        editBtn.addEventListener('click', async () => {
            edit.hidden = !edit.hidden;
            await picker.load();
            picker.set(a.channels || []);
            picker.el.hidden = sel.value === 'owner';
        });
        sel.addEventListener('change', () => { picker.el.hidden = sel.value === 'owner'; });
        save.addEventListener('click', () => busy([save], () => change(a, sel, picker)).catch((e) => showBanner(e.message)));
        remove.addEventListener('click', async () => {
            if (!await confirmDialog({ title: `Remove ${a.name}?`, body: 'They are signed out and their API tokens stop working.', confirmLabel: 'Remove', danger: true })) return;
            try {
                await busy([remove], () => api('POST', `/api/admins/${encodeURIComponent(a.name)}/delete`));
                await load();
            } catch (e) { showBanner(e.message); }
        });
        return h('tr', null, h('td', null, a.name), h('td', null, a.role),
            h('td', null, a.channels ? a.channels.join(', ') || 'none' : 'all'),
            h('td', null, a.totp ? 'on' : 'off'), h('td.date', null, fmtTime(a.created_at)),
            h('td', null, editBtn, ' ', remove, edit));
    }
    async function load() {
        const r = await api('GET', '/api/admins');
        if (ctx.alive) tbody.replaceChildren(...r.items.map(row));
    }
    invite.addEventListener('click', async () => {
        try {
            const body = { role: role.value };
            if (role.value !== 'owner') body.channels = channels.value();
            const r = await busy([invite], () => api('POST', '/api/admins/invite', body));
            linkOut.replaceChildren(h('p', null, `Send this one-time link to the new ${r.role}; it works for 72 hours:`),
                h('p', null, h('code.mono.invite-url', null, r.link)));
            linkOut.hidden = false;
        } catch (e) { showBanner(e.message); }
    });
    load().catch((e) => showBanner(e.message));
    channels.load().then(syncRole).catch(() => {});
    return h('section.card.admins-card', null, h('h2', null, 'Admins'),
        h('div.table-wrap', null, table),
        h('h3', null, 'Invite an admin'),
        h('div.form', null, fieldRow('Role', role, 'Owners do everything; deciders decide and load in their channels; viewers only read.'),
            channels.el, h('div.form-actions', null, invite)),
        linkOut);
}
