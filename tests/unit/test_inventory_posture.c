/* Posture rules on the fixture cluster (tests/fixtures/posture/, objects shaped like
 * `kubectl get -o json` items): the exact set of (rule, object, field) findings, with a
 * positive and a negative case per rule, and variants for the cluster-wide rules. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/inventory/findings.h"
#include "../../services/inventory/kobj.h"
#include "../../services/inventory/model.h"
#include "../../services/inventory/rules.h"
#include "harness.h"

static const char *fixture_dir(void)
{
    const char *d = getenv("VIGIL_POSTURE_FIXTURE");
    return d != NULL ? d : "tests/fixtures/posture";
}

/* Loads every resource file of the fixture into a new model (not built yet). */
static inv_model *fixture_model(void)
{
    inv_model *m = inv_model_new();
    for (int r = 0; r < INV_R_COUNT; r++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.json", fixture_dir(), inv_resource_name(r));
        json_error_t jerr;
        json_t *items = json_load_file(path, 0, &jerr);
        if (items == NULL) {
            fprintf(stderr, "  cannot load %s: %s\n", path, jerr.text);
            continue;
        }
        inv_model_add_items(m, (inv_resource)r, items);
        json_decref(items);
    }
    return m;
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines sorted and joined with newlines (new string); frees the lines. */
static char *join_sorted(char **lines, size_t n)
{
    qsort(lines, n, sizeof *lines, cmp_line);
    size_t total = 1;
    for (size_t i = 0; i < n; i++) {
        total += strlen(lines[i]) + 1;
    }
    char *out = calloc(1, total);
    for (size_t i = 0; i < n; i++) {
        strcat(out, lines[i]);
        strcat(out, "\n");
        free(lines[i]);
    }
    free(lines);
    return out;
}

/* "RULE Kind/namespace/name field" of every finding, sorted, one per line. */
static char *finding_lines(const inv_findings *f)
{
    char **lines = calloc(f->n + 1, sizeof *lines);
    for (size_t i = 0; i < f->n; i++) {
        const inv_finding *x = &f->v[i];
        size_t n = strlen(x->rule->id) + strlen(x->kind) + strlen(x->namespace) + strlen(x->name) +
                   strlen(x->field) + 8;
        lines[i] = malloc(n);
        snprintf(lines[i], n, "%s %s/%s/%s %s", x->rule->id, x->kind, x->namespace, x->name,
                 x->field);
    }
    return join_sorted(lines, f->n);
}

static const char *const expected[] = {
    "VGL-CM-001 ConfigMap/shop/web-config data[DB_PASSWORD]",
    "VGL-CM-001 ConfigMap/shop/web-config data[apiKey]",
    "VGL-MESH-001 PeerAuthentication/istio-system/default spec.mtls.mode",
    "VGL-MESH-002 Mesh/istio-system/mesh-wide mTLS spec.mtls.mode",
    "VGL-MESH-003 DestinationRule/shop/reviews-plain spec.trafficPolicy.tls.mode",
    "VGL-MESH-004 AuthorizationPolicy/legacy/allow-everything spec.rules[0]",
    "VGL-MESH-005 Namespace//shop authorizationpolicies",
    "VGL-MESH-006 VirtualService/shop/web-vs spec.hosts[0]",
    "VGL-MESH-007 Gateway/istio-system/public-gw spec.servers[0].hosts[0]",
    "VGL-MESH-007 Gateway/istio-system/public-gw spec.servers[0].port.protocol",
    "VGL-MESH-008 Namespace//legacy metadata.labels[istio-injection]",
    "VGL-MESH-009 Pod/shop/debug metadata.annotations[sidecar.istio.io/inject]",
    "VGL-NET-001 Service/legacy/legacy-app spec.type",
    "VGL-NET-001 Service/shop/db spec.type",
    "VGL-NET-002 Ingress/secure/good spec.rules[0].http.paths[0].backend.service",
    "VGL-NET-002 Ingress/shop/web spec.rules[0].http.paths[0].backend.service",
    "VGL-NET-003 Ingress/shop/web spec.tls",
    "VGL-NET-004 Service/shop/db spec.ports[0]",
    "VGL-NET-005 Namespace//shop networkpolicies",
    "VGL-POD-001 Deployment/shop/web spec.template.spec.containers[0].securityContext.privileged",
    "VGL-POD-002 DaemonSet/shop/agent spec.template.spec.hostNetwork",
    "VGL-POD-003 DaemonSet/shop/agent spec.template.spec.hostPID",
    "VGL-POD-004 DaemonSet/shop/agent spec.template.spec.hostIPC",
    "VGL-POD-005 Deployment/shop/web spec.template.spec.containers[0].ports[0].hostPort",
    "VGL-POD-006 DaemonSet/shop/agent spec.template.spec.volumes[0].hostPath.path",
    "VGL-POD-007 DaemonSet/shop/agent spec.template.spec.volumes[1].hostPath.path",
    "VGL-POD-008 Deployment/shop/web "
    "spec.template.spec.containers[0].securityContext.capabilities.add",
    "VGL-POD-009 Deployment/shop/web "
    "spec.template.spec.containers[0].securityContext.capabilities.drop",
    "VGL-POD-010 Deployment/shop/web "
    "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
    "VGL-POD-011 CronJob/shop/report "
    "spec.jobTemplate.spec.template.spec.containers[0].securityContext.runAsUser",
    "VGL-POD-011 Deployment/shop/web spec.template.spec.containers[0].securityContext.runAsNonRoot",
    "VGL-POD-012 Deployment/shop/web "
    "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem",
    "VGL-POD-013 CronJob/shop/report "
    "spec.jobTemplate.spec.template.spec.containers[0].securityContext.seccompProfile.type",
    "VGL-POD-013 Deployment/shop/web "
    "spec.template.spec.containers[0].securityContext.seccompProfile.type",
    "VGL-POD-014 Deployment/shop/web spec.template.spec.containers[0].resources.limits",
    "VGL-POD-015 Deployment/shop/web spec.template.spec.automountServiceAccountToken",
    "VGL-POD-016 Deployment/shop/web spec.template.spec.serviceAccountName",
    "VGL-POD-017 Deployment/shop/web spec.template.spec.containers[0].env[0].value",
    "VGL-POD-017 Deployment/shop/web spec.template.spec.containers[0].env[3].value",
    "VGL-RBAC-001 ClusterRoleBinding//alice-admin subjects[0]",
    "VGL-RBAC-002 ClusterRole//ops-wildcard rules[0]",
    "VGL-RBAC-003 Role/shop/secret-reader rules[0]",
    "VGL-RBAC-004 ClusterRole//deployer rules[0]",
    "VGL-RBAC-005 ClusterRole//deployer rules[1]",
    "VGL-RBAC-005 ClusterRole//deployer rules[2]",
    "VGL-RBAC-006 ClusterRole//rbac-manager rules[0]",
    "VGL-RBAC-006 ClusterRole//rbac-manager rules[1]",
    "VGL-RBAC-007 ClusterRoleBinding//anon-view subjects[0]",
};

static char *expected_lines(void)
{
    size_t n = sizeof expected / sizeof expected[0];
    char **lines = calloc(n, sizeof *lines);
    for (size_t i = 0; i < n; i++) {
        lines[i] = strdup(expected[i]);
    }
    return join_sorted(lines, n);
}

static void print_diff(const char *got, const char *want)
{
    fprintf(stderr, "  --- findings got:\n%s  --- expected:\n%s", got, want);
}

static void test_fixture_exact_findings(void)
{
    inv_model *m = fixture_model();
    inv_model_build(m);
    inv_findings f = {0};
    inv_posture_eval(m, &f);
    char *got = finding_lines(&f);
    char *want = expected_lines();
    CHECK(strcmp(got, want) == 0);
    if (strcmp(got, want) != 0) {
        print_diff(got, want);
    }
    free(got);
    free(want);
    inv_findings_clear(&f);
    inv_model_destroy(m);
}

/* Every rule of the table (except the plan rule, raised by admission) fires in the
 * fixture, and the fixture's correctly configured objects raise nothing. */
static void test_every_rule_positive_and_negatives_clean(void)
{
    inv_model *m = fixture_model();
    inv_model_build(m);
    inv_findings f = {0};
    inv_posture_eval(m, &f);
    for (size_t r = 0; r < inv_nrules; r++) {
        if (strcmp(inv_rules[r].id, "VGL-PLAN-001") == 0) {
            continue;
        }
        bool seen = false;
        for (size_t i = 0; i < f.n; i++) {
            seen = seen || f.v[i].rule == &inv_rules[r];
        }
        if (!seen) {
            fprintf(stderr, "  no positive case for %s\n", inv_rules[r].id);
        }
        CHECK(seen);
    }
    static const char *const clean[] = {"good",
                                        "migrate",
                                        "db-sa",
                                        "static",
                                        "carol-viewer",
                                        "viewer",
                                        "strict",
                                        "good-mtls",
                                        "deny-all",
                                        "good-allow",
                                        "good-vs",
                                        "good-gw",
                                        "app-settings",
                                        "unused-wild",
                                        "cluster-admin",
                                        "kube-proxy",
                                        "system:public-info-viewer",
                                        "secure"};
    for (size_t i = 0; i < f.n; i++) {
        for (size_t k = 0; k < sizeof clean / sizeof clean[0]; k++) {
            bool hit =
                strcmp(f.v[i].name, clean[k]) == 0 && strcmp(f.v[i].rule->id, "VGL-NET-002") != 0;
            if (hit) {
                fprintf(stderr, "  clean object %s raised %s\n", clean[k], f.v[i].rule->id);
            }
            CHECK(!hit);
        }
    }
    inv_findings_clear(&f);
    inv_model_destroy(m);
}

static size_t count_rule(const inv_findings *f, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) {
        n += strcmp(f->v[i].rule->id, id) == 0 ? 1 : 0;
    }
    return n;
}

