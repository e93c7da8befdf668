/* post.h: one signed POST of a delivery's body to a webhook (internal to src/alerts/). */
#ifndef DM_ALERTS_POST_H
#define DM_ALERTS_POST_H

#include "alerts/alerts.h"

/* POSTs body to url with the signature headers and X-Doorman-Event (kind) and X-Doorman-Delivery
 * (delivery id). *status gets the HTTP status (0: no answer). DM_OK for a 2xx answer; otherwise
 * an error whose message says what went wrong without the URL. */
dm_err post_signed(const char *url, const char *secret, const struct store_delivery *d,
                   unsigned timeout_s, int *status, struct dm_error *err);

#endif
