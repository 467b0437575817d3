/*
 * web_session.h - who is signed in to the web page: a few sessions, each a
 * random 128-bit token (the pb_session cookie) with its own random CSRF
 * token (a hidden "csrf" field every POST form carries).
 *
 * Contract:
 *   - Tokens are 32 lower-case hex digits from hal_rng (the board's TRNG).
 *   - A session idle longer than WEB_SESSION_IDLE_MS is gone; each use
 *     refreshes it.  At most WEB_SESSIONS exist: a new sign-in when all are
 *     taken replaces the one idle longest.
 *   - Lookups compare tokens in constant time.
 *   - Time is the caller's (milliseconds, monotonic), so tests need no clock.
 */
#ifndef WEB_SESSION_H
#define WEB_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#define WEB_SESSIONS          4
#define WEB_SESSION_IDLE_MS   (15u * 60u * 1000u)
#define WEB_TOKEN_HEX         32      /* 128 bits as hex */

struct web_session {
    bool used;
    char token[WEB_TOKEN_HEX + 1];
    char csrf[WEB_TOKEN_HEX + 1];
    uint64_t last_ms;
};

/* A new session at now_ms.  Returns it, or NULL when the TRNG failed. */
struct web_session *web_session_new(uint64_t now_ms);

/* The live session with this token (refreshed), or NULL. */
struct web_session *web_session_find(const char *token, uint64_t now_ms);

/* Whether csrf is s's CSRF token (constant time). */
bool web_session_csrf_ok(const struct web_session *s, const char *csrf);

/* Sign out. */
void web_session_end(struct web_session *s);

/* Forget every session (boot, tests, a new admin password). */
void web_session_reset(void);

#endif
