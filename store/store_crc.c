/*
 * store_crc.c - CRC-32C (Castagnoli), four bytes at a time ("slicing by
 * four").
 *
 * Every record is checked with it on write, on mount, on every read of a
 * body and by store_check, so it is the store's hottest loop: an IMAP
 * FETCH of message bodies spent half its time here with a 4-bit table.
 * Four 256-entry tables (4 KiB) are built once, at the first use, into
 * RAM rather than written out here as 1,024 constants.
 */
#include "store.h"

#define STORE_CRC_POLY 0x82F63B78u     /* CRC-32C, reflected */

static uint32_t store_crc_table[4][256];
static int store_crc_ready;

static void store_crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ STORE_CRC_POLY : c >> 1;
        store_crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 4; t++)
            store_crc_table[t][i] = (store_crc_table[t - 1][i] >> 8) ^
                                    store_crc_table[0][store_crc_table[t - 1][i] & 0xFF];
    store_crc_ready = 1;
}

uint32_t store_crc32c(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (!store_crc_ready)
        store_crc_init();
    crc = ~crc;
    while (len >= 4) {
        crc ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        crc = store_crc_table[3][crc & 0xFF] ^ store_crc_table[2][(crc >> 8) & 0xFF] ^
              store_crc_table[1][(crc >> 16) & 0xFF] ^ store_crc_table[0][crc >> 24];
        p += 4;
        len -= 4;
    }
    while (len--)
        crc = (crc >> 8) ^ store_crc_table[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}
