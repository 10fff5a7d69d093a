/* Kafka: an idempotent producer whose delivery reports are checked, and an at-least-once
 * consumer that stores an offset only after its handler (and the handler's database
 * transaction) succeeded; messages that keep failing go to the dead-letter topic with the
 * reason, and consumption goes on. */
#ifndef VIGIL_KAFKA_H
#define VIGIL_KAFKA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/db.h"
#include "vigil/envelope.h"

/* Topic base names; the configured prefix is added by vg_topic(). */
#define VG_TOPIC_TRACES "vigil.traces"
#define VG_TOPIC_INVENTORY "vigil.inventory"
#define VG_TOPIC_SCANS "vigil.scans"
#define VG_TOPIC_COMMANDS "vigil.commands"
#define VG_TOPIC_API_EVENTS "vigil.api-events"
#define VG_TOPIC_FINDINGS "vigil.findings"
#define VG_TOPIC_DLQ "vigil.dlq"

/* Sets the process-wide topic prefix (copied). */
void vg_topic_prefix_set(const char *prefix);
/* prefix + base, in a static per-base slot (valid for the process lifetime). */
const char *vg_topic(const char *base);

/* Creates the topics (prefixed) if missing, with the given partition count; existing topics
 * are fine. Returns 0 or -1 with errbuf set. */
int vg_kafka_ensure_topics(const char *brokers, const char *const *bases, int count, int partitions,
                           char *errbuf, size_t errlen) __attribute__((warn_unused_result));

typedef struct vg_producer vg_producer;

/* Called once per message on the thread that polls the producer (vg_producer_poll);
 * err is NULL on success or the broker's error text. */
typedef void (*vg_delivery_cb)(const char *err, void *opaque);

vg_producer *vg_producer_new(const char *brokers, const char *client_id, char *errbuf,
                             size_t errlen);
/* Queues a message (payload copied) for topic (a full, already-prefixed name). done may be
 * NULL: failures are then logged and counted. Returns 0 or -1 (queue full, unknown topic,
 * fatal producer error). */
int vg_producer_send(vg_producer *p, const char *topic, const char *key, const void *payload,
                     size_t len, vg_delivery_cb done, void *opaque)
    __attribute__((warn_unused_result));
/* Sends and waits for the acknowledgement. Returns 0 or -1 with errbuf set.
 * Thread-safe with respect to other senders. */
int vg_producer_send_sync(vg_producer *p, const char *topic, const char *key, const void *payload,
                          size_t len, int timeout_ms, char *errbuf, size_t errlen)
    __attribute__((warn_unused_result));
/* Serves delivery reports; call regularly from the owning loop. */
void vg_producer_poll(vg_producer *p, int timeout_ms);
/* Waits until every queued message is acknowledged; returns 0 or -1 on timeout. */
int vg_producer_flush(vg_producer *p, int timeout_ms);
/* Messages queued but not yet acknowledged. */
int vg_producer_outq(vg_producer *p);
/* True when a metadata request to the brokers answers within timeout_ms. */
bool vg_producer_ping(vg_producer *p, int timeout_ms);
/* Flushes (up to 5 s) and frees. NULL is a no-op. */
void vg_producer_destroy(vg_producer *p);

/* What a consumer handler decided about one message. */
typedef enum {
    VG_HANDLE_OK = 0, /* processed (transaction committed): store the offset */
    VG_HANDLE_RETRY,  /* transient failure: retry with backoff, then dead-letter */
    VG_HANDLE_REJECT, /* cannot ever be processed: dead-letter now with errbuf */
} vg_handle_result;

typedef struct vg_message {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const char *key; /* NULL when absent; NUL-terminated copy */
    size_t key_len;
    const void *payload;
    size_t len;
    const vg_envelope *env; /* parsed and validated envelope */
} vg_message;

/* db is the consumer's own connection (one per consumer thread). */
typedef vg_handle_result (*vg_consumer_handler)(const vg_message *msg, vg_db *db, void *arg,
                                                char *errbuf, size_t errlen);

typedef struct vg_consumer_opts {
    const char *brokers;
    const char *group;         /* consumer group id (not prefixed automatically) */
    const char *const *topics; /* base names; prefixed by the consumer */
    int ntopics;
    vg_consumer_handler handler;
    void *arg;
    const char *database_url; /* the consumer thread opens its own vg_db */
    vg_producer *dlq;         /* producer used for vigil.dlq (not owned) */
    int max_attempts;         /* handler attempts before dead-lettering (default 3) */
    int session_timeout_ms;   /* default 10000 */
} vg_consumer_opts;

typedef struct vg_consumer vg_consumer;

/* Creates the consumer and starts its thread. Envelopes failing validation go straight to
 * the DLQ. Returns NULL with errbuf set on failure. */
vg_consumer *vg_consumer_start(const vg_consumer_opts *opts, char *errbuf, size_t errlen);
/* Asks the thread to stop after the message in hand, commits stored offsets, closes the
 * consumer and joins the thread. NULL is a no-op. */
void vg_consumer_stop(vg_consumer *c);
/* Sum of the lag over assigned partitions as last seen (for /metrics), -1 when unknown. */
int64_t vg_consumer_lag(vg_consumer *c);

/* Builds the dead-letter message: {"v":1,...,"type":"dlq.message","data":{"topic",
 * "partition","offset","key","reason","payload" (original text, or payload_base64 when it
 * is not valid UTF-8),"failed_at"}} and sends it synchronously. Returns 0 or -1. */
int vg_dlq_send(vg_producer *p, const char *topic, int32_t partition, int64_t offset,
                const char *key, const void *payload, size_t len, const char *reason)
    __attribute__((warn_unused_result));

#endif
