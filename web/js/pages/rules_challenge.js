// pages/rules_challenge.js: the Rules page's challenge for the scope shown (GET/POST
// /api/challenges): what an applicant must do when a rule says "verify" (docs/verification.md):
// which steps (accept the rules, a question with choices, a captcha doorman draws, a free-text
// answer the admins read), the time limit, what passing, failing and no answer lead to, and the
// texts per language (the default, and any language tag: an applicant gets the texts of their
// Telegram language, else the default's), how the private message brings it (a Mini App button,
// or the steps as inline buttons), and the messages after a decision (welcome, decline reason:
// Telegram HTML templates with {first_name}, {last_name}, {username}, {channel}). "Global rules"
// edits the default challenge, for channels without their own. The API's 400 names the field; nothing is saved then.
import { h, busy, fieldRow } from '../dom.js';
import { api } from '../api.js';
import { confirmDialog } from '../modal.js';

const STEPS = [
    ['rules', 'Accept the rules', 'a text and a checkbox'],
    ['question', 'A question', 'with choices, one of them right'],
    ['captcha', 'A captcha', 'digits in a picture doorman draws'],
    ['text', 'A written answer', 'admins read it with the request'],
];
// [key, label, multiline, the step it belongs to (null: any)]
const TEXTS = [
    ['title', 'Title', false, null],
    ['rules', 'The rules', true, 'rules'],
    ['accept', 'Checkbox label', false, 'rules'],
    ['question', 'Question', false, 'question'],
    ['choices', 'Choices (one a line)', true, 'question'],
    ['captcha', 'Captcha prompt', false, 'captcha'],
    ['prompt', 'Question for the written answer', false, 'text'],
    ['submit', 'Button', false, null],
    ['passed', 'Shown after passing', false, null],
    ['failed', 'Shown after failing', false, null],
    ['message', 'Private message bringing the Mini App', true, null],
    ['open', 'Its button', false, null],
    ['welcome', 'Welcome message after approval', true, null],
    ['decline', 'Reason sent after a decline', true, null],
];
const DELIVERY = [['web_app', 'a button that opens the Mini App'], ['buttons', 'inline buttons in the message (rules and question only)']];
const OUTCOMES = {
    on_pass: [['approve', 'approve'], ['queue', 'leave it to the admins, with the answers']],
    on_fail: [['decline', 'decline'], ['decline_and_ban', 'decline and ban']],
    on_timeout: [['decline', 'decline'], ['queue', 'leave it to the admins'], ['approve', 'approve']],
};
const LANG_RE = /^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

const select = (name, label, options) => h('select', { name, 'aria-label': label },
    options.map(([v, t]) => h('option', { value: v }, t)));
const num = (name, label) => h('input.input-num', { type: 'text', name, inputmode: 'numeric', autocomplete: 'off', 'aria-label': label });

