/* The onboarding RBAC manifest (see manifest.h). */
#include "manifest.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "vigil/alloc.h"

typedef struct manifest_rule {
    const char *group;
    const char *resources[8];
} manifest_rule;

/* What the collector lists: read-only, and never Secrets. */
static const manifest_rule manifest_rules[] = {
    {"",
     {"namespaces", "nodes", "pods", "services", "endpoints", "serviceaccounts", "configmaps",
      "replicationcontrollers"}},
    {"apps", {"deployments", "replicasets", "statefulsets", "daemonsets"}},
    {"batch", {"jobs", "cronjobs"}},
    {"networking.k8s.io", {"ingresses", "networkpolicies"}},
    {"rbac.authorization.k8s.io", {"roles", "rolebindings", "clusterroles", "clusterrolebindings"}},
    {"policy", {"poddisruptionbudgets"}},
    {"gateway.networking.k8s.io", {"gateways", "httproutes"}},
    {"networking.istio.io",
     {"virtualservices", "destinationrules", "gateways", "serviceentries", "sidecars"}},
    {"security.istio.io",
     {"peerauthentications", "authorizationpolicies", "requestauthentications"}},
};

bool portal_manifest_namespace_valid(const char *ns)
{
    size_t len = ns ? strlen(ns) : 0;
    if (len == 0 || len > 63 || ns[0] == '-' || ns[len - 1] == '-') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!(islower((unsigned char)ns[i]) || isdigit((unsigned char)ns[i]) || ns[i] == '-')) {
            return false;
        }
    }
    return true;
}

static void render_rules(vg_buf *b)
{
    vg_buf_puts(b, "rules:\n");
    size_t n = sizeof manifest_rules / sizeof manifest_rules[0];
    for (size_t i = 0; i < n; i++) {
        const manifest_rule *r = &manifest_rules[i];
        vg_buf_printf(b, "  - apiGroups: [\"%s\"]\n    resources:\n", r->group);
        for (size_t j = 0; j < 8 && r->resources[j]; j++) {
            vg_buf_printf(b, "      - %s\n", r->resources[j]);
        }
        vg_buf_puts(b, "    verbs: [\"get\", \"list\", \"watch\"]\n");
    }
}

char *portal_manifest_render(const char *ns)
{
    vg_buf b = {0};
    vg_buf_printf(&b,
                  "# Vigil read-only access: kubectl apply -f manifest.yaml\n"
                  "# Then paste the API server URL, its CA certificate and the token:\n"
                  "#   kubectl -n %s get secret vigil-reader-token -o jsonpath='{.data.token}' "
                  "| base64 -d\n"
                  "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n---\n"
                  "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: vigil-reader\n"
                  "  namespace: %s\n---\n"
                  "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n"
                  "  name: vigil-reader\n",
                  ns, ns, ns);
    render_rules(&b);
    vg_buf_printf(&b,
                  "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
                  "metadata:\n  name: vigil-reader\nroleRef:\n"
                  "  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n"
                  "  name: vigil-reader\nsubjects:\n  - kind: ServiceAccount\n"
                  "    name: vigil-reader\n    namespace: %s\n---\n"
                  "apiVersion: v1\nkind: Secret\nmetadata:\n  name: vigil-reader-token\n"
                  "  namespace: %s\n  annotations:\n"
                  "    kubernetes.io/service-account.name: vigil-reader\n"
                  "type: kubernetes.io/service-account-token\n",
                  ns, ns);
    return vg_buf_steal(&b);
}

void portal_manifest_handle(vg_http_req *req, void *arg)
{
    portal_auth auth;
    if (!portal_auth_require(arg, req, &auth)) {
        return;
    }
    const char *ns = vg_http_query(req, "namespace");
    if (ns == NULL) {
        ns = "vigil";
    }
    if (!portal_manifest_namespace_valid(ns)) {
        vg_http_reply_error(req, 400, "invalid_namespace",
                            "namespace must be a DNS label (lowercase letters, digits, '-', "
                            "at most 63 characters)");
        return;
    }
    char *yaml = portal_manifest_render(ns);
    vg_http_reply_raw(req, 200, "application/yaml; charset=utf-8", yaml, strlen(yaml));
    free(yaml);
}
