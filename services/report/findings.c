/* Consumer handler: finding upserts, scope resolution, scanner reports and commands, each in
 * one transaction with its outbox rows and the processed envelope id. */
#include "findings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"
#include "tenant_report.h"
#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/metrics.h"

typedef enum { MSG_OBSERVED, MSG_SCOPE, MSG_SCAN, MSG_WEBHOOK_TEST, MSG_REPORT } msg_kind;

typedef struct tx_job {
    const report_ctx *ctx;
    const vg_envelope *env;
    msg_kind kind;
    const char *cluster_id; /* NULL when the envelope has none */
    json_t *findings;       /* MSG_SCAN: normalised findings (owned by the caller) */
    bool duplicate;         /* set when the envelope was already processed */
} tx_job;

static const char *text_or_empty(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL ? s : "";
}

static bool fingerprint_ok(const char *fp)
{
    size_t n = strlen(fp);
    if (n == 0 || n > 128) {
        return false;
    }
    return strspn(fp, "0123456789abcdefABCDEF:_-.") == n;
}

int report_finding_validate(const json_t *f, char *errbuf, size_t errlen)
{
    static const char *const required[] = {"fingerprint", "source",   "scope",   "rule_id",
                                           "title",       "severity", "category"};
    if (!json_is_object(f)) {
        snprintf(errbuf, errlen, "finding data must be an object");
        return -1;
    }
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        const char *v = json_string_value(json_object_get(f, required[i]));
        if (v == NULL || v[0] == '\0' || strlen(v) > 2000) {
            snprintf(errbuf, errlen, "finding.%s must be a non-empty string", required[i]);
            return -1;
        }
    }
    if (!fingerprint_ok(text_or_empty(f, "fingerprint"))) {
        snprintf(errbuf, errlen, "finding.fingerprint must be hex (at most 128 characters)");
        return -1;
    }
    if (report_severity_rank(text_or_empty(f, "severity")) < 0) {
        snprintf(errbuf, errlen, "finding.severity must be info, low, medium, high or critical");
        return -1;
    }
    static const char *const objects[] = {"object", "evidence", "refs"};
    for (size_t i = 0; i < 3; i++) {
        const json_t *v = json_object_get(f, objects[i]);
        if (v != NULL && !json_is_object(v)) {
            snprintf(errbuf, errlen, "finding.%s must be an object", objects[i]);
            return -1;
        }
    }
    return 0;
}

/* JSON text of an optional object member ("{}" when absent); new string. */
static char *member_json(const json_t *f, const char *key)
{
    const json_t *v = json_object_get(f, key);
    return v != NULL ? json_dumps(v, JSON_COMPACT) : vg_strdup("{}");
}

/* Queues one event for every enabled webhook of the finding's tenant and, when with_email,
 * for every subscribed e-mail recipient. */
static int enqueue_event(vg_db *db, const report_ctx *ctx, const char *finding_id, const char *type,
                         bool with_email)
{
    const char *params[] = {finding_id, type, ctx->public_url};
    if (vg_db_cmd(db,
                  "INSERT INTO report_outbox (tenant_id, channel, target_id, event_type, "
                  "finding_id, payload) SELECT f.tenant_id, 'webhook', w.id, $2, f.id, "
                  "report_finding_json(f, $3) FROM findings f JOIN webhooks w "
                  "ON w.tenant_id = f.tenant_id AND w.enabled WHERE f.id = $1",
                  3, params) != 0) {
        return -1;
    }
    if (!with_email) {
        return 0;
    }
    return vg_db_cmd(db,
                     "INSERT INTO report_outbox (tenant_id, channel, target_id, event_type, "
                     "finding_id, payload) SELECT f.tenant_id, 'email', r.id, $2, f.id, "
                     "report_finding_json(f, $3) FROM findings f JOIN email_recipients r "
                     "ON r.tenant_id = f.tenant_id AND NOT r.unsubscribed WHERE f.id = $1 "
                     "AND f.severity IN ('high', 'critical')",
                     3, params);
}

static const char upsert_sql[] =
    "WITH prev AS (SELECT status FROM findings WHERE tenant_id = $1 AND fingerprint = $3) "
    "INSERT INTO findings (tenant_id, cluster_id, fingerprint, source, scope, rule_id, title, "
    "severity, category, object, field, evidence, remediation, refs) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12::jsonb, $13, $14::jsonb) "
    "ON CONFLICT (tenant_id, fingerprint) DO UPDATE SET last_seen = now(), "
    "occurrences = findings.occurrences + 1, "
    "status = CASE WHEN findings.status = 'resolved' THEN 'open' ELSE findings.status END, "
    "resolved_at = CASE WHEN findings.status = 'resolved' THEN NULL "
    "ELSE findings.resolved_at END, "
    "cluster_id = EXCLUDED.cluster_id, source = EXCLUDED.source, scope = EXCLUDED.scope, "
    "rule_id = EXCLUDED.rule_id, title = EXCLUDED.title, severity = EXCLUDED.severity, "
    "category = EXCLUDED.category, object = EXCLUDED.object, field = EXCLUDED.field, "
    "evidence = EXCLUDED.evidence, remediation = EXCLUDED.remediation, refs = EXCLUDED.refs "
    "RETURNING id, (xmax = 0) AS inserted, (SELECT status FROM prev) AS prev_status";

