/* cas.h: a CAS-style blocklist service for tests (the HTTP interface of https://api.cas.chat,
 * cas.chat/api), served by tgsim on /cas/ over the world's list (world_cas_put, the control
 * API's POST /control/cas).
 *
 * GET /cas/check?user_id=N answers, as CAS does, HTTP 200 with
 *   {"ok":true,"result":{"offenses":n,"messages":["…"],"time_added":"2026-12-05T08:00:00.000Z"}}
 * for a listed user and {"ok":false,"description":"Record not found."} for any other; a
 * user_id that is not an integer gets 400 {"ok":false,"description":"…"}. Calls count in
 * GET /control/stats as "cas.check", and a fault armed for "cas.check" (POST /control/faults)
 * answers its error_code and description, after delay_ms when given (error_code 0 with
 * delay_ms: the right answer, late). */
#ifndef DM_SIM_CAS_H
#define DM_SIM_CAS_H

#include "core/common.h"
#include "http/server.h"
#include "sim/world.h"

#define CAS_METHOD "cas.check" /* the name for faults and statistics */

/* Answers one request under /cas/; takes the world lock itself. */
void cas_handle(struct world *w, const struct http_request *req, struct http_response *res);

#endif
