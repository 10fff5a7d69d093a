/* The database side of one trace batch: see store.h. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "finding.h"
#include "policy.h"
#include "spec.h"
#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/util.h"

/* ---- small helpers ---- */

static int cmd(vg_db *db, const char *sql, int n, const char *const *params)
{
    return vg_db_cmd(db, sql, n, params);
}

static char *dumps(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void ulong_str(char out[24], unsigned long long v)
{
    snprintf(out, 24, "%llu", v);
}

/* ---- idempotency and the cluster ---- */

/* 1 = new batch, 0 = already applied or cluster gone, -1 = error. */
static int batch_claim(vg_db *db, api_store_job *job)
{
    const char *p[3] = {job->tenant_id, job->cluster_id, NULL};
    PGresult *res = vg_db_exec(db, "SELECT 1 FROM clusters WHERE tenant_id = $1 AND id = $2", 2, p);
    if (res == NULL) {
        return -1;
    }
    int rows = PQntuples(res);
    PQclear(res);
    if (rows == 0) {
        job->no_cluster = true;
        return 0;
    }
    static _Thread_local unsigned claims;
    if (++claims % 1000 == 1) {
        /* older than any redelivery the brokers' retention allows: forget them */
        const char *t[1] = {job->tenant_id};
        if (cmd(db,
                "DELETE FROM api_processed_batches WHERE tenant_id = $1 AND processed_at < "
                "now() - interval '30 days'",
                1, t) != 0) {
            return -1;
        }
    }
    char n[24];
    ulong_str(n, job->nrecs + job->rejected);
    const char *q[3] = {job->tenant_id, job->envelope_id, n};
    res = vg_db_exec(db,
                     "INSERT INTO api_processed_batches (tenant_id, envelope_id, records) "
                     "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1",
                     3, q);
    if (res == NULL) {
        return -1;
    }
    rows = PQntuples(res);
    PQclear(res);
    job->duplicate = rows == 0;
    return rows;
}

/* ---- attribution against the cluster model ---- */

typedef struct pod_info {
    char ip[64];
    char workload[256]; /* name.namespace */
    char ns[64];
    char principal[200];
    bool uncontrolled;
    bool gateway; /* an ingress gateway's pod: its calls come from outside */
} pod_info;

static const pod_info *pod_find(const pod_info *pods, int n, const char *ip)
{
    for (int i = 0; ip[0] != '\0' && i < n; i++) {
        if (strcmp(pods[i].ip, ip) == 0) {
            return &pods[i];
        }
    }
    return NULL;
}

static int load_pods(vg_db *db, api_store_job *job, pod_info **out, int *nout)
{
    json_t *ips = json_array();
    for (size_t i = 0; i < job->nrecs; i++) {
        if (job->recs[i].src_ip[0] != '\0') {
            json_array_append_new(ips, json_string(job->recs[i].src_ip));
        }
        if (job->recs[i].dst_ip[0] != '\0') {
            json_array_append_new(ips, json_string(job->recs[i].dst_ip));
        }
    }
    char *ipj = dumps(ips);
    json_decref(ips);
    const char *p[3] = {job->tenant_id, job->cluster_id, ipj};
    PGresult *res = vg_db_exec(
        db,
        "SELECT DISTINCT ON (o.summary->>'pod_ip') o.summary->>'pod_ip', coalesce(w.name, o.name),"
        " o.namespace, coalesce(w.status, 'controlled'), coalesce(o.summary->>'service_account',"
        " '') FROM cluster_objects o LEFT JOIN workloads w ON w.tenant_id = o.tenant_id AND "
        "w.cluster_id = o.cluster_id AND w.uid = o.workload_uid WHERE o.tenant_id = $1 AND "
        "o.cluster_id = $2 AND o.kind = 'Pod' AND o.gone_at IS NULL AND o.summary->>'pod_ip' IN "
        "(SELECT jsonb_array_elements_text($3::jsonb)) ORDER BY o.summary->>'pod_ip', "
        "o.last_seen DESC",
        3, p);
    free(ipj);
    if (res == NULL) {
        return -1;
    }
    int n = PQntuples(res);
    pod_info *pods = vg_calloc((size_t)n + 1, sizeof *pods);
    for (int i = 0; i < n; i++) {
        snprintf(pods[i].ip, sizeof pods[i].ip, "%s", PQgetvalue(res, i, 0));
        snprintf(pods[i].workload, sizeof pods[i].workload, "%s.%s", PQgetvalue(res, i, 1),
                 PQgetvalue(res, i, 2));
        snprintf(pods[i].ns, sizeof pods[i].ns, "%s", PQgetvalue(res, i, 2));
        pods[i].uncontrolled = strcmp(PQgetvalue(res, i, 3), "uncontrolled") == 0;
        pods[i].gateway = strstr(PQgetvalue(res, i, 1), "ingressgateway") != NULL ||
                          (strstr(PQgetvalue(res, i, 1), "gateway") != NULL &&
                           strcmp(pods[i].ns, "istio-system") == 0);
        const char *sa = PQgetvalue(res, i, 4);
        snprintf(pods[i].principal, sizeof pods[i].principal, "cluster.local/ns/%s/sa/%s",
                 pods[i].ns, sa[0] != '\0' ? sa : "default");
    }
    PQclear(res);
    *out = pods;
    *nout = n;
    return 0;
}

/* name.namespace of every uncontrolled workload of the cluster, as a JSON object set. */
static json_t *load_uncontrolled(vg_db *db, api_store_job *job)
{
    const char *p[2] = {job->tenant_id, job->cluster_id};
    PGresult *res = vg_db_exec(db,
                               "SELECT name || '.' || namespace FROM workloads WHERE tenant_id = "
                               "$1 AND cluster_id = $2 AND status = 'uncontrolled' AND gone_at "
                               "IS NULL",
                               2, p);
    if (res == NULL) {
        return NULL;
    }
    json_t *set = json_object();
    for (int i = 0; i < PQntuples(res); i++) {
        json_object_set_new(set, PQgetvalue(res, i, 0), json_true());
    }
    PQclear(res);
    return set;
}

/* Refines source/destination with the model and drops records of uncontrolled workloads
 * (compacting job->recs). */
static int attribute(vg_db *db, api_store_job *job)
{
    pod_info *pods = NULL;
    int npods = 0;
    if (load_pods(db, job, &pods, &npods) != 0) {
        return -1;
    }
    json_t *unc = load_uncontrolled(db, job);
    if (unc == NULL) {
        free(pods);
        return -1;
    }
    size_t w = 0;
    for (size_t i = 0; i < job->nrecs; i++) {
        api_record *rec = &job->recs[i];
        const pod_info *src = pod_find(pods, npods, rec->src_ip);
        const pod_info *dst = pod_find(pods, npods, rec->dst_ip);
        if (src != NULL && src->gateway && rec->cls == API_CLASS_INTERNAL) {
            rec->cls = API_CLASS_EXTERNAL; /* entered through an ingress gateway */
            snprintf(rec->source, sizeof rec->source, "external");
        } else if (src != NULL && rec->cls != API_CLASS_EXTERNAL) {
            snprintf(rec->source, sizeof rec->source, "%s", src->workload);
            snprintf(rec->src_ns, sizeof rec->src_ns, "%s", src->ns);
            snprintf(rec->src_principal, sizeof rec->src_principal, "%s", src->principal);
        }
        if (dst != NULL && rec->cls != API_CLASS_OUTBOUND &&
            (strchr(rec->service, '.') == NULL ||
             (rec->inbound && !api_host_in_cluster(rec->host)))) {
            snprintf(rec->service, sizeof rec->service, "%s", dst->workload);
        }
        bool drop = (src != NULL && src->uncontrolled) || (dst != NULL && dst->uncontrolled) ||
                    json_object_get(unc, rec->service) != NULL ||
                    json_object_get(unc, rec->source) != NULL;
        if (drop) {
            job->dropped++;
            continue;
        }
        if (w != i) {
            job->recs[w] = *rec;
        }
        w++;
    }
    job->nrecs = w;
    json_decref(unc);
    free(pods);
    return 0;
}

/* ---- path trees ---- */

static int load_trees(vg_db *db, api_store_job *job)
{
    json_t *names = json_array();
    json_t *seen = json_object();
    for (size_t i = 0; i < job->nrecs; i++) {
        const char *s = job->recs[i].service;
        if (job->recs[i].path != NULL && json_object_get(seen, s) == NULL) {
            json_object_set_new(seen, s, json_true());
            json_array_append_new(names, json_string(s));
        }
    }
    json_decref(seen);
    char *nj = dumps(names);
    json_decref(names);
    const char *p[3] = {job->tenant_id, job->cluster_id, nj};
    PGresult *res = vg_db_exec(db,
                               "SELECT service, tree::text FROM api_path_trees WHERE tenant_id = "
                               "$1 AND cluster_id = $2 AND service IN (SELECT "
                               "jsonb_array_elements_text($3::jsonb)) ORDER BY service FOR UPDATE",
                               3, p);
    free(nj);
    if (res == NULL) {
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *j = json_loads(PQgetvalue(res, i, 1), 0, NULL);
        api_tree *t = j != NULL ? api_tree_from_json(j) : NULL;
        json_decref(j);
        if (t == NULL) {
            vg_warn("api path tree unreadable, starting over", "service", PQgetvalue(res, i, 0));
        }
        api_batch_tree_put(job->batch, PQgetvalue(res, i, 0), t);
    }
    PQclear(res);
    return 0;
}

static int save_trees(vg_db *db, api_store_job *job)
{
    const char *service;
    api_tree *tree;
    for (size_t i = 0; api_batch_tree_at(job->batch, i, &service, &tree); i++) {
        json_t *j = api_tree_to_json(tree);
        char *tj = dumps(j);
        json_decref(j);
        const char *p[4] = {job->tenant_id, job->cluster_id, service, tj};
        int rc = cmd(db,
                     "INSERT INTO api_path_trees (tenant_id, cluster_id, service, tree) VALUES "
                     "($1, $2, $3, $4::jsonb) ON CONFLICT (tenant_id, cluster_id, service) DO "
                     "UPDATE SET tree = EXCLUDED.tree, updated_at = now()",
                     4, p);
        free(tj);
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

static int apply_repoints(vg_db *db, api_store_job *job)
{
    for (size_t i = 0; i < api_batch_repoints(job->batch); i++) {
        const api_repoint *rp = api_batch_repoint(job->batch, i);
        const char *p[5] = {job->tenant_id, job->cluster_id, rp->service, rp->from, rp->to};
        if (cmd(db, "SELECT api_endpoint_repoint($1, $2, $3, $4, $5)", 5, p) != 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- specs ---- */

typedef struct spec_set {
    api_spec **specs;
    size_t n;
} spec_set;

static int load_specs(vg_db *db, api_store_job *job, spec_set *set)
{
    const char *p[2] = {job->tenant_id, job->cluster_id};
    PGresult *res = vg_db_exec(db,
                               "SELECT id, service, to_jsonb(hosts)::text, document::text FROM "
                               "api_specs WHERE tenant_id = $1 AND cluster_id = $2 ORDER BY "
                               "uploaded_at DESC, id",
                               2, p);
    if (res == NULL) {
        return -1;
    }
    set->specs = vg_calloc((size_t)PQntuples(res) + 1, sizeof *set->specs);
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *hosts = json_loads(PQgetvalue(res, i, 2), JSON_DECODE_ANY, NULL);
        json_t *doc = json_loads(PQgetvalue(res, i, 3), 0, NULL);
        api_spec *s = api_spec_new(PQgetvalue(res, i, 0), doc,
                                   PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1), hosts);
        if (s != NULL) {
            set->specs[set->n++] = s;
        }
        json_decref(hosts);
        json_decref(doc);
    }
    PQclear(res);
    return 0;
}

static void specs_free(spec_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        api_spec_destroy(set->specs[i]);
    }
    free(set->specs);
}

/* ---- endpoints ---- */

/* Merges a {query, headers, request_body, responses} document into dst. */
static void schema_doc_merge(json_t *dst, const json_t *src)
{
    static const char *const maps[] = {"query", "headers", "responses"};
    for (size_t m = 0; m < 3; m++) {
        const json_t *sm = json_object_get(src, maps[m]);
        json_t *dm = json_object_get(dst, maps[m]);
        if (sm == NULL) {
            continue;
        }
        if (!json_is_object(dm)) {
            json_object_set_new(dst, maps[m], json_deep_copy(sm));
            continue;
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)sm, k, v)
        {
            json_t *d = json_object_get(dm, k);
            if (d == NULL) {
                json_object_set_new(dm, k, json_deep_copy(v));
            } else {
                api_schema_merge(d, v);
            }
        }
    }
    const json_t *rb = json_object_get(src, "request_body");
    json_t *drb = json_object_get(dst, "request_body");
    if (rb != NULL && drb == NULL) {
        json_object_set_new(dst, "request_body", json_deep_copy(rb));
    } else if (rb != NULL) {
        api_schema_merge(drb, rb);
    }
}

static json_t *status_json(const api_endpoint_agg *ep)
{
    json_t *s = json_object();
    for (int i = 0; i < ep->nstatus; i++) {
        char code[16];
        snprintf(code, sizeof code, "%d", ep->status[i]);
        json_object_set_new(s, code, json_integer((json_int_t)ep->status_n[i]));
    }
    return s;
}

static bool has_2xx(const api_endpoint_agg *ep)
{
    for (int i = 0; i < ep->nstatus; i++) {
        if (ep->status[i] >= 200 && ep->status[i] < 300) {
            return true;
        }
    }
    return false;
}

static json_t *sens_kinds(unsigned bits)
{
    json_t *a = json_array();
    for (int k = 0; k < API_SENS_KINDS; k++) {
        if (bits & (1u << k)) {
            json_array_append_new(a, json_string(api_sensitive_name(1u << k)));
        }
    }
    return a;
}

static void endpoint_findings(api_store_job *job, const api_endpoint_agg *ep, const char *auth,
                              const api_spec_verdict *v)
{
    char uid[API_TEMPLATE_MAX + 300];
    snprintf(uid, sizeof uid, "%s %s %s", ep->service, ep->method, ep->tmpl);
    const char *T = job->tenant_id, *C = job->cluster_id;
#define EP_OBJ api_finding_endpoint_object(ep->service, ep->method, ep->tmpl, ep->host)
    if (v->shadow) {
        json_array_append_new(
            job->findings,
            api_finding_new(T, C, &api_rule_shadow, EP_OBJ, uid, "path",
                            json_pack("{s:s,s:s}", "spec_id", v->spec_id, "reason", v->reason)));
    }
    if (v->zombie) {
        json_array_append_new(
            job->findings,
            api_finding_new(T, C, &api_rule_zombie, EP_OBJ, uid, "path",
                            json_pack("{s:s,s:s,s:s,s:I}", "spec_id", v->spec_id, "operation",
                                      v->operation ? v->operation : "", "reason", v->reason,
                                      "requests_in_batch", (json_int_t)ep->count)));
    }
    if (strcmp(auth, "none") == 0 && has_2xx(ep) && ep->cls != API_CLASS_OUTBOUND) {
        const api_rule *r =
            ep->cls == API_CLASS_EXTERNAL ? &api_rule_unauth_external : &api_rule_unauth_internal;
        json_array_append_new(
            job->findings,
            api_finding_new(T, C, r, EP_OBJ, uid, "security",
                            json_pack("{s:s,s:s,s:o}", "auth", "none", "class",
                                      api_class_name(ep->cls), "status_codes", status_json(ep))));
    }
    const unsigned url = ep->sens_path | ep->sens_query;
    if (url != 0) {
        json_array_append_new(
            job->findings, api_finding_new(T, C, &api_rule_sensitive_url, EP_OBJ, uid, "url",
                                           json_pack("{s:o,s:s}", "kinds", sens_kinds(url), "where",
                                                     ep->sens_path ? "path" : "query")));
    }
    if (ep->sens_resp != 0) {
        json_array_append_new(
            job->findings,
            api_finding_new(T, C, &api_rule_sensitive_response, EP_OBJ, uid, "response",
                            json_pack("{s:o}", "kinds", sens_kinds(ep->sens_resp))));
    }
#undef EP_OBJ
}

typedef struct ep_row {
    char id[40];
    json_t *schema;
    json_t *sensitive;
    char auth[16];
    bool shadow, zombie;
} ep_row;

/* True when a merge of this batch re-pointed rows to the endpoint's template (its path
 * changed, or earlier rows were folded into it). */
static bool repoint_target(api_store_job *job, const api_endpoint_agg *ep)
{
    for (size_t i = 0; i < api_batch_repoints(job->batch); i++) {
        const api_repoint *rp = api_batch_repoint(job->batch, i);
        if (strcmp(rp->to, ep->tmpl) == 0 && strcmp(rp->service, ep->service) == 0) {
            return true;
        }
    }
    return false;
}

/* 1 = found (row filled), 0 = absent, -1 = error. */
static int endpoint_lock(vg_db *db, api_store_job *job, const api_endpoint_agg *ep, ep_row *row)
{
    const char *p[5] = {job->tenant_id, job->cluster_id, ep->service, ep->method, ep->tmpl};
    PGresult *res = vg_db_exec(db,
                               "SELECT id, schema::text, sensitive::text, auth, shadow, zombie "
                               "FROM api_endpoints WHERE tenant_id = $1 AND cluster_id = $2 AND "
                               "service = $3 AND method = $4 AND path_template = $5 FOR UPDATE",
                               5, p);
    if (res == NULL) {
        return -1;
    }
    int found = PQntuples(res) > 0;
    if (found) {
        snprintf(row->id, sizeof row->id, "%s", PQgetvalue(res, 0, 0));
        row->schema = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
        row->sensitive = json_loads(PQgetvalue(res, 0, 2), 0, NULL);
        snprintf(row->auth, sizeof row->auth, "%s", PQgetvalue(res, 0, 3));
        row->shadow = PQgetvalue(res, 0, 4)[0] == 't';
        row->zombie = PQgetvalue(res, 0, 5)[0] == 't';
        if (row->schema == NULL) {
            row->schema = json_object();
        }
        if (!json_is_array(row->sensitive)) {
            json_decref(row->sensitive);
            row->sensitive = json_array();
        }
    }
    PQclear(res);
    return found;
}

/* Adds the entries of add missing from set; returns how many were added. */
static int sens_union(json_t *set, const json_t *add)
{
    int added = 0;
    size_t i, j;
    const json_t *a, *s;
    json_array_foreach(add, i, a)
    {
        bool have = false;
        json_array_foreach(set, j, s)
        {
            have = have || json_equal((json_t *)s, (json_t *)a);
        }
        if (!have) {
            json_array_append(set, (json_t *)a);
            added++;
        }
    }
    return added;
}

static int endpoint_write(vg_db *db, api_store_job *job, const api_endpoint_agg *ep, const char *id,
                          const char *auth, const json_t *schema, const json_t *sens,
                          const api_spec_verdict *v, char out_id[40])
{
    char count[24], lat[32];
    ulong_str(count, ep->count);
    snprintf(lat, sizeof lat, "%.3f", ep->latency_sum_ms);
    json_t *status = status_json(ep);
    char *sj = dumps(status), *schj = dumps(schema), *sensj = dumps(sens);
    json_decref(status);
    const char *p[20] = {job->tenant_id,
                         job->cluster_id,
                         ep->service,
                         ep->method,
                         ep->tmpl,
                         ep->host,
                         api_class_name(ep->cls),
                         ep->tls ? "https" : "http",
                         auth,
                         v->shadow ? "true" : "false",
                         v->zombie ? "true" : "false",
                         count,
                         sj,
                         schj,
                         sensj,
                         ep->first_seen[0] ? ep->first_seen : job->received_at,
                         ep->last_seen[0] ? ep->last_seen : job->received_at,
                         lat,
                         v->spec_id,
                         v->operation};
    const char *sql =
        id == NULL
            ? "INSERT INTO api_endpoints (tenant_id, cluster_id, service, method, path_template, "
              "host, class, scheme, auth, shadow, zombie, request_count, status_codes, schema, "
              "sensitive, first_seen, last_seen, latency_ms_sum, spec_id, spec_operation) VALUES "
              "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14::jsonb, "
              "$15::jsonb, coalesce($16::timestamptz, now()), coalesce($17::timestamptz, now()), "
              "$18, $19, $20) RETURNING id"
            : "UPDATE api_endpoints SET host = $6, class = CASE WHEN class = 'external' AND $7 = "
              "'internal' THEN class ELSE $7 END, scheme = $8, auth = $9, shadow = "
              "$10, zombie = $11, request_count = request_count + $12, status_codes = "
              "api_counts_add(status_codes, $13::jsonb), schema = $14::jsonb, sensitive = "
              "$15::jsonb, first_seen = least(first_seen, coalesce($16::timestamptz, now())), "
              "last_seen = greatest(last_seen, coalesce($17::timestamptz, now())), "
              "latency_ms_sum = latency_ms_sum + $18, spec_id = $19, spec_operation = $20 "
              "WHERE id = $21 AND tenant_id = $1 AND cluster_id = $2 AND service = $3 AND "
              "method = $4 AND path_template = $5 RETURNING id";
    const char *params[21];
    memcpy(params, p, sizeof p);
    params[20] = id;
    PGresult *res = vg_db_exec(db, sql, id == NULL ? 20 : 21, params);
    free(sj);
    free(schj);
    free(sensj);
    if (res == NULL) {
        return -1;
    }
    snprintf(out_id, 40, "%s", PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return 0;
}

static void endpoint_event(api_store_job *job, const api_endpoint_agg *ep, const char *id,
                           bool is_new)
{
    json_array_append_new(job->events,
                          json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "api_id", id, "change",
                                    is_new ? "new" : "changed", "service", ep->service, "host",
                                    ep->host, "class", api_class_name(ep->cls), "method",
                                    ep->method, "path_template", ep->tmpl));
}

static int upsert_endpoint(vg_db *db, api_store_job *job, const api_endpoint_agg *ep,
                           const spec_set *specs)
{
    api_spec_verdict v =
        api_spec_judge(specs->specs, specs->n, ep->service, ep->host, ep->method, ep->tmpl);
    json_t *schema = api_endpoint_schema(ep);
    json_t *sens = api_endpoint_sensitive(ep);
    ep_row row = {0};
    int found = endpoint_lock(db, job, ep, &row);
    int rc = -1;
    const char *auth = ep->auth;
    bool changed = true;
    if (found < 0) {
        goto out;
    }
    if (found) {
        json_t *merged = json_deep_copy(row.schema);
        schema_doc_merge(merged, schema);
        auth = strcmp(ep->auth, "unknown") != 0 ? ep->auth : row.auth;
        int grew = sens_union(row.sensitive, sens);
        changed = !json_equal(merged, row.schema) || strcmp(auth, row.auth) != 0 ||
                  row.shadow != v.shadow || row.zombie != v.zombie || grew > 0 ||
                  repoint_target(job, ep);
        json_decref(schema);
        schema = merged;
        json_decref(sens);
        sens = json_incref(row.sensitive);
    }
    char id[40];
    if (endpoint_write(db, job, ep, found ? row.id : NULL, auth, schema, sens, &v, id) != 0) {
        goto out;
    }
    if (changed) {
        endpoint_event(job, ep, id, !found);
        endpoint_findings(job, ep, auth, &v);
    }
    rc = 0;
out:
    json_decref(schema);
    json_decref(sens);
    json_decref(row.schema);
    json_decref(row.sensitive);
    return rc;
}

/* ---- edges and outbound hosts ---- */

static json_t *edge_json(const api_store_job *job, const api_edge_agg *e)
{
    json_t *hist = json_array();
    for (int i = 0; i < API_HIST_BUCKETS; i++) {
        json_array_append_new(hist, json_integer((json_int_t)e->hist[i]));
    }
    const char *first = e->first_seen[0] ? e->first_seen : job->received_at;
    const char *last = e->last_seen[0] ? e->last_seen : job->received_at;
    return json_pack("{s:s,s:s,s:s,s:I,s:I,s:o,s:s?,s:s?,s:s?}", "source", e->source, "destination",
                     e->destination, "class", api_class_name(e->cls), "calls", (json_int_t)e->calls,
                     "errors", (json_int_t)e->errors, "hist", hist, "first_seen", first,
                     "last_seen", last, "principal", e->principal[0] ? e->principal : NULL);
}

/* Every edge of the batch in one statement. */
static int upsert_edges(vg_db *db, api_store_job *job)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < api_batch_edges(job->batch); i++) {
        json_array_append_new(rows, edge_json(job, api_batch_edge(job->batch, i)));
    }
    char *rj = dumps(rows);
    json_decref(rows);
    const char *p[3] = {job->tenant_id, job->cluster_id, rj};
    int rc = cmd(
        db,
        "INSERT INTO api_edges (tenant_id, cluster_id, source, destination, class, calls, errors, "
        "latency_hist, latency_ms, first_seen, last_seen, source_principal) SELECT $1, $2, "
        "x.source, x.destination, x.class, x.calls, x.errors, h.a, api_hist_percentiles(h.a), "
        "coalesce(x.first_seen, now()), coalesce(x.last_seen, now()), x.principal FROM "
        "jsonb_to_recordset($3::jsonb) AS x(source text, destination text, class text, calls "
        "bigint, errors bigint, hist jsonb, first_seen timestamptz, last_seen timestamptz, "
        "principal text) CROSS JOIN LATERAL (SELECT array_agg(v::bigint ORDER BY n) AS a FROM "
        "jsonb_array_elements_text(x.hist) WITH ORDINALITY AS e(v, n)) AS h ORDER BY "
        "x.source, x.destination ON CONFLICT (tenant_id, cluster_id, source, destination) DO "
        "UPDATE SET class = EXCLUDED.class, calls = api_edges.calls + EXCLUDED.calls, errors = "
        "api_edges.errors + EXCLUDED.errors, latency_hist = api_hist_add(api_edges.latency_hist, "
        "EXCLUDED.latency_hist), latency_ms = api_hist_percentiles(api_hist_add("
        "api_edges.latency_hist, EXCLUDED.latency_hist)), first_seen = "
        "least(api_edges.first_seen, EXCLUDED.first_seen), last_seen = "
        "greatest(api_edges.last_seen, EXCLUDED.last_seen), source_principal = "
        "coalesce(EXCLUDED.source_principal, api_edges.source_principal)",
        3, p);
    free(rj);
    return rc;
}

