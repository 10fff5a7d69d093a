/* Controlled-workload admission (DESIGN section 5): first-seen order, a per-tenant limit,
 * stable slots. Pure logic; the caller holds the tenant's lock while it runs. */
#ifndef VIGIL_INVENTORY_ADMIT_H
#define VIGIL_INVENTORY_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

typedef struct inv_admit_entry {
    int64_t seq;          /* admitted_seq; 0 for a workload seen for the first time */
    bool excluded;        /* in a system namespace: never counted */
    bool gone;            /* no longer in its cluster: keeps its row, frees its slot */
    inv_wl_status status; /* out (left unchanged for gone entries) */
} inv_admit_entry;

/* The tenant's limit: workload_limit when set (>= 0), else free_default on plan "free",
 * else -1 (unlimited). */
long inv_plan_limit(const char *plan, const char *workload_limit, long free_default);

/* Gives new entries (seq 0, not excluded) the next sequence numbers in array order, starting
 * at *next_seq (advanced), then marks the first `limit` live, non-excluded entries in seq
 * order CONTROLLED and the others UNCONTROLLED (limit < 0: all controlled); excluded ones
 * EXCLUDED. Returns how many are uncontrolled. */
size_t inv_admit(inv_admit_entry *e, size_t n, long limit, int64_t *next_seq);

#endif
