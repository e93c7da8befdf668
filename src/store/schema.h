/* schema.h: the store's tables, as versioned migrations per dialect (internal to src/store/).
 *
 * Table schema_version records each migration applied. schema_migrate() brings a database to
 * the latest version in one transaction (PostgreSQL: under an advisory lock, so processes
 * starting together take turns); a database newer than this doorman is refused. */
#ifndef DM_STORE_SCHEMA_H
#define DM_STORE_SCHEMA_H

#include "store/dialect.h"

/* Runs on a write connection that is in no transaction; c stays usable afterwards. */
dm_err schema_migrate(const struct dialect *d, struct db_conn *c, struct dm_error *err);

#endif
