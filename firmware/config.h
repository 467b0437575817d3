/*
 * config.h - the appliance's settings.
 *
 * Kept in the flash store (storage.h) when there is one: a change is
 * committed to flash before the function that made it returns.  Without a
 * store (no flash device) they live in RAM only.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "sasl.h"
#include "net.h"

/* Limits of the SMTP server's settings. */
#define CONFIG_SMTP_SIZE_MIN     (1u << 20)         /* 1 MiB */
#define CONFIG_SMTP_SIZE_MAX     (1u << 30)         /* 1 GiB */
#define CONFIG_SMTP_SIZE_DEFAULT (25u << 20)           /* 25 MiB */
#define CONFIG_SMTP_TIMEOUT_MIN  300u   /* RFC 5321 4.5.3.2.7: at least 5 minutes */
#define CONFIG_SMTP_TIMEOUT_MAX  3600u

#define CONFIG_RELAYHOST_MAX     263    /* "[host]:port" */
#define CONFIG_FINGERPRINT_MAX   95     /* "AB:CD:..." 32 octets */
#define CONFIG_LIFETIME_MIN      3600u          /* 1 hour */
#define CONFIG_LIFETIME_MAX      (30u * 86400u) /* 30 days */
#define CONFIG_LIFETIME_DEFAULT  (5u * 86400u)  /* 5 days */
#define CONFIG_DELAY_NOTICE_DEFAULT (4u * 3600u) /* 4 hours; 0 = off, at most CONFIG_LIFETIME_MAX */

struct config_smtp {
    uint32_t max_size;      /* message size limit, octets (EHLO SIZE) */
    uint32_t timeout;       /* seconds a session may wait for the client */
    bool require_rdns;      /* refuse peers without reverse DNS */
    bool hide_client;       /* submission: Received: without the client's address */
};

/* Lockout of password guessers (accounts/auth_guard.h). */
#define CONFIG_AUTH_FAILS_DEFAULT   10u
#define CONFIG_AUTH_LOCKOUT_DEFAULT 900u            /* seconds: 15 minutes */
#define CONFIG_AUTH_LOCKOUT_MIN     1u
#define CONFIG_AUTH_LOCKOUT_MAX     (7u * 86400u)   /* one week */
#define CONFIG_IP_TEXT_MAX          40              /* "255.255.255.255/32 255.255.255.255" */

struct config {
    char hostname[NET_HOSTNAME_MAX + 1];   /* FQDN used in greetings and the certificate */
    struct net_config net;                 /* addressing: DHCP by default */
    struct config_smtp smtp;
    char dns[DNS_SERVERS_TEXT_MAX];        /* resolver servers (dns.h syntax); "" = DHCP's */
    char relayhost[CONFIG_RELAYHOST_MAX + 1];  /* all outbound mail goes there ("" = MX) */
    char relay_user[SASL_CRED_MAX + 1];    /* relay host AUTH ("" = none) */
    char relay_pass[SASL_CRED_MAX + 1];    /* kept in the clear: AUTH PLAIN/LOGIN send it */
    bool relay_implicit;                   /* relay host: implicit TLS (else STARTTLS) */
    char relay_fpr[CONFIG_FINGERPRINT_MAX + 1];  /* relay host certificate pin ("" = none) */
    uint32_t queue_lifetime;               /* seconds an outbound message is tried */
    uint32_t auth_max_failures;            /* failed logins from one address before the lockout */
    uint32_t auth_lockout;                 /* seconds the address is then refused */
    uint32_t queue_delay_notice;           /* seconds before the sender's delay notice; 0 = none */
};

/* Defaults: hostname "pillarbox", DHCP. */
void config_init(void);

/* Read the settings kept in the store over the defaults.  Returns 0,
 * PB_ENOTSUP without a store, or a negative PB_E* (the defaults stay). */
int config_load(void);

const struct config *config_get(void);

/* A hostname per RFC 1123: labels of letters, digits and hyphens, 1..63
 * characters, not starting or ending with a hyphen, 253 in all.  Committed
 * to the store before it returns.  Returns 0, or PB_EINVAL (not a valid
 * name) or the store's error (PB_ENOSPC, PB_EIO, ...), changing nothing. */
int config_set_hostname(const char *name);

/* SMTP settings, each within the limits above (PB_ERANGE otherwise),
 * committed to the store before they return, like the hostname. */
int config_set_smtp_max_size(uint32_t bytes);
int config_set_smtp_timeout(uint32_t seconds);
int config_set_smtp_require_rdns(bool on);
int config_set_submission_hide_client(bool on);
/* The resolver's servers: IP[:PORT] entries separated by spaces, or
 * "auto" (or "") for the ones DHCP gives.  Committed to the store, then
 * handed to the resolver, before it returns.  Returns 0, PB_EINVAL (an
 * entry is not an address), PB_ERANGE (more than DNS_SERVERS_MAX) or the
 * store's error, changing nothing. */
int config_set_dns(const char *list);

/* The relay host (smtp_relay.h syntax: HOST[:PORT]; "" or "off" for
 * none) and the queue lifetime (seconds, within the limits above; else
 * PB_EINVAL / PB_ERANGE), committed to the store before they return. */
int config_set_relayhost(const char *spec);
int config_set_queue_lifetime(uint32_t seconds);
/* Delay notices (smtp_relay_set_delay_notice): seconds, 0 for off, at most
 * CONFIG_LIFETIME_MAX (else PB_ERANGE); applied to the queue runner too. */
int config_set_queue_delay_notice(uint32_t seconds);

/* Relay host login (user and password, 1..SASL_CRED_MAX octets each, in
 * one commit; user "off" for none), TLS mode ("starttls" or "implicit")
 * and certificate pin (SHA-256 hex, colons allowed, or "off").  Each is
 * committed to the store before it returns; PB_EINVAL for a bad value,
 * changing nothing.  The password is stored in the clear (AUTH PLAIN and
 * LOGIN need it) and is never shown. */
int config_set_relayhost_auth(const char *user, const char *pass);
int config_set_relayhost_tls(const char *mode);
int config_set_relayhost_fingerprint(const char *hex);

/* Lockout of an address after failed logins (IMAP, POP3, submission and
 * the web sign-in share it): failures 1..1000, lockout seconds within the
 * limits above; PB_ERANGE otherwise.  Committed to the store and given to
 * auth_guard before it returns. */
int config_set_auth_max_failures(uint32_t n);
int config_set_auth_lockout(uint32_t seconds);

/* IPv4 addressing: DHCP, or a static address.  text is "dhcp" or
 * "ADDR/PREFIX GATEWAY" (prefix 1..30, the gateway inside the network,
 * the address neither the network's nor its broadcast address).
 * Committed to the store before it returns; the network takes it at the
 * next boot (lwIP's interface is brought up once, in net_init).  Returns
 * 0, PB_EINVAL (not that syntax or not a usable address) or the store's
 * error, changing nothing. */
int config_set_ip(const char *text);

/* The IPv4 setting as config_set_ip takes it ("dhcp" or
 * "10.0.2.15/24 10.0.2.2") into buf (CONFIG_IP_TEXT_MAX + 1 bytes). */
void config_ip_text(const struct net_config *net, char *buf, size_t cap);

/* Whether name is a valid hostname (the check config_set_hostname makes). */
int config_hostname_valid(const char *name);

#endif
