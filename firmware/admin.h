/*
 * admin.h - the appliance administrator's password, which guards the
 * serial console (and, later, the web page).
 *
 * Kept in the store as the setting "admin.password": a SCRAM-SHA-256
 * verifier (password.h), never the password.  Until one is set the
 * console is open (first boot; the web page will use a one-time setup
 * code).  Wrong passwords cost time: after the n-th failure in a row the
 * next try is accepted only after ADMIN_DELAY_MS << (n - 1), at most
 * ADMIN_DELAY_MAX_MS; a right one clears the count.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADMIN_DELAY_MS      1000u
#define ADMIN_DELAY_MAX_MS  30000u

/* Whether an admin password is set. */
bool admin_password_exists(void);

/* Set (or replace) the admin password; committed to flash when it
 * returns 0.  PB_EINVAL for an empty or too long password, PB_ENOTSUP
 * without a store, or the store's error. */
int admin_password_set(const char *pw);

/* Check a password typed at now_ms.  Returns 0 when right; PB_EPERM when
 * wrong (counted); PB_EBUSY when it came before the delay after the last
 * failure was over (not checked, not counted).  *wait_ms (may be NULL)
 * gets how long to wait before the next try. */
int admin_password_check(const char *pw, uint64_t now_ms, uint32_t *wait_ms);

/* Forget the failure count (tests). */
void admin_reset(void);

#endif
