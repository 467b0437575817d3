/*
 * web_session.c - the web page's sessions (see web_session.h).
 */
#include "web_session.h"

#include <string.h>

#include "hal_rng.h"

static struct web_session web_sessions[WEB_SESSIONS];

static int web_session_token(char *out)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t r[WEB_TOKEN_HEX / 2];
    if (hal_rng_fill(r, sizeof(r)) != 0)
        return -1;
    for (size_t i = 0; i < sizeof(r); i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[WEB_TOKEN_HEX] = '\0';
    memset(r, 0, sizeof(r));
    return 0;
}

/* Equal in constant time, for a token of exactly WEB_TOKEN_HEX digits. */
static bool web_session_same(const char *a, const char *b)
{
    if (strlen(b) != WEB_TOKEN_HEX)
        return false;
    unsigned diff = 0;
    for (size_t i = 0; i < WEB_TOKEN_HEX; i++)
        diff |= (unsigned)(a[i] ^ b[i]);
    return diff == 0;
}

static void web_session_expire(uint64_t now_ms)
{
    for (int i = 0; i < WEB_SESSIONS; i++)
        if (web_sessions[i].used && now_ms - web_sessions[i].last_ms > WEB_SESSION_IDLE_MS)
            web_session_end(&web_sessions[i]);
}

struct web_session *web_session_new(uint64_t now_ms)
{
    web_session_expire(now_ms);
    struct web_session *s = NULL;
    for (int i = 0; i < WEB_SESSIONS; i++) {
        if (!web_sessions[i].used) {
            s = &web_sessions[i];
            break;
        }
        if (!s || web_sessions[i].last_ms < s->last_ms)
            s = &web_sessions[i];
    }
    web_session_end(s);
    if (web_session_token(s->token) != 0 || web_session_token(s->csrf) != 0) {
        web_session_end(s);
        return NULL;
    }
    s->used = true;
    s->last_ms = now_ms;
    return s;
}

struct web_session *web_session_find(const char *token, uint64_t now_ms)
{
    web_session_expire(now_ms);
    for (int i = 0; i < WEB_SESSIONS; i++) {
        struct web_session *s = &web_sessions[i];
        if (s->used && web_session_same(s->token, token)) {
            s->last_ms = now_ms;
            return s;
        }
    }
    return NULL;
}

bool web_session_csrf_ok(const struct web_session *s, const char *csrf)
{
    return s && s->used && web_session_same(s->csrf, csrf);
}

void web_session_end(struct web_session *s)
{
    if (s)
        memset(s, 0, sizeof(*s));
}

void web_session_reset(void)
{
    memset(web_sessions, 0, sizeof(web_sessions));
}
