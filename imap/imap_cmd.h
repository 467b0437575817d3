/*
 * imap_cmd.h - the IMAP command grammar (RFC 3501 section 9, RFC 9051),
 * read from one complete command as the client sent it: tag, command
 * name, arguments, literals inline.
 *
 * Pure and allocation-free: the parser is a cursor over the caller's
 * buffer.  A literal is "{n}" or "{n+}" / "{n-}" (RFC 7888 LITERAL+ and
 * LITERAL-) followed by CRLF and exactly n bytes, all inside the buffer;
 * the session collects them (imap_cmd_literal_at_end tells it when a line
 * ends in a literal announcement and how many bytes follow).  Errors are
 * sticky: after the first one every call fails and imap_cmd_ok() is
 * false, so a caller can read a whole argument list and check once.
 *
 * Strings are copied out NUL-terminated into caller buffers; a string that
 * does not fit, or that contains NUL, is an error (PB_ERANGE / PB_EINVAL).
 * A sequence set is validated at parse time and then kept as text (a
 * pointer into the command buffer), so its size is bounded by the command
 * and nothing else; imap_seqset_contains() walks it.
 */
#ifndef IMAP_CMD_H
#define IMAP_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_CMD_TAG_MAX   64          /* bytes of a tag we accept */
#define IMAP_CMD_ATOM_MAX  64          /* bytes of a command name or keyword */
#define IMAP_SEQ_STAR      0xffffffffu /* "*" in a sequence set: the largest number in use */

struct imap_cmd {
    const char *p, *end;        /* cursor and end of the command */
    int err;                    /* 0, or the first error (sticky) */
};

struct imap_seqset {
    const char *text;           /* "1:4,7,9:*" as validated */
    size_t len;
    bool last;                  /* "$" (RFC 5182), not offered: always false */
};

void imap_cmd_init(struct imap_cmd *c, const char *buf, size_t len);
bool imap_cmd_ok(const struct imap_cmd *c);

/* The tag (1..IMAP_CMD_TAG_MAX tag characters, not "+"), NUL-terminated
 * into tag[IMAP_CMD_TAG_MAX + 1].  Returns 0 or a negative PB_E*. */
int imap_cmd_tag(struct imap_cmd *c, char *tag);
/* An atom (upper-cased when upper is true) into out[cap]. */
int imap_cmd_atom(struct imap_cmd *c, char *out, size_t cap, bool upper);
/* One space; PB_EINVAL if there is none. */
int imap_cmd_sp(struct imap_cmd *c);
/* Whether the next byte is ch; imap_cmd_take consumes it if so. */
bool imap_cmd_peek(const struct imap_cmd *c, char ch);
bool imap_cmd_take(struct imap_cmd *c, char ch);
/* The end of the command: optional CRLF and nothing after it. */
int imap_cmd_end(struct imap_cmd *c);
bool imap_cmd_at_end(const struct imap_cmd *c);
/* A string (quoted or literal) or an atom-like astring; its length in
 * *len (may be NULL).  nil_ok: "NIL" gives PB_ENOENT without error. */
int imap_cmd_astring(struct imap_cmd *c, char *out, size_t cap, size_t *len);
int imap_cmd_string(struct imap_cmd *c, char *out, size_t cap, size_t *len);
/* A LIST pattern: list-chars ("%" and "*" included) or a string. */
int imap_cmd_list_mailbox(struct imap_cmd *c, char *out, size_t cap);
/* A number (0..4294967295). */
int imap_cmd_number(struct imap_cmd *c, uint32_t *v);
/* A mod-sequence value (RFC 7162: 0..2^63-1; PB_ERANGE beyond). */
int imap_cmd_modseq(struct imap_cmd *c, uint64_t *v);
/* A sequence set (numbers > 0, "*", ranges, commas). */
int imap_cmd_seqset(struct imap_cmd *c, struct imap_seqset *set);
/* A flag: "\Seen" or a keyword atom, into out[cap] as written. */
int imap_cmd_flag(struct imap_cmd *c, char *out, size_t cap);
/* A date "d-Mon-yyyy" (bare or quoted) as days since 1970-01-01. */
int imap_cmd_date(struct imap_cmd *c, int32_t *days);
/* A date-time "dd-Mon-yyyy hh:mm:ss +zzzz" (quoted) as UTC seconds. */
int imap_cmd_datetime(struct imap_cmd *c, int64_t *epoch);

/* Whether n (1..max) is in set, with "*" meaning max.  max 0: nothing is. */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n, uint32_t max);
/* The largest number the set names other than through "*" (for UIDs). */
uint32_t imap_seqset_max(const struct imap_seqset *set, uint32_t star);

/* Does line[0..len) (without its CRLF) end in a literal announcement?
 * Returns 1 with *n and *nonsync ("{n+}", or "{n-}" for LITERAL-, which
 * is non-synchronising too) set, 0 if not, PB_ERANGE for a number that
 * does not fit 32 bits. */
int imap_cmd_literal_at_end(const char *line, size_t len, uint32_t *n, bool *nonsync);

/* Days since 1970-01-01 of a civil date (proleptic Gregorian), and back. */
int32_t imap_days_from_civil(int y, unsigned m, unsigned d);
void imap_civil_from_days(int32_t days, int *y, unsigned *m, unsigned *d);

#endif
