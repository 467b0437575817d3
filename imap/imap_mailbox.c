/*
 * imap_mailbox.c - an IMAP session's view of a mailbox in the store (see
 * imap_mailbox.h).
 */
#include "imap_mailbox.h"

#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "auth_guard.h"
#include "hal_clock.h"
#include "pb_err.h"

void imap_mailbox_init(struct imap_mailbox *mb, struct store *store)
{
    memset(mb, 0, sizeof(*mb));
    mb->store = store;
}

int imap_mailbox_login(struct imap_mailbox *mb, const char *peer, const char *user,
                       const char *pass)
{
    uint64_t now = hal_clock_ms();
    if (!mb->store)
        return PB_EIO;
    if (auth_guard_check(peer, now) != 0)
        return PB_EBUSY;
    if (strlen(user) > IMAP_MAILBOX_USER_MAX || !accounts_user_check(mb->store, user, pass)) {
        auth_guard_failed(peer, now);
        return PB_EPERM;
    }
    auth_guard_succeeded(peer);
    snprintf(mb->user, sizeof(mb->user), "%s", user);
    accounts_lower(mb->user);
    int err = store_mailbox_find(mb->store, mb->user, &mb->mailbox);
    if (err)
        return err;
    mb->logged_in = true;
    imap_mailbox_keywords_load(mb);     /* none yet is no error; a read error shows later */
    return 0;
}

void imap_mailbox_logout(struct imap_mailbox *mb)
{
    imap_mailbox_append_abort(mb);
    imap_mailbox_unselect(mb);
    mb->logged_in = false;
    mb->user[0] = '\0';
}

/* ------------------------------------------------------------ folders --- */

/* "inbox" in any case is INBOX (RFC 3501 5.1); other names are exact. */
static const char *imap_mailbox_norm(const char *name)
{
    static const char inbox[] = "INBOX";
    for (int i = 0; i < 5; i++) {
        char ch = name[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 32);
        if (ch != inbox[i])
            return name;
    }
    return name[5] == '\0' ? inbox : name;
}

int imap_mailbox_find(struct imap_mailbox *mb, const char *name, uint16_t *folder)
{
    if (!mb->logged_in)
        return PB_EPERM;
    return store_folder_find(mb->store, mb->mailbox, imap_mailbox_norm(name), folder);
}

int imap_mailbox_next(struct imap_mailbox *mb, uint16_t after, struct store_folder_info *fi)
{
    if (!mb->logged_in)
        return PB_EPERM;
    return store_folder_next(mb->store, mb->mailbox, after, fi);
}

const char *imap_mailbox_special_use(const char *name)
{
    static const char *const map[][2] = {
        { "Sent", "\\Sent" }, { "Drafts", "\\Drafts" }, { "Trash", "\\Trash" },
        { "Junk", "\\Junk" }, { "Archive", "\\Archive" },
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(name, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

/* A folder name we keep: 1..STORE_NAME_MAX bytes, no control characters,
 * no empty level ("a//b", "/a", "a/"). */
static bool imap_mailbox_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > STORE_NAME_MAX || name[0] == '/' || name[n - 1] == '/' || strstr(name, "//"))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == '*' || name[i] == '%')
            return false;
    return true;
}

static int imap_mailbox_run(struct imap_mailbox *mb, int (*fn)(struct store_txn *, const void *),
                            const void *arg)
{
    struct store_txn *txn;
    int err = store_txn_begin(mb->store, &txn);
    if (err)
        return err;
    err = fn(txn, arg);
    if (err) {
        store_txn_abort(txn);
        return err;
    }
    return store_txn_commit(txn);
}

struct imap_mailbox_op {
    struct imap_mailbox *mb;
    const char *a, *b;
    uint16_t folder;
};

static int imap_mailbox_do_create(struct store_txn *txn, const void *arg)
{
    const struct imap_mailbox_op *op = arg;
    uint16_t f;
    return store_folder_create(txn, op->mb->mailbox, op->a, &f);
}

