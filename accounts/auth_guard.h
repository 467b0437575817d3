/*
 * auth_guard.h - failed logins counted per client address, with a lockout.
 *
 * Shared by every service that checks passwords (POP3, IMAP, submission):
 * they all call auth_guard_check() before checking a password and
 * auth_guard_failed() / auth_guard_succeeded() after, so a password
 * guesser is locked out of all of them at once.
 *
 * Contract:
 *   - An address (the peer as text, e.g. "192.0.2.7" or "2001:db8::1") that
 *     failed max_fails logins within AUTH_GUARD_WINDOW_MS is locked for
 *     lock_ms (auth_guard_set_limits; by default AUTH_GUARD_MAX_FAILS and
 *     AUTH_GUARD_LOCK_MS): auth_guard_check() returns PB_EBUSY,
 *     and the service must refuse the login without checking the password
 *     (so a locked-out guesser learns nothing, not even by timing).
 *   - A successful login clears the address's count.
 *   - Memory is one fixed table of AUTH_GUARD_SLOTS entries.  When it is
 *     full, the entry idle longest is forgotten, preferring entries that
 *     are not locked: a flood of addresses can push out counts, never
 *     lock anybody out who did not fail.
 *   - Time is the caller's (milliseconds, monotonic, e.g. hal_clock_ms()),
 *     so the table is testable and never reads a clock itself.
 * The delay before each failed login's reply is the service's business
 * (it must not block the event loop): see pop3_server.c.
 */
#ifndef AUTH_GUARD_H
#define AUTH_GUARD_H

#include <stdint.h>

#define AUTH_GUARD_SLOTS        32
#define AUTH_GUARD_MAX_FAILS    10
#define AUTH_GUARD_WINDOW_MS    (15u * 60u * 1000u)
#define AUTH_GUARD_LOCK_MS      (15u * 60u * 1000u)
#define AUTH_GUARD_FAILS_MIN    1
#define AUTH_GUARD_FAILS_MAX    1000
#define AUTH_GUARD_LOCK_MIN_MS  1000u                   /* 1 s */
#define AUTH_GUARD_LOCK_MAX_MS  (7u * 86400u * 1000u)   /* one week */
#define AUTH_GUARD_PEER_MAX     47      /* characters of an address as text */

/* 0 if peer may try a password now, PB_EBUSY while it is locked out. */
int auth_guard_check(const char *peer, uint64_t now_ms);

/* peer failed a login at now_ms: counted, and locked out at the limit. */
void auth_guard_failed(const char *peer, uint64_t now_ms);

/* peer logged in: its count is cleared. */
void auth_guard_succeeded(const char *peer);

/* The limits (settings `set auth max-failures` and `set auth lockout`):
 * max_fails within AUTH_GUARD_FAILS_MIN..AUTH_GUARD_FAILS_MAX, lock_ms
 * within AUTH_GUARD_LOCK_MIN_MS..AUTH_GUARD_LOCK_MAX_MS, else PB_ERANGE
 * and nothing changes.  Lockouts under way keep their end time; counts
 * are kept and judged against the new limit at the next failure. */
int auth_guard_set_limits(uint32_t max_fails, uint32_t lock_ms);
void auth_guard_limits(uint32_t *max_fails, uint32_t *lock_ms);

/* Forget everything (boot, tests).  The limits stay. */
void auth_guard_reset(void);

#endif
