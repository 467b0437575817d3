/*
 * cmdline.h - splitting a console command line into words.
 *
 * Words are separated by spaces or tabs.  Double quotes group a word that
 * contains spaces ("Office Printer"); inside quotes, \" and \\ stand for "
 * and \.  A line whose first word starts with # is a comment.
 */
#ifndef CMDLINE_H
#define CMDLINE_H

#define CMDLINE_MAX_WORDS 16

/* Split line in place: words are NUL-terminated inside line and argv[i]
 * points at them.  Returns the number of words (0 for an empty line or a
 * comment), PB_EINVAL for an unterminated quote, PB_ERANGE for more than
 * max words.  On error argv is unspecified. */
int cmdline_split(char *line, char *argv[], int max);

#endif