int imap_mailbox_create(struct imap_mailbox *mb, const char *name)
{
    char n[STORE_NAME_MAX + 2];
    if (!mb->logged_in)
        return PB_EPERM;
    /* A trailing delimiter only says the client means to create children
     * under it (RFC 3501 6.3.3); the name is kept without it. */
    snprintf(n, sizeof(n), "%s", imap_mailbox_norm(name));
    size_t len = strlen(n);
    if (len > 1 && n[len - 1] == '/')
        n[len - 1] = '\0';
    if (!imap_mailbox_name_ok(n))
        return PB_EINVAL;
    struct imap_mailbox_op op = { mb, n, NULL, 0 };
    return imap_mailbox_run(mb, imap_mailbox_do_create, &op);
}

/* The subscription record of a folder: "sub:<user>:<folder>". */
static int imap_mailbox_subname(const struct imap_mailbox *mb, const char *folder, char *rec)
{
    size_t u = strlen(mb->user), f = strlen(folder);
    if (4 + u + 1 + f > STORE_REC_NAME_MAX)
        return PB_ERANGE;
    memcpy(rec, "sub:", 4);
    memcpy(rec + 4, mb->user, u);
    rec[4 + u] = ':';
    memcpy(rec + 5 + u, folder, f + 1);
    return 0;
}

static int imap_mailbox_do_delete(struct store_txn *txn, const void *arg)
{
    const struct imap_mailbox_op *op = arg;
    int err = store_folder_delete(txn, op->folder);
    char rec[STORE_REC_NAME_MAX + 1], v[1];
    if (!err && imap_mailbox_subname(op->mb, op->a, rec) == 0 && store_rec_get(op->mb->store, STORE_NS_IMAP, rec, v, sizeof(v)) != PB_ENOENT)
        err = store_rec_del(txn, STORE_NS_IMAP, rec);
    return err == PB_ENOENT ? 0 : err;
}

int imap_mailbox_delete(struct imap_mailbox *mb, const char *name)
{
    struct imap_mailbox_op op = { mb, imap_mailbox_norm(name), NULL, 0 };
    if (strcmp(op.a, "INBOX") == 0)
        return PB_EPERM;                    /* RFC 3501 6.3.4 */
    int err = imap_mailbox_find(mb, op.a, &op.folder);
    if (err)
        return err;
    if (mb->selected && mb->folder == op.folder)
        imap_mailbox_unselect(mb);
    return imap_mailbox_run(mb, imap_mailbox_do_delete, &op);
}

static int imap_mailbox_do_rename(struct store_txn *txn, const void *arg)
{
    const struct imap_mailbox_op *op = arg;
    struct store_folder_info fi;
    char to[STORE_NAME_MAX + 2];
    size_t flen = strlen(op->a);
    int err = store_folder_rename(txn, op->folder, op->b);
    /* Children move with their parent ("a/x" becomes "b/x"); at most
     * STORE_FOLDERS_MAX of them. */
    uint16_t after = 0;
    while (!err && store_folder_next(op->mb->store, op->mb->mailbox, after, &fi) == 0) {
        after = fi.id;
        if (strncmp(fi.name, op->a, flen) != 0 || fi.name[flen] != '/')
            continue;
        if ((size_t)snprintf(to, sizeof(to), "%s%s", op->b, fi.name + flen) > STORE_NAME_MAX)
            return PB_ERANGE;
        err = store_folder_rename(txn, fi.id, to);
    }
    return err;
}

static int imap_mailbox_rename_inbox(struct imap_mailbox *mb, const char *to);

int imap_mailbox_rename(struct imap_mailbox *mb, const char *from, const char *to)
{
    struct imap_mailbox_op op = { mb, imap_mailbox_norm(from), imap_mailbox_norm(to), 0 };
    if (strcmp(op.b, "INBOX") == 0)
        return PB_EEXIST;                   /* INBOX always exists */
    if (!imap_mailbox_name_ok(op.b))
        return PB_EINVAL;
    if (strcmp(op.a, "INBOX") == 0)
        return imap_mailbox_rename_inbox(mb, op.b);
    int err = imap_mailbox_find(mb, op.a, &op.folder);
    if (err)
        return err;
    return imap_mailbox_run(mb, imap_mailbox_do_rename, &op);
}

