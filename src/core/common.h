/* common.h: the first include of every doorman source file.
 * System headers first, then banned.h, so unsafe libc calls fail to compile. */
#ifndef DM_COMMON_H
#define DM_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"

#define DM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define DM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define DM_MAX(a, b) ((a) > (b) ? (a) : (b))

#include "core/banned.h"

#endif
