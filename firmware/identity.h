/*
 * identity.h - the appliance's own TLS identity.
 *
 * A fresh ECDSA P-256 key and a self-signed X.509 certificate for the
 * appliance's host name, used by every TLS service (465, 993, 995, 443 and
 * STARTTLS on 25/587/143/110).  Users pin it by its SHA-256 fingerprint,
 * which the console shows.
 *
 * UNFINISHED: the identity is not persisted yet, so every boot makes a new
 * one (and a new fingerprint).  Storing it in the flash store, and
 * importing a CA-signed certificate, come with the store issue.
 */
#ifndef IDENTITY_H
#define IDENTITY_H

#include <stddef.h>
#include <stdint.h>

struct altcp_tls_config;

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

#endif
