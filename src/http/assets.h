/* assets.h: the web panel's files, embedded at build time by tools/embed.py (web/). */
#ifndef DM_HTTP_ASSETS_H
#define DM_HTTP_ASSETS_H

#include "core/common.h"

struct web_asset {
    const char *path; /* "/index.html" */
    const char *content_type;
    const unsigned char *data;
    size_t len;
    const char *etag; /* quoted, for If-None-Match */
};

/* Terminated by an entry whose path is NULL. */
extern const struct web_asset web_assets[];

/* The asset at path, or NULL. */
const struct web_asset *web_asset_find(const char *path);

#endif
