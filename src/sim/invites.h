/* invites.h: a channel's additional invite links in tgsim's world (world.h): made, edited and
 * revoked by its admins (Bot API createChatInviteLink, editChatInviteLink, revokeChatInviteLink;
 * the control API), listed over MTProto (messages.getExportedChatInvites,
 * messages.getAdminsWithInvites).
 *
 * A link is "https://t.me/+" and 16 characters from the world's seeded generator. Join requests
 * name the link they came through by that text (sim_join_request.invite_link); a request through
 * a link the world does not know is still accepted (tests make up links), it only has no
 * name or limits to show. A link is never removed: revoking marks it, as Telegram keeps revoked
 * links until they are deleted.
 *
 * Locking and pointers: as world.h (the world lock held; a sim_invite pointer is valid until
 * the next link of its channel is made). */
#ifndef DM_SIM_INVITES_H
#define DM_SIM_INVITES_H

#include "sim/world.h"

#define SIM_LINKS_MAX 1000u  /* links per channel */
#define SIM_LINK_NAME_MAX 32 /* characters, as the Bot API documents */
#define SIM_MEMBER_LIMIT_MAX 99999

struct sim_invite {
    char *link;           /* owned, never NULL */
    char *name;           /* owned; NULL when it has none */
    int64_t creator_id;   /* the admin (user or bot) who made it */
    int64_t date;         /* when it was made, Unix seconds */
    int64_t expire_date;  /* 0: never */
    int64_t member_limit; /* 0: none */
    bool creates_join_request;
    bool revoked;
};

/* What a create or an edit asks. For an edit every field is replaced (the Bot API's
 * editChatInviteLink takes them all again); name NULL clears it. */
struct sim_invite_spec {
    const char *name;
    int64_t expire_date;
    int64_t member_limit;
    bool creates_join_request;
};

/* Makes a link as admin_id, which must be an admin of ch with can_invite_users
 * (SIM_ADMIN_REQUIRED). A bad spec is SIM_LINK_BAD with why in err (err->code DM_EINVAL):
 * a name longer than SIM_LINK_NAME_MAX characters, an expire_date in the past, a member_limit
 * outside 1..SIM_MEMBER_LIMIT_MAX, a member_limit with creates_join_request. */
sim_err world_invite_create(struct world *w, struct sim_channel *ch, int64_t admin_id,
                            const struct sim_invite_spec *spec, struct sim_invite **out,
                            struct dm_error *err);
/* Edits the link (as create checks), or revokes it; a link unknown in ch is SIM_LINK_MISSING,
 * a revoked one cannot be edited (SIM_LINK_EXPIRED). Revoking twice is fine. */
sim_err world_invite_edit(struct sim_channel *ch, int64_t admin_id, const char *link,
                          const struct sim_invite_spec *spec, struct sim_invite **out,
                          struct dm_error *err);
sim_err world_invite_revoke(struct sim_channel *ch, int64_t admin_id, const char *link,
                            struct sim_invite **out);
/* The link of ch with that text, or NULL. */
struct sim_invite *world_invite(struct sim_channel *ch, const char *link);
/* Requests through the link now pending, and those approved (its "usage"). */
void world_invite_counts(struct world *w, const struct sim_channel *ch, const char *link,
                         size_t *pending, size_t *approved);
/* MTProto's chatInviteExported of l (new reference), with usage (approved) and requested
 * (pending) counts. */
json_t *sim_invite_exported(struct world *w, const struct sim_channel *ch,
                            const struct sim_invite *l);
/* The invite a join request came through, as MTProto names it (a join-by-request event of the
 * admin log, updateBotChatInviteRequester): the link's chatInviteExported,
 * chatInvitePublicJoinRequests for a request without one, or a stand-in made by the channel's
 * first admin for a link the world does not know (tests make links up). New reference. */
json_t *sim_jr_invite(struct world *w, struct sim_channel *ch, const struct sim_join_request *jr);
/* Frees a channel's links (world_free). */
void world_invites_free(struct sim_channel *ch);

#endif
