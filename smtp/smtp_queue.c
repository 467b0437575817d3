/*
 * smtp_queue.c - the outbound queue in the store (see smtp_queue.h).
 */
#include "smtp_queue.h"

#include <stdio.h>
#include <string.h>

#include "pb_err.h"

#define SMTP_QUEUE_FORMAT 1u     /* what smtp_queue_add writes: a new entry has no error */
#define SMTP_QUEUE_FORMAT2 2u    /* with the last error */
#define SMTP_QUEUE_FIXED  22u   /* bytes before the sender */

static void smtp_queue_put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void smtp_queue_put32(uint8_t *p, uint32_t v)
{
    smtp_queue_put16(p, v);
    smtp_queue_put16(p + 2, v >> 16);
}

static uint32_t smtp_queue_get16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t smtp_queue_get32(const uint8_t *p)
{
    return smtp_queue_get16(p) | smtp_queue_get16(p + 2) << 16;
}

int smtp_queue_rcpts_add(struct smtp_queue_rcpts *r, const char *addr)
{
    size_t len = strlen(addr);
    for (size_t off = 0; off < r->used; off += strlen(r->buf + off) + 1)
        if (strcmp(r->buf + off, addr) == 0)
            return 0;
    if (len == 0 || len > SMTP_QUEUE_ADDR_MAX || r->used + len + 1 > sizeof(r->buf))
        return PB_ERANGE;
    memcpy(r->buf + r->used, addr, len + 1);
    r->used += len + 1;
    r->n++;
    return 0;
}

static const char *smtp_queue_domain(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at ? at + 1 : "";
}

/* Walk the entries r makes: for each, its name and encoded value. */
typedef int (*smtp_queue_entry_fn)(void *ctx, const char *name, const uint8_t *v, size_t len);

static int smtp_queue_each(const struct smtp_queue_rcpts *r, const char *id, uint32_t offset,
                           const char *from, uint32_t now, smtp_queue_entry_fn fn, void *ctx)
{
    uint8_t v[STORE_REC_VALUE_MAX];
    uint8_t placed[sizeof(r->buf) / 2] = { 0 };     /* an address takes at least 2 bytes */
    size_t flen = strlen(from);
    if (flen > MAIL_PATH_MAX)
        return PB_EINVAL;
    int seq = 0, i = 0;
    for (size_t off = 0; off < r->used; off += strlen(r->buf + off) + 1, i++) {
        if (placed[i])
            continue;
        const char *dom = smtp_queue_domain(r->buf + off);
        v[0] = SMTP_QUEUE_FORMAT;
        v[1] = SMTP_QUEUE_WAITING;
        smtp_queue_put16(v + 2, 0);
        smtp_queue_put32(v + 4, now);
        smtp_queue_put32(v + 8, now);
        smtp_queue_put32(v + 12, offset);
        smtp_queue_put16(v + 16, (uint32_t)flen);
        /* bytes 18..21: reserved, zero */
        memset(v + 18, 0, 4);
        memcpy(v + SMTP_QUEUE_FIXED, from, flen);
        size_t n = SMTP_QUEUE_FIXED + flen;
        size_t count_at = n++;
        int count = 0, j = i;
        for (size_t o2 = off; o2 < r->used && count < SMTP_QUEUE_RCPTS;
             o2 += strlen(r->buf + o2) + 1, j++) {
            const char *a = r->buf + o2;
            size_t alen = strlen(a);
            if (placed[j] || strcmp(smtp_queue_domain(a), dom) != 0 || n + 3 + alen > sizeof(v))
                continue;
            v[n] = SMTP_QUEUE_RCPT_PENDING;
            smtp_queue_put16(v + n + 1, (uint32_t)alen);
            memcpy(v + n + 3, a, alen);
            n += 3 + alen;
            placed[j] = 1;
            count++;
        }
        if (count == 0)
            return PB_ERANGE;   /* sender and this address together exceed one record */
        v[count_at] = (uint8_t)count;
        char name[SMTP_QUEUE_NAME_MAX + 1];
        snprintf(name, sizeof(name), "%s.%d", id, ++seq);
        int err = fn(ctx, name, v, n);
        if (err)
            return err;
    }
    return 0;
}

static int smtp_queue_count(void *ctx, const char *name, const uint8_t *v, size_t len)
{
    (void)v;
    *(size_t *)ctx += STORE_TXN_REC_BYTES(strlen(name), len, 1);
    return 0;
}

size_t smtp_queue_txn_bytes(const struct smtp_queue_rcpts *r, const char *id, const char *from)
{
    size_t total = 0;
    if (smtp_queue_each(r, id, 0, from, 0, smtp_queue_count, &total))
        return (size_t)-1;
    return total;
}

struct smtp_queue_put {
    struct store_txn *txn;
    uint32_t blob;
};

static int smtp_queue_put_new(void *ctx, const char *name, const uint8_t *v, size_t len)
{
    struct smtp_queue_put *p = ctx;
    return store_rec_put_blob(p->txn, STORE_NS_QUEUE, name, p->blob, v, len);
}

