/*
 * version.h - the firmware's version, shown by "show version" and at boot.
 */
#ifndef VERSION_H
#define VERSION_H

#define PB_VERSION "0.1.0"

#endif
