/*
 * password.h - how account passwords are kept: never in clear.
 *
 * A password is kept as SCRAM-SHA-256's verifier (RFC 5802, RFC 7677): a
 * random 16-byte salt, an iteration count, StoredKey and ServerKey, where
 *   SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations)
 *   StoredKey      = SHA-256(HMAC(SaltedPassword, "Client Key"))
 *   ServerKey      = HMAC(SaltedPassword, "Server Key")
 * That is enough to check a password given in clear (AUTH PLAIN, IMAP
 * LOGIN, POP3 PASS) and to offer SCRAM-SHA-256 later, and it cannot be
 * turned back into the password.  All hashing is wolfCrypt's.
 *
 * UNFINISHED: passwords are used as given (UTF-8 octets); SASLprep
 * normalisation (RFC 4013) is not applied.
 */
#ifndef PASSWORD_H
#define PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PASSWORD_SALT_BYTES  16
#define PASSWORD_KEY_BYTES   32
#define PASSWORD_ITERATIONS  4096   /* RFC 7677's minimum; ~60 ms on a 400 MHz Cortex-M7 */
#define PASSWORD_MAX         256    /* octets of a password */

struct password_hash {
    uint8_t salt[PASSWORD_SALT_BYTES];
    uint32_t iterations;
    uint8_t stored_key[PASSWORD_KEY_BYTES];
    uint8_t server_key[PASSWORD_KEY_BYTES];
};

/* Make a verifier for pw (len octets, 1..PASSWORD_MAX) with a fresh salt
 * from the board's TRNG.  Returns 0, PB_EINVAL (empty or too long), PB_EIO
 * (no entropy) or PB_ETLS (a wolfCrypt failure). */
int password_hash_make(const char *pw, size_t len, struct password_hash *out);

/* The same with a given salt and iteration count (for SCRAM test vectors
 * and for re-deriving). */
int password_hash_derive(const char *pw, size_t len, const uint8_t salt[PASSWORD_SALT_BYTES],
                         uint32_t iterations, struct password_hash *out);

/* Whether pw matches h.  The comparison takes the same time wherever the
 * keys differ. */
bool password_hash_check(const struct password_hash *h, const char *pw, size_t len);

#endif
