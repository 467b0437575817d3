/*
 * test_accounts.c - domains, users and aliases on a real store (a sim
 * flash file): where mail for an address goes, passwords, and clear
 * refusals that change nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "accounts.h"
#include "pb_err.h"
#include "sim_flash.h"
#include "tls.h"

#define T_BLOCKS 512u
static struct store_block blocks[T_BLOCKS];
static uint32_t order[T_BLOCKS];
static struct store_msg msgs[1000];
static struct store_blob blobs[1000];
static struct store_chunk chunks[2000];
static struct store_rec recs[256];
static uint32_t rec_order[256];
static const struct store_mem mem = { blocks, T_BLOCKS, order, msgs, 1000, blobs, 1000,
                                      chunks, 2000, recs, rec_order, 256 };
static struct store st;
static struct sim_flash fl;
static char path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "build/test/accounts-%d.img", (int)getpid());
    unlink(path);
    assert_int_equal(sim_flash_open(&fl, path, 2u << 20, 4096, 16, 0), 0);
    assert_int_equal(store_format(&st, &fl.dev, &mem), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sim_flash_close(&fl);
    unlink(path);
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    return tls_init();      /* wolfCrypt, for the password verifiers */
}

/* Collects what accounts_resolve() reports. */
static char got[8][ACCOUNTS_ADDR_MAX + 8];
static int ngot;

static int collect(void *ctx, const char *user, const char *remote)
{
    (void)ctx;
    snprintf(got[ngot++], sizeof(got[0]), "%s:%s", user ? "user" : "remote", user ? user : remote);
    return 0;
}

static int resolve(const char *addr)
{
    struct mail_address a;
    ngot = 0;
    assert_int_equal(mail_address_parse(addr, strlen(addr), 0, &a), 0);
    return accounts_resolve(&st, &a, collect, NULL);
}

static void test_domains(void **state)
{
    (void)state;
    assert_int_equal(accounts_domain_add(&st, "Example.TEST"), 0);
    assert_true(accounts_domain_exists(&st, "example.test"));
    assert_int_equal(accounts_domain_add(&st, "example.test"), PB_EEXIST);
    assert_int_equal(accounts_domain_add(&st, "bad_domain"), PB_EINVAL);
    assert_int_equal(accounts_domain_del(&st, "other.test"), PB_ENOENT);
    assert_int_equal(accounts_user_add(&st, "alice@example.test", "pw"), 0);
    assert_int_equal(accounts_domain_del(&st, "example.test"), PB_EBUSY);
    uint32_t mbox;
    assert_int_equal(store_mailbox_find(&st, "alice@example.test", &mbox), 0);
    assert_int_equal(accounts_user_del(&st, "alice@example.test"), 0);
    /* Her mailbox went with her login; the name can be a new user. */
    assert_int_equal(store_mailbox_find(&st, "alice@example.test", &mbox), PB_ENOENT);
    assert_int_equal(accounts_user_add(&st, "alice@example.test", "pw2"), 0);
    assert_int_equal(store_mailbox_find(&st, "alice@example.test", &mbox), 0);
    assert_int_equal(accounts_user_del(&st, "alice@example.test"), 0);
    assert_int_equal(accounts_domain_del(&st, "example.test"), 0);
    assert_false(accounts_domain_exists(&st, "example.test"));
}

