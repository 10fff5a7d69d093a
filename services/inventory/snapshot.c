/* Snapshot staging and application (see snapshot.h). */
#include "snapshot.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "findings.h"
#include "model.h"
#include "rules.h"
#include "store.h"
#include "vigil/alloc.h"
#include "vigil/envelope.h"
#include "vigil/log.h"
#include "vigil/metrics.h"
#include "vigil/util.h"

struct inv_snapshot_ctx {
    vg_producer *producer;
    long free_workloads;
};

enum { TX_OK = 0, TX_REJECT = 1, TX_RETRY = 2 };

/* Counts a snapshot outcome: applied, waiting, rejected or superseded. */
static void count_snapshot(const char *result)
{
    char labels[64];
    snprintf(labels, sizeof labels, "result=\"%s\"", result);
    vg_counter_inc(vg_counter_get("vigil_inventory_snapshots_total",
                                  "snapshot.complete outcomes (applied, waiting, rejected, "
                                  "superseded)",
                                  labels));
}

typedef struct snap_job {
    inv_snapshot_ctx *ctx;
    const char *tenant_id;
    const char *cluster_id;
    bool complete; /* snapshot.complete (else snapshot.chunk) */
    const char *snapshot_id;
    json_t *data;
    /* out */
    bool reject_after_commit;
    size_t findings;
    char reason[512];
} snap_job;

inv_snapshot_ctx *inv_snapshot_ctx_new(const vg_base_conf *conf, long free_workloads, char *errbuf,
                                       size_t errlen)
{
    vg_producer *p =
        vg_producer_new(conf->kafka_brokers, "vigil-inventory-posture", errbuf, errlen);
    if (p == NULL) {
        return NULL;
    }
    inv_snapshot_ctx *ctx = vg_calloc(1, sizeof *ctx);
    ctx->producer = p;
    ctx->free_workloads = free_workloads;
    return ctx;
}

void inv_snapshot_ctx_destroy(inv_snapshot_ctx *ctx)
{
    if (ctx != NULL) {
        vg_producer_destroy(ctx->producer);
        free(ctx);
    }
}

/* TX_OK when the cluster belongs to the tenant. */
static int check_cluster(vg_db *db, snap_job *job)
{
    const char *p[] = {job->cluster_id, job->tenant_id};
    PGresult *res = vg_db_exec(db, "SELECT 1 FROM clusters WHERE id = $1 AND tenant_id = $2", 2, p);
    if (res == NULL) {
        return TX_RETRY;
    }
    int n = PQntuples(res);
    PQclear(res);
    if (n != 1) {
        snprintf(job->reason, sizeof job->reason, "unknown cluster %s for this tenant",
                 job->cluster_id);
        return TX_REJECT;
    }
    return TX_OK;
}

