/* Kafka plumbing shared by the producer and the consumer (topic names, configuration,
 * signals, librdkafka logging) and topic creation through the Admin API. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"
#include "vigil/alloc.h"
#include "vigil/kafka.h"
#include "vigil/log.h"

/* ---- topic names ---------------------------------------------------------------------- */

/* Full topic names handed out by vg_topic(); never freed, so the pointers stay valid for the
 * process lifetime even if the prefix changes later. */
typedef struct topic_slot {
    struct topic_slot *next;
    char *base;
    char *prefix;
    char *full;
} topic_slot;

static pthread_mutex_t topic_lock = PTHREAD_MUTEX_INITIALIZER;
static char *topic_prefix; /* owned; NULL means "" */
static topic_slot *topic_slots;

void vg_topic_prefix_set(const char *prefix)
{
    pthread_mutex_lock(&topic_lock);
    free(topic_prefix);
    topic_prefix = (prefix != NULL && prefix[0] != '\0') ? vg_strdup(prefix) : NULL;
    pthread_mutex_unlock(&topic_lock);
}

const char *vg_topic(const char *base)
{
    pthread_mutex_lock(&topic_lock);
    const char *prefix = topic_prefix != NULL ? topic_prefix : "";
    topic_slot *slot = topic_slots;
    while (slot != NULL && (strcmp(slot->base, base) != 0 || strcmp(slot->prefix, prefix) != 0)) {
        slot = slot->next;
    }
    if (slot == NULL) {
        slot = vg_calloc(1, sizeof *slot);
        slot->base = vg_strdup(base);
        slot->prefix = vg_strdup(prefix);
        slot->full = vg_asprintf("%s%s", prefix, base);
        slot->next = topic_slots;
        topic_slots = slot;
    }
    pthread_mutex_unlock(&topic_lock);
    return slot->full;
}

/* ---- configuration, signals, logging ---------------------------------------------------- */

void vg_kafka_signals_block(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

void vg_kafka_signals_restore(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

void vg_kafka_topic_label(char *out, size_t outlen, const char *topic)
{
    snprintf(out, outlen, "topic=\"%s\"", topic);
}

int vg_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errbuf,
                      size_t errlen)
{
    char reason[256];
    if (rd_kafka_conf_set(conf, name, value, reason, sizeof reason) != RD_KAFKA_CONF_OK) {
        snprintf(errbuf, errlen, "%s: %s", name, reason);
        return -1;
    }
    return 0;
}

/* librdkafka's own log lines (from its internal threads): syslog levels to ours. */
static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    vg_log_level lvl = VG_LOG_DEBUG;
    if (level <= 3) {
        lvl = VG_LOG_ERROR;
    } else if (level == 4) {
        lvl = VG_LOG_WARN;
    } else if (level == 5) {
        lvl = VG_LOG_INFO;
    }
    vg_log_at(lvl, "librdkafka", "client", rd_kafka_name(rk), "facility", fac, "detail", buf);
}

/* Client-level errors (served by rd_kafka_poll / rd_kafka_consumer_poll). Most are transient
 * (broker down, transport) and librdkafka retries; fatal ones are logged as errors. */
static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    const char *name = rd_kafka_err2name((rd_kafka_resp_err_t)err);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char fatal[256];
        rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(rk, fatal, sizeof fatal);
        vg_error("kafka fatal error", "client", rd_kafka_name(rk), "error", rd_kafka_err2name(ferr),
                 "reason", fatal);
        return;
    }
    vg_warn("kafka error", "client", rd_kafka_name(rk), "error", name, "reason", reason);
}

rd_kafka_conf_t *vg_kafka_conf_new(const char *brokers, const char *client_id, char *errbuf,
                                   size_t errlen)
{
    if (brokers == NULL || brokers[0] == '\0') {
        snprintf(errbuf, errlen, "no Kafka brokers configured");
        return NULL;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (vg_kafka_conf_set(conf, "bootstrap.servers", brokers, errbuf, errlen) != 0) {
        goto fail;
    }
    if (client_id != NULL && vg_kafka_conf_set(conf, "client.id", client_id, errbuf, errlen) != 0) {
        goto fail;
    }
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

rd_kafka_t *vg_kafka_handle_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errbuf,
                                size_t errlen)
{
    char reason[512];
    sigset_t old;
    vg_kafka_signals_block(&old);
    rd_kafka_t *rk = rd_kafka_new(type, conf, reason, sizeof reason);
    vg_kafka_signals_restore(&old);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf); /* rd_kafka_new leaves conf with us on failure */
        snprintf(errbuf, errlen, "rd_kafka_new: %s", reason);
        return NULL;
    }
    return rk; /* conf now belongs to rk */
}

