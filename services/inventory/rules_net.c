/* Exposure, network policy and ConfigMap rules. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kobj.h"
#include "rules.h"
#include "vigil/alloc.h"

static void collect_controlled(inv_workload *wl, void *arg)
{
    if (wl->status == INV_WL_CONTROLLED) {
        json_array_append_new((json_t *)arg, json_sprintf("%s/%s", wl->kind, wl->name));
    }
}

/* "Kind/name" of the controlled workloads svc selects (new array). */
static json_t *service_workloads(const inv_model *m, json_t *svc)
{
    json_t *names = json_array();
    if (svc != NULL) {
        inv_model_select(m, kobj_str0(svc, "metadata.namespace"), kobj_get(svc, "spec.selector"),
                         collect_controlled, names);
    }
    return names;
}

static json_t *find_service(const inv_model *m, const char *ns, const char *name)
{
    return inv_model_find(m, INV_R_SERVICES, ns, name);
}

static bool service_is_external(json_t *svc)
{
    const char *type = kobj_str0(svc, "spec.type");
    return strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0;
}

void rule_net_nodeport_lb(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    size_t i;
    json_t *svc;
    json_array_foreach(m->items[INV_R_SERVICES], i, svc)
    {
        if (!service_is_external(svc) ||
            !inv_rules_ns_analysed(kobj_str0(svc, "metadata.namespace"))) {
            continue;
        }
        json_t *names = service_workloads(m, svc);
        if (json_array_size(names) == 0) {
            json_decref(names);
            continue;
        }
        inv_objref ref = inv_rules_ref(svc);
        inv_findings_add(out, r, &ref, vg_strdup("spec.type"),
                         json_pack("{s:s, s:o, s:O?}", "type", kobj_str0(svc, "spec.type"),
                                   "workloads", names, "ports", kobj_get(svc, "spec.ports")));
    }
}

typedef void (*backend_fn)(const inv_rule *r, const inv_model *m, json_t *ing, json_t *backend,
                           const char *field, const char *host, inv_findings *out);

/* Calls fn for every service backend of an ingress in an analysed namespace. */
static void each_ingress_backend(const inv_rule *r, const inv_model *m, backend_fn fn,
                                 inv_findings *out)
{
    size_t i, j, k;
    json_t *ing, *rule, *path;
    json_array_foreach(m->items[INV_R_INGRESSES], i, ing)
    {
        if (!inv_rules_ns_analysed(kobj_str0(ing, "metadata.namespace"))) {
            continue;
        }
        json_t *def = kobj_get(ing, "spec.defaultBackend.service");
        if (def != NULL) {
            fn(r, m, ing, def, "spec.defaultBackend.service", "*", out);
        }
        json_array_foreach(kobj_get(ing, "spec.rules"), j, rule)
        {
            json_array_foreach(kobj_get(rule, "http.paths"), k, path)
            {
                json_t *be = kobj_get(path, "backend.service");
                if (be == NULL) {
                    continue;
                }
                char field[96];
                snprintf(field, sizeof field, "spec.rules[%zu].http.paths[%zu].backend.service", j,
                         k);
                const char *host = kobj_str(rule, "host");
                fn(r, m, ing, be, field, host != NULL ? host : "*", out);
            }
        }
    }
}

static void ingress_exposes_one(const inv_rule *r, const inv_model *m, json_t *ing, json_t *backend,
                                const char *field, const char *host, inv_findings *out)
{
    json_t *svc = find_service(m, kobj_str0(ing, "metadata.namespace"), kobj_str0(backend, "name"));
    json_t *names = service_workloads(m, svc);
    if (json_array_size(names) == 0) {
        json_decref(names);
        return;
    }
    inv_objref ref = inv_rules_ref(ing);
    inv_findings_add(out, r, &ref, vg_strdup(field),
                     json_pack("{s:s, s:s, s:o}", "host", host, "service",
                               kobj_str0(backend, "name"), "workloads", names));
}

void rule_net_ingress_exposes(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    each_ingress_backend(r, m, ingress_exposes_one, out);
}

void rule_net_ingress_no_tls(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    size_t i;
    json_t *ing;
    json_array_foreach(m->items[INV_R_INGRESSES], i, ing)
    {
        if (!inv_rules_ns_analysed(kobj_str0(ing, "metadata.namespace")) ||
            json_array_size(kobj_get(ing, "spec.tls")) > 0) {
            continue;
        }
        json_t *hosts = json_array();
        size_t j;
        json_t *rule;
        json_array_foreach(kobj_get(ing, "spec.rules"), j, rule)
        {
            const char *host = kobj_str(rule, "host");
            json_array_append_new(hosts, json_string(host != NULL ? host : "*"));
        }
        inv_objref ref = inv_rules_ref(ing);
        inv_findings_add(out, r, &ref, vg_strdup("spec.tls"), json_pack("{s:o}", "hosts", hosts));
    }
}

/* The name of the sensitive interface on port, or NULL. */
static const char *sensitive_port(json_int_t port)
{
    static const struct {
        json_int_t port;
        const char *what;
    } ports[] = {
        {2379, "etcd"},          {2380, "etcd peer"},
        {10250, "kubelet"},      {10255, "kubelet read-only"},
        {2375, "docker API"},    {2376, "docker API"},
        {8001, "kubectl proxy"}, {3306, "MySQL"},
        {5432, "PostgreSQL"},    {27017, "MongoDB"},
        {6379, "Redis"},         {9200, "Elasticsearch"},
        {5601, "Kibana"},        {9090, "Prometheus"},
        {9042, "Cassandra"},     {11211, "memcached"},
        {5984, "CouchDB"},       {8500, "Consul"},
        {15000, "Envoy admin"},  {15014, "istiod debug"},
        {8086, "InfluxDB"},
    };
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        if (ports[i].port == port) {
            return ports[i].what;
        }
    }
    return NULL;
}