/* The snapshot's status ("" when no snapshot.complete was seen yet), row locked. */
static int snapshot_status(vg_db *db, snap_job *job, char *status, size_t len)
{
    const char *p[] = {job->cluster_id, job->snapshot_id};
    PGresult *res = vg_db_exec(db,
                               "SELECT status FROM inventory_snapshots WHERE cluster_id = $1 AND "
                               "snapshot_id = $2 FOR UPDATE",
                               2, p);
    if (res == NULL) {
        return TX_RETRY;
    }
    snprintf(status, len, "%s", PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return TX_OK;
}

/* Marks the snapshot rejected (reason in job->reason) and drops its chunks; dead_letter:
 * the message in hand goes to the DLQ with the reason once the transaction committed. */
static int mark_rejected(vg_db *db, snap_job *job, bool dead_letter)
{
    const char *p[] = {job->cluster_id, job->snapshot_id, job->reason};
    if (vg_db_cmd(db,
                  "UPDATE inventory_snapshots SET status = 'rejected', reason = $3 WHERE "
                  "cluster_id = $1 AND snapshot_id = $2",
                  3, p) != 0 ||
        vg_db_cmd(db,
                  "DELETE FROM inventory_snapshot_chunks WHERE cluster_id = $1 AND "
                  "snapshot_id = $2",
                  2, p) != 0) {
        return TX_RETRY;
    }
    vg_warn("snapshot rejected", "tenant_id", job->tenant_id, "cluster_id", job->cluster_id,
            "snapshot_id", job->snapshot_id, "reason", job->reason);
    count_snapshot(dead_letter ? "rejected" : "superseded");
    job->reject_after_commit = dead_letter;
    return TX_OK;
}

/* 1 when a snapshot of the cluster that finished later is already applied (a replayed old
 * snapshot must not roll the model back), 0 if not, -1 on a database error. */
static int superseded(vg_db *db, snap_job *job)
{
    const char *p[] = {job->cluster_id, job->snapshot_id};
    PGresult *res = vg_db_exec(db,
                               "SELECT EXISTS (SELECT 1 FROM inventory_snapshots n, "
                               "inventory_snapshots s WHERE s.cluster_id = $1 AND s.snapshot_id = "
                               "$2 AND n.cluster_id = $1 AND n.status = 'applied' AND "
                               "n.finished_at > s.finished_at)",
                               2, p);
    if (res == NULL) {
        return -1;
    }
    int rc = PQgetvalue(res, 0, 0)[0] == 't' ? 1 : 0;
    PQclear(res);
    return rc;
}

/* Compares the staged chunks with the snapshot.complete promise. Returns 1 when complete
 * and consistent, 0 when chunks are still missing, -1 when it can never be applied
 * (reason set), -2 on a database error. */
static int chunks_check(vg_db *db, snap_job *job)
{
    const char *p[] = {job->cluster_id, job->snapshot_id};
    PGresult *res = vg_db_exec(
        db,
        "SELECT s.chunks, (SELECT count(*) FROM inventory_snapshot_chunks c WHERE "
        "c.cluster_id = s.cluster_id AND c.snapshot_id = s.snapshot_id), (SELECT max(seq) FROM "
        "inventory_snapshot_chunks c WHERE c.cluster_id = s.cluster_id AND c.snapshot_id = "
        "s.snapshot_id), (SELECT string_agg(k, ', ') FROM (SELECT k FROM jsonb_object_keys("
        "s.counts || (SELECT coalesce(jsonb_object_agg(resource, 0), '{}') FROM "
        "inventory_snapshot_chunks c WHERE c.cluster_id = s.cluster_id AND c.snapshot_id = "
        "s.snapshot_id)) AS k WHERE coalesce((s.counts->>k)::bigint, 0) <> (SELECT "
        "coalesce(sum(item_count), 0) FROM inventory_snapshot_chunks c WHERE c.cluster_id = "
        "s.cluster_id AND c.snapshot_id = s.snapshot_id AND c.resource = k) ORDER BY k) q) "
        "FROM inventory_snapshots s WHERE s.cluster_id = $1 AND s.snapshot_id = $2",
        2, p);
    if (res == NULL || PQntuples(res) != 1) {
        PQclear(res);
        return -2;
    }
    long want = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    long have = strtol(PQgetvalue(res, 0, 1), NULL, 10);
    long max_seq = PQgetisnull(res, 0, 2) ? -1 : strtol(PQgetvalue(res, 0, 2), NULL, 10);
    int rc = 1;
    if (max_seq >= want) {
        snprintf(job->reason, sizeof job->reason,
                 "snapshot %s: chunk seq %ld is beyond the %ld chunks announced", job->snapshot_id,
                 max_seq, want);
        rc = -1;
    } else if (have < want) {
        rc = 0;
    } else if (!PQgetisnull(res, 0, 3)) {
        snprintf(job->reason, sizeof job->reason,
                 "snapshot %s: item counts do not match snapshot.complete for: %s",
                 job->snapshot_id, PQgetvalue(res, 0, 3));
        rc = -1;
    }
    PQclear(res);
    return rc;
}

/* Reads the staged chunks into a new model (NULL on a database error). */
static inv_model *load_model(vg_db *db, snap_job *job)
{
    const char *p[] = {job->cluster_id, job->snapshot_id};
    PGresult *res = vg_db_exec(db,
                               "SELECT resource, items FROM inventory_snapshot_chunks WHERE "
                               "cluster_id = $1 AND snapshot_id = $2 ORDER BY seq",
                               2, p);
    PGresult *abs = vg_db_exec(db,
                               "SELECT jsonb_array_elements_text(absent) FROM inventory_snapshots "
                               "WHERE cluster_id = $1 AND snapshot_id = $2",
                               2, p);
    if (res == NULL || abs == NULL) {
        PQclear(res);
        PQclear(abs);
        return NULL;
    }
    inv_model *m = inv_model_new();
    for (int i = 0; i < PQntuples(res); i++) {
        int r = inv_resource_from_name(PQgetvalue(res, i, 0));
        json_t *items = r >= 0 ? json_loads(PQgetvalue(res, i, 1), 0, NULL) : NULL;
        if (items != NULL) {
            inv_model_add_items(m, (inv_resource)r, items);
        }
        json_decref(items);
    }
    for (int i = 0; i < PQntuples(abs); i++) {
        int r = inv_resource_from_name(PQgetvalue(abs, i, 0));
        if (r >= 0) {
            m->absent[r] = true;
        }
    }
    PQclear(res);
    PQclear(abs);
    inv_model_build(m);
    return m;
}

static int send_envelope(inv_emitter *em, const char *type, const char *tenant, const char *cluster,
                         json_t *data)
{
    char *msg = vg_envelope_build(type, tenant, cluster, data);
    int rc = inv_emitter_send(em, cluster != NULL ? cluster : tenant, msg);
    free(msg);
    return rc;
}

/* finding.observed for every finding, then finding.scope "posture" listing them all. */
static int emit_posture(inv_emitter *em, snap_job *job, const inv_findings *f)
{
    char now[32];
    vg_time_rfc3339(now);
    json_t *fps = json_array();
    int rc = 0;
    for (size_t i = 0; i < f->n && rc == 0; i++) {
        json_t *data = inv_finding_data(&f->v[i], job->tenant_id, job->cluster_id, now);
        json_array_append(fps, json_object_get(data, "fingerprint"));
        rc = send_envelope(em, "finding.observed", job->tenant_id, job->cluster_id, data);
    }
    json_t *scope = json_pack("{s:s, s:o}", "scope", "posture", "fingerprints", fps);
    if (rc == 0) {
        rc = send_envelope(em, "finding.scope", job->tenant_id, job->cluster_id, scope);
    } else {
        json_decref(scope);
    }
    return rc;
}

/* VGL-PLAN-001 when the tenant crossed its limit; a "plan" scope resolving it when the
 * tenant is back under the limit. */
static int emit_plan(inv_emitter *em, snap_job *job, const inv_apply *a)
{
    const inv_rule *rule = inv_rule_find("VGL-PLAN-001");
    char fp[65];
    inv_fingerprint(job->tenant_id, "", rule->id, job->tenant_id, "workloads", fp);
    if (a->plan_cleared) {
        json_t *scope = json_pack("{s:s, s:[]}", "scope", "plan", "fingerprints");
        return send_envelope(em, "finding.scope", job->tenant_id, NULL, scope);
    }
    if (!a->plan_crossed) {
        return 0;
    }
    char now[32];
    vg_time_rfc3339(now);
    json_t *data = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:s, s:{s:I, s:I, s:I}, "
        "s:s, s:{}, s:s}",
        "fingerprint", fp, "source", "plan", "scope", "plan", "rule_id", rule->id, "title",
        rule->title, "severity", rule->severity, "category", rule->category, "object", "kind",
        "Tenant", "namespace", "", "name", "controlled workloads", "uid", job->tenant_id, "field",
        "workloads", "evidence", "limit", (json_int_t)a->limit, "controlled",
        (json_int_t)a->controlled, "uncontrolled", (json_int_t)a->uncontrolled, "remediation",
        rule->remediation, "refs", "detected_at", now);
    return send_envelope(em, "finding.observed", job->tenant_id, NULL, data);
}

