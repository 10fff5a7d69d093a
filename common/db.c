#include "vigil/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/util.h"

struct vg_db {
    char *url;
    char *role;
    PGconn *conn;
    char error[512];
    char sqlstate[6];
    int exec_wait_ms;
};

vg_db *vg_db_new(const char *url, const char *role)
{
    vg_db *db = vg_calloc(1, sizeof *db);
    db->url = vg_strdup(url);
    db->role = vg_strdup(role);
    db->exec_wait_ms = 2000;
    return db;
}

void vg_db_destroy(vg_db *db)
{
    if (db == NULL) {
        return;
    }
    if (db->conn) {
        PQfinish(db->conn);
    }
    free(db->url);
    free(db->role);
    free(db);
}

static void set_error(vg_db *db, const char *msg, const char *state)
{
    snprintf(db->error, sizeof db->error, "%s", msg ? msg : "unknown error");
    size_t n = strcspn(db->error, "\n");
    db->error[n] = '\0';
    snprintf(db->sqlstate, sizeof db->sqlstate, "%s", state ? state : "");
}

static bool connect_once(vg_db *db)
{
    const char *keys[] = {"dbname", "connect_timeout", "application_name", "options", NULL};
    const char *vals[] = {db->url, "5", "vigil", "-c client_min_messages=warning", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        set_error(db, PQerrorMessage(conn), "08006");
        PQfinish(conn);
        return false;
    }
    db->conn = conn;
    if (db->role) {
        char *ident = PQescapeIdentifier(conn, db->role, strlen(db->role));
        char *sql = vg_asprintf("SET ROLE %s", ident);
        PQfreemem(ident);
        PGresult *res = PQexec(conn, sql);
        free(sql);
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok) {
            set_error(db, PQresultErrorMessage(res), PQresultErrorField(res, PG_DIAG_SQLSTATE));
        }
        PQclear(res);
        if (!ok) {
            PQfinish(conn);
            db->conn = NULL;
            return false;
        }
    }
    return true;
}

PGconn *vg_db_conn(vg_db *db, int wait_ms)
{
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK) {
        return db->conn;
    }
    if (db->conn) {
        PQfinish(db->conn);
        db->conn = NULL;
    }
    int64_t deadline = vg_now_ms() + wait_ms;
    long backoff_ms = 50;
    for (;;) {
        if (connect_once(db)) {
            return db->conn;
        }
        int64_t left = deadline - vg_now_ms();
        if (left <= 0) {
            vg_warn("database unreachable", "error", db->error);
            return NULL;
        }
        long sleep_ms = backoff_ms < left ? backoff_ms : (long)left;
        struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        backoff_ms = backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2;
    }
}

void vg_db_set_exec_wait(vg_db *db, int wait_ms)
{
    db->exec_wait_ms = wait_ms < 0 ? 0 : wait_ms;
}

PGresult *vg_db_exec(vg_db *db, const char *sql, int nparams, const char *const *params)
{
    PGconn *conn = vg_db_conn(db, db->exec_wait_ms);
    if (conn == NULL) {
        return NULL;
    }
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        db->error[0] = '\0';
        db->sqlstate[0] = '\0';
        return res;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    set_error(db, PQresultErrorMessage(res), state ? state : "08006");
    if (state == NULL || strncmp(state, "23", 2) != 0) {
        vg_debug("query failed", "error", db->error, "sqlstate", db->sqlstate);
    }
    PQclear(res);
    return NULL;
}

int vg_db_cmd(vg_db *db, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = vg_db_exec(db, sql, nparams, params);
    if (res == NULL) {
        return -1;
    }
    PQclear(res);
    return 0;
}

const char *vg_db_error(const vg_db *db)
{
    return db->error;
}

const char *vg_db_sqlstate(const vg_db *db)
{
    return db->sqlstate;
}

bool vg_db_unique_violation(const vg_db *db)
{
    return strcmp(db->sqlstate, "23505") == 0;
}

static bool retryable(const vg_db *db)
{
    return strcmp(db->sqlstate, "40001") == 0 || strcmp(db->sqlstate, "40P01") == 0;
}

static bool connection_lost(const vg_db *db)
{
    return strncmp(db->sqlstate, "08", 2) == 0 || db->conn == NULL ||
           PQstatus(db->conn) != CONNECTION_OK;
}

static int tx_once(vg_db *db, const char *begin, const char *tenant_id, vg_db_tx_fn fn, void *arg)
{
    if (vg_db_cmd(db, begin, 0, NULL) != 0) {
        return -1;
    }
    if (tenant_id) {
        const char *p[] = {tenant_id};
        PGresult *res = vg_db_exec(db, "SELECT set_config('vigil.tenant_id', $1, true)", 1, p);
        if (res == NULL) {
            goto rollback;
        }
        PQclear(res);
    }
    int rc = fn(db, arg);
    if (rc != 0) {
        goto rollback_rc;
    }
    if (vg_db_cmd(db, "COMMIT", 0, NULL) != 0) {
        return -1;
    }
    return 0;
rollback:
    rc = -1;
rollback_rc:
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK) {
        char saved[512], state[6];
        snprintf(saved, sizeof saved, "%s", db->error);
        snprintf(state, sizeof state, "%s", db->sqlstate);
        PGresult *res = PQexec(db->conn, "ROLLBACK");
        PQclear(res);
        set_error(db, saved, state);
    }
    return rc;
}

static int tx_run(vg_db *db, const char *begin, const char *tenant_id, vg_db_tx_fn fn, void *arg)
{
    bool reconnected = false;
    for (int attempt = 0;; attempt++) {
        db->sqlstate[0] = '\0';
        int rc = tx_once(db, begin, tenant_id, fn, arg);
        if (rc == 0) {
            return 0;
        }
        if (retryable(db) && attempt < 5) {
            struct timespec ts = {0, (long)(5 + attempt * 20) * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        if (!reconnected && db->sqlstate[0] && connection_lost(db)) {
            reconnected = true;
            if (vg_db_conn(db, 3000) != NULL) {
                continue;
            }
        }
        return rc;
    }
}

int vg_db_tx(vg_db *db, const char *tenant_id, vg_db_tx_fn fn, void *arg)
{
    return tx_run(db, "BEGIN", tenant_id, fn, arg);
}

int vg_db_tx_serializable(vg_db *db, const char *tenant_id, vg_db_tx_fn fn, void *arg)
{
    return tx_run(db, "BEGIN ISOLATION LEVEL SERIALIZABLE", tenant_id, fn, arg);
}

bool vg_db_ping(vg_db *db)
{
    PGconn *conn = vg_db_conn(db, 0);
    if (conn == NULL) {
        return false;
    }
    PGresult *res = PQexec(conn, "SELECT 1");
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (!ok) {
        /* a dead connection: drop it so the next call reconnects */
        if (PQstatus(conn) != CONNECTION_OK) {
            PQfinish(db->conn);
            db->conn = NULL;
        }
    }
    return ok;
}
