/*
 * smtp_dsn.c - delivery status notifications (see smtp_dsn.h).
 */
#include "smtp_dsn.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "address.h"
#include "date.h"
#include "pb_err.h"

struct smtp_dsn_out {
    struct store_txn *txn;
    int err;
};

static void smtp_dsn_printf(struct smtp_dsn_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void smtp_dsn_printf(struct smtp_dsn_out *o, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    if (o->err)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(buf))
        n = sizeof(buf) - 1;
    o->err = store_blob_write(o->txn, buf, (size_t)n);
}

/* The original header, up to its blank line (or SMTP_DSN_HEADER_MAX),
 * each line ending in CRLF. */
static void smtp_dsn_headers(struct smtp_dsn_out *o, struct store *s, const struct smtp_queue_entry *e)
{
    uint8_t buf[512];
    uint64_t off = e->offset;
    uint32_t seen = 0;      /* last four octets */
    size_t total = 0;
    while (!o->err && total < SMTP_DSN_HEADER_MAX) {
        int n = store_blob_read(s, e->blob, off, buf, sizeof(buf));
        if (n < 0) {
            o->err = n;
            return;
        }
        if (n == 0)
            break;
        size_t take = (size_t)n;
        if (take > SMTP_DSN_HEADER_MAX - total)
            take = SMTP_DSN_HEADER_MAX - total;
        size_t i = 0;
        bool end = false;
        for (; i < take; i++) {
            seen = seen << 8 | buf[i];
            if ((seen & 0xffff) == 0x0a0a || seen == 0x0d0a0d0a) {
                end = true;
                i++;
                break;
            }
        }
        o->err = store_blob_write(o->txn, buf, i);
        total += i;
        off += i;
        if (end)
            return;
    }
    if (!o->err && (seen & 0xffff) != 0x0d0a)
        o->err = store_blob_write(o->txn, "\r\n", 2);
}

static void smtp_dsn_body(struct smtp_dsn_out *o, struct store *s, const struct smtp_dsn *d,
                          const char *boundary)
{
    char date[MAIL_DATE_MAX], arrival[MAIL_DATE_MAX], until[MAIL_DATE_MAX];
    const struct smtp_queue_entry *e = d->entry;
    mail_date_format(d->now, date, sizeof(date));
    mail_date_format(e->created, arrival, sizeof(arrival));
    mail_date_format(d->retry_until, until, sizeof(until));
    smtp_dsn_printf(o, "Date: %s\r\nFrom: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
                    "To: <%.*s>\r\nSubject: %s\r\n"
                    "Message-ID: <%s.%lu@%s>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
                    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
                    "\tboundary=\"%s\"\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n",
                    date, d->hostname, (int)e->from_len, e->from,
                    d->delayed ? "Delayed Mail (still being retried)" : "Undelivered Mail Returned to Sender",
                    d->queue_name, (unsigned long)d->now, d->hostname, boundary);
    smtp_dsn_printf(o, "--%s\r\nContent-Description: Notification\r\n"
                    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
                    "This is the mail system at host %s.\r\n\r\n",
                    boundary, d->hostname);
    if (d->delayed)
        smtp_dsn_printf(o, "Your message has not yet been delivered to %s. The mail system\r\n"
                        "will keep trying until %s.\r\n"
                        "You do not need to send it again; this notice is sent once.\r\n\r\n",
                        d->nrcpt == 1 ? "one recipient" : "some recipients", until);
    else
        smtp_dsn_printf(o, "Your message could not be delivered to %s. This is a permanent\r\n"
                        "error; the message has been given up.\r\n\r\n",
                        d->nrcpt == 1 ? "one recipient" : "some recipients");
    for (int i = 0; i < d->nrcpt; i++) {
        const struct smtp_dsn_rcpt *r = &d->rcpt[i];
        smtp_dsn_printf(o, "<%.*s>: %s%s%s%s\r\n", (int)r->len, r->addr,
                        r->remote ? "host " : "", r->remote ? r->remote : "", r->remote ? " said: " : "",
                        r->diag);
    }
    smtp_dsn_printf(o, "\r\n--%s\r\nContent-Description: Delivery report\r\n"
                    "Content-Type: message/delivery-status\r\n\r\n"
                    "Reporting-MTA: dns; %s\r\nX-Pillarbox-Queue-ID: %s\r\nArrival-Date: %s\r\n",
                    boundary, d->hostname, d->queue_name, arrival);
    for (int i = 0; i < d->nrcpt; i++) {
        const struct smtp_dsn_rcpt *r = &d->rcpt[i];
        smtp_dsn_printf(o, "\r\nFinal-Recipient: rfc822; %.*s\r\nAction: %s\r\nStatus: %s\r\n",
                        (int)r->len, r->addr, d->delayed ? "delayed" : "failed", r->status);
        if (d->delayed)
            smtp_dsn_printf(o, "Will-Retry-Until: %s\r\n", until);
        if (r->remote)
            smtp_dsn_printf(o, "Remote-MTA: dns; %s\r\nDiagnostic-Code: smtp; %s\r\n", r->remote, r->diag);
        else
            smtp_dsn_printf(o, "Diagnostic-Code: x-pillarbox; %s\r\n", r->diag);
    }
    smtp_dsn_printf(o, "\r\n--%s\r\nContent-Description: Undelivered Message Headers\r\n"
                    "Content-Type: text/rfc822-headers\r\n\r\n", boundary);
    smtp_dsn_headers(o, s, e);
    smtp_dsn_printf(o, "\r\n--%s--\r\n", boundary);
}

