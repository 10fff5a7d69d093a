/* The at-least-once Kafka consumer.
 *
 * One thread per consumer polls librdkafka and runs the handler with the consumer's own
 * vg_db. An offset is stored (rd_kafka_offsets_store with offset + 1; auto-commit writes the
 * stored offsets every auto.commit.interval.ms, on revoke and at stop) only once its message
 * is done: the handler returned VG_HANDLE_OK, or the message is safely in the dead-letter
 * topic. A message whose dead letter cannot be sent is never skipped: the consumer pauses its
 * partitions and keeps polling (so it stays in the group) while it retries with backoff.
 * Messages that are not stored come back after a restart or rebalance: handlers must be
 * idempotent (DESIGN section 2). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka_internal.h"
#include "vigil/alloc.h"
#include "vigil/kafka.h"
#include "vigil/log.h"
#include "vigil/metrics.h"
#include "vigil/util.h"

#define LAG_INTERVAL_MS 3000
#define POLL_MS 200
#define DLQ_RETRY_MAX_MS 30000
#define HANDLER_BACKOFF_MAX_MS 10000

typedef struct consumer_topic {
    const char *name; /* from vg_topic(): lives as long as the process */
    vg_counter *consumed;
    vg_counter *failed; /* failed handler attempts and invalid envelopes */
    vg_counter *dead_lettered;
    vg_gauge *lag;
    int64_t lag_sum; /* scratch for consumer_update_lag */
} consumer_topic;

struct vg_consumer {
    rd_kafka_t *rk;
    vg_db *db; /* the thread's own connection; NULL without database_url */
    vg_consumer_handler handler;
    void *arg;
    vg_producer *dlq; /* not owned */
    int max_attempts;
    consumer_topic *topics;
    int ntopics;
    pthread_t thread;
    atomic_bool stop;
    _Atomic int64_t lag;
    /* consumer thread only: */
    bool paused;                   /* partitions paused while a dead letter fails */
    rd_kafka_message_t **deferred; /* polled while paused, handled after the resume */
    size_t ndeferred, deferred_head;
    int64_t lag_due_ms;
};

static consumer_topic *consumer_topic_find(vg_consumer *c, const char *name)
{
    for (int i = 0; i < c->ntopics; i++) {
        if (strcmp(c->topics[i].name, name) == 0) {
            return &c->topics[i];
        }
    }
    return &c->topics[0]; /* cannot happen: we subscribe to exact names */
}

/* Topic, partition and offset of rkm as strings for log lines. */
typedef struct msg_where {
    char partition[16];
    char offset[24];
} msg_where;

static msg_where where_of(const rd_kafka_message_t *rkm)
{
    msg_where w;
    snprintf(w.partition, sizeof w.partition, "%d", (int)rkm->partition);
    snprintf(w.offset, sizeof w.offset, "%lld", (long long)rkm->offset);
    return w;
}

/* ---- rebalance, pause, ownership -------------------------------------------------------- */

static void consumer_assign(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, bool add)
{
    if (strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0) {
        rd_kafka_error_t *error =
            add ? rd_kafka_incremental_assign(rk, parts) : rd_kafka_incremental_unassign(rk, parts);
        if (error != NULL) {
            vg_error("kafka assignment failed", "error", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
        return;
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, add ? parts : NULL);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        vg_error("kafka assignment failed", "error", rd_kafka_err2str(err));
    }
}

/* Served by rd_kafka_consumer_poll/close on the consumer thread. With auto-commit, librdkafka
 * commits the stored offsets of revoked partitions. */
static void consumer_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    vg_consumer *c = opaque;
    char count[16];
    snprintf(count, sizeof count, "%d", parts != NULL ? parts->cnt : 0);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        vg_info("kafka partitions assigned", "client", rd_kafka_name(rk), "count", count);
        consumer_assign(rk, parts, true);
        if (c->paused) {
            rd_kafka_pause_partitions(rk, parts); /* still blocked on a dead letter */
        }
    } else {
        if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
            vg_error("kafka rebalance error", "error", rd_kafka_err2str(err));
        }
        vg_info("kafka partitions revoked", "client", rd_kafka_name(rk), "count", count);
        consumer_assign(rk, parts, false);
    }
}

static void consumer_pause(vg_consumer *c, bool pause)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(c->rk, &parts) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (pause) {
            rd_kafka_pause_partitions(c->rk, parts);
        } else {
            rd_kafka_resume_partitions(c->rk, parts);
        }
        rd_kafka_topic_partition_list_destroy(parts);
    }
    c->paused = pause;
}

