/* The idempotent Kafka producer, and the dead-letter sender built on it.
 *
 * Threads. librdkafka serves delivery reports only from rd_kafka_poll(). A private poller
 * thread is its only caller (and, once that thread is joined, vg_producer_destroy), so the
 * delivery-report callback and the per-topic metric cache below are single-threaded.
 *  - vg_producer_send_sync: each call owns a heap completion (mutex + condition variable)
 *    that the poller signals. Any number of threads may wait at once; none of them polls, so
 *    no caller ever runs another caller's callback. A caller that times out marks its
 *    completion abandoned under the mutex and the poller frees it when the report arrives.
 *  - vg_producer_send with a callback: the poller appends the report to a pending list and
 *    vg_producer_poll (the owner's loop) drains it, so callbacks run on the owner's thread as
 *    the header promises. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka_internal.h"
#include "vigil/alloc.h"
#include "vigil/envelope.h"
#include "vigil/kafka.h"
#include "vigil/log.h"
#include "vigil/metrics.h"
#include "vigil/util.h"

#define PRODUCED_METRIC "vigil_kafka_messages_produced_total"
#define PRODUCED_HELP "Messages acknowledged by Kafka."
#define FAILED_METRIC "vigil_kafka_messages_failed_total"
#define FAILED_HELP "Messages Kafka did not accept (enqueue or delivery failure)."
#define DLQ_TIMEOUT_MS 10000

/* One message in flight that somebody waits for (its msg_opaque). */
typedef struct send_req {
    struct send_req *next; /* pending list link (async) */
    vg_delivery_cb done;   /* async: run by vg_producer_poll */
    void *opaque;
    rd_kafka_resp_err_t err;
    bool sync;      /* sync: the fields below are used */
    bool finished;  /* under mtx */
    bool abandoned; /* under mtx: the waiter gave up, the poller frees */
    pthread_mutex_t mtx;
    pthread_cond_t cond;
} send_req;

typedef struct topic_metrics {
    char *topic;
    vg_counter *produced;
    vg_counter *failed;
} topic_metrics;

struct vg_producer {
    rd_kafka_t *rk;
    pthread_t poller;
    atomic_bool stop;
    atomic_int inflight;    /* produced, report not yet handled */
    pthread_mutex_t mtx;    /* guards head/tail */
    pthread_cond_t cond;    /* signalled when the pending list grows */
    send_req *head, *tail;  /* async reports waiting for vg_producer_poll */
    topic_metrics *metrics; /* poller thread only */
    size_t nmetrics;
};

static void cond_init_monotonic(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

/* CLOCK_MONOTONIC deadline timeout_ms from now; a negative timeout means ~forever. */
static struct timespec deadline_after(int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long ms = timeout_ms < 0 ? (long long)INT_MAX : (long long)timeout_ms;
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static bool deadline_passed(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void sync_req_free(send_req *req)
{
    pthread_mutex_destroy(&req->mtx);
    pthread_cond_destroy(&req->cond);
    free(req);
}

static topic_metrics *producer_metrics(vg_producer *p, const char *topic)
{
    for (size_t i = 0; i < p->nmetrics; i++) {
        if (strcmp(p->metrics[i].topic, topic) == 0) {
            return &p->metrics[i];
        }
    }
    char label[320];
    vg_kafka_topic_label(label, sizeof label, topic);
    p->metrics = vg_realloc(p->metrics, (p->nmetrics + 1) * sizeof *p->metrics);
    topic_metrics *m = &p->metrics[p->nmetrics++];
    m->topic = vg_strdup(topic);
    m->produced = vg_counter_get(PRODUCED_METRIC, PRODUCED_HELP, label);
    m->failed = vg_counter_get(FAILED_METRIC, FAILED_HELP, label);
    return m;
}

/* Counts an enqueue failure from any thread (rare path: no cache). */
static void producer_count_enqueue_failure(const char *topic)
{
    char label[320];
    vg_kafka_topic_label(label, sizeof label, topic);
    vg_counter_inc(vg_counter_get(FAILED_METRIC, FAILED_HELP, label));
}

static void producer_complete_sync(send_req *req, rd_kafka_resp_err_t err)
{
    pthread_mutex_lock(&req->mtx);
    req->err = err;
    req->finished = true;
    bool abandoned = req->abandoned;
    pthread_cond_signal(&req->cond);
    pthread_mutex_unlock(&req->mtx);
    if (abandoned) {
        sync_req_free(req); /* the waiter is gone: the report owns req */
    }
}

/* Delivery report, on the poller thread (see the top of the file). */
static void producer_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    vg_producer *p = opaque;
    send_req *req = rkm->_private;
    const char *topic = rd_kafka_topic_name(rkm->rkt);
    topic_metrics *m = producer_metrics(p, topic);
    vg_counter_inc(rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR ? m->produced : m->failed);
    if (req == NULL || req->sync) {
        atomic_fetch_sub(&p->inflight, 1); /* before waking the waiter, which may read outq */
        if (req != NULL) {
            producer_complete_sync(req, rkm->err);
        } else if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            vg_warn("kafka delivery failed", "topic", topic, "error", rd_kafka_err2str(rkm->err));
        }
    } else {
        req->err = rkm->err;
        pthread_mutex_lock(&p->mtx);
        if (p->tail != NULL) {
            p->tail->next = req;
        } else {
            p->head = req;
        }
        p->tail = req;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->mtx);
        atomic_fetch_sub(&p->inflight, 1); /* after the push: flush relies on this order */
    }
}

