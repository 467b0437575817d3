/*
 * smtp_delivery.c - the SMTP backend that delivers into the store (see
 * smtp_delivery.h).
 */
#include "smtp_delivery.h"

#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "auth_guard.h"
#include "hal_clock.h"
#include "pb_err.h"

static const struct smtp_reply smtp_delivery_relay = {
    554, "5.7.1", "Relay access denied: that domain is not handled here" };
static const struct smtp_reply smtp_delivery_unknown = { 550, "5.1.1", "No such user here" };
static const struct smtp_reply smtp_delivery_many = {
    452, "4.5.3", "Too many recipients for one message; send the rest in another" };
static const struct smtp_reply smtp_delivery_huge = {
    550, "5.5.3", "This address reaches more mailboxes than one message can; ask the postmaster to split it" };
static const struct smtp_reply smtp_delivery_local = { 451, "4.3.0", "Local error, try again later" };

/* accounts_resolve() callback for the sender check: does this address
 * end at the logged-in user? */
struct smtp_delivery_owner {
    const char *user;
    bool mine;
};

static int smtp_delivery_owner_target(void *ctx, const char *user, const char *remote)
{
    struct smtp_delivery_owner *o = ctx;
    (void)remote;
    if (user && strcmp(user, o->user) == 0)
        o->mine = true;
    return 0;
}

/* Submission: a user sends as their own address, or as an address (an
 * alias) that delivers to them; the null sender is theirs too (delivery
 * reports, vacation replies). */
static bool smtp_delivery_may_send_as(struct store *s, const char *user, const struct mail_address *from)
{
    char addr[ACCOUNTS_ADDR_MAX + 1];
    if (from->null)
        return true;
    mail_address_format(from, addr, sizeof(addr));
    accounts_lower(addr);
    if (strcmp(addr, user) == 0)
        return true;
    /* Only a named alias counts: a domain's catch-all would otherwise let
     * its target send as every address nobody has. */
    char targets[8];    /* only whether it exists: PB_ERANGE says it does */
    int rc = accounts_alias_get(s, addr, targets, sizeof(targets));
    if (rc != 0 && rc != PB_ERANGE)
        return false;
    struct smtp_delivery_owner o = { user, false };
    return accounts_resolve(s, from, smtp_delivery_owner_target, &o) == 0 && o.mine;
}

static int smtp_delivery_auth(void *ctx, const char *peer, const char *user, const char *pass)
{
    struct smtp_delivery *d = ctx;
    uint64_t now = hal_clock_ms();
    if (auth_guard_check(peer, now) != 0)
        return PB_EBUSY;
    char u[ACCOUNTS_ADDR_MAX + 1];
    snprintf(u, sizeof(u), "%s", user);
    accounts_lower(u);
    if (!d->store || !accounts_user_check(d->store, u, pass)) {
        auth_guard_failed(peer, now);
        return PB_EPERM;
    }
    auth_guard_succeeded(peer);
    return 0;
}

static int smtp_delivery_begin(void *ctx, const struct smtp_envelope *env, struct smtp_reply *r)
{
    struct smtp_delivery *d = ctx;
    if (!d->store) {
        *r = smtp_delivery_local;
        return PB_EIO;
    }
    d->auth = env->auth_user != NULL;
    if (d->auth) {
        char user[ACCOUNTS_ADDR_MAX + 1];
        snprintf(user, sizeof(user), "%s", env->auth_user);
        accounts_lower(user);
        if (!smtp_delivery_may_send_as(d->store, user, &env->from)) {
            static char text[400];
            snprintf(text, sizeof(text), "Sender address rejected: not owned by %s", user);
            *r = (struct smtp_reply){ 553, "5.7.1", text };
            return PB_EPERM;
        }
    }
    d->nfolders = 0;
    d->txn = NULL;
    d->remote.used = 0;
    d->remote.n = 0;
    memcpy(d->id, env->id, sizeof(d->id));
    mail_address_format(&env->from, d->from, sizeof(d->from));
    return 0;
}

/* accounts_resolve() callback: remember the INBOX of a local user. */
static int smtp_delivery_target(void *ctx, const char *user, const char *remote)
{
    struct smtp_delivery *d = ctx;
    uint32_t mbox;
    uint16_t folder;
    if (remote)
        return smtp_queue_rcpts_add(&d->remote, remote);
    if (store_mailbox_find(d->store, user, &mbox) != 0 ||
        store_folder_find(d->store, mbox, "INBOX", &folder) != 0)
        return PB_EIO;
    for (int i = 0; i < d->nfolders; i++)
        if (d->folders[i] == folder)
            return 0;
    if (d->nfolders == SMTP_DELIVERY_FOLDERS)
        return PB_ERANGE;
    d->folders[d->nfolders++] = folder;
    return 0;
}

