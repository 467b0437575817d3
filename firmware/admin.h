/*
 * admin.h - the appliance administrator's password, which guards the
 * serial console (and, later, the web page).
 *
 * Kept in the store as the setting "admin.password": a SCRAM-SHA-256
 * verifier (password.h), never the password.  Until one is set the
 * console is open, and the web page accepts only the one-time setup code:
 * ADMIN_SETUP_CODE_LEN characters from an alphabet without look-alikes
 * (no 0, 1, O or I), shown as two groups of five ("K7QX2-M9TRA"), made at
 * boot from the board's TRNG and kept only in RAM (a reboot makes a new
 * one), gone once an admin password is set.  Wrong passwords cost time: after the n-th failure in a row the
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

#define ADMIN_SETUP_CODE_LEN  10      /* characters, without the dash */

/* Boot: without an admin password, make a fresh setup code.  Returns 0,
 * PB_EEXIST (a password exists: no code) or PB_EIO (no entropy). */
int admin_setup_code_make(void);

/* The setup code for reading ("XXXXX-XXXXX"), or NULL when there is none. */
const char *admin_setup_code(void);

/* Whether typed is the setup code (case, spaces and dashes ignored;
 * compared in constant time).  False when there is none. */
bool admin_setup_code_check(const char *typed);

/* Forget the failure count (tests). */
void admin_reset(void);

#endif