static bool consumer_owns(vg_consumer *c, const char *topic, int32_t partition)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(c->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return true; /* unknown: keep trying */
    }
    bool owns = rd_kafka_topic_partition_list_find(parts, topic, partition) != NULL;
    rd_kafka_topic_partition_list_destroy(parts);
    return owns;
}

static void consumer_log_error(const rd_kafka_message_t *rkm)
{
    vg_warn("kafka consumer error", "topic", rkm->rkt != NULL ? rd_kafka_topic_name(rkm->rkt) : "",
            "error", rd_kafka_err2name(rkm->err), "reason", rd_kafka_message_errstr(rkm));
}

/* Keeps a message polled while paused (partitions assigned and paused in the same callback
 * should never deliver one): it is handled, in order, once the dead letter went out. */
static void consumer_defer(vg_consumer *c, rd_kafka_message_t *rkm)
{
    c->deferred = vg_realloc(c->deferred, (c->ndeferred + 1) * sizeof *c->deferred);
    c->deferred[c->ndeferred++] = rkm; /* owned by c until handled */
}

/* Polls (serving rebalances and heartbeats) for ms while paused. False when stopping. */
static bool consumer_wait_paused(vg_consumer *c, int ms)
{
    int64_t deadline = vg_now_ms() + ms;
    while (!atomic_load(&c->stop)) {
        int64_t left = deadline - vg_now_ms();
        if (left <= 0) {
            return true;
        }
        rd_kafka_message_t *rkm =
            rd_kafka_consumer_poll(c->rk, left < POLL_MS ? (int)left : POLL_MS);
        if (rkm != NULL && rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            consumer_log_error(rkm);
            rd_kafka_message_destroy(rkm);
        } else if (rkm != NULL) {
            consumer_defer(c, rkm);
        }
    }
    return false;
}

/* Sleeps ms without polling (short handler backoffs). False when stopping. */
static bool consumer_sleep(vg_consumer *c, int ms)
{
    int64_t deadline = vg_now_ms() + ms;
    while (!atomic_load(&c->stop)) {
        int64_t left = deadline - vg_now_ms();
        if (left <= 0) {
            return true;
        }
        long step = left < 50 ? (long)left : 50L;
        nanosleep(&(struct timespec){.tv_nsec = step * 1000000L}, NULL);
    }
    return false;
}

/* ---- one message ------------------------------------------------------------------------ */

static void consumer_store(vg_consumer *c, const rd_kafka_message_t *rkm)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, rd_kafka_topic_name(rkm->rkt), rkm->partition)->offset =
        rkm->offset + 1;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(c->rk, list);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        err = list->elems[0].err;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        msg_where w = where_of(rkm);
        vg_warn("offset not stored (partition revoked?): the message will be redelivered", "topic",
                rd_kafka_topic_name(rkm->rkt), "partition", w.partition, "offset", w.offset,
                "error", rd_kafka_err2str(err));
    }
    rd_kafka_topic_partition_list_destroy(list);
}

/* Sends the dead letter, pausing and retrying while that fails. Returns 0 when sent, -1 when
 * the message is left for redelivery (stopping, or its partition was revoked). */
static int consumer_dead_letter(vg_consumer *c, consumer_topic *t, const rd_kafka_message_t *rkm,
                                const char *key, const char *reason)
{
    const char *topic = rd_kafka_topic_name(rkm->rkt);
    int delay_ms = 500, rc = -1;
    for (;;) {
        if (vg_dlq_send(c->dlq, topic, rkm->partition, rkm->offset, key, rkm->payload, rkm->len,
                        reason) == 0) {
            vg_counter_inc(t->dead_lettered);
            rc = 0;
            break;
        }
        msg_where w = where_of(rkm);
        if (!c->paused) {
            vg_error("dead letter not sent: consumption paused until it is", "topic", topic,
                     "partition", w.partition, "offset", w.offset);
            consumer_pause(c, true);
        }
        if (!consumer_wait_paused(c, delay_ms)) {
            break; /* stopping: not stored, so it is redelivered */
        }
        if (!consumer_owns(c, topic, rkm->partition)) {
            vg_warn("partition revoked while dead-lettering: its next owner takes the message",
                    "topic", topic, "partition", w.partition, "offset", w.offset);
            break;
        }
        delay_ms = delay_ms * 2 > DLQ_RETRY_MAX_MS ? DLQ_RETRY_MAX_MS : delay_ms * 2;
    }
    if (c->paused) {
        consumer_pause(c, false);
    }
    return rc;
}

/* Runs the handler with retries. Returns VG_HANDLE_OK, VG_HANDLE_RETRY (attempts exhausted),
 * VG_HANDLE_REJECT, or -1 when asked to stop during a backoff. */
