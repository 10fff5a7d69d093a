/* Controlled-workload counting (DESIGN section 5): owner chains, exclusions, first-seen
 * admission with a limit, stability across re-snapshots, and exactness when snapshots of two
 * clusters of one tenant are admitted concurrently (serialized by the tenant lock). */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/inventory/admit.h"
#include "../../services/inventory/model.h"
#include "harness.h"

static json_t *obj(const char *ns, const char *name, const char *uid, const char *owner_kind,
                   const char *owner_name, const char *owner_uid)
{
    json_t *o = json_pack("{s:{s:s, s:s, s:s, s:{s:s}}, s:{s:[{s:s}]}}", "metadata", "name", name,
                          "namespace", ns, "uid", uid, "labels", "app", name, "spec", "containers",
                          "name", "c");
    if (owner_kind != NULL) {
        json_object_set_new(json_object_get(o, "metadata"), "ownerReferences",
                            json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion", "apps/v1",
                                      "kind", owner_kind, "name", owner_name, "uid", owner_uid,
                                      "controller", 1));
    }
    return o;
}

/* A template owner (Deployment, StatefulSet...) with spec.template. */
static json_t *owner(const char *ns, const char *name, const char *uid, const char *okind,
                     const char *oname, const char *ouid)
{
    json_t *o = obj(ns, name, uid, okind, oname, ouid);
    json_object_set_new(o, "spec",
                        json_pack("{s:{s:{}, s:{s:[{s:s}]}}}", "template", "metadata", "spec",
                                  "containers", "name", "c"));
    return o;
}

static void add(inv_model *m, inv_resource r, json_t *o)
{
    json_t *a = json_array();
    json_array_append_new(a, o);
    inv_model_add_items(m, r, a);
    json_decref(a);
}

static void test_deployment_replicaset_pods_count_once(void)
{
    inv_model *m = inv_model_new();
    add(m, INV_R_DEPLOYMENTS, owner("shop", "web", "d1", NULL, NULL, NULL));
    add(m, INV_R_REPLICASETS, owner("shop", "web-abc", "rs1", "Deployment", "web", "d1"));
    add(m, INV_R_REPLICASETS, owner("shop", "web-old", "rs0", "Deployment", "web", "d1"));
    add(m, INV_R_PODS, obj("shop", "web-abc-1", "p1", "ReplicaSet", "web-abc", "rs1"));
    add(m, INV_R_PODS, obj("shop", "web-abc-2", "p2", "ReplicaSet", "web-abc", "rs1"));
    add(m, INV_R_PODS, obj("shop", "web-old-1", "p3", "ReplicaSet", "web-old", "rs0"));
    inv_model_build(m);
    CHECK_INT_EQ(m->nworkloads, 1);
    CHECK_STR_EQ(m->workloads[0].kind, "Deployment");
    CHECK_STR_EQ(m->workloads[0].uid, "d1");
    CHECK_STR_EQ(m->workloads[0].spec_path, "spec.template.spec");
    CHECK_INT_EQ(m->workloads[0].pods, 3);
    CHECK_INT_EQ(m->workloads[0].status, INV_WL_CONTROLLED);
    inv_model_destroy(m);
}

static void test_cronjob_job_pod_counts_once(void)
{
    inv_model *m = inv_model_new();
    json_t *cj = obj("shop", "report", "cj1", NULL, NULL, NULL);
    json_object_set_new(cj, "spec",
                        json_pack("{s:{s:{s:{s:{s:[{s:s}]}}}}}", "jobTemplate", "spec", "template",
                                  "spec", "containers", "name", "c"));
    add(m, INV_R_CRONJOBS, cj);
    add(m, INV_R_JOBS, owner("shop", "report-1", "j1", "CronJob", "report", "cj1"));
    add(m, INV_R_JOBS, owner("shop", "report-2", "j2", "CronJob", "report", "cj1"));
    add(m, INV_R_PODS, obj("shop", "report-1-x", "p1", "Job", "report-1", "j1"));
    add(m, INV_R_PODS, obj("shop", "report-2-x", "p2", "Job", "report-2", "j2"));
    inv_model_build(m);
    CHECK_INT_EQ(m->nworkloads, 1);
    CHECK_STR_EQ(m->workloads[0].kind, "CronJob");
    CHECK_STR_EQ(m->workloads[0].spec_path, "spec.jobTemplate.spec.template.spec");
    inv_model_destroy(m);
}

