/*
 * test_dane.c - DANE (RFC 7672) matching of a server's certificate chain
 * against TLSA records, and pinned fingerprints.
 *
 * Certificates are made at test time with wolfCrypt: a self-signed server
 * certificate, and a small CA that signs another server certificate (for
 * DANE-TA).  The expected digests are computed here from the key itself
 * (wc_EccPublicKeyToDer gives the SubjectPublicKeyInfo), not from the
 * certificate parser under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/sha512.h>

#include "dane.h"
#include "identity.h"
#include "pb_err.h"
#include "tls.h"
#include "x509.h"

struct made {
    ecc_key key;
    uint8_t der[1024];
    size_t len;
    uint8_t spki[256];
    size_t spki_len;
};

static WC_RNG rng;
static struct made ca, leaf, self, other_ca, rogue, wild;

/* A P-256 certificate for cn, signed by issuer (NULL: self-signed). */
static void make_cert(struct made *m, const char *cn, int is_ca, struct made *issuer)
{
    static Cert c;      /* large: keep it off the stack */
    assert_int_equal(wc_ecc_init(&m->key), 0);
    assert_int_equal(wc_ecc_make_key_ex(&rng, 32, &m->key, ECC_SECP256R1), 0);
    assert_int_equal(wc_InitCert(&c), 0);
    snprintf(c.subject.commonName, sizeof(c.subject.commonName), "%s", cn);
    c.sigType = CTC_SHA256wECDSA;
    c.isCA = is_ca;
    c.daysValid = 30;
    assert_int_equal(wc_SetKeyUsage(&c, is_ca ? "keyCertSign,cRLSign" : "digitalSignature"), 0);
    if (issuer)
        assert_int_equal(wc_SetIssuerBuffer(&c, issuer->der, (int)issuer->len), 0);
    int r = wc_MakeCert_ex(&c, m->der, sizeof(m->der), ECC_TYPE, &m->key, &rng);
    assert_true(r > 0);
    r = wc_SignCert_ex(c.bodySz, c.sigType, m->der, sizeof(m->der), ECC_TYPE,
                       issuer ? &issuer->key : &m->key, &rng);
    assert_true(r > 0);
    m->len = (size_t)r;
    r = wc_EccPublicKeyToDer(&m->key, m->spki, sizeof(m->spki), 1);
    assert_true(r > 0);
    m->spki_len = (size_t)r;
}

static int group_setup(void **state)
{
    (void)state;
    assert_int_equal(tls_init(), 0);
    assert_int_equal(wc_InitRng(&rng), 0);
    make_cert(&ca, "Test CA", 1, NULL);
    make_cert(&leaf, "mx1.example.test", 0, &ca);
    make_cert(&self, "mx2.example.test", 0, NULL);
    make_cert(&other_ca, "Other CA", 1, NULL);
    make_cert(&rogue, "mx1.example.test", 0, &other_ca);
    make_cert(&wild, "*.Wild.Example", 0, NULL);
    return 0;
}

static struct dane_tlsa rec(int usage, int sel, int mt, const uint8_t *data, size_t len)
{
    struct dane_tlsa r;
    memset(&r, 0, sizeof(r));
    r.usage = (uint8_t)usage;
    r.selector = (uint8_t)sel;
    r.mtype = (uint8_t)mt;
    if (mt == DANE_MT_SHA256) {
        wc_Sha256Hash(data, (word32)len, r.data);
        r.len = 32;
    } else {
        wc_Sha512Hash(data, (word32)len, r.data);
        r.len = 64;
    }
    return r;
}

static int check1(const struct dane_tlsa *r, int n, const struct made *const *chain, int count)
{
    const uint8_t *der[4];
    size_t len[4];
    for (int i = 0; i < count; i++) {
        der[i] = chain[i]->der;
        len[i] = chain[i]->len;
    }
    static const char *const names[] = { "mx1.example.test", "example.test" };
    return dane_check(r, n, der, len, count, names, 2);
}

/* The SPKI the parser finds is exactly the key's own encoding. */
static void test_spki_is_the_key(void **state)
{
    (void)state;
    const uint8_t *p;
    size_t n;
    assert_int_equal(x509_spki(self.der, self.len, &p, &n), 0);
    assert_int_equal(n, self.spki_len);
    assert_memory_equal(p, self.spki, n);
    assert_int_equal(x509_spki(leaf.der, leaf.len, &p, &n), 0);
    assert_memory_equal(p, leaf.spki, leaf.spki_len);
    /* Cut anywhere, the certificate is refused rather than misread. */
    for (size_t cut = 0; cut < 200; cut += 7)
        assert_int_equal(x509_spki(self.der, cut, &p, &n), PB_ECORRUPT);
    uint8_t bad[1024];
    memcpy(bad, self.der, self.len);
    bad[0] = 0x31;
    assert_int_equal(x509_spki(bad, self.len, &p, &n), PB_ECORRUPT);
}

