/* Runs slow blocking work (scrypt, HTTPS to a cluster) in a thread of its own and calls back
 * on the loop thread when it is done, so the loop keeps serving other requests. The work
 * function must not touch the database connection or the request: only done() does. */
#ifndef PORTAL_OFFLOAD_H
#define PORTAL_OFFLOAD_H

#include <event2/event.h>

#include "vigil/http.h"

typedef void (*portal_offload_fn)(void *arg);

/* At most `limit` jobs run at once (scrypt takes 32 MiB each); default 8. */
void portal_offload_limit_set(int limit);

/* Starts work(arg) in a new thread; done(arg) runs later on base's loop. Returns 0, or -1
 * when the limit is reached or a thread cannot start (nothing started: the caller still owns
 * arg and must answer its request, e.g. 503 with Retry-After). Loop thread only. */
int portal_offload(struct event_base *base, portal_offload_fn work, portal_offload_fn done,
                   void *arg) __attribute__((warn_unused_result));

/* Replies 503 with Retry-After: 1 (portal_offload refused the work). */
void portal_reply_busy(vg_http_req *req);

#endif
