/*
 * ca_bundle.h - the CA roots embedded in the image at build time.
 *
 * tools/ca-bundle.sh writes them from the Debian ca-certificates package
 * the image was built with (the Mozilla roots whose key type the TLS layer
 * verifies: RSA and ECDSA P-256) into a generated C file; nothing of it is
 * committed.  They are the trust anchors of the relay host's certificate
 * when no fingerprint is pinned (smtp_relay.h); tls_config_client_roots()
 * in tls.h loads them.  A firmware update carries the roots of its own
 * build, so updating the roots means building with a newer package.
 */
#ifndef CA_BUNDLE_H
#define CA_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

extern const uint8_t ca_bundle_der[];   /* ca_bundle_count DER certificates, back to back */
extern const size_t ca_bundle_len;      /* octets in ca_bundle_der */
extern const unsigned ca_bundle_count;
extern const char ca_bundle_source[];   /* "ca-certificates VERSION" */

#endif
