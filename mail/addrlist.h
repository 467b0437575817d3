/*
 * addrlist.h - address lists of RFC 5322 header fields (From, To, Cc, ...,
 * section 3.4, with the obsolete forms of 4.4), as IMAP's ENVELOPE gives
 * them: one (name, route, mailbox, host) tuple per address, and groups as a
 * start tuple carrying the group's name and an end tuple.
 *
 * This is the header grammar, not SMTP's (address.h is the SMTP path):
 * display names, comments, quoted strings, source routes and groups.  It
 * never fails: whatever it cannot read is skipped to the next comma, as
 * mail readers do.  The input is an unfolded field value (see header.h);
 * nothing is decoded (encoded-words stay as written; encword.h decodes
 * them).  Each text is cut to its bound, with the tuple's cut flag set.
 *
 * UNFINISHED: the list is parsed from a buffer in RAM, so a To/Cc longer
 * than the caller's value buffer (header.h cuts it) loses its tail
 * addresses; a resumable parser over the header reader would lift that.
 */
#ifndef MAIL_ADDRLIST_H
#define MAIL_ADDRLIST_H

#include <stdbool.h>
#include <stddef.h>

#define MAIL_ADDRLIST_NAME_MAX    127   /* display name or group name */
#define MAIL_ADDRLIST_ROUTE_MAX   127   /* "@a.example,@b.example" */
#define MAIL_ADDRLIST_MAILBOX_MAX 127   /* local part, quotes removed */
#define MAIL_ADDRLIST_HOST_MAX    255   /* domain as written */

enum mail_addrlist_kind {
    MAIL_ADDRLIST_MAILBOX,      /* an address (host "" when it had none) */
    MAIL_ADDRLIST_GROUP_START,  /* "name:" - name is the group's */
    MAIL_ADDRLIST_GROUP_END,    /* ";" */
};

struct mail_addrlist_entry {
    enum mail_addrlist_kind kind;
    bool cut;                                   /* a text was cut to its bound */
    char name[MAIL_ADDRLIST_NAME_MAX + 1];      /* "" when none */
    char route[MAIL_ADDRLIST_ROUTE_MAX + 1];    /* "" when none */
    char mailbox[MAIL_ADDRLIST_MAILBOX_MAX + 1];
    char host[MAIL_ADDRLIST_HOST_MAX + 1];
};

struct mail_addrlist {
    const char *s, *end;
    bool in_group;
};

/* Iterate the address list in s[0..len). */
void mail_addrlist_init(struct mail_addrlist *l, const char *s, size_t len);

/* The next entry into *e.  Returns true, or false at the end (a group
 * left open gets its end entry first). */
bool mail_addrlist_next(struct mail_addrlist *l, struct mail_addrlist_entry *e);

#endif