int report_finding_upsert(vg_db *db, const report_ctx *ctx, const char *tenant_id,
                          const char *cluster_id, const json_t *f)
{
    char *object = member_json(f, "object");
    char *evidence = member_json(f, "evidence");
    char *refs = member_json(f, "refs");
    const char *params[] = {tenant_id,
                            cluster_id,
                            text_or_empty(f, "fingerprint"),
                            text_or_empty(f, "source"),
                            text_or_empty(f, "scope"),
                            text_or_empty(f, "rule_id"),
                            text_or_empty(f, "title"),
                            text_or_empty(f, "severity"),
                            text_or_empty(f, "category"),
                            object,
                            text_or_empty(f, "field"),
                            evidence,
                            text_or_empty(f, "remediation"),
                            refs};
    int rc = -1;
    PGresult *res = vg_db_exec(db, upsert_sql, 14, params);
    if (res == NULL || PQntuples(res) != 1) {
        goto out;
    }
    const char *id = PQgetvalue(res, 0, 0);
    bool inserted = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    bool reopened = !PQgetisnull(res, 0, 2) && strcmp(PQgetvalue(res, 0, 2), "resolved") == 0;
    rc = 0;
    if (inserted || reopened) {
        vg_counter_inc(vg_counter_get("vigil_report_findings_changed_total",
                                      "findings opened or reopened",
                                      inserted ? "event=\"opened\"" : "event=\"reopened\""));
        rc = enqueue_event(db, ctx, id, inserted ? "finding.opened" : "finding.reopened", true);
    }
out:
    PQclear(res);
    free(object);
    free(evidence);
    free(refs);
    return rc;
}

int report_scope_resolve(vg_db *db, const report_ctx *ctx, const char *tenant_id,
                         const char *cluster_id, const char *scope, const json_t *keep)
{
    char *keep_text = json_dumps(keep, JSON_COMPACT);
    const char *params[] = {tenant_id, cluster_id, scope, keep_text};
    PGresult *res = vg_db_exec(
        db,
        "UPDATE findings SET status = 'resolved', resolved_at = now() "
        "WHERE tenant_id = $1 AND cluster_id IS NOT DISTINCT FROM $2::uuid AND scope = $3 "
        "AND status = 'open' AND fingerprint NOT IN "
        "(SELECT jsonb_array_elements_text($4::jsonb)) RETURNING id", /* hashed subplan */
        4, params);
    free(keep_text);
    if (res == NULL) {
        return -1;
    }
    int n = PQntuples(res);
    int rc = n;
    for (int i = 0; i < n && rc >= 0; i++) {
        if (enqueue_event(db, ctx, PQgetvalue(res, i, 0), "finding.resolved", false) != 0) {
            rc = -1;
        }
    }
    PQclear(res);
    if (n > 0) {
        vg_counter_add(vg_counter_get("vigil_report_findings_changed_total",
                                      "findings opened or reopened", "event=\"resolved\""),
                       (uint64_t)n);
    }
    return rc;
}

/* Records the envelope id; sets job->duplicate when it was already there. */
static int mark_processed(vg_db *db, tx_job *job)
{
    const char *params[] = {job->env->id, job->env->tenant_id, job->env->type};
    PGresult *res = vg_db_exec(db,
                               "INSERT INTO report_processed (envelope_id, tenant_id, type) "
                               "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1",
                               3, params);
    if (res == NULL) {
        return -1;
    }
    job->duplicate = PQntuples(res) == 0;
    PQclear(res);
    return 0;
}

static int webhook_test_enqueue(vg_db *db, const tx_job *job)
{
    const char *webhook_id = text_or_empty(job->env->data, "webhook_id");
    const char *params[] = {webhook_id, job->env->tenant_id};
    PGresult *res =
        vg_db_exec(db,
                   "INSERT INTO report_outbox (tenant_id, channel, target_id, event_type, payload) "
                   "SELECT w.tenant_id, 'webhook', w.id, 'webhook.test', jsonb_build_object("
                   "'rule_id', 'VIGIL-TEST', 'title', 'Test event from Vigil', 'severity', 'info', "
                   "'status', 'open', 'category', 'test', 'test', true) "
                   "FROM webhooks w WHERE w.id = $1::uuid AND w.tenant_id = $2 RETURNING id",
                   2, params);
    if (res == NULL) {
        return -1;
    }
    if (PQntuples(res) == 0) {
        vg_warn("webhook.test for an unknown webhook", "tenant_id", job->env->tenant_id,
                "webhook_id", webhook_id);
    }
    PQclear(res);
    return 0;
}

