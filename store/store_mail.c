/*
 * store_mail.c - mailboxes, folders and messages.
 *
 * A message's state on flash is one operation holding all of it (UID,
 * blob, size, internal date, folder, flags); a flag change writes that
 * operation again with a new version, which is the message's modseq.
 *
 * The message table is sorted by message id, and within one folder ids
 * and UIDs grow together (store_msg_add hands out both in the same call,
 * and a message keeps them for life), so the first message of a folder
 * with a UID above N in table order is the next one by UID.  Lookups scan
 * from a hint (where the last one ended), so walking a folder in UID order
 * costs O(messages in the table) in all, not per step; a lookup out of
 * order scans from the start.  No flash reads.  A per-folder index is
 * UNFINISHED (it would cost RAM per message).
 */
#include <string.h>

#include "store.h"

/* The operation of this transaction that creates/changes a mailbox id. */
static int store_mail_in_txn(const struct store_txn *t, uint8_t type, uint32_t id)
{
    for (uint32_t off = 0; off < t->ops_len; off += store_op_len(t->ops + off)) {
        const uint8_t *op = t->ops + off;
        if (op[0] == type && (type == STORE_OP_FOLDER ? store_get16(op + STORE_OP_HDR)
                                                      : store_get32(op + STORE_OP_HDR)) == id)
            return 1;
    }
    return 0;
}

int store_mailbox_find(struct store *s, const char *user, uint32_t *mailbox)
{
    for (int i = 0; i < STORE_MAILBOXES_MAX; i++)
        if (s->mailboxes[i].id && strcmp(s->mailboxes[i].user, user) == 0) {
            *mailbox = s->mailboxes[i].id;
            return 0;
        }
    return PB_ENOENT;
}

int store_mailbox_create(struct store_txn *t, const char *user, uint32_t *mailbox)
{
    struct store *s = t->s;
    size_t n = strlen(user);
    uint32_t id;
    if (n == 0 || n > STORE_NAME_MAX)
        return PB_EINVAL;
    if (store_mailbox_find(s, user, &id) == 0)
        return PB_EEXIST;
    uint8_t b[8 + STORE_NAME_MAX];
    id = s->next_id++;
    store_put32(b, id);
    store_put16(b + 4, (uint16_t)n);
    store_put16(b + 6, 0);
    memcpy(b + 8, user, n);
    int err = store_txn_op(t, STORE_OP_MAILBOX, b, (uint32_t)(8 + n));
    if (err)
        return err;
    t->deletes_only = 0;
    *mailbox = id;
    return 0;
}

int store_folder_find(struct store *s, uint32_t mailbox, const char *name, uint16_t *folder)
{
    for (int i = 0; i < STORE_FOLDERS_MAX; i++)
        if (s->folders[i].id && s->folders[i].mailbox == mailbox &&
            strcmp(s->folders[i].name, name) == 0) {
            *folder = s->folders[i].id;
            return 0;
        }
    return PB_ENOENT;
}

int store_folder_create(struct store_txn *t, uint32_t mailbox, const char *name, uint16_t *folder)
{
    struct store *s = t->s;
    size_t n = strlen(name);
    uint16_t id;
    if (n == 0 || n > STORE_NAME_MAX)
        return PB_EINVAL;
    if (!store_mailbox_by_id(s, mailbox) && !store_mail_in_txn(t, STORE_OP_MAILBOX, mailbox))
        return PB_ENOENT;
    if (store_folder_find(s, mailbox, name, &id) == 0)
        return PB_EEXIST;
    if (s->next_folder == 0xFFFF)
        return PB_ENOSPC;
    uint8_t b[16 + STORE_NAME_MAX];
    id = s->next_folder++;
    store_put16(b, id);
    store_put16(b + 2, (uint16_t)n);
    store_put32(b + 4, mailbox);
    store_put32(b + 8, s->next_id++);   /* UIDVALIDITY: unique per folder ever made */
    store_put32(b + 12, 1);
    memcpy(b + 16, name, n);
    int err = store_txn_op(t, STORE_OP_FOLDER, b, (uint32_t)(16 + n));
    if (err)
        return err;
    t->deletes_only = 0;
    *folder = id;
    return 0;
}

