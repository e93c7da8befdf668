/* invites.c: a channel's invite links (invites.h). */
#include "core/common.h"
#include "sim/invites.h"

struct sim_invite *world_invite(struct sim_channel *ch, const char *link)
{
    for (size_t i = 0; link && i < ch->nlinks; i++)
        if (strcmp(ch->links[i].link, link) == 0) return &ch->links[i];
    return NULL;
}

void world_invites_free(struct sim_channel *ch)
{
    for (size_t i = 0; i < ch->nlinks; i++) {
        free(ch->links[i].link);
        free(ch->links[i].name);
    }
    free(ch->links);
    ch->links = NULL;
    ch->nlinks = 0;
}

static sim_err may_manage(const struct sim_channel *ch, int64_t admin_id)
{
    const struct sim_admin *a = world_channel_admin(ch, admin_id);
    return a && a->can_invite_users ? SIM_OK : SIM_ADMIN_REQUIRED;
}

/* The Bot API's checks of a link's fields, with its sentences. */
static sim_err spec_check(const struct sim_invite_spec *s, struct dm_error *err)
{
    if (s->name && !world_text_ok(s->name, 0, SIM_LINK_NAME_MAX)) {
        dm_fail(err, DM_EINVAL, "invite link name must be at most %d characters",
                SIM_LINK_NAME_MAX);
        return SIM_LINK_BAD;
    }
    if (s->expire_date && s->expire_date <= world_now()) {
        dm_fail(err, DM_EINVAL, "expire_date must be in the future");
        return SIM_LINK_BAD;
    }
    if (s->member_limit && (s->member_limit < 1 || s->member_limit > SIM_MEMBER_LIMIT_MAX)) {
        dm_fail(err, DM_EINVAL, "member_limit must be from 1 to %d", SIM_MEMBER_LIMIT_MAX);
        return SIM_LINK_BAD;
    }
    if (s->member_limit && s->creates_join_request) {
        dm_fail(err, DM_EINVAL,
                "member limit can't be specified for links requiring administrator approval");
        return SIM_LINK_BAD;
    }
    return SIM_OK;
}

/* Sets the spec's fields of l; false when out of memory (l unchanged). */
static bool spec_apply(struct sim_invite *l, const struct sim_invite_spec *s)
{
    char *name = s->name && *s->name ? strdup(s->name) : NULL;
    if (s->name && *s->name && !name) return false;
    free(l->name);
    l->name = name;
    l->expire_date = s->expire_date;
    l->member_limit = s->member_limit;
    l->creates_join_request = s->creates_join_request;
    return true;
}

sim_err world_invite_create(struct world *w, struct sim_channel *ch, int64_t admin_id,
                            const struct sim_invite_spec *spec, struct sim_invite **out,
                            struct dm_error *err)
{
    sim_err e = may_manage(ch, admin_id);
    if (e == SIM_OK) e = spec_check(spec, err);
    if (e != SIM_OK) return e;
    if (ch->nlinks >= SIM_LINKS_MAX) {
        dm_fail(err, DM_ETOOBIG, "too many invite links (at most %u)", SIM_LINKS_MAX);
        return SIM_LINK_BAD;
    }
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char link[64] = "https://t.me/+";
    size_t at = strlen(link);
    uint64_t r = world_rand(w), r2 = world_rand(w);
    for (int i = 0; i < 16; i++, r >>= 6) {
        if (i == 10) r = r2;
        link[at++] = alphabet[r & 63];
    }
    link[at] = 0;
    struct sim_invite *links = realloc(ch->links, (ch->nlinks + 1) * sizeof *links);
    if (!links) {
        dm_fail(err, DM_ENOMEM, "out of memory");
        return SIM_LINK_BAD;
    }
    ch->links = links;
    struct sim_invite *l = &links[ch->nlinks];
    *l = (struct sim_invite){.link = strdup(link), .creator_id = admin_id, .date = world_now()};
    if (!l->link || !spec_apply(l, spec)) {
        free(l->link);
        dm_fail(err, DM_ENOMEM, "out of memory");
        return SIM_LINK_BAD;
    }
    ch->nlinks++;
    *out = l;
    return SIM_OK;
}

sim_err world_invite_edit(struct sim_channel *ch, int64_t admin_id, const char *link,
                          const struct sim_invite_spec *spec, struct sim_invite **out,
                          struct dm_error *err)
{
    sim_err e = may_manage(ch, admin_id);
    if (e == SIM_OK) e = spec_check(spec, err);
    if (e != SIM_OK) return e;
    struct sim_invite *l = world_invite(ch, link);
    if (!l || l->revoked) return SIM_LINK_MISSING;
    if (!spec_apply(l, spec)) {
        dm_fail(err, DM_ENOMEM, "out of memory");
        return SIM_LINK_BAD;
    }
    *out = l;
    return SIM_OK;
}

sim_err world_invite_revoke(struct sim_channel *ch, int64_t admin_id, const char *link,
                            struct sim_invite **out)
{
    sim_err e = may_manage(ch, admin_id);
    if (e != SIM_OK) return e;
    struct sim_invite *l = world_invite(ch, link);
    if (!l) return SIM_LINK_MISSING;
    l->revoked = true;
    *out = l;
    return SIM_OK;
}

void world_invite_counts(struct world *w, const struct sim_channel *ch, const char *link,
                         size_t *pending, size_t *approved)
{
    *pending = *approved = 0;
    for (size_t i = 0; i < w->njrs; i++) {
        const struct sim_join_request *jr = &w->jrs[i];
        if (jr->chat_id != ch->id || !jr->invite_link || strcmp(jr->invite_link, link) != 0)
            continue;
        *pending += jr->status == JR_PENDING;
        *approved += jr->status == JR_APPROVED;
    }
}

json_t *sim_invite_exported(struct world *w, const struct sim_channel *ch,
                            const struct sim_invite *l)
{
    size_t pending, approved;
    world_invite_counts(w, ch, l->link, &pending, &approved);
    json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "_", "chatInviteExported", "link", l->link,
                          "admin_id", (json_int_t)l->creator_id, "date", (json_int_t)l->date,
                          "usage", (json_int_t)approved, "requested", (json_int_t)pending);
    if (l->revoked) json_object_set_new(o, "revoked", json_true());
    if (l->creates_join_request) json_object_set_new(o, "request_needed", json_true());
    if (l->expire_date) json_object_set_new(o, "expire_date", json_integer(l->expire_date));
    if (l->member_limit) json_object_set_new(o, "usage_limit", json_integer(l->member_limit));
    if (l->name) json_object_set_new(o, "title", json_string(l->name));
    return o;
}

json_t *sim_jr_invite(struct world *w, struct sim_channel *ch, const struct sim_join_request *jr)
{
    if (!jr->invite_link) return json_pack("{s:s}", "_", "chatInvitePublicJoinRequests");
    const struct sim_invite *l = world_invite(ch, jr->invite_link);
    if (l) return sim_invite_exported(w, ch, l);
    return json_pack("{s:s,s:b,s:s,s:I,s:i}", "_", "chatInviteExported", "request_needed", 1,
                     "link", jr->invite_link, "admin_id",
                     (json_int_t)(ch->nadmins ? ch->admins[0].id : 0), "date", 0);
}
