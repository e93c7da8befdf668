/* webapp.h: opening a Mini App as Telegram's apps do for a user: the URL a bot gave (a web_app
 * button, sendChatJoinRequestWebApp) with the launch parameters in its fragment, as
 * telegram-web-app.js reads them: tgWebAppData (the initData, signed with the bot's token as
 * core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app says: secret key =
 * HMAC-SHA-256 of the token keyed with "WebAppData"; hash = hex HMAC-SHA-256 of the other
 * fields as sorted "key=value" lines joined by "\n"), tgWebAppVersion, tgWebAppPlatform and
 * tgWebAppThemeParams. Written apart from doorman's checker (verify/initdata.c), with OpenSSL,
 * so each checks the other. */
#ifndef DM_SIM_WEBAPP_H
#define DM_SIM_WEBAPP_H

#include "core/common.h"
#include "core/buf.h"
#include "sim/world.h"

#define SIM_WEBAPP_VERSION "9.1" /* tgWebAppVersion */

struct sim_webapp_launch {
    const struct sim_bot *bot;
    const struct sim_user *user;
    const char *url;      /* as the bot gave it, without a fragment */
    int64_t auth_date;    /* Unix seconds */
    const char *platform; /* "android", "ios", "tdesktop", "weba", … */
    const char *theme;    /* JSON object of colours, e.g. {"bg_color":"#ffffff"} */
    const char *hash;     /* a hash to send instead of the right one (a forgery), or NULL */
};

/* The initData into data and the URL with its fragment into url (both reset first). */
dm_err sim_webapp_open(const struct sim_webapp_launch *l, struct buf *data, struct buf *url);

#endif
