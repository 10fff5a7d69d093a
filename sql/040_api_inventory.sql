-- API inventory (issue 6): the learned path trees, idempotency of trace batches, endpoint
-- aliases left by template merges, edge latency histograms, outbound hosts, generated
-- AuthorizationPolicies and the per-cluster trace counters. api_endpoints and api_edges
-- themselves are in 002_shared_tables.sql.

-- One path tree per destination service (services/inventory/api/template.c, JSON form).
-- Locked with SELECT ... FOR UPDATE while a batch learns, so replicas never fork it.
CREATE TABLE api_path_trees (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    service    text NOT NULL,
    tree       jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, cluster_id, service)
);

-- trace.batch envelopes already applied: a redelivered batch changes nothing.
CREATE TABLE api_processed_batches (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    envelope_id  uuid NOT NULL,
    records      integer NOT NULL DEFAULT 0,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, envelope_id)
);
CREATE INDEX api_processed_batches_age ON api_processed_batches (processed_at);

-- An endpoint merged into another by a later template merge keeps resolving: old id -> new.
CREATE TABLE api_endpoint_aliases (
    old_id        uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    endpoint_id   uuid NOT NULL REFERENCES api_endpoints (id) ON DELETE CASCADE,
    path_template text NOT NULL,          -- the template the old id had
    merged_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_endpoint_aliases_target ON api_endpoint_aliases (endpoint_id);

ALTER TABLE api_endpoints ADD COLUMN latency_ms_sum double precision NOT NULL DEFAULT 0;
ALTER TABLE api_endpoints ADD COLUMN spec_id uuid;           -- the spec it was compared with
ALTER TABLE api_endpoints ADD COLUMN spec_operation text;    -- operationId or "METHOD path"
-- latency histogram per edge: counts per bucket, upper bounds in ms
-- {1,2,5,10,20,50,100,200,500,1000,2000,5000,10000,+inf}
ALTER TABLE api_edges ADD COLUMN latency_hist bigint[] NOT NULL DEFAULT '{}';
ALTER TABLE api_edges ADD COLUMN source_principal text;     -- cluster.local/ns/<ns>/sa/<sa>

-- Third-party hosts called from the cluster, with the workloads that call them.
CREATE TABLE api_outbound_hosts (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    host       text NOT NULL,
    callers    text[] NOT NULL DEFAULT '{}',
    plaintext  boolean NOT NULL DEFAULT false,   -- some call went out as cleartext HTTP
    calls      bigint NOT NULL DEFAULT 0,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, cluster_id, host)
);

-- Least-privilege Istio AuthorizationPolicy per destination service, from observed callers.
CREATE TABLE api_policies (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    service    text NOT NULL,            -- name.namespace
    policy     jsonb NOT NULL,           -- the AuthorizationPolicy object (security.istio.io/v1)
    callers    integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, cluster_id, service)
);

-- Trace counters per cluster: accepted records, rejected (unparsable) and dropped because a
-- workload they belong to is uncontrolled (plan limit, DESIGN section 5).
CREATE TABLE api_trace_counters (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    accepted   bigint NOT NULL DEFAULT 0,
    rejected   bigint NOT NULL DEFAULT 0,
    dropped_uncontrolled bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, cluster_id)
);

