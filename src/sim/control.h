/* control.h: tgsim's control API, JSON over HTTP under /control/ (documented in docs/tgsim.md).
 *
 * Tests and `doorman demo` use it to build the world (bots, users, channels, admins, members,
 * join requests), to turn the knobs (rate limit, latency, faults) and to read the state of every
 * join request. Errors are {"error":"<sentence>"}: 400 for bad input or unknown ids, 404 for
 * unknown paths. */
#ifndef DM_SIM_CONTROL_H
#define DM_SIM_CONTROL_H

#include "core/common.h"
#include "http/server.h"
#include "sim/world.h"

/* Answers one request whose path starts with "/control/". Takes the world lock itself. */
void control_handle(struct world *w, const struct http_request *req, struct http_response *res);

#endif