/* True when some HTTP call of the batch to host went out without TLS. */
static bool host_plaintext(api_batch *b, const char *host)
{
    for (size_t i = 0; i < api_batch_endpoints(b); i++) {
        const api_endpoint_agg *ep = api_batch_endpoint(b, i);
        if (ep->cls == API_CLASS_OUTBOUND && strcmp(ep->service, host) == 0 && !ep->tls &&
            strcmp(ep->method, "CONNECT") != 0) {
            return true;
        }
    }
    return false;
}

static int upsert_outbound(vg_db *db, api_store_job *job, const api_edge_agg *e)
{
    char calls[24];
    ulong_str(calls, e->calls);
    bool plain = host_plaintext(job->batch, e->destination);
    const char *p[6] = {job->tenant_id, job->cluster_id,          e->destination,
                        e->source,      plain ? "true" : "false", calls};
    PGresult *res = vg_db_exec(
        db,
        "WITH old AS (SELECT callers, plaintext FROM api_outbound_hosts WHERE tenant_id = $1 AND "
        "cluster_id = $2 AND host = $3 FOR UPDATE) INSERT INTO api_outbound_hosts (tenant_id, "
        "cluster_id, host, callers, plaintext, calls) VALUES ($1, $2, $3, ARRAY[$4], $5, $6) ON "
        "CONFLICT (tenant_id, cluster_id, host) DO UPDATE SET callers = (SELECT "
        "array_agg(DISTINCT c ORDER BY c) FROM unnest(api_outbound_hosts.callers || "
        "EXCLUDED.callers) AS c), plaintext = api_outbound_hosts.plaintext OR "
        "EXCLUDED.plaintext, calls = api_outbound_hosts.calls + EXCLUDED.calls, last_seen = "
        "now() RETURNING array_to_json(callers)::text, plaintext, coalesce((SELECT callers FROM "
        "old), '{}') <> callers, coalesce((SELECT plaintext FROM old), false)",
        6, p);
    if (res == NULL) {
        return -1;
    }
    json_t *callers = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    bool plaintext = PQgetvalue(res, 0, 1)[0] == 't';
    bool callers_changed = PQgetvalue(res, 0, 2)[0] == 't';
    bool was_plain = PQgetvalue(res, 0, 3)[0] == 't';
    PQclear(res);
    json_t *obj = json_pack("{s:s}", "host", e->destination);
    if (callers_changed) {
        json_array_append_new(
            job->findings, api_finding_new(job->tenant_id, job->cluster_id, &api_rule_third_party,
                                           json_incref(obj), e->destination, "host",
                                           json_pack("{s:O}", "callers", callers)));
    }
    if (plaintext && (!was_plain || callers_changed)) {
        json_array_append_new(
            job->findings,
            api_finding_new(job->tenant_id, job->cluster_id, &api_rule_plaintext, json_incref(obj),
                            e->destination, "scheme",
                            json_pack("{s:s,s:O}", "scheme", "http", "callers", callers)));
    }
    json_decref(obj);
    json_decref(callers);
    return 0;
}