int store_folder_rename(struct store_txn *t, uint16_t folder, const char *name)
{
    struct store *s = t->s;
    struct store_folder *f = store_folder_by_id(s, folder);
    size_t n = strlen(name);
    uint16_t other;
    if (!f)
        return PB_ENOENT;
    if (n == 0 || n > STORE_NAME_MAX)
        return PB_EINVAL;
    if (store_folder_find(s, f->mailbox, name, &other) == 0)
        return other == folder ? 0 : PB_EEXIST;
    /* The whole folder state again under the new name; the commit puts in
     * the UIDNEXT of that moment. */
    uint8_t b[16 + STORE_NAME_MAX];
    store_put16(b, f->id);
    store_put16(b + 2, (uint16_t)n);
    store_put32(b + 4, f->mailbox);
    store_put32(b + 8, f->uidvalidity);
    store_put32(b + 12, f->uidnext);
    memcpy(b + 16, name, n);
    int err = store_txn_op(t, STORE_OP_FOLDER, b, (uint32_t)(16 + n));
    if (!err)
        t->deletes_only = 0;
    return err;
}

int store_folder_delete(struct store_txn *t, uint16_t folder)
{
    if (!store_folder_by_id(t->s, folder))
        return PB_ENOENT;
    uint8_t b[4];
    store_put16(b, folder);
    store_put16(b + 2, 0);
    return store_txn_op(t, STORE_OP_FOLDER_DEL, b, sizeof(b));
}

int store_mailbox_delete(struct store_txn *t, uint32_t mailbox)
{
    if (!store_mailbox_by_id(t->s, mailbox))
        return PB_ENOENT;
    uint8_t b[4];
    store_put32(b, mailbox);
    return store_txn_op(t, STORE_OP_MAILBOX_DEL, b, sizeof(b));
}

int store_folder_next(struct store *s, uint32_t mailbox, uint16_t after, struct store_folder_info *info)
{
    uint16_t best = 0;
    for (int i = 0; i < STORE_FOLDERS_MAX; i++) {
        const struct store_folder *f = &s->folders[i];
        if (f->id && f->mailbox == mailbox && f->id > after && (!best || f->id < best))
            best = f->id;
    }
    return best ? store_folder_info(s, best, info) : PB_ENOENT;
}

int store_folder_info(struct store *s, uint16_t folder, struct store_folder_info *info)
{
    struct store_folder *f = store_folder_by_id(s, folder);
    if (!f)
        return PB_ENOENT;
    memset(info, 0, sizeof(*info));
    info->id = f->id;
    info->mailbox = f->mailbox;
    info->uidvalidity = f->uidvalidity;
    info->uidnext = f->uidnext;
    memcpy(info->name, f->name, sizeof(info->name));
    for (uint32_t i = 0; i < s->nmsgs; i++)
        info->messages += s->mem.msgs[i].folder == folder;
    return 0;
}

static void store_mail_info(const struct store_msg *m, struct store_msg_info *info)
{
    info->folder = m->folder;
    info->uid = m->uid;
    info->blob = m->blob;
    info->size = m->size;
    info->flags = m->flags;
    info->modseq = m->modseq;
    info->date = m->date;
}

/* Index of the message of folder with the smallest UID above after, or
 * -1.  Starts after the hint when the hint is that folder's message with
 * UID after (the previous step of a walk). */
static int store_mail_scan(struct store *s, uint16_t folder, uint32_t after)
{
    uint32_t i = 0, h = s->msg_hint;
    if (h < s->nmsgs && s->mem.msgs[h].folder == folder && s->mem.msgs[h].uid == after)
        i = h + 1;
    for (; i < s->nmsgs; i++)
        if (s->mem.msgs[i].folder == folder && s->mem.msgs[i].uid > after) {
            s->msg_hint = i;
            return (int)i;
        }
    return -1;
}

static const struct store_msg *store_mail_by_uid(struct store *s, uint16_t folder, uint32_t uid)
{
    /* The scan's answer is final either way: everything of the folder
     * with a UID above uid - 1 lies after the hint when the hint is used. */
    int i = uid ? store_mail_scan(s, folder, uid - 1) : -1;
    return i >= 0 && s->mem.msgs[i].uid == uid ? &s->mem.msgs[i] : NULL;
}

static void store_mail_encode(uint8_t *b, uint32_t id, uint32_t uid, uint32_t blob, uint32_t size,
                              uint32_t date, uint16_t folder, uint16_t flags)
{
    store_put32(b, id);
    store_put32(b + 4, uid);
    store_put32(b + 8, blob);
    store_put32(b + 12, size);
    store_put32(b + 16, date);
    store_put16(b + 20, folder);
    store_put16(b + 22, flags);
}

