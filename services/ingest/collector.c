/* Cluster syncs: lease, credential, listing, snapshot publishing, status and findings. */
#include "collector.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kube.h"
#include "snapshot.h"
#include "vigil/alloc.h"
#include "vigil/envelope.h"
#include "vigil/log.h"
#include "vigil/metrics.h"
#include "vigil/netaddr.h"
#include "vigil/util.h"

#define SEND_TIMEOUT_MS 30000
#define SCHED_TICK_S 2
#define BACKOFF_BASE_S 5
#define MAX_WORKERS 16

struct ingest_collector {
    ingest_collector_opts opts;
    char holder[96]; /* "<host>:<pid>:<random>" */
    atomic_bool stop;
    pthread_t threads[MAX_WORKERS];
    int nthreads;
    pthread_mutex_t mtx;
    pthread_cond_t cond;
    vg_counter *syncs_ok;
    vg_counter *syncs_failed;
};

/* One cluster row, as needed by a sync. */
typedef struct cluster_row {
    char id[VG_UUID_LEN + 1];
    char tenant_id[VG_UUID_LEN + 1];
    char *name, *server, *ca_cert, *credential;
    bool over_plan;
    bool fresh; /* synced after the command that asked for this sync */
} cluster_row;

/* The outcome of a failed sync. */
typedef struct sync_failure {
    const char *status; /* unreachable, unauthorized, error */
    char message[512];
} sync_failure;

/* ---- lease ------------------------------------------------------------------------------ */

static const char LEASE_TAKE_SQL[] =
    "INSERT INTO cluster_leases (cluster_id, holder, expires_at) "
    "VALUES ($1, $2, now() + make_interval(secs => $3::int)) "
    "ON CONFLICT (cluster_id) DO UPDATE SET holder = EXCLUDED.holder, "
    "    expires_at = EXCLUDED.expires_at "
    "WHERE cluster_leases.expires_at < now() OR cluster_leases.holder = EXCLUDED.holder "
    "RETURNING cluster_id";

/* Returns 1 when the lease is ours, 0 when another holder has it (or the cluster is gone),
 * -1 on a database error. */
static int lease_take(vg_db *db, const char *cluster_id, const char *holder, long lease_s)
{
    char secs[24];
    snprintf(secs, sizeof secs, "%ld", lease_s);
    const char *params[] = {cluster_id, holder, secs};
    PGresult *res = vg_db_exec(db, LEASE_TAKE_SQL, 3, params);
    if (res == NULL) {
        return strcmp(vg_db_sqlstate(db), "23503") == 0 ? 0 : -1; /* cluster deleted */
    }
    int taken = PQntuples(res) == 1;
    PQclear(res);
    return taken;
}

/* How a sync ends for the lease row. */
typedef enum {
    LEASE_SYNCED,    /* success: reset the backoff */
    LEASE_FAILED,    /* failure: grow the backoff */
    LEASE_UNCHANGED, /* nothing done (already synced, cluster gone): keep the backoff as is */
    LEASE_DEFERRED,  /* not to be collected now (plan): next look one interval away */
} lease_end;

static void lease_release(vg_db *db, const char *cluster_id, const char *holder, lease_end end,
                          long interval_s)
{
    static const char *const sql[] = {
        [LEASE_SYNCED] = "UPDATE cluster_leases SET expires_at = now(), failures = 0, "
                         "    next_attempt_at = NULL WHERE cluster_id = $1 AND holder = $2",
        [LEASE_FAILED] = "UPDATE cluster_leases SET expires_at = now(), failures = failures + 1, "
                         "    next_attempt_at = now() + make_interval(secs => least($3::int, "
                         "        $4::int * power(2, least(failures, 16))::int)) "
                         "WHERE cluster_id = $1 AND holder = $2",
        [LEASE_UNCHANGED] = "UPDATE cluster_leases SET expires_at = now() "
                            "WHERE cluster_id = $1 AND holder = $2",
        [LEASE_DEFERRED] = "UPDATE cluster_leases SET expires_at = now(), "
                           "    next_attempt_at = now() + make_interval(secs => $3::int) "
                           "WHERE cluster_id = $1 AND holder = $2",
    };
    static const int nparams[] = {2, 4, 2, 3};
    char cap[24], base[24];
    snprintf(cap, sizeof cap, "%ld", interval_s);
    snprintf(base, sizeof base, "%d", BACKOFF_BASE_S);
    const char *params[] = {cluster_id, holder, cap, base};
    if (vg_db_cmd(db, sql[end], nparams[end], params) != 0) {
        vg_warn("lease release failed", "cluster_id", cluster_id, "error", vg_db_error(db));
    }
}