static int imap_mailbox_do_sub(struct store_txn *txn, const void *arg)
{
    const struct imap_mailbox_op *op = arg;
    if (op->b)
        return store_rec_put(txn, STORE_NS_IMAP, op->a, "", 0);
    int err = store_rec_del(txn, STORE_NS_IMAP, op->a);
    return err == PB_ENOENT ? 0 : err;
}

int imap_mailbox_subscribe(struct imap_mailbox *mb, const char *name, bool on)
{
    char rec[STORE_REC_NAME_MAX + 1], v[1];
    if (!mb->logged_in)
        return PB_EPERM;
    const char *n = imap_mailbox_norm(name);
    if (!imap_mailbox_name_ok(n))
        return PB_EINVAL;
    if (imap_mailbox_subname(mb, n, rec))
        return PB_ERANGE;
    if (!on && store_rec_get(mb->store, STORE_NS_IMAP, rec, v, sizeof(v)) == PB_ENOENT)
        return 0;
    struct imap_mailbox_op op = { mb, rec, on ? "" : NULL, 0 };
    return imap_mailbox_run(mb, imap_mailbox_do_sub, &op);
}

bool imap_mailbox_subscribed(struct imap_mailbox *mb, const char *name)
{
    char rec[STORE_REC_NAME_MAX + 1];
    char v[1];
    return imap_mailbox_subname(mb, imap_mailbox_norm(name), rec) == 0 && store_rec_get(mb->store, STORE_NS_IMAP, rec, v, sizeof(v)) >= 0;
}

static int imap_mailbox_count(struct store *s, uint16_t folder, struct imap_mailbox_counts *n,
                              struct store_folder_info *fi)
{
    int err = store_folder_info(s, folder, fi);
    if (err)
        return err;
    struct store_msg_info mi;
    uint32_t after = 0;
    memset(n, 0, sizeof(*n));
    while (store_msg_next(s, folder, after, &mi) == 0) {
        after = mi.uid;
        n->messages++;
        n->unseen += !(mi.flags & STORE_FLAG_SEEN);
        n->deleted += !!(mi.flags & STORE_FLAG_DELETED);
        n->bytes += mi.size;
    }
    return 0;
}

int imap_mailbox_status(struct imap_mailbox *mb, uint16_t folder, struct imap_mailbox_counts *n,
                        struct store_folder_info *fi)
{
    return imap_mailbox_count(mb->store, folder, n, fi);
}

int imap_mailbox_totals(struct store *s, uint16_t folder, uint32_t *messages, uint32_t *unseen,
                        uint64_t *bytes, struct store_folder_info *fi)
{
    struct imap_mailbox_counts n;
    int err = imap_mailbox_count(s, folder, &n, fi);
    if (err)
        return err;
    *messages = n.messages;
    *unseen = n.unseen;
    if (bytes)
        *bytes = n.bytes;
    return 0;
}

/* ----------------------------------------------------------- keywords --- */

/* The keyword record of the mailbox: "kw:<user>". */
static int imap_mailbox_kwname(const struct imap_mailbox *mb, char *rec)
{
    size_t u = strlen(mb->user);
    if (3 + u > STORE_REC_NAME_MAX)
        return PB_ERANGE;
    memcpy(rec, "kw:", 3);
    memcpy(rec + 3, mb->user, u + 1);
    return 0;
}

/* The record's value: "#<epoch>" then one token per slot, "\" for a
 * free one.  A record written before slots could be freed has neither. */
#define IMAP_MAILBOX_KW_VALUE (12 + IMAP_MAILBOX_KEYWORDS * (IMAP_MAILBOX_KEYWORD_MAX + 1) + 1)

