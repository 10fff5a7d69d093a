/* librdkafka producer whose delivery reports run on the libevent loop (see producer.h). */
#include "producer.h"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/metrics.h"

struct ingest_producer {
    rd_kafka_t *rk;
    rd_kafka_queue_t *mainq;
    int pipefd[2];
    struct event *wake;  /* readable pipe: reports are waiting */
    struct event *timer; /* fallback poll, in case a wake-up is coalesced away */
    vg_counter *acked;
    vg_counter *failed;
};

/* Per message: the caller's callback (msg_opaque). */
typedef struct delivery {
    ingest_delivery_cb done;
    void *opaque;
} delivery;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    ingest_producer *p = opaque;
    delivery *d = rkm->_private;
    bool ok = rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR;
    vg_counter_inc(ok ? p->acked : p->failed);
    if (d != NULL) {
        d->done(ok ? NULL : rd_kafka_err2str(rkm->err), d->opaque);
        free(d);
    }
}

static void on_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 4) {
        vg_warn("kafka", "facility", fac, "detail", buf);
    }
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    char drain[256];
    while (read(fd, drain, sizeof drain) > 0) {
    }
    ingest_producer_poll(arg);
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errbuf,
                    size_t errlen)
{
    char reason[256];
    if (rd_kafka_conf_set(conf, name, value, reason, sizeof reason) != RD_KAFKA_CONF_OK) {
        snprintf(errbuf, errlen, "%s: %s", name, reason);
        return -1;
    }
    return 0;
}

static rd_kafka_conf_t *producer_conf(ingest_producer *p, const char *brokers, long ack_ms,
                                      char *errbuf, size_t errlen)
{
    char timeout[24];
    snprintf(timeout, sizeof timeout, "%ld", ack_ms);
    const char *settings[][2] = {
        {"bootstrap.servers", brokers},
        {"client.id", "ingest-edge"},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "2"},
        {"compression.codec", "lz4"},
        {"message.max.bytes", "4194304"},
        {"message.timeout.ms", timeout},
        {"queue.buffering.max.kbytes", "262144"},
    };
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (conf_set(conf, settings[i][0], settings[i][1], errbuf, errlen) != 0) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_log_cb(conf, on_kafka_log);
    return conf;
}

ingest_producer *ingest_producer_new(struct event_base *base, const char *brokers,
                                     long ack_timeout_ms, char *errbuf, size_t errlen)
{
    ingest_producer *p = vg_calloc(1, sizeof *p);
    p->pipefd[0] = p->pipefd[1] = -1;
    rd_kafka_conf_t *conf = producer_conf(p, brokers, ack_timeout_ms, errbuf, errlen);
    if (conf == NULL || pipe2(p->pipefd, O_NONBLOCK | O_CLOEXEC) != 0) {
        if (conf != NULL) {
            rd_kafka_conf_destroy(conf);
            snprintf(errbuf, errlen, "pipe failed");
        }
        goto fail;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* librdkafka's threads never take signals */
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errbuf, errlen);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    p->mainq = rd_kafka_queue_get_main(p->rk);
    rd_kafka_queue_io_event_enable(p->mainq, p->pipefd[1], "1", 1);
    p->wake = event_new(base, p->pipefd[0], EV_READ | EV_PERSIST, on_wake, p);
    p->timer = event_new(base, -1, EV_PERSIST, on_wake, p);
    event_add(p->wake, NULL);
    event_add(p->timer, &(struct timeval){0, 50000});
    p->acked = vg_counter_get("vigil_ingest_kafka_acked_total",
                              "Edge messages acknowledged by Kafka.", NULL);
    p->failed = vg_counter_get("vigil_ingest_kafka_failed_total",
                               "Edge messages Kafka did not acknowledge.", NULL);
    return p;
fail:
    ingest_producer_destroy(p, 0);
    return NULL;
}

int ingest_producer_send(ingest_producer *p, const char *topic, const char *key, char *payload,
                         size_t len, ingest_delivery_cb done, void *opaque)
{
    delivery *d = vg_malloc(sizeof *d);
    d->done = done;
    d->opaque = opaque;
    rd_kafka_resp_err_t err =
        rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                          RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(payload, len),
                          RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        vg_warn("kafka produce failed", "topic", topic, "error", rd_kafka_err2str(err));
        vg_counter_inc(p->failed);
        free(payload);
        free(d);
        return -1;
    }
    return 0;
}

void ingest_producer_poll(ingest_producer *p)
{
    while (rd_kafka_poll(p->rk, 0) > 0) {
    }
}

void ingest_producer_destroy(ingest_producer *p, int timeout_ms)
{
    if (p == NULL) {
        return;
    }
    if (p->rk != NULL) {
        if (rd_kafka_flush(p->rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            vg_warn("edge producer closing with unacknowledged messages");
        }
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(p->rk, 100);
    }
    if (p->wake != NULL) {
        event_free(p->wake);
        event_free(p->timer);
    }
    if (p->mainq != NULL) {
        rd_kafka_queue_destroy(p->mainq);
    }
    if (p->rk != NULL) {
        rd_kafka_destroy(p->rk);
    }
    for (int i = 0; i < 2; i++) {
        if (p->pipefd[i] >= 0) {
            close(p->pipefd[i]);
        }
    }
    free(p);
}