-- {"200": 3} + {"200": 1, "404": 2} -> {"200": 4, "404": 2}
CREATE FUNCTION api_counts_add(a jsonb, b jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT coalesce(jsonb_object_agg(k, v), '{}'::jsonb) FROM (
        SELECT k, sum(v::bigint) AS v FROM (
            SELECT key AS k, value::text AS v FROM jsonb_each(coalesce(a, '{}'))
            UNION ALL
            SELECT key, value::text FROM jsonb_each(coalesce(b, '{}'))
        ) x GROUP BY k
    ) y
    $$;

-- element-wise sum of two histograms (missing buckets count 0)
CREATE FUNCTION api_hist_add(a bigint[], b bigint[]) RETURNS bigint[]
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
    n integer := greatest(coalesce(array_length(a, 1), 0), coalesce(array_length(b, 1), 0));
    r bigint[] := '{}';
BEGIN
    FOR i IN 1..n LOOP
        r := r || (coalesce(a[i], 0) + coalesce(b[i], 0));
    END LOOP;
    RETURN r;
END
$$;

-- {"p50","p90","p99"} in ms: the upper bound of the bucket holding each rank
CREATE FUNCTION api_hist_percentiles(h bigint[]) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
    bounds integer[] := ARRAY[1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000];
    total bigint := 0;
    cum bigint := 0;
    p50 integer;
    p90 integer;
    p99 integer;
BEGIN
    FOR i IN 1..coalesce(array_length(h, 1), 0) LOOP
        total := total + coalesce(h[i], 0);
    END LOOP;
    IF total = 0 THEN
        RETURN '{}';
    END IF;
    FOR i IN 1..array_length(h, 1) LOOP
        cum := cum + coalesce(h[i], 0);
        IF p50 IS NULL AND cum >= 0.50 * total THEN p50 := bounds[least(i, 14)]; END IF;
        IF p90 IS NULL AND cum >= 0.90 * total THEN p90 := bounds[least(i, 14)]; END IF;
        IF p99 IS NULL AND cum >= 0.99 * total THEN p99 := bounds[least(i, 14)]; END IF;
    END LOOP;
    RETURN jsonb_build_object('p50', p50, 'p90', p90, 'p99', p99);
END
$$;

-- A template merge: every endpoint of service with template p_from moves to p_to (merged
-- into an existing row of the same method when there is one; the old id is kept as an
-- alias). Returns the number of rows re-pointed.
CREATE FUNCTION api_endpoint_repoint(p_tenant uuid, p_cluster uuid, p_service text,
                                     p_from text, p_to text) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    r api_endpoints;
    target uuid;
    n integer := 0;
BEGIN
    FOR r IN SELECT * FROM api_endpoints
             WHERE tenant_id = p_tenant AND cluster_id = p_cluster AND service = p_service
               AND path_template = p_from FOR UPDATE LOOP
        SELECT id INTO target FROM api_endpoints
        WHERE tenant_id = p_tenant AND cluster_id = p_cluster AND service = p_service
          AND method = r.method AND path_template = p_to FOR UPDATE;
        IF target IS NULL THEN
            UPDATE api_endpoints SET path_template = p_to WHERE id = r.id;
        ELSE
            UPDATE api_endpoints SET
                request_count = request_count + r.request_count,
                status_codes = api_counts_add(status_codes, r.status_codes),
                schema = r.schema || schema,
                sensitive = (SELECT coalesce(jsonb_agg(DISTINCT e), '[]')
                             FROM jsonb_array_elements(sensitive || r.sensitive) e),
                latency_ms_sum = latency_ms_sum + r.latency_ms_sum,
                first_seen = least(first_seen, r.first_seen),
                last_seen = greatest(last_seen, r.last_seen)
            WHERE id = target;
            UPDATE api_endpoint_aliases SET endpoint_id = target WHERE endpoint_id = r.id;
            DELETE FROM api_endpoints WHERE id = r.id;
            INSERT INTO api_endpoint_aliases (old_id, tenant_id, endpoint_id, path_template)
            VALUES (r.id, p_tenant, target, p_from) ON CONFLICT (old_id) DO NOTHING;
        END IF;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['api_path_trees', 'api_processed_batches', 'api_endpoint_aliases',
                             'api_outbound_hosts', 'api_policies', 'api_trace_counters'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = vigil_current_tenant()) '
                       'WITH CHECK (tenant_id = vigil_current_tenant())', t);
        EXECUTE format('GRANT SELECT ON %I TO vigil_portal', t);
    END LOOP;
END
$$;
REVOKE ALL ON api_path_trees, api_processed_batches FROM vigil_portal;

-- The reconstructed OpenAPI 3.0 document of each service, rebuilt when a batch touches the
-- service; the portal serves it at /api/v1/apis/{id}/openapi.json (the endpoint's service).
CREATE TABLE api_openapi_docs (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cluster_id uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    service    text NOT NULL,
    document   jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, cluster_id, service)
);
ALTER TABLE api_openapi_docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_openapi_docs USING (tenant_id = vigil_current_tenant())
    WITH CHECK (tenant_id = vigil_current_tenant());
GRANT SELECT ON api_openapi_docs TO vigil_portal;
