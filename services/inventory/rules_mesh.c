/* Istio rules: mTLS, DestinationRule TLS, AuthorizationPolicy, VirtualService hosts,
 * Gateway exposure and sidecar injection. They run only when the mesh is installed. */
#include <stdio.h>
#include <string.h>

#include "kobj.h"
#include "rules.h"
#include "vigil/alloc.h"

static bool mode_is_weak(const char *mode)
{
    return mode != NULL && (strcmp(mode, "PERMISSIVE") == 0 || strcmp(mode, "DISABLE") == 0);
}

static void add_mode_finding(const inv_rule *r, json_t *obj, char *field, const char *mode,
                             inv_findings *out)
{
    inv_objref ref = inv_rules_ref(obj);
    inv_findings_add(out, r, &ref, field, json_pack("{s:s}", "mode", mode));
}

void rule_mesh_peerauth_weak(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    if (!inv_model_has_mesh(m)) {
        return;
    }
    size_t i;
    json_t *pa;
    json_array_foreach(m->items[INV_R_PEERAUTHENTICATIONS], i, pa)
    {
        const char *mode = kobj_str(pa, "spec.mtls.mode");
        if (mode_is_weak(mode)) {
            add_mode_finding(r, pa, vg_strdup("spec.mtls.mode"), mode, out);
        }
        const char *port;
        json_t *pl;
        json_object_foreach(kobj_get(pa, "spec.portLevelMtls"), port, pl)
        {
            mode = kobj_str(pl, "mode");
            if (mode_is_weak(mode)) {
                add_mode_finding(r, pa, vg_asprintf("spec.portLevelMtls[%s].mode", port), mode,
                                 out);
            }
        }
    }
}

/* A policy of the root namespace without a selector applies to the whole mesh. */
static bool mesh_wide(json_t *obj)
{
    return strcmp(kobj_str0(obj, "metadata.namespace"), "istio-system") == 0 &&
           json_object_size(kobj_get(obj, "spec.selector.matchLabels")) == 0;
}

void rule_mesh_no_strict(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    if (!inv_model_has_mesh(m)) {
        return;
    }
    size_t i;
    json_t *pa;
    json_array_foreach(m->items[INV_R_PEERAUTHENTICATIONS], i, pa)
    {
        const char *mode = kobj_str(pa, "spec.mtls.mode");
        if (mesh_wide(pa) && mode != NULL && strcmp(mode, "STRICT") == 0) {
            return;
        }
    }
    inv_objref ref = {.kind = "Mesh",
                      .namespace = "istio-system",
                      .name = "mesh-wide mTLS",
                      .uid = "mesh/peerauthentication"};
    inv_findings_add(out, r, &ref, vg_strdup("spec.mtls.mode"),
                     json_pack("{s:s}", "mesh_wide_mode", "not STRICT (PERMISSIVE by default)"));
}

static void dr_check(const inv_rule *r, json_t *dr, json_t *policy, const char *prefix,
                     inv_findings *out)
{
    const char *mode = kobj_str(policy, "tls.mode");
    if (mode != NULL && strcmp(mode, "DISABLE") == 0) {
        add_mode_finding(r, dr, vg_asprintf("%s.tls.mode", prefix), mode, out);
    }
    size_t i;
    json_t *pl;
    json_array_foreach(json_object_get(policy, "portLevelSettings"), i, pl)
    {
        mode = kobj_str(pl, "tls.mode");
        if (mode != NULL && strcmp(mode, "DISABLE") == 0) {
            add_mode_finding(r, dr, vg_asprintf("%s.portLevelSettings[%zu].tls.mode", prefix, i),
                             mode, out);
        }
    }
}

void rule_mesh_dr_tls_disabled(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    if (!inv_model_has_mesh(m)) {
        return;
    }
    size_t i, j;
    json_t *dr, *subset;
    json_array_foreach(m->items[INV_R_DESTINATIONRULES], i, dr)
    {
        dr_check(r, dr, kobj_get(dr, "spec.trafficPolicy"), "spec.trafficPolicy", out);
        json_array_foreach(kobj_get(dr, "spec.subsets"), j, subset)
        {
            char prefix[64];
            snprintf(prefix, sizeof prefix, "spec.subsets[%zu].trafficPolicy", j);
            dr_check(r, dr, json_object_get(subset, "trafficPolicy"), prefix, out);
        }
    }
}

void rule_mesh_authz_allow_all(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    if (!inv_model_has_mesh(m)) {
        return;
    }
    size_t i, j;
    json_t *ap, *rule;
    json_array_foreach(m->items[INV_R_AUTHORIZATIONPOLICIES], i, ap)
    {
        const char *action = kobj_str(ap, "spec.action");
        if (action != NULL && strcmp(action, "ALLOW") != 0) {
            continue;
        }
        /* spec: {} (no rules) denies everything; a rule {} matches every request */
        json_array_foreach(kobj_get(ap, "spec.rules"), j, rule)
        {
            if (json_is_object(rule) && json_object_get(rule, "from") == NULL &&
                json_object_get(rule, "to") == NULL && json_object_get(rule, "when") == NULL) {
                inv_objref ref = inv_rules_ref(ap);
                inv_findings_add(out, r, &ref, vg_asprintf("spec.rules[%zu]", j),
                                 json_pack("{s:s, s:O?}", "action", "ALLOW", "selector",
                                           kobj_get(ap, "spec.selector")));
            }
        }
    }
}