static void test_other_top_level_owners(void)
{
    inv_model *m = inv_model_new();
    add(m, INV_R_PODS, obj("shop", "bare", "p0", NULL, NULL, NULL));
    add(m, INV_R_JOBS, owner("shop", "once", "j1", NULL, NULL, NULL));
    add(m, INV_R_PODS, obj("shop", "once-x", "p1", "Job", "once", "j1"));
    add(m, INV_R_REPLICASETS, owner("shop", "lonely", "rs1", NULL, NULL, NULL));
    add(m, INV_R_PODS, obj("shop", "lonely-x", "p2", "ReplicaSet", "lonely", "rs1"));
    add(m, INV_R_REPLICATIONCONTROLLERS, owner("shop", "old", "rc1", NULL, NULL, NULL));
    add(m, INV_R_PODS, obj("shop", "old-x", "p3", "ReplicationController", "old", "rc1"));
    add(m, INV_R_STATEFULSETS, owner("shop", "db", "s1", NULL, NULL, NULL));
    add(m, INV_R_PODS, obj("shop", "db-0", "p4", "StatefulSet", "db", "s1"));
    add(m, INV_R_DAEMONSETS, owner("shop", "agent", "ds1", NULL, NULL, NULL));
    add(m, INV_R_PODS, obj("shop", "agent-x", "p5", "DaemonSet", "agent", "ds1"));
    add(m, INV_R_PODS, obj("shop", "agent-y", "p6", "DaemonSet", "agent", "ds1"));
    /* an owner missing from the snapshot is the top, known by the reference */
    add(m, INV_R_PODS, obj("shop", "ghost-x", "p7", "ReplicaSet", "ghost", "rs-missing"));
    inv_model_build(m);
    static const char *const kinds[] = {
        "Pod",         "Job",       "ReplicaSet", "ReplicationController",
        "StatefulSet", "DaemonSet", "ReplicaSet"};
    CHECK_INT_EQ(m->nworkloads, 7);
    for (size_t i = 0; i < m->nworkloads && i < 7; i++) {
        CHECK_STR_EQ(m->workloads[i].kind, kinds[i]);
    }
    CHECK_STR_EQ(m->workloads[0].name, "bare");
    CHECK_STR_EQ(m->workloads[5].uid, "ds1");
    CHECK_INT_EQ(m->workloads[5].pods, 2);
    CHECK_STR_EQ(m->workloads[6].uid, "rs-missing");
    inv_model_destroy(m);
}

/* Hostile input: an ownerReference cycle ends, and an owner in another namespace is not
 * followed (owners live in their dependent's namespace). */
static void test_owner_cycle_and_foreign_namespace(void)
{
    inv_model *m = inv_model_new();
    add(m, INV_R_REPLICASETS, owner("shop", "a", "rsA", "Deployment", "b", "dB"));
    add(m, INV_R_DEPLOYMENTS, owner("shop", "b", "dB", "ReplicaSet", "a", "rsA"));
    add(m, INV_R_PODS, obj("shop", "a-1", "p1", "ReplicaSet", "a", "rsA"));
    add(m, INV_R_DEPLOYMENTS, owner("other", "web", "d9", NULL, NULL, NULL));
    add(m, INV_R_REPLICASETS, owner("shop", "web-1", "rs9", "Deployment", "web", "d9"));
    add(m, INV_R_PODS, obj("shop", "web-1-x", "p2", "ReplicaSet", "web-1", "rs9"));
    inv_model_build(m);
    CHECK_INT_EQ(m->nworkloads, 2);
    CHECK_INT_EQ(m->workloads[0].pods, 1);
    CHECK_STR_EQ(m->workloads[1].uid, "d9"); /* known by the reference only */
    CHECK_STR_EQ(m->workloads[1].namespace, "shop");
    CHECK_STR_EQ(m->workloads[1].spec_path, "spec"); /* the pod's own spec is evaluated */
    inv_model_destroy(m);
}