static int emit_all(snap_job *job, const inv_findings *f, const inv_apply *a)
{
    inv_emitter *em = inv_emitter_new(job->ctx->producer, vg_topic(VG_TOPIC_FINDINGS));
    int rc = emit_posture(em, job, f);
    if (rc == 0) {
        rc = emit_plan(em, job, a);
    }
    if (rc == 0) {
        rc = inv_emitter_wait(em, 30000);
    }
    inv_emitter_destroy(em);
    return rc;
}

static int finish_snapshot(vg_db *db, snap_job *job)
{
    char count[32];
    snprintf(count, sizeof count, "%zu", job->findings);
    const char *p[] = {job->cluster_id, job->snapshot_id, count};
    if (vg_db_cmd(db,
                  "DELETE FROM inventory_snapshot_chunks WHERE cluster_id = $1 AND "
                  "snapshot_id = $2",
                  2, p) != 0 ||
        /* a snapshot still waiting for chunks can no longer be applied once a later one is:
         * give it up, and drop its chunks and those of snapshots never completed */
        vg_db_cmd(db,
                  "UPDATE inventory_snapshots SET status = 'rejected', reason = 'superseded by "
                  "snapshot ' || $2 || ' before it completed' WHERE cluster_id = $1 AND "
                  "status = 'waiting' AND snapshot_id <> $2",
                  2, p) != 0 ||
        vg_db_cmd(db,
                  "DELETE FROM inventory_snapshot_chunks c WHERE cluster_id = $1 AND "
                  "snapshot_id <> $2 AND (received_at < now() - interval '1 day' OR EXISTS "
                  "(SELECT 1 FROM inventory_snapshots s WHERE s.cluster_id = c.cluster_id AND "
                  "s.snapshot_id = c.snapshot_id AND s.status = 'rejected'))",
                  2, p) != 0 ||
        vg_db_cmd(db,
                  "UPDATE inventory_snapshots SET status = 'applied', applied_at = now(), "
                  "findings = $3::int WHERE cluster_id = $1 AND snapshot_id = $2",
                  3, p) != 0 ||
        vg_db_cmd(db, "UPDATE clusters SET last_sync_at = now() WHERE id = $1", 1, p) != 0) {
        return TX_RETRY;
    }
    return TX_OK;
}

