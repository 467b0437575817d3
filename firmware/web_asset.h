/*
 * web_asset.h - the web page's files, embedded into the image at build
 * time from firmware/web/ by tools/embed-assets.py (the Makefile writes
 * build/gen/web_assets.c).  Static files ("/static/app.css") are served
 * only by exact lookup in this table, so no request path can name
 * anything else; HTML fragments (public false) are never served.
 */
#ifndef WEB_ASSET_H
#define WEB_ASSET_H

#include <stdbool.h>
#include <stddef.h>

struct web_asset {
    const char *name;               /* "/static/app.css", or "head.html" for a fragment */
    const char *ctype;              /* Content-Type */
    bool public;                    /* served under /static/ */
    const unsigned char *data;
    size_t len;
};

extern const struct web_asset web_assets[];
extern const size_t web_assets_count;
extern const size_t web_assets_bytes;  /* all of them together */

#endif
