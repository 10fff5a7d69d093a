/* The in-memory cluster model of one snapshot: objects by resource, an index by uid, and
 * the workloads (top-level owners found by walking ownerReferences from pods) with the pod
 * template the posture rules evaluate and how each workload is exposed. Pure logic: no
 * database, no Kafka, so tests and benchmarks use it directly. */
#ifndef VIGIL_INVENTORY_MODEL_H
#define VIGIL_INVENTORY_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    INV_R_NAMESPACES,
    INV_R_PODS,
    INV_R_SERVICES,
    INV_R_SERVICEACCOUNTS,
    INV_R_CONFIGMAPS,
    INV_R_REPLICATIONCONTROLLERS,
    INV_R_DEPLOYMENTS,
    INV_R_REPLICASETS,
    INV_R_STATEFULSETS,
    INV_R_DAEMONSETS,
    INV_R_JOBS,
    INV_R_CRONJOBS,
    INV_R_INGRESSES,
    INV_R_NETWORKPOLICIES,
    INV_R_ROLES,
    INV_R_ROLEBINDINGS,
    INV_R_CLUSTERROLES,
    INV_R_CLUSTERROLEBINDINGS,
    INV_R_PEERAUTHENTICATIONS,
    INV_R_AUTHORIZATIONPOLICIES,
    INV_R_VIRTUALSERVICES,
    INV_R_DESTINATIONRULES,
    INV_R_GATEWAYS,
    INV_R_COUNT
} inv_resource;

typedef enum { INV_WL_CONTROLLED = 0, INV_WL_UNCONTROLLED, INV_WL_EXCLUDED } inv_wl_status;

typedef struct inv_workload {
    const char *uid; /* strings borrowed from the model's objects */
    const char *kind;
    const char *namespace;
    const char *name;
    json_t *object;        /* the top-level owner, or the first pod when the owner is not in
                              the snapshot (borrowed) */
    json_t *pod_meta;      /* metadata of the evaluated pod template (borrowed) */
    json_t *pod_spec;      /* the evaluated pod spec (borrowed) */
    const char *spec_path; /* where pod_spec lives in object, e.g. "spec.template.spec" */
    json_t *pod_labels;    /* labels of its first pod (borrowed), matched by selectors */
    int pods;
    const char *service_account;
    inv_wl_status status;
    int64_t seq;      /* admitted_seq, 0 until admission */
    json_t *exposure; /* owned array of {type, ...} */
} inv_workload;

typedef struct inv_model {
    json_t *items[INV_R_COUNT]; /* owned arrays of objects */
    bool absent[INV_R_COUNT];   /* the cluster does not serve this resource (no CRD) */
    json_t *by_uid;             /* uid -> object (borrowed references held) */
    inv_workload *workloads;
    size_t nworkloads;
    json_t *pod_workload; /* pod uid -> workload index */
    json_t *named;        /* "<resource>/<namespace>/<name>" -> object, for lookups */
    json_t *ns_workloads; /* namespace -> array of workload indexes */
} inv_model;

/* Resource name ("pods") to its enum; -1 for resources the model does not keep. */
int inv_resource_from_name(const char *name);
const char *inv_resource_name(inv_resource r);
/* The kind of an item of r ("Pod"): list items carry no kind. */
const char *inv_resource_kind(inv_resource r);

inv_model *inv_model_new(void);
void inv_model_destroy(inv_model *m); /* NULL is a no-op */
/* Appends the objects of items (an array, borrowed; its elements get a reference). */
void inv_model_add_items(inv_model *m, inv_resource r, json_t *items);
/* Indexes objects by uid and resolves workloads (every workload starts CONTROLLED, or
 * EXCLUDED in a system namespace) and their exposure. Call once after the last add. */
void inv_model_build(inv_model *m);

/* True for kube-system, kube-public, kube-node-lease and istio-system. */
bool inv_namespace_is_system(const char *ns);
/* True when Istio is installed: its resources are served and istio-system exists or some
 * Istio object is present. */
bool inv_model_has_mesh(const inv_model *m);
/* The Namespace object, or NULL. */
json_t *inv_model_namespace(const inv_model *m, const char *name);
/* The object of resource r (services, serviceaccounts or namespaces) named ns/name, or NULL
 * (ns "" for cluster-scoped objects). Borrowed. */
json_t *inv_model_find(const inv_model *m, inv_resource r, const char *ns, const char *name);
/* True when namespace ns has a CONTROLLED workload. */
bool inv_model_ns_has_controlled(const inv_model *m, const char *ns);
/* True when ns has workloads and all of them are UNCONTROLLED. */
bool inv_model_ns_all_uncontrolled(const inv_model *m, const char *ns);
/* Index of the workload a pod belongs to, or -1. */
long inv_model_pod_workload(const inv_model *m, const char *pod_uid);
/* Workloads of namespace ns whose pod labels match selector (matchLabels object). Calls fn
 * for each. */
void inv_model_select(const inv_model *m, const char *ns, json_t *selector,
                      void (*fn)(inv_workload *wl, void *arg), void *arg);

#endif
