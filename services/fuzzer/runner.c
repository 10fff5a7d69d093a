/* Job runner; see runner.h. */
#include "runner.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "canary.h"
#include "check.h"
#include "jobstore.h"
#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/metrics.h"
#include "vigil/netaddr.h"
#include "vigil/util.h"

typedef struct fz_runner {
    fz_runner_opts o;
    char *database_url;
    char *canary_addr;
    char *canary_url;
    char worker[64];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool woken;
    atomic_bool stop;
    struct event_base *base;
    vg_db *db;
    fz_canary *canary;
} fz_runner;

/* One job being run. */
typedef struct job_run {
    fz_runner *r;
    fz_job *job;
    fz_target *tgt;
    struct event *heartbeat;
} job_run;

static int emit_finding(void *arg, const char *fp, const char *check_id, const char *endpoint,
                        json_t *data)
{
    job_run *jr = arg;
    int rc = fz_jobstore_emit(jr->r->db, jr->r->o.producer, jr->job, fp, check_id, endpoint, data);
    if (rc > 0) {
        vg_counter_inc(vg_counter_get("vigil_fuzzer_findings_total", "findings published", NULL));
        vg_info("finding", "job_id", jr->job->id, "tenant_id", jr->job->tenant_id, "rule_id",
                check_id, "endpoint", endpoint);
    }
    return rc;
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    job_run *jr = arg;
    if (fz_jobstore_heartbeat(jr->r->db, jr->job, jr->r->worker) != 0) {
        vg_warn("heartbeat failed", "job_id", jr->job->id);
    }
}

/* Builds the target: policy, ownership, identities, endpoints. 0 or -1 with errbuf. */
static int build_target(job_run *jr, char *errbuf, size_t errlen)
{
    fz_job *job = jr->job;
    char why[256];
    if (vg_url_target_check(job->base_url, jr->r->o.allow_private, why, sizeof why) != 0) {
        snprintf(errbuf, errlen, "target refused: %s", why);
        return -1;
    }
    jr->tgt = fz_target_new(job->base_url, errbuf, errlen);
    if (jr->tgt == NULL) {
        return -1;
    }
    char aad[VG_UUID_LEN * 2 + 2];
    snprintf(aad, sizeof aad, "%s/%s", job->tenant_id, job->id);
    if (fz_target_load_request(jr->tgt, job->request, jr->r->o.mk, aad, errbuf, errlen) != 0) {
        return -1;
    }
    if (fz_jobstore_load_endpoints(jr->r->db, job, jr->tgt, errbuf, errlen) != 0) {
        return -1;
    }
    if (jr->tgt->neps == 0) {
        snprintf(errbuf, errlen, "no endpoints known for %s (upload a spec or send traffic)",
                 jr->tgt->authority);
        return -1;
    }
    return 0;
}

static fz_engine *make_engine(job_run *jr)
{
    fz_engine_opts eo = {.concurrency = jr->r->o.concurrency,
                         .rate = jr->tgt->rate,
                         .timeout_ms = jr->r->o.timeout_ms,
                         .retries = 2,
                         .deadline_ms = vg_now_ms() + (int64_t)jr->tgt->time_budget_s * 1000,
                         .stop = &jr->r->stop};
    return fz_engine_new(jr->r->base, &eo);
}

/* Runs the families not completed yet. Returns 0 when all ran, 1 when the time budget ended
 * the job early, -1 when the runner is stopping (the job stays resumable). */
static int run_families(job_run *jr, fz_ctx *ctx)
{
    int total = 0, done = 0;
    for (int i = 0; fz_families[i].name != NULL; i++) {
        total += fz_target_wants(jr->tgt, fz_families[i].name);
    }
    for (int i = 0; fz_families[i].name != NULL; i++) {
        const fz_family *fam = &fz_families[i];
        if (!fz_target_wants(jr->tgt, fam->name)) {
            continue;
        }
        if (fz_jobstore_family_done(jr->r->db, jr->job, fam->name)) {
            done++;
            continue;
        }
        uint64_t sent = fz_engine_sent(ctx->eng);
        int found = ctx->findings;
        int rc = fam->run(ctx);
        if (atomic_load(&jr->r->stop)) {
            return -1;
        }
        if (rc != 0) {
            return 1;
        }
        done++;
        fz_jobstore_family_finish(jr->r->db, jr->job, fam->name,
                                  (long)(fz_engine_sent(ctx->eng) - sent), ctx->findings - found,
                                  done, total);
        vg_info("check family done", "job_id", jr->job->id, "family", fam->name);
    }
    return 0;
}