static bool ns_injected(json_t *ns)
{
    const char *inj = kobj_label(ns, "istio-injection");
    return (inj != NULL && strcmp(inj, "enabled") == 0) || kobj_label(ns, "istio.io/rev") != NULL;
}

static bool ns_has_policy(const inv_model *m, const char *ns)
{
    size_t i;
    json_t *ap;
    json_array_foreach(m->items[INV_R_AUTHORIZATIONPOLICIES], i, ap)
    {
        if (strcmp(kobj_str0(ap, "metadata.namespace"), ns) == 0 || mesh_wide(ap)) {
            return true;
        }
    }
    return false;
}

void rule_mesh_authz_missing(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    if (!inv_model_has_mesh(m)) {
        return;
    }
    size_t i;
    json_t *ns;
    json_array_foreach(m->items[INV_R_NAMESPACES], i, ns)
    {
        const char *name = kobj_str0(ns, "metadata.name");
        if (!inv_rules_ns_analysed(name) || !ns_injected(ns) ||
            !inv_model_ns_has_controlled(m, name) || ns_has_policy(m, name)) {
            continue;
        }
        inv_objref ref = inv_rules_ref(ns);
        inv_findings_add(out, r, &ref, vg_strdup("authorizationpolicies"),
                         json_pack("{s:I}", "policies", (json_int_t)0));
    }
}

static bool host_is_wildcard(const char *host)
{
    const char *slash = strchr(host, '/'); /* Gateway hosts may be "namespace/host" */
    if (slash != NULL) {
        host = slash + 1;
    }
    return strcmp(host, "*") == 0;
}

void rule_mesh_vs_wildcard(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    if (!inv_model_has_mesh(m)) {
        return;
    }
    size_t i, j;
    json_t *vs, *host;
    json_array_foreach(m->items[INV_R_VIRTUALSERVICES], i, vs)
    {
        json_array_foreach(kobj_get(vs, "spec.hosts"), j, host)
        {
            const char *h = json_string_value(host);
            if (h != NULL && (strcmp(h, "*") == 0 || strncmp(h, "*.", 2) == 0)) {
                inv_objref ref = inv_rules_ref(vs);
                inv_findings_add(
                    out, r, &ref, vg_asprintf("spec.hosts[%zu]", j),
                    json_pack("{s:s, s:O?}", "host", h, "gateways", kobj_get(vs, "spec.gateways")));
            }
        }
    }
}

static void gateway_server(const inv_rule *r, json_t *gw, json_t *server, size_t i,
                           inv_findings *out)
{
    inv_objref ref = inv_rules_ref(gw);
    size_t j;
    json_t *host;
    json_array_foreach(json_object_get(server, "hosts"), j, host)
    {
        const char *h = json_string_value(host);
        if (h != NULL && host_is_wildcard(h)) {
            inv_findings_add(out, r, &ref, vg_asprintf("spec.servers[%zu].hosts[%zu]", i, j),
                             json_pack("{s:s, s:s}", "reason", "accepts any host", "host", h));
        }
    }
    const char *proto = kobj_str0(server, "port.protocol");
    if ((strcmp(proto, "HTTP") == 0 || strcmp(proto, "HTTP2") == 0) &&
        !kobj_true(server, "tls.httpsRedirect")) {
        inv_findings_add(out, r, &ref, vg_asprintf("spec.servers[%zu].port.protocol", i),
                         json_pack("{s:s, s:s, s:O?}", "reason", "plaintext HTTP without redirect",
                                   "protocol", proto, "port", kobj_get(server, "port.number")));
    }
}

void rule_mesh_gateway_exposure(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    if (!inv_model_has_mesh(m)) {
        return;
    }
    size_t i, j;
    json_t *gw, *server;
    json_array_foreach(m->items[INV_R_GATEWAYS], i, gw)
    {
        json_array_foreach(kobj_get(gw, "spec.servers"), j, server)
        {
            gateway_server(r, gw, server, j, out);
        }
    }
}

void rule_mesh_injection_disabled(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    if (!inv_model_has_mesh(m)) {
        return;
    }
    size_t i;
    json_t *ns;
    json_array_foreach(m->items[INV_R_NAMESPACES], i, ns)
    {
        const char *name = kobj_str0(ns, "metadata.name");
        const char *inj = kobj_label(ns, "istio-injection");
        if (inv_rules_ns_analysed(name) && inj != NULL && strcmp(inj, "disabled") == 0 &&
            inv_model_ns_has_controlled(m, name)) {
            inv_objref ref = inv_rules_ref(ns);
            inv_findings_add(out, r, &ref, vg_strdup("metadata.labels[istio-injection]"),
                             json_pack("{s:s}", "istio-injection", "disabled"));
        }
    }
}
