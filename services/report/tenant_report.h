/* Tenant reports: counts by severity, category and cluster, top risks and the changes of the
 * last week against the week before, stored as JSON and as a self-contained HTML page in
 * tenant_reports (the portal serves the latest). */
#ifndef REPORT_TENANT_REPORT_H
#define REPORT_TENANT_REPORT_H

#include <jansson.h>

#include "report.h"
#include "vigil/db.h"

/* Inside a transaction: computes and stores one report for tenant_id. Returns 0 or -1. */
int report_tenant_generate(vg_db *db, const report_ctx *ctx, const char *tenant_id)
    __attribute__((warn_unused_result));

/* The HTML page for a report's data (borrowed); new string. Every text is escaped. */
char *report_tenant_html(const json_t *data);

/* Generates a report for every tenant whose latest is older than max_age_s, each in its own
 * transaction. Returns the number generated or -1. */
int report_tenant_generate_due(vg_db *db, const report_ctx *ctx, long max_age_s);

#endif
