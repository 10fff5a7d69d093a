/* The model in PostgreSQL: workloads (with admission), objects, RBAC subjects, plan state. */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit.h"
#include "kobj.h"
#include "vigil/alloc.h"
#include "vigil/log.h"

const char *inv_wl_status_name(inv_wl_status s)
{
    switch (s) {
    case INV_WL_CONTROLLED:
        return "controlled";
    case INV_WL_UNCONTROLLED:
        return "uncontrolled";
    default:
        return "excluded";
    }
}

static inv_wl_status status_parse(const char *s)
{
    if (strcmp(s, "controlled") == 0) {
        return INV_WL_CONTROLLED;
    }
    return strcmp(s, "uncontrolled") == 0 ? INV_WL_UNCONTROLLED : INV_WL_EXCLUDED;
}

/* The tenant's row lock serializes admission across its clusters' snapshots. NO KEY UPDATE,
 * not UPDATE: the foreign keys of the rows a snapshot inserts take KEY SHARE on the tenant,
 * which UPDATE would conflict with (two snapshots would deadlock). */
static int lock_tenant(vg_db *db, inv_apply *a)
{
    const char *p[] = {a->tenant_id};
    PGresult *res = vg_db_exec(
        db, "SELECT plan, workload_limit FROM tenants WHERE id = $1 FOR NO KEY UPDATE", 1, p);
    if (res == NULL || PQntuples(res) != 1) {
        PQclear(res);
        return -1;
    }
    a->limit =
        inv_plan_limit(PQgetvalue(res, 0, 0), PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1),
                       a->free_workloads);
    PQclear(res);
    return 0;
}

/* The tenant's rows and the model's workloads as admission entries: rows first (this
 * cluster's rows matched to model workloads by uid), then new model workloads.
 * wl_entry[i] is the entry of model workload i. */
static inv_admit_entry *build_entries(inv_apply *a, PGresult *rows, size_t *n, size_t *wl_entry,
                                      int64_t *next_seq)
{
    size_t nrows = (size_t)PQntuples(rows);
    inv_admit_entry *e = vg_calloc(nrows + a->m->nworkloads + 1, sizeof *e);
    json_t *mine = json_object(); /* uid -> row index, this cluster */
    *next_seq = 1;
    for (size_t r = 0; r < nrows; r++) {
        e[r].seq =
            PQgetisnull(rows, (int)r, 2) ? 0 : strtoll(PQgetvalue(rows, (int)r, 2), NULL, 10);
        e[r].status = status_parse(PQgetvalue(rows, (int)r, 3));
        e[r].excluded = e[r].status == INV_WL_EXCLUDED;
        e[r].gone = PQgetvalue(rows, (int)r, 4)[0] == 't';
        if (e[r].seq >= *next_seq) {
            *next_seq = e[r].seq + 1;
        }
        if (strcmp(PQgetvalue(rows, (int)r, 0), a->cluster_id) == 0) {
            e[r].gone = true; /* until the model shows it */
            json_object_set_new(mine, PQgetvalue(rows, (int)r, 1), json_integer((json_int_t)r));
        }
    }
    size_t k = nrows;
    for (size_t i = 0; i < a->m->nworkloads; i++) {
        const inv_workload *wl = &a->m->workloads[i];
        json_t *at = json_object_get(mine, wl->uid);
        size_t idx = at != NULL ? (size_t)json_integer_value(at) : k++;
        e[idx].gone = false;
        e[idx].excluded = wl->status == INV_WL_EXCLUDED;
        if (e[idx].excluded) {
            e[idx].seq = 0;
        }
        wl_entry[i] = idx;
    }
    json_decref(mine);
    *n = k;
    return e;
}