static void test_system_namespaces_excluded(void)
{
    static const char *const system[] = {"kube-system", "kube-public", "kube-node-lease",
                                         "istio-system"};
    inv_model *m = inv_model_new();
    for (size_t i = 0; i < 4; i++) {
        char uid[16];
        snprintf(uid, sizeof uid, "sys%zu", i);
        add(m, INV_R_PODS, obj(system[i], "p", uid, NULL, NULL, NULL));
    }
    add(m, INV_R_PODS, obj("default", "p", "user", NULL, NULL, NULL));
    inv_model_build(m);
    CHECK_INT_EQ(m->nworkloads, 5);
    for (size_t i = 0; i < 4; i++) {
        CHECK_INT_EQ(m->workloads[i].status, INV_WL_EXCLUDED);
    }
    CHECK_INT_EQ(m->workloads[4].status, INV_WL_CONTROLLED);
    inv_admit_entry e[5] = {{0}};
    for (size_t i = 0; i < 5; i++) {
        e[i].excluded = m->workloads[i].status == INV_WL_EXCLUDED;
    }
    int64_t next = 1;
    CHECK_INT_EQ(inv_admit(e, 5, 1, &next), 0);
    CHECK_INT_EQ(e[4].status, INV_WL_CONTROLLED);
    CHECK_INT_EQ(e[0].seq, 0); /* excluded workloads take no slot and no sequence */
    CHECK_INT_EQ(next, 2);
    inv_model_destroy(m);
}

static size_t count_status(const inv_admit_entry *e, size_t n, inv_wl_status s)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += !e[i].gone && e[i].status == s ? 1 : 0;
    }
    return k;
}

static void test_thirty_on_twenty_five_stable(void)
{
    inv_admit_entry e[40] = {{0}};
    int64_t next = 1;
    CHECK_INT_EQ(inv_admit(e, 30, 25, &next), 5);
    CHECK_INT_EQ(count_status(e, 30, INV_WL_CONTROLLED), 25);
    CHECK_INT_EQ(count_status(e, 30, INV_WL_UNCONTROLLED), 5);
    for (size_t i = 0; i < 30; i++) {
        CHECK_INT_EQ(e[i].seq, (int64_t)i + 1);
        CHECK_INT_EQ(e[i].status, i < 25 ? INV_WL_CONTROLLED : INV_WL_UNCONTROLLED);
    }
    /* re-snapshot: same workloads in another order, plus two new ones listed first */
    inv_admit_entry r[32] = {{0}};
    for (size_t i = 0; i < 30; i++) {
        r[i + 2] = e[29 - i];
    }
    CHECK_INT_EQ(inv_admit(r, 32, 25, &next), 7);
    for (size_t i = 0; i < 30; i++) {
        CHECK_INT_EQ(r[i + 2].status, e[29 - i].status); /* every slot kept */
    }
    CHECK_INT_EQ(r[0].status, INV_WL_UNCONTROLLED);
    CHECK_INT_EQ(r[1].status, INV_WL_UNCONTROLLED);
    CHECK(r[0].seq > 30 && r[1].seq > 30);
    /* a controlled workload disappears: the earliest uncontrolled one takes its slot */
    r[2 + 29].gone = true; /* e[0], seq 1 */
    CHECK_INT_EQ(inv_admit(r, 32, 25, &next), 6);
    CHECK_INT_EQ(r[2 + 29 - 25].status, INV_WL_CONTROLLED); /* e[25], seq 26 */
    CHECK_INT_EQ(count_status(r, 32, INV_WL_CONTROLLED), 25);
}

