/*
 * web_page.h - what the web page answers to one request: routing, the
 * sign-in and first-boot setup, the session and CSRF checks, the admin
 * pages, the embedded static files and the mail-client autoconfiguration.
 *
 * Contract:
 *   - Plain HTTP (port 80) answers only autoconfiguration; everything
 *     else is 301 to https://HOST/PATH (the MTA-STS policy too: RFC 8461
 *     has senders fetch it over HTTPS only).
 *   - Without a session only /login, /setup, /static/... and the
 *     autoconfiguration paths answer; any other GET is 303 to /login (to
 *     /setup while no admin password exists), any other method 401.
 *   - Every POST made within a session carries the session's CSRF token
 *     as the form field "csrf", else 403 and nothing is changed.
 *   - Pages act by running the console's own commands
 *     (console_execute_capture): one validation and one set of messages
 *     for both, and console.c stays the one place that knows them.
 *   - Passwords are never echoed into a page or the log.
 */
#ifndef WEB_PAGE_H
#define WEB_PAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"
#include "web.h"

struct identity;

struct web_ctx {
    const struct http_req *req;
    bool https;
    const char *peer;                   /* client address as text */
    uint64_t now_ms;
    const struct identity *identity;    /* the appliance certificate, or NULL */
};

/* Build the response to ctx->req in r (status 200 and an empty body on
 * entry). */
void web_page_handle(const struct web_ctx *ctx, struct web_resp *r);

#endif
