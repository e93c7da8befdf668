/* signals.h: the stop signals of a process that waits for them with sigwait() (doorman, tgsim). */
#ifndef DM_SIGNALS_H
#define DM_SIGNALS_H

#include <signal.h>

/* Blocks SIGINT and SIGTERM in the calling thread (and so in every thread it starts later) and
 * ignores SIGPIPE; returns the set to sigwait() on. Call before any thread starts. */
sigset_t signals_block_stop(void);

#endif