/* ---- cluster row ------------------------------------------------------------------------- */

static const char CLUSTER_SQL[] =
    "SELECT c.tenant_id, c.name, c.server, c.ca_cert, c.credential, "
    "       t.plan = 'free' AND (SELECT count(*) FROM clusters o WHERE o.tenant_id = c.tenant_id "
    "           AND (o.created_at, o.id) < (c.created_at, c.id)) >= $2::bigint, "
    "       $3::timestamptz IS NOT NULL AND c.last_sync_at IS NOT NULL "
    "           AND c.last_sync_at >= $3::timestamptz "
    "FROM clusters c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1";

static void cluster_row_free(cluster_row *row)
{
    free(row->name);
    free(row->server);
    free(row->ca_cert);
    if (row->credential != NULL) {
        vg_wipe(row->credential, strlen(row->credential));
        free(row->credential);
    }
    memset(row, 0, sizeof *row);
}

/* Returns 1 when loaded, 0 when the cluster no longer exists, -1 on a database error. */
static int cluster_load(ingest_collector *c, vg_db *db, const char *cluster_id,
                        const char *not_before, cluster_row *row)
{
    char limit[24];
    snprintf(limit, sizeof limit, "%ld", c->opts.free_clusters);
    const char *params[] = {cluster_id, limit, not_before};
    PGresult *res = vg_db_exec(db, CLUSTER_SQL, 3, params);
    if (res == NULL) {
        return -1;
    }
    int found = PQntuples(res) == 1;
    if (found) {
        snprintf(row->id, sizeof row->id, "%s", cluster_id);
        snprintf(row->tenant_id, sizeof row->tenant_id, "%s", PQgetvalue(res, 0, 0));
        row->name = vg_strdup(PQgetvalue(res, 0, 1));
        row->server = vg_strdup(PQgetvalue(res, 0, 2));
        row->ca_cert = vg_strdup(PQgetvalue(res, 0, 3));
        row->credential = vg_strdup(PQgetvalue(res, 0, 4));
        row->over_plan = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
        row->fresh = strcmp(PQgetvalue(res, 0, 6), "t") == 0;
    }
    PQclear(res);
    return found;
}

/* ---- publishing -------------------------------------------------------------------------- */

typedef struct emit_ctx {
    ingest_collector *c;
    const char *cluster_id;
    char error[256];
} emit_ctx;

static int emit_sync(const char *payload, size_t len, void *arg)
{
    emit_ctx *ec = arg;
    if (vg_producer_send_sync(ec->c->opts.producer, vg_topic(VG_TOPIC_INVENTORY), ec->cluster_id,
                              payload, len, SEND_TIMEOUT_MS, ec->error, sizeof ec->error) != 0) {
        return -1;
    }
    return 0;
}

static void publish_finding(ingest_collector *c, const cluster_row *row, const sync_failure *f)
{
    const char *rule = strcmp(f->status, "unreachable") == 0    ? "VGL-COL-001"
                       : strcmp(f->status, "unauthorized") == 0 ? "VGL-COL-002"
                                                                : "VGL-COL-003";
    const char *title = rule[10] == '1'   ? "Cluster API server unreachable"
                        : rule[10] == '2' ? "Cluster credential rejected"
                                          : "Cluster sync failed";
    const char *remedy =
        rule[10] == '1' ? "Check the API server URL, its CA certificate and that Vigil can "
                          "reach it."
        : rule[10] == '2'
            ? "The vigil-reader token was revoked or expired: create a new token and update "
              "the cluster's credential."
            : "Check that the vigil-reader ClusterRole grants list on every resource Vigil "
              "reads and that the API server answers normally.";
    char fp_src[256], fp[65], now[32];
    snprintf(fp_src, sizeof fp_src, "%s|%s|%s|%s|", row->tenant_id, row->id, rule, row->id);
    vg_sha256_hex(fp_src, strlen(fp_src), fp);
    vg_time_rfc3339(now);
    json_t *data =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s},s:s,s:{s:s,s:s,s:s},s:s,s:{},s:s}",
                  "fingerprint", fp, "source", "collector", "scope", "collector", "rule_id", rule,
                  "title", title, "severity", rule[10] == '3' ? "medium" : "high", "category",
                  "collector", "object", "kind", "Cluster", "name", row->name, "uid", row->id,
                  "field", "", "evidence", "status", f->status, "message", f->message, "server",
                  row->server, "remediation", remedy, "refs", "detected_at", now);
    char *text = vg_envelope_build("finding.observed", row->tenant_id, row->id, data);
    char err[256];
    if (vg_producer_send_sync(c->opts.producer, vg_topic(VG_TOPIC_FINDINGS), row->id, text,
                              strlen(text), SEND_TIMEOUT_MS, err, sizeof err) != 0) {
        vg_error("finding publish failed", "cluster_id", row->id, "error", err);
    }
    free(text);
}

