/* Producer and consumer against librdkafka's mock cluster (no broker needed): topic names,
 * topic creation, send/send_sync (also from several threads, also timing out), the consumer's
 * OK / poison / RETRY / REJECT paths with the dead-letter topic, a dead letter that fails
 * first, and the committed offsets after stop. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "vigil/alloc.h"
#include "vigil/kafka.h"
#include "vigil/log.h"
#include "vigil/metrics.h"
#include "vigil/util.h"

#define TENANT "11111111-2222-4333-8444-555555555555"
#define CLUSTER "66666666-7777-4888-9999-aaaaaaaaaaaa"
#define NMSG 8

static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mcluster;
static const char *brokers;

static void sleep_ms(long ms)
{
    nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L}, NULL);
}

static int mock_start(void)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (mock_rk == NULL) {
        fprintf(stderr, "rd_kafka_new: %s\n", errstr);
        return -1;
    }
    mcluster = rd_kafka_mock_cluster_new(mock_rk, 1);
    if (mcluster == NULL) {
        fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
        return -1;
    }
    brokers = rd_kafka_mock_cluster_bootstraps(mcluster);
    return 0;
}

static bool metrics_contain(const char *needle)
{
    vg_buf out = {0};
    vg_metrics_render(&out);
    bool found = out.data != NULL && strstr(out.data, needle) != NULL;
    if (!found) {
        fprintf(stderr, "  metrics lack: %s\n", needle);
    }
    vg_buf_free(&out);
    return found;
}

/* ---- topics -------------------------------------------------------------------------- */

static void test_topic_names(void)
{
    vg_topic_prefix_set("old.");
    const char *old = vg_topic(VG_TOPIC_TRACES);
    CHECK_STR_EQ(old, "old.vigil.traces");
    vg_topic_prefix_set("t.");
    const char *traces = vg_topic(VG_TOPIC_TRACES);
    CHECK_STR_EQ(traces, "t.vigil.traces");
    CHECK(vg_topic(VG_TOPIC_TRACES) == traces); /* same slot */
    CHECK_STR_EQ(old, "old.vigil.traces");      /* earlier names stay valid */
    CHECK_STR_EQ(vg_topic(VG_TOPIC_DLQ), "t.vigil.dlq");
}

/* The mock cluster of librdkafka 2.0.2 has no CreateTopics (the admin request waits for a
 * controller it never names), so topics are made through the mock API here and
 * vg_kafka_ensure_topics is only checked for its argument errors here: creating topics needs a
 * real broker. */
static void test_ensure_topics(void)
{
    const char *const bases[] = {VG_TOPIC_TRACES, VG_TOPIC_DLQ, VG_TOPIC_FINDINGS,
                                 VG_TOPIC_COMMANDS};
    char errbuf[256] = "";
    CHECK_INT_EQ(vg_kafka_ensure_topics("", bases, 1, 2, errbuf, sizeof errbuf), -1);
    CHECK(strstr(errbuf, "brokers") != NULL);
    CHECK_INT_EQ(vg_kafka_ensure_topics(brokers, bases, 0, 2, errbuf, sizeof errbuf), 0);
    for (int i = 0; i < 4; i++) {
        CHECK_INT_EQ(rd_kafka_mock_topic_create(mcluster, vg_topic(bases[i]), 2, 1), 0);
    }
}

/* ---- producer ------------------------------------------------------------------------ */

typedef struct async_state {
    atomic_int done;
    atomic_int failed;
    pthread_t thread;
    atomic_bool wrong_thread;
} async_state;

static void async_done(const char *err, void *opaque)
{
    async_state *st = opaque;
    if (err != NULL) {
        atomic_fetch_add(&st->failed, 1);
    }
    if (!pthread_equal(pthread_self(), st->thread)) {
        atomic_store(&st->wrong_thread, true);
    }
    atomic_fetch_add(&st->done, 1);
}

