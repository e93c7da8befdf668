#include "core/common.h"
#include "sim/world.h"

#include "sim/invites.h"
#include "sim/updates.h"

#include <ctype.h>
#include <sodium.h>
#include "core/buf.h"

static const char *const sim_err_strings[] = {
#define SIM_ERR_STR(name, botapi, rpc) botapi,
    SIM_ERR_MAP(SIM_ERR_STR)
#undef SIM_ERR_STR
};

const char *sim_err_botapi(sim_err e)
{
    return (size_t)e < DM_ARRAY_LEN(sim_err_strings) ? sim_err_strings[e] : "unknown error";
}

static const char *const sim_err_rpc_names[] = {
#define SIM_ERR_RPC(name, botapi, rpc) rpc,
    SIM_ERR_MAP(SIM_ERR_RPC)
#undef SIM_ERR_RPC
};

const char *sim_err_rpc(sim_err e)
{
    return (size_t)e < DM_ARRAY_LEN(sim_err_rpc_names) ? sim_err_rpc_names[e]
                                                       : "INTERNAL_SERVER_ERROR";
}

static const char *const status_names[] = {"pending", "approved", "declined"};

const char *jr_status_name(enum jr_status s)
{
    return (size_t)s < DM_ARRAY_LEN(status_names) ? status_names[s] : "unknown";
}

int jr_status_parse(const char *s)
{
    for (size_t i = 0; i < DM_ARRAY_LEN(status_names); i++)
        if (s && strcmp(s, status_names[i]) == 0) return (int)i;
    return -1;
}

int64_t world_now(void)
{
    return (int64_t)time(NULL);
}

int64_t world_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double world_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t world_rand(struct world *w)
{
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* world_access_hash()'s key: BLAKE2b of a label and the seed, apart from the id generator. */
static void hash_key_of(uint64_t seed, uint8_t key[crypto_shorthash_KEYBYTES])
{
    static const char label[] = "tgsim access_hash key";
    uint8_t in[sizeof label + 8];
    memcpy(in, label, sizeof label);
    for (int i = 0; i < 8; i++)
        in[sizeof label + i] = (uint8_t)(seed >> (8 * i));
    crypto_generichash(key, crypto_shorthash_KEYBYTES, in, sizeof in, NULL, 0);
}

int64_t world_access_hash(const struct world *w, int64_t account, enum world_hash_kind kind,
                          int64_t id)
{
    uint8_t in[17], out[crypto_shorthash_BYTES];
    for (int i = 0; i < 8; i++) {
        in[i] = (uint8_t)((uint64_t)account >> (8 * i));
        in[9 + i] = (uint8_t)((uint64_t)id >> (8 * i));
    }
    in[8] = (uint8_t)kind;
    crypto_shorthash(out, in, sizeof in, w->hash_key);
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h |= (uint64_t)out[i] << (8 * i);
    return (int64_t)h;
}

dm_err world_new(uint64_t seed, struct world **out)
{
    struct world *w = calloc(1, sizeof *w);
    if (!w) return DM_ENOMEM;
    pthread_mutex_init(&w->lock, NULL);
    w->rng = seed;
    hash_key_of(seed, w->hash_key);
    idmap_init(&w->user_index);
    idmap_init(&w->cas_index);
    idmap_init(&w->queries);
    /* ids look like Telegram's but depend on the seed only */
    w->next_user_id = 1000000000 + (int64_t)(world_rand(w) % 1000000) * 1000;
    w->next_channel_seq = 1000000000 + (int64_t)(world_rand(w) % 1000000) * 1000;
    *out = w;
    return DM_OK;
}

static void bot_free(struct sim_bot *b)
{
    pthread_cond_destroy(&b->cond);
    for (size_t i = b->qhead; i < b->qend; i++)
        json_decref(b->q[i].payload);
    free(b->q);
    json_decref(b->allowed_updates);
    sim_upd_release(&b->upd);
    free(b->webhook_url);
    free(b->webhook_secret);
    for (size_t i = 0; i < b->nmsgs; i++)
        json_decref(b->msgs[i].params);
    free(b->msgs);
    for (size_t i = 0; i < b->ncallbacks; i++)
        free(b->callbacks[i].answer_text);
    free(b->callbacks);
    idmap_release(&b->started);
    free(b);
}

static void channel_free(struct sim_channel *ch)
{
    free(ch->title);
    free(ch->username);
    free(ch->admins);
    idmap_release(&ch->members);
    idmap_release(&ch->requests);
    idmap_release(&ch->bans);
    world_invites_free(ch);
    free(ch);
}

void world_free(struct world *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->nusers; i++) {
        struct sim_user *u = &w->users[i];
        free(u->first_name);
        free(u->last_name);
        free(u->username);
        free(u->bio);
        free(u->language_code);
    }
    free(w->users);
    idmap_release(&w->user_index);
    for (size_t i = 0; i < w->nbots; i++)
        bot_free(w->bots[i]);
    free(w->bots);
    for (size_t i = 0; i < w->nchannels; i++)
        channel_free(w->channels[i]);
    free(w->channels);
    for (size_t i = 0; i < w->njrs; i++) {
        free(w->jrs[i].invite_link);
        free(w->jrs[i].web_app_url);
    }
    free(w->jrs);
    idmap_release(&w->queries);
    free(w->bans);
    for (size_t i = 0; i < w->ncas; i++)
        free(w->cas[i].message);
    free(w->cas);
    idmap_release(&w->cas_index);
    for (size_t i = 0; i < w->naccounts; i++) {
        struct sim_account *a = w->accounts[i];
        for (size_t m = 0; m < a->ninbox; m++)
            free(a->inbox[m].text);
        free(a->inbox);
        free(a->password);
        json_decref(a->service_answers);
        sim_upd_release(&a->upd);
        free(a);
    }
    free(w->accounts);
    json_decref(w->dcs);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

void world_lock(struct world *w)
{
    pthread_mutex_lock(&w->lock);
}

void world_unlock(struct world *w)
{
    pthread_mutex_unlock(&w->lock);
}

void world_stop(struct world *w)
{
    world_lock(w);
    __atomic_store_n(&w->stopping, true, __ATOMIC_RELAXED); /* read unlocked by webhook transfers */
    for (size_t i = 0; i < w->nbots; i++)
        pthread_cond_broadcast(&w->bots[i]->cond);
    world_unlock(w);
}

/* Grows an array of elements of size `sz` so that one more fits, up to `max` elements. */
static dm_err reserve(void **arr, size_t *alloc, size_t len, size_t extra, size_t sz, size_t max)
{
    if (extra > max || len > max - extra) return DM_ETOOBIG;
    if (len + extra <= *alloc) return DM_OK;
    size_t n = *alloc ? *alloc : 16;
    while (n < len + extra)
        n *= 2;
    void *p = realloc(*arr, n * sz);
    if (!p) return DM_ENOMEM;
    *arr = p;
    *alloc = n;
    return DM_OK;
}

/* --- validation -------------------------------------------------------------------------- */

/* Telegram's limits count characters (Unicode code points), not bytes: a 128-character title
 * of CJK is 384 bytes, of emoji 512. The text must be UTF-8 without control characters (a
 * newline is allowed). */
bool world_text_ok(const char *s, size_t min, size_t max)
{
    if (!s) return min == 0;
    size_t n = strlen(s);
    char check[4 * 256 + 1]; /* longer than any limit below allows */
    if (n >= sizeof check || dm_utf8_copy(check, sizeof check, s) != n) return false;
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && c != '\n') return false;
        if ((c & 0xC0) != 0x80) chars++;
    }
    return chars >= min && chars <= max;
}