static void test_users_and_passwords(void **state)
{
    (void)state;
    assert_int_equal(accounts_user_add(&st, "alice@example.test", "pw"), PB_ENOENT);  /* no domain */
    assert_int_equal(accounts_domain_add(&st, "example.test"), 0);
    assert_int_equal(accounts_user_add(&st, "Alice@Example.test", "first"), 0);
    assert_int_equal(accounts_user_add(&st, "alice@example.test", "again"), PB_EEXIST);
    assert_int_equal(accounts_user_add(&st, "not an address", "x"), PB_EINVAL);
    assert_true(accounts_user_check(&st, "alice@example.test", "first"));
    assert_false(accounts_user_check(&st, "alice@example.test", "First"));
    assert_false(accounts_user_check(&st, "bob@example.test", "first"));
    assert_int_equal(accounts_user_passwd(&st, "alice@example.test", "second"), 0);
    assert_false(accounts_user_check(&st, "alice@example.test", "first"));
    assert_true(accounts_user_check(&st, "ALICE@example.test", "second"));
    assert_int_equal(accounts_user_passwd(&st, "bob@example.test", "x"), PB_ENOENT);
    /* The user has a mailbox with an INBOX from the start. */
    uint32_t mbox;
    uint16_t folder;
    assert_int_equal(store_mailbox_find(&st, "alice@example.test", &mbox), 0);
    assert_int_equal(store_folder_find(&st, mbox, "INBOX", &folder), 0);
    /* Listing. */
    assert_int_equal(accounts_user_add(&st, "bob@example.test", "b"), 0);
    char name[ACCOUNTS_ADDR_MAX + 1] = "";
    assert_true(accounts_next(&st, STORE_NS_USER, name, name, sizeof(name)) > 0);
    assert_string_equal(name, "alice@example.test");
    assert_true(accounts_next(&st, STORE_NS_USER, name, name, sizeof(name)) > 0);
    assert_string_equal(name, "bob@example.test");
    assert_int_equal(accounts_next(&st, STORE_NS_USER, name, name, sizeof(name)), PB_ENOENT);
}

static void test_where_mail_goes(void **state)
{
    (void)state;
    assert_int_equal(accounts_domain_add(&st, "example.test"), 0);
    assert_int_equal(accounts_user_add(&st, "alice@example.test", "a"), 0);
    assert_int_equal(accounts_user_add(&st, "bob@example.test", "b"), 0);
    assert_int_equal(accounts_alias_add(&st, "team@example.test",
                                        "alice@example.test, bob@example.test,alice@example.test"), 0);
    assert_int_equal(accounts_alias_add(&st, "fwd@example.test", "carol@far.example"), 0);
    assert_int_equal(accounts_alias_add(&st, "all@example.test", "team@example.test,fwd@example.test"), 0);

    assert_int_equal(resolve("alice@example.test"), 0);
    assert_int_equal(ngot, 1);
    assert_string_equal(got[0], "user:alice@example.test");
    assert_int_equal(resolve("ALICE@EXAMPLE.TEST"), 0);
    assert_string_equal(got[0], "user:alice@example.test");
    assert_int_equal(resolve("alice+lists@example.test"), 0);      /* subaddressing */
    assert_string_equal(got[0], "user:alice@example.test");
    assert_int_equal(resolve("team@example.test"), 0);             /* duplicates dropped */
    assert_int_equal(ngot, 2);
    assert_int_equal(resolve("all@example.test"), 0);              /* nested aliases */
    assert_int_equal(ngot, 3);
    assert_string_equal(got[2], "remote:carol@far.example");
    assert_int_equal(resolve("nobody@example.test"), PB_ENOENT);
    assert_int_equal(resolve("alice@elsewhere.test"), PB_EPERM);   /* not our domain */

    /* Catch-all: unknown addresses go to it; known ones do not. */
    assert_int_equal(accounts_domain_set_catchall(&st, "example.test", "bob@example.test"), 0);
    assert_int_equal(resolve("nobody@example.test"), 0);
    assert_string_equal(got[0], "user:bob@example.test");
    assert_int_equal(resolve("alice@example.test"), 0);
    assert_string_equal(got[0], "user:alice@example.test");
    char c[ACCOUNTS_ADDR_MAX + 1];
    assert_int_equal(accounts_domain_catchall(&st, "example.test", c, sizeof(c)), 0);
    assert_string_equal(c, "bob@example.test");
    assert_int_equal(accounts_domain_set_catchall(&st, "example.test", NULL), 0);
    assert_int_equal(resolve("nobody@example.test"), PB_ENOENT);

    /* Bad aliases are refused and change nothing. */
    assert_int_equal(accounts_alias_add(&st, "team@example.test", "x@example.test"), PB_EEXIST);
    assert_int_equal(accounts_alias_add(&st, "alice@example.test", "x@example.test"), PB_EEXIST);
    assert_int_equal(accounts_alias_add(&st, "new@example.test", "not an address"), PB_EINVAL);
    assert_int_equal(accounts_alias_add(&st, "new@example.test", "a@example.test,"), PB_EINVAL);
    assert_int_equal(accounts_alias_add(&st, "new@other.test", "a@example.test"), PB_ENOENT);
    assert_int_equal(resolve("new@example.test"), PB_ENOENT);
    assert_int_equal(accounts_alias_del(&st, "team@example.test"), 0);
    assert_int_equal(resolve("team@example.test"), PB_ENOENT);
}

