/* The API inventory's finding.scope: see scope.h. The rules mirror store.c's
 * endpoint_findings and upsert_outbound, evaluated on the stored state. */
#include "scope.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"

static void add(json_t *fps, const char *tenant_id, const char *cluster_id, const api_rule *rule,
                const char *uid, const char *field)
{
    char fp[65];
    api_finding_fingerprint(tenant_id, cluster_id, rule->id, uid, field, fp);
    json_array_append_new(fps, json_string(fp));
}

static bool any_2xx(const char *status_codes)
{
    json_t *codes = json_loads(status_codes, 0, NULL);
    const char *code;
    json_t *n;
    bool yes = false;
    json_object_foreach(codes, code, n)
    {
        int c = atoi(code);
        yes = yes || (c >= 200 && c < 300);
    }
    json_decref(codes);
    return yes;
}

static int endpoints(vg_db *db, const char *const *p, json_t *fps)
{
    PGresult *res = vg_db_exec(
        db,
        "SELECT service || ' ' || method || ' ' || path_template, shadow, zombie, auth, class, "
        "status_codes::text, sensitive @> '[{\"where\": \"path\"}]' OR sensitive @> "
        "'[{\"where\": \"query\"}]', sensitive @> '[{\"where\": \"response\"}]' FROM "
        "api_endpoints WHERE tenant_id = $1 AND cluster_id = $2 AND method <> 'CONNECT'",
        2, p);
    if (res == NULL) {
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        const char *uid = PQgetvalue(res, i, 0);
        const char *cls = PQgetvalue(res, i, 4);
        if (PQgetvalue(res, i, 1)[0] == 't') {
            add(fps, p[0], p[1], &api_rule_shadow, uid, "path");
        }
        if (PQgetvalue(res, i, 2)[0] == 't') {
            add(fps, p[0], p[1], &api_rule_zombie, uid, "path");
        }
        if (strcmp(PQgetvalue(res, i, 3), "none") == 0 && strcmp(cls, "outbound") != 0 &&
            any_2xx(PQgetvalue(res, i, 5))) {
            add(fps, p[0], p[1],
                strcmp(cls, "external") == 0 ? &api_rule_unauth_external
                                             : &api_rule_unauth_internal,
                uid, "security");
        }
        if (PQgetvalue(res, i, 6)[0] == 't') {
            add(fps, p[0], p[1], &api_rule_sensitive_url, uid, "url");
        }
        if (PQgetvalue(res, i, 7)[0] == 't') {
            add(fps, p[0], p[1], &api_rule_sensitive_response, uid, "response");
        }
    }
    PQclear(res);
    return 0;
}

json_t *api_scope_fingerprints(vg_db *db, const char *tenant_id, const char *cluster_id)
{
    const char *p[2] = {tenant_id, cluster_id};
    json_t *fps = json_array();
    if (endpoints(db, p, fps) != 0) {
        json_decref(fps);
        return NULL;
    }
    PGresult *res = vg_db_exec(db,
                               "SELECT host, plaintext FROM api_outbound_hosts WHERE tenant_id = "
                               "$1 AND cluster_id = $2",
                               2, p);
    if (res == NULL) {
        json_decref(fps);
        return NULL;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        add(fps, tenant_id, cluster_id, &api_rule_third_party, PQgetvalue(res, i, 0), "host");
        if (PQgetvalue(res, i, 1)[0] == 't') {
            add(fps, tenant_id, cluster_id, &api_rule_plaintext, PQgetvalue(res, i, 0), "scheme");
        }
    }
    PQclear(res);
    return fps;
}