/* ---- OpenAPI documents and counters ---- */

static int update_openapi(vg_db *db, api_store_job *job, const char *service)
{
    const char *p[3] = {job->tenant_id, job->cluster_id, service};
    PGresult *res = vg_db_exec(
        db,
        "SELECT coalesce(jsonb_agg(jsonb_build_object('method', method, 'path_template', "
        "path_template, 'schema', schema, 'auth', auth, 'status_codes', status_codes, 'scheme', "
        "scheme, 'host', host) ORDER BY path_template, method), '[]')::text FROM api_endpoints "
        "WHERE tenant_id = $1 AND cluster_id = $2 AND service = $3",
        3, p);
    if (res == NULL) {
        return -1;
    }
    json_t *eps = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    PQclear(res);
    json_t *doc = api_openapi_build(service, eps);
    json_decref(eps);
    char *dj = dumps(doc);
    json_decref(doc);
    const char *q[4] = {job->tenant_id, job->cluster_id, service, dj};
    int rc = cmd(db,
                 "INSERT INTO api_openapi_docs (tenant_id, cluster_id, service, document) VALUES "
                 "($1, $2, $3, $4::jsonb) ON CONFLICT (tenant_id, cluster_id, service) DO UPDATE "
                 "SET document = EXCLUDED.document, updated_at = now()",
                 4, q);
    free(dj);
    return rc;
}

