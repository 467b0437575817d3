/*
 * lan9118.c - SMSC LAN9118 Ethernet controller (hal_eth.h).
 *
 * Polled, programmed I/O: a frame goes out as TX command A, TX command B
 * and its data words pushed into the TX data FIFO port; a received frame
 * is announced by a word in the RX status FIFO (length including the
 * 4-byte FCS) and then read as whole words from the RX data FIFO port.
 * The MAC's own registers sit behind MAC_CSR_CMD/MAC_CSR_DATA, and the
 * internal PHY (address 1) behind the MAC's MII_ACC/MII_DATA.  The MAC
 * address is the one the chip loaded from its EEPROM at reset.
 */
#include "hal_eth.h"

#include <string.h>

#include "mps2.h"
#include "pb_err.h"

/* System control and status registers (offsets from MPS2_ETH_BASE). */
#define ETH_RX_DATA        MPS2_REG(MPS2_ETH_BASE + 0x00u)
#define ETH_TX_DATA        MPS2_REG(MPS2_ETH_BASE + 0x20u)
#define ETH_RX_STATUS      MPS2_REG(MPS2_ETH_BASE + 0x40u)
#define ETH_TX_STATUS      MPS2_REG(MPS2_ETH_BASE + 0x48u)
#define ETH_ID_REV         MPS2_REG(MPS2_ETH_BASE + 0x50u)
#define ETH_IRQ_CFG        MPS2_REG(MPS2_ETH_BASE + 0x54u)
#define ETH_INT_STS        MPS2_REG(MPS2_ETH_BASE + 0x58u)
#define ETH_INT_EN         MPS2_REG(MPS2_ETH_BASE + 0x5Cu)
#define ETH_BYTE_TEST      MPS2_REG(MPS2_ETH_BASE + 0x64u)
#define ETH_RX_CFG         MPS2_REG(MPS2_ETH_BASE + 0x6Cu)
#define ETH_TX_CFG         MPS2_REG(MPS2_ETH_BASE + 0x70u)
#define ETH_HW_CFG         MPS2_REG(MPS2_ETH_BASE + 0x74u)
#define ETH_RX_FIFO_INF    MPS2_REG(MPS2_ETH_BASE + 0x7Cu)
#define ETH_TX_FIFO_INF    MPS2_REG(MPS2_ETH_BASE + 0x80u)
#define ETH_PMT_CTRL       MPS2_REG(MPS2_ETH_BASE + 0x84u)
#define ETH_MAC_CSR_CMD    MPS2_REG(MPS2_ETH_BASE + 0xA4u)
#define ETH_MAC_CSR_DATA   MPS2_REG(MPS2_ETH_BASE + 0xA8u)

#define ETH_ID_LAN9118        0x0118u       /* ID_REV bits 31:16 */
#define ETH_BYTE_TEST_VALUE   0x87654321u
#define ETH_HW_CFG_SRST       (1u << 0)
#define ETH_PMT_CTRL_READY    (1u << 0)
#define ETH_TX_CFG_TX_ON      (1u << 1)
#define ETH_TX_CFG_TXSAO      (1u << 2)     /* TX status FIFO may overrun */
#define ETH_RX_CFG_RX_DUMP    (1u << 15)
#define ETH_MAC_CSR_BUSY      (1u << 31)
#define ETH_MAC_CSR_READ      (1u << 30)
#define ETH_TX_CMD_A_FIRST    (1u << 13)
#define ETH_TX_CMD_A_LAST     (1u << 12)
#define ETH_RX_STS_ERROR      (1u << 15)
#define ETH_TX_STS_ERROR      (1u << 15)

/* FIFO_INF fields: status FIFO entries used in bits 23:16. */
#define ETH_FIFO_INF_STATUS_USED(v) (((v) >> 16) & 0xffu)
#define ETH_TX_FIFO_INF_DATA_FREE(v) ((v) & 0xffffu)

/* MAC CSRs (indirect). */
enum { MAC_CR = 1, MAC_ADDRH = 2, MAC_ADDRL = 3, MAC_MII_ACC = 6, MAC_MII_DATA = 7 };
#define MAC_CR_RXEN   (1u << 2)
#define MAC_CR_TXEN   (1u << 3)
#define MAC_CR_MCPAS  (1u << 19) /* pass all multicast: IPv6 ND and MLD need it */
#define MAC_CR_FDPX   (1u << 20)
#define MII_ACC_BUSY  (1u << 0)
#define MII_ACC_WRITE (1u << 1)

