/* account.c: the accounts' one interface (account.h): it hands each call to the bot's or the
 * sessions' implementation (account_backend.h), and holds what both share: channel references,
 * list cursors and pages, and the sentences for a missing right. */
#include "core/common.h"
#include "telegram/account.h"

#include "mtproto/tl_codec.h"
#include "telegram/account_backend.h"

#define CHANNEL_ID_BASE 1000000000000LL

/* ---- references ---- */

static bool username_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* Copies the username at s (up to the end, '/', '?' or '#') into out; false when it is not
 * one (empty, too long, a character Telegram does not allow). */
static bool take_username(const char *s, struct account_ref *out)
{
    size_t n = strcspn(s, "/?#");
    if (n == 0 || n >= sizeof out->username) return false;
    for (size_t i = 0; i < n; i++)
        if (!username_char(s[i])) return false;
    memcpy(out->username, s, n);
    out->username[n] = 0;
    return true;
}

/* The part after "t.me/" (with or without a scheme and "www."), or NULL for anything else. */
static const char *link_path(const char *s)
{
    static const char *const schemes[] = {"https://", "http://"};
    static const char *const hosts[] = {"t.me/", "telegram.me/", "telegram.dog/"};
    for (size_t i = 0; i < DM_ARRAY_LEN(schemes); i++)
        if (strncasecmp(s, schemes[i], strlen(schemes[i])) == 0) {
            s += strlen(schemes[i]);
            break;
        }
    if (strncasecmp(s, "www.", 4) == 0) s += 4;
    for (size_t i = 0; i < DM_ARRAY_LEN(hosts); i++)
        if (strncasecmp(s, hosts[i], strlen(hosts[i])) == 0) return s + strlen(hosts[i]);
    return NULL;
}

dm_err account_ref_parse(const char *s, struct account_ref *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '/'))
        len--;
    char buf[256];
    if (len == 0)
        return dm_fail(err, DM_EINVAL, "Enter the channel's @username, t.me link or -100… id.");
    if (len >= sizeof buf)
        return dm_fail(err, DM_EINVAL, "That is too long for a channel address.");
    memcpy(buf, s, len);
    buf[len] = 0;

    if (buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')) {
        char *end;
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (errno || *end)
            return dm_fail(err, DM_EINVAL,
                           "\"%s\" is not a channel id: channel ids look like -1001234567890.",
                           buf);
        if (v >= -CHANNEL_ID_BASE)
            return dm_fail(
                err, DM_EINVAL,
                "%s is not a channel id: channel ids start with -100 (like -1001234567890).", buf);
        out->channel_id = -(v + CHANNEL_ID_BASE);
        return DM_OK;
    }
    const char *path = link_path(buf);
    if (path) {
        if (*path == '+' || strncasecmp(path, "joinchat/", 9) == 0)
            return dm_fail(
                err, DM_EINVAL,
                "That is an invite link, not the channel's address: use the channel's @username, "
                "its t.me/username link or its -100… id.");
        if (strncasecmp(path, "s/", 2) == 0) path += 2; /* the web preview, t.me/s/name */
        if (take_username(path, out)) return DM_OK;
        return dm_fail(
            err, DM_EINVAL,
            "\"%s\" is not a channel link: it should look like https://t.me/channelname.", buf);
    }
    const char *name = buf[0] == '@' ? buf + 1 : buf;
    if (strlen(name) == strcspn(name, "/?#") && take_username(name, out)) return DM_OK;
    return dm_fail(
        err, DM_EINVAL,
        "\"%s\" is not a channel address: use @username (letters, digits and _), a t.me link "
        "or a -100… id.",
        buf);
}

/* ---- lists ---- */

dm_err account_cursor_format(const struct account_cursor *c, char *out, size_t n)
{
    /* session names are [A-Za-z0-9_-]: nothing in them needs escaping */
    int w = snprintf(
        out, n, "{\"date\":%" PRId64 ",\"user\":%" PRId64 ",\"hash\":%" PRId64 "%s%s%s}", c->date,
        c->user_id, c->user_hash, c->by[0] ? ",\"by\":\"" : "", c->by, c->by[0] ? "\"" : "");
    return w < 0 || (size_t)w >= n ? DM_ETOOBIG : DM_OK;
}

dm_err account_cursor_parse(const char *s, struct account_cursor *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!s || !*s) return DM_OK;
    json_t *j = json_loads(s, 0, NULL);
    const json_t *by = json_object_get(j, "by");
    dm_err e = j && !tl_get_long(j, "date", &out->date, NULL) &&
                       !tl_get_long(j, "user", &out->user_id, NULL) &&
                       !tl_get_long(j, "hash", &out->user_hash, NULL) &&
                       (!by || (json_is_string(by) && json_string_length(by) < sizeof out->by))
                   ? DM_OK
                   : dm_fail(err, DM_EINVAL, "the job's saved position is damaged");
    if (!e && by) dm_strlcpy(out->by, json_string_value(by), sizeof out->by);
    json_decref(j);
    return e;
}

void account_page_release(struct account_page *p)
{
    free(p->rows);
    free(p->user_hashes);
    memset(p, 0, sizeof *p);
}

/* ---- the interface ---- */

static dm_err open_as(const struct accounts *as, const char *name, bool bot, struct account **out,
                      struct dm_error *err)
{
    *out = NULL;
    if (strlen(name) >= sizeof((struct account *)0)->name)
        return dm_fail(err, DM_EINVAL, "an account name is at most %zu bytes",
                       sizeof((struct account *)0)->name - 1);
    if (bot ? bot_account_open(as, out) : session_account_open(as, name, out))
        return dm_fail(err, DM_ENOMEM, "out of memory");
    (*out)->as = as;
    dm_strlcpy((*out)->name, name, sizeof(*out)->name);
    return DM_OK;
}