static int update_counters(vg_db *db, api_store_job *job)
{
    char acc[24], rej[24], drop[24];
    ulong_str(acc, job->nrecs);
    ulong_str(rej, job->rejected);
    ulong_str(drop, job->dropped);
    const char *p[5] = {job->tenant_id, job->cluster_id, acc, rej, drop};
    return cmd(db,
               "INSERT INTO api_trace_counters (tenant_id, cluster_id, accepted, rejected, "
               "dropped_uncontrolled) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, "
               "cluster_id) DO UPDATE SET accepted = api_trace_counters.accepted + "
               "EXCLUDED.accepted, rejected = api_trace_counters.rejected + EXCLUDED.rejected, "
               "dropped_uncontrolled = api_trace_counters.dropped_uncontrolled + "
               "EXCLUDED.dropped_uncontrolled, updated_at = now()",
               5, p);
}

/* ---- the batch ---- */

static int write_endpoints(vg_db *db, api_store_job *job)
{
    spec_set specs = {0};
    if (api_batch_endpoints(job->batch) > 0 && load_specs(db, job, &specs) != 0) {
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < api_batch_endpoints(job->batch); i++) {
        rc = upsert_endpoint(db, job, api_batch_endpoint(job->batch, i), &specs);
    }
    specs_free(&specs);
    return rc;
}