static void test_producer_send(void)
{
    char errbuf[256] = "";
    vg_producer *p = vg_producer_new(brokers, "test-producer", errbuf, sizeof errbuf);
    CHECK(p != NULL);
    if (p == NULL) {
        fprintf(stderr, "  %s\n", errbuf);
        return;
    }
    CHECK(vg_producer_ping(p, 5000));
    const char *topic = vg_topic(VG_TOPIC_FINDINGS);
    CHECK_INT_EQ(vg_producer_send_sync(p, topic, CLUSTER, "{}", 2, 5000, errbuf, sizeof errbuf), 0);
    async_state st = {.thread = pthread_self()};
    for (int i = 0; i < 10; i++) {
        CHECK_INT_EQ(vg_producer_send(p, topic, NULL, "x", 1, async_done, &st), 0);
    }
    CHECK_INT_EQ(vg_producer_send(p, topic, NULL, "y", 1, NULL, NULL), 0);
    for (int i = 0; i < 500 && atomic_load(&st.done) < 10; i++) {
        vg_producer_poll(p, 10);
    }
    CHECK_INT_EQ(atomic_load(&st.done), 10);
    CHECK_INT_EQ(atomic_load(&st.failed), 0);
    CHECK(!atomic_load(&st.wrong_thread)); /* callbacks run in vg_producer_poll's thread */
    CHECK_INT_EQ(vg_producer_flush(p, 5000), 0);
    CHECK_INT_EQ(vg_producer_outq(p), 0);
    CHECK(metrics_contain("vigil_kafka_messages_produced_total{topic=\"t.vigil.findings\"} 12"));
    vg_producer_destroy(p);
    vg_producer_destroy(NULL);
}

typedef struct sync_thread_arg {
    vg_producer *p;
    int ok;
} sync_thread_arg;

static void *sync_sender(void *arg)
{
    sync_thread_arg *a = arg;
    char errbuf[256];
    char payload[64];
    for (int i = 0; i < 25; i++) {
        int len = snprintf(payload, sizeof payload, "{\"i\":%d}", i);
        if (vg_producer_send_sync(a->p, vg_topic(VG_TOPIC_COMMANDS), CLUSTER, payload, (size_t)len,
                                  5000, errbuf, sizeof errbuf) == 0) {
            a->ok++;
        }
    }
    return NULL;
}

static void test_send_sync_threads(void)
{
    char errbuf[256];
    vg_producer *p = vg_producer_new(brokers, "test-sync", errbuf, sizeof errbuf);
    CHECK(p != NULL);
    if (p == NULL) {
        return;
    }
    pthread_t threads[4];
    sync_thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (sync_thread_arg){.p = p};
        pthread_create(&threads[i], NULL, sync_sender, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK_INT_EQ(args[i].ok, 25);
    }
    CHECK_INT_EQ(vg_producer_outq(p), 0);
    vg_producer_destroy(p);
}

static void test_send_sync_timeout(void)
{
    char errbuf[256] = "";
    vg_producer *p = vg_producer_new(brokers, "test-timeout", errbuf, sizeof errbuf);
    CHECK(p != NULL);
    if (p == NULL) {
        return;
    }
    const char *topic = vg_topic(VG_TOPIC_COMMANDS);
    CHECK_INT_EQ(vg_producer_send_sync(p, topic, NULL, "a", 1, 5000, errbuf, sizeof errbuf), 0);
    rd_kafka_mock_broker_set_rtt(mcluster, 1, 800);
    /* gives up before the acknowledgement; the poller frees the abandoned wait later */
    CHECK_INT_EQ(vg_producer_send_sync(p, topic, NULL, "b", 1, 100, errbuf, sizeof errbuf), -1);
    CHECK(strstr(errbuf, "no acknowledgement") != NULL);
    CHECK_INT_EQ(vg_producer_flush(p, 5000), 0);
    rd_kafka_mock_broker_set_rtt(mcluster, 1, 0);
    vg_producer_destroy(p);

    CHECK(vg_producer_new("", "x", errbuf, sizeof errbuf) == NULL);
    CHECK(strstr(errbuf, "brokers") != NULL);
}

/* ---- consumer ------------------------------------------------------------------------- */

