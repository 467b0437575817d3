/*
 * startup.c - vector table, reset handler and fault report of the
 * mps2-an500 board.
 *
 * The image is linked with -nostartfiles, so nothing runs before
 * Reset_Handler: it copies .data from flash, zeroes .bss and the external
 * RAM section, runs the init_array and calls main(0, NULL).
 */
#include <stdint.h>
#include <string.h>

#include "hal_reset.h"
#include "mps2.h"

int main(int argc, char **argv);

void Reset_Handler(void);
void HardFault_Handler(void);
void startup_fault_report(const uint32_t *frame, uint32_t exc_return);

/* Symbols of mps2-an500.ld. */
extern uint32_t __stack_top;
extern uint32_t __data_start, __data_end, __data_load;
extern uint32_t __bss_start, __bss_end;
extern uint32_t __extram_start, __extram_end;
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);

#define STARTUP_EXT_IRQS 32 /* none is enabled; the slots only catch strays */

struct startup_vectors {
    uint32_t *initial_sp;
    void (*exceptions[15])(void);
    void (*irqs[STARTUP_EXT_IRQS])(void);
};

static void startup_unexpected(void);

/* Everything that is not the reset, a fault or SysTick is unexpected:
 * nothing else is ever enabled. */
#define U startup_unexpected
__attribute__((section(".vectors"), used))
static const struct startup_vectors startup_vectors = {
    .initial_sp = &__stack_top,
    .exceptions = {
        Reset_Handler,      /* 1 reset */
        U,                  /* 2 NMI */
        HardFault_Handler,  /* 3 HardFault */
        HardFault_Handler,  /* 4 MemManage */
        HardFault_Handler,  /* 5 BusFault */
        HardFault_Handler,  /* 6 UsageFault */
        0, 0, 0, 0,         /* 7-10 reserved */
        U,                  /* 11 SVCall */
        U,                  /* 12 DebugMonitor */
        0,                  /* 13 reserved */
        U,                  /* 14 PendSV */
        clock_systick_isr,  /* 15 SysTick */
    },
    .irqs = {
        U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U,
        U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U,
    },
};
#undef U

void Reset_Handler(void)
{
    size_t data_len = (size_t)((uintptr_t)&__data_end - (uintptr_t)&__data_start);
    memcpy(&__data_start, &__data_load, data_len);
    memset(&__bss_start, 0, (size_t)((uintptr_t)&__bss_end - (uintptr_t)&__bss_start));
    /* External RAM holds only zero-initialised buffers; on a real board it
     * comes up with garbage, so clear it like .bss. */
    memset(&__extram_start, 0, (size_t)((uintptr_t)&__extram_end - (uintptr_t)&__extram_start));

    for (void (**fn)(void) = __init_array_start; fn < __init_array_end; fn++)
        (*fn)();

    int status = main(0, NULL);
    hal_reset_poweroff(status);
}

/* Hands the stacked exception frame to startup_fault_report(): naked so
 * that no prologue moves the stack pointer before it is sampled. */
__attribute__((naked)) void HardFault_Handler(void)
{
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "mov r1, lr\n"
        "b startup_fault_report\n");
}

static void startup_put_hex(const char *label, uint32_t v)
{
    char buf[20];
    size_t n = 0;
    uart_puts(label);
    buf[n++] = '0';
    buf[n++] = 'x';
    for (int shift = 28; shift >= 0; shift -= 4)
        buf[n++] = "0123456789abcdef"[(v >> shift) & 0xfu];
    buf[n] = '\0';
    uart_puts(buf);
}

/* A fault is a firmware bug: say where it happened on the console, then
 * stop with a status a test can see (a product would reset instead). */
void startup_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    uart_puts("\r\n*** fault");
    startup_put_hex(": exception ", ipsr & 0x1ffu);
    startup_put_hex(" pc ", frame[6]);
    startup_put_hex(" lr ", frame[5]);
    startup_put_hex(" sp ", (uint32_t)(uintptr_t)frame);
    startup_put_hex(" exc_return ", exc_return);
    startup_put_hex("\r\n*** cfsr ", MPS2_REG(0xE000ED28u));
    startup_put_hex(" hfsr ", MPS2_REG(0xE000ED2Cu));
    startup_put_hex(" mmfar ", MPS2_REG(0xE000ED34u));
    startup_put_hex(" bfar ", MPS2_REG(0xE000ED38u));
    uart_puts("\r\n");
    hal_reset_poweroff(3);
}

static void startup_unexpected(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    startup_put_hex("\r\n*** unexpected exception ", ipsr & 0x1ffu);
    uart_puts("\r\n");
    hal_reset_poweroff(3);
}
