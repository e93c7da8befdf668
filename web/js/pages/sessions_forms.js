// pages/sessions_forms.js: the Sessions page's forms that add a session without a login code:
// Add Bot Session and Import Session (a .session file or a string session), and the fields every
// form that makes a session shares (also the Create New Session wizard's first step).
import { h, fieldRow } from '../dom.js';
import { api } from '../api.js';
import { pageModal } from '../modal.js';
import { fmtNum } from '../format.js';

const SESSION_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_BODY = 1024 * 1024; // doorman refuses bigger request bodies (413)

// The inputs of a new session (name, API ID, hash, phone unless phone is false), prefilled with
// values. check(needPhone) returns the body fields or throws; values() is what is typed now.
export function sessionFields({ phone = true, values = {} } = {}) {
    const name = h('input', { type: 'text', name: 'name', autocomplete: 'off', spellcheck: 'false', required: true,
        value: values.name || '', placeholder: 'my_session' });
    const apiId = h('input', { type: 'text', name: 'api_id', inputmode: 'numeric', autocomplete: 'off',
        required: true, value: values.api_id || '', placeholder: '1234567' });
    const apiHash = h('input.mono', { type: 'text', name: 'api_hash', autocomplete: 'off', spellcheck: 'false',
        required: true, value: values.api_hash || '', placeholder: '0123456789abcdef0123456789abcdef' });
    const phoneIn = phone ? h('input', { type: 'tel', name: 'phone', autocomplete: 'off', value: values.phone || '',
        placeholder: '+1234567890' }) : null;
    return {
        rows: [
            fieldRow('Session name', name, 'Letters, digits, underscores and dashes.'),
            fieldRow('API ID', apiId, 'From my.telegram.org, “API development tools”.'),
            fieldRow('API hash', apiHash, 'Stored encrypted; never shown again.'),
            phoneIn ? fieldRow('Phone number', phoneIn, 'With the country code, e.g. +1234567890.') : null,
        ],
        first: name,
        values: () => ({ name: name.value.trim(), api_id: apiId.value.trim(), api_hash: apiHash.value.trim(),
            phone: phoneIn ? phoneIn.value.trim() : '' }),
        check(needPhone) {
            const v = this.values();
            if (!SESSION_NAME_RE.test(v.name)) throw new Error('The session name must be 1–64 letters, digits, underscores or dashes.');
            if (!/^[1-9][0-9]{0,9}$/.test(v.api_id) || Number(v.api_id) > 2147483647) {
                throw new Error('The API ID is a number: copy it from my.telegram.org.');
            }
            if (!v.api_hash) throw new Error('The API hash is missing: copy it from my.telegram.org.');
            if (needPhone && !v.phone) throw new Error('The phone number is missing.');
            const body = { name: v.name, api_id: Number(v.api_id), api_hash: v.api_hash };
            if (phoneIn) body.phone = v.phone;
            return body;
        },
    };
}

// Add Bot Session: a bot logged in over MTProto; onCreated(session) once added.
export function botSessionModal(ctx, { onCreated }) {
    const m = pageModal(ctx, { title: 'Add Bot Session' });
    const f = sessionFields({ phone: false });
    const token = h('input.mono', { type: 'password', name: 'bot_token', autocomplete: 'off', spellcheck: 'false',
        required: true, placeholder: '123456789:AAE…' });
    m.step({
        body: [h('p.muted', null, 'A bot logged in over MTProto with its token from @BotFather.'), f.rows,
            fieldRow('Bot token', token, 'Stored inside the session; never shown again.')],
        submitLabel: 'Add Bot Session',
        focus: f.first,
        onSubmit: async () => {
            const body = f.check(false);
            if (!token.value.trim()) throw new Error('The bot token is missing: copy it from @BotFather.');
            body.bot_token = token.value.trim();
            const res = await api('POST', '/api/sessions/bot', body);
            m.close();
            onCreated(res.session);
        },
    });
}

// The file's bytes as base64 (FileReader gives a data: URL; the part after the comma).
function readBase64(file) {
    return new Promise((resolve, reject) => {
        const r = new FileReader();
        r.addEventListener('load', () => resolve(String(r.result).replace(/^data:[^,]*,/, '')));
        r.addEventListener('error', () => reject(new Error(`Cannot read ${file.name}: ${r.error ? r.error.message : 'unknown error'}.`)));
        r.readAsDataURL(file);
    });
}

// The picked .session file as base64, refused when missing, empty or too large to upload.
async function sessionFile(input) {
    // base64 grows 4/3; the rest of the body is small.
    const maxFile = Math.floor((MAX_BODY - 4096) / 4) * 3;
    const picked = input.files && input.files[0];
    if (!picked) throw new Error('Choose the .session file to import.');
    if (picked.size === 0) throw new Error(`${picked.name} is empty: it is not a session file.`);
    if (picked.size > maxFile) {
        throw new Error(`${picked.name} is ${fmtNum(Math.ceil(picked.size / 1024))} KB: too large to be a session file ` +
            `(at most ${fmtNum(Math.floor(maxFile / 1024))} KB can be uploaded).`);
    }
    return readBase64(picked);
}

// Import Session: from a .session file or a string session; onCreated(session) once added.
export function importSessionModal(ctx, { onCreated }) {
    const m = pageModal(ctx, { title: 'Import Session' });
    const f = sessionFields();
    const useFile = h('input', { type: 'radio', name: 'source', value: 'file', checked: true });
    const useString = h('input', { type: 'radio', name: 'source', value: 'string' });
    const file = h('input', { type: 'file', name: 'file', accept: '.session' });
    const str = h('textarea.mono', { name: 'string', rows: '4', spellcheck: 'false', autocomplete: 'off',
        placeholder: 'BQE… / 1BVts… (Pyrogram, Telethon or GramJS)' });
    const fileRow = fieldRow('Session file', file, 'A Pyrogram (any version) or Telethon .session file.');
    const strRow = fieldRow('String session', str, 'Pyrogram, Telethon or GramJS string session.');
    const sync = () => {
        fileRow.hidden = !useFile.checked;
        strRow.hidden = !useString.checked;
    };
    useFile.addEventListener('change', sync);
    useString.addEventListener('change', sync);
    sync();
    m.step({
        body: [h('p.muted', null, 'Checked by connecting to Telegram before anything is stored.'), f.rows,
            h('fieldset.field', null, h('legend.field-label', null, 'Import from'),
                h('label.radio', null, useFile, ' A .session file'),
                h('label.radio', null, useString, ' A string session')),
            fileRow, strRow],
        submitLabel: 'Import',
        focus: f.first,
        onSubmit: async () => {
            const body = f.check(false);
            if (useFile.checked) {
                body.file = await sessionFile(file);
            } else {
                const v = str.value.trim();
                if (!v) throw new Error('Paste the string session to import.');
                body.string = v;
            }
            const res = await api('POST', '/api/sessions/import', body);
            m.close();
            onCreated(res.session);
        },
    });
}
