// pages/rules_dryrun.js: the Rules page's dry run: what a rule set (as being edited, not saved)
// would do with a channel's pending requests now, computed by doorman (POST /api/rules/dry-run):
// counts per action and up to 20 examples each. Names are Telegram's text: they go in as text.
import { h, busy } from '../dom.js';
import { api } from '../api.js';
import { fmtNum, fullName } from '../format.js';
import { OUTCOMES } from './rules_text.js';

function exampleItem(x) {
    const rule = x.rule_index === null ? null : (x.rule_name || `rule ${x.rule_index + 1}`);
    return h('li.dry-example', null,
        h('span.user-name', null, fullName(x)),
        x.username ? h('span.username', null, '@' + x.username) : null,
        h('span.user-id', null, String(x.user_id)),
        rule ? h('span.muted', null, `by ${rule}`) : null);
}

function outcomeBlock([key, label], n, examples) {
    return h('div.dry-outcome', { dataset: { outcome: key, count: String(n) } },
        h('div.dry-outcome-head', null,
            h('span.dry-label', null, label),
            h('span.dry-count', null, fmtNum(n))),
        examples.length ? h('ul.dry-examples', null, examples.map(exampleItem)) : null,
        n > examples.length ? h('p.muted.small', null, `and ${fmtNum(n - examples.length)} more`) : null);
}

// The dry run card. body() is the dry run's request body for what is being edited now (it
// throws when there is no channel to try on); canRun() says whether there is one.
export function rulesDryRun(ctx, { body, canRun }) {
    const run = h('button.btn.btn-secondary', { type: 'button' }, 'Run dry run');
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const stale = h('p.dry-stale', { hidden: true }, 'The rules changed since this run: run it again.');
    const summary = h('p.dry-summary', { role: 'status' });
    const unknown = h('p.dry-unknown', { hidden: true });
    const result = h('div.dry-result');
    const picker = h('div.dry-picker');
    const el = h('section.card.rules-dryrun', { 'aria-labelledby': 'dryrun-title' },
        h('div.card-head', null, h('h2', { id: 'dryrun-title' }, 'Dry run'), h('span.spacer'), run),
        h('p.muted.small', null, 'What these rules would do with the channel\'s pending requests now, ' +
            'including the rule being edited (not saved). Nothing is decided.'),
        picker, err, stale, summary, unknown, result);

    function show(r) {
        summary.replaceChildren(
            `${fmtNum(r.pending)} pending evaluated in `, h('span.dry-took', null, `${fmtNum(r.took_ms)} ms`), '.');
        unknown.textContent = r.unknown ? `${fmtNum(r.unknown)} request${r.unknown === 1 ? '' : 's'} could not be fully ` +
            'checked: “Has a profile photo” and “On the blocklist” are not asked in a dry run, so a rule with them ' +
            'was passed over; applied for real, it may decide them.' : '';
        unknown.hidden = !r.unknown;
        result.replaceChildren(...OUTCOMES.map((o) => outcomeBlock(o, r.counts[o[0]] || 0, r.examples[o[0]] || [])));
        el.dataset.state = 'done';
    }

    run.addEventListener('click', async () => {
        err.hidden = true;
        stale.hidden = true;
        el.dataset.state = 'running';
        try {
            const r = await busy([run], () => api('POST', '/api/rules/dry-run', body()));
            if (!ctx.alive) return;
            show(r);
        } catch (e) {
            if (!ctx.alive) return;
            el.dataset.state = 'failed';
            err.textContent = e.message;
            err.hidden = false;
        }
    });

    return {
        el,
        // Puts a node above the results (the channel to try global rules on).
        setPicker: (node) => picker.replaceChildren(...[node].filter(Boolean)),
        // The rules changed: a result shown is out of date.
        changed() {
            if (el.dataset.state === 'done') stale.hidden = false;
        },
        reset() {
            err.hidden = stale.hidden = unknown.hidden = true;
            summary.replaceChildren(canRun() ? 'Run it to see the numbers.' : 'There are no channels with requests yet.');
            result.replaceChildren();
            run.disabled = !canRun();
            delete el.dataset.state;
        },
    };
}