static int consumer_run_handler(vg_consumer *c, consumer_topic *t, const vg_message *msg,
                                char *errbuf, size_t errlen)
{
    int delay_ms = 100;
    for (int attempt = 1;; attempt++) {
        errbuf[0] = '\0';
        vg_handle_result res = c->handler(msg, c->db, c->arg, errbuf, errlen);
        if (res == VG_HANDLE_OK) {
            return VG_HANDLE_OK;
        }
        vg_counter_inc(t->failed);
        if (res == VG_HANDLE_REJECT) {
            return VG_HANDLE_REJECT;
        }
        if (attempt >= c->max_attempts) {
            return VG_HANDLE_RETRY; /* any other value counts as RETRY too */
        }
        char att[16], part[16], off[24];
        snprintf(att, sizeof att, "%d", attempt);
        snprintf(part, sizeof part, "%d", (int)msg->partition);
        snprintf(off, sizeof off, "%lld", (long long)msg->offset);
        vg_warn("handler failed, retrying", "topic", msg->topic, "partition", part, "offset", off,
                "attempt", att, "error", errbuf, "tenant_id", msg->env->tenant_id, "cluster_id",
                msg->env->cluster_id);
        if (!consumer_sleep(c, delay_ms)) {
            return -1;
        }
        delay_ms = delay_ms * 4 > HANDLER_BACKOFF_MAX_MS ? HANDLER_BACKOFF_MAX_MS : delay_ms * 4;
    }
}

/* Fault injection for the at-least-once tests: with VIGIL_TEST_CRASH_AFTER_COMMIT=<type>, the
 * process kills itself with SIGKILL right after a handler committed a message of that type
 * and before its offset is stored, as a crash at the worst moment would. Never set it in
 * production. */
static void consumer_crash_point(const vg_envelope *env)
{
    const char *type = getenv("VIGIL_TEST_CRASH_AFTER_COMMIT");
    if (type != NULL && *type != '\0' && strcmp(type, env->type) == 0) {
        vg_warn("VIGIL_TEST_CRASH_AFTER_COMMIT: killing the process before the offset is stored",
                "type", env->type);
        raise(SIGKILL);
    }
}

/* Returns 0 when the message is done (handled or dead-lettered), -1 to leave it. */
static int consumer_handle_envelope(vg_consumer *c, consumer_topic *t,
                                    const rd_kafka_message_t *rkm, const char *key,
                                    const vg_envelope *env)
{
    vg_message msg = {
        .topic = rd_kafka_topic_name(rkm->rkt),
        .partition = rkm->partition,
        .offset = rkm->offset,
        .key = key,
        .key_len = key != NULL ? rkm->key_len : 0,
        .payload = rkm->payload,
        .len = rkm->len,
        .env = env,
    };
    char errbuf[1024];
    int res = consumer_run_handler(c, t, &msg, errbuf, sizeof errbuf);
    if (res == VG_HANDLE_OK) {
        consumer_crash_point(env);
        return 0;
    }
    if (res < 0) {
        return -1;
    }
    const char *reason = errbuf;
    if (reason[0] == '\0') {
        reason = res == VG_HANDLE_REJECT ? "rejected by the handler" : "handler kept failing";
    }
    return consumer_dead_letter(c, t, rkm, key, reason);
}

static void consumer_process(vg_consumer *c, const rd_kafka_message_t *rkm)
{
    consumer_topic *t = consumer_topic_find(c, rd_kafka_topic_name(rkm->rkt));
    vg_counter_inc(t->consumed);
    char *key = NULL;
    if (rkm->key != NULL) {
        key = vg_malloc(rkm->key_len + 1); /* NUL-terminated copy for the handler */
        memcpy(key, rkm->key, rkm->key_len);
        key[rkm->key_len] = '\0';
    }
    char errbuf[512];
    vg_envelope env;
    int rc;
    if (vg_envelope_parse(rkm->payload, rkm->len, &env, errbuf, sizeof errbuf) != 0) {
        vg_counter_inc(t->failed);
        char reason[600];
        snprintf(reason, sizeof reason, "invalid envelope: %s", errbuf);
        rc = consumer_dead_letter(c, t, rkm, key, reason);
    } else {
        rc = consumer_handle_envelope(c, t, rkm, key, &env);
        vg_envelope_clear(&env);
    }
    if (rc == 0) {
        consumer_store(c, rkm);
    }
    free(key);
}

/* ---- lag ------------------------------------------------------------------------------- */

