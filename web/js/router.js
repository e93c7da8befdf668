// router.js: which page the address shows ("#/requests?status=approved", the setup link
// "/setup#token=…", an invitation "/invite#token=…"), navigation, and the life of a page (its timers stop when it is left).
import { $, clear } from './dom.js';
import { api, qs } from './api.js';
import { showBanner, hideBanner } from './frame.js';
import { state } from './state.js';

let pages = {};            // path -> page(ctx, main, params)
let publicPaths = new Set(); // pages shown without signing in

// Sets the pages: {path: page(ctx, main, params)}; publicList: those open without signing in.
export function setPages(table, publicList) {
    pages = table;
    publicPaths = new Set(publicList);
}

// The page and its parameters from the address.
export function parseHash() {
    const raw = location.hash.replace(/^#/, '');
    if (location.pathname === '/invite' && !raw.startsWith('/')) {
        return { path: '/invite', params: new URLSearchParams(raw) };
    }
    if (/^token=/.test(raw) || (location.pathname === '/setup' && !raw.startsWith('/'))) {
        return { path: '/setup', params: new URLSearchParams(raw) };
    }
    const [path, query] = raw.split('?');
    return { path: path || '/requests', params: new URLSearchParams(query || '') };
}

// Shows the page of hash ("#/requests"): on "/", through hashchange; elsewhere (/setup) the
// address becomes "/#…" first.
export function navigate(hash) {
    if (location.pathname !== '/' || location.hash === hash) {
        history.replaceState(null, '', '/' + hash);
        route();
    } else {
        location.hash = hash; // hashchange renders it
    }
}

// Navigates to a page; flash is a message shown on it (navigation hides older ones).
export function go(path, params, flash, flashKind = 'error') {
    state.flash = flash ? [flash, flashKind] : null;
    navigate('#' + path + (params ? qs(params) : ''));
}

// Ends the live page: its timers stop and its onLeave functions run.
function leavePage() {
    if (!state.page) return;
    state.page.alive = false;
    state.page.timers.forEach(clearTimeout);
    state.page.leaving.forEach((fn) => fn());
}

function markNav(path) {
    for (const a of document.querySelectorAll('.nav a')) {
        a.classList.toggle('active', a.dataset.route === path);
        if (a.dataset.route === path) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
    }
}

// Renders the page the address names (the login or setup page while not signed in).
export async function route() {
    let { path, params } = parseHash();
    if (!pages[path]) path = '/requests';
    if (!publicPaths.has(path) && !state.me) {
        state.afterLogin = location.hash;
        let needsSetup = false;
        try {
            needsSetup = (await api('GET', '/api/setup')).needs_setup;
        } catch (e) {
            showBanner(e.message);
        }
        path = needsSetup ? '/setup' : '/login';
    }
    leavePage();
    const ctx = { alive: true, timers: [], leaving: [] };
    ctx.later = (fn, ms) => ctx.timers.push(setTimeout(() => ctx.alive && fn(), ms));
    ctx.onLeave = (fn) => ctx.leaving.push(fn); // runs when another page replaces this one
    state.page = ctx;
    markNav(path);
    hideBanner();
    if (state.flash) {
        showBanner(...state.flash);
        state.flash = null;
    }
    const main = clear($('#main'));
    main.className = `main page-${path.slice(1)}`;
    pages[path](ctx, main, params);
}
