/* vigil-portal: the tenant-facing API and web page
 * Wiring only: configuration, the service skeleton (HTTP health/metrics, database, Kafka),
 * the master key, the routes, and the loop. */
#include <curl/curl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "offload.h"
#include "portal.h"
#include "vigil/config.h"
#include "vigil/crypto.h"
#include "vigil/log.h"
#include "vigil/service.h"

typedef struct portal_conf {
    vg_base_conf base;
    char *master_key;
    char *www_dir;
    char *ingest_public_url;
    char *tls_cert;
    char *tls_key;
    long max_body;
    long session_ttl_s;
    long login_window_s;
    long login_max_email;
    long login_max_ip;
    long kube_timeout_s;
    long free_workloads;
    long workers;
} portal_conf;

static const vg_cfg_entry portal_table[] = {
    VG_CFG_BASE_ENTRIES(portal_conf, "VIGIL_PORTAL_ADDR", "127.0.0.1:8080"),
    {"VIGIL_MASTER_KEY", VG_CFG_SECRET, NULL, offsetof(portal_conf, master_key),
     "32-byte base64 key sealing cluster credentials and webhook secrets (required outside "
     "dev mode)",
     0, 0},
    {"VIGIL_INGEST_PUBLIC_URL", VG_CFG_STRING, "", offsetof(portal_conf, ingest_public_url),
     "public base URL of the ingest service, shown in the onboarding snippets (empty: the page "
     "guesses https://<portal host>:8081)",
     0, 0},
    {"VIGIL_PORTAL_WWW", VG_CFG_STRING, "services/portal/www", offsetof(portal_conf, www_dir),
     "folder of the web page's static files (served at / and /static/)", 0, 0},
    {"VIGIL_PORTAL_TLS_CERT", VG_CFG_STRING, NULL, offsetof(portal_conf, tls_cert),
     "PEM certificate for HTTPS (with VIGIL_PORTAL_TLS_KEY; unset = plain HTTP)", 0, 0},
    {"VIGIL_PORTAL_TLS_KEY", VG_CFG_SECRET, NULL, offsetof(portal_conf, tls_key),
     "PEM private key path for HTTPS", 0, 0},
    {"VIGIL_PORTAL_MAX_BODY", VG_CFG_INT, "1048576", offsetof(portal_conf, max_body),
     "largest accepted request body in bytes (larger: 413)", 1024, 64L * 1024 * 1024},
    {"VIGIL_SESSION_TTL", VG_CFG_INT, "43200", offsetof(portal_conf, session_ttl_s),
     "seconds a login session lasts", 60, 30L * 86400},
    {"VIGIL_LOGIN_WINDOW", VG_CFG_INT, "900", offsetof(portal_conf, login_window_s),
     "login throttling window in seconds", 1, 86400},
    {"VIGIL_LOGIN_MAX_FAILURES", VG_CFG_INT, "5", offsetof(portal_conf, login_max_email),
     "failed logins per email inside the window before 429", 1, 1000},
    {"VIGIL_LOGIN_MAX_FAILURES_IP", VG_CFG_INT, "50", offsetof(portal_conf, login_max_ip),
     "failed logins per client address inside the window before 429", 1, 100000},
    {"VIGIL_KUBE_TIMEOUT", VG_CFG_INT, "10", offsetof(portal_conf, kube_timeout_s),
     "seconds allowed to verify a cluster credential", 1, 120},
    {"VIGIL_FREE_WORKLOADS", VG_CFG_INT, "25", offsetof(portal_conf, free_workloads),
     "controlled workloads of a free-plan tenant", 0, 1000000},
    {"VIGIL_PORTAL_WORKERS", VG_CFG_INT, "8", offsetof(portal_conf, workers),
     "password hashing and cluster checks running at once (more: 503 with Retry-After)", 1, 256},
    VG_CFG_END,
};

static void portal_settings_fill(portal_settings *set, const portal_conf *conf)
{
    set->www_dir = conf->www_dir;
    set->ingest_public_url = conf->ingest_public_url;
    set->dev_mode = conf->base.dev_mode;
    set->allow_private = conf->base.allow_private_targets;
    set->session_ttl_s = conf->session_ttl_s;
    set->login_window_s = conf->login_window_s;
    set->login_max_email = conf->login_max_email;
    set->login_max_ip = conf->login_max_ip;
    set->kube_timeout_s = conf->kube_timeout_s;
    set->free_workloads = conf->free_workloads;
}

/* An unset path variable may come back empty: NULL then. */
static const char *conf_path(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

static int portal_run(portal_conf *conf, const vg_master_key *mk)
{
    static const char *const topics[] = {VG_TOPIC_COMMANDS};
    char err[512];
    vg_service_opts opts = {.name = "portal",
                            .conf = &conf->base,
                            .db_role = "vigil_portal",
                            .max_body = (size_t)conf->max_body,
                            .tls_cert = conf_path(conf->tls_cert),
                            .tls_key = conf_path(conf->tls_key),
                            .topics = topics,
                            .ntopics = (int)(sizeof topics / sizeof topics[0])};
    vg_service *svc = vg_service_new(&opts, err, sizeof err);
    if (svc == NULL) {
        vg_error("cannot start", "error", err);
        return 1;
    }
    portal_ctx ctx = {.base = svc->base, .db = svc->db, .producer = svc->producer, .mk = mk};
    portal_settings_fill(&ctx.set, conf);
    portal_offload_limit_set((int)conf->workers);
    portal_routes_register(svc->http, &ctx);
    int rc = vg_service_run(svc);
    vg_service_destroy(svc);
    return rc;
}

int main(int argc, char **argv)
{
    vg_service_block_signals();
    int args = vg_config_args(argc, argv, "vigil-portal", "the tenant-facing API and web page",
                              portal_table);
    if (args != 0) {
        return args > 0 ? 0 : 2;
    }
    portal_conf conf = {0};
    char err[512];
    if (vg_config_load(portal_table, &conf, err, sizeof err) != 0) {
        fprintf(stderr, "vigil-portal: %s\n", err);
        return 2;
    }
    vg_master_key mk;
    if (vg_master_key_load(&mk, conf.master_key, conf.base.dev_mode, err, sizeof err) != 0) {
        fprintf(stderr, "vigil-portal: %s\n", err);
        vg_config_free(portal_table, &conf);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = portal_run(&conf, &mk);
    vg_wipe(&mk, sizeof mk);
    curl_global_cleanup();
    vg_config_free(portal_table, &conf);
    return rc;
}
