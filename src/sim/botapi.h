/* botapi.h: tgsim's Bot API front end (https://core.telegram.org/bots/api, the parts doorman
 * uses), served on /bot<token>/<method> over the world model.
 *
 * Parameters come from a JSON object body, an application/x-www-form-urlencoded body or the
 * query string. Answers and error bodies are shaped like the real server's. */
#ifndef DM_SIM_BOTAPI_H
#define DM_SIM_BOTAPI_H

#include "core/common.h"
#include "http/server.h"
#include "sim/world.h"

/* Answers one request for `method` (as written in the path) with `token` (secret: never logged).
 * Takes the world lock itself; may block for long polling. */
void botapi_handle(struct world *w, const char *token, const char *method,
                   const struct http_request *req, struct http_response *res);

/* A "Not Found" answer in the Bot API's shape, for paths that name no method. */
void botapi_not_found(struct http_response *res);

/* The canonical spelling of a method we serve ("getupdates" -> "getUpdates"), or NULL. */
const char *botapi_method_name(const char *method);

/* The Update object for u, as getUpdates and webhooks deliver it; the caller holds the world
 * lock and owns the result (NULL when out of memory). */
json_t *botapi_update_json(struct world *w, const struct sim_update *u);

#endif
