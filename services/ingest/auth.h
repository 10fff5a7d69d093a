/* Edge authentication and admission: ingest token -> cluster (through a short-lived cache so
 * a revoked or changed token stops working within the TTL), the free plan's cluster limit,
 * and a per-cluster token-bucket rate limit. Loop thread only. */
#ifndef INGEST_AUTH_H
#define INGEST_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/db.h"
#include "vigil/util.h"

typedef enum {
    INGEST_AUTH_OK = 0,
    INGEST_AUTH_UNKNOWN,     /* no cluster has this token (401) */
    INGEST_AUTH_PLAN,        /* the tenant's plan does not cover this cluster (402) */
    INGEST_AUTH_UNAVAILABLE, /* database unreachable (503) */
} ingest_auth_status;

typedef struct ingest_principal {
    char tenant_id[VG_UUID_LEN + 1];
    char cluster_id[VG_UUID_LEN + 1];
} ingest_principal;

typedef struct ingest_auth_opts {
    long ttl_ms;        /* cache lifetime of a lookup (positive or negative) */
    long free_clusters; /* clusters a free-plan tenant may use, in creation order */
    double rate;        /* requests per second per cluster */
    double burst;       /* bucket size */
} ingest_auth_opts;

typedef struct ingest_auth ingest_auth;

ingest_auth *ingest_auth_new(const ingest_auth_opts *opts);
void ingest_auth_destroy(ingest_auth *a); /* NULL is a no-op */

/* Looks token up (cache first, then db). */
ingest_auth_status ingest_auth_check(ingest_auth *a, vg_db *db, const char *token, int64_t now_ms,
                                     ingest_principal *out);

/* Takes one request from the cluster's bucket. False when empty: *retry_after_s is then the
 * whole seconds until a token is available (at least 1). */
bool ingest_rate_take(ingest_auth *a, const char *cluster_id, int64_t now_ms, int *retry_after_s);

#endif
