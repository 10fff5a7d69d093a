/* Batches of acknowledged sends. The batch lives on the heap with a reference held by each
 * message in flight, so a report arriving after a timed-out wait still finds it. */
#include "emit.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/util.h"

struct inv_emitter {
    vg_producer *p;
    char *topic;
    atomic_int refs; /* the owner + one per message in flight */
    atomic_int pending;
    atomic_int failed;
    size_t sent;
};

static void emitter_unref(inv_emitter *e)
{
    if (atomic_fetch_sub(&e->refs, 1) == 1) {
        free(e->topic);
        free(e);
    }
}

static void emitter_done(const char *err, void *opaque)
{
    inv_emitter *e = opaque;
    if (err != NULL) {
        atomic_fetch_add(&e->failed, 1);
        vg_warn("finding delivery failed", "topic", e->topic, "error", err);
    }
    atomic_fetch_sub(&e->pending, 1);
    emitter_unref(e);
}

inv_emitter *inv_emitter_new(vg_producer *p, const char *topic)
{
    inv_emitter *e = vg_calloc(1, sizeof *e);
    e->p = p;
    e->topic = vg_strdup(topic);
    atomic_init(&e->refs, 1);
    atomic_init(&e->pending, 0);
    atomic_init(&e->failed, 0);
    return e;
}

int inv_emitter_send(inv_emitter *e, const char *key, const char *payload)
{
    atomic_fetch_add(&e->refs, 1);
    atomic_fetch_add(&e->pending, 1);
    int64_t deadline = vg_now_ms() + 10000;
    while (vg_producer_send(e->p, e->topic, key, payload, strlen(payload), emitter_done, e) != 0) {
        /* most likely a full local queue: serve reports, then try again */
        vg_producer_poll(e->p, 10);
        if (vg_now_ms() > deadline) {
            atomic_fetch_sub(&e->pending, 1);
            atomic_fetch_sub(&e->refs, 1);
            return -1;
        }
    }
    e->sent++;
    return 0;
}

int inv_emitter_wait(inv_emitter *e, int timeout_ms)
{
    int64_t deadline = vg_now_ms() + timeout_ms;
    while (atomic_load(&e->pending) > 0) {
        if (vg_now_ms() > deadline) {
            return -1;
        }
        vg_producer_poll(e->p, 20);
    }
    return atomic_load(&e->failed) == 0 ? 0 : -1;
}

size_t inv_emitter_sent(const inv_emitter *e)
{
    return e->sent;
}

void inv_emitter_destroy(inv_emitter *e)
{
    if (e != NULL) {
        emitter_unref(e);
    }
}
