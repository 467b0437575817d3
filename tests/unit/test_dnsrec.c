/*
 * test_dnsrec.c - the DNS records an office pastes into its registrar are
 * exactly right, and the check tells present, missing and different apart.
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
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "dnsrec.h"
#include "identity.h"
#include "pb_err.h"
#include "tls.h"

static struct identity id;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(tls_init(), 0);
    assert_int_equal(identity_generate("mail.example.com", &id), 0);
    return 0;
}

static const char *line(const struct dnsrec *r)
{
    static char buf[600];
    assert_true(dnsrec_format(r, buf, sizeof(buf)) > 0);
    return buf;
}

static void test_policy_text(void **state)
{
    char buf[DNSREC_POLICY_MAX];
    (void)state;
    int n = dnsrec_mta_sts_policy("mail.example.com", true, buf, sizeof(buf));
    assert_string_equal(buf, "version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmax_age: 604800\r\n");
    assert_int_equal(n, (int)strlen(buf));
    dnsrec_mta_sts_policy("mail.example.com", false, buf, sizeof(buf));
    assert_string_equal(buf, "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 604800\r\n");
    assert_int_equal(dnsrec_mta_sts_policy("bad name", true, buf, sizeof(buf)), PB_EINVAL);
    assert_int_equal(dnsrec_mta_sts_policy("mail.example.com", true, buf, 20), PB_ERANGE);
}

static void test_records_exact(void **state)
{
    (void)state;
    struct dnsrec r[DNSREC_MAX];
    struct dnsrec_input in = { .domain = "example.com", .hostname = "mail.example.com",
                               .public_ipv4 = NULL, .cert_der = NULL, .self_signed = true };
    int n = dnsrec_build(&in, r, DNSREC_MAX);
    assert_int_equal(n, 9);     /* no certificate: no TLSA */

    /* The id: SHA-256 of the policy text, first 16 hex digits. */
    static const char policy[] = "version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmax_age: 604800\r\n";
    uint8_t d[32];
    char id_hex[17], want[128];
    assert_int_equal(wc_Sha256Hash((const uint8_t *)policy, sizeof(policy) - 1, d), 0);
    for (int i = 0; i < 8; i++)
        snprintf(id_hex + 2 * i, 3, "%02x", d[i]);
    snprintf(want, sizeof(want), "_mta-sts.example.com TXT \"v=STSv1; id=%s\"", id_hex);

    assert_string_equal(line(&r[0]), "example.com MX 10 mail.example.com.");
    assert_string_equal(line(&r[1]), "example.com TXT \"v=spf1 mx -all\"");
    assert_string_equal(line(&r[2]), "mail.example.com A " DNSREC_PLACEHOLDER_A);
    assert_true(r[2].placeholder);
    assert_string_equal(line(&r[3]),
                        "_dmarc.example.com TXT \"v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com\"");
    assert_string_equal(line(&r[4]), "mta-sts.example.com CNAME mail.example.com.");
    assert_string_equal(line(&r[5]), want);
    assert_string_equal(line(&r[6]),
                        "_smtp._tls.example.com TXT \"v=TLSRPTv1; rua=mailto:postmaster@example.com\"");
    assert_string_equal(line(&r[7]), "autoconfig.example.com CNAME mail.example.com.");
    assert_string_equal(line(&r[8]), "autodiscover.example.com CNAME mail.example.com.");
    for (int i = 0; i < n; i++)
        assert_non_null(r[i].note);

    /* A known public address replaces the placeholder. */
    in.public_ipv4 = "198.51.100.25";
    assert_int_equal(dnsrec_build(&in, r, DNSREC_MAX), 9);
    assert_string_equal(line(&r[2]), "mail.example.com A 198.51.100.25");
    assert_false(r[2].placeholder);

    /* The id follows the policy: a CA-signed certificate (enforce) changes it. */
    char id2[17];
    in.self_signed = false;
    assert_int_equal(dnsrec_build(&in, r, DNSREC_MAX), 9);
    assert_int_equal(sscanf(r[5].value, "\"v=STSv1; id=%16[0-9a-f]\"", id2), 1);
    assert_string_not_equal(id2, id_hex);
}

