/* Runs slow blocking work (scrypt, HTTPS to a cluster) in a thread of its own and calls back
 * on the loop thread when it is done, so the loop keeps serving other requests. The work
 * function must not touch the database connection or the request: only done() does. */
#ifndef PORTAL_OFFLOAD_H
#define PORTAL_OFFLOAD_H

#include <event2/event.h>

typedef void (*portal_offload_fn)(void *arg);

/* Starts work(arg) in a new thread; done(arg) runs later on base's loop. Returns 0, or -1
 * (nothing started: the caller still owns arg and must answer its request). */
int portal_offload(struct event_base *base, portal_offload_fn work, portal_offload_fn done,
                   void *arg) __attribute__((warn_unused_result));

#endif
