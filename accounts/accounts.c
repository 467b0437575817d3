/*
 * accounts.c - domains, users and aliases in the store (see accounts.h).
 *
 * Each is a named record (store_rec_*): the name is the lower-cased domain
 * or address, the value starts with a format version byte:
 *   domain  1, catch-all target (may be empty)
 *   user    1, salt[16], iterations (u32 LE), StoredKey[32], ServerKey[32]
 *   alias   1, targets ("a@x,b@y")
 */
#include "accounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_err.h"
#include "sasl.h"
#include "wolfssl/wolfcrypt/settings.h"
#include "wolfssl/wolfcrypt/coding.h"

#define ACCOUNTS_VERSION 1
#define ACCOUNTS_USER_LEN (1 + PASSWORD_SALT_BYTES + 4 + 2 * PASSWORD_KEY_BYTES)
#define ACCOUNTS_SEEN_MAX 16    /* targets remembered to drop duplicates */
#define ACCOUNTS_SEEN_LEN 128

void accounts_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* Copy name into buf lower-cased; PB_EINVAL if it does not fit. */
static int accounts_norm(const char *name, char *buf, size_t cap)
{
    size_t n = strlen(name);
    if (n == 0 || n >= cap)
        return PB_EINVAL;
    memcpy(buf, name, n + 1);
    accounts_lower(buf);
    return 0;
}

/* A valid address whose canonical form is what is stored; its domain into
 * domain. */
static int accounts_norm_addr(const char *addr, char *buf, size_t cap, char *domain, size_t dcap)
{
    struct mail_address a;
    if (mail_address_parse(addr, strlen(addr), MAIL_ADDR_UTF8, &a) != 0 || a.literal)
        return PB_EINVAL;
    if (mail_address_format(&a, buf, cap) < 0)
        return PB_EINVAL;
    accounts_lower(buf);
    if (strlen(a.domain) >= dcap)
        return PB_EINVAL;
    strcpy(domain, a.domain);
    return 0;
}

/* Run one change as its own transaction. */
typedef int (*accounts_change_fn)(struct store_txn *t, const void *arg);

static int accounts_commit(struct store *s, accounts_change_fn fn, const void *arg)
{
    struct store_txn *t;
    if (!s)
        return PB_EIO;
    int err = store_txn_begin(s, &t);
    if (err)
        return err;
    if ((err = fn(t, arg)) != 0) {
        store_txn_abort(t);
        return err;
    }
    return store_txn_commit(t);
}

struct accounts_put {
    enum store_ns ns;
    const char *name;
    const void *value;
    size_t len;
};

static int accounts_do_put(struct store_txn *t, const void *arg)
{
    const struct accounts_put *p = arg;
    return store_rec_put(t, p->ns, p->name, p->value, p->len);
}

static int accounts_do_del(struct store_txn *t, const void *arg)
{
    const struct accounts_put *p = arg;
    return store_rec_del(t, p->ns, p->name);
}

static bool accounts_exists(struct store *s, enum store_ns ns, const char *name)
{
    uint8_t v[1];
    int r = s ? store_rec_get(s, ns, name, v, sizeof(v)) : PB_ENOENT;
    return r >= 0 || r == PB_ERANGE;
}

/* ---------------------------------------------------------- domains --- */

int accounts_domain_add(struct store *s, const char *domain)
{
    char d[MAIL_DOMAIN_MAX + 1];
    if (accounts_norm(domain, d, sizeof(d)) || !mail_address_domain_valid(d, false))
        return PB_EINVAL;
    if (accounts_exists(s, STORE_NS_DOMAIN, d))
        return PB_EEXIST;
    uint8_t v = ACCOUNTS_VERSION;
    struct accounts_put p = { STORE_NS_DOMAIN, d, &v, 1 };
    return accounts_commit(s, accounts_do_put, &p);
}