static json_t *workload_rows(const inv_model *m, const inv_admit_entry *e, const size_t *wl_entry)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < m->nworkloads; i++) {
        const inv_workload *wl = &m->workloads[i];
        const inv_admit_entry *x = &e[wl_entry[i]];
        json_t *labels =
            json_is_object(wl->pod_labels) ? json_incref(wl->pod_labels) : json_object();
        json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:O, s:o}", "uid", wl->uid,
                                "kind", wl->kind, "namespace", wl->namespace, "name", wl->name,
                                "status", inv_wl_status_name(x->status), "pods", wl->pods, "sa",
                                wl->service_account, "exposure", wl->exposure, "labels", labels);
        json_object_set_new(row, "seq", x->seq > 0 ? json_integer(x->seq) : json_null());
        json_array_append_new(rows, row);
    }
    return rows;
}

/* Status changes of the other clusters' live rows (promotions and demotions). */
static json_t *other_rows(inv_apply *a, PGresult *rows, const inv_admit_entry *e)
{
    json_t *out = json_array();
    for (int r = 0; r < PQntuples(rows); r++) {
        if (strcmp(PQgetvalue(rows, r, 0), a->cluster_id) == 0 || e[r].gone ||
            strcmp(inv_wl_status_name(e[r].status), PQgetvalue(rows, r, 3)) == 0) {
            continue;
        }
        json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "cluster_id",
                                             PQgetvalue(rows, r, 0), "uid", PQgetvalue(rows, r, 1),
                                             "status", inv_wl_status_name(e[r].status)));
    }
    return out;
}

static const char sql_upsert_workloads[] =
    "INSERT INTO workloads (tenant_id, cluster_id, uid, kind, namespace, name, status, "
    "admitted_seq, pods, service_account, exposure, labels) "
    "SELECT $1, $2, x.uid, x.kind, x.namespace, x.name, x.status, x.seq, x.pods, x.sa, "
    "x.exposure, x.labels FROM jsonb_to_recordset($3::jsonb) AS x(uid text, kind text, "
    "namespace text, name text, status text, seq bigint, pods int, sa text, exposure jsonb, "
    "labels jsonb) "
    "ON CONFLICT (tenant_id, cluster_id, uid) DO UPDATE SET kind = EXCLUDED.kind, "
    "namespace = EXCLUDED.namespace, name = EXCLUDED.name, status = EXCLUDED.status, "
    "admitted_seq = EXCLUDED.admitted_seq, pods = EXCLUDED.pods, "
    "service_account = EXCLUDED.service_account, exposure = EXCLUDED.exposure, "
    "labels = EXCLUDED.labels, last_seen = now(), gone_at = NULL";

static int write_workloads(vg_db *db, inv_apply *a, json_t *mine, json_t *others)
{
    char *mine_s = json_dumps(mine, JSON_COMPACT);
    char *others_s = json_dumps(others, JSON_COMPACT);
    const char *p[] = {a->tenant_id, a->cluster_id, mine_s};
    const char *q[] = {a->tenant_id, others_s};
    int rc = vg_db_cmd(db, sql_upsert_workloads, 3, p);
    if (rc == 0) {
        rc = vg_db_cmd(db,
                       "UPDATE workloads SET gone_at = now(), pods = 0 WHERE tenant_id = $1 "
                       "AND cluster_id = $2 AND gone_at IS NULL AND last_seen < now()",
                       2, p);
    }
    if (rc == 0 && json_array_size(others) > 0) {
        rc =
            vg_db_cmd(db,
                      "UPDATE workloads w SET status = x.status FROM jsonb_to_recordset($2::jsonb) "
                      "AS x(cluster_id uuid, uid text, status text) WHERE w.tenant_id = $1 AND "
                      "w.cluster_id = x.cluster_id AND w.uid = x.uid",
                      2, q);
    }
    free(mine_s);
    free(others_s);
    return rc;
}

