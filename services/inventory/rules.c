/* The posture rule table and the evaluation loop. */
#include "rules.h"

#include <string.h>

#include "kobj.h"

#define POD(fn) .pod = (fn), .cluster = NULL
#define CLUSTER(fn) .pod = NULL, .cluster = (fn)

const inv_rule inv_rules[] = {
    {"VGL-POD-001", "Privileged container", "critical", "workload", "C-0057", "baseline", "5.2.2",
     "Remove securityContext.privileged or set it to false; grant only the capabilities needed.",
     POD(rule_pod_privileged)},
    {"VGL-POD-002", "Pod shares the host network", "high", "workload", "C-0041", "baseline",
     "5.2.5", "Remove hostNetwork: true; expose the workload through a Service instead.",
     POD(rule_pod_host_network)},
    {"VGL-POD-003", "Pod shares the host PID namespace", "high", "workload", "C-0038", "baseline",
     "5.2.3", "Remove hostPID: true.", POD(rule_pod_host_pid)},
    {"VGL-POD-004", "Pod shares the host IPC namespace", "high", "workload", "C-0038", "baseline",
     "5.2.4", "Remove hostIPC: true.", POD(rule_pod_host_ipc)},
    {"VGL-POD-005", "Container binds a host port", "medium", "workload", "C-0044", "baseline",
     "5.2.13", "Remove ports[].hostPort; use a Service (ClusterIP, or NodePort if required).",
     POD(rule_pod_host_port)},
    {"VGL-POD-006", "Writable hostPath volume", "high", "workload", "C-0045", "baseline", "5.2.12",
     "Avoid hostPath volumes; if one is required mount it with readOnly: true.",
     POD(rule_pod_hostpath_writable)},
    {"VGL-POD-007", "Container runtime socket mounted", "critical", "workload", "C-0074",
     "baseline", "5.2.12",
     "Do not mount the container runtime socket (docker, containerd, CRI-O) or its folder.",
     POD(rule_pod_runtime_socket)},
    {"VGL-POD-008", "Dangerous capabilities added", "high", "workload", "C-0046", "baseline",
     "5.2.9",
     "Remove SYS_ADMIN, NET_ADMIN, NET_RAW, SYS_PTRACE, SYS_MODULE and ALL from "
     "securityContext.capabilities.add.",
     POD(rule_pod_dangerous_caps)},
    {"VGL-POD-009", "Capabilities not dropped", "low", "workload", "C-0055", "restricted", "5.2.10",
     "Set securityContext.capabilities.drop: [\"ALL\"] and add back only what is "
     "needed.",
     POD(rule_pod_no_drop_all)},
    {"VGL-POD-010", "Privilege escalation allowed", "medium", "workload", "C-0016", "restricted",
     "5.2.6", "Set securityContext.allowPrivilegeEscalation: false.",
     POD(rule_pod_priv_escalation)},
    {"VGL-POD-011", "Container may run as root", "medium", "workload", "C-0013", "restricted",
     "5.2.7", "Set securityContext.runAsNonRoot: true and a non-zero runAsUser.",
     POD(rule_pod_run_as_root)},
    {"VGL-POD-012", "Writable root filesystem", "low", "workload", "C-0017", NULL, NULL,
     "Set securityContext.readOnlyRootFilesystem: true; mount emptyDir volumes where writes "
     "are needed.",
     POD(rule_pod_writable_rootfs)},
    {"VGL-POD-013", "Seccomp profile unset or Unconfined", "medium", "workload", "C-0210",
     "restricted", "5.7.2",
     "Set securityContext.seccompProfile.type: RuntimeDefault (pod or container level).",
     POD(rule_pod_seccomp)},
    {"VGL-POD-014", "No resource limits", "low", "workload", "C-0009", NULL, NULL,
     "Set resources.limits.cpu and resources.limits.memory on every container.",
     POD(rule_pod_no_limits)},
    {"VGL-POD-015", "Service account token automounted", "low", "identity", "C-0034", NULL, "5.1.6",
     "Set automountServiceAccountToken: false on the pod (or its ServiceAccount) "
     "unless it calls the Kubernetes API.",
     POD(rule_pod_token_automount)},
    {"VGL-POD-016", "Default service account in use", "low", "identity", "C-0189", NULL, "5.1.5",
     "Create a dedicated ServiceAccount for the workload and set serviceAccountName.",
     POD(rule_pod_default_sa)},
    {"VGL-POD-017", "Credential in container environment", "high", "secrets", "C-0012", NULL,
     "5.4.1",
     "Move the value into a Secret and reference it with valueFrom.secretKeyRef "
     "(or mount it as a file).",
     POD(rule_pod_env_credentials)},
    {"VGL-CM-001", "Credential-like key in ConfigMap", "medium", "secrets", "C-0012", NULL, "5.4.1",
     "Store credentials in Secrets (or an external secret store), not ConfigMaps.",
     CLUSTER(rule_cm_credentials)},
    {"VGL-RBAC-001", "cluster-admin bound to a non-system subject", "critical", "rbac", "C-0035",
     NULL, "5.1.1", "Bind a narrower role; keep cluster-admin for break-glass identities.",
     CLUSTER(rule_rbac_cluster_admin)},
    {"VGL-RBAC-002", "Wildcard verbs or resources in a bound role", "high", "rbac", "C-0187", NULL,
     "5.1.3", "Replace \"*\" with the explicit verbs and resources the subject needs.",
     CLUSTER(rule_rbac_wildcard)},
    {"VGL-RBAC-003", "Role can read Secrets", "high", "rbac", "C-0015", NULL, "5.1.2",
     "Remove get/list/watch on secrets, or restrict it with resourceNames.",
     CLUSTER(rule_rbac_secrets_read)},
    {"VGL-RBAC-004", "Role can create pods", "high", "rbac", "C-0188", NULL, "5.1.4",
     "Remove create on pods; let controllers (Deployments, Jobs) create pods.",
     CLUSTER(rule_rbac_pod_create)},
    {"VGL-RBAC-005", "Role can exec, attach or port-forward into pods", "high", "rbac", "C-0002",
     NULL, NULL, "Remove pods/exec, pods/attach and pods/portforward from the role.",
     CLUSTER(rule_rbac_pod_exec)},
    {"VGL-RBAC-006", "Role can bind, escalate or impersonate", "critical", "rbac", "C-0191", NULL,
     "5.1.8", "Remove the bind, escalate and impersonate verbs.", CLUSTER(rule_rbac_bind_escalate)},
    {"VGL-RBAC-007", "Binding grants access to anonymous or all authenticated users", "critical",
     "rbac", "C-0262", NULL, NULL,
     "Remove system:anonymous, system:unauthenticated and system:authenticated from the "
     "binding's subjects.",
     CLUSTER(rule_rbac_anonymous)},
    {"VGL-NET-001", "Workload exposed by a NodePort or LoadBalancer service", "medium", "exposure",
     "C-0256", NULL, NULL,
     "Use a ClusterIP service behind an ingress or gateway with authentication and TLS.",
     CLUSTER(rule_net_nodeport_lb)},
    {"VGL-NET-002", "Workload exposed by an Ingress", "low", "exposure", "C-0256", NULL, NULL,
     "Check that the exposed workload is meant to be reachable from outside the cluster and "
     "requires authentication.",
     CLUSTER(rule_net_ingress_exposes)},
    {"VGL-NET-003", "Ingress without TLS", "medium", "exposure", NULL, NULL, NULL,
     "Add spec.tls with a certificate for every host.", CLUSTER(rule_net_ingress_no_tls)},
    {"VGL-NET-004", "Sensitive interface exposed outside the cluster", "high", "exposure", "C-0021",
     NULL, NULL, "Do not expose databases, dashboards, kubelet or etcd ports outside the cluster.",
     CLUSTER(rule_net_sensitive_exposed)},
    {"VGL-NET-005", "Namespace without a default-deny NetworkPolicy", "medium", "network", "C-0054",
     NULL, "5.3.2",
     "Add a NetworkPolicy with podSelector: {} and policyTypes: [Ingress] (and Egress), then "
     "allow the flows needed.",
     CLUSTER(rule_net_no_default_deny)},
    {"VGL-MESH-001", "PeerAuthentication allows plaintext (PERMISSIVE or DISABLE)", "high", "mesh",
     NULL, NULL, NULL, "Set spec.mtls.mode: STRICT.", CLUSTER(rule_mesh_peerauth_weak)},
    {"VGL-MESH-002", "No mesh-wide STRICT mTLS", "medium", "mesh", NULL, NULL, NULL,
     "Create a PeerAuthentication named default in istio-system with mtls.mode STRICT.",
     CLUSTER(rule_mesh_no_strict)},
    {"VGL-MESH-003", "DestinationRule disables TLS", "high", "mesh", NULL, NULL, NULL,
     "Use tls.mode ISTIO_MUTUAL (or SIMPLE/MUTUAL to external hosts), never DISABLE.",
     CLUSTER(rule_mesh_dr_tls_disabled)},
    {"VGL-MESH-004", "AuthorizationPolicy allows every request", "high", "mesh", NULL, NULL, NULL,
     "Replace the empty rule with from/to/when conditions naming the allowed callers.",
     CLUSTER(rule_mesh_authz_allow_all)},
    {"VGL-MESH-005", "Meshed namespace without AuthorizationPolicy", "medium", "mesh", NULL, NULL,
     NULL, "Add an AuthorizationPolicy (a spec: {} deny-all, then ALLOW policies per service).",
     CLUSTER(rule_mesh_authz_missing)},
    {"VGL-MESH-006", "VirtualService with wildcard host", "medium", "mesh", NULL, NULL, NULL,
     "List the exact hosts the VirtualService serves.", CLUSTER(rule_mesh_vs_wildcard)},
    {"VGL-MESH-007", "Gateway exposes any host or plaintext HTTP", "medium", "mesh", NULL, NULL,
     NULL, "Name the hosts served by each Gateway server and redirect HTTP to HTTPS.",
     CLUSTER(rule_mesh_gateway_exposure)},
    {"VGL-MESH-008", "Sidecar injection disabled for a namespace", "medium", "mesh", NULL, NULL,
     NULL, "Label the namespace istio-injection=enabled so its workloads join the mesh.",
     CLUSTER(rule_mesh_injection_disabled)},
    {"VGL-MESH-009", "Sidecar injection disabled for a workload", "medium", "mesh", NULL, NULL,
     NULL, "Remove sidecar.istio.io/inject: \"false\" from the pod template.",
     POD(rule_pod_sidecar_disabled)},
    {"VGL-PLAN-001", "Controlled workload limit reached", "medium", "plan", NULL, NULL, NULL,
     "Workloads over the plan's limit are listed as uncontrolled and not analysed: upgrade "
     "the plan or remove workloads.",
     .pod = NULL, .cluster = NULL},
};

