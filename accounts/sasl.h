/*
 * sasl.h - SASL mechanisms the services offer for login, shared by POP3,
 * IMAP and submission so that each decodes them the same way.
 *
 * PLAIN (RFC 4616): the client's response is base64 (RFC 4648, with
 * padding) of "authzid NUL authcid NUL passwd".  Proxy logins are not
 * offered: an authzid, if present, must equal the authcid.  The client
 * side (the appliance logging in to a relay host) encodes the same form.
 */
#ifndef SASL_H
#define SASL_H

#include <stddef.h>

#define SASL_PLAIN_B64_MAX 1024     /* characters of a PLAIN response we read */
#define SASL_CRED_MAX      128      /* octets of a user name or password we send (client side) */

/* Decode a PLAIN response of len base64 characters (no CRLF) into user
 * and pass (NUL-terminated, ucap/pcap bytes with the NUL).  Returns 0;
 * PB_EINVAL for bad base64 or a response not of the PLAIN form (an empty
 * user or password counts as not of the form); PB_ERANGE when the
 * response, the user or the password is too long; PB_EPERM when an
 * authzid other than the user is asked for.  On error user and pass are
 * empty strings. */
int sasl_plain_decode(const char *b64, size_t len, char *user, size_t ucap,
                      char *pass, size_t pcap);

/* Decode base64 (RFC 4648 section 4, padding required, no whitespace).
 * Returns the number of bytes written to out (cap bytes), PB_EINVAL or
 * PB_ERANGE. */
int sasl_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap);

/* Encode len bytes as base64 (RFC 4648 section 4, padded) into out (cap
 * bytes, NUL included).  Returns the characters written (without the
 * NUL) or PB_ERANGE. */
int sasl_base64_encode(const unsigned char *in, size_t len, char *out, size_t cap);

/* The client's PLAIN response for user and pass (no authzid), base64,
 * into out.  Returns its length, PB_EINVAL (user or password empty or
 * over SASL_CRED_MAX) or PB_ERANGE. */
int sasl_plain_encode(const char *user, const char *pass, char *out, size_t cap);

#endif
