/* tgsim_control.h: a C client of tgsim's control API, for the C tests and benchmarks that drive
 * tgsim themselves (tests/unit/mtproto/tgsim_test.c, bench/mtproto_load_bench.c). */
#ifndef DM_TEST_TGSIM_CONTROL_H
#define DM_TEST_TGSIM_CONTROL_H

#include "core/common.h"

#include <jansson.h>

/* POSTs body (JSON) to http://127.0.0.1:<port>/control/<path>, or GETs it when body is NULL.
 * Returns the answer (the caller owns it) when tgsim answers 200 with JSON; else NULL, and
 * why (why_size bytes) gets "HTTP <status> <body>". */
json_t *tgsim_control(int port, const char *path, const char *body, char *why, size_t why_size);

#endif
