/* Registration of every portal route. docs/openapi.yaml documents the /api/v1 ones; a test
 * checks both lists agree. */
#include <stddef.h>

#include "apikeys.h"
#include "clusters.h"
#include "domains.h"
#include "findings.h"
#include "fuzzjobs.h"
#include "inventory_views.h"
#include "manifest.h"
#include "portal.h"
#include "recipients.h"
#include "report.h"
#include "signup.h"
#include "specs.h"
#include "static_files.h"
#include "usage.h"
#include "webhooks.h"

typedef struct portal_route {
    const char *method;
    const char *pattern;
    vg_http_handler fn;
} portal_route;

static const portal_route portal_routes[] = {
    {"POST", "/api/v1/signup", portal_signup_handle},
    {"POST", "/api/v1/login", portal_login_handle},
    {"POST", "/api/v1/logout", portal_logout_handle},
    {"GET", "/api/v1/session", portal_session_handle},
    {"GET", "/api/v1/api-keys", portal_apikey_list},
    {"POST", "/api/v1/api-keys", portal_apikey_create},
    {"DELETE", "/api/v1/api-keys/{id}", portal_apikey_revoke},
    {"GET", "/api/v1/onboarding/manifest.yaml", portal_manifest_handle},
    {"POST", "/api/v1/clusters", portal_cluster_create},
    {"GET", "/api/v1/clusters", portal_cluster_list},
    {"GET", "/api/v1/clusters/{id}", portal_cluster_get},
    {"DELETE", "/api/v1/clusters/{id}", portal_cluster_delete},
    {"POST", "/api/v1/clusters/{id}/sync", portal_cluster_sync},
    {"POST", "/api/v1/clusters/{id}/specs", portal_spec_upload},
    {"GET", "/api/v1/clusters/{id}/specs", portal_spec_list},
    {"GET", "/api/v1/workloads", portal_workloads_list},
    {"GET", "/api/v1/apis", portal_apis_list},
    {"GET", "/api/v1/apis/{id}", portal_api_get},
    {"GET", "/api/v1/apis/{id}/openapi.json", portal_api_openapi_get},
    {"GET", "/api/v1/topology", portal_topology_get},
    {"GET", "/api/v1/findings", portal_findings_list},
    {"GET", "/api/v1/findings/{id}", portal_finding_get},
    {"PATCH", "/api/v1/findings/{id}", portal_finding_patch},
    {"POST", "/api/v1/webhooks", portal_webhook_create},
    {"GET", "/api/v1/webhooks", portal_webhook_list},
    {"DELETE", "/api/v1/webhooks/{id}", portal_webhook_delete},
    {"POST", "/api/v1/webhooks/{id}/test", portal_webhook_test},
    {"POST", "/api/v1/email-recipients", portal_recipient_create},
    {"GET", "/api/v1/email-recipients", portal_recipient_list},
    {"DELETE", "/api/v1/email-recipients", portal_recipient_delete},
    {"DELETE", "/api/v1/email-recipients/{id}", portal_recipient_delete},
    {"POST", "/api/v1/target-domains", portal_domain_create},
    {"GET", "/api/v1/target-domains", portal_domain_list},
    {"DELETE", "/api/v1/target-domains/{id}", portal_domain_delete},
    {"POST", "/api/v1/target-domains/{id}/verify", portal_domain_verify},
    {"POST", "/api/v1/fuzz-jobs", portal_fuzzjob_create},
    {"GET", "/api/v1/fuzz-jobs", portal_fuzzjob_list},
    {"GET", "/api/v1/fuzz-jobs/{id}", portal_fuzzjob_get},
    {"GET", "/api/v1/usage", portal_usage_get},
    {"GET", "/api/v1/report", portal_report_json},
    {"POST", "/api/v1/report", portal_report_generate},
    {"GET", "/api/v1/report.html", portal_report_html},
    {"GET", "/", portal_static_index},
    {"GET", "/static/*", portal_static_file},
};

void portal_routes_register(vg_http_server *srv, portal_ctx *ctx)
{
    for (size_t i = 0; i < sizeof portal_routes / sizeof portal_routes[0]; i++) {
        vg_http_route(srv, portal_routes[i].method, portal_routes[i].pattern, portal_routes[i].fn,
                      ctx);
    }
}