/* Applies a complete snapshot (inside the transaction). */
static int apply_snapshot(vg_db *db, snap_job *job)
{
    int64_t started = vg_now_ms();
    inv_model *m = load_model(db, job);
    if (m == NULL) {
        return TX_RETRY;
    }
    inv_apply a = {.tenant_id = job->tenant_id,
                   .cluster_id = job->cluster_id,
                   .free_workloads = job->ctx->free_workloads,
                   .m = m};
    inv_findings f = {0};
    int rc = TX_RETRY;
    if (inv_store_workloads(db, &a) != 0 || inv_store_objects(db, &a) != 0 ||
        inv_store_rbac(db, &a) != 0 || inv_store_plan_state(db, &a) != 0 ||
        inv_store_prune(db, &a) != 0) {
        goto out;
    }
    inv_posture_eval(m, &f);
    job->findings = f.n;
    if (emit_all(job, &f, &a) != 0) {
        snprintf(job->reason, sizeof job->reason, "findings not acknowledged by Kafka");
        goto out;
    }
    rc = finish_snapshot(db, job);
    if (rc == TX_OK) {
        count_snapshot("applied");
        vg_counter_add(vg_counter_get("vigil_inventory_findings_total",
                                      "posture findings published (finding.observed)", NULL),
                       f.n);
        vg_histogram_observe(vg_histogram_get("vigil_inventory_apply_seconds",
                                              "time to apply a complete snapshot", NULL),
                             (double)(vg_now_ms() - started) / 1000.0);
        char nf[32], nw[32], nu[32];
        snprintf(nf, sizeof nf, "%zu", f.n);
        snprintf(nw, sizeof nw, "%zu", m->nworkloads);
        snprintf(nu, sizeof nu, "%zu", a.uncontrolled);
        vg_info("snapshot applied", "tenant_id", job->tenant_id, "cluster_id", job->cluster_id,
                "snapshot_id", job->snapshot_id, "workloads", nw, "findings", nf,
                "tenant_uncontrolled", nu);
    }
out:
    inv_findings_clear(&f);
    inv_model_destroy(m);
    return rc;
}