/* Internal PHY registers. */
#define PHY_ADDR        1u
#define PHY_BMCR        0u
#define PHY_BMSR        1u
#define PHY_ANAR        4u
#define PHY_BMCR_RESET    (1u << 15)
#define PHY_BMCR_ANENABLE (1u << 12)
#define PHY_BMCR_ANRESTART (1u << 9)
#define PHY_BMSR_LINK     (1u << 2)
#define PHY_ANAR_ALL_10_100 0x01E1u

/* Bounded waits on the chip, in polls of a register (each an uncached bus
 * access, about a microsecond on hardware). */
#define ETH_SPIN 100000u

static bool eth_ready;
static uint8_t eth_mac_addr[6];
static uint16_t eth_tx_tag;

static int eth_wait_clear(volatile uint32_t *reg, uint32_t mask)
{
    for (uint32_t spin = 0; spin < ETH_SPIN; spin++) {
        if ((*reg & mask) == 0)
            return 0;
    }
    return PB_ETIMEDOUT;
}

static int eth_mac_read(uint32_t csr, uint32_t *val)
{
    if (eth_wait_clear(&ETH_MAC_CSR_CMD, ETH_MAC_CSR_BUSY) < 0)
        return PB_ETIMEDOUT;
    ETH_MAC_CSR_CMD = ETH_MAC_CSR_BUSY | ETH_MAC_CSR_READ | csr;
    if (eth_wait_clear(&ETH_MAC_CSR_CMD, ETH_MAC_CSR_BUSY) < 0)
        return PB_ETIMEDOUT;
    *val = ETH_MAC_CSR_DATA;
    return 0;
}

static int eth_mac_write(uint32_t csr, uint32_t val)
{
    if (eth_wait_clear(&ETH_MAC_CSR_CMD, ETH_MAC_CSR_BUSY) < 0)
        return PB_ETIMEDOUT;
    ETH_MAC_CSR_DATA = val;
    ETH_MAC_CSR_CMD = ETH_MAC_CSR_BUSY | csr;
    return eth_wait_clear(&ETH_MAC_CSR_CMD, ETH_MAC_CSR_BUSY);
}

static int eth_mii_wait(void)
{
    for (uint32_t spin = 0; spin < ETH_SPIN; spin++) {
        uint32_t acc;
        int err = eth_mac_read(MAC_MII_ACC, &acc);
        if (err < 0)
            return err;
        if ((acc & MII_ACC_BUSY) == 0)
            return 0;
    }
    return PB_ETIMEDOUT;
}

static int eth_phy_read(uint32_t reg, uint32_t *val)
{
    int err = eth_mii_wait();
    if (err == 0)
        err = eth_mac_write(MAC_MII_ACC, (PHY_ADDR << 11) | (reg << 6) | MII_ACC_BUSY);
    if (err == 0)
        err = eth_mii_wait();
    if (err == 0)
        err = eth_mac_read(MAC_MII_DATA, val);
    return err;
}

static int eth_phy_write(uint32_t reg, uint32_t val)
{
    int err = eth_mii_wait();
    if (err == 0)
        err = eth_mac_write(MAC_MII_DATA, val);
    if (err == 0)
        err = eth_mac_write(MAC_MII_ACC, (PHY_ADDR << 11) | (reg << 6) | MII_ACC_WRITE | MII_ACC_BUSY);
    if (err == 0)
        err = eth_mii_wait();
    return err;
}

