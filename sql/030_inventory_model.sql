-- Inventory (issue 5): snapshot staging, the cluster model, RBAC per subject, plan state.
-- The workloads table itself is in 002_shared_tables.sql (the portal reads it).

-- Chunks of a snapshot as they arrive (idempotent on redelivery: the key is the chunk).
-- A snapshot is applied only when snapshot.complete arrived and every chunk is here.
CREATE TABLE inventory_snapshot_chunks (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id  uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    snapshot_id text NOT NULL,
    seq         integer NOT NULL CHECK (seq >= 0),
    resource    text NOT NULL,
    item_count  integer NOT NULL,
    items       jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cluster_id, snapshot_id, seq)
);

-- One row per snapshot.complete seen: waiting (chunks missing), applied or rejected.
CREATE TABLE inventory_snapshots (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id  uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    snapshot_id text NOT NULL,
    status      text NOT NULL CHECK (status IN ('waiting', 'applied', 'rejected')),
    chunks      integer NOT NULL,
    counts      jsonb NOT NULL DEFAULT '{}',
    absent      jsonb NOT NULL DEFAULT '[]',
    reason      text,
    started_at  timestamptz,
    finished_at timestamptz,
    received_at timestamptz NOT NULL DEFAULT now(),
    applied_at  timestamptz,
    findings    integer,
    PRIMARY KEY (cluster_id, snapshot_id)
);
CREATE INDEX inventory_snapshots_applied ON inventory_snapshots (cluster_id, applied_at DESC);

-- The cluster model: every kept object of the last applied snapshot (gone_at set when it
-- disappeared), with a lean summary of what the rules and the views need.
CREATE TABLE cluster_objects (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id   uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    uid          text NOT NULL,
    namespace    text NOT NULL DEFAULT '',
    name         text NOT NULL,
    workload_uid text,                  -- pods: their top-level owner (workloads.uid)
    summary      jsonb NOT NULL DEFAULT '{}',
    snapshot_id  text NOT NULL,
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now(),
    gone_at      timestamptz,
    PRIMARY KEY (tenant_id, cluster_id, kind, uid)
);
CREATE INDEX cluster_objects_ns ON cluster_objects (tenant_id, cluster_id, kind, namespace)
    WHERE gone_at IS NULL;

-- RBAC resolved per subject: what each user, group and service account can do, from every
-- binding that names it.
CREATE TABLE rbac_subjects (
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id        uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    subject_kind      text NOT NULL,    -- User, Group, ServiceAccount
    subject_namespace text NOT NULL DEFAULT '',
    subject_name      text NOT NULL,
    permissions       jsonb NOT NULL DEFAULT '[]', -- [{binding, role, scope, rules}]
    snapshot_id       text NOT NULL,
    first_seen        timestamptz NOT NULL DEFAULT now(),
    last_seen         timestamptz NOT NULL DEFAULT now(),
    gone_at           timestamptz,
    PRIMARY KEY (tenant_id, cluster_id, subject_kind, subject_namespace, subject_name)
);

-- Whether the tenant was told it crossed its controlled-workload limit (one notification
-- per crossing).
CREATE TABLE inventory_plan_state (
    tenant_id      uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    over_limit     boolean NOT NULL DEFAULT false,
    notified_at    timestamptz,
    uncontrolled   integer NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['inventory_snapshots', 'cluster_objects', 'rbac_subjects',
                             'inventory_plan_state'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = vigil_current_tenant()) '
                       'WITH CHECK (tenant_id = vigil_current_tenant())', t);
        EXECUTE format('GRANT SELECT ON %I TO vigil_portal', t);
    END LOOP;
END
$$;
REVOKE ALL ON inventory_snapshot_chunks FROM vigil_portal;
