/* The cluster model of one snapshot: objects, uid index, workloads and exposure. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kobj.h"
#include "vigil/alloc.h"

static const struct {
    const char *name;
    const char *kind;
} resources[INV_R_COUNT] = {
    [INV_R_NAMESPACES] = {"namespaces", "Namespace"},
    [INV_R_PODS] = {"pods", "Pod"},
    [INV_R_SERVICES] = {"services", "Service"},
    [INV_R_SERVICEACCOUNTS] = {"serviceaccounts", "ServiceAccount"},
    [INV_R_CONFIGMAPS] = {"configmaps", "ConfigMap"},
    [INV_R_REPLICATIONCONTROLLERS] = {"replicationcontrollers", "ReplicationController"},
    [INV_R_DEPLOYMENTS] = {"deployments", "Deployment"},
    [INV_R_REPLICASETS] = {"replicasets", "ReplicaSet"},
    [INV_R_STATEFULSETS] = {"statefulsets", "StatefulSet"},
    [INV_R_DAEMONSETS] = {"daemonsets", "DaemonSet"},
    [INV_R_JOBS] = {"jobs", "Job"},
    [INV_R_CRONJOBS] = {"cronjobs", "CronJob"},
    [INV_R_INGRESSES] = {"ingresses", "Ingress"},
    [INV_R_NETWORKPOLICIES] = {"networkpolicies", "NetworkPolicy"},
    [INV_R_ROLES] = {"roles", "Role"},
    [INV_R_ROLEBINDINGS] = {"rolebindings", "RoleBinding"},
    [INV_R_CLUSTERROLES] = {"clusterroles", "ClusterRole"},
    [INV_R_CLUSTERROLEBINDINGS] = {"clusterrolebindings", "ClusterRoleBinding"},
    [INV_R_PEERAUTHENTICATIONS] = {"peerauthentications", "PeerAuthentication"},
    [INV_R_AUTHORIZATIONPOLICIES] = {"authorizationpolicies", "AuthorizationPolicy"},
    [INV_R_VIRTUALSERVICES] = {"virtualservices", "VirtualService"},
    [INV_R_DESTINATIONRULES] = {"destinationrules", "DestinationRule"},
    [INV_R_GATEWAYS] = {"gateways", "Gateway"},
};

/* Owner kinds walked from pods, and where each keeps its pod template. */
static const struct {
    const char *kind;
    const char *spec_path;
    const char *meta_path;
} owner_kinds[] = {
    {"ReplicaSet", "spec.template.spec", "spec.template.metadata"},
    {"Deployment", "spec.template.spec", "spec.template.metadata"},
    {"StatefulSet", "spec.template.spec", "spec.template.metadata"},
    {"DaemonSet", "spec.template.spec", "spec.template.metadata"},
    {"Job", "spec.template.spec", "spec.template.metadata"},
    {"CronJob", "spec.jobTemplate.spec.template.spec", "spec.jobTemplate.spec.template.metadata"},
    {"ReplicationController", "spec.template.spec", "spec.template.metadata"},
};

int inv_resource_from_name(const char *name)
{
    for (int r = 0; r < INV_R_COUNT; r++) {
        if (strcmp(resources[r].name, name) == 0) {
            return r;
        }
    }
    return -1;
}

const char *inv_resource_name(inv_resource r)
{
    return resources[r].name;
}

const char *inv_resource_kind(inv_resource r)
{
    return resources[r].kind;
}

bool inv_namespace_is_system(const char *ns)
{
    return strcmp(ns, "kube-system") == 0 || strcmp(ns, "kube-public") == 0 ||
           strcmp(ns, "kube-node-lease") == 0 || strcmp(ns, "istio-system") == 0;
}

inv_model *inv_model_new(void)
{
    inv_model *m = vg_calloc(1, sizeof *m);
    for (int r = 0; r < INV_R_COUNT; r++) {
        m->items[r] = json_array();
    }
    m->by_uid = json_object();
    m->pod_workload = json_object();
    m->named = json_object();
    m->ns_workloads = json_object();
    return m;
}

void inv_model_destroy(inv_model *m)
{
    if (m == NULL) {
        return;
    }
    for (size_t i = 0; i < m->nworkloads; i++) {
        json_decref(m->workloads[i].exposure);
    }
    free(m->workloads);
    for (int r = 0; r < INV_R_COUNT; r++) {
        json_decref(m->items[r]);
    }
    json_decref(m->by_uid);
    json_decref(m->pod_workload);
    json_decref(m->named);
    json_decref(m->ns_workloads);
    free(m);
}

