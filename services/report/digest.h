/* E-mail digests: per recipient, once per digest interval, one message listing the open
 * findings first seen since the previous digest that were not mailed on their own (lower
 * severities, and high/critical ones held back by the tenant's hourly e-mail limit). */
#ifndef REPORT_DIGEST_H
#define REPORT_DIGEST_H

#include "report.h"
#include "vigil/db.h"

/* Queues the digests that are due into the outbox (each recipient in its own transaction,
 * with its digest state). Returns the number queued or -1. */
int report_digest_queue_due(vg_db *db, const report_ctx *ctx);

#endif