dm_err account_open(const struct accounts *as, const char *via, struct account **out,
                    struct dm_error *err)
{
    return open_as(as, via, strcmp(via, ACCOUNT_BOT) == 0, out, err);
}

dm_err account_open_chosen(const struct accounts *as, const char *session, struct account **out,
                           struct dm_error *err)
{
    return open_as(as, session ? session : ACCOUNT_BOT, !session, out, err);
}

void account_close(struct account *a)
{
    if (a) a->ops->close(a);
}

const char *account_name(const struct account *a)
{
    return a->name;
}

dm_err account_usable(struct account *a, struct dm_error *err)
{
    return a->ops->usable(a, err);
}

void account_check(struct account *a, struct account_check *out)
{
    memset(out, 0, sizeof *out);
    a->ops->check(a, out);
}

double account_rate(struct account *a)
{
    return a->ops->rate(a);
}

/* What an account cannot do. */
static dm_err cannot(struct tg_error *te, const char *what)
{
    dm_err e = tg_error_set(te, TG_REFUSED, 0);
    tg_error_say(te, "This account cannot %s: use a user session.", what);
    return e;
}

dm_err account_channel(struct account *a, int64_t chat_id, struct account_channel *out,
                       struct tg_error *te)
{
    memset(out, 0, sizeof *out);
    return a->ops->channel(a, chat_id, out, te);
}

dm_err account_find(struct account *a, const struct account_ref *ref, struct account_channel *out,
                    struct tg_error *te)
{
    memset(out, 0, sizeof *out);
    return a->ops->find ? a->ops->find(a, ref, out, te) : cannot(te, "load join requests");
}

dm_err account_role(struct account *a, const struct account_channel *ch, enum account_role *out,
                    struct tg_error *te)
{
    *out = ACCOUNT_NOT_ADMIN;
    return a->ops->role(a, ch, out, te);
}

void account_decide(struct account *a, bool approve, const struct account_request *r,
                    struct tg_error *te)
{
    a->ops->decide(a, approve, r, te);
}

dm_err account_ban(struct account *a, const struct account_request *r, struct tg_error *te)
{
    return a->ops->ban ? a->ops->ban(a, r, true, te) : cannot(te, "ban users");
}

dm_err account_unban(struct account *a, const struct account_request *r, struct tg_error *te)
{
    return a->ops->ban ? a->ops->ban(a, r, false, te) : cannot(te, "unban users");
}

dm_err account_has_photo(struct account *a, const struct account_request *r, bool *out,
                         struct tg_error *te)
{
    *out = false;
    return a->ops->has_photo ? a->ops->has_photo(a, r, out, te) : cannot(te, "read profile photos");
}

void account_no_ban_right(const char *title, struct tg_error *te)
{
    if (!title || !*title) title = "this channel";
    tg_error_set(te, TG_NO_RIGHT, 0);
    tg_error_say(te,
                 "This account cannot ban users in %s: make it an admin with the right to ban "
                 "users",
                 title);
}

bool account_lists_pending(const struct account *a)
{
    return a->ops->list_pending && a->ops->decide_channel;
}

dm_err account_list_pending(struct account *a, const struct account_channel *ch,
                            const struct account_cursor *from, int limit, int64_t now,
                            struct account_page *out, struct tg_error *te)
{
    memset(out, 0, sizeof *out);
    return a->ops->list_pending ? a->ops->list_pending(a, ch, from, limit, now, out, te)
                                : cannot(te, "list join requests");
}

dm_err account_decide_channel(struct account *a, const struct account_channel *ch, bool approve,
                              const char *link, struct tg_error *te)
{
    return a->ops->decide_channel ? a->ops->decide_channel(a, ch, approve, link, te)
                                  : cannot(te, "decide a whole channel at once");
}

dm_err account_link_write(struct account *a, const struct account_channel *ch,
                          enum account_link_op op, const char *link,
                          const struct account_link_spec *spec, struct store_link *out,
                          struct tg_error *te)
{
    memset(out, 0, sizeof *out);
    if (!a->ops->link_write) {
        dm_err e = tg_error_set(te, TG_REFUSED, 0);
        tg_error_say(te, "Invite links are made, edited and revoked through the bot.");
        return e;
    }
    return a->ops->link_write(a, ch, op, link, spec, out, te);
}

dm_err account_links(struct account *a, const struct account_channel *ch, struct store_link **out,
                     size_t *n, struct tg_error *te)
{
    *out = NULL;
    *n = 0;
    return a->ops->links ? a->ops->links(a, ch, out, n, te) : cannot(te, "list invite links");
}

dm_err account_joins(struct account *a, const struct account_channel *ch, int64_t after_event,
                     int64_t before_event, struct account_join **out, size_t *n,
                     struct tg_error *te)
{
    *out = NULL;
    *n = 0;
    return a->ops->joins ? a->ops->joins(a, ch, after_event, before_event, out, n, te)
                         : cannot(te, "read the admin log");
}

void account_no_right(int role, const char *title, struct tg_error *te)
{
    if (!title || !*title) title = "this channel";
    tg_error_set(te, TG_NO_RIGHT, 0);
    if (role == ACCOUNT_NOT_ADMIN)
        tg_error_say(te,
                     "This account is not an admin of %s: make it one, with the invite-users right",
                     title);
    else if (role == ACCOUNT_ADMIN_NO_INVITE)
        tg_error_say(te,
                     "This account is an admin of %s without the invite-users right: give it that "
                     "right",
                     title);
    else
        tg_error_say(te, "This account is not an admin with the invite-users right in %s", title);
}