void inv_model_add_items(inv_model *m, inv_resource r, json_t *items)
{
    size_t i;
    json_t *obj;
    json_array_foreach(items, i, obj)
    {
        if (!json_is_object(obj)) {
            continue;
        }
        if (!json_is_string(json_object_get(obj, "kind"))) {
            /* list items carry no kind: the resource tells it */
            json_object_set_new(obj, "kind", json_string(resources[r].kind));
        }
        json_array_append(m->items[r], obj);
    }
}

static int owner_kind_index(const char *kind)
{
    for (size_t i = 0; i < sizeof owner_kinds / sizeof owner_kinds[0]; i++) {
        if (strcmp(owner_kinds[i].kind, kind) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* The controlling ownerReference of obj when it is a walked owner kind, else NULL. */
static json_t *controller_ref(json_t *obj)
{
    json_t *refs = kobj_get(obj, "metadata.ownerReferences");
    json_t *pick = NULL;
    size_t i;
    json_t *ref;
    json_array_foreach(refs, i, ref)
    {
        if (kobj_true(ref, "controller") || pick == NULL) {
            pick = ref;
        }
    }
    if (pick == NULL || kobj_str(pick, "uid") == NULL || kobj_str(pick, "kind") == NULL ||
        owner_kind_index(kobj_str(pick, "kind")) < 0) {
        return NULL;
    }
    return pick;
}

/* Walks from pod to its top-level owner; fills wl's identity and template. */
static void workload_identify(inv_model *m, json_t *pod, inv_workload *wl)
{
    json_t *cur = pod;
    json_t *ref;
    const char *ns = kobj_str0(pod, "metadata.namespace");
    /* real chains are at most Pod -> Job -> CronJob or Pod -> ReplicaSet -> Deployment; the
     * bound stops a cycle of ownerReferences from looping */
    for (int depth = 0; depth < 8 && (ref = controller_ref(cur)) != NULL; depth++) {
        json_t *owner = json_object_get(m->by_uid, kobj_str(ref, "uid"));
        if (owner != NULL && strcmp(kobj_str0(owner, "metadata.namespace"), ns) != 0) {
            owner = NULL; /* owners live in their dependent's namespace */
        }
        if (owner == NULL) {
            /* the owner is not in the snapshot: it is the top, known by the reference */
            wl->uid = kobj_str(ref, "uid");
            wl->kind = kobj_str(ref, "kind");
            wl->name = kobj_str0(ref, "name");
            wl->namespace = kobj_str0(pod, "metadata.namespace");
            wl->object = pod;
            wl->pod_spec = kobj_get(pod, "spec");
            wl->pod_meta = kobj_get(pod, "metadata");
            wl->spec_path = "spec";
            return;
        }
        cur = owner;
    }
    wl->uid = kobj_str0(cur, "metadata.uid");
    wl->kind = kobj_str0(cur, "kind");
    wl->name = kobj_str0(cur, "metadata.name");
    wl->namespace = kobj_str0(pod, "metadata.namespace");
    wl->object = cur;
    int k = owner_kind_index(wl->kind);
    wl->spec_path = k >= 0 ? owner_kinds[k].spec_path : "spec";
    wl->pod_spec = kobj_get(cur, wl->spec_path);
    wl->pod_meta = k >= 0 ? kobj_get(cur, owner_kinds[k].meta_path) : kobj_get(cur, "metadata");
    if (wl->pod_spec == NULL) {
        wl->pod_spec = kobj_get(pod, "spec");
        wl->pod_meta = kobj_get(pod, "metadata");
        wl->spec_path = "spec";
        wl->object = pod;
    }
}

static char *named_key(inv_resource r, const char *ns, const char *name)
{
    return vg_asprintf("%d/%s/%s", (int)r, ns, name);
}

static void index_uids(inv_model *m)
{
    for (int r = 0; r < INV_R_COUNT; r++) {
        bool named = r == INV_R_SERVICES || r == INV_R_SERVICEACCOUNTS || r == INV_R_NAMESPACES;
        size_t i;
        json_t *obj;
        json_array_foreach(m->items[r], i, obj)
        {
            const char *uid = kobj_str(obj, "metadata.uid");
            if (uid != NULL && uid[0] != '\0') {
                json_object_set(m->by_uid, uid, obj);
            }
            if (named) {
                char *key = named_key((inv_resource)r, kobj_str0(obj, "metadata.namespace"),
                                      kobj_str0(obj, "metadata.name"));
                json_object_set(m->named, key, obj);
                free(key);
            }
        }
    }
}

json_t *inv_model_find(const inv_model *m, inv_resource r, const char *ns, const char *name)
{
    char *key = named_key(r, ns, name);
    json_t *obj = json_object_get(m->named, key);
    free(key);
    return obj;
}

static void index_namespaces(inv_model *m)
{
    for (size_t i = 0; i < m->nworkloads; i++) {
        json_t *list = json_object_get(m->ns_workloads, m->workloads[i].namespace);
        if (list == NULL) {
            list = json_array();
            json_object_set_new(m->ns_workloads, m->workloads[i].namespace, list);
        }
        json_array_append_new(list, json_integer((json_int_t)i));
    }
}

bool inv_model_ns_has_controlled(const inv_model *m, const char *ns)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(m->ns_workloads, ns), i, w)
    {
        if (m->workloads[json_integer_value(w)].status == INV_WL_CONTROLLED) {
            return true;
        }
    }
    return false;
}

bool inv_model_ns_all_uncontrolled(const inv_model *m, const char *ns)
{
    json_t *list = json_object_get(m->ns_workloads, ns);
    size_t i;
    json_t *w;
    json_array_foreach(list, i, w)
    {
        if (m->workloads[json_integer_value(w)].status != INV_WL_UNCONTROLLED) {
            return false;
        }
    }
    return json_array_size(list) > 0;
}

static void resolve_workloads(inv_model *m)
{
    size_t npods = json_array_size(m->items[INV_R_PODS]);
    m->workloads = vg_calloc(npods > 0 ? npods : 1, sizeof *m->workloads);
    json_t *index = json_object(); /* workload uid -> index */
    size_t i;
    json_t *pod;
    json_array_foreach(m->items[INV_R_PODS], i, pod)
    {
        const char *pod_uid = kobj_str(pod, "metadata.uid");
        if (pod_uid == NULL || pod_uid[0] == '\0') {
            continue;
        }
        inv_workload wl = {0};
        workload_identify(m, pod, &wl);
        if (wl.uid == NULL || wl.uid[0] == '\0') {
            continue;
        }
        json_t *at = json_object_get(index, wl.uid);
        size_t w;
        if (at != NULL) {
            w = (size_t)json_integer_value(at);
        } else {
            w = m->nworkloads++;
            wl.pod_labels = kobj_get(pod, "metadata.labels");
            const char *sa = kobj_str(wl.pod_spec, "serviceAccountName");
            wl.service_account = sa != NULL && sa[0] != '\0' ? sa : "default";
            wl.status = inv_namespace_is_system(wl.namespace) ? INV_WL_EXCLUDED : INV_WL_CONTROLLED;
            wl.exposure = json_array();
            m->workloads[w] = wl;
            json_object_set_new(index, wl.uid, json_integer((json_int_t)w));
        }
        m->workloads[w].pods++;
        json_object_set_new(m->pod_workload, pod_uid, json_integer((json_int_t)w));
    }
    json_decref(index);
}

void inv_model_select(const inv_model *m, const char *ns, json_t *selector,
                      void (*fn)(inv_workload *wl, void *arg), void *arg)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(m->ns_workloads, ns), i, w)
    {
        inv_workload *wl = &m->workloads[json_integer_value(w)];
        if (kobj_selector_matches(selector, wl->pod_labels, false)) {
            fn(wl, arg);
        }
    }
}

