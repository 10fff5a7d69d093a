/* The delivery worker: a thread with its own database connection that claims due rows of
 * report_outbox (SELECT ... FOR UPDATE SKIP LOCKED, then a lease, so several replicas share
 * the work and a crashed worker's rows come back when the lease ends), sends them with
 * libcurl multi (webhooks and SMTP), and records the outcome: delivered, retried later with
 * exponential backoff and jitter, or dead once older than the maximum age. The same thread
 * queues e-mail digests and generates tenant reports on their timers. */
#ifndef REPORT_OUTBOX_H
#define REPORT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

typedef struct report_outbox report_outbox;

/* ctx is borrowed and must outlive the worker. Returns NULL with errbuf set on failure. */
report_outbox *report_outbox_start(const report_ctx *ctx, const char *database_url, char *errbuf,
                                   size_t errlen);
/* Lets the batch in hand finish, then joins the thread. NULL is a no-op. */
void report_outbox_stop(report_outbox *ob);

/* Delay before the next attempt after `attempts` failed ones: base * 2^(attempts-1), capped
 * at max_ms, then a uniform jitter into [delay/2, delay] drawn from rnd. */
long report_retry_delay_ms(long base_ms, long max_ms, int attempts, uint32_t rnd);

#endif