static void *producer_poller_main(void *arg)
{
    vg_producer *p = arg;
    while (!atomic_load(&p->stop)) {
        rd_kafka_poll(p->rk, 100);
    }
    return NULL;
}

static int producer_conf(rd_kafka_conf_t *conf, char *errbuf, size_t errlen)
{
    static const char *const settings[][2] = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "5"},
        {"compression.codec", "lz4"},
        {"message.max.bytes", VG_KAFKA_MESSAGE_MAX_STR},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (vg_kafka_conf_set(conf, settings[i][0], settings[i][1], errbuf, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

vg_producer *vg_producer_new(const char *brokers, const char *client_id, char *errbuf,
                             size_t errlen)
{
    vg_producer *p = vg_calloc(1, sizeof *p);
    pthread_mutex_init(&p->mtx, NULL);
    cond_init_monotonic(&p->cond);
    rd_kafka_conf_t *conf = vg_kafka_conf_new(brokers, client_id, errbuf, errlen);
    if (conf == NULL || producer_conf(conf, errbuf, errlen) != 0) {
        goto fail;
    }
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, producer_dr_cb);
    p->rk = vg_kafka_handle_new(RD_KAFKA_PRODUCER, conf, errbuf, errlen);
    conf = NULL; /* consumed */
    if (p->rk == NULL) {
        goto fail;
    }
    sigset_t old;
    vg_kafka_signals_block(&old);
    int err = pthread_create(&p->poller, NULL, producer_poller_main, p);
    vg_kafka_signals_restore(&old);
    if (err != 0) {
        snprintf(errbuf, errlen, "pthread_create: %s", strerror(err));
        goto fail;
    }
    return p;
fail:
    if (conf != NULL) {
        rd_kafka_conf_destroy(conf);
    }
    if (p->rk != NULL) {
        rd_kafka_destroy(p->rk);
    }
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mtx);
    free(p);
    return NULL;
}

/* Enqueues one message (payload copied); req becomes the message's opaque. */
static rd_kafka_resp_err_t producer_produce(vg_producer *p, const char *topic, const char *key,
                                            const void *payload, size_t len, send_req *req)
{
    atomic_fetch_add(&p->inflight, 1); /* before: the report may come at once */
    rd_kafka_resp_err_t err = rd_kafka_producev(
        p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key, (key != NULL ? strlen(key) : 0)),
        RD_KAFKA_V_VALUE((void *)payload, len), RD_KAFKA_V_OPAQUE(req), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        atomic_fetch_sub(&p->inflight, 1);
    }
    return err;
}

int vg_producer_send(vg_producer *p, const char *topic, const char *key, const void *payload,
                     size_t len, vg_delivery_cb done, void *opaque)
{
    send_req *req = NULL;
    if (done != NULL) {
        req = vg_calloc(1, sizeof *req); /* owned by the report, freed by vg_producer_poll */
        req->done = done;
        req->opaque = opaque;
    }
    rd_kafka_resp_err_t err = producer_produce(p, topic, key, payload, len, req);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        vg_debug("kafka produce failed", "topic", topic, "error", rd_kafka_err2str(err));
        producer_count_enqueue_failure(topic);
        free(req);
        return -1;
    }
    return 0;
}

