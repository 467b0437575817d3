/*
 * reset.c - reboot and power-off (hal_reset.h).
 *
 * Reboot is a real system reset (SCB AIRCR.SYSRESETREQ): QEMU resets the
 * machine and starts the image again, the flash file untouched.  Power-off
 * asks the semihosting host to end the emulator with the status.
 */
#include "hal_reset.h"

#include "hal_flash.h"
#include "mps2.h"
#include "semihost.h"

#define SCB_AIRCR               MPS2_REG(0xE000ED0Cu)
#define SCB_AIRCR_VECTKEY       (0x05FAu << 16)
#define SCB_AIRCR_PRIGROUP_MASK (7u << 8)
#define SCB_AIRCR_SYSRESETREQ   (1u << 2)

/* Flush the flash and give the host its file handles back, so a reset
 * does not leak them and nothing is half-written behind us. */
static void reset_quiesce(void)
{
    const struct hal_flash *f = hal_flash_device();
    if (f != NULL)
        (void)hal_flash_sync(f);
    flash_close();
    rng_close();
}

_Noreturn void hal_reset_reboot(void)
{
    reset_quiesce();
    __asm__ volatile("dsb 0xf" ::: "memory");
    SCB_AIRCR = SCB_AIRCR_VECTKEY | (SCB_AIRCR & SCB_AIRCR_PRIGROUP_MASK) | SCB_AIRCR_SYSRESETREQ;
    __asm__ volatile("dsb 0xf" ::: "memory");
    for (;;)
        __asm__ volatile("wfi");
}

_Noreturn void hal_reset_poweroff(int status)
{
    reset_quiesce();
    semihost_exit(status);
    /* No host to end us (a real board without a power switch): halt. */
    __asm__ volatile("cpsid i" ::: "memory");
    for (;;)
        __asm__ volatile("wfi");
}
