/* Migration runner for sql/NNN_<what>.sql: applies pending files in order, each in its
 * own transaction, records them in schema_migrations, holds an advisory lock so several
 * processes migrating at once do not collide. Running it twice is a no-op. */
#ifndef VIGIL_MIGRATE_H
#define VIGIL_MIGRATE_H

#include <stddef.h>

#include "vigil/db.h"

/* Returns the number of migrations applied (0 when up to date) or -1 with errbuf set. */
int vg_migrate_run(vg_db *db, const char *dir, char *errbuf, size_t errlen)
    __attribute__((warn_unused_result));
/* Returns the number of pending migrations, or -1 with errbuf set. */
int vg_migrate_pending(vg_db *db, const char *dir, char *errbuf, size_t errlen)
    __attribute__((warn_unused_result));

#endif