/* Fills the offsets of parts that have no position yet with their committed offsets. */
static void consumer_fill_committed(vg_consumer *c, rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *missing = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; i < parts->cnt; i++) {
        if (parts->elems[i].offset < 0) {
            rd_kafka_topic_partition_list_add(missing, parts->elems[i].topic,
                                              parts->elems[i].partition);
        }
    }
    if (missing->cnt > 0 && rd_kafka_committed(c->rk, missing, 1000) == 0) {
        for (int i = 0; i < missing->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &missing->elems[i];
            rd_kafka_topic_partition_list_find(parts, tp->topic, tp->partition)->offset =
                tp->offset;
        }
    }
    rd_kafka_topic_partition_list_destroy(missing);
}

/* Lag = high watermark - position (or committed offset, or the low watermark when nothing
 * was committed: auto.offset.reset is earliest), over the assigned partitions. */
static void consumer_update_lag(vg_consumer *c)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(c->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return;
    }
    rd_kafka_position(c->rk, parts);
    consumer_fill_committed(c, parts);
    for (int i = 0; i < c->ntopics; i++) {
        c->topics[i].lag_sum = 0;
    }
    int64_t total = 0;
    int known = 0;
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int64_t low = -1, high = -1;
        if (rd_kafka_get_watermark_offsets(c->rk, tp->topic, tp->partition, &low, &high) != 0 ||
            high < 0) {
            continue;
        }
        int64_t from = tp->offset >= 0 ? tp->offset : low;
        if (from < 0) {
            continue;
        }
        int64_t lag = high > from ? high - from : 0;
        consumer_topic_find(c, tp->topic)->lag_sum += lag;
        total += lag;
        known++;
    }
    for (int i = 0; i < c->ntopics; i++) {
        vg_gauge_set(c->topics[i].lag, c->topics[i].lag_sum);
    }
    atomic_store(&c->lag, parts->cnt == 0 ? 0 : known > 0 ? total : -1);
    rd_kafka_topic_partition_list_destroy(parts);
}

/* ---- thread ---------------------------------------------------------------------------- */

static rd_kafka_message_t *consumer_next(vg_consumer *c)
{
    if (c->deferred_head < c->ndeferred) {
        rd_kafka_message_t *rkm = c->deferred[c->deferred_head++];
        if (c->deferred_head == c->ndeferred) {
            c->deferred_head = c->ndeferred = 0;
        }
        return rkm;
    }
    return rd_kafka_consumer_poll(c->rk, POLL_MS);
}

static void consumer_shutdown(vg_consumer *c)
{
    for (size_t i = c->deferred_head; i < c->ndeferred; i++) {
        rd_kafka_message_destroy(c->deferred[i]); /* not stored: redelivered later */
    }
    free(c->deferred);
    c->deferred = NULL;
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, NULL, 0); /* the stored offsets */
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        vg_warn("kafka final commit failed", "error", rd_kafka_err2str(err));
    }
    err = rd_kafka_consumer_close(c->rk);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        vg_warn("kafka consumer close failed", "error", rd_kafka_err2str(err));
    }
    rd_kafka_destroy(c->rk);
    c->rk = NULL;
    vg_db_destroy(c->db);
    c->db = NULL;
}

static void *consumer_main(void *arg)
{
    vg_consumer *c = arg;
    while (!atomic_load(&c->stop)) {
        rd_kafka_message_t *rkm = consumer_next(c);
        if (vg_now_ms() >= c->lag_due_ms) {
            consumer_update_lag(c);
            c->lag_due_ms = vg_now_ms() + LAG_INTERVAL_MS;
        }
        if (rkm == NULL) {
            continue;
        }
        if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            consumer_log_error(rkm);
        } else {
            consumer_process(c, rkm);
        }
        rd_kafka_message_destroy(rkm);
    }
    consumer_shutdown(c);
    return NULL;
}

/* ---- start / stop ---------------------------------------------------------------------- */

