/* Job persistence; see jobstore.h. */
#include "jobstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/envelope.h"
#include "vigil/log.h"

void fz_job_free(fz_job *job)
{
    if (job == NULL) {
        return;
    }
    free(job->base_url);
    json_decref(job->request);
    free(job);
}

typedef struct claim_tx {
    const char *worker;
    int lease_s;
    fz_job *job;
} claim_tx;

static int claim_fn(vg_db *db, void *arg)
{
    claim_tx *c = arg;
    char lease[16];
    snprintf(lease, sizeof lease, "%d", c->lease_s);
    const char *p1[] = {lease};
    PGresult *res = vg_db_exec(
        db,
        "SELECT j.id, j.tenant_id, coalesce(j.cluster_id::text, ''), j.base_url, j.request::text"
        " FROM fuzz_jobs j LEFT JOIN fuzz_job_leases l ON l.job_id = j.id"
        " WHERE j.status = 'queued' OR (j.status = 'running' AND (l.job_id IS NULL OR"
        "       l.heartbeat_at < now() - make_interval(secs => $1::int)))"
        " ORDER BY j.created_at LIMIT 1 FOR UPDATE OF j SKIP LOCKED",
        1, p1);
    if (res == NULL) {
        return -1;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    fz_job *job = vg_calloc(1, sizeof *job);
    snprintf(job->id, sizeof job->id, "%s", PQgetvalue(res, 0, 0));
    snprintf(job->tenant_id, sizeof job->tenant_id, "%s", PQgetvalue(res, 0, 1));
    snprintf(job->cluster_id, sizeof job->cluster_id, "%s", PQgetvalue(res, 0, 2));
    job->base_url = vg_strdup(PQgetvalue(res, 0, 3));
    job->request = json_loads(PQgetvalue(res, 0, 4), 0, NULL);
    PQclear(res);
    const char *p2[] = {job->id, job->tenant_id, c->worker};
    if (vg_db_cmd(db,
                  "UPDATE fuzz_jobs SET status = 'running', error = NULL,"
                  " started_at = coalesce(started_at, now()) WHERE id = $1",
                  1, p2) != 0 ||
        vg_db_cmd(db,
                  "INSERT INTO fuzz_job_leases (job_id, tenant_id, worker) VALUES ($1, $2, $3)"
                  " ON CONFLICT (job_id) DO UPDATE SET worker = excluded.worker,"
                  " heartbeat_at = now(), runs = fuzz_job_leases.runs + 1",
                  3, p2) != 0) {
        fz_job_free(job);
        return -1;
    }
    c->job = job;
    return 0;
}

fz_job *fz_jobstore_claim(vg_db *db, const char *worker, int lease_s)
{
    claim_tx c = {.worker = worker, .lease_s = lease_s};
    if (vg_db_tx(db, NULL, claim_fn, &c) != 0) {
        fz_job_free(c.job);
        return NULL;
    }
    if (c.job != NULL && c.job->request == NULL) {
        fz_jobstore_fail(db, c.job, "the job request is not valid JSON");
        fz_job_free(c.job);
        return NULL;
    }
    return c.job;
}

int fz_jobstore_heartbeat(vg_db *db, const fz_job *job, const char *worker)
{
    const char *p[] = {job->id, worker};
    return vg_db_cmd(db,
                     "UPDATE fuzz_job_leases SET heartbeat_at = now()"
                     " WHERE job_id = $1 AND worker = $2",
                     2, p);
}

void fz_jobstore_release(vg_db *db, const fz_job *job)
{
    const char *p[] = {job->id};
    if (vg_db_cmd(db, "UPDATE fuzz_job_leases SET heartbeat_at = 'epoch' WHERE job_id = $1", 1,
                  p) != 0) {
        vg_warn("cannot release the job lease", "job_id", job->id);
    }
}

/* "{id,id}" of the valid UUIDs in api_ids, or NULL when the request has none. */
static char *api_ids_array(const json_t *ids)
{
    if (!json_is_array(ids) || json_array_size(ids) == 0) {
        return NULL;
    }
    vg_buf out = {0};
    vg_buf_puts(&out, "{");
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        const char *s = json_string_value(v);
        if (s != NULL && vg_uuid_valid(s)) {
            vg_buf_printf(&out, "%s%s", out.len > 1 ? "," : "", s);
        }
    }
    vg_buf_puts(&out, "}");
    return vg_buf_steal(&out);
}

