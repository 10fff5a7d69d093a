/* The families in the order a job runs them: read-only probes first, state-changing
 * (mass assignment) and load-generating (bursts, oversized input) last. */
#include "checks.h"

const fz_family fz_families[] = {
    {"API2", fz_check_api2, fz_defs_api2}, {"API1", fz_check_api1, fz_defs_api1},
    {"API5", fz_check_api5, fz_defs_api5}, {"API8", fz_check_api8, fz_defs_api8},
    {"API9", fz_check_api9, fz_defs_api9}, {"API7", fz_check_api7, fz_defs_api7},
    {"INJ", fz_check_inj, fz_defs_inj},    {"API3", fz_check_api3, fz_defs_api3},
    {"API4", fz_check_api4, fz_defs_api4}, {NULL, NULL, NULL},
};
