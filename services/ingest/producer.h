/* The edge's Kafka producer: idempotent (acks=all) with a bounded delivery timeout
 * (message.timeout.ms = VIGIL_INGEST_ACK_TIMEOUT_MS) so a request waiting for its
 * acknowledgements gets an answer (503) in seconds when the broker is down, instead of the
 * library's default five minutes. Delivery reports are served on the event-loop thread: the
 * report queue wakes the loop through a pipe, so replies go out as soon as Kafka answers. */
#ifndef INGEST_PRODUCER_H
#define INGEST_PRODUCER_H

#include <event2/event.h>
#include <stddef.h>

typedef struct ingest_producer ingest_producer;

/* err is NULL on success, else the broker's or the library's error text. Runs on the loop. */
typedef void (*ingest_delivery_cb)(const char *err, void *opaque);

ingest_producer *ingest_producer_new(struct event_base *base, const char *brokers,
                                     long ack_timeout_ms, char *errbuf, size_t errlen);
/* Queues payload (ownership taken: freed with free() by the library, or here on failure).
 * Returns 0, or -1 (local queue full, fatal error): done is then NOT called. */
int ingest_producer_send(ingest_producer *p, const char *topic, const char *key, char *payload,
                         size_t len, ingest_delivery_cb done, void *opaque)
    __attribute__((warn_unused_result));
/* Serves pending delivery reports now (loop thread). */
void ingest_producer_poll(ingest_producer *p);
/* Waits up to timeout_ms for every report, then frees. NULL is a no-op. */
void ingest_producer_destroy(ingest_producer *p, int timeout_ms);

#endif
