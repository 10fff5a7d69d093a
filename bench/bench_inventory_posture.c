/* Benchmark: a synthetic 10,000-pod cluster snapshot evaluated with every posture rule,
 * in-process. Times the work the consumer does per snapshot once the chunks are read:
 * parsing the items, building the model (owner chains, exposure) and running all rules.
 * Prints wall time and peak RSS; goal < 1 s and < 200 MB.
 * Usage: bin/bench_inventory_posture [pods] (default 10000) */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../services/inventory/findings.h"
#include "../services/inventory/model.h"
#include "../services/inventory/rules.h"

#define PODS_PER_WORKLOAD 5
#define WORKLOADS_PER_NS 20

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *container(int i)
{
    json_t *c = json_pack("{s:s, s:s, s:[{s:i}], s:{s:{s:s, s:s}}}", "name", "app", "image",
                          "registry.example.com/app:1.0", "ports", "containerPort", 8080,
                          "resources", "limits", "cpu", "500m", "memory", "256Mi");
    if (i % 3 == 0) { /* a third hardened, the rest with the usual gaps */
        json_object_set_new(c, "securityContext",
                            json_pack("{s:b, s:b, s:{s:[s]}}", "allowPrivilegeEscalation", 0,
                                      "readOnlyRootFilesystem", 1, "capabilities", "drop", "ALL"));
    } else if (i % 7 == 0) {
        json_object_set_new(c, "securityContext", json_pack("{s:b}", "privileged", 1));
    }
    json_object_set_new(c, "env",
                        json_pack("[{s:s, s:s}, {s:s, s:s}]", "name", "LOG_LEVEL", "value", "info",
                                  "name", i % 11 == 0 ? "API_TOKEN" : "MODE", "value", "x"));
    return c;
}

static json_t *meta(const char *ns, const char *name, const char *uid, const char *okind,
                    const char *oname, const char *ouid, const char *app)
{
    json_t *m = json_pack("{s:s, s:s, s:s, s:{s:s}}", "name", name, "namespace", ns, "uid", uid,
                          "labels", "app", app);
    if (okind != NULL) {
        json_object_set_new(m, "ownerReferences",
                            json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion", "apps/v1",
                                      "kind", okind, "name", oname, "uid", ouid, "controller", 1));
    }
    return m;
}

/* One Deployment with its ReplicaSet, pods, Service and ConfigMap. */
static void add_workload(json_t *snap, const char *ns, int w, int pods)
{
    char name[48], rs[64], duid[64], rsuid[80];
    snprintf(name, sizeof name, "%s-app%02d", ns, w);
    snprintf(rs, sizeof rs, "%s-5d4f8", name);
    snprintf(duid, sizeof duid, "d-%s", name);
    snprintf(rsuid, sizeof rsuid, "rs-%s", name);
    json_t *spec = json_pack("{s:[o], s:s}", "containers", container(w), "serviceAccountName",
                             w % 2 ? "default" : "app");
    json_t *tmpl = json_pack("{s:{s:{s:s}}, s:O}", "metadata", "labels", "app", name, "spec", spec);
    json_array_append_new(json_object_get(snap, "deployments"),
                          json_pack("{s:o, s:{s:O}}", "metadata",
                                    meta(ns, name, duid, NULL, NULL, NULL, name), "spec",
                                    "template", tmpl));
    json_array_append_new(json_object_get(snap, "replicasets"),
                          json_pack("{s:o, s:{s:O}}", "metadata",
                                    meta(ns, rs, rsuid, "Deployment", name, duid, name), "spec",
                                    "template", tmpl));
    for (int p = 0; p < pods; p++) {
        char pname[80], puid[96];
        snprintf(pname, sizeof pname, "%s-%d", rs, p);
        snprintf(puid, sizeof puid, "p-%s", pname);
        json_array_append_new(json_object_get(snap, "pods"),
                              json_pack("{s:o, s:O, s:{s:s}}", "metadata",
                                        meta(ns, pname, puid, "ReplicaSet", rs, rsuid, name),
                                        "spec", spec, "status", "phase", "Running"));
    }
    char suid[96];
    snprintf(suid, sizeof suid, "svc-%s", name);
    json_array_append_new(json_object_get(snap, "services"),
                          json_pack("{s:o, s:{s:s, s:{s:s}, s:[{s:i}]}}", "metadata",
                                    meta(ns, name, suid, NULL, NULL, NULL, name), "spec", "type",
                                    w % 10 == 0 ? "NodePort" : "ClusterIP", "selector", "app", name,
                                    "ports", "port", w % 10 == 0 ? 5432 : 80));
    snprintf(suid, sizeof suid, "cm-%s", name);
    json_array_append_new(json_object_get(snap, "configmaps"),
                          json_pack("{s:o, s:{s:s, s:s}}", "metadata",
                                    meta(ns, name, suid, NULL, NULL, NULL, name), "data",
                                    "LOG_LEVEL", "", w % 9 == 0 ? "DB_PASSWORD" : "MODE", ""));
    json_decref(spec);
    json_decref(tmpl);
}