static void publish_scope(ingest_collector *c, const cluster_row *row)
{
    json_t *data = json_pack("{s:s,s:[]}", "scope", "collector", "fingerprints");
    char *text = vg_envelope_build("finding.scope", row->tenant_id, row->id, data);
    char err[256];
    if (vg_producer_send_sync(c->opts.producer, vg_topic(VG_TOPIC_FINDINGS), row->id, text,
                              strlen(text), SEND_TIMEOUT_MS, err, sizeof err) != 0) {
        vg_error("finding scope publish failed", "cluster_id", row->id, "error", err);
    }
    free(text);
}

/* ---- the sync ------------------------------------------------------------------------------ */

static void failure_from_kube(kube_status st, const char *msg, sync_failure *f)
{
    f->status = st == KUBE_UNAUTHORIZED  ? "unauthorized"
                : st == KUBE_UNREACHABLE ? "unreachable"
                                         : "error";
    snprintf(f->message, sizeof f->message, "%s", msg);
}

/* Lists one resource into the chunker; returns 0, 1 with f set (the cluster failed) or -1
 * (publishing failed). */
static int snapshot_resource(ingest_collector *c, ingest_kube *kube, const ingest_resource *r,
                             ingest_chunker *ch, json_t *counts, json_t *absent, sync_failure *f)
{
    json_t *items = NULL;
    char msg[512];
    kube_status st = ingest_kube_list(kube, r, c->opts.page_size, &items, msg, sizeof msg);
    if (st == KUBE_ABSENT) {
        json_array_append_new(absent, json_string(r->name));
        return 0;
    }
    if (st != KUBE_OK) {
        failure_from_kube(st, msg, f);
        return 1;
    }
    size_t j;
    json_t *item;
    int rc = 0;
    json_array_foreach(items, j, item)
    {
        ingest_snapshot_item_prepare(r, item);
        if (ingest_chunker_add(ch, r->name, item) != 0) {
            rc = -1;
            break;
        }
    }
    json_object_set_new(counts, r->name, json_integer((json_int_t)json_array_size(items)));
    json_decref(items);
    return rc;
}

/* Lists every resource and publishes the snapshot. Returns 0 (snapshot complete), 1 with f
 * set (the cluster failed), -1 (our side failed: Kafka, or stopping). */
static int snapshot_run(ingest_collector *c, vg_db *db, const cluster_row *row, ingest_kube *kube,
                        const char *holder, sync_failure *f)
{
    char snapshot_id[VG_UUID_LEN + 1], started[32], finished[32];
    vg_uuid_v4(snapshot_id);
    vg_time_rfc3339(started);
    emit_ctx ec = {.c = c, .cluster_id = row->id, .error = ""};
    ingest_chunker ch = {.snapshot_id = snapshot_id,
                         .tenant_id = row->tenant_id,
                         .cluster_id = row->id,
                         .max_items = (size_t)c->opts.chunk_items,
                         .max_bytes = (size_t)c->opts.chunk_bytes,
                         .emit = emit_sync,
                         .arg = &ec};
    json_t *counts = json_object(), *absent = json_array();
    int rc = 0;
    for (size_t i = 0; i < ingest_nresources && rc == 0; i++) {
        if (atomic_load(&c->stop) || lease_take(db, row->id, holder, c->opts.lease_s) != 1) {
            snprintf(ec.error, sizeof ec.error, "stopping or lease lost");
            rc = -1;
            break;
        }
        rc = snapshot_resource(c, kube, &ingest_resources[i], &ch, counts, absent, f);
    }
    if (rc == 0 && ingest_chunker_flush(&ch) == 0) {
        vg_time_rfc3339(finished);
        char *done = ingest_snapshot_complete(&ch, counts, absent, started, finished);
        rc = emit_sync(done, strlen(done), &ec) == 0 ? 0 : -1;
        free(done);
    } else if (rc == 0) {
        rc = -1;
    }
    if (rc == 0) {
        char chunks[24], reqs[24];
        snprintf(chunks, sizeof chunks, "%ld", ch.chunks);
        snprintf(reqs, sizeof reqs, "%ld", ingest_kube_requests(kube));
        vg_info("cluster snapshot published", "cluster_id", row->id, "tenant_id", row->tenant_id,
                "snapshot_id", snapshot_id, "chunks", chunks, "requests", reqs);
    } else if (rc < 0) {
        vg_error("snapshot aborted", "cluster_id", row->id, "error", ec.error);
    }
    ingest_chunker_free(&ch);
    json_decref(counts);
    json_decref(absent);
    return rc;
}

