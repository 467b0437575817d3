/*
 * admin.c - the administrator's password (see admin.h).
 */
#include "admin.h"

#include <string.h>

#include "password.h"
#include "pb_err.h"
#include "storage.h"

#define ADMIN_KEY "admin.password"

static struct {
    unsigned failures;      /* wrong passwords in a row */
    uint64_t next_ms;       /* no try before this */
} admin;

bool admin_password_exists(void)
{
    struct password_hash h;
    struct store *s = storage_get();
    return s && store_setting_get(s, ADMIN_KEY, NULL, &h, sizeof(h)) == (int)sizeof(h);
}

int admin_password_set(const char *pw)
{
    struct password_hash h;
    struct store *s = storage_get();
    struct store_txn *t;
    if (!s)
        return PB_ENOTSUP;
    int err = password_hash_make(pw, strlen(pw), &h);
    if (err)
        return err;
    if ((err = store_txn_begin(s, &t)) == 0) {
        if ((err = store_setting_set(t, ADMIN_KEY, STORE_T_BYTES, &h, sizeof(h))) == 0)
            err = store_txn_commit(t);
        else
            store_txn_abort(t);
    }
    memset(&h, 0, sizeof(h));
    return err;
}

int admin_password_check(const char *pw, uint64_t now_ms, uint32_t *wait_ms)
{
    struct password_hash h;
    struct store *s = storage_get();
    if (wait_ms)
        *wait_ms = 0;
    if (now_ms < admin.next_ms) {
        if (wait_ms)
            *wait_ms = (uint32_t)(admin.next_ms - now_ms);
        return PB_EBUSY;
    }
    bool ok = s && store_setting_get(s, ADMIN_KEY, NULL, &h, sizeof(h)) == (int)sizeof(h) &&
              password_hash_check(&h, pw, strlen(pw));
    if (ok) {
        admin.failures = 0;
        admin.next_ms = 0;
        return 0;
    }
    admin.failures++;
    uint32_t delay = admin.failures > 6 ? ADMIN_DELAY_MAX_MS : ADMIN_DELAY_MS << (admin.failures - 1);
    if (delay > ADMIN_DELAY_MAX_MS)
        delay = ADMIN_DELAY_MAX_MS;
    admin.next_ms = now_ms + delay;
    if (wait_ms)
        *wait_ms = delay;
    return PB_EPERM;
}

void admin_reset(void)
{
    memset(&admin, 0, sizeof(admin));
}
