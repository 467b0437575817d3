/*
 * address.h - mail addresses as SMTP carries them (RFC 5321 section 4.1.2,
 * with RFC 6531's UTF-8 extension).
 *
 * Shared by every service: SMTP paths, account names, alias targets.  The
 * local part is kept in canonical form (a quoted-string's quotes and
 * backslashes removed), so "alice"@example.com and alice@example.com are
 * the same mailbox; mail_address_format() quotes it again when needed.  An
 * ASCII domain is kept in lower case.  No heap: struct mail_address holds
 * the text.
 */
#ifndef MAIL_ADDRESS_H
#define MAIL_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#define MAIL_LOCAL_MAX  64      /* octets of a local part (RFC 5321 4.5.3.1.1) */
#define MAIL_DOMAIN_MAX 255     /* octets of a domain (4.5.3.1.2) */
#define MAIL_PATH_MAX   256     /* octets of a path including < > (4.5.3.1.3) */

/* Flags for mail_address_parse_path(). */
#define MAIL_ADDR_NULL_OK    0x1u   /* "<>" is allowed (the reverse-path) */
#define MAIL_ADDR_UTF8       0x2u   /* UTF-8 local parts and domains (SMTPUTF8 given) */
#define MAIL_ADDR_BARE_LOCAL 0x4u   /* "<postmaster>" without a domain is allowed (RCPT) */

struct mail_address {
    char local[MAIL_LOCAL_MAX + 1];     /* canonical, NUL-terminated */
    char domain[MAIL_DOMAIN_MAX + 1];   /* "" for <> and <postmaster> */
    bool null;                          /* the null path <> */
    bool utf8;                          /* contains non-ASCII (needs SMTPUTF8) */
    bool literal;                       /* domain is an address literal [1.2.3.4] */
};

/* Parse a path "<...>" at the start of s (len bytes; no NUL needed): an
 * optional source route (ignored, as RFC 5321 C says), then a mailbox.
 * *used is set to the bytes consumed (through the '>').  Returns 0, or
 * PB_EINVAL for bad syntax, PB_ERANGE for a part over its length limit;
 * *out is then unspecified. */
int mail_address_parse_path(const char *s, size_t len, unsigned flags,
                            struct mail_address *out, size_t *used);

/* Parse a bare mailbox "local@domain" (the whole of s, for the console and
 * alias targets).  Same returns as mail_address_parse_path(). */
int mail_address_parse(const char *s, size_t len, unsigned flags, struct mail_address *out);

/* Write a as "local@domain" (local part quoted when it is not a
 * dot-string) into buf.  Returns the length, or PB_ERANGE if cap is too
 * small (buf then holds a truncated, NUL-terminated string). */
int mail_address_format(const struct mail_address *a, char *buf, size_t cap);

/* Whether s (NUL-terminated) is a valid domain name (LDH labels; U-labels
 * too when utf8), not an address literal. */
bool mail_address_domain_valid(const char *s, bool utf8);

#endif