static void record_status(vg_db *db, const char *cluster_id, const char *status,
                          const char *message)
{
    static const char sql[] = "UPDATE clusters SET status = $2, status_message = $3, "
                              "last_sync_at = now() WHERE id = $1";
    const char *params[] = {cluster_id, status, message};
    if (vg_db_cmd(db, sql, 3, params) != 0) {
        vg_error("cluster status update failed", "cluster_id", cluster_id, "error",
                 vg_db_error(db));
    }
}

/* Decrypts the credential and runs the snapshot; returns like snapshot_run. */
static int sync_with_credential(ingest_collector *c, vg_db *db, const cluster_row *row,
                                const char *holder, sync_failure *f)
{
    char aad[2 * VG_UUID_LEN + 2], err[256], pin[512];
    snprintf(aad, sizeof aad, "%s/%s", row->tenant_id, row->id);
    /* checked once, then pinned: every list request goes to the addresses checked here */
    if (vg_url_target_pin(row->server, c->opts.allow_private, pin, sizeof pin, err, sizeof err) !=
        0) {
        f->status = "error";
        snprintf(f->message, sizeof f->message, "API server address refused: %s", err);
        return 1;
    }
    size_t len = 0;
    unsigned char *token = vg_secret_open(c->opts.mk, row->credential, aad, &len);
    if (token == NULL) {
        f->status = "error";
        snprintf(f->message, sizeof f->message,
                 "the stored credential cannot be decrypted with the current master key");
        return 1;
    }
    ingest_kube *kube =
        ingest_kube_new(row->server, pin, row->ca_cert, (const char *)token, c->opts.timeout_s);
    vg_wipe(token, len);
    free(token);
    int rc = snapshot_run(c, db, row, kube, holder, f);
    ingest_kube_destroy(kube);
    return rc;
}

/* Runs one sync of cluster_id under holder's lease. not_before (RFC 3339 or NULL): skip
 * when the cluster was synced at or after it. Returns 0, or -1 on a database error. */
static int collector_sync(ingest_collector *c, vg_db *db, const char *cluster_id,
                          const char *holder, const char *not_before)
{
    int taken = lease_take(db, cluster_id, holder, c->opts.lease_s);
    if (taken <= 0) {
        return taken; /* someone else syncs it now, or it is gone */
    }
    cluster_row row = {{0}, {0}, NULL, NULL, NULL, NULL, false, false};
    int loaded = cluster_load(c, db, cluster_id, not_before, &row);
    if (loaded <= 0 || row.over_plan || row.fresh) {
        if (row.over_plan) {
            vg_info("cluster beyond the free plan: not collected", "cluster_id", cluster_id);
        }
        lease_release(db, cluster_id, holder, row.over_plan ? LEASE_DEFERRED : LEASE_UNCHANGED,
                      c->opts.interval_s);
        cluster_row_free(&row);
        return loaded < 0 ? -1 : 0;
    }
    sync_failure f = {NULL, ""};
    int rc = sync_with_credential(c, db, &row, holder, &f);
    if (rc == 0) {
        record_status(db, row.id, "ok", NULL);
        publish_scope(c, &row);
        vg_counter_inc(c->syncs_ok);
    } else if (rc == 1) {
        vg_warn("cluster sync failed", "cluster_id", row.id, "tenant_id", row.tenant_id, "status",
                f.status, "error", f.message);
        record_status(db, row.id, f.status, f.message);
        publish_finding(c, &row, &f);
        vg_counter_inc(c->syncs_failed);
    }
    lease_release(db, cluster_id, holder, rc == 0 ? LEASE_SYNCED : LEASE_FAILED,
                  c->opts.interval_s);
    cluster_row_free(&row);
    return 0;
}

/* ---- scheduler ----------------------------------------------------------------------------- */

/* Clusters due, and the time of the question: a cluster synced after it (by another worker
 * of this round) is skipped. */
static const char DUE_SQL[] =
    "SELECT c.id, now()::text FROM clusters c LEFT JOIN cluster_leases l ON l.cluster_id = c.id "
    "WHERE (l.expires_at IS NULL OR l.expires_at < now()) AND CASE "
    "    WHEN l.next_attempt_at IS NOT NULL THEN l.next_attempt_at <= now() "
    "    ELSE c.last_sync_at IS NULL "
    "         OR c.last_sync_at < now() - make_interval(secs => $1::int) END "
    "ORDER BY c.last_sync_at NULLS FIRST LIMIT 20";