/* What the message's transaction will hold, in STORE_TXN_OPS_BYTES. */
static size_t smtp_delivery_txn_bytes(const struct smtp_delivery *d)
{
    size_t n = STORE_TXN_BLOB_BYTES + (size_t)d->nfolders * STORE_TXN_MSG_BYTES(sizeof("INBOX") - 1);
    if (d->remote.n)
        n += smtp_queue_txn_bytes(&d->remote, d->id, d->from);
    return n;
}

static int smtp_delivery_rcpt(void *ctx, const struct mail_address *rcpt, struct smtp_reply *r)
{
    struct smtp_delivery *d = ctx;
    int before = d->nfolders, before_n = d->remote.n;
    size_t before_used = d->remote.used;
    int err = accounts_resolve(d->store, rcpt, smtp_delivery_target, d);
    if (err == PB_EPERM && d->auth) {
        /* A logged-in user may send anywhere: other domains go out. */
        char addr[ACCOUNTS_ADDR_MAX + 1];
        mail_address_format(rcpt, addr, sizeof(addr));
        err = smtp_queue_rcpts_add(&d->remote, addr);
    }
    if (err == 0 && smtp_delivery_txn_bytes(d) > STORE_TXN_OPS_BYTES)
        err = PB_ERANGE;
    if (err == 0)
        return 0;
    /* A refused recipient adds nobody. */
    int alone = err == PB_ERANGE && before == 0 && before_n == 0;
    d->nfolders = before;
    d->remote.n = before_n;
    d->remote.used = before_used;
    *r = err == PB_EPERM ? smtp_delivery_relay :
         err == PB_ENOENT ? smtp_delivery_unknown :
         err == PB_ERANGE ? (alone ? smtp_delivery_huge : smtp_delivery_many) : smtp_delivery_local;
    return err;
}

/* The transaction and its blob start with the first body byte, preceded
 * by Return-Path: (RFC 5321 4.4: added by the delivering server). */
static int smtp_delivery_open(struct smtp_delivery *d)
{
    char rp[MAIL_PATH_MAX + 24];
    int err = store_txn_begin(d->store, &d->txn);
    if (err) {
        d->txn = NULL;
        return err;
    }
    if ((err = store_blob_begin(d->txn, &d->blob)) != 0)
        return err;
    int n = snprintf(rp, sizeof(rp), "Return-Path: <%s>\r\n", d->from);
    d->offset = (uint32_t)n;
    return store_blob_write(d->txn, rp, (size_t)n);
}

static int smtp_delivery_write(void *ctx, const uint8_t *data, size_t len)
{
    struct smtp_delivery *d = ctx;
    if (!d->txn) {
        int err = smtp_delivery_open(d);
        if (err)
            return err;
    }
    return store_blob_write(d->txn, data, len);
}

static int smtp_delivery_commit(void *ctx)
{
    struct smtp_delivery *d = ctx;
    int err = d->txn ? 0 : smtp_delivery_open(d);
    uint32_t date = (uint32_t)hal_clock_wall();
    if (!err)
        err = store_blob_end(d->txn);
    for (int i = 0; i < d->nfolders && !err; i++) {
        uint32_t uid;
        err = store_msg_add(d->txn, d->folders[i], d->blob, 0, date, &uid);
    }
    if (!err && d->remote.n)
        err = smtp_queue_add(d->txn, d->id, d->blob, d->offset, d->from, &d->remote, date);
    if (err) {
        store_txn_abort(d->txn);
        d->txn = NULL;
        return err;
    }
    err = store_txn_commit(d->txn);     /* frees the slot whatever it returns */
    d->txn = NULL;
    return err;
}

static void smtp_delivery_abort(void *ctx)
{
    struct smtp_delivery *d = ctx;
    if (d->txn)
        store_txn_abort(d->txn);
    d->txn = NULL;
    d->nfolders = 0;
    d->remote.n = 0;
    d->remote.used = 0;
}

void smtp_delivery_init(struct smtp_delivery *d, struct store *store, struct smtp_backend *be)
{
    memset(d, 0, sizeof(*d));
    d->store = store;
    *be = (struct smtp_backend){ d, smtp_delivery_begin, smtp_delivery_rcpt, smtp_delivery_write,
                                 smtp_delivery_commit, smtp_delivery_abort, smtp_delivery_auth };
}