/* DANE-EE 3 1 1, 3 0 1 and 3 1 2 match the server's own certificate. */
static void test_ee_matches(void **state)
{
    (void)state;
    const struct made *chain[] = { &self };
    struct dane_tlsa r = rec(3, 1, 1, self.spki, self.spki_len);
    assert_int_equal(check1(&r, 1, chain, 1), DANE_USAGE_EE);
    r = rec(3, 0, 1, self.der, self.len);
    assert_int_equal(check1(&r, 1, chain, 1), DANE_USAGE_EE);
    r = rec(3, 1, 2, self.spki, self.spki_len);
    assert_int_equal(check1(&r, 1, chain, 1), DANE_USAGE_EE);
    /* One good record among bad ones is enough. */
    struct dane_tlsa set[3] = { rec(3, 1, 1, leaf.spki, leaf.spki_len), rec(3, 0, 1, ca.der, ca.len),
                                rec(3, 1, 1, self.spki, self.spki_len) };
    assert_int_equal(check1(set, 3, chain, 1), DANE_USAGE_EE);
}

/* Records for another certificate, a flipped digest bit, a 3 1 1 digest
 * given as 3 0 1, or PKIX usages (unusable for SMTP): no match. */
static void test_ee_mismatch(void **state)
{
    (void)state;
    const struct made *chain[] = { &self };
    struct dane_tlsa r = rec(3, 1, 1, leaf.spki, leaf.spki_len);
    assert_int_equal(check1(&r, 1, chain, 1), PB_EPERM);
    r = rec(3, 1, 1, self.spki, self.spki_len);
    r.data[31] ^= 1;
    assert_int_equal(check1(&r, 1, chain, 1), PB_EPERM);
    r = rec(3, 1, 1, self.spki, self.spki_len);
    r.selector = 0;
    assert_int_equal(check1(&r, 1, chain, 1), PB_EPERM);
    r = rec(1, 1, 1, self.spki, self.spki_len);
    assert_false(dane_usable(&r));
    assert_int_equal(check1(&r, 1, chain, 1), PB_EPERM);
    r = rec(0, 0, 1, self.der, self.len);
    assert_int_equal(check1(&r, 1, chain, 1), PB_EPERM);
    /* A DANE-EE record never matches a certificate further up the chain. */
    const struct made *two[] = { &leaf, &ca };
    r = rec(3, 0, 1, ca.der, ca.len);
    assert_int_equal(check1(&r, 1, two, 2), PB_EPERM);
    assert_int_equal(check1(&r, 0, two, 2), PB_EPERM);
    assert_int_equal(check1(&r, 1, two, 0), PB_EINVAL);
}

/* DANE-TA 2 0 1 / 2 1 1: the CA in the chain matches and signed the
 * server's certificate. */
static void test_ta_matches(void **state)
{
    (void)state;
    const struct made *chain[] = { &leaf, &ca };
    struct dane_tlsa r = rec(2, 0, 1, ca.der, ca.len);
    assert_int_equal(check1(&r, 1, chain, 2), DANE_USAGE_TA);
    r = rec(2, 1, 1, ca.spki, ca.spki_len);
    assert_int_equal(check1(&r, 1, chain, 2), DANE_USAGE_TA);
}

/* DANE-TA: the anchor is present but did not sign the server's
 * certificate (an attacker adding the real CA to their own chain); the
 * anchor is not in the chain; the record names the leaf. */
static void test_ta_mismatch(void **state)
{
    (void)state;
    const struct made *forged[] = { &rogue, &ca };
    struct dane_tlsa r = rec(2, 0, 1, ca.der, ca.len);
    assert_int_equal(check1(&r, 1, forged, 2), PB_EPERM);
    const struct made *theirs[] = { &rogue, &other_ca };
    assert_int_equal(check1(&r, 1, theirs, 2), PB_EPERM);
    const struct made *alone[] = { &leaf };
    assert_int_equal(check1(&r, 1, alone, 1), PB_EPERM);
    r = rec(2, 0, 1, leaf.der, leaf.len);
    const struct made *chain[] = { &leaf, &ca };
    assert_int_equal(check1(&r, 1, chain, 2), PB_EPERM);
}

/* DANE-TA: a chain that verifies to the anchor still fails when the
 * server's certificate names neither the MX host nor the domain. */
static void test_ta_wrong_name(void **state)
{
    (void)state;
    const uint8_t *der[2] = { leaf.der, ca.der };
    size_t len[2] = { leaf.len, ca.len };
    struct dane_tlsa r = rec(2, 0, 1, ca.der, ca.len);
    const char *const other[] = { "mx9.example.test", "example.org" };
    assert_int_equal(dane_check(&r, 1, der, len, 2, other, 2), PB_EPERM);
    const char *const second[] = { NULL, "MX1.example.test." };
    assert_int_equal(dane_check(&r, 1, der, len, 2, second, 2), DANE_USAGE_TA);
    assert_int_equal(dane_check(&r, 1, der, len, 2, NULL, 0), PB_EPERM);
    /* DANE-EE ignores names (RFC 7672 3.1.1). */
    r = rec(3, 1, 1, leaf.spki, leaf.spki_len);
    assert_int_equal(dane_check(&r, 1, der, len, 2, other, 2), DANE_USAGE_EE);
}

