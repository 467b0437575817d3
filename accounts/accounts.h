/*
 * accounts.h - the office's domains, users and aliases, kept in the store.
 *
 * Shared by every service: SMTP asks where a recipient's mail goes, IMAP,
 * POP3 and submission check passwords, the console and the web page
 * change them.  Names are kept in lower case (ASCII letters); an address
 * is "local@domain".
 *
 * Where mail for an address goes (accounts_resolve):
 *   1. the domain must be configured, else the address is not local;
 *   2. an alias of that exact address wins, then a user of that name;
 *   3. subaddressing: "alice+tag@" goes where "alice@" goes;
 *   4. the domain's catch-all, if one is set;
 *   5. otherwise there is no such user.
 * Alias targets are addresses, local (resolved again, at most
 * ACCOUNTS_ALIAS_DEPTH deep) or remote (handed to the outbound queue).
 *
 * Every change is one store transaction: committed when the function
 * returns 0.  Errors: PB_ENOENT (no such domain/user/alias), PB_EEXIST,
 * PB_EINVAL (bad name or address), PB_ENOSPC/PB_ENOMEM (store full),
 * PB_EIO; nothing is changed on error.
 */
#ifndef ACCOUNTS_H
#define ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "address.h"
#include "password.h"
#include "store.h"

#define ACCOUNTS_ADDR_MAX     (MAIL_LOCAL_MAX + 1 + MAIL_DOMAIN_MAX)
#define ACCOUNTS_ALIAS_DEPTH  4     /* alias -> alias -> ... nesting */
#define ACCOUNTS_TARGETS_MAX  16    /* targets of one alias */

/* ---- domains ---- */
int accounts_domain_add(struct store *s, const char *domain);
/* Refused (PB_EBUSY) while users or aliases of the domain exist. */
int accounts_domain_del(struct store *s, const char *domain);
bool accounts_domain_exists(struct store *s, const char *domain);
/* Catch-all: target address, or NULL to switch it off. */
int accounts_domain_set_catchall(struct store *s, const char *domain, const char *target);
/* The catch-all target into buf ("" when off); returns 0 or PB_ENOENT. */
int accounts_domain_catchall(struct store *s, const char *domain, char *buf, size_t cap);

/* ---- users ---- */
/* Add addr (its domain must exist) with a password; also creates the
 * user's mailbox with INBOX, Sent, Drafts, Trash, Junk and Archive in the
 * same transaction. */
int accounts_user_add(struct store *s, const char *addr, const char *password);
int accounts_user_passwd(struct store *s, const char *addr, const char *password);
/* Removes the user's login and mailbox, with all the user's mail. */
int accounts_user_del(struct store *s, const char *addr);
bool accounts_user_exists(struct store *s, const char *addr);
/* Whether password is addr's.  Takes the time of one PBKDF2. */
bool accounts_user_check(struct store *s, const char *addr, const char *password);

/* A user's password verifier as text, to clone a box without knowing the
 * passwords: "scram-sha-256$ITERATIONS$SALT$STOREDKEY$SERVERKEY" with the
 * binary parts in base64.  Returns 0, PB_ENOENT, PB_ERANGE (cap; 160
 * bytes are enough). */
#define ACCOUNTS_VERIFIER_TEXT_MAX 160
int accounts_user_verifier(struct store *s, const char *addr, char *buf, size_t cap);
/* Add a user whose password is given by such a verifier (PB_ECORRUPT
 * when it is not one); otherwise as accounts_user_add. */
int accounts_user_import(struct store *s, const char *addr, const char *verifier);

/* ---- aliases ---- */
/* targets: comma-separated addresses ("bob@example.com,carol@other.org"). */
int accounts_alias_add(struct store *s, const char *addr, const char *targets);
int accounts_alias_del(struct store *s, const char *addr);
/* The targets of addr into buf (comma-separated); 0 or PB_ENOENT. */
int accounts_alias_get(struct store *s, const char *addr, char *buf, size_t cap);

/* ---- listing ---- */
/* Next name after `after` ("" first) in the domain/user/alias lists;
 * returns its length or PB_ENOENT at the end. */
int accounts_next(struct store *s, enum store_ns ns, const char *after, char *name, size_t cap);

/* ---- delivery ---- */
/* Called for each final destination: a local user (user = "alice@example.test")
 * or a remote address (remote = the address). */
typedef int (*accounts_target_fn)(void *ctx, const char *user, const char *remote);

/* Where mail for rcpt goes (see the top of this file).  Calls fn for each
 * target (duplicates removed) and returns 0; PB_EPERM when the domain is
 * not one of ours (a relay attempt); PB_ENOENT when there is no such user;
 * fn's own negative return stops the walk and is returned. */
int accounts_resolve(struct store *s, const struct mail_address *rcpt,
                     accounts_target_fn fn, void *ctx);

/* Lower-case an address or domain in place (ASCII letters only). */
void accounts_lower(char *s);

#endif