static void test_survives_remount(void **state)
{
    (void)state;
    assert_int_equal(accounts_domain_add(&st, "example.test"), 0);
    assert_int_equal(accounts_user_add(&st, "alice@example.test", "secret"), 0);
    assert_int_equal(accounts_alias_add(&st, "info@example.test", "alice@example.test"), 0);
    assert_int_equal(store_mount(&st, &fl.dev, &mem), 0);
    assert_true(accounts_user_check(&st, "alice@example.test", "secret"));
    assert_int_equal(resolve("info@example.test"), 0);
    assert_string_equal(got[0], "user:alice@example.test");
}

static void test_verifier_export_and_import(void **state)
{
    (void)state;
    char v[ACCOUNTS_VERIFIER_TEXT_MAX], v2[ACCOUNTS_VERIFIER_TEXT_MAX];
    assert_int_equal(accounts_domain_add(&st, "example.test"), 0);
    assert_int_equal(accounts_domain_add(&st, "copy.test"), 0);
    assert_int_equal(accounts_user_add(&st, "alice@example.test", "her secret"), 0);
    assert_int_equal(accounts_user_verifier(&st, "alice@example.test", v, sizeof(v)), 0);
    assert_null(strstr(v, "her secret"));
    assert_int_equal(strncmp(v, "scram-sha-256$4096$", 19), 0);
    assert_int_equal(accounts_user_verifier(&st, "alice@example.test", v2, 20), PB_ERANGE);
    /* Imported elsewhere, the same password opens it. */
    assert_int_equal(accounts_user_import(&st, "alice@copy.test", v), 0);
    assert_true(accounts_user_check(&st, "alice@copy.test", "her secret"));
    assert_false(accounts_user_check(&st, "alice@copy.test", "her secreT"));
    assert_int_equal(accounts_user_verifier(&st, "alice@copy.test", v2, sizeof(v2)), 0);
    assert_string_equal(v, v2);
    uint32_t mbox;
    assert_int_equal(store_mailbox_find(&st, "alice@copy.test", &mbox), 0);
    /* Refused: bad verifiers, an existing user, an unknown domain. */
    assert_int_equal(accounts_user_import(&st, "bob@copy.test", "nonsense"), PB_ECORRUPT);
    assert_int_equal(accounts_user_import(&st, "bob@copy.test", "scram-sha-256$10$AA==$AA==$AA=="), PB_ECORRUPT);
    v2[strlen(v2) - 3] = '\0';
    assert_int_equal(accounts_user_import(&st, "bob@copy.test", v2), PB_ECORRUPT);
    assert_int_equal(accounts_user_import(&st, "alice@copy.test", v), PB_EEXIST);
    assert_int_equal(accounts_user_import(&st, "bob@nowhere.test", v), PB_ENOENT);
    assert_int_equal(accounts_user_verifier(&st, "nobody@copy.test", v2, sizeof(v2)), PB_ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_and_passwords, setup, teardown),
        cmocka_unit_test_setup_teardown(test_where_mail_goes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survives_remount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verifier_export_and_import, setup, teardown),
    };
    return cmocka_run_group_tests_name("accounts", tests, group_setup, NULL);
}