/* Whether any record of ns ends in "@domain". */
static bool accounts_domain_used(struct store *s, enum store_ns ns, const char *domain)
{
    char name[ACCOUNTS_ADDR_MAX + 1] = "";
    size_t dl = strlen(domain);
    while (store_rec_next(s, ns, name, name, sizeof(name)) >= 0) {
        size_t n = strlen(name);
        if (n > dl && name[n - dl - 1] == '@' && strcmp(name + n - dl, domain) == 0)
            return true;
    }
    return false;
}

int accounts_domain_del(struct store *s, const char *domain)
{
    char d[MAIL_DOMAIN_MAX + 1];
    if (accounts_norm(domain, d, sizeof(d)))
        return PB_EINVAL;
    if (!accounts_exists(s, STORE_NS_DOMAIN, d))
        return PB_ENOENT;
    if (accounts_domain_used(s, STORE_NS_USER, d) || accounts_domain_used(s, STORE_NS_ALIAS, d))
        return PB_EBUSY;
    struct accounts_put p = { STORE_NS_DOMAIN, d, NULL, 0 };
    return accounts_commit(s, accounts_do_del, &p);
}

bool accounts_domain_exists(struct store *s, const char *domain)
{
    char d[MAIL_DOMAIN_MAX + 1];
    return accounts_norm(domain, d, sizeof(d)) == 0 && accounts_exists(s, STORE_NS_DOMAIN, d);
}

int accounts_domain_set_catchall(struct store *s, const char *domain, const char *target)
{
    char d[MAIL_DOMAIN_MAX + 1], t[ACCOUNTS_ADDR_MAX + 1], td[MAIL_DOMAIN_MAX + 1];
    uint8_t v[1 + ACCOUNTS_ADDR_MAX];
    size_t len = 1;
    if (accounts_norm(domain, d, sizeof(d)))
        return PB_EINVAL;
    if (!accounts_exists(s, STORE_NS_DOMAIN, d))
        return PB_ENOENT;
    v[0] = ACCOUNTS_VERSION;
    if (target) {
        if (accounts_norm_addr(target, t, sizeof(t), td, sizeof(td)))
            return PB_EINVAL;
        memcpy(v + 1, t, strlen(t));
        len += strlen(t);
    }
    struct accounts_put p = { STORE_NS_DOMAIN, d, v, len };
    return accounts_commit(s, accounts_do_put, &p);
}

int accounts_domain_catchall(struct store *s, const char *domain, char *buf, size_t cap)
{
    char d[MAIL_DOMAIN_MAX + 1];
    uint8_t v[1 + ACCOUNTS_ADDR_MAX];
    if (accounts_norm(domain, d, sizeof(d)) || !s)
        return PB_ENOENT;
    int n = store_rec_get(s, STORE_NS_DOMAIN, d, v, sizeof(v));
    if (n < 1 || v[0] != ACCOUNTS_VERSION)
        return n < 0 ? n : PB_ECORRUPT;
    if ((size_t)n > cap)
        return PB_ERANGE;
    memcpy(buf, v + 1, (size_t)n - 1);
    buf[n - 1] = '\0';
    return 0;
}

/* ------------------------------------------------------------ users --- */

static void accounts_user_encode(const struct password_hash *h, uint8_t *v)
{
    v[0] = ACCOUNTS_VERSION;
    memcpy(v + 1, h->salt, PASSWORD_SALT_BYTES);
    for (int i = 0; i < 4; i++)
        v[1 + PASSWORD_SALT_BYTES + i] = (uint8_t)(h->iterations >> (8 * i));
    memcpy(v + 5 + PASSWORD_SALT_BYTES, h->stored_key, PASSWORD_KEY_BYTES);
    memcpy(v + 5 + PASSWORD_SALT_BYTES + PASSWORD_KEY_BYTES, h->server_key, PASSWORD_KEY_BYTES);
}

static int accounts_user_decode(const uint8_t *v, int n, struct password_hash *h)
{
    if (n != ACCOUNTS_USER_LEN || v[0] != ACCOUNTS_VERSION)
        return PB_ECORRUPT;
    memcpy(h->salt, v + 1, PASSWORD_SALT_BYTES);
    h->iterations = 0;
    for (int i = 0; i < 4; i++)
        h->iterations |= (uint32_t)v[1 + PASSWORD_SALT_BYTES + i] << (8 * i);
    memcpy(h->stored_key, v + 5 + PASSWORD_SALT_BYTES, PASSWORD_KEY_BYTES);
    memcpy(h->server_key, v + 5 + PASSWORD_SALT_BYTES + PASSWORD_KEY_BYTES, PASSWORD_KEY_BYTES);
    return 0;
}