typedef struct handler_state {
    pthread_mutex_t mtx;
    int calls[NMSG];
    int ok[NMSG];
    int order[64]; /* n of each successful call, in order */
    int norder;
    bool db_seen;
} handler_state;

static vg_handle_result test_handler(const vg_message *msg, vg_db *db, void *arg, char *errbuf,
                                     size_t errlen)
{
    handler_state *st = arg;
    json_int_t n = json_integer_value(json_object_get(msg->env->data, "n"));
    if (n < 0 || n >= NMSG) {
        snprintf(errbuf, errlen, "bad n");
        return VG_HANDLE_REJECT;
    }
    pthread_mutex_lock(&st->mtx);
    int call = ++st->calls[n];
    st->db_seen = st->db_seen || db != NULL;
    vg_handle_result res = VG_HANDLE_OK;
    if (strcmp(msg->env->type, "test.retry2") == 0 && call <= 2) {
        snprintf(errbuf, errlen, "transient failure %d", call);
        res = VG_HANDLE_RETRY;
    } else if (strcmp(msg->env->type, "test.reject") == 0) {
        snprintf(errbuf, errlen, "reject-reason-%d", (int)n);
        res = VG_HANDLE_REJECT;
    } else if (strcmp(msg->env->type, "test.retryall") == 0) {
        snprintf(errbuf, errlen, "still failing %d", call);
        res = VG_HANDLE_RETRY;
    }
    if (res == VG_HANDLE_OK) {
        st->ok[n]++;
        if (st->norder < 64) {
            st->order[st->norder++] = (int)n;
        }
    }
    pthread_mutex_unlock(&st->mtx);
    return res;
}

static int send_env(vg_producer *p, const char *type, int n)
{
    char errbuf[256];
    char *text = vg_envelope_build(type, TENANT, CLUSTER, json_pack("{s:i}", "n", n));
    int rc = vg_producer_send_sync(p, vg_topic(VG_TOPIC_TRACES), CLUSTER, text, strlen(text), 5000,
                                   errbuf, sizeof errbuf);
    free(text);
    return rc;
}

static int send_bytes(vg_producer *p, const void *buf, size_t len)
{
    char errbuf[256];
    return vg_producer_send_sync(p, vg_topic(VG_TOPIC_TRACES), CLUSTER, buf, len, 5000, errbuf,
                                 sizeof errbuf);
}

static int send_raw(vg_producer *p, const char *text)
{
    return send_bytes(p, text, strlen(text));
}

/* Dead letters read back without a group (assign from the beginning). */
typedef struct dlq_reader {
    rd_kafka_t *rk;
    json_t *letters; /* array of the dlq envelopes' data objects */
} dlq_reader;

