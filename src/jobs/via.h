/* via.h: the accounts a job decides through, as its via (store_job.via) names them.
 *
 * A via is ACCOUNT_BOT ("bot"), one session's name, several sessions' names joined by ","
 * (at most VIA_MAX, each once), or VIA_ANY_SESSION: every session that is active when the job
 * starts running (by name, at most VIA_MAX). A job with several accounts uses them in that
 * order: the first that can work takes each request; one that must wait out a FLOOD_WAIT, has
 * become invalid or lacks the right in the request's channel leaves it to the next
 * (jobs/runner.h). Session names are [A-Za-z0-9_-], so neither "," nor ":" is ever part of
 * one. */
#ifndef DM_JOBS_VIA_H
#define DM_JOBS_VIA_H

#include "core/common.h"
#include "store/store.h"

#define VIA_MAX 8
#define VIA_ANY_SESSION "sessions:any"

struct via_names {
    char name[VIA_MAX][STORE_NAME_MAX];
    size_t n;
};

/* Whether via names more than one account (a list, or VIA_ANY_SESSION). Pure. */
bool via_is_several(const char *via);
/* Splits via into its names; VIA_ANY_SESSION becomes the sessions active in st now. DM_EINVAL
 * for a via that is not one of the forms above; DM_ENOTFOUND when no session is active; DM_EDB
 * when the store fails. */
dm_err via_names(struct store *st, const char *via, struct via_names *out, struct dm_error *err);
/* Joins n (1..VIA_MAX) names with "," into out (size bytes). DM_EINVAL for a repeated name,
 * DM_ETOOBIG when they do not fit. */
dm_err via_join(const char *const *names, size_t n, char *out, size_t size, struct dm_error *err);

#endif