int inv_store_workloads(vg_db *db, inv_apply *a)
{
    if (lock_tenant(db, a) != 0) {
        return -1;
    }
    const char *p[] = {a->tenant_id};
    PGresult *rows = vg_db_exec(db,
                                "SELECT cluster_id, uid, admitted_seq, status, gone_at IS NOT NULL "
                                "FROM workloads WHERE tenant_id = $1",
                                1, p);
    if (rows == NULL) {
        return -1;
    }
    size_t n = 0;
    int64_t next_seq = 1;
    size_t *wl_entry = vg_calloc(a->m->nworkloads + 1, sizeof *wl_entry);
    inv_admit_entry *e = build_entries(a, rows, &n, wl_entry, &next_seq);
    a->uncontrolled = inv_admit(e, n, a->limit, &next_seq);
    a->controlled = 0;
    for (size_t i = 0; i < n; i++) {
        a->controlled += !e[i].gone && e[i].status == INV_WL_CONTROLLED ? 1 : 0;
    }
    for (size_t i = 0; i < a->m->nworkloads; i++) {
        a->m->workloads[i].status = e[wl_entry[i]].status;
        a->m->workloads[i].seq = e[wl_entry[i]].seq;
    }
    json_t *mine = workload_rows(a->m, e, wl_entry);
    json_t *others = other_rows(a, rows, e);
    int rc = write_workloads(db, a, mine, others);
    json_decref(mine);
    json_decref(others);
    PQclear(rows);
    free(e);
    free(wl_entry);
    return rc;
}

/* The lean summary kept per object: what the rules and the views need, never Secret data
 * nor ConfigMap values. */
static json_t *object_summary(inv_resource r, json_t *obj)
{
    json_t *labels = kobj_get(obj, "metadata.labels");
    json_t *s =
        json_pack("{s:o}", "labels", json_is_object(labels) ? json_incref(labels) : json_object());
    switch (r) {
    case INV_R_PODS:
        json_object_set_new(s, "node", json_string(kobj_str0(obj, "spec.nodeName")));
        json_object_set_new(s, "phase", json_string(kobj_str0(obj, "status.phase")));
        json_object_set_new(s, "service_account",
                            json_string(kobj_str0(obj, "spec.serviceAccountName")));
        json_object_set_new(s, "pod_ip", json_string(kobj_str0(obj, "status.podIP")));
        break;
    case INV_R_CONFIGMAPS: {
        json_t *keys = json_array();
        const char *key;
        json_t *v;
        json_object_foreach(kobj_get(obj, "data"), key, v)
        {
            json_array_append_new(keys, json_string(key));
        }
        json_object_set_new(s, "keys", keys);
        break;
    }
    case INV_R_ROLES:
    case INV_R_CLUSTERROLES:
        json_object_set(s, "rules", kobj_get(obj, "rules") ? kobj_get(obj, "rules") : json_null());
        break;
    case INV_R_ROLEBINDINGS:
    case INV_R_CLUSTERROLEBINDINGS:
        json_object_set(s, "roleRef",
                        kobj_get(obj, "roleRef") ? kobj_get(obj, "roleRef") : json_null());
        json_object_set(s, "subjects",
                        kobj_get(obj, "subjects") ? kobj_get(obj, "subjects") : json_null());
        break;
    case INV_R_SERVICEACCOUNTS:
        json_object_set(s, "automountServiceAccountToken",
                        kobj_get(obj, "automountServiceAccountToken")
                            ? kobj_get(obj, "automountServiceAccountToken")
                            : json_null());
        break;
    case INV_R_NAMESPACES:
        break;
    default: /* workload owners, services, ingresses, network policies, Istio: the spec */
        json_object_set(s, "spec", kobj_get(obj, "spec") ? kobj_get(obj, "spec") : json_null());
        break;
    }
    return s;
}

static json_t *object_rows(const inv_model *m)
{
    json_t *rows = json_array();
    for (int r = 0; r < INV_R_COUNT; r++) {
        size_t i;
        json_t *obj;
        json_array_foreach(m->items[r], i, obj)
        {
            const char *uid = kobj_str(obj, "metadata.uid");
            if (uid == NULL || uid[0] == '\0') {
                continue;
            }
            json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:o}", "kind", inv_resource_kind(r),
                                    "uid", uid, "namespace", kobj_str0(obj, "metadata.namespace"),
                                    "name", kobj_str0(obj, "metadata.name"), "summary",
                                    object_summary((inv_resource)r, obj));
            long w = r == INV_R_PODS ? inv_model_pod_workload(m, uid) : -1;
            if (w >= 0) {
                json_object_set_new(row, "workload_uid", json_string(m->workloads[w].uid));
            }
            json_array_append_new(rows, row);
        }
    }
    return rows;
}