/* A name in a session's snapshot that changed its meaning: every message
 * the client saw with that bit and that carries the bit now (with its new
 * name) gets reported again at the next sync. */
static void imap_mailbox_kw_moved(struct imap_mailbox *mb, uint16_t bit)
{
    struct store_msg_info mi;
    for (unsigned k = 0; mb->selected && k < mb->count; k++)
        if ((mb->flags[k] & bit) && store_msg_get(mb->store, mb->folder, mb->uids[k], &mi) == 0 &&
            (mi.flags & bit))
            mb->flags[k] &= (uint16_t)~bit;
}

int imap_mailbox_keywords_load(struct imap_mailbox *mb)
{
    char rec[STORE_REC_NAME_MAX + 1];
    char v[IMAP_MAILBOX_KW_VALUE];
    char names[IMAP_MAILBOX_KEYWORDS][IMAP_MAILBOX_KEYWORD_MAX + 1];
    unsigned n = 0;
    uint32_t epoch = 0;
    int err = imap_mailbox_kwname(mb, rec);
    int len = err ? err : store_rec_get(mb->store, STORE_NS_IMAP, rec, v, sizeof(v) - 1);
    if (len < 0 && len != PB_ENOENT)
        return len;
    v[len < 0 ? 0 : len] = '\0';
    char *p = v;
    if (*p == '#') {
        for (p++; *p >= '0' && *p <= '9'; p++)
            epoch = epoch * 10u + (uint32_t)(*p - '0');
        p += *p == ' ';
    }
    /* One token per slot; one that does not fit (never written so) is a
     * free slot. */
    while (*p && n < IMAP_MAILBOX_KEYWORDS) {
        size_t l = strcspn(p, " ");
        names[n][0] = '\0';
        if (l > 0 && l <= IMAP_MAILBOX_KEYWORD_MAX && p[0] != '\\') {
            memcpy(names[n], p, l);
            names[n][l] = '\0';
        }
        n++;
        p += l;
        p += *p == ' ';
    }
    /* Only a reclaim changes what a bit means, and it moves the epoch. */
    if (epoch != mb->kw_epoch) {
        for (unsigned i = 0; i < mb->nkeywords; i++)
            if (mb->keywords[i][0] && (i >= n || strcmp(mb->keywords[i], names[i]) != 0))
                imap_mailbox_kw_moved(mb, (uint16_t)(IMAP_MAILBOX_KEYWORD_BIT0 << i));
    }
    mb->kw_epoch = epoch;
    mb->nkeywords = n;
    memcpy(mb->keywords, names, sizeof(names[0]) * n);
    return 0;
}

/* Keywords compare without ASCII case (RFC 3501 section 2.3.2). */
static bool imap_mailbox_kweq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
        char y = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

static int imap_mailbox_kwfind(const struct imap_mailbox *mb, const char *name)
{
    for (unsigned i = 0; i < mb->nkeywords; i++)
        if (mb->keywords[i][0] && imap_mailbox_kweq(mb->keywords[i], name))
            return (int)i;
    return -1;
}

static int imap_mailbox_do_kwput(struct store_txn *txn, const void *arg)
{
    const struct imap_mailbox *mb = ((const struct imap_mailbox_op *)arg)->mb;
    char rec[STORE_REC_NAME_MAX + 1];
    char v[IMAP_MAILBOX_KW_VALUE];
    int err = imap_mailbox_kwname(mb, rec);
    if (err)
        return err;
    size_t n = (size_t)snprintf(v, sizeof(v), "#%lu", (unsigned long)mb->kw_epoch);
    for (unsigned i = 0; i < mb->nkeywords; i++) {
        const char *name = mb->keywords[i][0] ? mb->keywords[i] : "\\";
        size_t len = strlen(name);
        v[n++] = ' ';
        memcpy(v + n, name, len);
        n += len;
    }
    return store_rec_put(txn, STORE_NS_IMAP, rec, v, n);
}

/* The keyword bits some message of the mailbox carries: every folder,
 * every message (bounded by what the store holds), and this session's
 * APPEND in progress. */