struct accounts_user_new {
    const char *addr;
    const uint8_t *value;
    bool create_mailbox;
};

static int accounts_do_user(struct store_txn *t, const void *arg)
{
    const struct accounts_user_new *u = arg;
    int err = store_rec_put(t, STORE_NS_USER, u->addr, u->value, ACCOUNTS_USER_LEN);
    if (err || !u->create_mailbox)
        return err;
    uint32_t mbox;
    uint16_t folder;
    if ((err = store_mailbox_create(t, u->addr, &mbox)) != 0 && err != PB_EEXIST)
        return err;
    if (err == PB_EEXIST)
        return 0;               /* the mailbox is there with its folders */
    /* INBOX and the special-use folders IMAP clients look for (RFC 6154):
     * all in the user's one transaction. */
    static const char *const folders[] = { "INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive" };
    for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++)
        if ((err = store_folder_create(t, mbox, folders[i], &folder)) != 0)
            return err;
    return 0;
}

static int accounts_user_set(struct store *s, const char *addr, const char *password, bool add)
{
    char a[ACCOUNTS_ADDR_MAX + 1], d[MAIL_DOMAIN_MAX + 1];
    uint8_t v[ACCOUNTS_USER_LEN];
    struct password_hash h;
    if (accounts_norm_addr(addr, a, sizeof(a), d, sizeof(d)))
        return PB_EINVAL;
    if (strlen(a) > STORE_NAME_MAX)
        return PB_ERANGE;       /* mailbox names are at most STORE_NAME_MAX */
    if (!accounts_exists(s, STORE_NS_DOMAIN, d))
        return PB_ENOENT;
    bool exists = accounts_exists(s, STORE_NS_USER, a);
    if (add && (exists || accounts_exists(s, STORE_NS_ALIAS, a)))
        return PB_EEXIST;
    if (!add && !exists)
        return PB_ENOENT;
    int err = password_hash_make(password, strlen(password), &h);
    if (err)
        return err;
    accounts_user_encode(&h, v);
    memset(&h, 0, sizeof(h));
    uint32_t mbox;
    struct accounts_user_new u = { a, v, add && store_mailbox_find(s, a, &mbox) != 0 };
    return accounts_commit(s, accounts_do_user, &u);
}

int accounts_user_add(struct store *s, const char *addr, const char *password)
{
    return accounts_user_set(s, addr, password, true);
}

#define ACCOUNTS_VERIFIER_PREFIX "scram-sha-256$"

static int accounts_b64(const uint8_t *in, size_t n, char *out, size_t cap)
{
    word32 len = (word32)cap;
    if (Base64_Encode_NoNl(in, (word32)n, (byte *)out, &len) != 0 || len >= cap)
        return PB_ERANGE;
    out[len] = '\0';
    return (int)len;
}

int accounts_user_verifier(struct store *s, const char *addr, char *buf, size_t cap)
{
    char a[ACCOUNTS_ADDR_MAX + 1], d[MAIL_DOMAIN_MAX + 1], salt[32], sk[64], vk[64];
    uint8_t v[ACCOUNTS_USER_LEN + 1];
    struct password_hash h;
    if (!s || accounts_norm_addr(addr, a, sizeof(a), d, sizeof(d)))
        return PB_EINVAL;
    int n = store_rec_get(s, STORE_NS_USER, a, v, sizeof(v));
    if (n < 0)
        return n;
    if (accounts_user_decode(v, n, &h) != 0)
        return PB_ECORRUPT;
    if (accounts_b64(h.salt, sizeof(h.salt), salt, sizeof(salt)) < 0 ||
        accounts_b64(h.stored_key, sizeof(h.stored_key), sk, sizeof(sk)) < 0 ||
        accounts_b64(h.server_key, sizeof(h.server_key), vk, sizeof(vk)) < 0)
        return PB_ERANGE;
    int w = snprintf(buf, cap, ACCOUNTS_VERIFIER_PREFIX "%lu$%s$%s$%s", (unsigned long)h.iterations,
                     salt, sk, vk);
    return w > 0 && (size_t)w < cap ? 0 : PB_ERANGE;
}