int inv_store_objects(vg_db *db, inv_apply *a)
{
    json_t *rows = object_rows(a->m);
    char *s = json_dumps(rows, JSON_COMPACT);
    json_decref(rows);
    const char *p[] = {a->tenant_id, a->cluster_id, s};
    int rc = vg_db_cmd(
        db,
        "INSERT INTO cluster_objects (tenant_id, cluster_id, kind, uid, namespace, name, "
        "workload_uid, summary, snapshot_id) SELECT $1, $2, x.kind, x.uid, x.namespace, x.name, "
        "x.workload_uid, x.summary, '' FROM jsonb_to_recordset($3::jsonb) AS x(kind text, "
        "uid text, namespace text, name text, workload_uid text, summary jsonb) "
        "ON CONFLICT (tenant_id, cluster_id, kind, uid) DO UPDATE SET namespace = "
        "EXCLUDED.namespace, name = EXCLUDED.name, workload_uid = EXCLUDED.workload_uid, "
        "summary = EXCLUDED.summary, last_seen = now(), gone_at = NULL",
        3, p);
    if (rc == 0) {
        rc = vg_db_cmd(db,
                       "UPDATE cluster_objects SET gone_at = now() WHERE tenant_id = $1 AND "
                       "cluster_id = $2 AND gone_at IS NULL AND last_seen < now()",
                       2, p);
    }
    free(s);
    return rc;
}

/* The role a binding refers to, or NULL. */
static json_t *binding_role(const inv_model *m, json_t *b)
{
    const char *kind = kobj_str0(b, "roleRef.kind");
    const char *name = kobj_str0(b, "roleRef.name");
    bool cluster = strcmp(kind, "ClusterRole") == 0;
    size_t i;
    json_t *role;
    json_array_foreach(m->items[cluster ? INV_R_CLUSTERROLES : INV_R_ROLES], i, role)
    {
        if (strcmp(kobj_str0(role, "metadata.name"), name) == 0 &&
            (cluster || strcmp(kobj_str0(role, "metadata.namespace"),
                               kobj_str0(b, "metadata.namespace")) == 0)) {
            return role;
        }
    }
    return NULL;
}

static void subject_add(json_t *subjects, json_t *b, json_t *s, json_t *role)
{
    const char *kind = kobj_str0(s, "kind");
    const char *ns = strcmp(kind, "ServiceAccount") == 0 ? kobj_str0(s, "namespace") : "";
    char *key = vg_asprintf("%s|%s|%s", kind, ns, kobj_str0(s, "name"));
    json_t *entry = json_object_get(subjects, key);
    if (entry == NULL) {
        entry = json_pack("{s:s, s:s, s:s, s:[]}", "kind", kind, "namespace", ns, "name",
                          kobj_str0(s, "name"), "permissions");
        json_object_set_new(subjects, key, entry);
    }
    const char *bns = kobj_str0(b, "metadata.namespace");
    json_t *rules = role != NULL ? kobj_get(role, "rules") : NULL;
    json_array_append_new(
        json_object_get(entry, "permissions"),
        json_pack("{s:s, s:s, s:s, s:s, s:O?}", "binding", kobj_str0(b, "metadata.name"), "role",
                  kobj_str0(b, "roleRef.name"), "role_kind", kobj_str0(b, "roleRef.kind"), "scope",
                  bns[0] != '\0' ? bns : "cluster", "rules", rules));
    free(key);
}