static void run_job(fz_runner *r, fz_job *job)
{
    job_run jr = {.r = r, .job = job};
    char err[512] = "";
    vg_info("job started", "job_id", job->id, "tenant_id", job->tenant_id, "base_url",
            job->base_url);
    if (build_target(&jr, err, sizeof err) != 0) {
        vg_warn("job failed", "job_id", job->id, "error", err);
        fz_jobstore_fail(r->db, job, err);
        fz_target_destroy(jr.tgt);
        return;
    }
    if (fz_jobstore_flush(r->db, r->o.producer, job) != 0) {
        vg_warn("job paused: recorded findings could not be published", "job_id", job->id);
        fz_jobstore_release(r->db, job);
        fz_target_destroy(jr.tgt);
        return;
    }
    jr.heartbeat = event_new(r->base, -1, EV_PERSIST, on_heartbeat, &jr);
    struct timeval tv = {r->o.lease_s / 3 > 0 ? r->o.lease_s / 3 : 1, 0};
    event_add(jr.heartbeat, &tv);
    fz_engine *eng = make_engine(&jr);
    fz_ctx ctx;
    fz_ctx_init(&ctx, jr.tgt, eng);
    ctx.canary = r->canary;
    ctx.tenant_id = job->tenant_id;
    ctx.job_id = job->id;
    ctx.emit = emit_finding;
    ctx.emit_arg = &jr;
    fz_ctx_crawl(&ctx);
    int rc = run_families(&jr, &ctx);
    char sent[32];
    snprintf(sent, sizeof sent, "%llu", (unsigned long long)fz_engine_sent(eng));
    vg_counter_add(vg_counter_get("vigil_fuzzer_requests_total", "requests sent to targets", NULL),
                   fz_engine_sent(eng));
    if (rc < 0) {
        fz_jobstore_release(r->db, job);
        vg_info("job paused (shutdown)", "job_id", job->id, "requests", sent);
    } else if (ctx.failures > 0) {
        fz_jobstore_release(r->db, job);
        vg_warn("job paused: findings could not be published", "job_id", job->id);
    } else if (fz_jobstore_complete(r->db, r->o.producer, job, rc == 1) == 0) {
        vg_info("job done", "job_id", job->id, "requests", sent);
    }
    fz_ctx_clear(&ctx);
    fz_engine_destroy(eng);
    event_free(jr.heartbeat);
    fz_target_destroy(jr.tgt);
}

static void wait_for_work(fz_runner *r)
{
    pthread_mutex_lock(&r->mu);
    if (!r->woken && !atomic_load(&r->stop)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += r->o.poll_ms / 1000;
        ts.tv_nsec += (long)(r->o.poll_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->cond, &r->mu, &ts);
    }
    r->woken = false;
    pthread_mutex_unlock(&r->mu);
}

static void *runner_main(void *arg)
{
    fz_runner *r = arg;
    while (!atomic_load(&r->stop)) {
        fz_job *job = fz_jobstore_claim(r->db, r->worker, r->o.lease_s);
        if (job == NULL) {
            wait_for_work(r);
            continue;
        }
        run_job(r, job);
        fz_job_free(job);
    }
    return NULL;
}

fz_runner *fz_runner_start(const fz_runner_opts *opts, char *errbuf, size_t errlen)
{
    fz_runner *r = vg_calloc(1, sizeof *r);
    r->o = *opts;
    r->database_url = vg_strdup(opts->database_url);
    r->canary_addr = vg_strdup(opts->canary_addr);
    r->canary_url = vg_strdup(opts->canary_url);
    r->o.database_url = r->database_url;
    r->o.canary_addr = r->canary_addr;
    r->o.canary_url = r->canary_url;
    if (r->o.poll_ms <= 0) {
        r->o.poll_ms = 2000;
    }
    char host[40] = "host";
    gethostname(host, sizeof host - 1);
    snprintf(r->worker, sizeof r->worker, "%.39s/%d", host, (int)getpid());
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cond, NULL);
    atomic_init(&r->stop, false);
    r->base = event_base_new();
    r->db = vg_db_new(r->database_url, NULL);
    r->canary = fz_canary_new(r->base, r->canary_addr, r->canary_url, errbuf, errlen);
    if (r->canary == NULL || pthread_create(&r->thread, NULL, runner_main, r) != 0) {
        fz_canary_destroy(r->canary);
        vg_db_destroy(r->db);
        event_base_free(r->base);
        free(r->database_url);
        free(r->canary_addr);
        free(r->canary_url);
        free(r);
        return NULL;
    }
    return r;
}

void fz_runner_wake(fz_runner *r)
{
    pthread_mutex_lock(&r->mu);
    r->woken = true;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->mu);
}

void fz_runner_shutdown(fz_runner *r)
{
    atomic_store(&r->stop, true);
    fz_runner_wake(r);
}

bool fz_runner_stop(fz_runner *r, int timeout_s)
{
    if (r == NULL) {
        return true;
    }
    fz_runner_shutdown(r);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_s;
    if (pthread_timedjoin_np(r->thread, NULL, &ts) != 0) {
        vg_warn("job runner still busy at shutdown; its job resumes after the lease");
        return false;
    }
    fz_canary_destroy(r->canary);
    vg_db_destroy(r->db);
    event_base_free(r->base);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cond);
    free(r->database_url);
    free(r->canary_addr);
    free(r->canary_url);
    free(r);
    return true;
}
