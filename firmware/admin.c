/*
 * admin.c - the administrator's password (see admin.h).
 */
#include "admin.h"

#include <string.h>

#include "hal_rng.h"
#include "password.h"
#include "pb_err.h"
#include "storage.h"

#define ADMIN_KEY "admin.password"

/* 32 symbols: five bits each, so a random byte maps without bias. */
static const char admin_alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

static struct {
    unsigned failures;      /* wrong passwords in a row */
    uint64_t next_ms;       /* no try before this */
    char setup[ADMIN_SETUP_CODE_LEN + 2];   /* "XXXXX-XXXXX", "" when none */
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
    if (err == 0)
        memset(admin.setup, 0, sizeof(admin.setup));   /* the code has done its job */
    return err;
}

int admin_setup_code_make(void)
{
    uint8_t r[ADMIN_SETUP_CODE_LEN];
    memset(admin.setup, 0, sizeof(admin.setup));
    if (admin_password_exists())
        return PB_EEXIST;
    if (hal_rng_fill(r, sizeof(r)) != 0)
        return PB_EIO;
    size_t o = 0;
    for (size_t i = 0; i < sizeof(r); i++) {
        if (i == ADMIN_SETUP_CODE_LEN / 2)
            admin.setup[o++] = '-';
        admin.setup[o++] = admin_alphabet[r[i] & 31];
    }
    memset(r, 0, sizeof(r));
    return 0;
}

const char *admin_setup_code(void)
{
    return admin.setup[0] ? admin.setup : NULL;
}

bool admin_setup_code_check(const char *typed)
{
    char want[ADMIN_SETUP_CODE_LEN], got[ADMIN_SETUP_CODE_LEN];
    size_t nw = 0, ng = 0;
    if (!admin.setup[0])
        return false;
    for (size_t i = 0; admin.setup[i]; i++)
        if (admin.setup[i] != '-')
            want[nw++] = admin.setup[i];
    /* Bounded by the typed text; more than the code's length is wrong. */
    for (size_t i = 0; typed[i]; i++) {
        char c = typed[i];
        if (c == '-' || c == ' ')
            continue;
        if (ng == sizeof(got))
            return false;
        got[ng++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    if (ng != nw)
        return false;
    unsigned diff = 0;
    for (size_t i = 0; i < nw; i++)
        diff |= (unsigned)(want[i] ^ got[i]);
    return diff == 0;
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
