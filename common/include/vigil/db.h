/* PostgreSQL access: one connection per vg_db, reconnect with backoff, parameterised
 * queries only, and tenant-scoped transactions so row-level security applies.
 * A vg_db is used by one thread at a time. */
#ifndef VIGIL_DB_H
#define VIGIL_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

typedef struct vg_db vg_db;

/* role: when not NULL, `SET ROLE <role>` after each connect (e.g. "vigil_portal", whose
 * queries are subject to row-level security). Connects lazily. The strings are copied. */
vg_db *vg_db_new(const char *url, const char *role);
void vg_db_destroy(vg_db *db); /* NULL is a no-op */

/* Returns a live connection, reconnecting with capped exponential backoff for at most
 * wait_ms; NULL when the server stays unreachable. */
PGconn *vg_db_conn(vg_db *db, int wait_ms);

/* How long vg_db_exec/vg_db_cmd wait to reconnect (default 2000 ms). 0 = a single connect
 * attempt, no backoff sleep (for callers on an event-loop thread). */
void vg_db_set_exec_wait(vg_db *db, int wait_ms);

/* Runs sql with text parameters (NULL = SQL NULL). Returns the result when its status is
 * PGRES_COMMAND_OK or PGRES_TUPLES_OK, else logs, clears it and returns NULL; the last
 * error (with SQLSTATE) is then in vg_db_error/vg_db_sqlstate. Caller PQclear()s. */
PGresult *vg_db_exec(vg_db *db, const char *sql, int nparams, const char *const *params)
    __attribute__((warn_unused_result));
/* Same, for commands whose result is not needed. Returns 0 or -1. */
int vg_db_cmd(vg_db *db, const char *sql, int nparams, const char *const *params)
    __attribute__((warn_unused_result));

const char *vg_db_error(const vg_db *db);
const char *vg_db_sqlstate(const vg_db *db); /* "" when none */
/* True when the last error was a unique violation (23505). */
bool vg_db_unique_violation(const vg_db *db);

/* Runs fn inside BEGIN ... COMMIT. When tenant_id is not NULL the transaction first runs
 * set_config('vigil.tenant_id', tenant_id, true). fn returns 0 to commit, non-zero to roll
 * back (its value is returned). Serialization failures and deadlocks are retried up to
 * 5 times; a lost connection is retried once after reconnecting. */
typedef int (*vg_db_tx_fn)(vg_db *db, void *arg);
int vg_db_tx(vg_db *db, const char *tenant_id, vg_db_tx_fn fn, void *arg)
    __attribute__((warn_unused_result));
/* Like vg_db_tx but SERIALIZABLE. */
int vg_db_tx_serializable(vg_db *db, const char *tenant_id, vg_db_tx_fn fn, void *arg)
    __attribute__((warn_unused_result));

/* SELECT 1 with a short timeout; used by /readyz. */
bool vg_db_ping(vg_db *db);

#endif