/* The interface a service port exposes: a sensitive port number, or a dashboard by name. */
static const char *port_interface(json_t *svc, json_t *port)
{
    const char *what = sensitive_port(json_integer_value(json_object_get(port, "port")));
    if (what == NULL) {
        what = sensitive_port(json_integer_value(json_object_get(port, "targetPort")));
    }
    if (what == NULL && (strcasestr(kobj_str0(svc, "metadata.name"), "dashboard") != NULL ||
                         strcasestr(kobj_str0(port, "name"), "dashboard") != NULL)) {
        what = "dashboard";
    }
    return what;
}

static void sensitive_service(const inv_rule *r, const inv_model *m, json_t *svc, inv_findings *out)
{
    size_t j;
    json_t *port;
    json_array_foreach(kobj_get(svc, "spec.ports"), j, port)
    {
        const char *what = port_interface(svc, port);
        if (what == NULL) {
            continue;
        }
        json_t *names = service_workloads(m, svc);
        if (json_array_size(names) == 0) {
            json_decref(names);
            continue;
        }
        inv_objref ref = inv_rules_ref(svc);
        inv_findings_add(out, r, &ref, vg_asprintf("spec.ports[%zu]", j),
                         json_pack("{s:s, s:s, s:O?, s:o}", "interface", what, "type",
                                   kobj_str0(svc, "spec.type"), "port",
                                   json_object_get(port, "port"), "workloads", names));
    }
}

static void sensitive_backend(const inv_rule *r, const inv_model *m, json_t *ing, json_t *backend,
                              const char *field, const char *host, inv_findings *out)
{
    json_t *svc = find_service(m, kobj_str0(ing, "metadata.namespace"), kobj_str0(backend, "name"));
    json_int_t num = json_integer_value(kobj_get(backend, "port.number"));
    const char *what = sensitive_port(num);
    if (what == NULL && strcasestr(kobj_str0(backend, "name"), "dashboard") != NULL) {
        what = "dashboard";
    }
    json_t *names = service_workloads(m, svc);
    if (what == NULL || json_array_size(names) == 0) {
        json_decref(names);
        return;
    }
    inv_objref ref = inv_rules_ref(ing);
    inv_findings_add(out, r, &ref, vg_strdup(field),
                     json_pack("{s:s, s:s, s:s, s:o}", "interface", what, "host", host, "service",
                               kobj_str0(backend, "name"), "workloads", names));
}

void rule_net_sensitive_exposed(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    size_t i;
    json_t *svc;
    json_array_foreach(m->items[INV_R_SERVICES], i, svc)
    {
        if (service_is_external(svc) &&
            inv_rules_ns_analysed(kobj_str0(svc, "metadata.namespace"))) {
            sensitive_service(r, m, svc, out);
        }
    }
    each_ingress_backend(r, m, sensitive_backend, out);
}

/* A policy selecting every pod and allowing no ingress: the default deny. */
static bool policy_is_default_deny(json_t *np)
{
    json_t *sel = kobj_get(np, "spec.podSelector");
    if (json_object_size(json_object_get(sel, "matchLabels")) > 0 ||
        json_array_size(json_object_get(sel, "matchExpressions")) > 0) {
        return false;
    }
    json_t *types = kobj_get(np, "spec.policyTypes");
    bool ingress = types == NULL;
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t)
    {
        if (json_is_string(t) && strcmp(json_string_value(t), "Ingress") == 0) {
            ingress = true;
        }
    }
    return ingress && json_array_size(kobj_get(np, "spec.ingress")) == 0;
}

void rule_net_no_default_deny(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    size_t i, j;
    json_t *ns, *np;
    json_array_foreach(m->items[INV_R_NAMESPACES], i, ns)
    {
        const char *name = kobj_str0(ns, "metadata.name");
        if (!inv_rules_ns_analysed(name) || !inv_model_ns_has_controlled(m, name)) {
            continue;
        }
        bool deny = false;
        size_t policies = 0;
        json_array_foreach(m->items[INV_R_NETWORKPOLICIES], j, np)
        {
            if (strcmp(kobj_str0(np, "metadata.namespace"), name) == 0) {
                policies++;
                deny = deny || policy_is_default_deny(np);
            }
        }
        if (!deny) {
            inv_objref ref = inv_rules_ref(ns);
            inv_findings_add(out, r, &ref, vg_strdup("networkpolicies"),
                             json_pack("{s:I, s:b}", "policies", (json_int_t)policies,
                                       "default_deny_ingress", 0));
        }
    }
}

static void configmap_keys(const inv_rule *r, json_t *cm, const char *section, inv_findings *out)
{
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(cm, section), key, v)
    {
        if (kobj_name_is_credential(key)) {
            inv_objref ref = inv_rules_ref(cm);
            inv_findings_add(out, r, &ref, vg_asprintf("%s[%s]", section, key),
                             json_pack("{s:s}", "key", key));
        }
    }
}

void rule_cm_credentials(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    size_t i;
    json_t *cm;
    json_array_foreach(m->items[INV_R_CONFIGMAPS], i, cm)
    {
        const char *ns = kobj_str0(cm, "metadata.namespace");
        if (!inv_rules_ns_analysed(ns) || inv_rules_ns_all_uncontrolled(m, ns)) {
            continue;
        }
        configmap_keys(r, cm, "data", out);
        configmap_keys(r, cm, "binaryData", out);
    }
}
