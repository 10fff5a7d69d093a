/* vigilctl tenants: list tenants, change a tenant's plan (as the database owner, so
 * row-level security does not apply: this is the operators' view). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/db.h"
#include "vigil/util.h"
#include "vigilctl.h"

static int tenants_list(vg_db *db)
{
    PGresult *res =
        vg_db_exec(db,
                   "SELECT t.id, t.name, t.plan, coalesce(t.workload_limit::text, '-'), "
                   "(SELECT count(*) FROM users u WHERE u.tenant_id = t.id), "
                   "(SELECT count(*) FROM clusters c WHERE c.tenant_id = t.id), "
                   "to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                   "FROM tenants t ORDER BY t.created_at",
                   0, NULL);
    if (res == NULL) {
        fprintf(stderr, "vigilctl: %s\n", vg_db_error(db));
        return 1;
    }
    printf("%-36s  %-10s  %-6s  %-6s  %-8s  %-20s  %s\n", "TENANT", "PLAN", "LIMIT", "USERS",
           "CLUSTERS", "CREATED", "NAME");
    for (int i = 0; i < PQntuples(res); i++) {
        printf("%-36s  %-10s  %-6s  %-6s  %-8s  %-20s  %s\n", PQgetvalue(res, i, 0),
               PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
               PQgetvalue(res, i, 5), PQgetvalue(res, i, 6), PQgetvalue(res, i, 1));
    }
    PQclear(res);
    return 0;
}

static int tenants_set_plan(vg_db *db, int argc, char **argv)
{
    if (argc < 2 || !vg_uuid_valid(argv[0])) {
        fprintf(stderr, "usage: vigilctl tenants set-plan <tenant-id> <free|pro|enterprise> "
                        "[--workload-limit N]\n");
        return 2;
    }
    const char *plan = argv[1];
    if (strcmp(plan, "free") != 0 && strcmp(plan, "pro") != 0 && strcmp(plan, "enterprise") != 0) {
        fprintf(stderr, "vigilctl: unknown plan \"%s\" (free, pro or enterprise)\n", plan);
        return 2;
    }
    const char *limit = NULL;
    if (argc == 4 && strcmp(argv[2], "--workload-limit") == 0) {
        char *end = NULL;
        long v = strtol(argv[3], &end, 10);
        if (*end != '\0' || v < 0 || v > 10000000) {
            fprintf(stderr, "vigilctl: --workload-limit needs a non-negative integer\n");
            return 2;
        }
        limit = argv[3];
    } else if (argc != 2) {
        fprintf(stderr, "vigilctl: unexpected arguments after the plan\n");
        return 2;
    }
    const char *p[] = {argv[0], plan, limit};
    PGresult *res = vg_db_exec(db,
                               "UPDATE tenants SET plan = $2, workload_limit = $3::integer "
                               "WHERE id = $1::uuid RETURNING id",
                               3, p);
    if (res == NULL) {
        fprintf(stderr, "vigilctl: %s\n", vg_db_error(db));
        return 1;
    }
    int n = PQntuples(res);
    PQclear(res);
    if (n == 0) {
        fprintf(stderr, "vigilctl: no tenant %s\n", argv[0]);
        return 1;
    }
    printf("tenant %s: plan %s%s%s\n", argv[0], plan, limit ? ", workload limit " : "",
           limit ? limit : "");
    return 0;
}

int ctl_tenants(const char *database_url, int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: vigilctl tenants list | set-plan ...\n");
        return 2;
    }
    vg_db *db = vg_db_new(database_url, NULL);
    int rc = 1;
    if (vg_db_conn(db, 10000) == NULL) {
        fprintf(stderr, "vigilctl: database unreachable: %s\n", vg_db_error(db));
    } else if (strcmp(argv[0], "list") == 0) {
        rc = tenants_list(db);
    } else if (strcmp(argv[0], "set-plan") == 0) {
        rc = tenants_set_plan(db, argc - 1, argv + 1);
    } else {
        fprintf(stderr, "vigilctl: unknown tenants command \"%s\"\n", argv[0]);
        rc = 2;
    }
    vg_db_destroy(db);
    return rc;
}
