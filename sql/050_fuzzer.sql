-- Fuzzer: per-tenant automatic testing switch, job leases (resume after a restart), per-check
-- progress and the fingerprints already emitted per job (no finding reported twice).

-- Whether api.endpoint events start automatic (unauthenticated) tests for a tenant. The
-- portal writes it under row-level security; default off.
CREATE TABLE fuzz_settings (
    tenant_id  uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    auto       boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Which fuzzer process runs a job and when it last proved it is alive; a 'running' job whose
-- heartbeat is older than the lease is taken over (resumed) by any fuzzer.
CREATE TABLE fuzz_job_leases (
    job_id       uuid PRIMARY KEY REFERENCES fuzz_jobs (id) ON DELETE CASCADE,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    worker       text NOT NULL,
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    runs         integer NOT NULL DEFAULT 1
);

-- Check families completed for a job (skipped when the job resumes).
CREATE TABLE fuzz_job_checks (
    job_id      uuid NOT NULL REFERENCES fuzz_jobs (id) ON DELETE CASCADE,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    family      text NOT NULL,
    requests    integer NOT NULL DEFAULT 0,
    findings    integer NOT NULL DEFAULT 0,
    finished_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, family)
);

-- Findings of a job (fingerprint = sha256 of tenant|host|endpoint template|method|check id),
-- also the outbox of their finding.observed messages: a row is committed before its message
-- is sent and marked published after the broker acknowledged it; unpublished rows are sent
-- again when the job resumes. A finding is therefore never reported twice by a job (except
-- when the process dies between the acknowledgement and the mark) and never lost.
CREATE TABLE fuzz_job_findings (
    job_id      uuid NOT NULL REFERENCES fuzz_jobs (id) ON DELETE CASCADE,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    fingerprint text NOT NULL,
    check_id    text NOT NULL,
    endpoint    text NOT NULL,
    payload     text NOT NULL,           -- the finding.observed envelope
    published   boolean NOT NULL DEFAULT false,
    emitted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, fingerprint)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['fuzz_settings', 'fuzz_job_leases', 'fuzz_job_checks',
                             'fuzz_job_findings'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = vigil_current_tenant()) '
                       'WITH CHECK (tenant_id = vigil_current_tenant())', t);
    END LOOP;
END
$$;
-- The portal edits the settings and reads progress; only the fuzzer (owner) writes the rest.
GRANT SELECT, INSERT, UPDATE, DELETE ON fuzz_settings TO vigil_portal;
REVOKE INSERT, UPDATE, DELETE ON fuzz_job_checks, fuzz_job_findings FROM vigil_portal;
GRANT SELECT ON fuzz_job_checks, fuzz_job_findings TO vigil_portal;
REVOKE ALL ON fuzz_job_leases FROM vigil_portal;
