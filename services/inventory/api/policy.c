/* Generated least-privilege Istio AuthorizationPolicies: see policy.h. */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"

static char *dumps(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

static json_t *string_set_add(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (strcmp(json_string_value(v), s) == 0) {
            return arr;
        }
    }
    json_array_append_new(arr, json_string(s));
    return arr;
}

/* The policy object from the edges (rows: source, class, source_principal) and methods. */
json_t *api_policy_build(const char *service, PGresult *edges, PGresult *methods)
{
    char name[256], ns[256] = "";
    snprintf(name, sizeof name, "%s", service);
    char *dot = strchr(name, '.');
    if (dot != NULL) {
        snprintf(ns, sizeof ns, "%s", dot + 1);
        *dot = '\0';
    }
    json_t *principals = json_array(), *namespaces = json_array(), *ips = json_array();
    for (int i = 0; i < PQntuples(edges); i++) {
        const char *src = PQgetvalue(edges, i, 0);
        if (strcmp(PQgetvalue(edges, i, 1), "external") == 0) {
            string_set_add(principals,
                           "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account");
        } else if (!PQgetisnull(edges, i, 2)) {
            string_set_add(principals, PQgetvalue(edges, i, 2));
        } else if (strchr(src, '.') != NULL && strspn(src, "0123456789.") != strlen(src)) {
            string_set_add(namespaces, strchr(src, '.') + 1);
        } else if (strcmp(src, "unknown") != 0) {
            string_set_add(ips, src);
        }
    }
    json_t *verbs = json_array();
    for (int i = 0; i < PQntuples(methods); i++) {
        json_array_append_new(verbs, json_string(PQgetvalue(methods, i, 0)));
    }
    json_t *to = json_array_size(verbs) > 0
                     ? json_pack("[{s:{s:o}}]", "operation", "methods", verbs)
                     : (json_decref(verbs), NULL);
    json_t *rules = json_array();
    const char *keys[3] = {"principals", "namespaces", "ipBlocks"};
    json_t *sets[3] = {principals, namespaces, ips};
    for (int k = 0; k < 3; k++) {
        if (json_array_size(sets[k]) > 0) {
            json_t *rule = json_pack("{s:[{s:{s:O}}]}", "from", "source", keys[k], sets[k]);
            if (to != NULL) {
                json_object_set(rule, "to", to);
            }
            json_array_append_new(rules, rule);
        }
        json_decref(sets[k]);
    }
    json_decref(to);
    json_t *meta =
        json_pack("{s:s,s:{s:s,s:s}}", "name", name, "labels", "app.kubernetes.io/managed-by",
                  "vigil", "vigil.dev/generated", "observed-callers");
    char *pname = vg_asprintf("%s-observed-callers", name);
    json_object_set_new(meta, "name", json_string(pname));
    free(pname);
    if (ns[0] != '\0') {
        json_object_set_new(meta, "namespace", json_string(ns));
    }
    return json_pack("{s:s,s:s,s:o,s:{s:{s:{s:s}},s:s,s:o}}", "apiVersion", "security.istio.io/v1",
                     "kind", "AuthorizationPolicy", "metadata", meta, "spec", "selector",
                     "matchLabels", "app", name, "action", "ALLOW", "rules", rules);
}

int api_policy_update(vg_db *db, const char *tenant_id, const char *cluster_id, const char *service)
{
    const char *p[3] = {tenant_id, cluster_id, service};
    PGresult *edges = vg_db_exec(db,
                                 "SELECT source, class, source_principal FROM api_edges WHERE "
                                 "tenant_id = $1 AND cluster_id = $2 AND destination = $3 ORDER "
                                 "BY source",
                                 3, p);
    PGresult *methods = edges == NULL
                            ? NULL
                            : vg_db_exec(db,
                                         "SELECT DISTINCT method FROM api_endpoints "
                                         "WHERE tenant_id = $1 AND cluster_id = $2 AND "
                                         "service = $3 AND method <> 'CONNECT' ORDER BY 1",
                                         3, p);
    if (methods == NULL) {
        PQclear(edges);
        return -1;
    }
    json_t *policy = api_policy_build(service, edges, methods);
    char *pj = dumps(policy);
    char n[24];
    snprintf(n, sizeof n, "%d", PQntuples(edges));
    json_decref(policy);
    PQclear(edges);
    PQclear(methods);
    const char *q[5] = {tenant_id, cluster_id, service, pj, n};
    int rc = vg_db_cmd(
        db,
        "INSERT INTO api_policies (tenant_id, cluster_id, service, policy, callers) VALUES "
        "($1, $2, $3, $4::jsonb, $5) ON CONFLICT (tenant_id, cluster_id, service) DO "
        "UPDATE SET policy = EXCLUDED.policy, callers = EXCLUDED.callers, updated_at = "
        "now()",
        5, q);
    free(pj);
    return rc;
}
