/* migrate.h: `doorman migrate`: copies an SQLite installation's database into an empty
 * PostgreSQL database.
 *
 * Both are first opened as stores (so both have the latest schema), then every table worth
 * keeping (admins, settings with sealed values as they are, chats, invite_requests, jobs,
 * job_items, audit, sessions; not web sessions, logins in progress or leases) is read from one
 * SQLite read transaction (a consistent snapshot even while doorman runs) and written with
 * COPY in one PostgreSQL transaction, ids preserved, then the id sequences are set past the
 * highest id. Before committing, each table is verified: its row count and a SHA-256 over its
 * rows in key order (every value as text, computed the same way on both sides) must match.
 * A target with any data in those tables is refused and left as it was. */
#ifndef DM_STORE_MIGRATE_H
#define DM_STORE_MIGRATE_H

#include "core/common.h"

/* from: "sqlite:PATH" or a path; to: "postgresql://…". Prints one line per table (name,
 * rows, checksum) to out. Messages never show the target URL's password. */
dm_err store_migrate(const char *from, const char *to, FILE *out, struct dm_error *err);

#endif
