/* The posture rule table: stable ids, metadata, and one small function per rule.
 * Pod rules run once per analysed workload on the pod template it runs; cluster rules run
 * once per snapshot over the model (RBAC, exposure, network policies, Istio, ConfigMaps). */
#ifndef VIGIL_INVENTORY_RULES_H
#define VIGIL_INVENTORY_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "findings.h"
#include "model.h"

/* What one pod rule looks at: a workload's pod spec and where it lives. */
typedef struct inv_podctx {
    const inv_model *model;
    const inv_workload *wl;
    json_t *spec;     /* the pod spec */
    const char *path; /* field path prefix of spec in the object, e.g. "spec.template.spec" */
    inv_objref ref;   /* the workload */
} inv_podctx;

typedef struct inv_rule inv_rule;
typedef void (*inv_pod_rule_fn)(const inv_rule *rule, const inv_podctx *p, inv_findings *out);
typedef void (*inv_cluster_rule_fn)(const inv_rule *rule, const inv_model *m, inv_findings *out);

struct inv_rule {
    const char *id; /* VGL-<AREA>-NNN, stable */
    const char *title;
    const char *severity; /* info, low, medium, high, critical */
    const char *category;
    const char *kubescape; /* control id or NULL */
    const char *pss;       /* baseline / restricted or NULL */
    const char *cis;       /* CIS Kubernetes Benchmark item or NULL */
    const char *remediation;
    inv_pod_rule_fn pod;         /* exactly one of pod / cluster is set */
    inv_cluster_rule_fn cluster; /* NULL for rules evaluated elsewhere (plan) */
};

/* The table, and its length. */
extern const inv_rule inv_rules[];
extern const size_t inv_nrules;
const inv_rule *inv_rule_find(const char *id);

/* Runs every rule over the model: pod rules on workloads whose status is CONTROLLED,
 * cluster rules on the rest (skipping objects of uncontrolled or system workloads). */
void inv_posture_eval(const inv_model *m, inv_findings *out);

/* Pod rule functions (rules_pod.c). */
void rule_pod_privileged(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_host_network(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_host_pid(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_host_ipc(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_host_port(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_hostpath_writable(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_runtime_socket(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_dangerous_caps(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_no_drop_all(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_priv_escalation(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_run_as_root(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_writable_rootfs(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_seccomp(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_no_limits(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_token_automount(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_default_sa(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_env_credentials(const inv_rule *r, const inv_podctx *p, inv_findings *out);
void rule_pod_sidecar_disabled(const inv_rule *r, const inv_podctx *p, inv_findings *out);

/* Cluster rule functions (rules_rbac.c, rules_net.c, rules_mesh.c). */
void rule_rbac_cluster_admin(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_rbac_wildcard(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_rbac_secrets_read(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_rbac_pod_create(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_rbac_pod_exec(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_rbac_bind_escalate(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_rbac_anonymous(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_net_nodeport_lb(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_net_ingress_exposes(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_net_ingress_no_tls(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_net_sensitive_exposed(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_net_no_default_deny(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_cm_credentials(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_mesh_peerauth_weak(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_mesh_no_strict(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_mesh_dr_tls_disabled(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_mesh_authz_allow_all(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_mesh_authz_missing(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_mesh_vs_wildcard(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_mesh_gateway_exposure(const inv_rule *r, const inv_model *m, inv_findings *out);
void rule_mesh_injection_disabled(const inv_rule *r, const inv_model *m, inv_findings *out);

/* Helpers shared by the rule files. */
/* True when the namespace is analysed: not a system namespace. */
bool inv_rules_ns_analysed(const char *ns);
/* True when every workload of ns is uncontrolled (nothing in it is analysed); false for
 * namespaces without workloads. */
bool inv_rules_ns_all_uncontrolled(const inv_model *m, const char *ns);
/* The objref of a model object (kind from the object). */
inv_objref inv_rules_ref(json_t *obj);

#endif
