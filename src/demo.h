/* demo.h: `doorman demo`: tgsim and doorman wired together, for trying every page without a
 * Telegram account. */
#ifndef DM_DEMO_H
#define DM_DEMO_H

#include "core/config.h"

/* Runs until SIGINT/SIGTERM; argv0 locates the tgsim binary. Returns the exit status. */
int demo_run(struct config *cfg, const char *argv0);

#endif