int lan9118_init(void)
{
    eth_ready = false;
    if (ETH_BYTE_TEST != ETH_BYTE_TEST_VALUE || (ETH_ID_REV >> 16) != ETH_ID_LAN9118)
        return PB_EIO;

    ETH_HW_CFG = ETH_HW_CFG_SRST;
    if (eth_wait_clear(&ETH_HW_CFG, ETH_HW_CFG_SRST) < 0)
        return PB_EIO;
    for (uint32_t spin = 0; (ETH_PMT_CTRL & ETH_PMT_CTRL_READY) == 0; spin++) {
        if (spin >= ETH_SPIN)
            return PB_EIO;
    }

    /* Polled: no interrupt line, nothing latched. */
    ETH_INT_EN = 0;
    ETH_INT_STS = 0xffffffffu;
    ETH_IRQ_CFG = 0;

    uint32_t lo, hi;
    if (eth_mac_read(MAC_ADDRL, &lo) < 0 || eth_mac_read(MAC_ADDRH, &hi) < 0)
        return PB_EIO;
    for (int i = 0; i < 4; i++)
        eth_mac_addr[i] = (uint8_t)(lo >> (8 * i));
    eth_mac_addr[4] = (uint8_t)hi;
    eth_mac_addr[5] = (uint8_t)(hi >> 8);

    /* PHY: reset, advertise 10/100 half and full duplex, autonegotiate. */
    uint32_t bmcr = PHY_BMCR_RESET;
    if (eth_phy_write(PHY_BMCR, PHY_BMCR_RESET) < 0)
        return PB_EIO;
    for (uint32_t spin = 0; bmcr & PHY_BMCR_RESET; spin++) {
        if (spin >= 1000u || eth_phy_read(PHY_BMCR, &bmcr) < 0)
            return PB_EIO;
    }
    if (eth_phy_write(PHY_ANAR, PHY_ANAR_ALL_10_100) < 0 ||
        eth_phy_write(PHY_BMCR, PHY_BMCR_ANENABLE | PHY_BMCR_ANRESTART) < 0)
        return PB_EIO;

    /* FIFOs: no RX data offset or end padding; TX on. */
    ETH_RX_CFG = ETH_RX_CFG_RX_DUMP;
    ETH_RX_CFG = 0;
    ETH_TX_CFG = ETH_TX_CFG_TX_ON | ETH_TX_CFG_TXSAO;

    /* MAC: our address, broadcast and all multicast; not promiscuous. */
    if (eth_mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX | MAC_CR_MCPAS) < 0)
        return PB_EIO;

    eth_ready = true;
    return 0;
}

bool lan9118_rx_pending(void)
{
    return eth_ready && ETH_FIFO_INF_STATUS_USED(ETH_RX_FIFO_INF) != 0;
}

int hal_eth_send(const void *frame, size_t len)
{
    if (len == 0 || len > HAL_ETH_FRAME_MAX)
        return PB_EINVAL;
    if (!eth_ready)
        return PB_EIO;

    /* Status words of earlier frames: read and drop (TXSAO lets the FIFO
     * overrun anyway; draining keeps it meaningful for a debugger). */
    while (ETH_FIFO_INF_STATUS_USED(ETH_TX_FIFO_INF) != 0)
        (void)ETH_TX_STATUS;

    uint32_t words = (uint32_t)(len + 3u) / 4u;
    if (ETH_TX_FIFO_INF_DATA_FREE(ETH_TX_FIFO_INF) < 4u * (words + 2u))
        return PB_EAGAIN;

    eth_tx_tag++;
    ETH_TX_DATA = ETH_TX_CMD_A_FIRST | ETH_TX_CMD_A_LAST | (uint32_t)len;
    ETH_TX_DATA = ((uint32_t)eth_tx_tag << 16) | (uint32_t)len;
    const uint8_t *p = frame;
    for (size_t off = 0; off < len; off += 4) {
        uint32_t w = 0;
        memcpy(&w, p + off, len - off < 4 ? len - off : 4);
        ETH_TX_DATA = w;
    }
    return 0;
}

int hal_eth_recv(void *buf, size_t cap)
{
    if (!eth_ready)
        return 0;
    while (ETH_FIFO_INF_STATUS_USED(ETH_RX_FIFO_INF) != 0) {
        uint32_t status = ETH_RX_STATUS;
        size_t wire = (status >> 16) & 0x3fffu; /* with the 4-byte FCS */
        size_t words = (wire + 3u) / 4u;
        size_t len = wire >= 4u ? wire - 4u : 0;
        bool keep = (status & ETH_RX_STS_ERROR) == 0 && len >= 14u &&
                    len <= HAL_ETH_FRAME_MAX && len <= cap;

        /* Every word of the frame leaves the FIFO, kept or not, so the
         * next status word lines up with its data. */
        uint8_t *p = buf;
        for (size_t i = 0; i < words; i++) {
            uint32_t w = ETH_RX_DATA;
            size_t off = 4u * i;
            if (keep && off < len)
                memcpy(p + off, &w, len - off < 4 ? len - off : 4);
        }
        if (keep)
            return (int)len;
        if (len > cap && (status & ETH_RX_STS_ERROR) == 0 && len <= HAL_ETH_FRAME_MAX)
            return PB_ERANGE;
        /* A damaged or runt frame: drop it and look at the next. */
    }
    return 0;
}

void hal_eth_mac(uint8_t mac[6])
{
    memcpy(mac, eth_mac_addr, sizeof eth_mac_addr);
}

bool hal_eth_link_up(void)
{
    uint32_t bmsr;
    if (!eth_ready || eth_phy_read(PHY_BMSR, &bmsr) < 0)
        return false;
    return (bmsr & PHY_BMSR_LINK) != 0;
}
