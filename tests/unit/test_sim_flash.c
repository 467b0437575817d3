/*
 * test_sim_flash.c - the sim board's flash refuses what NOR refuses and
 * tears an operation the way a power cut does.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim_flash.h"

#define KB 1024u

static char path[256];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "build/test/flash-%d.img", (int)getpid());
    unlink(path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static void test_fresh_file_is_erased(void **state)
{
    (void)state;
    struct sim_flash f;
    assert_int_equal(sim_flash_open(&f, path, 64 * KB, 4096, 16, 0), 0);
    assert_int_equal(f.dev.geo.size, 64 * KB);
    assert_int_equal(f.dev.geo.erase_size, 4096);
    assert_int_equal(f.dev.geo.program_size, 16);
    uint8_t buf[64 * KB];
    assert_int_equal(hal_flash_read(&f.dev, 0, buf, sizeof(buf)), 0);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0xFF);
    sim_flash_close(&f);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 64 * KB);
}

static void test_program_only_clears_bits(void **state)
{
    (void)state;
    struct sim_flash f;
    assert_int_equal(sim_flash_open(&f, path, 64 * KB, 4096, 16, 0), 0);
    uint8_t a[16], b[16], r[16];
    memset(a, 0xF0, sizeof(a));
    assert_int_equal(hal_flash_program(&f.dev, 32, a, 16), 0);
    /* Clearing more bits of the same unit is what NOR allows. */
    memset(b, 0x30, sizeof(b));
    assert_int_equal(hal_flash_program(&f.dev, 32, b, 16), 0);
    assert_int_equal(hal_flash_read(&f.dev, 32, r, 16), 0);
    assert_memory_equal(r, b, 16);
    /* Setting a bit back to 1 is refused and changes nothing. */
    memset(a, 0x3F, sizeof(a));
    a[0] = 0x30;
    assert_int_equal(hal_flash_program(&f.dev, 32, a, 16), PB_EPERM);
    assert_int_equal(hal_flash_read(&f.dev, 32, r, 16), 0);
    assert_memory_equal(r, b, 16);
    sim_flash_close(&f);
}

static void test_alignment_and_range(void **state)
{
    (void)state;
    struct sim_flash f;
    uint8_t d[32];
    memset(d, 0, sizeof(d));
    assert_int_equal(sim_flash_open(&f, path, 64 * KB, 4096, 16, 0), 0);
    assert_int_equal(hal_flash_program(&f.dev, 8, d, 16), PB_EINVAL);
    assert_int_equal(hal_flash_program(&f.dev, 16, d, 15), PB_EINVAL);
    assert_int_equal(hal_flash_program(&f.dev, 64 * KB - 16, d, 32), PB_EINVAL);
    assert_int_equal(hal_flash_erase(&f.dev, 100), PB_EINVAL);
    assert_int_equal(hal_flash_erase(&f.dev, 64 * KB), PB_EINVAL);
    assert_int_equal(hal_flash_read(&f.dev, 64 * KB - 8, d, 16), PB_EINVAL);
    sim_flash_close(&f);
    /* Geometry the HAL does not allow. */
    assert_int_equal(sim_flash_open(&f, path, 64 * KB, 3000, 16, 0), PB_EINVAL);
    assert_int_equal(sim_flash_open(&f, path, 64 * KB, 4096, 512, 0), PB_EINVAL);
}

static void test_erase_one_block(void **state)
{
    (void)state;
    struct sim_flash f;
    uint8_t z[4096], r[4096];
    memset(z, 0, sizeof(z));
    assert_int_equal(sim_flash_open(&f, path, 64 * KB, 4096, 16, 0), 0);
    assert_int_equal(hal_flash_program(&f.dev, 0, z, 4096), 0);
    assert_int_equal(hal_flash_program(&f.dev, 4096, z, 4096), 0);
    assert_int_equal(hal_flash_erase(&f.dev, 4096), 0);
    assert_int_equal(hal_flash_read(&f.dev, 0, r, 4096), 0);
    assert_memory_equal(r, z, 4096);
    assert_int_equal(hal_flash_read(&f.dev, 4096, r, 4096), 0);
    for (size_t i = 0; i < sizeof(r); i++)
        assert_int_equal(r[i], 0xFF);
    assert_int_equal(hal_flash_sync(&f.dev), 0);
    sim_flash_close(&f);
}

static void test_size_is_kept(void **state)
{
    (void)state;
    struct sim_flash f;
    assert_int_equal(sim_flash_open(&f, path, 64 * KB, 4096, 16, 0), 0);
    sim_flash_close(&f);
    assert_int_equal(sim_flash_open(&f, path, 0, 4096, 16, 0), 0);
    assert_int_equal(f.dev.geo.size, 64 * KB);
    sim_flash_close(&f);
    assert_int_equal(sim_flash_open(&f, path, 128 * KB, 4096, 16, 0), PB_EINVAL);
}

