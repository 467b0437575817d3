/*
 * imap_session_priv.h - what imap_session.c and imap_fetch.c share: the
 * output helpers, the long-response steps and the FETCH/SEARCH commands.
 * Not for other modules.
 */
#ifndef IMAP_SESSION_PRIV_H
#define IMAP_SESSION_PRIV_H

#include "imap_session.h"

enum imap_send_kind { IMAP_SEND_SYNC, IMAP_SEND_FETCH, IMAP_SEND_SEARCH, IMAP_SEND_LIST };

void imap_out(struct imap_session *s, const char *data, size_t n);
void imap_printf(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void imap_astring_out(struct imap_session *s, const char *v, size_t n);
/* A folder name from the store (UTF-8) as this session writes names. */
void imap_name_out(struct imap_session *s, const char *name);
/* A folder name as the client wrote it (wire[0..n)) to the store's UTF-8
 * in out[cap]: 0; PB_EINVAL not modified UTF-7 (rev1) or not UTF-8;
 * PB_ERANGE too long. */
int imap_name_in(const struct imap_session *s, const char *wire, size_t n, char *out, size_t cap);
/* The flags (system flags and keyword names) as IMAP writes them, into
 * buf[cap] (IMAP_FLAGS_TEXT_MAX holds any set). */
#define IMAP_FLAGS_TEXT_MAX (48 + IMAP_MAILBOX_KEYWORDS * (IMAP_MAILBOX_KEYWORD_MAX + 1))
const char *imap_flags_text(struct imap_mailbox *mb, uint16_t flags, char *buf, size_t cap);
/* A CONDSTORE-enabling command (RFC 7162 3.1) was accepted: CONDSTORE is
 * on from now; the first time, with a folder selected, the client is
 * told its HIGHESTMODSEQ. */
void imap_condstore_on(struct imap_session *s);
void imap_finish(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void imap_bad(struct imap_session *s, const char *text);
const char *imap_err_code(int err);
const char *imap_capabilities(const struct imap_session *s);
bool imap_selected(struct imap_session *s, const struct imap_seqset *set, uint32_t seq);
/* A flag list "(\\Seen $Label1)" (or one flag) as bits; keywords get
 * their bits from imap_mailbox_keyword (created when create is true,
 * else an unknown keyword is left out).  0; PB_EINVAL bad syntax or a
 * system flag that cannot be set; the keyword errors of imap_mailbox.h. */
int imap_flag_list(struct imap_session *s, struct imap_cmd *c, uint16_t *flags, bool create);
/* How many flag updates (untagged FETCH lines) fit in room bytes. */
unsigned imap_sync_budget(const struct imap_session *s, size_t room);

/* Long-response steps: 1 progress, 0 finished, -1 no room (come back). */
int imap_list_step(struct imap_session *s);
int imap_fetch_step(struct imap_session *s);
int imap_search_step(struct imap_session *s);

void imap_proceed_fetch(struct imap_session *s, struct imap_cmd *c);
void imap_proceed_search(struct imap_session *s, struct imap_cmd *c);

#endif