static int scan_apply(vg_db *db, const tx_job *job)
{
    json_t *keep = json_array();
    size_t i;
    json_t *f;
    int rc = 0;
    json_array_foreach(job->findings, i, f)
    {
        json_array_append(keep, json_object_get(f, "fingerprint"));
        if (report_finding_upsert(db, job->ctx, job->env->tenant_id, job->cluster_id, f) != 0) {
            rc = -1;
            break;
        }
    }
    char scope[64];
    snprintf(scope, sizeof scope, "scan:%s", text_or_empty(job->env->data, "tool"));
    if (rc == 0 &&
        report_scope_resolve(db, job->ctx, job->env->tenant_id, job->cluster_id, scope, keep) < 0) {
        rc = -1;
    }
    json_decref(keep);
    return rc;
}

static int tx_apply(vg_db *db, void *arg)
{
    tx_job *job = arg;
    if (mark_processed(db, job) != 0) {
        return -1;
    }
    if (job->duplicate) {
        return 0;
    }
    const json_t *data = job->env->data;
    switch (job->kind) {
    case MSG_OBSERVED:
        return report_finding_upsert(db, job->ctx, job->env->tenant_id, job->cluster_id, data);
    case MSG_SCOPE:
        return report_scope_resolve(db, job->ctx, job->env->tenant_id, job->cluster_id,
                                    text_or_empty(data, "scope"),
                                    json_object_get(data, "fingerprints")) < 0
                   ? -1
                   : 0;
    case MSG_SCAN:
        return scan_apply(db, job);
    case MSG_WEBHOOK_TEST:
        return webhook_test_enqueue(db, job);
    case MSG_REPORT:
        return report_tenant_generate(db, job->ctx, job->env->tenant_id) != 0 ? -1 : 0;
    }
    return -1;
}

static int kind_of(const char *type, msg_kind *kind)
{
    static const struct {
        const char *type;
        msg_kind kind;
    } kinds[] = {{"finding.observed", MSG_OBSERVED},
                 {"finding.scope", MSG_SCOPE},
                 {"scan.report", MSG_SCAN},
                 {"webhook.test", MSG_WEBHOOK_TEST},
                 {"report.generate", MSG_REPORT}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(type, kinds[i].type) == 0) {
            *kind = kinds[i].kind;
            return 0;
        }
    }
    return -1;
}

/* Checks the message's data before any database work; MSG_SCAN normalises the report. */
static int job_prepare(tx_job *job, char *errbuf, size_t errlen)
{
    const json_t *data = job->env->data;
    switch (job->kind) {
    case MSG_OBSERVED:
        return report_finding_validate(data, errbuf, errlen);
    case MSG_SCOPE: {
        const json_t *fps = json_object_get(data, "fingerprints");
        size_t i;
        const json_t *fp;
        if (text_or_empty(data, "scope")[0] == '\0' || !json_is_array(fps)) {
            snprintf(errbuf, errlen, "finding.scope needs scope and a fingerprints array");
            return -1;
        }
        json_array_foreach(fps, i, fp)
        {
            if (!json_is_string(fp)) {
                snprintf(errbuf, errlen, "finding.scope fingerprints must be strings");
                return -1;
            }
        }
        return 0;
    }
    case MSG_SCAN:
        return report_normalize(text_or_empty(data, "tool"), json_object_get(data, "report"),
                                job->env->tenant_id, job->cluster_id, &job->findings, errbuf,
                                errlen);
    case MSG_WEBHOOK_TEST:
        if (!vg_uuid_valid(text_or_empty(data, "webhook_id"))) {
            snprintf(errbuf, errlen, "webhook.test needs data.webhook_id (a UUID)");
            return -1;
        }
        return 0;
    case MSG_REPORT:
        return 0;
    }
    return -1;
}

vg_handle_result report_handle_message(const vg_message *msg, vg_db *db, void *arg, char *errbuf,
                                       size_t errlen)
{
    const vg_envelope *env = msg->env;
    tx_job job = {
        .ctx = arg, .env = env, .cluster_id = env->cluster_id[0] ? env->cluster_id : NULL};
    if (kind_of(env->type, &job.kind) != 0) {
        return VG_HANDLE_OK; /* another service's message */
    }
    if (env->tenant_id[0] == '\0') {
        snprintf(errbuf, errlen, "%s without tenant_id", env->type);
        return VG_HANDLE_REJECT;
    }
    if (job_prepare(&job, errbuf, errlen) != 0) {
        vg_warn("message rejected", "type", env->type, "tenant_id", env->tenant_id, "error",
                errbuf);
        return VG_HANDLE_REJECT;
    }
    int rc = vg_db_tx(db, NULL, tx_apply, &job);
    json_decref(job.findings);
    if (rc != 0) {
        snprintf(errbuf, errlen, "database: %s", vg_db_error(db));
        /* 23503: the tenant or cluster does not exist; 22xxx: data the database refuses */
        const char *state = vg_db_sqlstate(db);
        return strcmp(state, "23503") == 0 || strncmp(state, "22", 2) == 0 ? VG_HANDLE_REJECT
                                                                           : VG_HANDLE_RETRY;
    }
    if (job.duplicate) {
        vg_info("duplicate envelope ignored", "id", env->id, "type", env->type, "tenant_id",
                env->tenant_id);
    }
    return VG_HANDLE_OK;
}
