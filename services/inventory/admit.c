/* Controlled-workload admission. */
#include "admit.h"

#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"

long inv_plan_limit(const char *plan, const char *workload_limit, long free_default)
{
    if (workload_limit != NULL && workload_limit[0] != '\0') {
        return strtol(workload_limit, NULL, 10);
    }
    return plan != NULL && strcmp(plan, "free") == 0 ? free_default : -1;
}

static int cmp_seq(const void *a, const void *b, void *arg)
{
    const inv_admit_entry *e = arg;
    int64_t x = e[*(const size_t *)a].seq, y = e[*(const size_t *)b].seq;
    return (x > y) - (x < y);
}

size_t inv_admit(inv_admit_entry *e, size_t n, long limit, int64_t *next_seq)
{
    size_t *order = vg_calloc(n > 0 ? n : 1, sizeof *order);
    size_t live = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].excluded) {
            if (!e[i].gone) {
                e[i].status = INV_WL_EXCLUDED;
            }
            continue;
        }
        if (e[i].seq == 0) {
            e[i].seq = (*next_seq)++;
        }
        if (!e[i].gone) {
            order[live++] = i;
        }
    }
    qsort_r(order, live, sizeof *order, cmp_seq, e);
    size_t uncontrolled = 0;
    for (size_t k = 0; k < live; k++) {
        bool in = limit < 0 || (long)k < limit;
        e[order[k]].status = in ? INV_WL_CONTROLLED : INV_WL_UNCONTROLLED;
        uncontrolled += in ? 0 : 1;
    }
    free(order);
    return uncontrolled;
}