int store_msg_add(struct store_txn *t, uint16_t folder, uint32_t blob, uint32_t flags,
                  uint32_t date, uint32_t *uid)
{
    struct store *s = t->s;
    struct store_folder *f = store_folder_by_id(s, folder);
    if (!f)
        return PB_ENOENT;
    int bi = store_blob_find(s, blob);
    if (bi < 0)
        return PB_ENOENT;
    const struct store_blob *k = &s->mem.blobs[bi];
    if (k->state == STORE_BLOB_PENDING && (k->txn != t->slot || t->blob_open))
        return PB_EINVAL;   /* another transaction's blob, or not ended yet */
    uint8_t b[24];
    uint32_t id = s->next_id;
    store_mail_encode(b, id, f->uidnext, blob, k->size, date, folder, (uint16_t)flags);
    int err = store_txn_op(t, STORE_OP_MSG, b, sizeof(b));
    if (!err && !store_mail_in_txn(t, STORE_OP_FOLDER, folder)) {
        /* The folder's UIDNEXT goes with the message, so a UID is never
         * handed out twice even after the highest one is expunged. */
        uint8_t fb[16 + STORE_NAME_MAX];
        size_t n = strlen(f->name);
        store_put16(fb, f->id);
        store_put16(fb + 2, (uint16_t)n);
        store_put32(fb + 4, f->mailbox);
        store_put32(fb + 8, f->uidvalidity);
        store_put32(fb + 12, f->uidnext + 1);
        memcpy(fb + 16, f->name, n);
        err = store_txn_op(t, STORE_OP_FOLDER, fb, (uint32_t)(16 + n));
        if (err)
            t->ops_len -= STORE_OP_HDR + sizeof(b);
    }
    if (err)
        return err;
    s->next_id++;
    *uid = f->uidnext++;
    t->deletes_only = 0;
    return 0;
}

int store_msg_set_flags(struct store_txn *t, uint16_t folder, uint32_t uid, uint32_t flags)
{
    const struct store_msg *m = store_mail_by_uid(t->s, folder, uid);
    if (!m)
        return PB_ENOENT;
    uint8_t b[24];
    store_mail_encode(b, m->id, m->uid, m->blob, m->size, m->date, m->folder, (uint16_t)flags);
    return store_txn_op(t, STORE_OP_MSG, b, sizeof(b));
}

int store_msg_expunge(struct store_txn *t, uint16_t folder, uint32_t uid)
{
    const struct store_msg *m = store_mail_by_uid(t->s, folder, uid);
    if (!m)
        return PB_ENOENT;
    uint8_t b[4];
    store_put32(b, m->id);
    return store_txn_op(t, STORE_OP_MSG_DEL, b, sizeof(b));
}

int store_msg_get(struct store *s, uint16_t folder, uint32_t uid, struct store_msg_info *info)
{
    const struct store_msg *m = store_mail_by_uid(s, folder, uid);
    if (!m)
        return PB_ENOENT;
    store_mail_info(m, info);
    return 0;
}

uint32_t store_modseq_high(const struct store *s)
{
    return s->modseq_high;
}

int store_msg_next(struct store *s, uint16_t folder, uint32_t after, struct store_msg_info *info)
{
    int i = store_mail_scan(s, folder, after);
    if (i < 0)
        return PB_ENOENT;
    store_mail_info(&s->mem.msgs[i], info);
    return 0;
}

/* ------------------------------------------------------------ settings --- */

int store_setting_set(struct store_txn *t, const char *key, enum store_type type,
                      const void *value, size_t len)
{
    size_t k = strlen(key);
    if (k == 0 || k > STORE_KEY_MAX || len > STORE_VALUE_MAX)
        return PB_EINVAL;
    uint8_t b[4 + STORE_KEY_MAX + STORE_VALUE_MAX];
    b[0] = (uint8_t)type;
    b[1] = (uint8_t)k;
    store_put16(b + 2, (uint16_t)len);
    memcpy(b + 4, key, k);
    memcpy(b + 4 + k, value, len);
    int err = store_txn_op(t, STORE_OP_SETTING, b, (uint32_t)(4 + k + len));
    if (!err)
        t->deletes_only = 0;
    return err;
}

int store_setting_get(struct store *s, const char *key, enum store_type *type, void *buf, size_t cap)
{
    struct store_setting *t = store_setting_by_key(s, key, strlen(key));
    if (!t)
        return PB_ENOENT;
    if (t->len > cap)
        return PB_ERANGE;
    if (type)
        *type = (enum store_type)t->type;
    memcpy(buf, t->value, t->len);
    return t->len;
}