static void dlq_reader_open(dlq_reader *r)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", "test-dlq-reader", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr);
    r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    rd_kafka_poll_set_consumer(r->rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(2);
    for (int i = 0; i < 2; i++) {
        rd_kafka_topic_partition_list_add(parts, vg_topic(VG_TOPIC_DLQ), i)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(r->rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    r->letters = json_array();
}

static void dlq_reader_poll(dlq_reader *r, int ms)
{
    rd_kafka_message_t *rkm = rd_kafka_consumer_poll(r->rk, ms);
    if (rkm == NULL) {
        return;
    }
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        vg_envelope env;
        char errbuf[256];
        if (vg_envelope_parse(rkm->payload, rkm->len, &env, errbuf, sizeof errbuf) == 0) {
            if (strcmp(env.type, "dlq.message") == 0) {
                json_array_append(r->letters, env.data);
            }
            vg_envelope_clear(&env);
        } else {
            fprintf(stderr, "  dead letter is not an envelope: %s\n", errbuf);
        }
    }
    rd_kafka_message_destroy(rkm);
}

static void dlq_reader_close(dlq_reader *r)
{
    rd_kafka_consumer_close(r->rk);
    rd_kafka_destroy(r->rk);
    json_decref(r->letters);
}

/* The dead letter whose data.offset is offset, or NULL. */
static json_t *dlq_find(dlq_reader *r, int64_t offset)
{
    size_t i;
    json_t *data;
    json_array_foreach(r->letters, i, data)
    {
        if (json_integer_value(json_object_get(data, "offset")) == offset) {
            return data;
        }
    }
    return NULL;
}

static bool consumer_done(handler_state *st, dlq_reader *r, int want_ok, size_t want_dlq)
{
    pthread_mutex_lock(&st->mtx);
    int ok = 0;
    for (int i = 0; i < NMSG; i++) {
        ok += st->ok[i] > 0;
    }
    pthread_mutex_unlock(&st->mtx);
    return ok >= want_ok && json_array_size(r->letters) >= want_dlq;
}

static vg_consumer *start_consumer(vg_producer *p, handler_state *st)
{
    static const char *const topics[] = {VG_TOPIC_TRACES};
    vg_consumer_opts opts = {
        .brokers = brokers,
        .group = "test-group",
        .topics = topics,
        .ntopics = 1,
        .handler = test_handler,
        .arg = st,
        .database_url = "postgresql://127.0.0.1:1/unused", /* connects lazily: never used */
        .dlq = p,
        .max_attempts = 3,
        .session_timeout_ms = 6000,
    };
    char errbuf[256] = "";
    vg_consumer *c = vg_consumer_start(&opts, errbuf, sizeof errbuf);
    if (c == NULL) {
        fprintf(stderr, "  vg_consumer_start: %s\n", errbuf);
    }
    return c;
}

/* The committed offset of the traces partition that holds CLUSTER's messages. */
static int64_t committed_offset(void)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", "test-group", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(parts, vg_topic(VG_TOPIC_TRACES), 0);
    rd_kafka_topic_partition_list_add(parts, vg_topic(VG_TOPIC_TRACES), 1);
    int64_t best = -1;
    if (rd_kafka_committed(rk, parts, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < parts->cnt; i++) {
            best = parts->elems[i].offset > best ? parts->elems[i].offset : best;
        }
    }
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
    return best;
}

static void check_dead_letters(dlq_reader *r)
{
    /* offsets: 0 ok, 1 poison, 2 ok, 3 retry2, 4 reject, 5 ok, 6 poison (DLQ failing), 7 ok */
    json_t *poison = dlq_find(r, 1);
    CHECK(poison != NULL);
    if (poison != NULL) {
        const char *reason = json_string_value(json_object_get(poison, "reason"));
        CHECK(reason != NULL && strncmp(reason, "invalid envelope: ", 18) == 0);
        CHECK_STR_EQ(json_string_value(json_object_get(poison, "payload")), "this is not json");
        CHECK_STR_EQ(json_string_value(json_object_get(poison, "topic")), "t.vigil.traces");
        CHECK_STR_EQ(json_string_value(json_object_get(poison, "key")), CLUSTER);
        CHECK(json_is_string(json_object_get(poison, "failed_at")));
    }
    json_t *rejected = dlq_find(r, 4);
    CHECK(rejected != NULL);
    if (rejected != NULL) {
        CHECK_STR_EQ(json_string_value(json_object_get(rejected, "reason")), "reject-reason-4");
    }
    CHECK(dlq_find(r, 3) == NULL); /* retried, then processed */
    json_t *binary = dlq_find(r, 6);
    CHECK(binary != NULL);
    if (binary != NULL) {
        CHECK_STR_EQ(json_string_value(json_object_get(binary, "payload_base64")), "/wD+");
    }
}

/* Phase 2, with the consumer stopped: a poison message whose dead letter fails twice (the
 * mock answers the next two Produce requests, which are the DLQ's, with errors) is neither
 * skipped nor stored, and the next message is processed after it. */
