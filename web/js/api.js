// api.js: the client of doorman's JSON API (docs/api.md). Every state-changing request carries
// X-CSRF-Token; every error thrown is an ApiError with the API's own message.
import { state } from './state.js';

export class ApiError extends Error {
    constructor(status, code, message, retryAfter, detail) {
        super(message);
        this.status = status;
        this.code = code;
        this.retryAfter = retryAfter;
        this.detail = detail || {}; // the API's error object as sent (e.g. retry_after of flood_wait)
    }
}

let sessionEnded = () => {};

// fn() runs when a request answers 401 while signed in (the session expired or was ended).
export function onSessionEnd(fn) {
    sessionEnded = fn;
}

// fetch() that resolves only to a 2xx response; otherwise throws an ApiError with the API's message.
export async function send(path, opts) {
    let res;
    try {
        res = await fetch(path, opts);
    } catch (e) {
        throw new ApiError(0, 'network', 'Cannot reach doorman. Is it running? (' + e.message + ')');
    }
    if (res.ok) return res;
    let data = null;
    try {
        data = await res.json();
    } catch (e) {
        data = null;
    }
    const err = data && data.error ? data.error : {};
    throw new ApiError(res.status, err.code || `http_${res.status}`,
        err.message || `doorman answered HTTP ${res.status}.`, res.headers.get('Retry-After'), err);
}

// One API call: the answer's JSON (null when it has none).
export async function api(method, path, body) {
    const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
        opts.headers['Content-Type'] = 'application/json';
        if (state.me) opts.headers['X-CSRF-Token'] = state.me.csrf_token;
        opts.body = JSON.stringify(body || {});
    }
    let res;
    try {
        res = await send(path, opts);
    } catch (e) {
        // An expired session anywhere but at the login form: back to the login form.
        if (e.status === 401 && path !== '/api/login' && state.me) sessionEnded();
        throw e;
    }
    try {
        return await res.json();
    } catch (e) {
        return null;
    }
}

// {k: v} as "?k=v&…", leaving out empty values.
export function qs(params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
        if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
    }
    const s = u.toString();
    return s ? '?' + s : '';
}