static void add_namespace(json_t *snap, int n, int *pods_left)
{
    char ns[32], uid[48];
    snprintf(ns, sizeof ns, "team%03d", n);
    snprintf(uid, sizeof uid, "ns-%s", ns);
    json_array_append_new(json_object_get(snap, "namespaces"),
                          json_pack("{s:{s:s, s:s, s:{s:s}}}", "metadata", "name", ns, "uid", uid,
                                    "labels", "istio-injection", "enabled"));
    for (int w = 0; w<WORKLOADS_PER_NS && * pods_left> 0; w++) {
        int pods = *pods_left < PODS_PER_WORKLOAD ? *pods_left : PODS_PER_WORKLOAD;
        add_workload(snap, ns, w, pods);
        *pods_left -= pods;
    }
    snprintf(uid, sizeof uid, "rb-%s", ns);
    json_array_append_new(json_object_get(snap, "rolebindings"),
                          json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s}, s:[{s:s, s:s}]}", "metadata",
                                    "name", "edit", "namespace", ns, "uid", uid, "roleRef", "kind",
                                    "ClusterRole", "name", "edit", "subjects", "kind", "Group",
                                    "name", ns));
    if (n % 2 == 0) {
        snprintf(uid, sizeof uid, "np-%s", ns);
        json_array_append_new(json_object_get(snap, "networkpolicies"),
                              json_pack("{s:{s:s, s:s, s:s}, s:{s:{}, s:[s]}}", "metadata", "name",
                                        "deny", "namespace", ns, "uid", uid, "spec", "podSelector",
                                        "policyTypes", "Ingress"));
    }
}

/* The snapshot as the chunks carry it: serialized text per resource. */
static char *synthetic_snapshot(int pods)
{
    static const char *const keys[] = {"namespaces",   "pods",         "deployments",
                                       "replicasets",  "services",     "configmaps",
                                       "rolebindings", "clusterroles", "networkpolicies"};
    json_t *snap = json_object();
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_object_set_new(snap, keys[i], json_array());
    }
    json_array_append_new(json_object_get(snap, "clusterroles"),
                          json_pack("{s:{s:s, s:s}, s:[{s:[s], s:[s, s], s:[s, s]}]}", "metadata",
                                    "name", "edit", "uid", "cr-edit", "rules", "apiGroups", "",
                                    "resources", "pods", "secrets", "verbs", "get", "create"));
    for (int n = 0; pods > 0; n++) {
        add_namespace(snap, n, &pods);
    }
    char *text = json_dumps(snap, JSON_COMPACT);
    json_decref(snap);
    return text;
}

int main(int argc, char **argv)
{
    int pods = argc > 1 ? atoi(argv[1]) : 10000;
    char *text = synthetic_snapshot(pods);
    clock_t c0 = clock();
    double t0 = now_s();
    json_t *snap = json_loads(text, 0, NULL);
    inv_model *m = inv_model_new();
    const char *key;
    json_t *items;
    json_object_foreach(snap, key, items)
    {
        inv_model_add_items(m, (inv_resource)inv_resource_from_name(key), items);
    }
    double t1 = now_s();
    inv_model_build(m);
    double t2 = now_s();
    inv_findings f = {0};
    inv_posture_eval(m, &f);
    double t3 = now_s();
    double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("pods=%zu workloads=%zu findings=%zu snapshot_bytes=%zu\n",
           json_array_size(m->items[INV_R_PODS]), m->nworkloads, f.n, strlen(text));
    printf("parse_s=%.3f build_s=%.3f rules_s=%.3f total_s=%.3f cpu_s=%.3f peak_rss_mb=%.1f\n",
           t1 - t0, t2 - t1, t3 - t2, t3 - t0, cpu, (double)ru.ru_maxrss / 1024.0);
    int ok = (t3 - t0) < 1.0 && ru.ru_maxrss < 200 * 1024;
    inv_findings_clear(&f);
    inv_model_destroy(m);
    json_decref(snap);
    free(text);
    return ok ? 0 : 1;
}