static uint16_t imap_mailbox_kw_used(struct imap_mailbox *mb)
{
    struct store_folder_info fi;
    struct store_msg_info mi;
    uint16_t used = mb->append_txn ? (uint16_t)mb->append_flags : 0;
    for (uint16_t after = 0; store_folder_next(mb->store, mb->mailbox, after, &fi) == 0; after = fi.id)
        for (uint32_t uid = 0; store_msg_next(mb->store, fi.id, uid, &mi) == 0; uid = mi.uid)
            used |= (uint16_t)mi.flags;
    return used;
}

/* A slot for a new name: a free one, else the names no message carries
 * any more are freed (the epoch moves, so that every session rereads
 * what the bits mean).  The slot's index, or PB_ENOSPC. */
static int imap_mailbox_kw_slot(struct imap_mailbox *mb)
{
    for (unsigned i = 0; i < mb->nkeywords; i++)
        if (!mb->keywords[i][0])
            return (int)i;
    if (mb->nkeywords < IMAP_MAILBOX_KEYWORDS)
        return (int)mb->nkeywords++;
    uint16_t used = imap_mailbox_kw_used(mb);
    int slot = -1;
    for (unsigned i = 0; i < mb->nkeywords; i++) {
        if (used & (IMAP_MAILBOX_KEYWORD_BIT0 << i))
            continue;
        mb->keywords[i][0] = '\0';
        imap_mailbox_kw_moved(mb, (uint16_t)(IMAP_MAILBOX_KEYWORD_BIT0 << i));
        if (slot < 0)
            slot = (int)i;
    }
    if (slot >= 0)
        mb->kw_epoch++;
    return slot >= 0 ? slot : PB_ENOSPC;
}

int imap_mailbox_keyword(struct imap_mailbox *mb, const char *name, bool create, uint16_t *bit)
{
    size_t len = strlen(name);
    if (!mb->logged_in)
        return PB_EPERM;
    if (len == 0 || len > IMAP_MAILBOX_KEYWORD_MAX || name[0] == '\\')
        return PB_ERANGE;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] <= ' ' || (unsigned char)name[i] >= 0x7f)
            return PB_ERANGE;
    int i = imap_mailbox_kwfind(mb, name);
    if (i < 0) {
        /* Another session may have added it since this one last looked. */
        int err = imap_mailbox_keywords_load(mb);
        if (err)
            return err;
        i = imap_mailbox_kwfind(mb, name);
    }
    if (i < 0 && !create)
        return PB_ENOENT;
    if (i < 0) {
        i = imap_mailbox_kw_slot(mb);
        if (i < 0)
            return i;
        memcpy(mb->keywords[i], name, len + 1);
        struct imap_mailbox_op op = { mb, NULL, NULL, 0 };
        int err = imap_mailbox_run(mb, imap_mailbox_do_kwput, &op);
        if (err) {
            imap_mailbox_keywords_load(mb);     /* back to what the store holds */
            return err;
        }
    }
    *bit = (uint16_t)(IMAP_MAILBOX_KEYWORD_BIT0 << i);
    return 0;
}

unsigned imap_mailbox_keywords_free(const struct imap_mailbox *mb)
{
    unsigned n = IMAP_MAILBOX_KEYWORDS - mb->nkeywords;
    for (unsigned i = 0; i < mb->nkeywords; i++)
        n += !mb->keywords[i][0];
    return n;
}

const char *imap_mailbox_keyword_name(struct imap_mailbox *mb, uint16_t bit)
{
    unsigned i = 0;
    while (i < IMAP_MAILBOX_KEYWORDS && (IMAP_MAILBOX_KEYWORD_BIT0 << i) != bit)
        i++;
    if (i == IMAP_MAILBOX_KEYWORDS)
        return NULL;
    if (i >= mb->nkeywords || !mb->keywords[i][0])
        imap_mailbox_keywords_load(mb);
    return i < mb->nkeywords && mb->keywords[i][0] ? mb->keywords[i] : NULL;
}

