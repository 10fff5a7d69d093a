/* Sends a batch of messages on a producer this thread owns and waits until the broker
 * acknowledged every one of them (the consumer commits only after that). */
#ifndef VIGIL_INVENTORY_EMIT_H
#define VIGIL_INVENTORY_EMIT_H

#include <stddef.h>

#include "vigil/kafka.h"

typedef struct inv_emitter inv_emitter;

/* p is borrowed and must be polled by no other thread; topic is a full topic name. */
inv_emitter *inv_emitter_new(vg_producer *p, const char *topic);
/* Queues one message; payload is borrowed (copied by the producer). Returns 0 or -1. */
int inv_emitter_send(inv_emitter *e, const char *key, const char *payload)
    __attribute__((warn_unused_result));
/* Waits for every report; returns 0 when all were delivered, -1 on a failure or timeout. */
int inv_emitter_wait(inv_emitter *e, int timeout_ms) __attribute__((warn_unused_result));
size_t inv_emitter_sent(const inv_emitter *e);
/* Frees the batch; after a timeout the batch is left to the reports still due. */
void inv_emitter_destroy(inv_emitter *e);

#endif