static bool valid_username(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 32) return false;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == '_' || (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= 'A' && s[i] <= 'Z')))
            return false;
    return true;
}

static bool username_taken(struct world *w, const char *name)
{
    for (size_t i = 0; i < w->nchannels; i++)
        if (w->channels[i]->username && strcasecmp(w->channels[i]->username, name) == 0)
            return true;
    for (size_t i = 0; i < w->nusers; i++)
        if (w->users[i].username && strcasecmp(w->users[i].username, name) == 0) return true;
    return false;
}

static dm_err check_username(struct world *w, const char *name, struct dm_error *err)
{
    if (!name) return DM_OK;
    if (!valid_username(name))
        return dm_fail(err, DM_EINVAL,
                       "username must be 1 to 32 characters of A-Z, a-z, 0-9 and _");
    if (username_taken(w, name)) return dm_fail(err, DM_EEXISTS, "username @%s is taken", name);
    return DM_OK;
}

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) *oom = true;
    return d;
}

/* --- users ------------------------------------------------------------------------------- */

/* Appends a user without validation; the caller reserved room. */
static dm_err user_push(struct world *w, int64_t id, bool is_bot, const char *first,
                        const char *last, const char *username, const char *bio)
{
    bool oom = false;
    struct sim_user u = {
        .id = id,
        .is_bot = is_bot,
        .first_name = dup_or_null(first, &oom),
        .last_name = dup_or_null(last, &oom),
        .username = dup_or_null(username, &oom),
        .bio = dup_or_null(bio, &oom),
    };
    if (oom || idmap_put(&w->user_index, id, (uint32_t)w->nusers) != DM_OK) {
        free(u.first_name);
        free(u.last_name);
        free(u.username);
        free(u.bio);
        return DM_ENOMEM;
    }
    w->users[w->nusers++] = u;
    return DM_OK;
}

static int64_t next_free_user_id(struct world *w)
{
    while (idmap_get(&w->user_index, w->next_user_id, NULL))
        w->next_user_id++;
    return w->next_user_id++;
}

static dm_err check_person(struct world *w, const char *first, const char *last,
                           const char *username, const char *bio, struct dm_error *err)
{
    if (!world_text_ok(first, 1, SIM_NAME_MAX))
        return dm_fail(err, DM_EINVAL,
                       "first_name must be 1 to %d characters of UTF-8 without control characters",
                       SIM_NAME_MAX);
    if (!world_text_ok(last, 0, SIM_NAME_MAX))
        return dm_fail(err, DM_EINVAL,
                       "last_name must be at most %d characters of UTF-8 without control "
                       "characters",
                       SIM_NAME_MAX);
    if (!world_text_ok(bio, 0, SIM_BIO_MAX))
        return dm_fail(err, DM_EINVAL,
                       "bio must be at most %d characters of UTF-8 without control characters",
                       SIM_BIO_MAX);
    return check_username(w, username, err);
}

dm_err world_user_add(struct world *w, const char *first_name, const char *last_name,
                      const char *username, const char *bio, int64_t *id_out, struct dm_error *err)
{
    dm_err e = check_person(w, first_name, last_name, username, bio, err);
    if (e) return e;
    e = reserve((void **)&w->users, &w->users_alloc, w->nusers, 1, sizeof *w->users, SIM_MAX_USERS);
    if (e) return dm_fail(err, e, "cannot add a user: %s", dm_strerror(e));
    int64_t id = next_free_user_id(w);
    e = user_push(w, id, false, first_name, last_name, username, bio);
    if (e) return dm_fail(err, e, "out of memory");
    *id_out = id;
    return DM_OK;
}

bool world_language_code_ok(const char *language_code, struct dm_error *err)
{
    size_t len = language_code ? strlen(language_code) : 2;
    bool ok = len >= 2 && len <= 35;
    for (size_t i = 0; ok && language_code && i < len; i++)
        ok = isalnum((unsigned char)language_code[i]) || language_code[i] == '-';
    if (!ok)
        dm_fail(err, DM_EINVAL,
                "language_code must be an IETF language tag: 2 to 35 of A-Z a-z 0-9 -");
    return ok;
}

dm_err world_user_set_traits(struct world *w, int64_t id, bool is_premium,
                             const char *language_code, bool is_scam, bool is_fake, bool has_photo,
                             struct dm_error *err)
{
    struct sim_user *u = world_user(w, id);
    if (!u) return dm_fail(err, DM_ENOTFOUND, "no user with id %" PRId64, id);
    if (!world_language_code_ok(language_code, err)) return DM_EINVAL;
    char *lang = NULL;
    if (language_code && !(lang = strdup(language_code)))
        return dm_fail(err, DM_ENOMEM, "out of memory");
    free(u->language_code);
    u->language_code = lang;
    u->is_premium = is_premium;
    u->is_scam = is_scam;
    u->is_fake = is_fake;
    u->has_photo = has_photo;
    return DM_OK;
}

struct sim_user *world_user(struct world *w, int64_t id)
{
    uint32_t i;
    return idmap_get(&w->user_index, id, &i) ? &w->users[i] : NULL;
}

/* --- bots -------------------------------------------------------------------------------- */