/* ---- topic creation --------------------------------------------------------------------- */

/* Collects the per-topic results; TOPIC_ALREADY_EXISTS is success. */
static int admin_check_result(rd_kafka_event_t *ev, char *errbuf, size_t errlen)
{
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errbuf, errlen, "CreateTopics: %s", rd_kafka_event_error_string(ev));
        return -1;
    }
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    if (res == NULL) {
        snprintf(errbuf, errlen, "CreateTopics: unexpected event %s", rd_kafka_event_name(ev));
        return -1;
    }
    size_t n = 0;
    const rd_kafka_topic_result_t **topics = rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(topics[i]);
        const char *name = rd_kafka_topic_result_name(topics[i]);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            vg_info("kafka topic created", "topic", name);
        } else if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            const char *msg = rd_kafka_topic_result_error_string(topics[i]);
            snprintf(errbuf, errlen, "%s: %s", name, msg != NULL ? msg : rd_kafka_err2str(err));
            return -1;
        }
    }
    return 0;
}

/* Builds the NewTopic objects into nts[count] (prefixed names). */
static int admin_new_topics(const char *const *bases, int count, int partitions,
                            rd_kafka_NewTopic_t **nts, char *errbuf, size_t errlen)
{
    char reason[256];
    for (int i = 0; i < count; i++) {
        const char *name = vg_topic(bases[i]);
        nts[i] = rd_kafka_NewTopic_new(name, partitions, -1, reason, sizeof reason);
        if (nts[i] == NULL) {
            snprintf(errbuf, errlen, "%s: %s", name, reason);
            return -1;
        }
        if (rd_kafka_NewTopic_set_config(nts[i], "max.message.bytes", VG_KAFKA_MESSAGE_MAX_STR) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(errbuf, errlen, "%s: cannot set max.message.bytes", name);
            return -1;
        }
    }
    return 0;
}

int vg_kafka_ensure_topics(const char *brokers, const char *const *bases, int count, int partitions,
                           char *errbuf, size_t errlen)
{
    if (count <= 0) {
        return 0;
    }
    int rc = -1;
    rd_kafka_t *rk = NULL;
    rd_kafka_queue_t *queue = NULL;
    rd_kafka_AdminOptions_t *options = NULL;
    rd_kafka_event_t *ev = NULL;
    rd_kafka_NewTopic_t **nts = vg_calloc((size_t)count, sizeof *nts);

    rd_kafka_conf_t *conf = vg_kafka_conf_new(brokers, "vigil-admin", errbuf, errlen);
    if (conf == NULL) {
        goto out;
    }
    rk = vg_kafka_handle_new(RD_KAFKA_PRODUCER, conf, errbuf, errlen);
    conf = NULL; /* consumed */
    if (rk == NULL || admin_new_topics(bases, count, partitions, nts, errbuf, errlen) != 0) {
        goto out;
    }
    options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    char reason[256];
    if (rd_kafka_AdminOptions_set_operation_timeout(options, 15000, reason, sizeof reason) ||
        rd_kafka_AdminOptions_set_request_timeout(options, 20000, reason, sizeof reason)) {
        snprintf(errbuf, errlen, "admin options: %s", reason);
        goto out;
    }
    queue = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, nts, (size_t)count, options, queue);
    ev = rd_kafka_queue_poll(queue, 30000);
    if (ev == NULL) {
        snprintf(errbuf, errlen, "CreateTopics: no answer within 30 s");
        goto out;
    }
    rc = admin_check_result(ev, errbuf, errlen);
out:
    if (ev != NULL) {
        rd_kafka_event_destroy(ev);
    }
    if (queue != NULL) {
        rd_kafka_queue_destroy(queue);
    }
    if (options != NULL) {
        rd_kafka_AdminOptions_destroy(options);
    }
    for (int i = 0; i < count; i++) {
        if (nts[i] != NULL) {
            rd_kafka_NewTopic_destroy(nts[i]);
        }
    }
    free(nts);
    if (rk != NULL) {
        rd_kafka_destroy(rk);
    }
    return rc;
}