/* One base64 field of a verifier, exactly n bytes; the text after it. */
static const char *accounts_field(const char *p, uint8_t *out, size_t n)
{
    const char *end = strchr(p, '$');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    uint8_t tmp[64];
    if (sasl_base64_decode(p, len, tmp, sizeof(tmp)) != (int)n)
        return NULL;
    memcpy(out, tmp, n);
    return end ? end + 1 : p + len;
}

int accounts_user_import(struct store *s, const char *addr, const char *verifier)
{
    char a[ACCOUNTS_ADDR_MAX + 1], d[MAIL_DOMAIN_MAX + 1];
    struct password_hash h;
    uint8_t v[ACCOUNTS_USER_LEN];
    if (strncmp(verifier, ACCOUNTS_VERIFIER_PREFIX, strlen(ACCOUNTS_VERIFIER_PREFIX)) != 0)
        return PB_ECORRUPT;
    const char *p = verifier + strlen(ACCOUNTS_VERIFIER_PREFIX);
    char *end;
    unsigned long it = strtoul(p, &end, 10);
    if (end == p || *end != '$' || it < 4096 || it > 1000000)
        return PB_ECORRUPT;
    p = end + 1;
    if (!(p = accounts_field(p, h.salt, sizeof(h.salt))) ||
        !(p = accounts_field(p, h.stored_key, sizeof(h.stored_key))) ||
        !(p = accounts_field(p, h.server_key, sizeof(h.server_key))) || *p)
        return PB_ECORRUPT;
    h.iterations = (uint32_t)it;
    if (accounts_norm_addr(addr, a, sizeof(a), d, sizeof(d)))
        return PB_EINVAL;
    if (strlen(a) > STORE_NAME_MAX)
        return PB_ERANGE;
    if (!accounts_exists(s, STORE_NS_DOMAIN, d))
        return PB_ENOENT;
    if (accounts_exists(s, STORE_NS_USER, a) || accounts_exists(s, STORE_NS_ALIAS, a))
        return PB_EEXIST;
    accounts_user_encode(&h, v);
    uint32_t mbox;
    struct accounts_user_new u = { a, v, store_mailbox_find(s, a, &mbox) != 0 };
    return accounts_commit(s, accounts_do_user, &u);
}

int accounts_user_passwd(struct store *s, const char *addr, const char *password)
{
    return accounts_user_set(s, addr, password, false);
}

/* The login and the mailbox with all its mail go in one transaction. */
static int accounts_do_user_del(struct store_txn *t, const void *arg)
{
    const char *a = arg;
    uint32_t mbox;
    int err = store_rec_del(t, STORE_NS_USER, a);
    if (!err && store_mailbox_find(store_txn_store(t), a, &mbox) == 0)
        err = store_mailbox_delete(t, mbox);
    return err;
}

int accounts_user_del(struct store *s, const char *addr)
{
    char a[ACCOUNTS_ADDR_MAX + 1], d[MAIL_DOMAIN_MAX + 1];
    if (accounts_norm_addr(addr, a, sizeof(a), d, sizeof(d)))
        return PB_EINVAL;
    if (!accounts_exists(s, STORE_NS_USER, a))
        return PB_ENOENT;
    return accounts_commit(s, accounts_do_user_del, a);
}

bool accounts_user_exists(struct store *s, const char *addr)
{
    char a[ACCOUNTS_ADDR_MAX + 1], d[MAIL_DOMAIN_MAX + 1];
    return accounts_norm_addr(addr, a, sizeof(a), d, sizeof(d)) == 0 &&
           accounts_exists(s, STORE_NS_USER, a);
}

