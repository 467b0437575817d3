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
 *
 * The office may replace it: by a new self-signed one (identity_generate
 * then identity_save) or by a CA-signed certificate and its key given as
 * PEM text (identity_import_pem).  services_tls_swap() (services.h)
 * then gives it to new connections at once; open ones keep the old one.
 * UNFINISHED: intermediate certificates of an imported chain are not kept
 * (only the leaf: a store setting holds at most STORE_VALUE_MAX = 1024
 * bytes, less than a typical leaf plus intermediate), and RSA keys of
 * 2048 bits (about 1.2 KB of DER) do not fit IDENTITY_KEY_MAX: imported
 * keys are ECDSA P-256 (the only curve the TLS build has).
 */
#ifndef IDENTITY_H
#define IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct altcp_tls_config;
struct store;

#define IDENTITY_HOSTNAME_MAX 63    /* one DNS label or a short FQDN */
#define IDENTITY_KEY_MAX 512        /* DER of a private key: P-256 ~121 bytes, P-384 ~167 */
#define IDENTITY_CERT_MAX 1024      /* DER of the certificate: ours ~450 bytes; the store's limit */
#define IDENTITY_PEM_MAX 8192       /* PEM text given to identity_import_pem */
#define IDENTITY_SUBJECT_MAX 64     /* subject commonName shown (longer is cut) */
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

/* What `show tls` and the web page show about an identity. */
struct identity_info {
    char subject[IDENTITY_SUBJECT_MAX + 1];  /* subject commonName ("" if none) */
    char not_after[32];                      /* "2036-11-27 02:03:38 UTC" */
    int64_t not_after_s;                     /* the same, seconds since 1970 */
    bool self_signed;                        /* issuer name == subject name */
};

/* Read id's certificate into *info (needs tls_init(): the parser's memory
 * comes from the TLS arena).  Returns 0, PB_ECORRUPT (the certificate does
 * not parse) or PB_ENOMEM. */
int identity_info(const struct identity *id, struct identity_info *info);

/* Take a certificate and its private key as PEM text (the first
 * "-----BEGIN CERTIFICATE-----" block of cert_pem, the first private key
 * block - PKCS#8, SEC1 "EC PRIVATE KEY" - of key_pem; both may be the
 * same text, each at most IDENTITY_PEM_MAX bytes) into *id, checked:
 * the key belongs to the certificate, and the certificate has not expired
 * at now_s (seconds since 1970).  *host_ok says whether the certificate
 * names hostname (a warning, not a refusal: the office may use another
 * name).  Nothing is saved: call identity_save.
 * Returns 0, or with *id zeroed: PB_EINVAL (no certificate or no key
 * found, or not parseable), PB_ERANGE (text over IDENTITY_PEM_MAX, DER
 * over IDENTITY_CERT_MAX / IDENTITY_KEY_MAX), PB_EPERM (the key does not
 * match the certificate), PB_ETIMEDOUT (the certificate has expired),
 * PB_ENOMEM (arena). */
int identity_import_pem(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                        const char *hostname, int64_t now_s, struct identity *id, bool *host_ok);

#endif
