/* Settings shared by the report service's modules (filled by main.c from the configuration;
 * read-only once the threads run). */
#ifndef REPORT_REPORT_H
#define REPORT_REPORT_H

#include <stdbool.h>

#include "vigil/crypto.h"

typedef struct report_ctx {
    const char *public_url; /* portal base URL for links */
    const char *smtp_url;   /* smtp:// or smtps://; NULL/"" = e-mail disabled */
    const char *mail_from;
    const char *smtp_ca_file; /* CA bundle for the SMTP server's certificate; NULL/"" = system */
    vg_master_key mk;         /* opens webhook secrets, derives unsubscribe tokens */
    bool allow_private;       /* VIGIL_ALLOW_PRIVATE_TARGETS */
    long retry_base_ms;       /* first retry delay; doubles per attempt, with jitter */
    long retry_max_ms;        /* cap of one delay */
    long max_age_s;           /* a delivery still failing after this is dead */
    long lease_s;             /* how long a claimed delivery stays with its worker */
    long per_endpoint;        /* concurrent deliveries per webhook / recipient */
    long timeout_ms;          /* per attempt */
    long email_hourly;        /* immediate e-mails per tenant per hour */
    long digest_interval_s;   /* digest period per recipient */
    long report_interval_s;   /* tenant report period */
    long poll_ms;             /* outbox poll period when idle */
} report_ctx;

#endif
