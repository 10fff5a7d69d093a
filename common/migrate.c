#include "vigil/migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/log.h"

/* Advisory lock key shared by every process that migrates ("vigilmig"). */
#define MIGRATE_LOCK_KEY "6011350745237882471"

typedef struct migration {
    char *name;    /* file name, e.g. 001_foundation.sql */
    char *version; /* "001" */
} migration;

static int cmp_migration(const void *a, const void *b)
{
    return strcmp(((const migration *)a)->name, ((const migration *)b)->name);
}

static bool is_migration_name(const char *name)
{
    size_t len = strlen(name);
    return len > 8 && isdigit((unsigned char)name[0]) && isdigit((unsigned char)name[1]) &&
           isdigit((unsigned char)name[2]) && name[3] == '_' && strcmp(name + len - 4, ".sql") == 0;
}

static void free_list(migration *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(list[i].name);
        free(list[i].version);
    }
    free(list);
}

static migration *list_files(const char *dir, size_t *count, char *errbuf, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(errbuf, errlen, "cannot open migrations folder %s", dir);
        return NULL;
    }
    size_t n = 0, cap = 16;
    migration *list = vg_malloc(cap * sizeof *list);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_migration_name(de->d_name)) {
            continue;
        }
        if (n == cap) {
            cap *= 2;
            list = vg_realloc(list, cap * sizeof *list);
        }
        list[n].name = vg_strdup(de->d_name);
        list[n].version = vg_strndup(de->d_name, 3);
        n++;
    }
    closedir(d);
    qsort(list, n, sizeof *list, cmp_migration);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(list[i].version, list[i - 1].version) == 0) {
            snprintf(errbuf, errlen, "two migrations share version %s: %s and %s", list[i].version,
                     list[i - 1].name, list[i].name);
            free_list(list, n);
            return NULL;
        }
    }
    *count = n;
    return list;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    vg_buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        vg_buf_append(&b, chunk, n);
    }
    fclose(f);
    return vg_buf_steal(&b);
}

static bool is_applied(vg_db *db, const char *version, bool *applied)
{
    const char *p[] = {version};
    PGresult *res = vg_db_exec(db, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, p);
    if (res == NULL) {
        return false;
    }
    *applied = PQntuples(res) > 0;
    PQclear(res);
    return true;
}

/* Runs one file and records it, in one transaction (PQexec: the file may hold several
 * statements; it is our own trusted SQL, never built from input). */
static int apply_one(vg_db *db, const char *dir, const migration *m, char *errbuf, size_t errlen)
{
    char *path = vg_asprintf("%s/%s", dir, m->name);
    char *sql = read_file(path);
    free(path);
    if (sql == NULL) {
        snprintf(errbuf, errlen, "cannot read migration %s", m->name);
        return -1;
    }
    PGconn *conn = vg_db_conn(db, 5000);
    int rc = -1;
    if (conn == NULL) {
        snprintf(errbuf, errlen, "database unreachable: %s", vg_db_error(db));
        goto out;
    }
    char *script = vg_asprintf("BEGIN;\n%s\n;INSERT INTO schema_migrations(version, name) "
                               "VALUES ('%s', '%s');\nCOMMIT;",
                               sql, m->version, m->name);
    PGresult *res = PQexec(conn, script);
    free(script);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(errbuf, errlen, "migration %s failed: %s", m->name, PQresultErrorMessage(res));
        PQclear(res);
        PQclear(PQexec(conn, "ROLLBACK"));
        goto out;
    }
    PQclear(res);
    vg_info("migration applied", "migration", m->name);
    rc = 0;
out:
    free(sql);
    return rc;
}

static int ensure_table(vg_db *db, char *errbuf, size_t errlen)
{
    if (vg_db_cmd(db,
                  "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, "
                  "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                  0, NULL) != 0) {
        snprintf(errbuf, errlen, "cannot create schema_migrations: %s", vg_db_error(db));
        return -1;
    }
    return 0;
}

static int walk(vg_db *db, const char *dir, bool apply, char *errbuf, size_t errlen)
{
    size_t n = 0;
    migration *list = list_files(dir, &n, errbuf, errlen);
    if (list == NULL) {
        return -1;
    }
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        bool applied = false;
        if (!is_applied(db, list[i].version, &applied)) {
            snprintf(errbuf, errlen, "cannot read schema_migrations: %s", vg_db_error(db));
            count = -1;
            break;
        }
        if (applied) {
            continue;
        }
        if (apply && apply_one(db, dir, &list[i], errbuf, errlen) != 0) {
            count = -1;
            break;
        }
        count++;
    }
    free_list(list, n);
    return count;
}

int vg_migrate_run(vg_db *db, const char *dir, char *errbuf, size_t errlen)
{
    /* the session-level advisory lock serialises concurrent migrators; the table is created
     * under it too, so two first runs do not race on CREATE TABLE */
    if (vg_db_cmd(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL) != 0) {
        snprintf(errbuf, errlen, "cannot take the migration lock: %s", vg_db_error(db));
        return -1;
    }
    int count = ensure_table(db, errbuf, errlen);
    if (count == 0) {
        count = walk(db, dir, true, errbuf, errlen);
    }
    if (vg_db_cmd(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", 0, NULL) != 0) {
        vg_warn("cannot release the migration lock", "error", vg_db_error(db));
    }
    return count;
}

int vg_migrate_pending(vg_db *db, const char *dir, char *errbuf, size_t errlen)
{
    /* read-only: a database never migrated has every file pending */
    PGresult *res = vg_db_exec(db, "SELECT to_regclass('schema_migrations') IS NULL", 0, NULL);
    if (res == NULL) {
        snprintf(errbuf, errlen, "cannot inspect the database: %s", vg_db_error(db));
        return -1;
    }
    bool fresh = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (fresh) {
        size_t n = 0;
        migration *list = list_files(dir, &n, errbuf, errlen);
        if (list == NULL) {
            return -1;
        }
        free_list(list, n);
        return (int)n;
    }
    return walk(db, dir, false, errbuf, errlen);
}