/* Negative cases of the cluster-wide rules need a second cluster: the same fixture with a
 * mesh-wide STRICT PeerAuthentication and without Istio at all. */
static void test_mesh_wide_strict_and_no_mesh(void)
{
    inv_model *m = fixture_model();
    json_t *pa = json_array_get(m->items[INV_R_PEERAUTHENTICATIONS], 0);
    json_object_set_new(kobj_get(pa, "spec.mtls"), "mode", json_string("STRICT"));
    inv_model_build(m);
    inv_findings f = {0};
    inv_posture_eval(m, &f);
    CHECK_INT_EQ(count_rule(&f, "VGL-MESH-002"), 0);
    CHECK_INT_EQ(count_rule(&f, "VGL-MESH-001"), 0);
    CHECK_INT_EQ(count_rule(&f, "VGL-MESH-003"), 1);
    inv_findings_clear(&f);
    inv_model_destroy(m);

    m = fixture_model();
    for (int r = INV_R_PEERAUTHENTICATIONS; r <= INV_R_GATEWAYS; r++) {
        json_array_clear(m->items[r]);
        m->absent[r] = true;
    }
    inv_model_build(m);
    inv_posture_eval(m, &f);
    size_t mesh = 0;
    for (size_t i = 0; i < f.n; i++) {
        mesh += strncmp(f.v[i].rule->id, "VGL-MESH-", 9) == 0 ? 1 : 0;
    }
    CHECK_INT_EQ(mesh, 0);
    CHECK_INT_EQ(count_rule(&f, "VGL-POD-001"), 1);
    inv_findings_clear(&f);
    inv_model_destroy(m);
}