static void scheduler_round(ingest_collector *c, vg_db *db, const char *holder)
{
    char interval[24];
    snprintf(interval, sizeof interval, "%ld", c->opts.interval_s);
    const char *params[] = {interval};
    PGresult *res = vg_db_exec(db, DUE_SQL, 1, params);
    if (res == NULL) {
        return;
    }
    for (int i = 0; i < PQntuples(res) && !atomic_load(&c->stop); i++) {
        (void)collector_sync(c, db, PQgetvalue(res, i, 0), holder, PQgetvalue(res, i, 1));
    }
    PQclear(res);
}

typedef struct worker_arg {
    ingest_collector *c;
    int index;
} worker_arg;

/* One scheduler worker: its own connection and lease holder name. Workers pick the same due
 * list; the lease makes each cluster go to one of them. */
static void *scheduler_main(void *arg)
{
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    ingest_collector *c = wa.c;
    vg_db *db = vg_db_new(c->opts.database_url, NULL);
    char holder[128];
    snprintf(holder, sizeof holder, "%s/scheduler-%d", c->holder, wa.index);
    while (!atomic_load(&c->stop)) {
        scheduler_round(c, db, holder);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += SCHED_TICK_S;
        pthread_mutex_lock(&c->mtx);
        if (!atomic_load(&c->stop)) {
            pthread_cond_timedwait(&c->cond, &c->mtx, &until);
        }
        pthread_mutex_unlock(&c->mtx);
    }
    vg_db_destroy(db);
    return NULL;
}

ingest_collector *ingest_collector_start(const ingest_collector_opts *opts, char *errbuf,
                                         size_t errlen)
{
    ingest_collector *c = vg_calloc(1, sizeof *c);
    c->opts = *opts;
    char host[64] = "host", rnd[9];
    unsigned char bytes[4];
    gethostname(host, sizeof host - 1);
    vg_random_bytes(bytes, sizeof bytes);
    snprintf(rnd, sizeof rnd, "%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
    snprintf(c->holder, sizeof c->holder, "%.60s:%d:%s", host, (int)getpid(), rnd);
    pthread_mutex_init(&c->mtx, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->syncs_ok = vg_counter_get("vigil_ingest_cluster_syncs_total", "Cluster syncs by outcome.",
                                 "result=\"ok\"");
    c->syncs_failed = vg_counter_get("vigil_ingest_cluster_syncs_total",
                                     "Cluster syncs by outcome.", "result=\"failed\"");
    int workers = opts->workers < 1 ? 1 : opts->workers > MAX_WORKERS ? MAX_WORKERS : opts->workers;
    for (int i = 0; opts->schedule && i < workers; i++) {
        worker_arg *wa = vg_malloc(sizeof *wa); /* freed by the worker */
        *wa = (worker_arg){c, i};
        int err = pthread_create(&c->threads[i], NULL, scheduler_main, wa);
        if (err != 0) {
            free(wa);
            snprintf(errbuf, errlen, "pthread_create: %s", strerror(err));
            ingest_collector_destroy(c);
            return NULL;
        }
        c->nthreads++;
    }
    return c;
}

void ingest_collector_request_stop(ingest_collector *c)
{
    pthread_mutex_lock(&c->mtx);
    atomic_store(&c->stop, true);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mtx);
}

void ingest_collector_destroy(ingest_collector *c)
{
    if (c == NULL) {
        return;
    }
    ingest_collector_request_stop(c);
    for (int i = 0; i < c->nthreads; i++) {
        pthread_join(c->threads[i], NULL);
    }
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mtx);
    free(c);
}

vg_handle_result ingest_collector_on_command(const vg_message *msg, vg_db *db, void *arg,
                                             char *errbuf, size_t errlen)
{
    ingest_collector *c = arg;
    const vg_envelope *env = msg->env;
    if (strcmp(env->type, "cluster.sync") != 0) {
        return VG_HANDLE_OK; /* another service's command */
    }
    if (env->cluster_id[0] == '\0') {
        snprintf(errbuf, errlen, "cluster.sync without cluster_id");
        return VG_HANDLE_REJECT;
    }
    char holder[128];
    snprintf(holder, sizeof holder, "%s/commands", c->holder);
    vg_info("cluster.sync received", "cluster_id", env->cluster_id, "tenant_id", env->tenant_id);
    if (collector_sync(c, db, env->cluster_id, holder, env->ts) != 0) {
        snprintf(errbuf, errlen, "database error: %s", vg_db_error(db));
        return VG_HANDLE_RETRY;
    }
    return VG_HANDLE_OK;
}