static int write_edges(vg_db *db, api_store_job *job)
{
    json_t *dests = json_object();
    int rc = api_batch_edges(job->batch) > 0 ? upsert_edges(db, job) : 0;
    for (size_t i = 0; rc == 0 && i < api_batch_edges(job->batch); i++) {
        const api_edge_agg *e = api_batch_edge(job->batch, i);
        if (e->cls == API_CLASS_OUTBOUND) {
            rc = upsert_outbound(db, job, e);
        } else {
            json_object_set_new(dests, e->destination, json_true());
        }
    }
    const char *dest;
    json_t *v;
    json_object_foreach(dests, dest, v)
    {
        rc = rc == 0 ? api_policy_update(db, job->tenant_id, job->cluster_id, dest) : rc;
    }
    json_decref(dests);
    return rc;
}

static int write_docs(vg_db *db, api_store_job *job)
{
    const char *service;
    api_tree *tree;
    for (size_t i = 0; api_batch_tree_at(job->batch, i, &service, &tree); i++) {
        if (update_openapi(db, job, service) != 0) {
            return -1;
        }
    }
    return 0;
}

int api_store_apply(vg_db *db, api_store_job *job)
{
    job->duplicate = job->no_cluster = false;
    job->dropped = 0;
    api_batch_destroy(job->batch);
    job->batch = api_batch_new();
    json_decref(job->events);
    json_decref(job->findings);
    job->events = json_array();
    job->findings = json_array();
    int claimed = batch_claim(db, job);
    if (claimed <= 0) {
        return claimed;
    }
    int64_t t[8];
    t[0] = vg_now_ms();
    if (attribute(db, job) != 0 || load_trees(db, job) != 0) {
        return -1;
    }
    t[1] = vg_now_ms();
    for (size_t i = 0; i < job->nrecs; i++) {
        const api_record *rec = &job->recs[i];
        api_batch_add(job->batch, rec, rec->start_time ? rec->start_time : job->received_at);
    }
    t[2] = vg_now_ms();
    if (save_trees(db, job) != 0 || apply_repoints(db, job) != 0) {
        return -1;
    }
    t[3] = vg_now_ms();
    if (write_endpoints(db, job) != 0) {
        return -1;
    }
    t[4] = vg_now_ms();
    if (write_edges(db, job) != 0) {
        return -1;
    }
    t[5] = vg_now_ms();
    if (write_docs(db, job) != 0 || update_counters(db, job) != 0) {
        return -1;
    }
    t[6] = vg_now_ms();
    if (vg_log_threshold <= VG_LOG_DEBUG) {
        char stages[160];
        snprintf(stages, sizeof stages,
                 "model+trees %lld, learn %lld, trees+repoints %lld, endpoints %lld, edges %lld, "
                 "docs %lld",
                 (long long)(t[1] - t[0]), (long long)(t[2] - t[1]), (long long)(t[3] - t[2]),
                 (long long)(t[4] - t[3]), (long long)(t[5] - t[4]), (long long)(t[6] - t[5]));
        vg_debug("trace batch stages (ms)", "stages", stages);
    }
    return 0;
}

void api_store_job_clear(api_store_job *job)
{
    api_batch_destroy(job->batch);
    json_decref(job->events);
    json_decref(job->findings);
    job->batch = NULL;
    job->events = job->findings = NULL;
}
