/* backup.c: store_backup_to (backup.h) over the dialect's backup operation. */
#include "store/backup.h"

#include "store/db.h"

dm_err store_backup_to(struct store *st, const char *path, store_backup_progress_fn progress,
                       void *ctx, struct dm_error *err)
{
    if (!st->d->backup)
        return dm_fail(err, DM_EINVAL,
                       "the database is on PostgreSQL, which doorman backup does not copy: back "
                       "it up with pg_dump (docs/operations.md, Backup and restore)");
    return st->d->backup(st->db, path, progress, ctx, err);
}
