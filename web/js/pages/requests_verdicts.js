// pages/requests_verdicts.js: what the rules said of each request on the Invite Requests page:
// the verdict cell ("rule 3: links in bio → hold for review", a "banned" marker), the filter by
// the rule a verdict names (rule_id), and the undo of a rule's decision: Release for a held
// request (back to the admins), Unban for a user a rule banned. Verdicts hold admin-written rule
// names: they go in as text. A request being verified shows its verification's state, and the
// applicant's written answer (Telegram users' text: as text too).
import { h } from '../dom.js';
import { api } from '../api.js';
import { showBanner } from '../frame.js';
import { fullName } from '../format.js';

const HOLD = '→ hold for review';

// A request a rule held back: pending, tagged with the rule, its verdict a hold.
export const isHeld = (r) => r.status === 'pending' && !!r.rule_id && r.verdict.endsWith(HOLD);

// The verdict cell's content for request r. A verdict that names a rule is a button filtering
// the table by that rule; Release and Unban carry data-verdict-action (see verdictActions).
export function verdictNodes(r) {
    const verdict = !r.verdict ? null : r.rule_id
        ? h('button.verdict-link', { type: 'button', dataset: { ruleId: String(r.rule_id) },
            title: 'Show only the requests this rule spoke for' }, r.verdict)
        : h('span.verdict-text', null, r.verdict);
    const action = (name, label, title) => h('button.btn.btn-ghost.btn-small', { type: 'button',
        dataset: { verdictAction: name }, title, 'aria-label': `${label} ${fullName(r)}` }, label);
    const verification = r.verification ? h('div.verification', { dataset: { verification: r.verification } },
        h('span.badge.badge-verify', { title: 'The verification of this request (the Mini App challenge)' },
            `verification ${r.verification.replace('_', ' ')}`),
        r.verification_answer ? h('blockquote.verification-answer', { title: 'The applicant\'s written answer' },
            r.verification_answer) : null) : null;
    return [
        verdict || h('span.muted', null, '—'),
        verification,
        r.banned ? h('span.badge.badge-banned', { title: 'Banned from the channel by the rule' }, 'banned') : null,
        isHeld(r) || r.banned ? h('div.verdict-actions', null,
            isHeld(r) ? action('release', 'Release', 'Give this request back to the admins (it stays pending)') : null,
            r.banned ? action('unban', 'Unban', 'Lift the ban the rule made (the user can ask to join again)') : null)
            : null,
        h('div.verdict-result', { role: 'status', hidden: true }),
    ];
}

// The line above the table naming the rule the table is filtered by, with a button to drop it.
// show(ruleId, label) shows it (ruleId '' hides it; without a label, the rule as a verdict in
// the table (tableEl) names it, e.g. when the address named the rule); onRemove() when dropped.
export function ruleFilterChip({ tableEl, onRemove }) {
    const text = h('span.chip-text');
    const remove = h('button.chip-remove', { type: 'button', 'aria-label': 'Remove the rule filter',
        title: 'Show every rule\'s requests' }, '×');
    const el = h('div.filter-chips', { hidden: true },
        h('span.muted', null, 'Filtered by rule'), h('span.chip', null, text, remove));
    remove.addEventListener('click', () => onRemove());
    return {
        el,
        show(ruleId, label) {
            el.hidden = !ruleId;
            if (!ruleId) return;
            const link = [...tableEl.querySelectorAll('.verdict-link')].find((b) => b.dataset.ruleId === String(ruleId));
            text.textContent = label || (link ? ruleLabel(link.textContent) : `rule #${ruleId}`);
        },
    };
}

// The label of a rule's filter: its verdict without the action ("rule 3: links in bio").
export const ruleLabel = (verdict) => {
    const i = verdict.lastIndexOf(' → ');
    return i > 0 ? verdict.slice(0, i) : verdict;
};

// Clicks in the table (el): a verdict filters by its rule (onFilter(ruleId, verdict)); Release
// and Unban ask the API for that request and say how it went in the row; onDone() after one
// changed something (the table reloads).
export function verdictActions(el, { onFilter, onDone }) {
    el.addEventListener('click', (ev) => {
        const t = ev.target instanceof Element ? ev.target : null;
        const link = t && t.closest('.verdict-link');
        if (link) {
            onFilter(link.dataset.ruleId, link.textContent);
            return;
        }
        const btn = t && t.closest('[data-verdict-action]');
        if (btn) act(btn);
    });

    async function act(btn) {
        const tr = btn.closest('tr');
        const id = Number(tr.dataset.id);
        const result = tr.querySelector('.verdict-result');
        const say = (text, bad) => {
            result.textContent = text;
            result.classList.toggle('err-text', !!bad);
            result.hidden = false;
        };
        const buttons = [...tr.querySelectorAll('[data-verdict-action]')];
        buttons.forEach((b) => { b.disabled = true; });
        try {
            if (btn.dataset.verdictAction === 'release') {
                const res = await api('POST', '/api/invite-requests/release', { request_ids: [id] });
                if (!res.released.includes(id)) {
                    say('Not released: no rule holds it any more.', true);
                    return;
                }
                showBanner('Released: the request waits for an admin.', 'info');
            } else {
                const res = await api('POST', '/api/invite-requests/unban', { request_ids: [id] });
                const r = res.results.find((x) => x.request_id === id) || { ok: false, error: 'no answer for this request' };
                if (!r.ok) {
                    say(`Unban failed: ${r.error}`, true);
                    return;
                }
                showBanner('Unbanned: the user can ask to join again.', 'info');
            }
            onDone();
        } catch (e) {
            say(e.message, true);
        } finally {
            buttons.forEach((b) => { b.disabled = false; });
        }
    }
}