int smtp_queue_add(struct store_txn *txn, const char *id, uint32_t blob, uint32_t offset,
                   const char *from, const struct smtp_queue_rcpts *r, uint32_t now)
{
    struct smtp_queue_put p = { txn, blob };
    return smtp_queue_each(r, id, offset, from, now, smtp_queue_put_new, &p);
}

int smtp_queue_decode(const uint8_t *v, size_t len, struct smtp_queue_entry *e)
{
    memset(e, 0, sizeof(*e));
    if (len < SMTP_QUEUE_FIXED + 1 || (v[0] != SMTP_QUEUE_FORMAT && v[0] != SMTP_QUEUE_FORMAT2))
        return PB_ECORRUPT;
    e->state = v[1];
    e->attempts = (uint16_t)smtp_queue_get16(v + 2);
    e->created = smtp_queue_get32(v + 4);
    e->next_attempt = smtp_queue_get32(v + 8);
    e->offset = smtp_queue_get32(v + 12);
    e->from_len = (uint16_t)smtp_queue_get16(v + 16);
    size_t n = SMTP_QUEUE_FIXED;
    if (e->from_len > MAIL_PATH_MAX || n + e->from_len + 1 > len)
        return PB_ECORRUPT;
    e->from = (const char *)v + n;
    n += e->from_len;
    e->nrcpt = v[n++];
    if (e->nrcpt == 0 || e->nrcpt > SMTP_QUEUE_RCPTS)
        return PB_ECORRUPT;
    for (int i = 0; i < e->nrcpt; i++) {
        if (n + 3 > len)
            return PB_ECORRUPT;
        e->rcpt[i].status = v[n];
        e->rcpt[i].len = (uint16_t)smtp_queue_get16(v + n + 1);
        n += 3;
        if (e->rcpt[i].len == 0 || e->rcpt[i].len > SMTP_QUEUE_ADDR_MAX || n + e->rcpt[i].len > len)
            return PB_ECORRUPT;
        e->rcpt[i].addr = (const char *)v + n;
        n += e->rcpt[i].len;
    }
    if (v[0] == SMTP_QUEUE_FORMAT2) {
        if (n + 1 > len || n + 1 + v[n] > len)
            return PB_ECORRUPT;
        e->error_len = v[n];
        e->error = e->error_len ? (const char *)v + n + 1 : NULL;
        n += 1 + e->error_len;
    }
    return n == len ? 0 : PB_ECORRUPT;
}

int smtp_queue_encode(const struct smtp_queue_entry *e, uint8_t *v, size_t cap)
{
    if (cap > STORE_REC_VALUE_MAX)
        cap = STORE_REC_VALUE_MAX;
    if (e->nrcpt == 0 || e->nrcpt > SMTP_QUEUE_RCPTS || e->from_len > MAIL_PATH_MAX)
        return PB_ERANGE;
    size_t n = SMTP_QUEUE_FIXED + e->from_len + 1;
    for (int i = 0; i < e->nrcpt; i++)
        n += 3u + e->rcpt[i].len;
    if (n + 1 > cap)
        return PB_ERANGE;
    v[0] = SMTP_QUEUE_FORMAT2;
    v[1] = e->state;
    smtp_queue_put16(v + 2, e->attempts);
    smtp_queue_put32(v + 4, e->created);
    smtp_queue_put32(v + 8, e->next_attempt);
    smtp_queue_put32(v + 12, e->offset);
    smtp_queue_put16(v + 16, e->from_len);
    memset(v + 18, 0, 4);
    memmove(v + SMTP_QUEUE_FIXED, e->from, e->from_len);
    n = SMTP_QUEUE_FIXED + e->from_len;
    v[n++] = e->nrcpt;
    for (int i = 0; i < e->nrcpt; i++) {
        v[n] = e->rcpt[i].status;
        smtp_queue_put16(v + n + 1, e->rcpt[i].len);
        memmove(v + n + 3, e->rcpt[i].addr, e->rcpt[i].len);
        n += 3u + e->rcpt[i].len;
    }
    size_t elen = e->error ? e->error_len : 0;
    if (elen > SMTP_QUEUE_ERROR_MAX)
        elen = SMTP_QUEUE_ERROR_MAX;
    if (elen > cap - n - 1)
        elen = cap - n - 1;
    v[n++] = (uint8_t)elen;
    if (elen)
        memmove(v + n, e->error, elen);
    return (int)(n + elen);
}

int smtp_queue_put(struct store_txn *txn, const char *name, const struct smtp_queue_entry *e)
{
    uint8_t v[STORE_REC_VALUE_MAX];
    int n = smtp_queue_encode(e, v, sizeof(v));
    if (n < 0)
        return n;
    return store_rec_put_blob(txn, STORE_NS_QUEUE, name, e->blob, v, (size_t)n);
}

int smtp_queue_get(struct store *s, const char *name, struct smtp_queue_entry *e, uint8_t *buf,
                   size_t cap)
{
    int n = store_rec_get(s, STORE_NS_QUEUE, name, buf, cap);
    if (n < 0)
        return n;
    int err = smtp_queue_decode(buf, (size_t)n, e);
    if (err)
        return err;
    return store_rec_blob(s, STORE_NS_QUEUE, name, &e->blob);
}