const size_t inv_nrules = sizeof inv_rules / sizeof inv_rules[0];

const inv_rule *inv_rule_find(const char *id)
{
    for (size_t i = 0; i < inv_nrules; i++) {
        if (strcmp(inv_rules[i].id, id) == 0) {
            return &inv_rules[i];
        }
    }
    return NULL;
}

bool inv_rules_ns_analysed(const char *ns)
{
    return !inv_namespace_is_system(ns);
}

bool inv_rules_ns_all_uncontrolled(const inv_model *m, const char *ns)
{
    return inv_model_ns_all_uncontrolled(m, ns);
}

inv_objref inv_rules_ref(json_t *obj)
{
    return (inv_objref){.kind = kobj_str0(obj, "kind"),
                        .namespace = kobj_str0(obj, "metadata.namespace"),
                        .name = kobj_str0(obj, "metadata.name"),
                        .uid = kobj_str0(obj, "metadata.uid")};
}

static void eval_workload(const inv_model *m, const inv_workload *wl, inv_findings *out)
{
    if (wl->pod_spec == NULL) {
        return;
    }
    inv_podctx p = {.model = m,
                    .wl = wl,
                    .spec = wl->pod_spec,
                    .path = wl->spec_path,
                    .ref = {wl->kind, wl->namespace, wl->name, wl->uid}};
    for (size_t r = 0; r < inv_nrules; r++) {
        if (inv_rules[r].pod != NULL) {
            inv_rules[r].pod(&inv_rules[r], &p, out);
        }
    }
}

void inv_posture_eval(const inv_model *m, inv_findings *out)
{
    for (size_t i = 0; i < m->nworkloads; i++) {
        if (m->workloads[i].status == INV_WL_CONTROLLED) {
            eval_workload(m, &m->workloads[i], out);
        }
    }
    for (size_t r = 0; r < inv_nrules; r++) {
        if (inv_rules[r].cluster != NULL) {
            inv_rules[r].cluster(&inv_rules[r], m, out);
        }
    }
}
