// state.js: what the panel remembers between pages (one object, shared by every module).

export const state = {
    me: null,          // GET /api/me once signed in: {admin, role, channels, totp, csrf_token}
    page: null,        // the live page context: {alive, timers, leaving, later, onLeave}
    lastJobId: null,   // the decision job shown on the Invite Requests page
    lastLoadJobId: null, // the load job shown on the Sessions page
    afterLogin: null,  // the hash to return to after signing in
    flash: null,       // [message, kind] to show on the next page rendered
};

// The roles, lowest first (docs/api.md, Roles): what the panel shows follows them; the API
// enforces them.
export const ROLES = ['viewer', 'decider', 'owner'];
export const roleAtLeast = (role, least) => ROLES.indexOf(role) >= ROLES.indexOf(least);
// Whether the signed-in admin's role is at least `least`.
export const can = (least) => !!state.me && roleAtLeast(state.me.role, least);