static rd_kafka_conf_t *consumer_conf(const vg_consumer_opts *opts, vg_consumer *c, char *errbuf,
                                      size_t errlen)
{
    int session_ms = opts->session_timeout_ms > 0 ? opts->session_timeout_ms : 10000;
    char session[16], heartbeat[16];
    snprintf(session, sizeof session, "%d", session_ms);
    /* 1000 ms; shorter sessions (tests: 6000) get 500 ms */
    snprintf(heartbeat, sizeof heartbeat, "%d", session_ms < 10000 ? 500 : 1000);
    const char *const settings[][2] = {
        {"group.id", opts->group},
        {"enable.auto.commit", "true"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"allow.auto.create.topics", "true"},
        {"session.timeout.ms", session},
        {"heartbeat.interval.ms", heartbeat},
    };
    rd_kafka_conf_t *conf = vg_kafka_conf_new(opts->brokers, opts->group, errbuf, errlen);
    if (conf == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (vg_kafka_conf_set(conf, settings[i][0], settings[i][1], errbuf, errlen) != 0) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rd_kafka_conf_set_rebalance_cb(conf, consumer_rebalance_cb);
    rd_kafka_conf_set_opaque(conf, c);
    return conf;
}

static void consumer_init_topics(vg_consumer *c, const vg_consumer_opts *opts)
{
    c->ntopics = opts->ntopics;
    c->topics = vg_calloc((size_t)opts->ntopics, sizeof *c->topics);
    for (int i = 0; i < opts->ntopics; i++) {
        consumer_topic *t = &c->topics[i];
        char label[320], lag_label[640];
        t->name = vg_topic(opts->topics[i]);
        vg_kafka_topic_label(label, sizeof label, t->name);
        snprintf(lag_label, sizeof lag_label, "group=\"%s\",%s", opts->group, label);
        t->consumed = vg_counter_get("vigil_kafka_messages_consumed_total",
                                     "Messages received from Kafka.", label);
        t->failed = vg_counter_get("vigil_kafka_consume_failures_total",
                                   "Failed handler attempts and invalid envelopes.", label);
        t->dead_lettered = vg_counter_get("vigil_kafka_messages_dead_lettered_total",
                                          "Messages sent to the dead-letter topic.", label);
        t->lag = vg_gauge_get("vigil_kafka_consumer_lag",
                              "Messages not yet consumed on the assigned partitions.", lag_label);
    }
}

static int consumer_subscribe(vg_consumer *c, char *errbuf, size_t errlen)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(c->ntopics);
    for (int i = 0; i < c->ntopics; i++) {
        rd_kafka_topic_partition_list_add(list, c->topics[i].name, RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errbuf, errlen, "subscribe: %s", rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

static bool consumer_opts_valid(const vg_consumer_opts *opts, char *errbuf, size_t errlen)
{
    if (opts->group == NULL || opts->group[0] == '\0' || opts->topics == NULL ||
        opts->ntopics <= 0 || opts->handler == NULL || opts->dlq == NULL) {
        snprintf(errbuf, errlen, "consumer needs a group, topics, a handler and a DLQ producer");
        return false;
    }
    return true;
}

vg_consumer *vg_consumer_start(const vg_consumer_opts *opts, char *errbuf, size_t errlen)
{
    if (!consumer_opts_valid(opts, errbuf, errlen)) {
        return NULL;
    }
    vg_consumer *c = vg_calloc(1, sizeof *c);
    c->handler = opts->handler;
    c->arg = opts->arg;
    c->dlq = opts->dlq;
    c->max_attempts = opts->max_attempts > 0 ? opts->max_attempts : 3;
    atomic_store(&c->lag, -1);
    consumer_init_topics(c, opts);
    rd_kafka_conf_t *conf = consumer_conf(opts, c, errbuf, errlen);
    if (conf == NULL) {
        goto fail;
    }
    c->rk = vg_kafka_handle_new(RD_KAFKA_CONSUMER, conf, errbuf, errlen); /* takes conf */
    if (c->rk == NULL) {
        goto fail;
    }
    rd_kafka_poll_set_consumer(c->rk);
    if (consumer_subscribe(c, errbuf, errlen) != 0) {
        goto fail;
    }
    c->db = opts->database_url != NULL ? vg_db_new(opts->database_url, NULL) : NULL;
    sigset_t old;
    vg_kafka_signals_block(&old);
    int err = pthread_create(&c->thread, NULL, consumer_main, c);
    vg_kafka_signals_restore(&old);
    if (err != 0) {
        snprintf(errbuf, errlen, "pthread_create: %s", strerror(err));
        goto fail;
    }
    vg_info("kafka consumer started", "group", opts->group);
    return c;
fail:
    if (c->rk != NULL) {
        rd_kafka_consumer_close(c->rk);
        rd_kafka_destroy(c->rk);
    }
    vg_db_destroy(c->db);
    free(c->topics);
    free(c);
    return NULL;
}

void vg_consumer_stop(vg_consumer *c)
{
    if (c == NULL) {
        return;
    }
    atomic_store(&c->stop, true);
    pthread_join(c->thread, NULL); /* the thread commits, closes and frees its handles */
    free(c->topics);
    free(c);
}

int64_t vg_consumer_lag(vg_consumer *c)
{
    return c != NULL ? atomic_load(&c->lag) : -1;
}
