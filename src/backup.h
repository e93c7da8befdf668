/* backup.h: `doorman backup DIR`: what a restore needs, copied while doorman serves.
 *
 * Into DIR (made 0700; refused when it exists and is not empty): the database as one
 * consistent snapshot (DIR/doorman.db, store/backup.h; on PostgreSQL not copied: the caller is
 * told to use pg_dump), then the master key (DIR/secret.key, 0600) and the sealed session files
 * (DIR/sessions/<name>.session, 0600, the folder 0700) from the data directory. Files are
 * copied after the database so that every session the snapshot names has its file. */
#ifndef DM_BACKUP_H
#define DM_BACKUP_H

#include "core/config.h"

/* cfg as after config_parse_flag (its data directory must exist). Prints what it copied to
 * stdout and problems to stderr; returns the exit status: 0 when everything was copied, 1
 * otherwise (on PostgreSQL always 1, after copying the key and the session files). */
int backup_run(struct config *cfg, const char *dir);

#endif
