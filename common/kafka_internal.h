/* Private to common/kafka_*.c (not installed with the public headers): configuration, signal
 * and metric helpers shared by the producer, the consumer and the admin client. */
#ifndef VIGIL_KAFKA_INTERNAL_H
#define VIGIL_KAFKA_INTERNAL_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stddef.h>

/* Largest message we produce: a 1 MB trace batch plus envelope, or its dead-letter copy
 * (base64 of a payload capped at VG_KAFKA_DLQ_PAYLOAD_MAX). Topics we create get the same
 * max.message.bytes. */
#define VG_KAFKA_MESSAGE_MAX 4194304
#define VG_KAFKA_MESSAGE_MAX_STR "4194304"
#define VG_KAFKA_DLQ_PAYLOAD_MAX (2 * 1024 * 1024)

/* Blocks SIGTERM, SIGINT, SIGHUP and SIGPIPE in the calling thread and saves the previous mask
 * in *old, so the threads created before vg_kafka_signals_restore() (librdkafka's and ours)
 * never take them: the services handle them in their own loop. */
void vg_kafka_signals_block(sigset_t *old);
void vg_kafka_signals_restore(const sigset_t *old);

/* rd_kafka_conf_set that reports "name: reason" in errbuf. Returns 0 or -1. */
int vg_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errbuf,
                      size_t errlen) __attribute__((warn_unused_result));

/* A new configuration with bootstrap.servers, client.id (when not NULL) and librdkafka's
 * log and error callbacks routed to vg_log. NULL with errbuf set on failure. */
rd_kafka_conf_t *vg_kafka_conf_new(const char *brokers, const char *client_id, char *errbuf,
                                   size_t errlen);

/* rd_kafka_new with the signals above blocked. conf is consumed in all cases (owned by the
 * handle on success, destroyed on failure). NULL with errbuf set on failure. */
rd_kafka_t *vg_kafka_handle_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errbuf,
                                size_t errlen);

/* Writes `topic="<topic>"` into out (topic names are [a-zA-Z0-9._-], nothing to escape). */
void vg_kafka_topic_label(char *out, size_t outlen, const char *topic);

#endif