/* ---------------------------------------------------- selected folder --- */

static uint64_t imap_mailbox_programmed(struct imap_mailbox *mb)
{
    struct store_stats st;
    store_stats(mb->store, &st);
    return st.bytes_programmed;
}

int imap_mailbox_select(struct imap_mailbox *mb, const char *name, bool readonly)
{
    uint16_t folder;
    struct store_folder_info fi;
    imap_mailbox_unselect(mb);
    int err = imap_mailbox_find(mb, name, &folder);
    if (!err)
        err = store_folder_info(mb->store, folder, &fi);
    if (err)
        return err;
    mb->folder = folder;
    mb->uidvalidity = fi.uidvalidity;
    mb->readonly = readonly;
    mb->seen_programmed = imap_mailbox_programmed(mb);
    struct store_msg_info mi;
    uint32_t after = 0;
    while (mb->count < IMAP_MAILBOX_MAX_MSGS &&
           store_msg_next(mb->store, folder, after, &mi) == 0) {
        mb->uids[mb->count] = mi.uid;
        mb->flags[mb->count++] = (uint16_t)mi.flags;
        after = mi.uid;
    }
    mb->selected = true;
    return 0;
}

void imap_mailbox_unselect(struct imap_mailbox *mb)
{
    mb->selected = false;
    mb->count = 0;
}

bool imap_mailbox_changed(struct imap_mailbox *mb)
{
    return mb->selected && imap_mailbox_programmed(mb) != mb->seen_programmed;
}

int imap_mailbox_sync(struct imap_mailbox *mb, bool allow_expunge, unsigned budget,
                      imap_mailbox_event_fn fn, void *ctx)
{
    if (!mb->selected)
        return 0;
    uint64_t programmed = imap_mailbox_programmed(mb);
    struct store_msg_info mi;
    bool pending = false;
    /* Expunges first, lowest first: each changes the numbers above it. */
    for (unsigned i = 0; i < mb->count; i++) {
        int err = store_msg_get(mb->store, mb->folder, mb->uids[i], &mi);
        if (err == PB_ENOENT) {
            if (!allow_expunge) {
                pending = true;
                continue;
            }
            if (budget == 0)
                return 1;
            budget--;
            fn(ctx, IMAP_EV_EXPUNGE, i + 1, mb->uids[i], 0);
            memmove(&mb->uids[i], &mb->uids[i + 1], (mb->count - i - 1) * sizeof(mb->uids[0]));
            memmove(&mb->flags[i], &mb->flags[i + 1], (mb->count - i - 1) * sizeof(mb->flags[0]));
            mb->count--;
            i--;
            continue;
        }
        if (err)
            return err;
        if ((uint16_t)mi.flags != mb->flags[i]) {
            if (budget == 0)
                return 1;
            budget--;
            mb->flags[i] = (uint16_t)mi.flags;
            fn(ctx, IMAP_EV_FLAGS, i + 1, mb->uids[i], mb->flags[i]);
        }
    }
    unsigned before = mb->count;
    uint32_t after = mb->count ? mb->uids[mb->count - 1] : 0;
    while (mb->count < IMAP_MAILBOX_MAX_MSGS &&
           store_msg_next(mb->store, mb->folder, after, &mi) == 0) {
        mb->uids[mb->count] = mi.uid;
        mb->flags[mb->count++] = (uint16_t)mi.flags;
        after = mi.uid;
    }
    if (mb->count != before)
        fn(ctx, IMAP_EV_EXISTS, mb->count, 0, 0);
    if (!pending)
        mb->seen_programmed = programmed;
    return 0;
}

int imap_mailbox_msg(struct imap_mailbox *mb, uint32_t seq, struct store_msg_info *mi)
{
    if (!mb->selected || seq == 0 || seq > mb->count)
        return PB_ENOENT;
    return store_msg_get(mb->store, mb->folder, mb->uids[seq - 1], mi);
}

