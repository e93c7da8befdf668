// session_picker.js: choosing several sessions for one job (docs/api.md, "Several sessions"): a
// checkbox for each active session, in the order listed; a job tries the ticked ones in that order,
// the next taking over when one must wait out a flood wait, loses its key or lacks the right. The
// decision dialog (pages/requests_decide.js) and Load Requests (pages/sessions_load.js) use it.
import { h } from './dom.js';
import { fullName } from './format.js';

// The choice that lets every active session work, one taking over when another must wait
// (docs/api.md, session_name "sessions:any").
export const ANY_SESSION = 'sessions:any';

// "marta — Marta Kowalska @marta_k — user": a session as the choices show it.
export function sessionChoiceLabel(s) {
    const a = s.account;
    const name = a ? [fullName(a), a.username ? '@' + a.username : ''].filter(Boolean).join(' ') : '';
    return [s.name, name, s.type].filter(Boolean).join(' — ');
}

// A fieldset (legend `legend`) with a checkbox for each of sessions (the API's session rows), those
// named in `ticked` ticked. names() gives the ticked sessions' names in the order shown; onChange()
// runs when a box changes.
export function sessionPicker(sessions, { legend, ticked = [], onChange }) {
    const boxes = sessions.map((s) => h('input', { type: 'checkbox', name: 'sessions', value: s.name,
        checked: ticked.includes(s.name), onchange: () => onChange && onChange() }));
    const el = h('fieldset.session-picker', null, h('legend.field-label', null, legend),
        boxes.map((b, i) => h('label.check-row', null, b, sessionChoiceLabel(sessions[i]))));
    return { el, names: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}
