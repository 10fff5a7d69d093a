/* The vigil.traces consumer: see traces.h. One trace.batch = one transaction: the envelope id
 * is recorded with the batch's effects, so a redelivery changes nothing; api.endpoint events
 * and findings are published (and flushed) before the commit, so a failure rolls back and the
 * message is retried (at-least-once; report deduplicates findings by fingerprint). */
#include "traces.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scope.h"
#include "store.h"
#include "vigil/alloc.h"
#include "vigil/envelope.h"
#include "vigil/log.h"
#include "vigil/metrics.h"
#include "vigil/util.h"

static vg_producer *g_producer; /* borrowed from the service */
static vg_counter *g_accepted, *g_rejected, *g_dropped, *g_duplicates, *g_events, *g_findings;

int api_inventory_init(const vg_base_conf *conf, vg_producer *producer, char *errbuf, size_t errlen)
{
    (void)conf;
    if (producer == NULL) {
        snprintf(errbuf, errlen, "api inventory: no producer");
        return -1;
    }
    g_producer = producer;
    const char *name = "vigil_inventory_api_records_total";
    const char *help = "Trace records seen by the API inventory, by result";
    g_accepted = vg_counter_get(name, help, "result=\"accepted\"");
    g_rejected = vg_counter_get(name, help, "result=\"rejected\"");
    g_dropped = vg_counter_get(name, help, "result=\"dropped_uncontrolled\"");
    g_duplicates = vg_counter_get("vigil_inventory_api_duplicate_batches_total",
                                  "trace.batch messages already applied (redeliveries)", NULL);
    g_events =
        vg_counter_get("vigil_inventory_api_events_total", "api.endpoint events published", NULL);
    g_findings = vg_counter_get("vigil_inventory_api_findings_total",
                                "finding.observed messages published by the API inventory", NULL);
    return 0;
}

typedef struct traces_tx {
    const vg_envelope *env;
    const json_t *records;
    const char *received_at;
    api_store_job job;
    char err[256];
} traces_tx;

/* Parses every record (again on a retried transaction); rejects are counted. */
static void parse_records(traces_tx *tx)
{
    size_t n = json_array_size(tx->records);
    free(tx->job.recs);
    tx->job.recs = vg_calloc(n + 1, sizeof *tx->job.recs);
    tx->job.nrecs = tx->job.rejected = 0;
    for (size_t i = 0; i < n; i++) {
        api_record *rec = &tx->job.recs[tx->job.nrecs];
        char err[160];
        if (api_record_parse(json_array_get(tx->records, i), rec, err, sizeof err) != 0) {
            tx->job.rejected++;
            vg_debug("trace record rejected", "tenant_id", tx->env->tenant_id, "reason", err);
            continue;
        }
        struct timespec ts;
        if (rec->start_time != NULL && !vg_time_parse(rec->start_time, &ts)) {
            rec->start_time = NULL;
        }
        tx->job.nrecs++;
    }
}

static int publish(const char *type, const vg_envelope *env, const char *topic, json_t *list)
{
    size_t i;
    json_t *data;
    json_array_foreach(list, i, data)
    {
        char *msg = vg_envelope_build(type, env->tenant_id, env->cluster_id, json_incref(data));
        int rc = vg_producer_send(g_producer, vg_topic(topic), env->cluster_id, msg, strlen(msg),
                                  NULL, NULL);
        free(msg);
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

static int traces_tx_run(vg_db *db, void *arg)
{
    traces_tx *tx = arg;
    parse_records(tx);
    if (api_store_apply(db, &tx->job) != 0) {
        snprintf(tx->err, sizeof tx->err, "database: %s", vg_db_error(db));
        return -1;
    }
    if (tx->job.duplicate || tx->job.no_cluster || g_producer == NULL) {
        return 0;
    }
    json_t *scope = NULL;
    if (json_array_size(tx->job.events) > 0 || json_array_size(tx->job.findings) > 0) {
        /* something changed: tell report which API findings still hold (same key as the
         * findings above, so it reads them first) */
        json_t *fps = api_scope_fingerprints(db, tx->env->tenant_id, tx->env->cluster_id);
        if (fps == NULL) {
            snprintf(tx->err, sizeof tx->err, "database: %s", vg_db_error(db));
            return -1;
        }
        scope = json_pack("[{s:s,s:o}]", "scope", "api", "fingerprints", fps);
    }
    int rc =
        publish("api.endpoint", tx->env, VG_TOPIC_API_EVENTS, tx->job.events) != 0 ||
                publish("finding.observed", tx->env, VG_TOPIC_FINDINGS, tx->job.findings) != 0 ||
                (scope != NULL &&
                 publish("finding.scope", tx->env, VG_TOPIC_FINDINGS, scope) != 0) ||
                vg_producer_flush(g_producer, 15000) != 0
            ? -1
            : 0;
    json_decref(scope);
    if (rc != 0) {
        snprintf(tx->err, sizeof tx->err, "publishing api events or findings failed");
    }
    return rc;
}

static void count_result(const traces_tx *tx)
{
    if (g_accepted == NULL) {
        return;
    }
    if (tx->job.duplicate) {
        vg_counter_inc(g_duplicates);
        return;
    }
    vg_counter_add(g_accepted, tx->job.nrecs);
    vg_counter_add(g_rejected, tx->job.rejected);
    vg_counter_add(g_dropped, tx->job.dropped);
    vg_counter_add(g_events, json_array_size(tx->job.events));
    vg_counter_add(g_findings, json_array_size(tx->job.findings));
}

vg_handle_result api_traces_handle(const vg_message *msg, vg_db *db, void *arg, char *errbuf,
                                   size_t errlen)
{
    (void)arg;
    const vg_envelope *env = msg->env;
    if (strcmp(env->type, "trace.batch") != 0) {
        return VG_HANDLE_OK; /* not ours */
    }
    const json_t *records = json_object_get(env->data, "records");
    if (env->tenant_id[0] == '\0' || env->cluster_id[0] == '\0' || !json_is_array(records)) {
        snprintf(errbuf, errlen, "trace.batch needs tenant_id, cluster_id and data.records");
        return VG_HANDLE_REJECT;
    }
    traces_tx tx = {.env = env, .records = records};
    tx.job.tenant_id = env->tenant_id;
    tx.job.cluster_id = env->cluster_id;
    tx.job.envelope_id = env->id;
    const char *received = json_string_value(json_object_get(env->data, "received_at"));
    struct timespec ts;
    tx.job.received_at = received != NULL && vg_time_parse(received, &ts) ? received : NULL;
    int64_t t0 = vg_now_ms();
    int rc = vg_db_tx(db, NULL, traces_tx_run, &tx);
    if (rc == 0) {
        count_result(&tx);
        char n[24], d[24], ms[24];
        snprintf(n, sizeof n, "%zu", tx.job.nrecs);
        snprintf(d, sizeof d, "%zu", tx.job.dropped);
        snprintf(ms, sizeof ms, "%lld", (long long)(vg_now_ms() - t0));
        vg_debug("trace batch applied", "tenant_id", env->tenant_id, "cluster_id", env->cluster_id,
                 "records", n, "dropped", d, "duplicate", tx.job.duplicate ? "true" : "false", "ms",
                 ms);
    } else {
        snprintf(errbuf, errlen, "%s", tx.err[0] ? tx.err : "trace batch transaction failed");
    }
    api_store_job_clear(&tx.job);
    free(tx.job.recs);
    return rc == 0 ? VG_HANDLE_OK : VG_HANDLE_RETRY;
}