static void test_plan_limit(void)
{
    CHECK_INT_EQ(inv_plan_limit("free", NULL, 25), 25);
    CHECK_INT_EQ(inv_plan_limit("free", "", 25), 25);
    CHECK_INT_EQ(inv_plan_limit("free", "3", 25), 3);
    CHECK_INT_EQ(inv_plan_limit("pro", NULL, 25), -1);
    CHECK_INT_EQ(inv_plan_limit("enterprise", NULL, 25), -1);
    CHECK_INT_EQ(inv_plan_limit("pro", "100", 25), 100);
    inv_admit_entry e[10] = {{0}};
    int64_t next = 1;
    CHECK_INT_EQ(inv_admit(e, 10, -1, &next), 0);
    CHECK_INT_EQ(count_status(e, 10, INV_WL_CONTROLLED), 10);
}

/* The tenant's workload rows, shared by two "consumers"; the mutex stands for the tenant
 * row lock the real transaction takes. */
typedef struct ledger {
    pthread_mutex_t lock;
    inv_admit_entry rows[200];
    int cluster[200];
    size_t n;
    int64_t next_seq;
    size_t max_controlled;
} ledger;

typedef struct snap_arg {
    ledger *l;
    int cluster;
} snap_arg;

/* One snapshot of `cluster` with 20 workloads: the 20 rows of the cluster (new ones on the
 * first call), admitted together with the other cluster's rows. */
static void *snapshot_thread(void *p)
{
    snap_arg *a = p;
    for (int round = 0; round < 50; round++) {
        pthread_mutex_lock(&a->l->lock);
        size_t mine = 0;
        for (size_t i = 0; i < a->l->n; i++) {
            mine += a->l->cluster[i] == a->cluster ? 1 : 0;
        }
        while (mine < 20) {
            a->l->cluster[a->l->n] = a->cluster;
            a->l->rows[a->l->n++] = (inv_admit_entry){0};
            mine++;
        }
        inv_admit(a->l->rows, a->l->n, 25, &a->l->next_seq);
        size_t c = count_status(a->l->rows, a->l->n, INV_WL_CONTROLLED);
        if (c > a->l->max_controlled) {
            a->l->max_controlled = c;
        }
        pthread_mutex_unlock(&a->l->lock);
    }
    return NULL;
}

static void test_two_clusters_concurrently_never_exceed(void)
{
    ledger l = {.next_seq = 1};
    pthread_mutex_init(&l.lock, NULL);
    snap_arg a = {&l, 1}, b = {&l, 2};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, snapshot_thread, &a);
    pthread_create(&tb, NULL, snapshot_thread, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK_INT_EQ(l.n, 40);
    CHECK_INT_EQ(count_status(l.rows, l.n, INV_WL_CONTROLLED), 25);
    CHECK_INT_EQ(count_status(l.rows, l.n, INV_WL_UNCONTROLLED), 15);
    CHECK(l.max_controlled <= 25);
    /* the 25 controlled are the 25 first seen, whichever cluster they belong to */
    for (size_t i = 0; i < l.n; i++) {
        CHECK_INT_EQ(l.rows[i].status,
                     l.rows[i].seq <= 25 ? INV_WL_CONTROLLED : INV_WL_UNCONTROLLED);
    }
    pthread_mutex_destroy(&l.lock);
}

int main(void)
{
    RUN(test_deployment_replicaset_pods_count_once);
    RUN(test_cronjob_job_pod_counts_once);
    RUN(test_other_top_level_owners);
    RUN(test_owner_cycle_and_foreign_namespace);
    RUN(test_system_namespaces_excluded);
    RUN(test_thirty_on_twenty_five_stable);
    RUN(test_plan_limit);
    RUN(test_two_clusters_concurrently_never_exceed);
    return harness_report("inventory_workloads");
}