/* Waits for req's report until deadline. Frees req, or hands it to the poller on timeout. */
static int producer_wait_sync(send_req *req, const struct timespec *deadline, int timeout_ms,
                              char *errbuf, size_t errlen)
{
    pthread_mutex_lock(&req->mtx);
    while (!req->finished) {
        if (pthread_cond_timedwait(&req->cond, &req->mtx, deadline) == ETIMEDOUT) {
            break;
        }
    }
    bool finished = req->finished;
    rd_kafka_resp_err_t err = req->err;
    if (!finished) {
        req->abandoned = true; /* from now on req belongs to the poller */
    }
    pthread_mutex_unlock(&req->mtx);
    if (!finished) {
        snprintf(errbuf, errlen, "no acknowledgement within %d ms", timeout_ms);
        return -1;
    }
    sync_req_free(req);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errbuf, errlen, "delivery failed: %s", rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

int vg_producer_send_sync(vg_producer *p, const char *topic, const char *key, const void *payload,
                          size_t len, int timeout_ms, char *errbuf, size_t errlen)
{
    send_req *req = vg_calloc(1, sizeof *req);
    req->sync = true;
    pthread_mutex_init(&req->mtx, NULL);
    cond_init_monotonic(&req->cond);
    struct timespec deadline = deadline_after(timeout_ms);
    rd_kafka_resp_err_t err;
    /* a full local queue drains by itself (the poller runs): retry until the deadline */
    while ((err = producer_produce(p, topic, key, payload, len, req)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL &&
           !deadline_passed(&deadline)) {
        nanosleep(&(struct timespec){.tv_nsec = 5 * 1000000L}, NULL);
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errbuf, errlen, "produce to %s: %s", topic, rd_kafka_err2str(err));
        producer_count_enqueue_failure(topic);
        sync_req_free(req);
        return -1;
    }
    return producer_wait_sync(req, &deadline, timeout_ms, errbuf, errlen);
}

void vg_producer_poll(vg_producer *p, int timeout_ms)
{
    pthread_mutex_lock(&p->mtx);
    if (p->head == NULL && timeout_ms != 0) {
        struct timespec deadline = deadline_after(timeout_ms);
        while (p->head == NULL) {
            if (pthread_cond_timedwait(&p->cond, &p->mtx, &deadline) == ETIMEDOUT) {
                break;
            }
        }
    }
    send_req *req = p->head;
    p->head = p->tail = NULL;
    pthread_mutex_unlock(&p->mtx);
    while (req != NULL) {
        send_req *next = req->next;
        req->done(req->err != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_err2str(req->err) : NULL,
                  req->opaque);
        free(req);
        req = next;
    }
}

int vg_producer_flush(vg_producer *p, int timeout_ms)
{
    struct timespec deadline = deadline_after(timeout_ms);
    for (;;) {
        bool idle = atomic_load(&p->inflight) == 0;
        vg_producer_poll(p, 0); /* every report counted in inflight is pushed by now */
        if (idle) {
            return 0;
        }
        if (deadline_passed(&deadline)) {
            return -1;
        }
        vg_producer_poll(p, 10);
    }
}

int vg_producer_outq(vg_producer *p)
{
    return atomic_load(&p->inflight);
}

bool vg_producer_ping(vg_producer *p, int timeout_ms)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(p->rk, 0, NULL, &md, timeout_ms);
    bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR && md != NULL && md->broker_cnt > 0;
    if (md != NULL) {
        rd_kafka_metadata_destroy(md);
    }
    return ok;
}

void vg_producer_destroy(vg_producer *p)
{
    if (p == NULL) {
        return;
    }
    if (vg_producer_flush(p, 5000) != 0) {
        char count[16];
        snprintf(count, sizeof count, "%d", atomic_load(&p->inflight));
        vg_warn("kafka producer closing with undelivered messages", "count", count);
    }
    atomic_store(&p->stop, true);
    pthread_join(p->poller, NULL);
    /* the poller is gone: serve the purged messages' reports here, then their callbacks */
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    struct timespec deadline = deadline_after(1000);
    while (atomic_load(&p->inflight) > 0 && !deadline_passed(&deadline)) {
        rd_kafka_poll(p->rk, 50);
    }
    vg_producer_poll(p, 0);
    rd_kafka_destroy(p->rk);
    for (size_t i = 0; i < p->nmetrics; i++) {
        free(p->metrics[i].topic);
    }
    free(p->metrics);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mtx);
    free(p);
}