int imap_mailbox_read(struct imap_mailbox *mb, uint32_t blob, uint32_t off, void *buf, size_t len)
{
    return store_blob_read(mb->store, blob, off, buf, len);
}

/* Run one change in the batch transaction *txn, committing the batch and
 * starting another when the change does not fit in it. */
static int imap_mailbox_batch(struct imap_mailbox *mb, struct store_txn **txn,
                              int (*op)(struct store_txn *, const void *), const void *arg)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!*txn) {
            int err = store_txn_begin(mb->store, txn);
            if (err) {
                *txn = NULL;
                return err;
            }
            mb->txn_ops = 0;
        }
        int err = op(*txn, arg);
        if (err != PB_ENOMEM || mb->txn_ops == 0) {
            mb->txn_ops += err == 0;
            return err;
        }
        err = store_txn_commit(*txn);       /* the batch is full: make it durable */
        *txn = NULL;
        if (err)
            return err;
    }
    return PB_ENOMEM;
}

struct imap_mailbox_msgop {
    uint16_t folder, dest;
    uint32_t uid, flags;
    struct store_msg_info mi;
    uint32_t *newuid;
};

static int imap_mailbox_do_flags(struct store_txn *txn, const void *arg)
{
    const struct imap_mailbox_msgop *op = arg;
    return store_msg_set_flags(txn, op->folder, op->uid, op->flags);
}

int imap_mailbox_set_flags(struct imap_mailbox *mb, struct store_txn **txn, uint32_t seq,
                           uint16_t flags)
{
    if (!mb->selected || seq == 0 || seq > mb->count)
        return PB_ENOENT;
    struct imap_mailbox_msgop op = { .folder = mb->folder, .uid = mb->uids[seq - 1], .flags = flags };
    return imap_mailbox_batch(mb, txn, imap_mailbox_do_flags, &op);
}

void imap_mailbox_saw_flags(struct imap_mailbox *mb, uint32_t seq, uint16_t flags)
{
    if (seq >= 1 && seq <= mb->count)
        mb->flags[seq - 1] = flags;
}

static int imap_mailbox_do_expunge(struct store_txn *txn, const void *arg)
{
    const struct imap_mailbox_msgop *op = arg;
    int err = store_msg_expunge(txn, op->folder, op->uid);
    return err == PB_ENOENT ? 0 : err;
}

int imap_mailbox_expunge(struct imap_mailbox *mb, struct store_txn **txn, uint32_t seq)
{
    if (!mb->selected || seq == 0 || seq > mb->count)
        return PB_ENOENT;
    struct imap_mailbox_msgop op = { .folder = mb->folder, .uid = mb->uids[seq - 1] };
    return imap_mailbox_batch(mb, txn, imap_mailbox_do_expunge, &op);
}

static int imap_mailbox_do_copy(struct store_txn *txn, const void *arg)
{
    const struct imap_mailbox_msgop *op = arg;
    return store_msg_add(txn, op->dest, op->mi.blob, op->mi.flags, op->mi.date, op->newuid);
}

int imap_mailbox_copy(struct imap_mailbox *mb, struct store_txn **txn, uint32_t seq,
                      uint16_t dest, uint32_t *uid)
{
    struct imap_mailbox_msgop op = { .dest = dest, .newuid = uid };
    int err = imap_mailbox_msg(mb, seq, &op.mi);
    if (err)
        return err;
    return imap_mailbox_batch(mb, txn, imap_mailbox_do_copy, &op);
}

int imap_mailbox_commit(struct imap_mailbox *mb, struct store_txn **txn, int failed)
{
    (void)mb;
    if (!*txn)
        return 0;
    int err = 0;
    if (failed)
        store_txn_abort(*txn);
    else
        err = store_txn_commit(*txn);
    *txn = NULL;
    return err;
}

/* RENAME INBOX (RFC 3501 6.3.5): its messages move to a new folder of
 * that name and INBOX stays, empty; folders under INBOX stay where they
 * are.  The store cannot rename INBOX and create it again in one
 * transaction (a create checks committed names), and two transactions
 * would leave a user without INBOX if the power went between them, so the
 * messages are copied and expunged in batches instead, as MOVE does: a
 * power cut midway leaves some in each folder (or one in both), never
 * one lost and never a user without INBOX. */
