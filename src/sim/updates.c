/* updates.c: accounts' MTProto update state and log (see updates.h). */
#include "core/common.h"
#include "sim/updates.h"

#include "sim/invites.h"

int64_t sim_upd_channel_mt_id(int64_t chat_id)
{
    return -chat_id - SIM_CHANNEL_ID_BASE;
}

const struct sim_upd_entry *sim_upd_entry(const struct sim_upd_state *s, size_t i)
{
    return &s->log[(s->head + i) % s->cap];
}

struct sim_upd_state *sim_upd_state_of(struct world *w, int64_t user_id)
{
    struct sim_account *a = world_account(w, user_id);
    if (a) return &a->upd;
    struct sim_bot *b = world_bot_by_id(w, user_id);
    return b && b->mtproto ? &b->upd : NULL;
}

void sim_upd_add(struct world *w, int64_t user_id, struct sim_upd_state *s, json_t *update,
                 int32_t pts_count, bool qts, bool hidden)
{
    if (!update) return;
    if (s->n == s->cap && s->cap < SIM_UPD_LOG) { /* grows until full; head is 0 until then */
        size_t cap = s->cap ? DM_MIN(2 * s->cap, (size_t)SIM_UPD_LOG) : 64;
        struct sim_upd_entry *grown = realloc(s->log, cap * sizeof *grown);
        if (!grown) {
            json_decref(update);
            return;
        }
        s->log = grown;
        s->cap = cap;
    }
    if (pts_count > 0) {
        s->pts += pts_count;
        json_object_set_new(update, "pts", json_integer(s->pts));
        json_object_set_new(update, "pts_count", json_integer(pts_count));
    }
    if (qts) json_object_set_new(update, "qts", json_integer(++s->qts));
    s->seq++;
    s->date = world_now();
    if (s->n == SIM_UPD_LOG) { /* forget the oldest */
        json_decref(s->log[s->head].update);
        s->head = (s->head + 1) % s->cap;
        s->n--;
    }
    s->log[(s->head + s->n++) % s->cap] = (struct sim_upd_entry){
        .update = update,
        .pts = s->pts,
        .pts_count = pts_count,
        .qts = qts ? s->qts : 0,
        .seq = s->seq,
        .date = s->date,
        .hidden = hidden,
    };
    if (!hidden && w->upd_hook) w->upd_hook(w->upd_ctx, user_id);
}

void sim_upd_pending_changed(struct world *w, struct sim_channel *ch, int64_t requester)
{
    if (requester) ch->recent[ch->nrecent++ % SIM_RECENT_MAX] = requester;
    json_t *recent = json_array();
    size_t have = DM_MIN(ch->nrecent, (size_t)SIM_RECENT_MAX);
    for (size_t i = 0; i < have; i++) { /* newest first, those still pending */
        int64_t uid = ch->recent[(ch->nrecent - 1 - i) % SIM_RECENT_MAX];
        const struct sim_join_request *jr = world_jr_latest(w, ch, uid);
        if (jr && jr->status == JR_PENDING) json_array_append_new(recent, json_integer(uid));
    }
    for (size_t i = 0; i < ch->nadmins; i++) {
        struct sim_account *a =
            ch->admins[i].can_invite_users ? world_account(w, ch->admins[i].id) : NULL;
        if (!a) continue;
        sim_upd_add(w, a->user_id, &a->upd,
                    json_pack("{s:s,s:{s:s,s:I},s:I,s:O}", "_", "updatePendingJoinRequests", "peer",
                              "_", "peerChannel", "channel_id",
                              (json_int_t)sim_upd_channel_mt_id(ch->id), "requests_pending",
                              (json_int_t)ch->npending, "recent_requesters", recent),
                    0, false, false);
    }
    json_decref(recent);
}

void sim_upd_bot_requester(struct world *w, struct sim_channel *ch, size_t index)
{
    for (size_t i = 0; i < ch->nadmins; i++) {
        struct sim_bot *b =
            ch->admins[i].can_invite_users ? world_bot_by_id(w, ch->admins[i].id) : NULL;
        if (!b || !b->mtproto) continue;
        const struct sim_join_request *jr = &w->jrs[index];
        const struct sim_user *u = world_user(w, jr->user_id);
        json_t *upd = json_pack("{s:s,s:{s:s,s:I},s:I,s:I,s:s,s:o}", "_",
                                "updateBotChatInviteRequester", "peer", "_", "peerChannel",
                                "channel_id", (json_int_t)sim_upd_channel_mt_id(ch->id), "date",
                                (json_int_t)jr->date, "user_id", (json_int_t)jr->user_id, "about",
                                u && u->bio ? u->bio : "", "invite", sim_jr_invite(w, ch, jr));
        if (upd && jr->query_id && ch->guard_bot == b->id)
            json_object_set_new(upd, "query_id", json_integer((json_int_t)jr->query_id));
        sim_upd_add(w, b->id, &b->upd, upd, 0, true, false);
    }
}

dm_err sim_upd_service_message(struct world *w, struct sim_account *a, const char *text,
                               bool hidden)
{
    dm_err e = world_account_notify(a, text);
    if (e) return e;
    const struct sim_inbox_message *m = &a->inbox[a->ninbox - 1];
    sim_upd_add(w, a->user_id, &a->upd,
                json_pack("{s:s,s:{s:s,s:I,s:{s:s,s:I},s:{s:s,s:I},s:I,s:s}}", "_",
                          "updateNewMessage", "message", "_", "message", "id", (json_int_t)m->id,
                          "from_id", "_", "peerUser", "user_id", (json_int_t)m->from_id, "peer_id",
                          "_", "peerUser", "user_id", (json_int_t)m->from_id, "date",
                          (json_int_t)m->date, "message", m->text),
                1, false, hidden);
    return DM_OK;
}

void sim_upd_release(struct sim_upd_state *s)
{
    for (size_t i = 0; i < s->n; i++)
        json_decref(s->log[(s->head + i) % s->cap].update);
    free(s->log);
    *s = (struct sim_upd_state){0};
}