struct smtp_dsn_targets {
    struct store *s;
    int nfolders;
    uint16_t folders[8];
    struct smtp_queue_rcpts remote;
};

static int smtp_dsn_target(void *ctx, const char *user, const char *remote)
{
    struct smtp_dsn_targets *t = ctx;
    uint32_t mbox;
    uint16_t folder;
    if (remote)
        return smtp_queue_rcpts_add(&t->remote, remote);
    if (store_mailbox_find(t->s, user, &mbox) != 0 || store_folder_find(t->s, mbox, "INBOX", &folder) != 0)
        return 0;
    for (int i = 0; i < t->nfolders; i++)
        if (t->folders[i] == folder)
            return 0;
    if (t->nfolders == (int)(sizeof(t->folders) / sizeof(t->folders[0])))
        return 0;   /* an alias for many: the first few are told */
    t->folders[t->nfolders++] = folder;
    return 0;
}

int smtp_dsn_send(struct store_txn *txn, const struct smtp_dsn *d)
{
    const struct smtp_queue_entry *e = d->entry;
    struct store *s = store_txn_store(txn);
    struct mail_address from;
    static struct smtp_dsn_targets t;   /* 1 KiB of recipients: not on the stack */
    if (e->from_len == 0 || mail_address_parse(e->from, e->from_len, MAIL_ADDR_UTF8, &from) != 0)
        return PB_EINVAL;
    memset(&t, 0, sizeof(t));
    t.s = s;
    int err = accounts_resolve(s, &from, smtp_dsn_target, &t);
    if (err == PB_EPERM) {
        /* Not one of our domains: the DSN goes out to the address itself. */
        char addr[SMTP_QUEUE_ADDR_MAX + 1];
        snprintf(addr, sizeof(addr), "%.*s", (int)e->from_len, e->from);
        err = smtp_queue_rcpts_add(&t.remote, addr);
    }
    if (err)
        return err;
    if (t.nfolders == 0 && t.remote.n == 0)
        return PB_ENOENT;

    uint32_t blob;
    char boundary[64];
    static const char rp[] = "Return-Path: <>\r\n";
    snprintf(boundary, sizeof(boundary), "=_pillarbox_dsn_%s_%lu", d->queue_name, (unsigned long)d->now);
    if ((err = store_blob_begin(txn, &blob)) != 0)
        return err;
    struct smtp_dsn_out o = { txn, 0 };
    o.err = store_blob_write(txn, rp, sizeof(rp) - 1);
    smtp_dsn_body(&o, s, d, boundary);
    if (o.err)
        return o.err;
    if ((err = store_blob_end(txn)) != 0)
        return err;
    for (int i = 0; i < t.nfolders; i++) {
        uint32_t uid;
        if ((err = store_msg_add(txn, t.folders[i], blob, 0, d->now, &uid)) != 0)
            return err;
    }
    if (t.remote.n) {
        char id[SMTP_QUEUE_NAME_MAX - 3];
        snprintf(id, sizeof(id), "%s.d%u", d->queue_name, (unsigned)e->attempts);
        err = smtp_queue_add(txn, id, blob, sizeof(rp) - 1, "", &t.remote, d->now);
    }
    return err;
}