static bool valid_token(const char *t)
{
    size_t n = strlen(t);
    if (n < 1 || n > SIM_TOKEN_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!(t[i] == ':' || t[i] == '_' || t[i] == '-' || (t[i] >= '0' && t[i] <= '9') ||
              (t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z')))
            return false;
    return true;
}

/* The id a token names ("123:abc" -> 123), or 0. */
static int64_t token_id(const char *t)
{
    char *end;
    errno = 0;
    long long v = strtoll(t, &end, 10);
    if (errno || end == t || *end != ':' || v <= 0 || !(t[0] >= '0' && t[0] <= '9')) return 0;
    return v;
}

dm_err world_bot_add(struct world *w, const char *username, const char *first_name,
                     const char *token, struct sim_bot **out, struct dm_error *err)
{
    if (!username) return dm_fail(err, DM_EINVAL, "a bot needs a username");
    dm_err e = check_person(w, first_name, NULL, username, NULL, err);
    if (e) return e;
    if (token && !valid_token(token))
        return dm_fail(err, DM_EINVAL,
                       "token must be 1 to 128 characters of A-Z, a-z, 0-9, ':', '_' and '-'");
    if (token && world_bot_by_token(w, token))
        return dm_fail(err, DM_EEXISTS, "that token is in use");
    if (w->nbots >= SIM_MAX_BOTS)
        return dm_fail(err, DM_ETOOBIG, "too many bots (at most %u)", SIM_MAX_BOTS);
    e = reserve((void **)&w->users, &w->users_alloc, w->nusers, 1, sizeof *w->users, SIM_MAX_USERS);
    if (e) return dm_fail(err, e, "cannot add a bot: %s", dm_strerror(e));
    struct sim_bot **bots = realloc(w->bots, (w->nbots + 1) * sizeof *bots);
    if (!bots) return dm_fail(err, DM_ENOMEM, "out of memory");
    w->bots = bots;
    struct sim_bot *b = calloc(1, sizeof *b);
    if (!b) return dm_fail(err, DM_ENOMEM, "out of memory");

    int64_t id = token ? token_id(token) : 0;
    if (!id || world_user(w, id)) id = next_free_user_id(w);
    if (token) {
        dm_strlcpy(b->token, token, sizeof b->token);
    } else {
        static const char alphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
        int n = snprintf(b->token, sizeof b->token, "%" PRId64 ":AA", id);
        for (int i = 0; i < 33; i++)
            b->token[n + i] = alphabet[world_rand(w) % 64];
        b->token[n + 33] = 0;
    }
    if (user_push(w, id, true, first_name, NULL, username, NULL) != DM_OK) {
        free(b);
        return dm_fail(err, DM_ENOMEM, "out of memory");
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cond, &ca);
    pthread_condattr_destroy(&ca);
    b->id = id;
    b->next_update_id = 100000000 + (int64_t)(world_rand(w) % 800000000);
    b->allowed_mask = UPD_DEFAULT_MASK;
    b->next_message_id = 1;
    idmap_init(&b->started);
    b->bucket.tokens = w->rate_limit;
    b->bucket.last = world_mono();
    w->bots[w->nbots++] = b;
    *out = b;
    return DM_OK;
}

struct sim_bot *world_bot_by_token(struct world *w, const char *token)
{
    for (size_t i = 0; i < w->nbots; i++)
        if (strcmp(w->bots[i]->token, token) == 0) return w->bots[i];
    return NULL;
}

struct sim_bot *world_bot_by_id(struct world *w, int64_t id)
{
    for (size_t i = 0; i < w->nbots; i++)
        if (w->bots[i]->id == id) return w->bots[i];
    return NULL;
}

/* --- channels ---------------------------------------------------------------------------- */

dm_err world_channel_add(struct world *w, const char *title, const char *username,
                         struct sim_channel **out, struct dm_error *err)
{
    if (!world_text_ok(title, 1, SIM_TITLE_MAX))
        return dm_fail(err, DM_EINVAL,
                       "title must be 1 to %d characters of UTF-8 without control characters",
                       SIM_TITLE_MAX);
    dm_err e = check_username(w, username, err);
    if (e) return e;
    if (w->nchannels >= SIM_MAX_CHANNELS)
        return dm_fail(err, DM_ETOOBIG, "too many channels (at most %u)", SIM_MAX_CHANNELS);
    struct sim_channel **chs = realloc(w->channels, (w->nchannels + 1) * sizeof *chs);
    if (!chs) return dm_fail(err, DM_ENOMEM, "out of memory");
    w->channels = chs;
    struct sim_channel *ch = calloc(1, sizeof *ch);
    bool oom = !ch;
    if (ch) {
        ch->title = dup_or_null(title, &oom);
        ch->username = dup_or_null(username, &oom);
    }
    if (oom) {
        if (ch) channel_free(ch);
        return dm_fail(err, DM_ENOMEM, "out of memory");
    }
    idmap_init(&ch->members);
    idmap_init(&ch->requests);
    idmap_init(&ch->bans);
    ch->id = -(1000000000000LL + w->next_channel_seq++);
    w->channels[w->nchannels++] = ch;
    *out = ch;
    return DM_OK;
}

struct sim_channel *world_channel(struct world *w, int64_t id)
{
    for (size_t i = 0; i < w->nchannels; i++)
        if (w->channels[i]->id == id) return w->channels[i];
    return NULL;
}

struct sim_channel *world_channel_by_username(struct world *w, const char *name)
{
    for (size_t i = 0; i < w->nchannels; i++)
        if (w->channels[i]->username && strcasecmp(w->channels[i]->username, name) == 0)
            return w->channels[i];
    return NULL;
}

const struct sim_admin *world_channel_admin(const struct sim_channel *ch, int64_t id)
{
    for (size_t i = 0; i < ch->nadmins; i++)
        if (ch->admins[i].id == id) return &ch->admins[i];
    return NULL;
}

dm_err world_channel_set_admin(struct world *w, struct sim_channel *ch, int64_t id,
                               bool can_invite_users, bool can_restrict_members,
                               struct dm_error *err)
{
    if (!world_user(w, id))
        return dm_fail(err, DM_ENOTFOUND, "no user or bot with id %" PRId64, id);
    struct sim_admin rights = {.id = id,
                               .can_invite_users = can_invite_users,
                               .can_restrict_members = can_restrict_members};
    for (size_t i = 0; i < ch->nadmins; i++)
        if (ch->admins[i].id == id) {
            ch->admins[i] = rights;
            return DM_OK;
        }
    if (ch->nadmins >= SIM_MAX_ADMINS)
        return dm_fail(err, DM_ETOOBIG, "too many admins (at most %u)", SIM_MAX_ADMINS);
    struct sim_admin *a = realloc(ch->admins, (ch->nadmins + 1) * sizeof *a);
    if (!a) return dm_fail(err, DM_ENOMEM, "out of memory");
    ch->admins = a;
    ch->admins[ch->nadmins++] = rights;
    return DM_OK;
}

/* Makes user_id a member (again); DM_ENOMEM leaves everything as it was. */
static dm_err member_put(struct sim_channel *ch, int64_t user_id)
{
    uint32_t v;
    bool known = idmap_get(&ch->members, user_id, &v);
    if (known && v == 1) return DM_OK;
    if (idmap_put(&ch->members, user_id, 1) != DM_OK) return DM_ENOMEM;
    if (known) ch->nleft--;
    return DM_OK;
}

/* user_id leaves (no removal from the map: its value becomes 0). */
static void member_drop(struct sim_channel *ch, int64_t user_id)
{
    if (!world_is_member(ch, user_id)) return;
    idmap_put(&ch->members, user_id, 0); /* replaces: no allocation */
    ch->nleft++;
}

size_t world_member_count(const struct sim_channel *ch)
{
    return ch->members.len - ch->nleft;
}

dm_err world_channel_add_member(struct world *w, struct sim_channel *ch, int64_t user_id,
                                struct dm_error *err)
{
    if (!world_user(w, user_id))
        return dm_fail(err, DM_ENOTFOUND, "no user with id %" PRId64, user_id);
    if (world_is_banned(w, ch, user_id))
        return dm_fail(err, DM_EINVAL, "user %" PRId64 " is banned in the channel", user_id);
    if (member_put(ch, user_id) != DM_OK) return dm_fail(err, DM_ENOMEM, "out of memory");
    return DM_OK;
}

bool world_is_member(const struct sim_channel *ch, int64_t user_id)
{
    uint32_t v;
    return idmap_get(&ch->members, user_id, &v) && v == 1;
}

/* --- update queues ----------------------------------------------------------------------- */

/* Forgets the updates q[from..to) (their payloads). */
static void queue_drop(struct sim_bot *b, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        json_decref(b->q[i].payload);
        b->q[i].payload = NULL;
    }
}

/* Queues an update; payload (owned, may be NULL) goes with it, or is freed when the bot does not
 * take this kind. */
static void queue_push(struct sim_bot *b, enum upd_kind kind, uint32_t ref, bool query,
                       json_t *payload)
{
    if (!(b->allowed_mask & (1u << kind))) {
        json_decref(payload);
        return;
    }
    if (b->qend - b->qhead >= SIM_MAX_QUEUE) { /* forget the oldest */
        queue_drop(b, b->qhead, b->qhead + 1);
        b->qhead++;
    }
    if (b->qend == b->qalloc && b->qhead > 0) { /* compact before growing */
        memmove(b->q, b->q + b->qhead, (b->qend - b->qhead) * sizeof *b->q);
        b->qend -= b->qhead;
        b->qhead = 0;
    }
    if (reserve((void **)&b->q, &b->qalloc, b->qend, 1, sizeof *b->q, SIM_MAX_QUEUE + 1) != DM_OK) {
        json_decref(payload);
        return; /* out of memory: the update is lost, as Telegram may lose one */
    }
    b->q[b->qend++] = (struct sim_update){.id = b->next_update_id++,
                                          .payload = payload,
                                          .ref = ref,
                                          .kind = (uint8_t)kind,
                                          .query = query};
    pthread_cond_broadcast(&b->cond);
}

/* Queues an update about channel ch for every bot admin with can_invite_users; the guard bot's
 * carries the request's query (query_to: the guard bot's id, 0 for none). */
static void announce(struct world *w, const struct sim_channel *ch, enum upd_kind kind,
                     uint32_t ref, int64_t query_to)
{
    for (size_t i = 0; i < ch->nadmins; i++) {
        if (!ch->admins[i].can_invite_users) continue;
        struct sim_bot *b = world_bot_by_id(w, ch->admins[i].id);
        if (b) queue_push(b, kind, ref, query_to && b->id == query_to, NULL);
    }
}

void world_bot_confirm(struct sim_bot *b, int64_t offset)
{
    if (offset > 0) {
        while (b->qhead < b->qend && b->q[b->qhead].id < offset) {
            queue_drop(b, b->qhead, b->qhead + 1);
            b->qhead++;
        }
    } else if (offset < 0) {
        size_t keep = (size_t)(offset == INT64_MIN ? INT64_MAX : -offset);
        if (b->qend - b->qhead > keep) {
            queue_drop(b, b->qhead, b->qend - keep);
            b->qhead = b->qend - keep;
        }
    }
    if (b->qhead == b->qend) b->qhead = b->qend = 0;
}

size_t world_bot_pending(const struct sim_bot *b)
{
    return b->qend - b->qhead;
}

void world_bot_drop_pending(struct sim_bot *b)
{
    queue_drop(b, b->qhead, b->qend);
    b->qhead = b->qend = 0;
}

void world_bot_wait(struct world *w, struct sim_bot *b, const struct timespec *deadline)
{
    pthread_cond_timedwait(&b->cond, &w->lock, deadline);
}

static const char *const update_kind_names[UPD_KIND_COUNT] = {"chat_join_request", "callback_query",
                                                              "message"};

void world_bot_set_allowed(struct sim_bot *b, json_t *allowed)
{
    json_decref(b->allowed_updates);
    b->allowed_updates = NULL;
    b->allowed_mask = UPD_DEFAULT_MASK;
    if (!json_is_array(allowed) || json_array_size(allowed) == 0) return;
    b->allowed_updates = json_deep_copy(allowed);
    b->allowed_mask = 0;
    size_t i;
    json_t *v;
    json_array_foreach(allowed, i, v)
    {
        for (size_t k = 0; k < DM_ARRAY_LEN(update_kind_names); k++)
            if (json_is_string(v) && strcmp(json_string_value(v), update_kind_names[k]) == 0)
                b->allowed_mask |= 1u << k;
    }
}

/* --- join requests ----------------------------------------------------------------------- */

bool world_bot_may_write(struct world *w, const struct sim_bot *b, int64_t user_id)
{
    int64_t since = world_now() - SIM_USER_CHAT_WINDOW;
    uint32_t started;
    if (idmap_get(&b->started, user_id, &started)) return true;
    for (size_t i = 0; i < w->nchannels; i++) {
        const struct sim_channel *ch = w->channels[i];
        if (!world_channel_admin(ch, b->id)) continue;
        const struct sim_join_request *jr = world_jr_latest(w, ch, user_id);
        if (jr && jr->status == JR_PENDING && jr->date >= since) return true;
    }
    return false;
}

struct sim_join_request *world_jr_latest(struct world *w, const struct sim_channel *ch,
                                         int64_t user_id)
{
    uint32_t i;
    return idmap_get(&ch->requests, user_id, &i) ? &w->jrs[i] : NULL;
}

/* Appends a pending request and announces it when asked; the caller checked everything and reserved
 * room. A request Telegram announces while the channel has a guard bot (an admin that may
 * invite) is a query to that bot. */
static dm_err jr_push(struct world *w, struct sim_channel *ch, int64_t user_id, int64_t date,
                      const char *invite_link, bool announce_it)
{
    const struct sim_admin *guard = ch->guard_bot ? world_channel_admin(ch, ch->guard_bot) : NULL;
    bool query = announce_it && guard && guard->can_invite_users;
    uint64_t query_id = 0;
    while (query && (query_id == 0 || idmap_get(&w->queries, (int64_t)query_id, NULL)))
        query_id = world_rand(w) >> 1; /* as Telegram's: positive 63-bit numbers, unique */
    /* first the query's map: should the next put fail, it keeps an id nobody was given */
    if (query && idmap_put(&w->queries, (int64_t)query_id, (uint32_t)w->njrs) != DM_OK)
        return DM_ENOMEM;
    bool oom = false;
    char *link = dup_or_null(invite_link, &oom);
    if (oom || idmap_put(&ch->requests, user_id, (uint32_t)w->njrs) != DM_OK) {
        free(link);
        return DM_ENOMEM;
    }
    int64_t now_ms = world_now_ms();
    w->jrs[w->njrs] = (struct sim_join_request){
        .chat_id = ch->id,
        .user_id = user_id,
        .date = date ? date : world_now(),
        .invite_link = link,
        .status = JR_PENDING,
        .asked_ms = now_ms,
        .query_id = query_id,
        .query_state = query ? JQ_OPEN : JQ_NONE,
        .query_deadline_ms = query ? now_ms + SIM_QUERY_DEADLINE_MS : 0,
    };
    if (announce_it) {
        announce(w, ch, UPD_CHAT_JOIN_REQUEST, (uint32_t)w->njrs, query ? ch->guard_bot : 0);
        sim_upd_bot_requester(w, ch, w->njrs);
    }
    w->njrs++;
    ch->npending++;
    return DM_OK;
}

dm_err world_jr_add(struct world *w, struct sim_channel *ch, int64_t user_id, int64_t date,
                    const char *invite_link, bool announce_it, struct dm_error *err)
{
    struct sim_user *u = world_user(w, user_id);
    if (!u) return dm_fail(err, DM_ENOTFOUND, "no user with id %" PRId64, user_id);
    if (u->is_bot) return dm_fail(err, DM_EINVAL, "bots cannot ask to join");
    if (world_is_member(ch, user_id))
        return dm_fail(err, DM_EEXISTS, "user %" PRId64 " is already a member", user_id);
    /* Telegram refuses a banned user's join (the channel is private to them): no request */
    if (world_is_banned(w, ch, user_id))
        return dm_fail(
            err, DM_EINVAL,
            "user %" PRId64 " is banned in the channel: a banned user cannot ask to join", user_id);
    struct sim_join_request *prev = world_jr_latest(w, ch, user_id);
    if (prev && prev->status == JR_PENDING)
        return dm_fail(err, DM_EEXISTS, "user %" PRId64 " already has a pending request", user_id);
    if (invite_link && !world_text_ok(invite_link, 1, 256))
        return dm_fail(err, DM_EINVAL, "invite_link must be 1 to 256 bytes");
    dm_err e =
        reserve((void **)&w->jrs, &w->jrs_alloc, w->njrs, 1, sizeof *w->jrs, SIM_MAX_JOIN_REQUESTS);
    if (!e) e = jr_push(w, ch, user_id, date, invite_link, announce_it);
    if (e) return dm_fail(err, e, "cannot add a join request: %s", dm_strerror(e));
    if (announce_it) sim_upd_pending_changed(w, ch, user_id);
    return DM_OK;
}

dm_err world_jr_add_many(struct world *w, struct sim_channel *ch, size_t count,
                         const char *first_name, const char *bio, const char *invite_link,
                         int64_t date, int64_t spread_seconds, bool announce_it, int64_t *first_id,
                         struct dm_error *err)
{
    dm_err e = check_person(w, first_name, NULL, NULL, bio, err);
    if (e) return e;
    if (invite_link && !world_text_ok(invite_link, 1, 256))
        return dm_fail(err, DM_EINVAL, "invite_link must be 1 to 256 bytes");
    if (spread_seconds < 0 || spread_seconds > 86400 * 366)
        return dm_fail(err, DM_EINVAL, "spread_seconds must be 0 to 31622400");
    e = reserve((void **)&w->users, &w->users_alloc, w->nusers, count, sizeof *w->users,
                SIM_MAX_USERS);
    if (!e)
        e = reserve((void **)&w->jrs, &w->jrs_alloc, w->njrs, count, sizeof *w->jrs,
                    SIM_MAX_JOIN_REQUESTS);
    if (e) return dm_fail(err, e, "cannot add %zu join requests: %s", count, dm_strerror(e));
    /* consecutive ids: skip past every id in use */
    int64_t start = w->next_user_id;
    for (int64_t id = start; id < start + (int64_t)count; id++)
        if (world_user(w, id)) start = id + 1;
    w->next_user_id = start;
    if (!date) date = world_now();
    for (size_t i = 0; i < count; i++) {
        int64_t id = next_free_user_id(w);
        int64_t at = date;
        if (spread_seconds)
            at = date - spread_seconds +
                 (count > 1 ? spread_seconds * (int64_t)i / (int64_t)(count - 1) : spread_seconds);
        e = user_push(w, id, false, first_name, NULL, NULL, bio);
        if (!e) e = jr_push(w, ch, id, at, invite_link, announce_it);
        if (e) return dm_fail(err, e, "out of memory after %zu join requests", i);
    }
    /* one update for the batch, naming its last requesters, as Telegram coalesces them */
    for (size_t i = count > SIM_RECENT_MAX ? count - SIM_RECENT_MAX : 0; announce_it && i < count;
         i++)
        ch->recent[ch->nrecent++ % SIM_RECENT_MAX] = start + (int64_t)i;
    if (announce_it && count) sim_upd_pending_changed(w, ch, 0);
    *first_id = start;
    return DM_OK;
}

/* world_jr_decide, counting the call in approve_calls / decline_calls when `counted` (an
 * approve or decline call; an answer to a query counts in the query's calls instead). */
static sim_err jr_decide(struct world *w, int64_t chat_id, int64_t user_id, bool approve,
                         int64_t actor_id, bool counted)
{
    struct sim_channel *ch = world_channel(w, chat_id);
    if (!ch) return SIM_CHAT_NOT_FOUND;
    const struct sim_admin *a = world_channel_admin(ch, actor_id);
    if (!a || !a->can_invite_users) return SIM_ADMIN_REQUIRED;
    struct sim_join_request *jr = world_jr_latest(w, ch, user_id);
    if (jr && counted) {
        if (approve)
            jr->approve_calls++;
        else
            jr->decline_calls++;
    }
    if (!jr || jr->status != JR_PENDING) return SIM_REQUESTER_MISSING;
    if (approve && world_is_member(ch, user_id)) return SIM_ALREADY_PARTICIPANT;
    if (approve && member_put(ch, user_id) != DM_OK)
        return SIM_REQUESTER_MISSING; /* out of memory: nothing changed */
    jr->status = approve ? JR_APPROVED : JR_DECLINED;
    jr->decided_by = actor_id;
    jr->decided_at = world_now();
    jr->decided_ms = world_now_ms();
    jr->decisions++;
    if (approve) jr->log_id = ++w->next_log_id;
    ch->npending--;
    sim_upd_pending_changed(w, ch, 0);
    return SIM_OK;
}

sim_err world_jr_decide(struct world *w, int64_t chat_id, int64_t user_id, bool approve,
                        int64_t actor_id)
{
    return jr_decide(w, chat_id, user_id, approve, actor_id, true);
}

/* --- join-request queries ---------------------------------------------------------------- */

const char *jq_state_name(const struct sim_join_request *jr, int64_t now_ms)
{
    switch ((enum jq_state)jr->query_state) {
    case JQ_NONE:
        return "none";
    case JQ_OPEN:
        return now_ms > jr->query_deadline_ms ? "expired" : "open";
    case JQ_WEB_APP:
        return "web_app";
    case JQ_APPROVED:
        return "approve";
    case JQ_DECLINED:
        return "decline";
    case JQ_QUEUED:
        return "queue";
    }
    return "none";
}

dm_err world_guard_set(struct world *w, struct sim_channel *ch, int64_t bot_id,
                       struct dm_error *err)
{
    if (bot_id) {
        struct sim_bot *b = world_bot_by_id(w, bot_id);
        if (!b) return dm_fail(err, DM_EINVAL, "no bot with id %" PRId64, bot_id);
        if (!b->supports_join_request_queries)
            return dm_fail(err, DM_EINVAL,
                           "bot %" PRId64 " does not support join request queries (set "
                           "supports_join_request_queries on the bot first)",
                           bot_id);
        const struct sim_admin *a = world_channel_admin(ch, bot_id);
        if (!a || !a->can_invite_users)
            return dm_fail(err, DM_EINVAL,
                           "bot %" PRId64 " must be an admin of the channel with can_invite_users",
                           bot_id);
    }
    ch->guard_bot = bot_id;
    return DM_OK;
}

void world_bot_set_queries(struct world *w, struct sim_bot *b, bool on)
{
    b->supports_join_request_queries = on;
    for (size_t i = 0; !on && i < w->nchannels; i++)
        if (w->channels[i]->guard_bot == b->id) w->channels[i]->guard_bot = 0;
}

/* The request of a query that bot b may still act on, or NULL (SIM_QUERY_INVALID). Counts the
 * call in a known query. */
static struct sim_join_request *query_of(struct world *w, const struct sim_bot *b,
                                         uint64_t query_id)
{
    uint32_t i;
    if (!query_id || !idmap_get(&w->queries, (int64_t)query_id, &i) || i >= w->njrs) return NULL;
    struct sim_join_request *jr = &w->jrs[i];
    if (jr->query_id != query_id) return NULL;
    if (jr->query_answer_calls < UINT16_MAX) jr->query_answer_calls++;
    struct sim_channel *ch = world_channel(w, jr->chat_id);
    if (!ch || ch->guard_bot != b->id || jr->status != JR_PENDING) return NULL;
    bool open = jr->query_state == JQ_OPEN && world_now_ms() <= jr->query_deadline_ms;
    return open || jr->query_state == JQ_WEB_APP ? jr : NULL;
}

sim_err world_jr_query_answer(struct world *w, const struct sim_bot *b, uint64_t query_id,
                              const char *result)
{
    struct sim_join_request *jr = query_of(w, b, query_id);
    if (!jr) return SIM_QUERY_INVALID;
    sim_err e = SIM_OK;
    if (strcmp(result, "queue") != 0)
        e = jr_decide(w, jr->chat_id, jr->user_id, strcmp(result, "approve") == 0, b->id, false);
    if (e == SIM_OK) {
        jr->query_state = strcmp(result, "approve") == 0   ? JQ_APPROVED
                          : strcmp(result, "decline") == 0 ? JQ_DECLINED
                                                           : JQ_QUEUED;
        jr->query_answered_ms = world_now_ms();
    }
    return e;
}

sim_err world_jr_query_web_app(struct world *w, const struct sim_bot *b, uint64_t query_id,
                               const char *url)
{
    struct sim_join_request *jr = query_of(w, b, query_id);
    if (!jr || jr->query_state != JQ_OPEN) return SIM_QUERY_INVALID;
    char *copy = strdup(url);
    if (!copy) return SIM_QUERY_INVALID; /* out of memory: as if nothing was asked */
    free(jr->web_app_url);
    jr->web_app_url = copy;
    jr->query_state = JQ_WEB_APP;
    jr->query_answered_ms = world_now_ms();
    return SIM_OK;
}

/* --- bans ------------------------------------------------------------------------------- */

struct sim_ban *world_ban_record(struct world *w, const struct sim_channel *ch, int64_t user_id)
{
    uint32_t i;
    return idmap_get(&ch->bans, user_id, &i) ? &w->bans[i] : NULL;
}

bool world_is_banned(struct world *w, const struct sim_channel *ch, int64_t user_id)
{
    const struct sim_ban *b = world_ban_record(w, ch, user_id);
    return b && b->active && (b->until_date == 0 || b->until_date > world_now());
}

/* The checks both calls share; on SIM_OK *out is the (channel, user) record, made if needed
 * (NULL when out of memory: the caller answers as if nothing was asked). */
static sim_err ban_target(struct world *w, int64_t chat_id, int64_t user_id, int64_t actor_id,
                          bool admin_ok, struct sim_channel **ch_out, struct sim_ban **out)
{
    *out = NULL;
    struct sim_channel *ch = *ch_out = world_channel(w, chat_id);
    if (!ch) return SIM_CHAT_NOT_FOUND;
    const struct sim_admin *a = world_channel_admin(ch, actor_id);
    if (!a || !a->can_restrict_members) return SIM_NO_BAN_RIGHT;
    if (!world_user(w, user_id)) return SIM_USER_NOT_FOUND;
    if (world_channel_admin(ch, user_id) && !admin_ok) return SIM_TARGET_ADMIN;
    struct sim_ban *b = world_ban_record(w, ch, user_id);
    if (!b &&
        reserve((void **)&w->bans, &w->bans_alloc, w->nbans, 1, sizeof *w->bans,
                SIM_MAX_JOIN_REQUESTS) == DM_OK &&
        idmap_put(&ch->bans, user_id, (uint32_t)w->nbans) == DM_OK) {
        b = &w->bans[w->nbans++];
        *b = (struct sim_ban){.chat_id = chat_id, .user_id = user_id};
    }
    *out = b;
    return SIM_OK;
}

sim_err world_ban(struct world *w, int64_t chat_id, int64_t user_id, int64_t until_date,
                  bool revoke_messages, int64_t actor_id)
{
    struct sim_channel *ch;
    struct sim_ban *b;
    sim_err e = ban_target(w, chat_id, user_id, actor_id, false, &ch, &b);
    if (e != SIM_OK || !b) return e;
    int64_t now = world_now();
    b->ban_calls++;
    b->active = true;
    b->until_date = until_date < now + 30 || until_date > now + 366 * 86400 ? 0 : until_date;
    b->banned_by = actor_id;
    b->banned_at = now;
    b->revoke_messages = revoke_messages;
    member_drop(ch, user_id);
    struct sim_join_request *jr = world_jr_latest(w, ch, user_id);
    if (jr && jr->status == JR_PENDING) {
        jr->status = JR_DECLINED;
        jr->decided_by = actor_id;
        jr->decided_at = now;
        jr->decided_ms = world_now_ms();
        jr->decisions++;
        jr->by_ban = true;
        ch->npending--;
        sim_upd_pending_changed(w, ch, 0);
    }
    return SIM_OK;
}

sim_err world_unban(struct world *w, int64_t chat_id, int64_t user_id, bool only_if_banned,
                    int64_t actor_id)
{
    struct sim_channel *ch;
    struct sim_ban *b;
    sim_err e = ban_target(w, chat_id, user_id, actor_id, only_if_banned, &ch, &b);
    if (e != SIM_OK || !b) return e;
    b->unban_calls++;
    if (world_is_banned(w, ch, user_id)) {
        b->active = false;
        b->unbanned_by = actor_id;
        b->unbanned_at = world_now();
    } else if (!only_if_banned) {
        member_drop(ch, user_id);
    }
    return SIM_OK;
}

/* --- the CAS-style blocklist -------------------------------------------------------------- */

dm_err world_cas_put(struct world *w, int64_t user_id, int offenses, const char *message,
                     struct dm_error *err)
{
    if (message && !world_text_ok(message, 0, 200))
        return dm_fail(err, DM_EINVAL,
                       "message must be at most 200 characters of UTF-8 without control "
                       "characters");
    char *m = NULL;
    if (message && !(m = strdup(message))) return dm_fail(err, DM_ENOMEM, "out of memory");
    uint32_t i;
    if (idmap_get(&w->cas_index, user_id, &i)) {
        free(w->cas[i].message);
    } else {
        dm_err e =
            reserve((void **)&w->cas, &w->cas_alloc, w->ncas, 1, sizeof *w->cas, SIM_MAX_CAS);
        if (!e) e = idmap_put(&w->cas_index, user_id, (uint32_t)w->ncas);
        if (e) {
            free(m);
            return dm_fail(err, e, "cannot list a user: %s", dm_strerror(e));
        }
        i = (uint32_t)w->ncas++;
    }
    w->cas[i] = (struct sim_cas_entry){
        .user_id = user_id, .offenses = offenses, .time_added = world_now(), .message = m};
    return DM_OK;
}

const struct sim_cas_entry *world_cas_get(struct world *w, int64_t user_id)
{
    uint32_t i;
    return idmap_get(&w->cas_index, user_id, &i) ? &w->cas[i] : NULL;
}

/* --- messages ---------------------------------------------------------------------------- */

int64_t world_bot_record_message(struct world *w, struct sim_bot *b, int64_t chat_id,
                                 json_t *params)
{
    if (b->nmsgs >= SIM_MAX_MESSAGES) { /* forget the oldest half */
        size_t drop = b->nmsgs / 2;
        for (size_t i = 0; i < drop; i++)
            json_decref(b->msgs[i].params);
        memmove(b->msgs, b->msgs + drop, (b->nmsgs - drop) * sizeof *b->msgs);
        b->nmsgs -= drop;
    }
    int64_t id = b->next_message_id++;
    if (reserve((void **)&b->msgs, &b->msgs_alloc, b->nmsgs, 1, sizeof *b->msgs,
                SIM_MAX_MESSAGES) == DM_OK)
        b->msgs[b->nmsgs++] = (struct sim_message){
            .message_id = id,
            .chat_id = chat_id,
            .date = world_now(),
            .params = json_deep_copy(params),
        };
    return id;
}

struct sim_message *world_bot_message(struct sim_bot *b, int64_t chat_id, int64_t message_id)
{
    for (size_t i = b->nmsgs; i-- > 0;)
        if (b->msgs[i].message_id == message_id && b->msgs[i].chat_id == chat_id)
            return &b->msgs[i];
    return NULL;
}

/* --- callback queries and private messages ------------------------------------------------ */

dm_err world_callback_press(struct world *w, struct sim_bot *b, const struct sim_message *m,
                            const struct sim_user *u, const char *data, uint64_t *id)
{
    if (b->ncallbacks >= SIM_MAX_MESSAGES) { /* forget the oldest half */
        size_t drop = b->ncallbacks / 2;
        for (size_t i = 0; i < drop; i++)
            free(b->callbacks[i].answer_text);
        memmove(b->callbacks, b->callbacks + drop, (b->ncallbacks - drop) * sizeof *b->callbacks);
        b->ncallbacks -= drop;
    }
    if (reserve((void **)&b->callbacks, &b->callbacks_alloc, b->ncallbacks, 1, sizeof *b->callbacks,
                SIM_MAX_MESSAGES) != DM_OK)
        return DM_ENOMEM;
    *id = (world_rand(w) >> 1) | 1; /* never 0 */
    json_t *text = json_object_get(m->params, "text"),
           *markup = json_object_get(m->params, "reply_markup");
    json_t *msg = json_pack("{s:I,s:I,s:O}", "message_id", (json_int_t)m->message_id, "date",
                            (json_int_t)m->date, "text", text ? text : json_string(""));
    if (msg && markup) json_object_set(msg, "reply_markup", markup);
    char sid[24];
    snprintf(sid, sizeof sid, "%" PRIu64, *id);
    json_t *p = msg ? json_pack("{s:s,s:I,s:I,s:s,s:o}", "id", sid, "user_id", (json_int_t)u->id,
                                "bot_id", (json_int_t)b->id, "data", data, "message", msg)
                    : NULL;
    if (!p) return DM_ENOMEM;
    b->callbacks[b->ncallbacks++] = (struct sim_callback){
        .id = *id, .user_id = u->id, .message_id = m->message_id, .created_ms = world_now_ms()};
    queue_push(b, UPD_CALLBACK_QUERY, 0, false, p);
    return DM_OK;
}

sim_err world_callback_answer(struct sim_bot *b, uint64_t id, const char *text)
{
    for (size_t i = 0; i < b->ncallbacks; i++) {
        struct sim_callback *cb = &b->callbacks[i];
        if (cb->id != id) continue;
        if (cb->answered || world_now_ms() - cb->created_ms > SIM_CALLBACK_ANSWER_MS) break;
        cb->answered = true;
        cb->answer_text = text ? strdup(text) : NULL;
        return SIM_OK;
    }
    return SIM_QUERY_INVALID;
}

dm_err world_user_to_bot(struct sim_bot *b, const struct sim_user *u, const char *text,
                         int64_t *message_id)
{
    *message_id = b->next_message_id++;
    json_t *p = json_pack("{s:I,s:I,s:I,s:s}", "message_id", (json_int_t)*message_id, "user_id",
                          (json_int_t)u->id, "date", (json_int_t)world_now(), "text", text);
    if (!p || idmap_put(&b->started, u->id, 1) != DM_OK) {
        json_decref(p);
        return DM_ENOMEM;
    }
    queue_push(b, UPD_MESSAGE, 0, false, p);
    return DM_OK;
}

/* --- limits, faults, statistics ---------------------------------------------------------- */

int world_ratelimit_take(struct world *w, struct sim_bot *b)
{
    double rate = w->rate_limit;
    if (rate <= 0) return 0;
    double now = world_mono();
    b->bucket.tokens = DM_MIN(rate, b->bucket.tokens + (now - b->bucket.last) * rate);
    b->bucket.last = now;
    if (b->bucket.tokens >= 1.0) {
        b->bucket.tokens -= 1.0;
        return 0;
    }
    w->rate_limited++;
    double wait = (1.0 - b->bucket.tokens) / rate;
    int secs = (int)wait;
    if ((double)secs < wait) secs++;
    return DM_MAX(secs, 1);
}

void world_set_rate_limit(struct world *w, double rate)
{
    w->rate_limit = rate > 0 ? rate : 0;
    double now = world_mono();
    for (size_t i = 0; i < w->nbots; i++) {
        w->bots[i]->bucket.tokens = w->rate_limit;
        w->bots[i]->bucket.last = now;
    }
}

dm_err world_fault_add(struct world *w, const struct sim_fault *f, struct dm_error *err)
{
    for (size_t i = 0; i < w->nfaults; i++)
        if (strcmp(w->faults[i].method, f->method) == 0) {
            if (f->count)
                w->faults[i] = *f;
            else
                w->faults[i] = w->faults[--w->nfaults];
            return DM_OK;
        }
    if (!f->count) return DM_OK;
    if (w->nfaults >= SIM_MAX_FAULTS)
        return dm_fail(err, DM_ETOOBIG, "too many armed faults (at most %u)", SIM_MAX_FAULTS);
    w->faults[w->nfaults++] = *f;
    return DM_OK;
}

bool world_fault_take(struct world *w, const char *method, struct sim_fault *out)
{
    for (size_t i = 0; i < w->nfaults; i++) {
        struct sim_fault *f = &w->faults[i];
        if (strcmp(f->method, method) != 0) continue;
        *out = *f;
        if (--f->count == 0) w->faults[i] = w->faults[--w->nfaults];
        return true;
    }
    return false;
}

void world_stat_call(struct world *w, const char *method)
{
    for (size_t i = 0; i < w->nstats; i++)
        if (strcmp(w->stats[i].method, method) == 0) {
            w->stats[i].calls++;
            return;
        }
    if (w->nstats >= SIM_MAX_STATS) return;
    dm_strlcpy(w->stats[w->nstats].method, method, sizeof w->stats[0].method);
    w->stats[w->nstats++].calls = 1;
}

/* --- accounts --------------------------------------------------------------------------- */

bool world_phone_normalize(const char *phone, char out[SIM_PHONE_MAX + 1])
{
    size_t n = 0;
    for (const char *p = phone; *p; p++) {
        if (*p == ' ' || (*p == '+' && p == phone)) continue;
        if (*p < '0' || *p > '9' || n == SIM_PHONE_MAX) return false;
        out[n++] = *p;
    }
    out[n] = 0;
    return n >= 5;
}

dm_err world_account_notify(struct sim_account *a, const char *text)
{
    char *copy = strdup(text);
    if (!copy) return DM_ENOMEM;
    if (a->ninbox == SIM_MAX_INBOX) { /* forget the oldest */
        free(a->inbox[0].text);
        memmove(a->inbox, a->inbox + 1, (a->ninbox - 1) * sizeof *a->inbox);
        a->ninbox--;
    } else {
        struct sim_inbox_message *grown = realloc(a->inbox, (a->ninbox + 1) * sizeof *grown);
        if (!grown) {
            free(copy);
            return DM_ENOMEM;
        }
        a->inbox = grown;
    }
    a->inbox[a->ninbox++] = (struct sim_inbox_message){
        .id = ++a->next_inbox_id,
        .date = world_now(),
        .from_id = SIM_SERVICE_USER_ID,
        .text = copy,
    };
    return DM_OK;
}

struct sim_account *world_account_by_phone(struct world *w, const char *phone)
{
    char norm[SIM_PHONE_MAX + 1];
    if (!world_phone_normalize(phone, norm)) return NULL;
    for (size_t i = 0; i < w->naccounts; i++)
        if (strcmp(w->accounts[i]->phone, norm) == 0) return w->accounts[i];
    return NULL;
}

struct sim_signup *world_signup(struct world *w, const char *phone, bool make)
{
    char norm[SIM_PHONE_MAX + 1];
    if (!world_phone_normalize(phone, norm)) return NULL;
    for (size_t i = 0; i < w->nsignups; i++)
        if (strcmp(w->signups[i].phone, norm) == 0) return &w->signups[i];
    if (!make) return NULL;
    struct sim_signup *s = &w->signups[w->next_signup];
    w->next_signup = (w->next_signup + 1) % SIM_MAX_SIGNUPS;
    if (w->nsignups < SIM_MAX_SIGNUPS) w->nsignups++;
    memset(s, 0, sizeof *s);
    memcpy(s->phone, norm, sizeof s->phone);
    return s;
}

struct sim_account *world_account(struct world *w, int64_t user_id)
{
    for (size_t i = 0; i < w->naccounts; i++)
        if (w->accounts[i]->user_id == user_id) return w->accounts[i];
    return NULL;
}

dm_err world_account_add(struct world *w, int64_t user_id, const char *first_name,
                         const char *last_name, const char *username, const char *phone, int dc,
                         const char *password, struct sim_account **out, struct dm_error *err)
{
    char norm[SIM_PHONE_MAX + 1];
    if (!world_phone_normalize(phone, norm))
        return dm_fail(err, DM_EINVAL, "phone must be 5 to 20 digits");
    if (world_account_by_phone(w, norm))
        return dm_fail(err, DM_EINVAL, "phone %s already has an account", norm);
    if (dc < 1 || dc > 5) return dm_fail(err, DM_EINVAL, "dc must be 1 to 5");
    if (password && (!*password || strlen(password) > 256))
        return dm_fail(err, DM_EINVAL, "password must be 1 to 256 bytes");
    if (w->naccounts >= SIM_MAX_ACCOUNTS) return dm_fail(err, DM_ETOOBIG, "too many accounts");
    if (user_id) {
        const struct sim_user *u = world_user(w, user_id);
        if (!u || u->is_bot)
            return dm_fail(err, DM_EINVAL, "user %" PRId64 " does not exist", user_id);
        if (world_account(w, user_id))
            return dm_fail(err, DM_EINVAL, "user %" PRId64 " already has an account", user_id);
    }
    struct sim_account *a = calloc(1, sizeof *a);
    struct sim_account **grown = realloc(w->accounts, (w->naccounts + 1) * sizeof *grown);
    if (!a || !grown || (password && !(a->password = strdup(password)))) {
        if (grown) w->accounts = grown;
        free(a);
        return dm_fail(err, DM_ENOMEM, "out of memory");
    }
    w->accounts = grown;
    dm_err rc =
        user_id ? DM_OK : world_user_add(w, first_name, last_name, username, NULL, &user_id, err);
    if (rc) {
        free(a->password);
        free(a);
        return rc;
    }
    a->user_id = user_id;
    dm_strlcpy(a->phone, norm, sizeof a->phone);
    a->dc = dc;
    for (size_t i = 0; i < sizeof a->srp_salt1; i += 8) {
        uint64_t r = world_rand(w);
        memcpy(a->srp_salt1 + i, &r, 8);
    }
    for (size_t i = 0; i < sizeof a->srp_salt2; i += 8) {
        uint64_t r = world_rand(w);
        memcpy(a->srp_salt2 + i, &r, 8);
    }
    w->accounts[w->naccounts++] = a;
    *out = a;
    return DM_OK;
}