static void add_exposure(inv_workload *wl, void *arg)
{
    json_array_append(wl->exposure, (json_t *)arg);
}

static json_t *service_ports(json_t *svc)
{
    json_t *ports = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(kobj_get(svc, "spec.ports"), i, p)
    {
        json_t *e = json_pack("{s:O?}", "port", json_object_get(p, "port"));
        if (json_object_get(p, "nodePort") != NULL) {
            json_object_set(e, "node_port", json_object_get(p, "nodePort"));
        }
        json_array_append_new(ports, e);
    }
    return ports;
}

static void expose_services(inv_model *m)
{
    size_t i;
    json_t *svc;
    json_array_foreach(m->items[INV_R_SERVICES], i, svc)
    {
        const char *type = kobj_str(svc, "spec.type");
        json_t *e =
            json_pack("{s:s, s:s, s:o}", "type", type != NULL ? type : "ClusterIP", "service",
                      kobj_str0(svc, "metadata.name"), "ports", service_ports(svc));
        inv_model_select(m, kobj_str0(svc, "metadata.namespace"), kobj_get(svc, "spec.selector"),
                         add_exposure, e);
        json_decref(e);
    }
}

static void expose_backend(inv_model *m, const char *ns, const char *service, json_t *entry)
{
    json_t *svc = service != NULL ? inv_model_find(m, INV_R_SERVICES, ns, service) : NULL;
    if (svc != NULL) {
        inv_model_select(m, ns, kobj_get(svc, "spec.selector"), add_exposure, entry);
    }
}

