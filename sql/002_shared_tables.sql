-- Tables written by one service and read by another (mostly the portal). This file is the
-- contract between them; each service adds its private tables and columns in its own range
-- (010 portal, 020 ingest, 030 inventory model, 040 API inventory, 050 fuzzer, 060 report).
-- Every tenant-owned table has row-level security for vigil_portal.

-- Workloads of the cluster model (inventory writes, portal reads). A controlled workload is a
-- top-level owner (DESIGN section 5); status tells whether the plan lets Vigil analyse it.
CREATE TABLE workloads (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id   uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    uid          text NOT NULL,           -- the owner object's metadata.uid
    kind         text NOT NULL,           -- Deployment, StatefulSet, DaemonSet, CronJob, Job, ...
    namespace    text NOT NULL,
    name         text NOT NULL,
    status       text NOT NULL CHECK (status IN ('controlled', 'uncontrolled', 'excluded')),
    admitted_seq bigint,                  -- first-seen order among the tenant's workloads
    pods         integer NOT NULL DEFAULT 0,
    service_account text,
    exposure     jsonb NOT NULL DEFAULT '[]',  -- [{type: ClusterIP|NodePort|LoadBalancer|Ingress|Gateway, ...}]
    labels       jsonb NOT NULL DEFAULT '{}',
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now(),
    gone_at      timestamptz,
    PRIMARY KEY (tenant_id, cluster_id, uid)
);
CREATE INDEX workloads_tenant_status ON workloads (tenant_id, status) WHERE gone_at IS NULL;

-- OpenAPI documents uploaded by tenants (portal writes, inventory reads).
CREATE TABLE api_specs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id  uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    service     text,                    -- the service it is uploaded for, if any
    hosts       text[] NOT NULL DEFAULT '{}', -- hosts named by its servers URLs (lowercase, with port when not default)
    title       text,
    version     text,
    document    jsonb NOT NULL,          -- the document, converted to JSON
    uploaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_specs_tenant ON api_specs (tenant_id, cluster_id);

-- API inventory (inventory writes, portal and fuzzer read). One row per learned operation.
CREATE TABLE api_endpoints (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id    uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    service       text NOT NULL,         -- destination service (name.namespace) or external host
    host          text NOT NULL,         -- authority as seen (host[:port])
    class         text NOT NULL CHECK (class IN ('external', 'internal', 'outbound')),
    method        text NOT NULL,         -- GET, POST, ... or CONNECT for opaque TCP/TLS
    path_template text NOT NULL,         -- e.g. /users/{userId}/orders
    scheme        text NOT NULL DEFAULT 'http',
    auth          text NOT NULL DEFAULT 'unknown', -- none, basic, bearer, jwt, apikey, mtls, unknown
    shadow        boolean NOT NULL DEFAULT false,
    zombie        boolean NOT NULL DEFAULT false,
    request_count bigint NOT NULL DEFAULT 0,
    status_codes  jsonb NOT NULL DEFAULT '{}',   -- {"200": n, "404": n}
    schema        jsonb NOT NULL DEFAULT '{}',   -- {query, headers, request_body, responses}
    sensitive     jsonb NOT NULL DEFAULT '[]',   -- [{kind: email|phone|card|ssn|jwt|apikey|iban, where}]
    first_seen    timestamptz NOT NULL DEFAULT now(),
    last_seen     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, cluster_id, service, method, path_template)
);
CREATE INDEX api_endpoints_tenant ON api_endpoints (tenant_id, cluster_id);

-- Observed calls between workloads and hosts (inventory writes, portal reads).
CREATE TABLE api_edges (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id   uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    source       text NOT NULL,          -- workload (name.namespace) or "external"
    destination  text NOT NULL,          -- service (name.namespace) or external host
    class        text NOT NULL CHECK (class IN ('external', 'internal', 'outbound')),
    calls        bigint NOT NULL DEFAULT 0,
    errors       bigint NOT NULL DEFAULT 0,
    latency_ms   jsonb NOT NULL DEFAULT '{}',    -- {"p50": .., "p90": .., "p99": ..}
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, cluster_id, source, destination)
);

-- Findings from every source (report writes, portal reads and updates the status).
CREATE TABLE findings (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id   uuid REFERENCES clusters (id) ON DELETE CASCADE,
    fingerprint  text NOT NULL,          -- hex SHA-256 of (tenant, cluster, rule, object uid, field)
    source       text NOT NULL,          -- posture, api, fuzzer, kube-bench, kube-hunter, kubeaudit, trivy, collector, plan
    scope        text NOT NULL,          -- what one evaluation covers, for resolution: e.g. posture, api, fuzz:<job>, scan:kube-bench
    rule_id      text NOT NULL,          -- VGL-POD-001, API1-BOLA-001, kube-bench 1.2.1, KHV002, ...
    title        text NOT NULL,
    severity     text NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
    category     text NOT NULL,
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'suppressed')),
    object       jsonb NOT NULL DEFAULT '{}',   -- {kind, namespace, name, uid} or {endpoint, method, host}
    field        text NOT NULL DEFAULT '',
    evidence     jsonb NOT NULL DEFAULT '{}',
    remediation  text NOT NULL DEFAULT '',
    refs         jsonb NOT NULL DEFAULT '{}',   -- {kubescape, pss, cis, owasp, ...}
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    occurrences  bigint NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, fingerprint)
);
CREATE INDEX findings_list ON findings (tenant_id, status, severity, first_seen DESC, id);

-- Delivery targets (portal writes, report reads).
CREATE TABLE webhooks (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url        text NOT NULL,
    secret     text NOT NULL,            -- sealed with the master key (vg_secret_seal, aad tenant_id/id)
    enabled    boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, url)
);
CREATE TABLE email_recipients (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email        text NOT NULL CHECK (email = lower(email)),
    unsubscribed boolean NOT NULL DEFAULT false,
    unsubscribe_token_hash text,         -- hex SHA-256 of the token in the unsubscribe link
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, email)
);

-- Active tests (portal creates, fuzzer runs and updates).
CREATE TABLE fuzz_jobs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id   uuid REFERENCES clusters (id) ON DELETE SET NULL,
    base_url     text NOT NULL,
    request      jsonb NOT NULL,         -- the job as submitted (identities' secrets sealed)
    status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    progress     jsonb NOT NULL DEFAULT '{"done": 0, "total": 0}',
    error        text,
    findings     integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz
);
CREATE INDEX fuzz_jobs_tenant ON fuzz_jobs (tenant_id, created_at DESC);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['workloads', 'api_specs', 'api_endpoints', 'api_edges', 'findings',
                             'webhooks', 'email_recipients', 'fuzz_jobs'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = vigil_current_tenant()) '
                       'WITH CHECK (tenant_id = vigil_current_tenant())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO vigil_portal', t);
    END LOOP;
END
$$;
