/*
 * password.c - password verifiers (see password.h), from wolfCrypt's
 * PBKDF2, HMAC and SHA-256.
 */
#include "password.h"

#include <string.h>

#include "hal_rng.h"
#include "pb_err.h"
#include "wolfssl/wolfcrypt/hmac.h"
#include "wolfssl/wolfcrypt/pwdbased.h"
#include "wolfssl/wolfcrypt/sha256.h"

static int password_hmac(const uint8_t *key, const char *msg, uint8_t out[PASSWORD_KEY_BYTES])
{
    Hmac h;
    int ok = wc_HmacInit(&h, NULL, INVALID_DEVID) == 0 &&
             wc_HmacSetKey(&h, WC_SHA256, key, PASSWORD_KEY_BYTES) == 0 &&
             wc_HmacUpdate(&h, (const byte *)msg, (word32)strlen(msg)) == 0 &&
             wc_HmacFinal(&h, out) == 0;
    wc_HmacFree(&h);
    return ok ? 0 : PB_ETLS;
}

int password_hash_derive(const char *pw, size_t len, const uint8_t salt[PASSWORD_SALT_BYTES],
                         uint32_t iterations, struct password_hash *out)
{
    uint8_t salted[PASSWORD_KEY_BYTES], client_key[PASSWORD_KEY_BYTES];
    memset(out, 0, sizeof(*out));
    if (len == 0 || len > PASSWORD_MAX || iterations == 0 || iterations > 1000000)
        return PB_EINVAL;
    memcpy(out->salt, salt, PASSWORD_SALT_BYTES);
    out->iterations = iterations;
    int err = PB_ETLS;
    if (wc_PBKDF2(salted, (const byte *)pw, (int)len, salt, PASSWORD_SALT_BYTES, (int)iterations,
                  PASSWORD_KEY_BYTES, WC_SHA256) == 0 &&
        password_hmac(salted, "Client Key", client_key) == 0 &&
        wc_Sha256Hash(client_key, PASSWORD_KEY_BYTES, out->stored_key) == 0 &&
        password_hmac(salted, "Server Key", out->server_key) == 0)
        err = 0;
    /* Nothing derived from the password stays on the stack. */
    memset(salted, 0, sizeof(salted));
    memset(client_key, 0, sizeof(client_key));
    if (err)
        memset(out, 0, sizeof(*out));
    return err;
}

int password_hash_make(const char *pw, size_t len, struct password_hash *out)
{
    uint8_t salt[PASSWORD_SALT_BYTES];
    if (hal_rng_fill(salt, sizeof(salt)) != 0)
        return PB_EIO;
    return password_hash_derive(pw, len, salt, PASSWORD_ITERATIONS, out);
}

bool password_hash_check(const struct password_hash *h, const char *pw, size_t len)
{
    struct password_hash t;
    if (password_hash_derive(pw, len, h->salt, h->iterations, &t) != 0)
        return false;
    uint8_t diff = 0;
    for (size_t i = 0; i < PASSWORD_KEY_BYTES; i++)
        diff |= (uint8_t)((t.stored_key[i] ^ h->stored_key[i]) | (t.server_key[i] ^ h->server_key[i]));
    memset(&t, 0, sizeof(t));
    return diff == 0;
}
