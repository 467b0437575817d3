/*
 * pop3_maildrop.c - the POP3 backend over accounts and the store (see
 * pop3_maildrop.h).
 */
#include "pop3_maildrop.h"

#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "auth_guard.h"
#include "hal_clock.h"
#include "pb_err.h"

static int pop3_maildrop_login(void *ctx, const char *peer, const char *user, const char *pass)
{
    struct pop3_maildrop *d = ctx;
    char name[ACCOUNTS_ADDR_MAX + 1];
    uint64_t now = hal_clock_ms();
    uint32_t mbox;
    struct store_folder_info fi;

    if (!d->store)
        return PB_EIO;
    if (auth_guard_check(peer, now) != 0)
        return PB_EBUSY;
    if (!accounts_user_check(d->store, user, pass)) {
        auth_guard_failed(peer, now);
        return PB_EPERM;
    }
    auth_guard_succeeded(peer);

    /* accounts_user_check() accepted it, so it is an address that fits;
     * mailboxes are named by the lower-case address. */
    snprintf(name, sizeof(name), "%s", user);
    accounts_lower(name);
    int err = store_mailbox_find(d->store, name, &mbox);
    if (!err)
        err = store_folder_find(d->store, mbox, "INBOX", &d->folder);
    if (!err)
        err = store_folder_info(d->store, d->folder, &fi);
    if (err)
        return err;
    for (unsigned i = 0; i < d->nall; i++)
        if (&d->all[i] != d && d->all[i].open && d->all[i].folder == d->folder)
            return PB_EEXIST;

    d->uidvalidity = fi.uidvalidity;
    d->count = 0;
    struct store_msg_info mi;
    uint32_t after = 0;
    while (d->count < POP3_SESSION_MAX_MSGS &&
           store_msg_next(d->store, d->folder, after, &mi) == 0) {
        d->msgs[d->count++] = (struct pop3_maildrop_msg){ mi.uid, mi.size };
        after = mi.uid;
    }
    d->open = true;
    return 0;
}

static int pop3_maildrop_count(void *ctx)
{
    struct pop3_maildrop *d = ctx;
    return (int)d->count;
}

static int pop3_maildrop_msg(void *ctx, unsigned i, struct pop3_msg *m)
{
    struct pop3_maildrop *d = ctx;
    if (!d->open || i >= d->count)
        return PB_ENOENT;
    *m = (struct pop3_msg){ d->msgs[i].size, d->msgs[i].uid, d->uidvalidity };
    return 0;
}

static int pop3_maildrop_read(void *ctx, unsigned i, uint32_t offset, void *buf, size_t len)
{
    struct pop3_maildrop *d = ctx;
    struct store_msg_info mi;
    if (!d->open || i >= d->count)
        return PB_ENOENT;
    /* Looked up each time: the blob of a message expunged meanwhile (by
     * IMAP) may be gone. */
    int err = store_msg_get(d->store, d->folder, d->msgs[i].uid, &mi);
    if (err)
        return err;
    if (offset >= mi.size)
        return 0;
    if (len > mi.size - offset)
        len = mi.size - offset;
    return store_blob_read(d->store, mi.blob, offset, buf, len);
}

static int pop3_maildrop_commit(void *ctx, const uint8_t *deleted, unsigned count)
{
    struct pop3_maildrop *d = ctx;
    struct store_txn *txn;
    if (!d->open)
        return PB_EINVAL;
    int err = store_txn_begin(d->store, &txn);
    if (err)
        return err;
    for (unsigned i = 0; i < count && i < d->count; i++) {
        if (!((deleted[i / 8] >> (i % 8)) & 1u))
            continue;
        err = store_msg_expunge(txn, d->folder, d->msgs[i].uid);
        if (err == PB_ENOENT)
            err = 0;            /* gone already: what QUIT wanted */
        if (err) {
            store_txn_abort(txn);
            return err;
        }
    }
    return store_txn_commit(txn);   /* frees the slot whatever it returns */
}

static void pop3_maildrop_logout(void *ctx)
{
    struct pop3_maildrop *d = ctx;
    d->open = false;
    d->count = 0;
}

void pop3_maildrop_init(struct pop3_maildrop *d, struct pop3_backend *be, unsigned n,
                        struct store *store)
{
    for (unsigned i = 0; i < n; i++) {
        memset(&d[i], 0, sizeof(d[i]));
        d[i].store = store;
        d[i].all = d;
        d[i].nall = n;
        be[i] = (struct pop3_backend){ &d[i], pop3_maildrop_login, pop3_maildrop_count,
                                       pop3_maildrop_msg, pop3_maildrop_read,
                                       pop3_maildrop_commit, pop3_maildrop_logout };
    }
}