/* Uncontrolled workloads are not analysed. */
static void test_uncontrolled_not_analysed(void)
{
    inv_model *m = fixture_model();
    inv_model_build(m);
    for (size_t i = 0; i < m->nworkloads; i++) {
        if (strcmp(m->workloads[i].name, "web") == 0) {
            m->workloads[i].status = INV_WL_UNCONTROLLED;
        }
    }
    inv_findings f = {0};
    inv_posture_eval(m, &f);
    for (size_t i = 0; i < f.n; i++) {
        CHECK(!(strcmp(f.v[i].kind, "Deployment") == 0 && strcmp(f.v[i].name, "web") == 0));
    }
    CHECK_INT_EQ(count_rule(&f, "VGL-POD-001"), 0);
    CHECK_INT_EQ(count_rule(&f, "VGL-NET-002"), 1); /* only secure/good now */
    inv_findings_clear(&f);
    inv_model_destroy(m);
}

static void test_finding_data_shape(void)
{
    inv_model *m = fixture_model();
    inv_model_build(m);
    inv_findings f = {0};
    inv_posture_eval(m, &f);
    CHECK(f.n > 0);
    const char *tenant = "11111111-1111-4111-8111-111111111111";
    const char *cluster = "22222222-2222-4222-8222-222222222222";
    for (size_t i = 0; i < f.n; i++) {
        json_t *d = inv_finding_data(&f.v[i], tenant, cluster, "2026-11-27T00:00:00.000Z");
        char fp[65];
        inv_fingerprint(tenant, cluster, f.v[i].rule->id, f.v[i].uid, f.v[i].field, fp);
        CHECK_STR_EQ(kobj_str(d, "fingerprint"), fp);
        CHECK_STR_EQ(kobj_str(d, "source"), "posture");
        CHECK_STR_EQ(kobj_str(d, "scope"), "posture");
        CHECK(kobj_str(d, "object.uid") != NULL && kobj_str(d, "object.uid")[0] != '\0');
        CHECK(strlen(kobj_str0(d, "remediation")) > 10);
        /* evidence never carries a credential's value */
        char *ev = json_dumps(json_object_get(d, "evidence"), 0);
        CHECK(strstr(ev, "hunter2") == NULL && strstr(ev, "s3cr3t") == NULL);
        free(ev);
        json_decref(d);
    }
    char a[65], b[65];
    inv_fingerprint(tenant, cluster, "VGL-POD-001", "u", "f", a);
    inv_fingerprint(tenant, cluster, "VGL-POD-001", "u", "f", b);
    CHECK_STR_EQ(a, b);
    inv_findings_clear(&f);
    inv_model_destroy(m);
}