static int imap_mailbox_rename_inbox(struct imap_mailbox *mb, const char *to)
{
    uint16_t inbox, dest;
    int err = imap_mailbox_find(mb, "INBOX", &inbox);
    if (err)
        return err;
    struct imap_mailbox_op op = { mb, to, NULL, 0 };
    err = imap_mailbox_run(mb, imap_mailbox_do_create, &op);
    if (!err)
        err = store_folder_find(mb->store, mb->mailbox, to, &dest);
    if (err)
        return err;
    struct store_txn *txn = NULL;
    struct imap_mailbox_msgop cp = { .dest = dest }, ex = { .folder = inbox };
    uint32_t after = 0, uid;
    cp.newuid = &uid;
    while (!err && store_msg_next(mb->store, inbox, after, &cp.mi) == 0) {
        after = ex.uid = cp.mi.uid;
        err = imap_mailbox_batch(mb, &txn, imap_mailbox_do_copy, &cp);
        if (!err)
            err = imap_mailbox_batch(mb, &txn, imap_mailbox_do_expunge, &ex);
    }
    int cerr = imap_mailbox_commit(mb, &txn, err);
    return err ? err : cerr;
}

/* ------------------------------------------------------------- APPEND --- */

int imap_mailbox_append_begin(struct imap_mailbox *mb, uint16_t folder, uint32_t flags,
                              uint32_t date)
{
    imap_mailbox_append_abort(mb);
    int err = store_txn_begin(mb->store, &mb->append_txn);
    if (err) {
        mb->append_txn = NULL;
        return err;
    }
    err = store_blob_begin(mb->append_txn, &mb->append_blob);
    if (err) {
        imap_mailbox_append_abort(mb);
        return err;
    }
    mb->append_folder = folder;
    mb->append_flags = flags;
    mb->append_epoch = mb->kw_epoch;
    mb->append_date = date ? date : (uint32_t)hal_clock_wall();
    return 0;
}

int imap_mailbox_append_write(struct imap_mailbox *mb, const void *data, size_t len)
{
    if (!mb->append_txn)
        return PB_EINVAL;
    return store_blob_write(mb->append_txn, data, len);
}

int imap_mailbox_append_end(struct imap_mailbox *mb, uint32_t *uid, uint32_t *uidvalidity)
{
    struct store_folder_info fi;
    if (!mb->append_txn)
        return PB_EINVAL;
    /* Another session may have given this APPEND's keyword bits to other
     * names while the literal came in (it saw no message carrying them):
     * then what the client asked for cannot be stored as it asked. */
    if ((mb->append_flags & ~(uint32_t)(IMAP_MAILBOX_KEYWORD_BIT0 - 1u)) &&
        imap_mailbox_keywords_load(mb) == 0 && mb->kw_epoch != mb->append_epoch) {
        imap_mailbox_append_abort(mb);
        return PB_EAGAIN;
    }
    int err = store_blob_end(mb->append_txn);
    if (!err)
        err = store_folder_info(mb->store, mb->append_folder, &fi);
    if (!err)
        err = store_msg_add(mb->append_txn, mb->append_folder, mb->append_blob, mb->append_flags,
                            mb->append_date, uid);
    if (err) {
        imap_mailbox_append_abort(mb);
        return err;
    }
    *uidvalidity = fi.uidvalidity;
    err = store_txn_commit(mb->append_txn);     /* frees the slot whatever it returns */
    mb->append_txn = NULL;
    return err;
}

void imap_mailbox_append_abort(struct imap_mailbox *mb)
{
    if (mb->append_txn)
        store_txn_abort(mb->append_txn);
    mb->append_txn = NULL;
}

uint32_t imap_mailbox_highest_modseq(const struct imap_mailbox *mb)
{
    return store_modseq_high(mb->store);
}
