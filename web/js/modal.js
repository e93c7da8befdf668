// modal.js: the panel's dialogs: a yes/no confirmation, and a form that stays open while its
// requests run (the wizards and dialogs of the Invite Requests and Sessions pages).
import { h, busy } from './dom.js';

// A modal confirmation; resolves true when confirmed.
export function confirmDialog({ title, body, confirmLabel, danger }) {
    return new Promise((resolve) => {
        const ok = h('button.btn', { type: 'submit', value: 'ok', class: danger ? 'btn-danger' : 'btn-primary' },
            confirmLabel);
        const cancel = h('button.btn.btn-ghost', { type: 'submit', value: 'cancel' }, 'Cancel');
        const dlg = h('dialog.modal', { 'aria-labelledby': 'modal-title' },
            h('form', { method: 'dialog' },
                h('h2', { id: 'modal-title' }, title),
                h('div.modal-body', null, body),
                h('div.modal-actions', null, cancel, ok)));
        dlg.addEventListener('close', () => {
            resolve(dlg.returnValue === 'ok');
            dlg.remove();
        });
        document.body.append(dlg);
        dlg.showModal();
        cancel.focus();
    });
}

// A modal form. step({...}) replaces its content; the dialog is removed once closed (Cancel,
// Escape or close()), then onClose(closedByPage) runs: closedByPage is true when the page was left,
// not the dialog.
export function formModal({ title, onClose }) {
    const heading = h('h2', { id: 'modal-title' }, title);
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const ok = h('p.form-ok', { role: 'status', hidden: true });
    const fields = h('div.modal-fields');
    const actions = h('div.modal-actions');
    const form = h('form.form', { novalidate: true }, heading, err, ok, fields, actions);
    const dlg = h('dialog.modal.modal-form', { 'aria-labelledby': 'modal-title' }, form);
    let submit = null;
    let submitBtn = null;
    let byPage = false;
    const m = {
        // Shows a step: its fields (nodes), the primary button's label and what it does (an
        // async function; an error it throws is shown with its message), and more buttons.
        // Returns the primary button (null without submitLabel); danger styles it red.
        step({ title: t, body, submitLabel, onSubmit, buttons = [], cancelLabel = 'Cancel', focus, danger }) {
            if (t) heading.textContent = t;
            fields.replaceChildren(...[body].flat(Infinity).filter(Boolean));
            submit = onSubmit || null;
            submitBtn = submitLabel
                ? h('button.btn', { type: 'submit', class: danger ? 'btn-danger' : 'btn-primary' }, submitLabel) : null;
            const cancel = cancelLabel ? h('button.btn.btn-ghost', { type: 'button' }, cancelLabel) : null;
            if (cancel) cancel.addEventListener('click', () => m.close());
            actions.replaceChildren(...[cancel, ...buttons, submitBtn].filter(Boolean));
            if (focus) focus.focus();
            else if (submitBtn) submitBtn.focus();
            return submitBtn;
        },
        fail(message) {
            ok.hidden = true;
            err.textContent = message;
            err.hidden = false;
        },
        info(message) {
            err.hidden = true;
            ok.textContent = message;
            ok.hidden = false;
        },
        clearMessages() {
            err.hidden = ok.hidden = true;
        },
        close() {
            if (dlg.open) dlg.close();
        },
        closeByPage() {
            byPage = true;
            m.close();
        },
    };
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        if (!submit || (submitBtn && submitBtn.disabled)) return;
        m.clearMessages();
        const run = submit;
        try {
            await busy([...actions.querySelectorAll('button')], run);
        } catch (e) {
            if (dlg.open) m.fail(e.message);
        }
    });
    dlg.addEventListener('close', () => {
        dlg.remove();
        if (onClose) onClose(byPage);
    });
    document.body.append(dlg);
    dlg.showModal();
    return m;
}

// A formModal that closes when the page it was opened on is left (ctx: that page's context).
export function pageModal(ctx, opts) {
    const m = formModal(opts);
    ctx.onLeave(() => m.closeByPage());
    return m;
}