static void test_credential_names(void)
{
    static const char *const yes[] = {"DB_PASSWORD",           "password",        "clientSecret",
                                      "GITHUB_TOKEN",          "api-key",         "apiKey",
                                      "AWS_SECRET_ACCESS_KEY", "ssh.private.key", "SMTP_PASS",
                                      "db.credentials"};
    static const char *const no[] = {"PASSWORD_MIN_LENGTH",
                                     "TOKEN_TTL",
                                     "SECRET_NAME",
                                     "PASSWORD_FILE",
                                     "PWD",
                                     "KEY",
                                     "monkey",
                                     "LOG_LEVEL",
                                     "tokenizer",
                                     "BYPASS",
                                     ""};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (!kobj_name_is_credential(yes[i])) {
            fprintf(stderr, "  not a credential name: %s\n", yes[i]);
        }
        CHECK(kobj_name_is_credential(yes[i]));
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        if (kobj_name_is_credential(no[i])) {
            fprintf(stderr, "  taken for a credential name: %s\n", no[i]);
        }
        CHECK(!kobj_name_is_credential(no[i]));
    }
}

int main(void)
{
    RUN(test_fixture_exact_findings);
    RUN(test_every_rule_positive_and_negatives_clean);
    RUN(test_mesh_wide_strict_and_no_mesh);
    RUN(test_uncontrolled_not_analysed);
    RUN(test_finding_data_shape);
    RUN(test_credential_names);
    return harness_report("inventory_posture");
}