static int load_inventory(vg_db *db, const fz_job *job, fz_target *tgt)
{
    char *ids = api_ids_array(json_object_get(job->request, "api_ids"));
    const char *p[] = {job->tenant_id, tgt->authority, tgt->host, ids};
    PGresult *res = vg_db_exec(
        db,
        "SELECT method, path_template, auth, schema::text FROM api_endpoints"
        " WHERE tenant_id = $1 AND (host = $2 OR host = $3)"
        "   AND ($4::uuid[] IS NULL OR id = ANY($4::uuid[])) ORDER BY path_template, method",
        4, p);
    free(ids);
    if (res == NULL) {
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *schema = json_loads(PQgetvalue(res, i, 3), 0, NULL);
        fz_target_add_inventory(tgt, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                                PQgetvalue(res, i, 2), schema);
        json_decref(schema);
    }
    PQclear(res);
    return 0;
}

int fz_jobstore_load_endpoints(vg_db *db, const fz_job *job, fz_target *tgt, char *errbuf,
                               size_t errlen)
{
    const char *p[] = {job->tenant_id, tgt->authority, tgt->host};
    PGresult *res = vg_db_exec(db,
                               "SELECT document::text FROM api_specs WHERE tenant_id = $1"
                               " AND ($2 = ANY(hosts) OR $3 = ANY(hosts)) ORDER BY uploaded_at",
                               3, p);
    if (res == NULL) {
        snprintf(errbuf, errlen, "database error loading specs");
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *doc = json_loads(PQgetvalue(res, i, 0), 0, NULL);
        if (doc != NULL) {
            fz_target_add_openapi(tgt, doc);
        }
        json_decref(doc);
    }
    PQclear(res);
    if (load_inventory(db, job, tgt) != 0) {
        snprintf(errbuf, errlen, "database error loading the API inventory");
        return -1;
    }
    return 0;
}

bool fz_jobstore_family_done(vg_db *db, const fz_job *job, const char *family)
{
    const char *p[] = {job->id, family};
    PGresult *res =
        vg_db_exec(db, "SELECT 1 FROM fuzz_job_checks WHERE job_id = $1 AND family = $2", 2, p);
    bool done = res != NULL && PQntuples(res) > 0;
    PQclear(res);
    return done;
}