export function challengeCard(ctx, { scope }) {
    let texts = { default: {} };
    let lang = 'default';
    let own = false;
    const steps = Object.fromEntries(STEPS.map(([k]) => [k, h('input', { type: 'checkbox', name: `step_${k}`, value: k })]));
    const limit = num('time_limit_seconds', 'Time limit in seconds');
    const attempts = num('captcha_attempts', 'Captcha attempts');
    const banAfter = num('ban_after', 'Ban after this many failures');
    const outs = Object.fromEntries(Object.entries(OUTCOMES).map(([k, o]) => [k, select(k, k, o)]));
    const correct = h('select', { name: 'correct_choice', 'aria-label': 'Right choice' });
    const delivery = select('delivery', 'Private message brings', DELIVERY);
    const langSel = h('select', { name: 'language', 'aria-label': 'Texts of' });
    const newLang = h('input.input-lang', { type: 'text', name: 'new_language', placeholder: 'e.g. ru, pt-br', autocomplete: 'off',
        spellcheck: 'false', 'aria-label': 'New language' });
    const addLang = h('button.btn.btn-secondary.btn-small', { type: 'button' }, 'Add language');
    const dropLang = h('button.btn.btn-danger-outline.btn-small', { type: 'button' }, 'Remove language');
    const fields = Object.fromEntries(TEXTS.map(([k, label, multi]) => [k,
        multi ? h('textarea', { name: `text_${k}`, rows: k === 'rules' ? 5 : 3, 'aria-label': label })
            : h('input', { type: 'text', name: `text_${k}`, autocomplete: 'off', 'aria-label': label })]));
    const rows = Object.fromEntries(TEXTS.map(([k, label]) => [k, fieldRow(label, fields[k])]));
    const correctRow = fieldRow('Right choice', correct, 'Of the default\'s choices; the same in every language.');
    const status = h('span.challenge-now.muted');
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const ok = h('p.form-ok', { role: 'status', hidden: true });
    const save = h('button.btn.btn-primary', { type: 'submit' }, 'Save challenge');
    const remove = h('button.btn.btn-danger-outline', { type: 'button' }, 'Remove');
    const hint = h('p.muted.small');
    // Everything in the form is disabled until load() has filled it: a box ticked before the
    // channel's challenge arrived would be undone by fill().
    const all = h('fieldset.contents', { disabled: true },
        h('fieldset.field', null, h('legend.field-label', null, 'Steps, in this order'),
            STEPS.map(([k, label, line]) => h('label.check-row', { dataset: { step: k } }, steps[k], h('span', null, label, ' ', h('span.muted', null, `(${line})`))))),
        h('div.challenge-row', null,
            fieldRow('Time limit (seconds)', limit, '10 to 86,400; a private message\'s window is 5 minutes.'),
            fieldRow('Captcha attempts', attempts, 'Wrong answers before the step fails (1 to 10).'),
            fieldRow('Ban after failures', banAfter, 'With decline: the N-th failure in this channel bans (0: never).')),
        h('div.challenge-row', null,
            fieldRow('When passed', outs.on_pass), fieldRow('When failed', outs.on_fail), fieldRow('No answer in time', outs.on_timeout)),
        fieldRow('Private message brings', delivery, 'Inline buttons serve the rules and the question; with a captcha or a written answer the Mini App\'s button is sent.'),
        h('fieldset.field.challenge-texts', null, h('legend.field-label', null, 'Texts'),
            h('div.challenge-langs', null, h('label.inline', null, h('span', null, 'Language'), langSel), newLang, addLang, dropLang),
            h('p.muted.small', null, 'Applicants get the texts of their Telegram language, else the default\'s; ' +
                'a text left empty comes from the primary language (pt for pt-br), else the default. Texts are shown as plain text, ' +
                'but the welcome and decline messages: Telegram HTML (<b>, <i>, <a href>), with {first_name}, {last_name}, {username} and {channel} filled in, escaped.'),
            TEXTS.map(([k]) => (k === 'choices' ? [rows[k], correctRow] : rows[k]))),
        err, ok, h('div.form-actions', null, save, remove));
    const form = h('form.form.challenge-form', { novalidate: true }, all);
    const el = h('section.card.challenge-card', { 'aria-labelledby': 'challenge-title' },
        h('div.card-head', null, h('h2', { id: 'challenge-title' }, 'Challenge'), status),
        h('p.muted.small', null, 'What an applicant does in the verification Mini App when a rule says “Verify”.'),
        hint, form);

    const message = (box, text) => {
        err.hidden = ok.hidden = true;
        box.textContent = text;
        box.hidden = false;
    };

    // The shown language's fields into texts (a language other than the default keeps only what is filled).
    function keepFields() {
        const t = {};
        for (const [k] of TEXTS) {
            const v = fields[k].value;
            if (k === 'choices') {
                const list = v.split('\n').map((s) => s.trim()).filter(Boolean);
                if (list.length) t.choices = list;
            } else if (v.trim() || (lang === 'default' && v)) t[k] = v;
        }
        texts[lang] = t;
    }
    function showFields() {
        const t = texts[lang] || {};
        for (const [k] of TEXTS) fields[k].value = k === 'choices' ? (t.choices || []).join('\n') : (t[k] || '');
        correctRow.hidden = lang !== 'default' || !steps.question.checked;
        dropLang.hidden = lang === 'default';
        syncSteps();
    }
    function showLangs() {
        langSel.replaceChildren(...Object.keys(texts).map((k) => h('option', { value: k }, k === 'default' ? 'default' : k)));
        langSel.value = lang;
    }
    function syncCorrect(value) {
        const choices = (lang === 'default' ? fields.choices.value.split('\n') : (texts.default.choices || []))
            .map((s) => s.trim()).filter(Boolean);
        const keep = value ?? correct.value;
        correct.replaceChildren(...choices.map((c, i) => h('option', { value: String(i) }, `${i + 1}. ${c}`)));
        if (keep !== '' && Number(keep) < choices.length) correct.value = String(keep);
    }
    function syncSteps() {
        for (const [k, , , step] of TEXTS) rows[k].hidden = step !== null && !steps[step].checked;
        correctRow.hidden = lang !== 'default' || !steps.question.checked;
        attempts.closest('label').hidden = !steps.captcha.checked;
    }

    function fill(c) {
        for (const [k] of STEPS) steps[k].checked = !!c && c.steps.includes(k);
        limit.value = String(c?.time_limit_seconds ?? 600);
        attempts.value = String(c?.captcha_attempts ?? 3);
        banAfter.value = String(c?.ban_after ?? 0);
        for (const k of Object.keys(OUTCOMES)) outs[k].value = c?.[k] ?? OUTCOMES[k][0][0];
        delivery.value = c?.delivery ?? 'web_app';
        texts = c ? JSON.parse(JSON.stringify(c.texts)) : { default: {} };
        lang = 'default';
        showLangs();
        showFields();
        syncCorrect(c?.correct_choice ?? 0);
    }

    function body() {
        keepFields();
        const n = (input) => (/^\d+$/.test(input.value.trim()) ? Number(input.value.trim()) : input.value);
        const out = {
            steps: STEPS.map(([k]) => k).filter((k) => steps[k].checked),
            time_limit_seconds: n(limit), on_pass: outs.on_pass.value, on_fail: outs.on_fail.value,
            ban_after: n(banAfter), on_timeout: outs.on_timeout.value, captcha_attempts: n(attempts), texts,
        };
        if (delivery.value !== 'web_app') out.delivery = delivery.value;
        if (correct.value !== '') out.correct_choice = Number(correct.value);
        return out;
    }

    async function load() {
        err.hidden = ok.hidden = true;
        all.disabled = true;
        try {
            const res = await api('GET', '/api/challenges');
            if (!ctx.alive) return;
            const chat = scope();
            const mine = chat ? res.channels.find((c) => c.chat_id === chat) : res.default;
            own = !!mine;
            status.textContent = chat ? (own ? 'this channel\'s own' : (res.default ? 'follows the default' : 'none set')) : (own ? 'the default' : 'no default set');
            hint.textContent = chat && !own && res.default
                ? 'This channel uses the default challenge (set under Global rules) until it has its own.' : '';
            fill(mine ? mine.challenge : (chat ? res.default?.challenge : null));
            remove.hidden = !own;
            all.disabled = false;
        } catch (e) {
            if (ctx.alive) message(err, e.message);
        }
    }

    form.addEventListener('change', (ev) => {
        if (ev.target === langSel) return;
        syncSteps();
    });
    fields.choices.addEventListener('input', () => { if (lang === 'default') syncCorrect(); });
    langSel.addEventListener('change', () => {
        keepFields();
        lang = langSel.value;
        showFields();
    });
    addLang.addEventListener('click', () => {
        const t = newLang.value.trim().toLowerCase();
        if (!LANG_RE.test(t)) return message(err, 'A language is a tag like ru, de or pt-br.');
        keepFields();
        if (!texts[t]) texts[t] = {};
        lang = t;
        newLang.value = '';
        err.hidden = true;
        showLangs();
        showFields();
    });
    dropLang.addEventListener('click', () => {
        delete texts[lang];
        lang = 'default';
        showLangs();
        showFields();
    });
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = ok.hidden = true;
        try {
            const res = await busy([save], () => api('POST', '/api/challenges', { chat_id: scope(), challenge: body() }));
            if (!ctx.alive) return;
            own = true;
            remove.hidden = false;
            status.textContent = scope() ? 'this channel\'s own' : 'the default';
            hint.textContent = '';
            message(ok, `Saved. Rules that say “Verify” use it for new requests.`);
            fill(res.challenge);
        } catch (e) {
            if (ctx.alive) message(err, e.message);
        }
    });
    remove.addEventListener('click', async () => {
        const chat = scope();
        const yes = await confirmDialog({ title: chat ? 'Remove this channel\'s challenge?' : 'Remove the default challenge?', danger: true,
            confirmLabel: 'Remove', body: h('p', null, chat ? 'The channel then uses the default challenge, if there is one.'
                : 'Channels without their own challenge then have none: a rule that says “Verify” holds their requests for the admins.') });
        if (!yes) return;
        try {
            await busy([remove], () => api('POST', '/api/challenges', { chat_id: chat, challenge: null }));
            if (ctx.alive) await load();
        } catch (e) {
            if (ctx.alive) message(err, e.message);
        }
    });
    return { el, load };
}
