/* Findings lifecycle: the consumer handler for vigil.findings (finding.observed,
 * finding.scope), vigil.scans (scan.report) and vigil.commands (webhook.test,
 * report.generate). Every change and its outbox rows are written in one transaction,
 * together with the envelope id, so a redelivered message changes nothing. */
#ifndef REPORT_FINDINGS_H
#define REPORT_FINDINGS_H

#include <jansson.h>
#include <stddef.h>

#include "report.h"
#include "vigil/db.h"
#include "vigil/kafka.h"

/* The vg_consumer_handler; arg is the report_ctx (borrowed). */
vg_handle_result report_handle_message(const vg_message *msg, vg_db *db, void *arg, char *errbuf,
                                       size_t errlen);

/* Checks the data of a finding.observed message. Returns 0 or -1 with the reason. */
int report_finding_validate(const json_t *f, char *errbuf, size_t errlen)
    __attribute__((warn_unused_result));

/* Inside a transaction: inserts or updates one finding (validated) and queues its events.
 * Returns 0 or -1 (database error). */
int report_finding_upsert(vg_db *db, const report_ctx *ctx, const char *tenant_id,
                          const char *cluster_id, const json_t *f)
    __attribute__((warn_unused_result));

/* Inside a transaction: resolves the open findings of (tenant, cluster, scope) whose
 * fingerprint is not in keep (a JSON array of strings) and queues finding.resolved.
 * Returns the number resolved or -1. */
int report_scope_resolve(vg_db *db, const report_ctx *ctx, const char *tenant_id,
                         const char *cluster_id, const char *scope, const json_t *keep)
    __attribute__((warn_unused_result));

#endif