static void expose_ingresses(inv_model *m)
{
    size_t i, j, k;
    json_t *ing, *rule, *path;
    json_array_foreach(m->items[INV_R_INGRESSES], i, ing)
    {
        const char *ns = kobj_str0(ing, "metadata.namespace");
        const char *name = kobj_str0(ing, "metadata.name");
        json_t *def = kobj_get(ing, "spec.defaultBackend.service");
        if (def != NULL) {
            json_t *e =
                json_pack("{s:s, s:s, s:s}", "type", "Ingress", "ingress", name, "host", "*");
            expose_backend(m, ns, kobj_str(def, "name"), e);
            json_decref(e);
        }
        json_array_foreach(kobj_get(ing, "spec.rules"), j, rule)
        {
            const char *host = kobj_str(rule, "host");
            json_array_foreach(kobj_get(rule, "http.paths"), k, path)
            {
                json_t *e =
                    json_pack("{s:s, s:s, s:s, s:s}", "type", "Ingress", "ingress", name, "host",
                              host != NULL ? host : "*", "path", kobj_str0(path, "path"));
                expose_backend(m, ns, kobj_str(path, "backend.service.name"), e);
                json_decref(e);
            }
        }
    }
}

/* Splits an Istio destination host ("reviews", "reviews.prod", "reviews.prod.svc.cluster.local")
 * into service name and namespace (default_ns when not given). */
static void split_mesh_host(const char *host, const char *default_ns, char *svc, size_t svclen,
                            char *ns, size_t nslen)
{
    const char *dot = strchr(host, '.');
    if (dot == NULL) {
        snprintf(svc, svclen, "%s", host);
        snprintf(ns, nslen, "%s", default_ns);
        return;
    }
    snprintf(svc, svclen, "%.*s", (int)(dot - host), host);
    const char *dot2 = strchr(dot + 1, '.');
    size_t n = dot2 != NULL ? (size_t)(dot2 - dot - 1) : strlen(dot + 1);
    snprintf(ns, nslen, "%.*s", (int)n, dot + 1);
}

/* The first gateway of a VirtualService other than "mesh", or NULL. */
static const char *vs_gateway(json_t *vs)
{
    size_t i;
    json_t *g;
    json_array_foreach(kobj_get(vs, "spec.gateways"), i, g)
    {
        const char *s = json_string_value(g);
        if (s != NULL && strcmp(s, "mesh") != 0) {
            return s;
        }
    }
    return NULL;
}

static void expose_virtualservices(inv_model *m)
{
    size_t i, j, k;
    json_t *vs, *route, *dest;
    json_array_foreach(m->items[INV_R_VIRTUALSERVICES], i, vs)
    {
        const char *gw = vs_gateway(vs);
        if (gw == NULL) {
            continue;
        }
        const char *ns = kobj_str0(vs, "metadata.namespace");
        json_array_foreach(kobj_get(vs, "spec.http"), j, route)
        {
            json_array_foreach(json_object_get(route, "route"), k, dest)
            {
                const char *host = kobj_str(dest, "destination.host");
                if (host == NULL) {
                    continue;
                }
                char svc[256], sns[256];
                split_mesh_host(host, ns, svc, sizeof svc, sns, sizeof sns);
                json_t *e = json_pack("{s:s, s:s, s:s, s:O?}", "type", "Gateway", "gateway", gw,
                                      "virtualservice", kobj_str0(vs, "metadata.name"), "hosts",
                                      kobj_get(vs, "spec.hosts"));
                expose_backend(m, sns, svc, e);
                json_decref(e);
            }
        }
    }
}

void inv_model_build(inv_model *m)
{
    index_uids(m);
    resolve_workloads(m);
    index_namespaces(m);
    expose_services(m);
    expose_ingresses(m);
    expose_virtualservices(m);
}

json_t *inv_model_namespace(const inv_model *m, const char *name)
{
    return inv_model_find(m, INV_R_NAMESPACES, "", name);
}

bool inv_model_has_mesh(const inv_model *m)
{
    if (m->absent[INV_R_PEERAUTHENTICATIONS]) {
        return false;
    }
    if (inv_model_namespace(m, "istio-system") != NULL) {
        return true;
    }
    for (int r = INV_R_PEERAUTHENTICATIONS; r <= INV_R_GATEWAYS; r++) {
        if (json_array_size(m->items[r]) > 0) {
            return true;
        }
    }
    return false;
}

long inv_model_pod_workload(const inv_model *m, const char *pod_uid)
{
    json_t *at = json_object_get(m->pod_workload, pod_uid);
    return at != NULL ? (long)json_integer_value(at) : -1;
}