bool accounts_user_check(struct store *s, const char *addr, const char *password)
{
    char a[ACCOUNTS_ADDR_MAX + 1], d[MAIL_DOMAIN_MAX + 1];
    uint8_t v[ACCOUNTS_USER_LEN + 1];
    struct password_hash h;
    if (!s || accounts_norm_addr(addr, a, sizeof(a), d, sizeof(d)))
        return false;
    int n = store_rec_get(s, STORE_NS_USER, a, v, sizeof(v));
    if (n < 0 || accounts_user_decode(v, n, &h) != 0)
        return false;
    return password_hash_check(&h, password, strlen(password));
}

/* ---------------------------------------------------------- aliases --- */

int accounts_alias_add(struct store *s, const char *addr, const char *targets)
{
    char a[ACCOUNTS_ADDR_MAX + 1], d[MAIL_DOMAIN_MAX + 1];
    uint8_t v[STORE_REC_VALUE_MAX];
    size_t len = 1;
    if (accounts_norm_addr(addr, a, sizeof(a), d, sizeof(d)))
        return PB_EINVAL;
    if (!accounts_exists(s, STORE_NS_DOMAIN, d))
        return PB_ENOENT;
    if (accounts_exists(s, STORE_NS_USER, a) || accounts_exists(s, STORE_NS_ALIAS, a))
        return PB_EEXIST;
    v[0] = ACCOUNTS_VERSION;
    /* Each target is checked and stored in canonical form. */
    int count = 0;
    const char *p = targets;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char one[ACCOUNTS_ADDR_MAX + 1], canon[ACCOUNTS_ADDR_MAX + 1], td[MAIL_DOMAIN_MAX + 1];
        while (n > 0 && *p == ' ') {
            p++;
            n--;
        }
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == 0 || n >= sizeof(one))
            return PB_EINVAL;
        memcpy(one, p, n);
        one[n] = '\0';
        if (accounts_norm_addr(one, canon, sizeof(canon), td, sizeof(td)))
            return PB_EINVAL;
        size_t cl = strlen(canon);
        if (++count > ACCOUNTS_TARGETS_MAX || len + cl + 1 > sizeof(v))
            return PB_ERANGE;
        if (len > 1)
            v[len++] = ',';
        memcpy(v + len, canon, cl);
        len += cl;
        p += comma ? (size_t)(comma - p) + 1 : strlen(p);
        if (comma && !*p)
            return PB_EINVAL;
    }
    if (count == 0)
        return PB_EINVAL;
    struct accounts_put put = { STORE_NS_ALIAS, a, v, len };
    return accounts_commit(s, accounts_do_put, &put);
}

int accounts_alias_del(struct store *s, const char *addr)
{
    char a[ACCOUNTS_ADDR_MAX + 1], d[MAIL_DOMAIN_MAX + 1];
    if (accounts_norm_addr(addr, a, sizeof(a), d, sizeof(d)))
        return PB_EINVAL;
    if (!accounts_exists(s, STORE_NS_ALIAS, a))
        return PB_ENOENT;
    struct accounts_put p = { STORE_NS_ALIAS, a, NULL, 0 };
    return accounts_commit(s, accounts_do_del, &p);
}

int accounts_alias_get(struct store *s, const char *addr, char *buf, size_t cap)
{
    char a[ACCOUNTS_ADDR_MAX + 1], d[MAIL_DOMAIN_MAX + 1];
    uint8_t v[STORE_REC_VALUE_MAX];
    if (!s || accounts_norm_addr(addr, a, sizeof(a), d, sizeof(d)))
        return PB_ENOENT;
    int n = store_rec_get(s, STORE_NS_ALIAS, a, v, sizeof(v));
    if (n < 0)
        return n;
    if (n < 2 || v[0] != ACCOUNTS_VERSION)
        return PB_ECORRUPT;
    if ((size_t)n > cap)
        return PB_ERANGE;
    memcpy(buf, v + 1, (size_t)n - 1);
    buf[n - 1] = '\0';
    return 0;
}

int accounts_next(struct store *s, enum store_ns ns, const char *after, char *name, size_t cap)
{
    if (!s)
        return PB_ENOENT;
    return store_rec_next(s, ns, after, name, cap);
}