/* Applies the snapshot when everything is here, waits otherwise, rejects the impossible. */
static int try_apply(vg_db *db, snap_job *job)
{
    int state = chunks_check(db, job);
    switch (state) {
    case 1:
        switch (superseded(db, job)) {
        case 0:
            return apply_snapshot(db, job);
        case 1:
            snprintf(job->reason, sizeof job->reason, "superseded by a newer applied snapshot");
            return mark_rejected(db, job, false);
        default:
            return TX_RETRY;
        }
    case 0:
        vg_info("snapshot incomplete, waiting for chunks", "tenant_id", job->tenant_id,
                "cluster_id", job->cluster_id, "snapshot_id", job->snapshot_id);
        count_snapshot("waiting");
        return TX_OK;
    case -1:
        return mark_rejected(db, job, true);
    default:
        return TX_RETRY;
    }
}

static bool finished_status(const char *status)
{
    return strcmp(status, "applied") == 0 || strcmp(status, "rejected") == 0;
}

static int chunk_tx(vg_db *db, void *arg)
{
    snap_job *job = arg;
    job->reject_after_commit = false;
    char status[16];
    int rc = check_cluster(db, job);
    if (rc == TX_OK) {
        rc = snapshot_status(db, job, status, sizeof status);
    }
    if (rc != TX_OK || finished_status(status)) {
        return rc; /* a redelivered chunk of a finished snapshot changes nothing */
    }
    json_t *items = json_object_get(job->data, "items");
    char *items_s = json_dumps(items, JSON_COMPACT);
    char seq[32], count[32];
    snprintf(seq, sizeof seq, "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(job->data, "seq")));
    snprintf(count, sizeof count, "%zu", json_array_size(items));
    const char *p[] = {job->tenant_id,
                       job->cluster_id,
                       job->snapshot_id,
                       seq,
                       json_string_value(json_object_get(job->data, "resource")),
                       count,
                       items_s};
    int cmd = vg_db_cmd(db,
                        "INSERT INTO inventory_snapshot_chunks (tenant_id, cluster_id, "
                        "snapshot_id, seq, resource, item_count, items) VALUES ($1, $2, $3, "
                        "$4::int, $5, $6::int, $7::jsonb) ON CONFLICT DO NOTHING",
                        7, p);
    free(items_s);
    if (cmd != 0) {
        return TX_RETRY;
    }
    return strcmp(status, "waiting") == 0 ? try_apply(db, job) : TX_OK;
}

static const char *time_or_null(json_t *data, const char *key)
{
    const char *s = json_string_value(json_object_get(data, key));
    struct timespec ts;
    return s != NULL && vg_time_parse(s, &ts) ? s : NULL;
}

static int complete_tx(vg_db *db, void *arg)
{
    snap_job *job = arg;
    job->reject_after_commit = false;
    int rc = check_cluster(db, job);
    if (rc != TX_OK) {
        return rc;
    }
    char chunks[32];
    snprintf(chunks, sizeof chunks, "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(job->data, "chunks")));
    json_t *counts = json_object_get(job->data, "counts");
    json_t *absent = json_object_get(job->data, "absent");
    char *counts_s = counts != NULL ? json_dumps(counts, JSON_COMPACT) : vg_strdup("{}");
    char *absent_s = absent != NULL ? json_dumps(absent, JSON_COMPACT) : vg_strdup("[]");
    const char *p[] = {job->tenant_id,
                       job->cluster_id,
                       job->snapshot_id,
                       chunks,
                       counts_s,
                       absent_s,
                       time_or_null(job->data, "started_at"),
                       time_or_null(job->data, "finished_at")};
    int cmd = vg_db_cmd(db,
                        "INSERT INTO inventory_snapshots (tenant_id, cluster_id, snapshot_id, "
                        "status, chunks, counts, absent, started_at, finished_at) VALUES ($1, $2, "
                        "$3, 'waiting', $4::int, $5::jsonb, $6::jsonb, $7, $8) "
                        "ON CONFLICT DO NOTHING",
                        8, p);
    free(counts_s);
    free(absent_s);
    char status[16];
    if (cmd != 0 || snapshot_status(db, job, status, sizeof status) != TX_OK) {
        return TX_RETRY;
    }
    return finished_status(status) ? TX_OK : try_apply(db, job);
}

/* Checks the data of a chunk or complete message; false with the reason in errbuf. */
static bool validate(const char *type, json_t *data, char *errbuf, size_t errlen)
{
    const char *sid = json_string_value(json_object_get(data, "snapshot_id"));
    if (sid == NULL || sid[0] == '\0' || strlen(sid) > 200) {
        snprintf(errbuf, errlen, "%s: snapshot_id must be a string of 1 to 200 characters", type);
        return false;
    }
    bool chunk = strcmp(type, "snapshot.chunk") == 0;
    json_t *n = json_object_get(data, chunk ? "seq" : "chunks");
    if (!json_is_integer(n) || json_integer_value(n) < 0 || json_integer_value(n) > 1000000) {
        snprintf(errbuf, errlen, "%s: %s must be an integer from 0 to 1000000", type,
                 chunk ? "seq" : "chunks");
        return false;
    }
    if (chunk) {
        const char *res = json_string_value(json_object_get(data, "resource"));
        if (res == NULL || res[0] == '\0' || strlen(res) > 100 ||
            !json_is_array(json_object_get(data, "items"))) {
            snprintf(errbuf, errlen,
                     "snapshot.chunk: resource (string) and items (array) "
                     "are required");
            return false;
        }
        return true;
    }
    json_t *counts = json_object_get(data, "counts");
    const char *key;
    json_t *v;
    json_object_foreach(counts, key, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            snprintf(errbuf, errlen, "snapshot.complete: counts.%s must be a count", key);
            return false;
        }
    }
    if ((counts != NULL && !json_is_object(counts)) ||
        (json_object_get(data, "absent") != NULL &&
         !json_is_array(json_object_get(data, "absent")))) {
        snprintf(errbuf, errlen, "snapshot.complete: counts must be an object, absent an array");
        return false;
    }
    return true;
}

vg_handle_result inv_snapshot_handle(const vg_message *msg, vg_db *db, void *arg, char *errbuf,
                                     size_t errlen)
{
    const vg_envelope *env = msg->env;
    bool chunk = strcmp(env->type, "snapshot.chunk") == 0;
    if (!chunk && strcmp(env->type, "snapshot.complete") != 0) {
        return VG_HANDLE_OK; /* not ours */
    }
    if (env->tenant_id[0] == '\0' || env->cluster_id[0] == '\0') {
        snprintf(errbuf, errlen, "%s without tenant_id or cluster_id", env->type);
        return VG_HANDLE_REJECT;
    }
    if (!validate(env->type, env->data, errbuf, errlen)) {
        return VG_HANDLE_REJECT;
    }
    snap_job job = {.ctx = arg,
                    .tenant_id = env->tenant_id,
                    .cluster_id = env->cluster_id,
                    .complete = !chunk,
                    .snapshot_id = json_string_value(json_object_get(env->data, "snapshot_id")),
                    .data = env->data};
    int rc = vg_db_tx(db, NULL, chunk ? chunk_tx : complete_tx, &job);
    if (rc == TX_OK && !job.reject_after_commit) {
        return VG_HANDLE_OK;
    }
    if (rc == TX_OK || rc == TX_REJECT) {
        snprintf(errbuf, errlen, "%s", job.reason);
        return VG_HANDLE_REJECT;
    }
    snprintf(errbuf, errlen, "%s", job.reason[0] != '\0' ? job.reason : vg_db_error(db));
    return VG_HANDLE_RETRY;
}
