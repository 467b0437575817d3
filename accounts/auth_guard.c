/*
 * auth_guard.c - failed logins per client address (see auth_guard.h).
 */
#include "auth_guard.h"

#include <stdbool.h>
#include <string.h>

#include "pb_err.h"

struct auth_guard_entry {
    char peer[AUTH_GUARD_PEER_MAX + 1];    /* "" when the slot is free */
    uint64_t first_ms;          /* first failure of the current window */
    uint64_t last_ms;           /* last failure, for eviction */
    uint64_t locked_until_ms;   /* 0: not locked */
    uint32_t fails;
};

static struct auth_guard_entry auth_guard_table[AUTH_GUARD_SLOTS];
static uint32_t auth_guard_max_fails = AUTH_GUARD_MAX_FAILS;
static uint32_t auth_guard_lock_ms = AUTH_GUARD_LOCK_MS;

int auth_guard_set_limits(uint32_t max_fails, uint32_t lock_ms)
{
    if (max_fails < AUTH_GUARD_FAILS_MIN || max_fails > AUTH_GUARD_FAILS_MAX ||
        lock_ms < AUTH_GUARD_LOCK_MIN_MS || lock_ms > AUTH_GUARD_LOCK_MAX_MS)
        return PB_ERANGE;
    auth_guard_max_fails = max_fails;
    auth_guard_lock_ms = lock_ms;
    return 0;
}

void auth_guard_limits(uint32_t *max_fails, uint32_t *lock_ms)
{
    *max_fails = auth_guard_max_fails;
    *lock_ms = auth_guard_lock_ms;
}

static struct auth_guard_entry *auth_guard_find(const char *peer)
{
    for (int i = 0; i < AUTH_GUARD_SLOTS; i++)
        if (auth_guard_table[i].peer[0] && strncmp(auth_guard_table[i].peer, peer,
                                                   AUTH_GUARD_PEER_MAX) == 0)
            return &auth_guard_table[i];
    return NULL;
}

static bool auth_guard_locked(const struct auth_guard_entry *e, uint64_t now_ms)
{
    return e->locked_until_ms != 0 && now_ms < e->locked_until_ms;
}

/* A free slot, else the one idle longest (unlocked ones first). */
static struct auth_guard_entry *auth_guard_slot(uint64_t now_ms)
{
    struct auth_guard_entry *victim = NULL;
    for (int i = 0; i < AUTH_GUARD_SLOTS; i++) {
        struct auth_guard_entry *e = &auth_guard_table[i];
        if (!e->peer[0])
            return e;
        if (!victim)
            victim = e;
        else if (auth_guard_locked(victim, now_ms) != auth_guard_locked(e, now_ms)) {
            if (auth_guard_locked(victim, now_ms))
                victim = e;
        } else if (e->last_ms < victim->last_ms)
            victim = e;
    }
    return victim;
}

int auth_guard_check(const char *peer, uint64_t now_ms)
{
    const struct auth_guard_entry *e = auth_guard_find(peer);
    return e && auth_guard_locked(e, now_ms) ? PB_EBUSY : 0;
}

void auth_guard_failed(const char *peer, uint64_t now_ms)
{
    struct auth_guard_entry *e = auth_guard_find(peer);
    if (!e) {
        e = auth_guard_slot(now_ms);
        memset(e, 0, sizeof(*e));
        strncpy(e->peer, peer, AUTH_GUARD_PEER_MAX);
        e->first_ms = now_ms;
    }
    if (e->locked_until_ms && now_ms >= e->locked_until_ms) {
        e->locked_until_ms = 0;         /* the lockout is over: a new window */
        e->fails = 0;
        e->first_ms = now_ms;
    }
    if (now_ms - e->first_ms > AUTH_GUARD_WINDOW_MS) {
        e->fails = 0;
        e->first_ms = now_ms;
    }
    e->last_ms = now_ms;
    if (++e->fails >= auth_guard_max_fails && !auth_guard_locked(e, now_ms))
        e->locked_until_ms = now_ms + auth_guard_lock_ms;
}

void auth_guard_succeeded(const char *peer)
{
    struct auth_guard_entry *e = auth_guard_find(peer);
    if (e)
        memset(e, 0, sizeof(*e));
}

void auth_guard_reset(void)
{
    memset(auth_guard_table, 0, sizeof(auth_guard_table));
}