/* --------------------------------------------------------- resolving --- */

struct accounts_walk {
    struct store *s;
    accounts_target_fn fn;
    void *ctx;
    char seen[ACCOUNTS_SEEN_MAX][ACCOUNTS_SEEN_LEN];
    int nseen;
};

/* Hand one destination to the caller, once. */
static int accounts_emit(struct accounts_walk *w, const char *user, const char *remote)
{
    const char *name = user ? user : remote;
    for (int i = 0; i < w->nseen; i++)
        if (strcmp(w->seen[i], name) == 0)
            return 0;
    if (w->nseen < ACCOUNTS_SEEN_MAX && strlen(name) < ACCOUNTS_SEEN_LEN)
        strcpy(w->seen[w->nseen++], name);
    return w->fn(w->ctx, user, remote);
}

/* addr is canonical and lower case. */
static int accounts_walk(struct accounts_walk *w, const char *addr, int depth)
{
    const char *at = strrchr(addr, '@');
    char buf[STORE_REC_VALUE_MAX];
    if (!at)
        return PB_ENOENT;
    const char *domain = at + 1;
    if (!accounts_exists(w->s, STORE_NS_DOMAIN, domain))
        return depth == 0 ? PB_EPERM : accounts_emit(w, NULL, addr);
    if (depth > ACCOUNTS_ALIAS_DEPTH)
        return PB_ENOENT;

    /* The exact address, then the address without its +tag. */
    char base[ACCOUNTS_ADDR_MAX + 1];
    const char *plus = memchr(addr, '+', (size_t)(at - addr));
    const char *tries[2] = { addr, NULL };
    if (plus && plus > addr) {
        size_t ln = (size_t)(plus - addr);
        memcpy(base, addr, ln);
        strcpy(base + ln, at);
        tries[1] = base;
    }
    for (int i = 0; i < 2 && tries[i]; i++) {
        int n = store_rec_get(w->s, STORE_NS_ALIAS, tries[i], buf, sizeof(buf) - 1);
        if (n >= 2) {
            buf[n] = '\0';
            int found = 0, err = 0;
            for (char *t = buf + 1; t && *t;) {
                char *comma = strchr(t, ',');
                if (comma)
                    *comma = '\0';
                err = accounts_walk(w, t, depth + 1);
                if (err == 0)
                    found++;
                else if (err != PB_ENOENT)
                    return err;
                t = comma ? comma + 1 : NULL;
            }
            return found ? 0 : PB_ENOENT;
        }
        if (accounts_exists(w->s, STORE_NS_USER, tries[i]))
            return accounts_emit(w, tries[i], NULL);
    }

    char catchall[ACCOUNTS_ADDR_MAX + 1];
    if (accounts_domain_catchall(w->s, domain, catchall, sizeof(catchall)) == 0 && catchall[0] &&
        strcmp(catchall, addr) != 0)
        return accounts_walk(w, catchall, depth + 1);
    return PB_ENOENT;
}

int accounts_resolve(struct store *s, const struct mail_address *rcpt,
                     accounts_target_fn fn, void *ctx)
{
    static struct accounts_walk w;      /* 2 KiB: kept off the stack */
    char addr[ACCOUNTS_ADDR_MAX + 1];
    if (!s)
        return PB_EIO;
    struct mail_address a = *rcpt;
    if (a.null)
        return PB_ENOENT;
    if (a.domain[0] == '\0') {
        /* <postmaster> without a domain (RFC 5321 4.1.1.3): the first domain's. */
        if (store_rec_next(s, STORE_NS_DOMAIN, "", a.domain, sizeof(a.domain)) < 0)
            return PB_ENOENT;
    }
    if (a.literal || mail_address_format(&a, addr, sizeof(addr)) < 0)
        return PB_EPERM;
    accounts_lower(addr);
    memset(&w, 0, sizeof(w));
    w.s = s;
    w.fn = fn;
    w.ctx = ctx;
    return accounts_walk(&w, addr, 0);
}