/* Names: the subjectAltName of an identity certificate, the subject CN
 * when there is no dNSName, wildcards for exactly one left label. */
static void test_x509_names(void **state)
{
    (void)state;
    static struct identity id;
    assert_int_equal(identity_generate("mail.example.test", &id), 0);
    assert_int_equal(x509_names(id.cert_der, id.cert_len, "mail.example.test"), 1);
    assert_int_equal(x509_names(id.cert_der, id.cert_len, "MAIL.Example.Test."), 1);
    assert_int_equal(x509_names(id.cert_der, id.cert_len, "mx.example.test"), 0);
    assert_int_equal(x509_names(id.cert_der, id.cert_len, "example.test"), 0);
    assert_int_equal(x509_names(leaf.der, leaf.len, "mx1.example.test"), 1);
    assert_int_equal(x509_names(leaf.der, leaf.len, "mx1.example.tes"), 0);
    assert_int_equal(x509_names(wild.der, wild.len, "mx.wild.example"), 1);
    assert_int_equal(x509_names(wild.der, wild.len, "a.mx.wild.example"), 0);
    assert_int_equal(x509_names(wild.der, wild.len, "wild.example"), 0);
    for (size_t cut = 0; cut < 120; cut += 11)
        assert_int_equal(x509_names(id.cert_der, cut, "mail.example.test"), PB_ECORRUPT);
}

/* A pinned fingerprint is the SHA-256 of the certificate, with or without
 * colons, any case; anything else is refused. */
static void test_fingerprint(void **state)
{
    (void)state;
    uint8_t d[32];
    char hex[100], colons[100];
    wc_Sha256Hash(self.der, (word32)self.len, d);
    for (int i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
        snprintf(colons + 3 * i, 4, i < 31 ? "%02X:" : "%02X", d[i]);
    }
    struct dane_tlsa r;
    const struct made *chain[] = { &self };
    const struct made *wrong[] = { &leaf, &ca };
    assert_int_equal(dane_from_fingerprint(hex, &r), 0);
    assert_int_equal(check1(&r, 1, chain, 1), DANE_USAGE_EE);
    assert_int_equal(check1(&r, 1, wrong, 2), PB_EPERM);
    assert_int_equal(dane_from_fingerprint(colons, &r), 0);
    assert_int_equal(check1(&r, 1, chain, 1), DANE_USAGE_EE);
    hex[63] = '\0';
    assert_int_equal(dane_from_fingerprint(hex, &r), PB_EINVAL);
    assert_int_equal(dane_from_fingerprint("zz", &r), PB_EINVAL);
    assert_int_equal(dane_from_fingerprint("", &r), PB_EINVAL);
    memset(hex, 'a', 66);
    hex[66] = '\0';
    assert_int_equal(dane_from_fingerprint(hex, &r), PB_EINVAL);
}

/* The TLSA records of a DNS answer: usable ones kept, others dropped. */
static void test_from_answer(void **state)
{
    (void)state;
    static struct dns_answer a;
    memset(&a, 0, sizeof(a));
    const uint8_t *data[3] = { self.spki, self.spki, self.der };
    const uint8_t usage[3] = { 3, 1, 3 }, mt[3] = { 1, 1, 0 };
    for (int i = 0; i < 3; i++) {
        struct dns_rr *rr = &a.rr[a.count++];
        rr->type = DNS_T_TLSA;
        rr->usage = usage[i];
        rr->selector = 1;
        rr->mtype = mt[i];
        rr->off = a.used;
        rr->len = 32;
        wc_Sha256Hash(data[i], (word32)self.spki_len, a.data + a.used);
        a.used += 32;
    }
    struct dane_tlsa out[DANE_TLSA_MAX];
    assert_int_equal(dane_from_answer(&a, out, DANE_TLSA_MAX), 1);
    assert_int_equal(out[0].usage, 3);
    char text[80];
    dane_text(&out[0], text, sizeof(text));
    assert_int_equal(strncmp(text, "3 1 1 ", 6), 0);
    assert_non_null(strstr(text, "..."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spki_is_the_key),
        cmocka_unit_test(test_ee_matches),
        cmocka_unit_test(test_ee_mismatch),
        cmocka_unit_test(test_ta_matches),
        cmocka_unit_test(test_ta_mismatch),
        cmocka_unit_test(test_ta_wrong_name),
        cmocka_unit_test(test_x509_names),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_from_answer),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
