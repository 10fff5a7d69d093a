/* The skeleton every service main.c wires: config and logging, migrations, database,
 * producer, HTTP server with /healthz, /readyz and /metrics, consumers, and signals
 * handled as libevent events (SIGTERM drains: stop accepting, finish in-flight work,
 * stop consumers with their offsets committed, flush the producer, exit 0; a second
 * SIGTERM exits at once). */
#ifndef VIGIL_SERVICE_H
#define VIGIL_SERVICE_H

#include <event2/event.h>
#include <stdbool.h>

#include "vigil/config.h"
#include "vigil/db.h"
#include "vigil/http.h"
#include "vigil/kafka.h"

typedef struct vg_service {
    const char *name;         /* e.g. "portal" */
    const vg_base_conf *conf; /* borrowed from the service's config */
    struct event_base *base;
    vg_http_server *http;
    vg_db *db; /* the loop thread's connection */
    vg_producer *producer;
    /* private */
    struct vg_service_priv *priv;
} vg_service;

typedef struct vg_service_opts {
    const char *name;
    const vg_base_conf *conf;
    const char *db_role;  /* SET ROLE for the loop thread's connection, or NULL */
    size_t max_body;      /* HTTP body limit, default 1 MiB */
    const char *tls_cert; /* optional */
    const char *tls_key;
    const char *const *topics; /* topic base names this service produces or consumes;
                                  created when missing */
    int ntopics;
} vg_service_opts;

/* Sets up logging, connects to the database (waiting up to 30 s), runs or checks
 * migrations, creates the producer and topics, binds the HTTP server and registers the
 * health and metrics routes. Returns NULL with errbuf set on failure. */
vg_service *vg_service_new(const vg_service_opts *opts, char *errbuf, size_t errlen);

/* Starts a consumer in its own thread (stopped by the drain). group gets the topic
 * prefix added. Returns 0 or -1 with errbuf set. */
int vg_service_add_consumer(vg_service *svc, const char *group, const char *const *topics,
                            int ntopics, vg_consumer_handler fn, void *arg, char *errbuf,
                            size_t errlen) __attribute__((warn_unused_result));

/* Called on the loop thread at the start of a drain (stop timers, refuse new work). */
void vg_service_on_drain(vg_service *svc, void (*fn)(void *), void *arg);

/* Runs the loop until SIGTERM/SIGINT has been handled and drained. Returns the exit code. */
int vg_service_run(vg_service *svc);
void vg_service_destroy(vg_service *svc); /* NULL is a no-op */

/* Blocks SIGTERM, SIGINT and SIGPIPE in the calling thread (call first in main, before any
 * thread starts, so librdkafka threads never take them). */
void vg_service_block_signals(void);

#endif