/* Run ops in a child whose flash loses power at operation n. */
static int run_until_cut(uint64_t n, const uint8_t *data)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sim_flash f;
        if (sim_flash_open(&f, path, 0, 4096, 16, n))
            _exit(1);
        hal_flash_erase(&f.dev, 0);                   /* op 1 */
        hal_flash_program(&f.dev, 0, data, 4096);     /* op 2 */
        hal_flash_erase(&f.dev, 4096);                /* op 3 */
        hal_flash_program(&f.dev, 4096, data, 4096);  /* op 4 */
        hal_flash_erase(&f.dev, 0);                   /* op 5 */
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void test_powercut_tears_a_program(void **state)
{
    (void)state;
    uint8_t data[4096], r[4096];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 1) & 0x7F;
    struct sim_flash f;
    assert_int_equal(sim_flash_open(&f, path, 64 * KB, 4096, 16, 0), 0);
    sim_flash_close(&f);

    assert_int_equal(run_until_cut(4, data), SIM_FLASH_POWERCUT_STATUS);
    assert_int_equal(sim_flash_open(&f, path, 0, 4096, 16, 0), 0);
    /* Operations before the cut are whole. */
    assert_int_equal(hal_flash_read(&f.dev, 0, r, 4096), 0);
    assert_memory_equal(r, data, 4096);
    /* The torn one: a prefix of the data, then still-erased bytes. */
    assert_int_equal(hal_flash_read(&f.dev, 4096, r, 4096), 0);
    size_t k = 0;
    while (k < 4096 && r[k] == data[k])
        k++;
    assert_true(k < 4096);
    for (size_t i = k; i < 4096; i++)
        assert_int_equal(r[i], 0xFF);
    sim_flash_close(&f);
}

static void test_powercut_tears_an_erase(void **state)
{
    (void)state;
    uint8_t data[4096], r[4096];
    memset(data, 0x00, sizeof(data));
    struct sim_flash f;
    assert_int_equal(sim_flash_open(&f, path, 64 * KB, 4096, 16, 0), 0);
    sim_flash_close(&f);

    assert_int_equal(run_until_cut(5, data), SIM_FLASH_POWERCUT_STATUS);
    assert_int_equal(sim_flash_open(&f, path, 0, 4096, 16, 0), 0);
    assert_int_equal(hal_flash_read(&f.dev, 0, r, 4096), 0);
    size_t k = 0;
    while (k < 4096 && r[k] == 0xFF)
        k++;
    assert_true(k < 4096);          /* left partly erased */
    for (size_t i = k; i < 4096; i++)
        assert_int_equal(r[i], 0x00);
    /* The block before it (op 4) is whole. */
    assert_int_equal(hal_flash_read(&f.dev, 4096, r, 4096), 0);
    assert_memory_equal(r, data, 4096);
    sim_flash_close(&f);
}

static void test_no_cut_runs_to_the_end(void **state)
{
    (void)state;
    uint8_t data[4096];
    memset(data, 0x55, sizeof(data));
    struct sim_flash f;
    assert_int_equal(sim_flash_open(&f, path, 64 * KB, 4096, 16, 0), 0);
    sim_flash_close(&f);
    assert_int_equal(run_until_cut(6, data), 0);
}

static void test_beyond_4gib(void **state)
{
    (void)state;
    /* A sparse 5 GiB chip (reads as 0x00, as if fully programmed). */
    uint64_t size = 5ull << 30;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    if (ftruncate(fd, (off_t)size) != 0) {
        close(fd);
        skip();
    }
    close(fd);
    struct sim_flash f;
    assert_int_equal(sim_flash_open(&f, path, 0, 65536, 16, 0), 0);
    assert_true(f.dev.geo.size == size);
    uint64_t at = (4ull << 30) + 65536;
    uint8_t ones[16], r[16];
    memset(ones, 0xFF, sizeof(ones));
    assert_int_equal(hal_flash_erase(&f.dev, at), 0);
    assert_int_equal(hal_flash_read(&f.dev, at, r, 16), 0);
    assert_memory_equal(r, ones, 16);
    /* The block at the same offset modulo 4 GiB is untouched. */
    assert_int_equal(hal_flash_read(&f.dev, 65536, r, 16), 0);
    assert_int_equal(r[0], 0x00);
    sim_flash_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_file_is_erased, setup, teardown),
        cmocka_unit_test_setup_teardown(test_program_only_clears_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alignment_and_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erase_one_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_is_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_powercut_tears_a_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_powercut_tears_an_erase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_cut_runs_to_the_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_beyond_4gib, setup, teardown),
    };
    return cmocka_run_group_tests_name("sim_flash", tests, NULL, NULL);
}
