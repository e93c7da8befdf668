/* backup.h: `doorman backup`: a consistent copy of the database while doorman serves.
 *
 * On SQLite the copy is made with SQLite's online backup API from one read transaction of the
 * live file: the snapshot is the last commit before the backup began, and writers (in this
 * process or in a running doorman) go on meanwhile (WAL mode: a reader never blocks them). The
 * pages are copied in steps, reporting progress after each. PostgreSQL databases are backed up
 * with PostgreSQL's own tools (pg_dump): store_backup_to refuses them with a message saying so. */
#ifndef DM_STORE_BACKUP_H
#define DM_STORE_BACKUP_H

#include "core/common.h"
#include "store/store.h"

/* Called after each step with the pages copied so far and the database's pages in all. */
typedef void (*store_backup_progress_fn)(void *ctx, int64_t done, int64_t total);

/* Copies st's database into a new SQLite file at path, created 0600 (DM_EEXISTS when path
 * exists; a failed copy leaves no file behind). progress (may be NULL) gets ctx. On
 * PostgreSQL: DM_EINVAL, "… back it up with pg_dump …", and nothing is written. */
dm_err store_backup_to(struct store *st, const char *path, store_backup_progress_fn progress,
                       void *ctx, struct dm_error *err);

#endif
