/* vigil-report: findings lifecycle and delivery by webhook and email
 * Wiring only: configuration, the service skeleton (HTTP health/metrics, database, Kafka),
 * the consumer, the delivery worker, the unsubscribe route and the loop. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

#include "findings.h"
#include "outbox.h"
#include "report.h"
#include "unsubscribe.h"
#include "vigil/config.h"
#include "vigil/log.h"
#include "vigil/service.h"

typedef struct report_conf {
    vg_base_conf base;
    char *master_key;
    char *smtp_url;
    char *mail_from;
    char *smtp_ca_file;
    char *public_url;
    long retry_base_ms;
    long retry_max_ms;
    long max_age_s;
    long lease_s;
    long per_endpoint;
    long timeout_ms;
    long email_hourly;
    long digest_interval_s;
    long report_interval_s;
    long poll_ms;
} report_conf;

#define INT_ENTRY(var, def, field, help, lo, hi)                                                   \
    {                                                                                              \
        var, VG_CFG_INT, def, offsetof(report_conf, field), help, lo, hi                           \
    }

static const vg_cfg_entry report_table[] = {
    VG_CFG_BASE_ENTRIES(report_conf, "VIGIL_REPORT_ADDR", "127.0.0.1:8084"),
    {"VIGIL_MASTER_KEY", VG_CFG_SECRET, NULL, offsetof(report_conf, master_key),
     "master key (32 bytes, base64) that opens webhook secrets", 0, 0},
    {"VIGIL_SMTP_URL", VG_CFG_STRING, "smtp://127.0.0.1:2525", offsetof(report_conf, smtp_url),
     "SMTP server (smtp:// with STARTTLS when offered, or smtps://); empty disables e-mail", 0, 0},
    {"VIGIL_SMTP_CA_FILE", VG_CFG_STRING, "", offsetof(report_conf, smtp_ca_file),
     "CA bundle (PEM) that signs the SMTP server's certificate; empty = system CAs", 0, 0},
    {"VIGIL_MAIL_FROM", VG_CFG_STRING, "vigil@localhost", offsetof(report_conf, mail_from),
     "sender address of e-mails", 0, 0},
    {"VIGIL_PUBLIC_URL", VG_CFG_STRING, "http://127.0.0.1:8080", offsetof(report_conf, public_url),
     "portal base URL used in links (it must route /unsubscribe to this service)", 0, 0},
    INT_ENTRY("VIGIL_RETRY_BASE_MS", "30000", retry_base_ms,
              "first retry delay of a failed delivery (doubles per attempt, jittered)", 10,
              3600000),
    INT_ENTRY("VIGIL_RETRY_MAX_MS", "3600000", retry_max_ms, "longest delay between attempts", 10,
              86400000),
    INT_ENTRY("VIGIL_DELIVERY_MAX_AGE", "86400", max_age_s,
              "seconds a delivery is retried before it is marked dead", 1, 604800),
    INT_ENTRY("VIGIL_DELIVERY_LEASE", "60", lease_s,
              "seconds a claimed delivery stays with its worker (then another takes it)", 1, 3600),
    INT_ENTRY("VIGIL_ENDPOINT_CONCURRENCY", "2", per_endpoint,
              "deliveries in flight per webhook endpoint or e-mail recipient", 1, 16),
    INT_ENTRY("VIGIL_DELIVERY_TIMEOUT_MS", "10000", timeout_ms, "timeout of one attempt", 100,
              120000),
    INT_ENTRY("VIGIL_EMAIL_TENANT_HOURLY", "30", email_hourly,
              "immediate e-mails per tenant per hour; the rest go into the digest", 1, 100000),
    INT_ENTRY("VIGIL_DIGEST_INTERVAL", "86400", digest_interval_s,
              "seconds between e-mail digests of a recipient", 1, 2592000),
    INT_ENTRY("VIGIL_REPORT_INTERVAL", "86400", report_interval_s,
              "seconds between generated tenant reports", 1, 2592000),
    INT_ENTRY("VIGIL_OUTBOX_POLL_MS", "200", poll_ms, "outbox poll period when idle", 10, 60000),
    VG_CFG_END,
};

static void ctx_fill(report_ctx *ctx, const report_conf *conf)
{
    ctx->public_url = conf->public_url;
    ctx->smtp_url = conf->smtp_url;
    ctx->mail_from = conf->mail_from;
    ctx->smtp_ca_file = conf->smtp_ca_file;
    ctx->allow_private = conf->base.allow_private_targets;
    ctx->retry_base_ms = conf->retry_base_ms;
    ctx->retry_max_ms = conf->retry_max_ms;
    ctx->max_age_s = conf->max_age_s;
    ctx->lease_s = conf->lease_s;
    ctx->per_endpoint = conf->per_endpoint;
    ctx->timeout_ms = conf->timeout_ms;
    ctx->email_hourly = conf->email_hourly;
    ctx->digest_interval_s = conf->digest_interval_s;
    ctx->report_interval_s = conf->report_interval_s;
    ctx->poll_ms = conf->poll_ms;
}

static int run(report_conf *conf, report_ctx *ctx, char *err, size_t errlen)
{
    static const char *const topics[] = {VG_TOPIC_FINDINGS, VG_TOPIC_SCANS, VG_TOPIC_COMMANDS,
                                         VG_TOPIC_DLQ};
    vg_service_opts opts = {.name = "report",
                            .conf = &conf->base,
                            .db_role = NULL,
                            .max_body = 64 * 1024,
                            .topics = topics,
                            .ntopics = (int)(sizeof topics / sizeof topics[0])};
    vg_service *svc = vg_service_new(&opts, err, errlen);
    if (svc == NULL) {
        return -1;
    }
    report_unsubscribe_register(svc->http, svc->db);
    report_outbox *ob = report_outbox_start(ctx, conf->base.database_url, err, errlen);
    int rc = -1;
    if (ob != NULL && vg_service_add_consumer(svc, "vigil-report", topics, 3, report_handle_message,
                                              ctx, err, errlen) == 0) {
        rc = vg_service_run(svc);
    }
    report_outbox_stop(ob);
    vg_service_destroy(svc);
    return rc;
}

int main(int argc, char **argv)
{
    vg_service_block_signals();
    int args = vg_config_args(argc, argv, "vigil-report",
                              "findings lifecycle and delivery by webhook and email", report_table);
    if (args != 0) {
        return args > 0 ? 0 : 2;
    }
    report_conf conf = {0};
    char err[512];
    if (vg_config_load(report_table, &conf, err, sizeof err) != 0) {
        fprintf(stderr, "vigil-report: %s\n", err);
        return 2;
    }
    static report_ctx ctx;
    ctx_fill(&ctx, &conf);
    if (vg_master_key_load(&ctx.mk, conf.master_key, conf.base.dev_mode, err, sizeof err) != 0) {
        fprintf(stderr, "vigil-report: %s\n", err);
        vg_config_free(report_table, &conf);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = run(&conf, &ctx, err, sizeof err);
    if (rc < 0) {
        vg_error("cannot start", "error", err);
        rc = 1;
    }
    curl_global_cleanup();
    vg_wipe(&ctx.mk, sizeof ctx.mk);
    vg_config_free(report_table, &conf);
    return rc;
}