/* Subjects with what every binding naming them grants (new array). */
static json_t *subject_rows(const inv_model *m)
{
    json_t *subjects = json_object();
    static const inv_resource kinds[] = {INV_R_ROLEBINDINGS, INV_R_CLUSTERROLEBINDINGS};
    for (size_t k = 0; k < 2; k++) {
        size_t i, j;
        json_t *b, *s;
        json_array_foreach(m->items[kinds[k]], i, b)
        {
            json_t *role = binding_role(m, b);
            json_array_foreach(kobj_get(b, "subjects"), j, s)
            {
                subject_add(subjects, b, s, role);
            }
        }
    }
    json_t *rows = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(subjects, key, v)
    {
        json_array_append(rows, v);
    }
    json_decref(subjects);
    return rows;
}

int inv_store_rbac(vg_db *db, inv_apply *a)
{
    json_t *rows = subject_rows(a->m);
    char *s = json_dumps(rows, JSON_COMPACT);
    json_decref(rows);
    const char *p[] = {a->tenant_id, a->cluster_id, s};
    int rc = vg_db_cmd(
        db,
        "INSERT INTO rbac_subjects (tenant_id, cluster_id, subject_kind, subject_namespace, "
        "subject_name, permissions, snapshot_id) SELECT $1, $2, x.kind, x.namespace, x.name, "
        "x.permissions, '' FROM jsonb_to_recordset($3::jsonb) AS x(kind text, namespace text, "
        "name text, permissions jsonb) ON CONFLICT (tenant_id, cluster_id, subject_kind, "
        "subject_namespace, subject_name) DO UPDATE SET permissions = EXCLUDED.permissions, "
        "last_seen = now(), gone_at = NULL",
        3, p);
    if (rc == 0) {
        rc = vg_db_cmd(db,
                       "UPDATE rbac_subjects SET gone_at = now() WHERE tenant_id = $1 AND "
                       "cluster_id = $2 AND gone_at IS NULL AND last_seen < now()",
                       2, p);
    }
    free(s);
    return rc;
}

int inv_store_plan_state(vg_db *db, inv_apply *a)
{
    char count[32];
    snprintf(count, sizeof count, "%zu", a->uncontrolled);
    const char *over = a->uncontrolled > 0 ? "true" : "false";
    const char *p[] = {a->tenant_id, over, count};
    /* the old value comes back from the row as it was before the update */
    PGresult *res = vg_db_exec(
        db,
        "WITH old AS (SELECT over_limit FROM inventory_plan_state WHERE tenant_id = $1) "
        "INSERT INTO inventory_plan_state AS s (tenant_id, over_limit, uncontrolled, notified_at) "
        "VALUES ($1, $2::boolean, $3::int, CASE WHEN $2::boolean THEN now() END) "
        "ON CONFLICT (tenant_id) DO UPDATE SET over_limit = EXCLUDED.over_limit, "
        "uncontrolled = EXCLUDED.uncontrolled, updated_at = now(), notified_at = CASE WHEN "
        "EXCLUDED.over_limit AND NOT s.over_limit THEN now() ELSE s.notified_at END "
        "RETURNING (SELECT over_limit FROM old)",
        3, p);
    if (res == NULL) {
        return -1;
    }
    bool was = !PQgetisnull(res, 0, 0) && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    a->plan_crossed = a->uncontrolled > 0 && !was;
    a->plan_cleared = a->uncontrolled == 0 && was;
    return 0;
}

int inv_store_prune(vg_db *db, inv_apply *a)
{
    static const char *const sql[] = {
        "DELETE FROM workloads WHERE tenant_id = $1 AND cluster_id = $2 AND "
        "gone_at < now() - interval '30 days'",
        "DELETE FROM cluster_objects WHERE tenant_id = $1 AND cluster_id = $2 AND "
        "gone_at < now() - interval '30 days'",
        "DELETE FROM rbac_subjects WHERE tenant_id = $1 AND cluster_id = $2 AND "
        "gone_at < now() - interval '30 days'",
    };
    const char *p[] = {a->tenant_id, a->cluster_id};
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        if (vg_db_cmd(db, sql[i], 2, p) != 0) {
            return -1;
        }
    }
    return 0;
}
