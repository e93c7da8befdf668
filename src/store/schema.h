/* schema.h: the store's tables, as versioned migrations per dialect (internal to src/store/).
 *
 * Table schema_version records each migration applied. schema_migrate() brings a database to
 * the latest version in one transaction (PostgreSQL: under an advisory lock, so processes
 * starting together take turns); a database newer than this doorman is refused. */
#ifndef DM_STORE_SCHEMA_H
#define DM_STORE_SCHEMA_H

#include "store/dialect.h"

/* The tables that hold an installation (all but those derived from them or short-lived:
 * request_counts, websessions, logins, leases, search_fold), in foreign-key order, with the
 * ORDER BY that lists their rows alike on SQLite and PostgreSQL (text keys in byte order, as
 * SQLite's BINARY collation sorts): what doorman migrate copies and compares. */
struct schema_table {
    const char *name, *key, *pg_key;
};
extern const struct schema_table schema_kept[];
extern const size_t schema_kept_n;
/* The tables whose id a sequence gives on PostgreSQL (BIGSERIAL). */
extern const char *const schema_serial[];
extern const size_t schema_serial_n;

/* The latest schema version: the number of migrations. */
int schema_latest(void);

/* Runs on a write connection that is in no transaction; c stays usable afterwards. */
dm_err schema_migrate(const struct dialect *d, struct db_conn *c, struct dm_error *err);

#endif
