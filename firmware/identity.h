/*
 * identity.h - the appliance's own TLS identity.
 *
 * A fresh ECDSA P-256 key and a self-signed X.509 certificate for the
 * appliance's host name, used by every TLS service (465, 993, 995, 443 and
 * STARTTLS on 25/587/143/110).  Users pin it by its SHA-256 fingerprint,
 * which the console shows.
 *
 * The identity is made once, on a blank store, and kept in the flash store
 * (settings "tls.key" and "tls.cert", written in one transaction), so the
 * fingerprint stays the same across reboots and power cuts.  Changing the
 * hostname later keeps the certificate (and its old name).
 * UNFINISHED: importing a CA-signed certificate; regenerating on demand.
 */
#ifndef IDENTITY_H
#define IDENTITY_H

#include <stddef.h>
#include <stdint.h>

struct altcp_tls_config;
struct store;

#define IDENTITY_HOSTNAME_MAX 63    /* one DNS label or a short FQDN */
#define IDENTITY_KEY_MAX 160        /* DER of a P-256 private key: ~121 bytes */
#define IDENTITY_CERT_MAX 1024      /* DER of the certificate: ~450 bytes */
#define IDENTITY_FPR_SIZE 96        /* "AB:CD:..." 32 bytes -> 95 chars + NUL */
#define IDENTITY_VALID_DAYS 3653    /* ten years (with leap days) */

/* Caller-owned; identity_generate() fills every field. */
struct identity {
    uint8_t key_der[IDENTITY_KEY_MAX];    /* SEC1 ECPrivateKey, DER */
    size_t key_len;
    uint8_t cert_der[IDENTITY_CERT_MAX];  /* X.509 certificate, DER */
    size_t cert_len;
    char fingerprint[IDENTITY_FPR_SIZE];  /* SHA-256 of cert_der, "AB:CD:..." upper case */
};

/* Make a new key and a self-signed certificate for hostname: subject
 * CN=hostname, subjectAltName DNS:hostname, a random 16-byte serial,
 * signed with ECDSA-SHA256, valid from the board's wall clock minus one
 * day for IDENTITY_VALID_DAYS days (when the board does not know the date
 * the validity starts in 1970: set the clock first).  Needs tls_init()
 * (memory comes from the TLS arena, entropy from hal_rng).
 * Returns 0, PB_EINVAL (hostname empty or too long), PB_ENOMEM (arena) or
 * PB_ETLS (a wolfCrypt failure).  On failure *id is zeroed. */
int identity_generate(const char *hostname, struct identity *id);

/* A TLS server configuration (altcp_tls_*) presenting id.  The config
 * copies what it needs: id may change afterwards.  Free it with
 * altcp_tls_free_config().  Returns 0 and sets *out, or PB_EINVAL or
 * PB_ENOMEM. */
int identity_server_config(const struct identity *id, struct altcp_tls_config **out);

/* Load the identity kept in s into id and compute its fingerprint (needs
 * tls_init()).  Returns 0, PB_ENOENT (none kept: a blank store),
 * PB_ECORRUPT (only part of it, or damaged), PB_ENOMEM, PB_ETLS.  On
 * failure *id is zeroed. */
int identity_load(struct store *s, struct identity *id);

/* Keep id in s, key and certificate in one transaction: durable when it
 * returns 0.  Returns 0 or the store's PB_E* (PB_ENOSPC when full). */
int identity_save(struct store *s, const struct identity *id);

#endif
