/*
 * user_settings.h - wolfSSL configuration of Pillarbox (all boards).
 *
 * Included by wolfSSL's settings.h because the Makefile passes
 * -DWOLFSSL_USER_SETTINGS.  What we build: TLS 1.2 and 1.3, client and
 * server, forward-secret suites only (ECDHE in 1.2, (EC)DHE in 1.3),
 * RSA / ECDSA P-256 / Ed25519 signatures, X25519 and P-256 key exchange,
 * AES-GCM and ChaCha20-Poly1305, SHA-2, HKDF, PBKDF2, certificate and key
 * generation for the appliance's self-signed identity, SNI.
 *
 * The boards differ only in the big-number back end: PB_BOARD_MPS2 uses
 * the Cortex-M assembly of sp_cortexm.c, PB_BOARD_SIM the portable
 * 64-bit C of sp_c64.c.  The Makefile's WOLF_ARM / WOLF_HOST lists must
 * match.
 *
 * Memory comes from the bounded arena of net/tls_arena.c, never from the C
 * heap; entropy from hal_rng_fill(); the date for certificate validity from
 * hal_clock_wall() (through tls_wolf_time() in net/tls.c).
 */
#ifndef PB_USER_SETTINGS_H
#define PB_USER_SETTINGS_H

#include <stddef.h>
#include <time.h>

/* ------------------------------------------------------------ platform --- */
#define SINGLE_THREADED
#define NO_FILESYSTEM
#define NO_WOLFSSL_DIR
#define WOLFSSL_NO_CURRDIR
#define WOLFSSL_NO_SOCK
#define WOLFSSL_USER_IO             /* I/O through callbacks (net/tls.c) */
#define NO_WRITEV
#define NO_MAIN_DRIVER
#define NO_DEV_RANDOM
#define WOLFSSL_IGNORE_FILE_WARN
#define WOLFSSL_SMALL_STACK         /* big temporaries go to the arena */
#define HAVE_GMTIME_R
#define NO_SESSION_CACHE            /* saves ~ 30 KiB of static RAM */
#define NO_OLD_TLS
#define WOLFSSL_NO_ATOMICS
#define WOLFSSL_ALWAYS_VERIFY_CB    /* the peer check of tls_set_peer_check runs even unverified (DANE, pins) */

#ifdef PB_BOARD_MPS2
#define WOLFSSL_GENERAL_ALIGNMENT 4
#endif

/* ------------------------------------------------------------- memory --- */
/* Every allocation of wolfSSL goes to the arena (see tls_arena.h). */
void *tls_arena_alloc(size_t size);
void *tls_arena_realloc(void *ptr, size_t size);
void tls_arena_free(void *ptr);
#define XMALLOC_OVERRIDE
#define XMALLOC(s, h, t)     ((void)(h), (void)(t), tls_arena_alloc((s)))
#define XREALLOC(p, n, h, t) ((void)(h), (void)(t), tls_arena_realloc((p), (n)))
#define XFREE(p, h, t)       ((void)(h), (void)(t), tls_arena_free((p)))

/* ------------------------------------------------------ entropy, time --- */
/* Seed of wolfSSL's Hash-DRBG: hal_rng_fill().  Returns 0 or non-zero. */
int tls_wolf_seed(unsigned char *out, unsigned int sz);
#define CUSTOM_RAND_GENERATE_SEED tls_wolf_seed
#define HAVE_HASHDRBG

/* Seconds since 1970 from hal_clock_wall().  Returns 0 (1970) when the
 * board does not know the date yet, so certificates fail "not yet valid". */
time_t tls_wolf_time(time_t *t);
#define XTIME(t) tls_wolf_time((t))

/* ----------------------------------------------------------------- TLS --- */
#define WOLFSSL_TLS13
#define HAVE_TLS_EXTENSIONS
#define HAVE_SUPPORTED_CURVES
#define HAVE_EXTENDED_MASTER
#define HAVE_SNI
/* RFC 5746: a TLS 1.2 server must answer renegotiation_info, or OpenSSL 3
 * clients refuse it ("unsafe legacy renegotiation").  Renegotiation itself
 * stays off; only the indication is sent. */
#define HAVE_SERVER_RENEGOTIATION_INFO
#define HAVE_HKDF
#define WC_RSA_PSS                  /* TLS 1.3 signs with RSA-PSS */
#define WOLFSSL_NO_TLS13_EARLY_DATA

/* --------------------------------------------------------- algorithms --- */
#define HAVE_ECC
#define ECC_TIMING_RESISTANT
#define ECC_USER_CURVES             /* P-256 only (no P-384/P-521 chains) */
#define ECC_SHAMIR
#define HAVE_CURVE25519
#define HAVE_ED25519
#define WOLFSSL_SHA384
#define WOLFSSL_SHA512
#define HAVE_AESGCM
#define HAVE_CHACHA
#define HAVE_POLY1305
#define WC_RSA_BLINDING
#define TFM_TIMING_RESISTANT

#ifdef PB_BOARD_MPS2
#define GCM_SMALL
#define CURVE25519_SMALL
#define ED25519_SMALL
#else
#define GCM_TABLE_4BIT
#define WOLFSSL_USE_ALIGN           /* the GCM table is read as 64-bit words */
#endif

/* Big numbers: SP math, with fixed-size fast paths for RSA 2048/3072 and
 * P-256.  Certificates of other sizes still verify through sp_int.c.
 *
 * Sanitizer builds (unit tests, fuzzing) leave the fast paths out: the
 * 64-bit C of sp_c64.c left-shifts signed values past their range, which
 * UBSan (rightly) stops at.  They run the generic sp_int.c code instead. */
#if defined(__SANITIZE_ADDRESS__)
#define PB_WOLF_SANITIZED
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PB_WOLF_SANITIZED
#endif
#endif

#define WOLFSSL_SP_MATH_ALL
#define WOLFSSL_SP_NO_DYN_STACK
#ifndef PB_WOLF_SANITIZED
#define WOLFSSL_HAVE_SP_RSA
#define WOLFSSL_HAVE_SP_ECC
#endif
#ifdef PB_BOARD_MPS2
#define WOLFSSL_SP_ARM_CORTEX_M_ASM
#define WOLFSSL_SP_SMALL
#elif defined(__SIZEOF_INT128__)
#define HAVE___UINT128_T            /* 64-bit words: what sp_c64.c is for */
#else
#error "sp_c64.c needs a host compiler with __int128 (else use sp_c32.c)"
#endif

/* Switched off: no DH (TLS 1.3 refuses DH without FFDHE groups), no
 * legacy or non-forward-secret algorithms. */
#define NO_DH
#define NO_DSA
#define NO_RC4
#define NO_MD4
#define NO_MD5
#define NO_DES3
#define NO_PSK
#define NO_AES_CBC
#define NO_PBKDF1
#define WOLFSSL_NO_SHAKE256
/* SHA-1 stays: older CA chains and the subject key identifier need it. */

/* ------------------------------------------------------ certificates --- */
#define WOLFSSL_CERT_GEN
#define WOLFSSL_KEY_GEN
#define WOLFSSL_CERT_EXT
#define WOLFSSL_ALT_NAMES           /* subjectAltName in generated certs */
#define WC_CTC_MAX_ALT_SIZE 512     /* one or two DNS names, not 16 KiB */
#define WOLFSSL_BASE64_ENCODE       /* PEM output of the identity */
#define WOLFSSL_PEM_TO_DER

#endif
