/*
 * console.h - the serial console: prompt, line editing, commands.
 *
 * Bytes from the UART go through the line editor; each complete line is
 * split into words and dispatched from the command table.  Replies are
 * plain lines; an error is one line starting with "error: ".
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stddef.h>

/* Show the banner's prompt and start reading. */
void console_init(void);

/* Read what the UART has and run any complete command.  Returns 1 if it
 * did any work (so the event loop polls again before sleeping). */
int console_poll(void);

/* Run one command line as if typed (used by tests and scripts).  Returns 0
 * or the command's negative PB_E*. */
int console_execute(char *line);

/* Run one command line with its output (CRLF lines) collected into out
 * (cap bytes, NUL-terminated, cut when full) instead of the UART: the web
 * page runs the console's commands this way, so both share one
 * validation and one set of messages.  Interactive commands (asking for
 * a password or a confirmation) must not be run so.  Returns as
 * console_execute. */
int console_execute_capture(char *line, char *out, size_t cap);

/* Print text on the console, above the line being typed. */
void console_print(const char *s, size_t n);

/* The log sink: shows a log line on the console. */
void console_log_sink(const char *line, size_t len);

#endif