static void test_tlsa_is_spki_sha256(void **state)
{
    (void)state;
    /* The expected digest from the key itself, not from the certificate
     * parser under test: the SPKI is the public key with its algorithm. */
    ecc_key key;
    word32 idx = 0;
    uint8_t spki[200], d[32];
    assert_int_equal(wc_ecc_init(&key), 0);
    assert_int_equal(wc_EccPrivateKeyDecode(id.key_der, &idx, &key, (word32)id.key_len), 0);
    int n = wc_EccPublicKeyToDer(&key, spki, sizeof(spki), 1);
    assert_true(n > 0);
    wc_ecc_free(&key);
    assert_int_equal(wc_Sha256Hash(spki, (word32)n, d), 0);
    char want[200];
    int k = snprintf(want, sizeof(want), "_25._tcp.mail.example.com TLSA 3 1 1 ");
    for (int i = 0; i < 32; i++)
        k += snprintf(want + k, sizeof(want) - (size_t)k, "%02x", d[i]);

    struct dnsrec r[DNSREC_MAX];
    struct dnsrec_input in = { .domain = "example.com", .hostname = "mail.example.com",
                               .cert_der = id.cert_der, .cert_len = id.cert_len, .self_signed = true };
    assert_int_equal(dnsrec_build(&in, r, DNSREC_MAX), 10);
    assert_string_equal(line(&r[7]), want);

    /* Not a certificate: refused, not a wrong record. */
    uint8_t junk[16] = { 0x30, 0x03, 1, 2, 3 };
    in.cert_der = junk;
    in.cert_len = sizeof(junk);
    assert_int_equal(dnsrec_build(&in, r, DNSREC_MAX), PB_ECORRUPT);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct dnsrec r[DNSREC_MAX];
    struct dnsrec_input in = { .domain = "exa mple.com", .hostname = "mail.example.com" };
    assert_int_equal(dnsrec_build(&in, r, DNSREC_MAX), PB_EINVAL);
    in.domain = "example.com";
    in.hostname = "";
    assert_int_equal(dnsrec_build(&in, r, DNSREC_MAX), PB_EINVAL);
    in.hostname = "mail.example.com";
    in.public_ipv4 = "not-an-address";
    assert_int_equal(dnsrec_build(&in, r, DNSREC_MAX), PB_EINVAL);
    in.public_ipv4 = NULL;
    assert_int_equal(dnsrec_build(&in, r, 3), PB_ERANGE);
}

/* An answer holding the given records. */
static void add_txt(struct dns_answer *a, const char *text)
{
    struct dns_rr *rr = &a->rr[a->count++];
    memset(rr, 0, sizeof(*rr));
    rr->type = DNS_T_TXT;
    rr->off = a->used;
    rr->len = (uint16_t)strlen(text);
    memcpy(a->data + a->used, text, rr->len);
    a->used = (uint16_t)(a->used + rr->len);
}

static void add_mx(struct dns_answer *a, uint16_t pref, const char *host)
{
    struct dns_rr *rr = &a->rr[a->count++];
    memset(rr, 0, sizeof(*rr));
    rr->type = DNS_T_MX;
    rr->pref = pref;
    rr->off = a->used;
    rr->len = (uint16_t)strlen(host);
    memcpy(a->data + a->used, host, rr->len + 1);
    a->used = (uint16_t)(a->used + rr->len + 1);
}

static void test_judge(void **state)
{
    (void)state;
    static struct dnsrec_check c;
    static struct dns_answer a;
    struct dnsrec_input in = { .domain = "example.com", .hostname = "mail.example.com", .self_signed = true };
    memset(&c, 0, sizeof(c));
    c.count = dnsrec_build(&in, c.rec, DNSREC_MAX);

    /* SPF present among other TXT records. */
    memset(&a, 0, sizeof(a));
    add_txt(&a, "google-site-verification=abc");
    add_txt(&a, "v=spf1 mx -all");
    dnsrec_check_judge(&c, 1, 0, &a);
    assert_int_equal(c.status[1], DNSREC_PRESENT);

    /* A different SPF: shown as found. */
    memset(&a, 0, sizeof(a));
    add_txt(&a, "google-site-verification=abc");
    add_txt(&a, "v=spf1 a ~all");
    dnsrec_check_judge(&c, 1, 0, &a);
    assert_int_equal(c.status[1], DNSREC_DIFFERENT);
    assert_string_equal(c.found[1], "v=spf1 a ~all");

    /* Only unrelated TXT: missing. */
    memset(&a, 0, sizeof(a));
    add_txt(&a, "google-site-verification=abc");
    dnsrec_check_judge(&c, 1, 0, &a);
    assert_int_equal(c.status[1], DNSREC_MISSING);

    /* NXDOMAIN: missing; SERVFAIL and timeouts: failed, with the reason. */
    memset(&a, 0, sizeof(a));
    a.rcode = DNS_RCODE_NXDOMAIN;
    dnsrec_check_judge(&c, 3, 0, &a);
    assert_int_equal(c.status[3], DNSREC_MISSING);
    a.rcode = DNS_RCODE_SERVFAIL;
    dnsrec_check_judge(&c, 3, 0, &a);
    assert_int_equal(c.status[3], DNSREC_FAILED);
    assert_non_null(strstr(c.found[3], "SERVFAIL"));
    dnsrec_check_judge(&c, 3, PB_ETIMEDOUT, NULL);
    assert_int_equal(c.status[3], DNSREC_FAILED);
    assert_string_equal(c.found[3], "no DNS server answered");

    /* MX: the exchange counts (case and trailing dot do not). */
    memset(&a, 0, sizeof(a));
    add_mx(&a, 20, "backup.example.net");
    add_mx(&a, 10, "Mail.Example.COM");
    dnsrec_check_judge(&c, 0, 0, &a);
    assert_int_equal(c.status[0], DNSREC_PRESENT);
    memset(&a, 0, sizeof(a));
    add_mx(&a, 10, "mx.provider.example");
    dnsrec_check_judge(&c, 0, 0, &a);
    assert_int_equal(c.status[0], DNSREC_DIFFERENT);
    assert_string_equal(c.found[0], "10 mx.provider.example.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_text),
        cmocka_unit_test(test_records_exact),
        cmocka_unit_test(test_tlsa_is_spki_sha256),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_judge),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
