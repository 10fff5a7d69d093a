/* The portal's shared context, handed to every route handler. */
#ifndef PORTAL_PORTAL_H
#define PORTAL_PORTAL_H

#include <event2/event.h>
#include <stdbool.h>

#include "vigil/crypto.h"
#include "vigil/db.h"
#include "vigil/http.h"
#include "vigil/kafka.h"

typedef struct portal_settings {
    const char *www_dir;           /* static files of the web page */
    const char *ingest_public_url; /* "" when unknown */
    bool dev_mode;
    bool allow_private; /* VIGIL_ALLOW_PRIVATE_TARGETS */
    long session_ttl_s;
    long login_window_s;  /* throttling window */
    long login_max_email; /* failures per email inside the window */
    long login_max_ip;    /* failures per client address inside the window */
    long kube_timeout_s;  /* credential verification timeout */
    long free_workloads;  /* VIGIL_FREE_WORKLOADS */
} portal_settings;

typedef struct portal_ctx {
    struct event_base *base; /* the loop (slow checks run in threads and report back here) */
    vg_db *db;               /* the loop thread's connection (role vigil_portal) */
    vg_producer *producer;
    const vg_master_key *mk;
    portal_settings set;
} portal_ctx;

/* Registers every portal route on srv (routes.c). */
void portal_routes_register(vg_http_server *srv, portal_ctx *ctx);

#endif