static vg_consumer *phase_dlq_failing(vg_producer *p, handler_state *st, dlq_reader *r)
{
    CHECK_INT_EQ(send_bytes(p, "\xff\x00\xfe", 3), 0); /* not UTF-8: base64 */
    CHECK_INT_EQ(send_env(p, "test.ok", 7), 0);
    rd_kafka_mock_push_request_errors(mcluster, 0 /* ApiKey Produce */, 2,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    vg_consumer *c = start_consumer(p, st);
    int64_t deadline = vg_now_ms() + 15000;
    while (!consumer_done(st, r, 5, 3) && vg_now_ms() < deadline) {
        dlq_reader_poll(r, 100);
    }
    CHECK(consumer_done(st, r, 5, 3));
    return c;
}

static void check_handler_calls(handler_state *st)
{
    pthread_mutex_lock(&st->mtx);
    CHECK_INT_EQ(st->calls[3], 3); /* RETRY, RETRY, OK */
    CHECK_INT_EQ(st->ok[3], 1);
    CHECK_INT_EQ(st->calls[4], 1); /* REJECT is not retried */
    CHECK(st->ok[0] == 1 && st->ok[2] == 1 && st->ok[5] == 1 && st->ok[7] == 1);
    CHECK(st->db_seen);
    /* in partition order: 0 2 3 5, then 7 after the restart */
    CHECK_INT_EQ(st->norder, 5);
    CHECK(st->order[0] == 0 && st->order[1] == 2 && st->order[2] == 3 && st->order[3] == 5 &&
          st->order[4] == 7);
    pthread_mutex_unlock(&st->mtx);
}

static void test_consumer(void)
{
    char errbuf[256];
    handler_state st = {.mtx = PTHREAD_MUTEX_INITIALIZER};
    vg_producer *p = vg_producer_new(brokers, "test-consumer", errbuf, sizeof errbuf);
    vg_consumer *c = p != NULL ? start_consumer(p, &st) : NULL;
    CHECK(c != NULL);
    if (c == NULL) {
        vg_producer_destroy(p);
        return;
    }
    CHECK_INT_EQ(send_env(p, "test.ok", 0), 0);
    CHECK_INT_EQ(send_raw(p, "this is not json"), 0);
    CHECK_INT_EQ(send_env(p, "test.ok", 2), 0);
    CHECK_INT_EQ(send_env(p, "test.retry2", 3), 0);
    CHECK_INT_EQ(send_env(p, "test.reject", 4), 0);
    CHECK_INT_EQ(send_env(p, "test.ok", 5), 0);

    dlq_reader r;
    dlq_reader_open(&r);
    int64_t deadline = vg_now_ms() + 15000;
    while (!consumer_done(&st, &r, 4, 2) && vg_now_ms() < deadline) {
        dlq_reader_poll(&r, 100);
    }
    CHECK(consumer_done(&st, &r, 4, 2));
    vg_consumer_stop(c);
    CHECK_INT_EQ(committed_offset(), 6); /* the final commit of stop */

    c = phase_dlq_failing(p, &st, &r);
    deadline = vg_now_ms() + 4000;
    while (vg_consumer_lag(c) != 0 && vg_now_ms() < deadline) {
        sleep_ms(100);
    }
    CHECK_INT_EQ(vg_consumer_lag(c), 0);
    vg_consumer_stop(c);
    CHECK_INT_EQ(committed_offset(), NMSG);

    check_handler_calls(&st);
    check_dead_letters(&r);
    dlq_reader_close(&r);
    CHECK(metrics_contain("vigil_kafka_messages_dead_lettered_total{topic=\"t.vigil.traces\"} 3"));
    CHECK(metrics_contain("vigil_kafka_messages_consumed_total{topic=\"t.vigil.traces\"} 8"));
    vg_producer_destroy(p);
}

int main(void)
{
    vg_log_init("test_kafka_mock", VG_LOG_WARN);
    if (mock_start() != 0) {
        return 1;
    }
    RUN(test_topic_names);
    RUN(test_ensure_topics);
    RUN(test_producer_send);
    RUN(test_send_sync_threads);
    RUN(test_send_sync_timeout);
    RUN(test_consumer);
    rd_kafka_mock_cluster_destroy(mcluster);
    rd_kafka_destroy(mock_rk);
    return harness_report("kafka_mock");
}