void fz_jobstore_family_finish(vg_db *db, const fz_job *job, const char *family, long requests,
                               int findings, int done, int total)
{
    char req[24], fnd[16], dn[16], tot[16];
    snprintf(req, sizeof req, "%ld", requests);
    snprintf(fnd, sizeof fnd, "%d", findings);
    snprintf(dn, sizeof dn, "%d", done);
    snprintf(tot, sizeof tot, "%d", total);
    const char *ins[] = {job->id, job->tenant_id, family, req, fnd};
    const char *upd[] = {job->id, dn, tot};
    if (vg_db_cmd(db,
                  "INSERT INTO fuzz_job_checks (job_id, tenant_id, family, requests, findings)"
                  " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                  5, ins) != 0 ||
        vg_db_cmd(db,
                  "UPDATE fuzz_jobs SET progress = jsonb_build_object('done', $2::int,"
                  " 'total', $3::int, 'families', (SELECT jsonb_agg(family ORDER BY finished_at)"
                  " FROM fuzz_job_checks WHERE job_id = $1), 'requests', (SELECT sum(requests)"
                  " FROM fuzz_job_checks WHERE job_id = $1)) WHERE id = $1",
                  3, upd) != 0) {
        vg_warn("cannot record progress", "job_id", job->id, "family", family);
    }
}

typedef struct emit_tx {
    const fz_job *job;
    const char *fp, *check_id, *endpoint, *msg;
    int inserted;
} emit_tx;

static const char *msg_key(const fz_job *job)
{
    return job->cluster_id[0] ? job->cluster_id : job->tenant_id;
}

static int record_fn(vg_db *db, void *arg)
{
    emit_tx *e = arg;
    const char *p[] = {e->job->id, e->job->tenant_id, e->fp, e->check_id, e->endpoint, e->msg};
    PGresult *res = vg_db_exec(db,
                               "INSERT INTO fuzz_job_findings (job_id, tenant_id, fingerprint,"
                               " check_id, endpoint, payload) VALUES ($1, $2, $3, $4, $5, $6)"
                               " ON CONFLICT DO NOTHING RETURNING 1",
                               6, p);
    if (res == NULL) {
        return -1;
    }
    e->inserted = PQntuples(res);
    PQclear(res);
    if (e->inserted > 0 &&
        vg_db_cmd(db, "UPDATE fuzz_jobs SET findings = findings + 1 WHERE id = $1", 1, p) != 0) {
        return -1;
    }
    return 0;
}

/* Sends one recorded message and marks it published. The wait has no timeout: librdkafka
 * reports every message within its message.timeout.ms, and only a definitive failure may
 * leave the row for a later flush (a timed-out wait could still deliver, and the flush would
 * then publish the finding twice). */
static int publish(vg_db *db, vg_producer *p, const fz_job *job, const char *fp, const char *msg)
{
    char err[256];
    if (vg_producer_send_sync(p, vg_topic(VG_TOPIC_FINDINGS), msg_key(job), msg, strlen(msg), -1,
                              err, sizeof err) != 0) {
        vg_error("cannot publish a finding", "job_id", job->id, "error", err);
        return -1;
    }
    const char *params[] = {job->id, fp};
    return vg_db_cmd(db,
                     "UPDATE fuzz_job_findings SET published = true"
                     " WHERE job_id = $1 AND fingerprint = $2",
                     2, params);
}

int fz_jobstore_emit(vg_db *db, vg_producer *p, const fz_job *job, const char *fingerprint,
                     const char *check_id, const char *endpoint, json_t *data)
{
    const char *cluster = job->cluster_id[0] ? job->cluster_id : NULL;
    char *msg = vg_envelope_build("finding.observed", job->tenant_id, cluster, data);
    emit_tx e = {job, fingerprint, check_id, endpoint, msg, 0};
    int rc = vg_db_tx(db, NULL, record_fn, &e);
    if (rc == 0 && e.inserted > 0) {
        rc = publish(db, p, job, fingerprint, msg) == 0 ? 1 : -1;
    } else if (rc != 0) {
        rc = -1;
    }
    free(msg);
    return rc;
}

int fz_jobstore_flush(vg_db *db, vg_producer *p, const fz_job *job)
{
    const char *params[] = {job->id};
    PGresult *res = vg_db_exec(db,
                               "SELECT fingerprint, payload FROM fuzz_job_findings"
                               " WHERE job_id = $1 AND NOT published ORDER BY emitted_at",
                               1, params);
    if (res == NULL) {
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        rc = publish(db, p, job, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    }
    if (PQntuples(res) > 0 && rc == 0) {
        char n[16];
        snprintf(n, sizeof n, "%d", PQntuples(res));
        vg_info("unpublished findings sent", "job_id", job->id, "count", n);
    }
    PQclear(res);
    return rc;
}

static json_t *job_fingerprints(vg_db *db, const fz_job *job)
{
    const char *p[] = {job->id};
    PGresult *res = vg_db_exec(db,
                               "SELECT fingerprint FROM fuzz_job_findings WHERE job_id = $1"
                               " ORDER BY fingerprint",
                               1, p);
    if (res == NULL) {
        return NULL;
    }
    json_t *arr = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_array_append_new(arr, json_string(PQgetvalue(res, i, 0)));
    }
    PQclear(res);
    return arr;
}

int fz_jobstore_complete(vg_db *db, vg_producer *p, const fz_job *job, bool truncated)
{
    if (fz_jobstore_flush(db, p, job) != 0) {
        fz_jobstore_release(db, job);
        return -1;
    }
    json_t *fps = job_fingerprints(db, job);
    if (fps == NULL) {
        return -1;
    }
    char scope[64];
    snprintf(scope, sizeof scope, "fuzz:%s", job->id);
    json_t *data = json_pack("{s:s,s:o}", "scope", scope, "fingerprints", fps);
    const char *cluster = job->cluster_id[0] ? job->cluster_id : NULL;
    char *msg = vg_envelope_build("finding.scope", job->tenant_id, cluster, data);
    char err[256];
    int rc = vg_producer_send_sync(p, vg_topic(VG_TOPIC_FINDINGS), msg_key(job), msg, strlen(msg),
                                   -1, err, sizeof err);
    free(msg);
    if (rc != 0) {
        vg_error("cannot publish the finding scope", "job_id", job->id, "error", err);
        fz_jobstore_release(db, job);
        return -1;
    }
    const char *params[] = {job->id, truncated ? "true" : "false"};
    if (vg_db_cmd(db,
                  "UPDATE fuzz_jobs SET status = 'done', finished_at = now(),"
                  " findings = (SELECT count(*) FROM fuzz_job_findings WHERE job_id = $1),"
                  " progress = progress || jsonb_build_object('truncated', $2::boolean)"
                  " WHERE id = $1",
                  2, params) != 0 ||
        vg_db_cmd(db, "DELETE FROM fuzz_job_leases WHERE job_id = $1", 1, params) != 0) {
        return -1;
    }
    return 0;
}

void fz_jobstore_fail(vg_db *db, const fz_job *job, const char *error)
{
    const char *p[] = {job->id, error};
    if (vg_db_cmd(db,
                  "UPDATE fuzz_jobs SET status = 'failed', error = $2, finished_at = now()"
                  " WHERE id = $1",
                  2, p) != 0 ||
        vg_db_cmd(db, "DELETE FROM fuzz_job_leases WHERE job_id = $1", 1, p) != 0) {
        vg_error("cannot mark the job failed", "job_id", job->id);
    }
}

int fz_jobstore_job_exists(vg_db *db, const char *tenant_id, const char *job_id)
{
    if (!vg_uuid_valid(job_id)) {
        return 0;
    }
    const char *p[] = {job_id, tenant_id};
    PGresult *res =
        vg_db_exec(db, "SELECT 1 FROM fuzz_jobs WHERE id = $1 AND tenant_id = $2", 2, p);
    if (res == NULL) {
        return -1;
    }
    int n = PQntuples(res);
    PQclear(res);
    return n > 0;
}

int fz_jobstore_auto_job(vg_db *db, const char *tenant_id, const char *cluster_id,
                         const char *api_id, const char *host)
{
    const char *p[] = {tenant_id, cluster_id && *cluster_id ? cluster_id : NULL, api_id, host};
    PGresult *res = vg_db_exec(
        db,
        "INSERT INTO fuzz_jobs (tenant_id, cluster_id, base_url, request)"
        " SELECT $1, $2::uuid, e.scheme || '://' || $4,"
        "        jsonb_build_object('base_url', e.scheme || '://' || $4, 'api_ids',"
        "        jsonb_build_array($3::text), 'identities', '[]'::jsonb, 'auto', true)"
        " FROM fuzz_settings s JOIN api_endpoints e ON e.tenant_id = s.tenant_id AND e.id = "
        "$3::uuid"
        " WHERE s.tenant_id = $1 AND s.auto AND e.class <> 'outbound'"
        "   AND NOT EXISTS (SELECT 1 FROM fuzz_jobs j WHERE j.tenant_id = $1"
        "       AND j.base_url = e.scheme || '://' || $4 AND j.status IN ('queued', 'running'))"
        " RETURNING id",
        4, p);
    if (res == NULL) {
        return -1;
    }
    int n = PQntuples(res);
    PQclear(res);
    return n > 0;
}
