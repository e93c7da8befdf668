// main.js: the doorman admin panel's entry module (index.html loads it): a single page client of
// the JSON API in docs/api.md, made of ES modules without a build step.
//
// Rules every module keeps:
// - Everything that comes from Telegram or the server is put into the page as text
//   (textContent / Text nodes / attribute values), never parsed as HTML. There is no innerHTML.
// - The server sends a strict Content-Security-Policy: no inline scripts, styles or handlers, so
//   all behaviour lives in these modules and all looks in style.css.
// - Every state-changing request carries X-CSRF-Token; every error shown is the API's message.
import { $ } from './dom.js';
import { api, onSessionEnd } from './api.js';
import { showBanner, hideBanner, showHeader, initMenu } from './frame.js';
import { setPages, parseHash, route, go } from './router.js';
import { state } from './state.js';
import { pageLogin, logout } from './pages/login.js';
import { pageSetup } from './pages/setup.js';
import { pageRequests } from './pages/requests.js';
import { pageRules } from './pages/rules.js';
import { pageLinks } from './pages/links.js';
import { pageJobs } from './pages/jobs.js';
import { pageSessions } from './pages/sessions.js';
import { pageAudit } from './pages/audit.js';
import { pageLogs } from './pages/logs.js';
import { pageSettings } from './pages/settings.js';
import { pageAccount } from './pages/account.js';
import { pageInvite } from './pages/invite.js';
import { pageStats } from './pages/stats.js';

setPages({
    '/requests': pageRequests,
    '/rules': pageRules,
    '/links': pageLinks,
    '/jobs': pageJobs,
    '/sessions': pageSessions,
    '/audit': pageAudit,
    '/logs': pageLogs,
    '/settings': pageSettings,
    '/account': pageAccount,
    '/stats': pageStats,
    '/login': pageLogin,
    '/setup': pageSetup,
    '/invite': pageInvite,
}, ['/login', '/setup', '/invite']);

// An expired session anywhere but at the login form: back to the login form, then to this page.
onSessionEnd(() => {
    state.me = null;
    state.afterLogin = location.hash;
    showHeader();
    go('/login', null, 'Your session has ended. Please sign in again.');
});

async function boot() {
    $('#logout').addEventListener('click', logout);
    $('#banner-close').addEventListener('click', hideBanner);
    initMenu();
    window.addEventListener('hashchange', route);
    if (!['/setup', '/invite'].includes(parseHash().path)) {
        try {
            state.me = await api('GET', '/api/me');
        } catch (e) {
            if (e.status !== 401) showBanner(e.message);
        }
    }
    showHeader();
    route();
}

boot();