/* ---- dead-letter queue ------------------------------------------------------------------ */

/* A JSON string of s; bytes that are not valid UTF-8 become '?'. */
static json_t *dlq_text(const char *s)
{
    json_t *str = json_string(s);
    if (str != NULL) {
        return str;
    }
    char *copy = vg_strdup(s);
    for (char *c = copy; *c != '\0'; c++) {
        if ((unsigned char)*c >= 0x80) {
            *c = '?';
        }
    }
    str = json_string(copy);
    free(copy);
    return str;
}

/* "payload" (text) or "payload_base64", capped at VG_KAFKA_DLQ_PAYLOAD_MAX bytes so the
 * dead letter always fits in a Kafka message; a capped payload is marked with its full
 * length and SHA-256 (the original stays in its topic until retention removes it). */
static void dlq_set_payload(json_t *data, const void *payload, size_t len)
{
    size_t n = len > VG_KAFKA_DLQ_PAYLOAD_MAX ? VG_KAFKA_DLQ_PAYLOAD_MAX : len;
    json_t *text = n == 0 ? json_string("") : json_stringn(payload, n);
    if (text != NULL) {
        json_object_set_new(data, "payload", text);
    } else {
        char *b64 = vg_base64_encode(payload, n);
        json_object_set_new(data, "payload_base64", json_string(b64));
        free(b64);
    }
    if (n < len) {
        char sha[65];
        vg_sha256_hex(payload, len, sha);
        json_object_set_new(data, "payload_truncated", json_true());
        json_object_set_new(data, "payload_len", json_integer((json_int_t)len));
        json_object_set_new(data, "payload_sha256", json_string(sha));
    }
}

/* Best effort: tenant_id/cluster_id of the original envelope, when it has valid ones. */
static void dlq_original_ids(const void *payload, size_t len, char tenant[VG_UUID_LEN + 1],
                             char cluster[VG_UUID_LEN + 1])
{
    tenant[0] = cluster[0] = '\0';
    json_t *root = len > 0 ? json_loadb(payload, len, 0, NULL) : NULL;
    const char *t = json_string_value(json_object_get(root, "tenant_id"));
    const char *c = json_string_value(json_object_get(root, "cluster_id"));
    if (t != NULL && vg_uuid_valid(t)) {
        memcpy(tenant, t, VG_UUID_LEN + 1);
    }
    if (c != NULL && vg_uuid_valid(c)) {
        memcpy(cluster, c, VG_UUID_LEN + 1);
    }
    json_decref(root);
}

int vg_dlq_send(vg_producer *p, const char *topic, int32_t partition, int64_t offset,
                const char *key, const void *payload, size_t len, const char *reason)
{
    if (p == NULL) {
        vg_error("dead-letter send failed", "topic", topic, "error", "no DLQ producer");
        return -1;
    }
    char failed_at[32], tenant[VG_UUID_LEN + 1], cluster[VG_UUID_LEN + 1];
    vg_time_rfc3339(failed_at);
    dlq_original_ids(payload, len, tenant, cluster);
    json_t *data = json_object();
    json_object_set_new(data, "topic", dlq_text(topic));
    json_object_set_new(data, "partition", json_integer(partition));
    json_object_set_new(data, "offset", json_integer((json_int_t)offset));
    json_object_set_new(data, "key", key != NULL ? dlq_text(key) : json_null());
    json_object_set_new(data, "reason", dlq_text(reason != NULL ? reason : ""));
    dlq_set_payload(data, payload, len);
    json_object_set_new(data, "failed_at", json_string(failed_at));
    char *text = vg_envelope_build("dlq.message", tenant[0] ? tenant : NULL,
                                   cluster[0] ? cluster : NULL, data); /* data stolen */

    char errbuf[256], part[16], off[24];
    snprintf(part, sizeof part, "%d", (int)partition);
    snprintf(off, sizeof off, "%lld", (long long)offset);
    int rc = vg_producer_send_sync(p, vg_topic(VG_TOPIC_DLQ), key, text, strlen(text),
                                   DLQ_TIMEOUT_MS, errbuf, sizeof errbuf);
    if (rc != 0) {
        vg_error("dead-letter send failed", "topic", topic, "partition", part, "offset", off,
                 "error", errbuf);
    } else {
        vg_warn("message dead-lettered", "topic", topic, "partition", part, "offset", off, "reason",
                reason);
    }
    free(text);
    return rc;
}
