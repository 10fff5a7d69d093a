-- Report service: idempotent consumption, the delivery outbox, e-mail digests and tenant
-- reports. The report service connects as the owner; the portal reads some of these tables
-- through row-level security.

-- Envelope ids already applied: written in the same transaction as the finding change, so a
-- message redelivered by Kafka changes nothing the second time.
CREATE TABLE report_processed (
    envelope_id  uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type         text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_processed_age ON report_processed (processed_at);

-- The finding as delivered in events (webhook "finding" object, e-mail content).
CREATE FUNCTION report_finding_json(f findings, public_url text) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object(
        'id', f.id, 'cluster_id', f.cluster_id, 'fingerprint', f.fingerprint,
        'source', f.source, 'scope', f.scope, 'rule_id', f.rule_id, 'title', f.title,
        'severity', f.severity, 'category', f.category, 'status', f.status,
        'object', f.object, 'field', f.field, 'evidence', f.evidence,
        'remediation', f.remediation, 'refs', f.refs,
        'first_seen', to_char(f.first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'last_seen', to_char(f.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'resolved_at', to_char(f.resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'occurrences', f.occurrences,
        'url', rtrim(public_url, '/') || '/findings/' || f.id)
    $$;

-- Durable outbox: one row per event per target (a webhook or an e-mail recipient), written
-- in the transaction that changed the finding. id is the delivery id receivers deduplicate
-- on; every attempt of one row sends the same body.
CREATE TABLE report_outbox (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel         text NOT NULL CHECK (channel IN ('webhook', 'email')),
    target_id       uuid NOT NULL,        -- webhooks.id or email_recipients.id
    event_type      text NOT NULL,        -- finding.opened|finding.reopened|finding.resolved|
                                          -- webhook.test|digest
    finding_id      uuid REFERENCES findings (id) ON DELETE SET NULL,
    payload         jsonb NOT NULL,       -- the finding (or the digest's findings)
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'dead', 'throttled', 'cancelled')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until    timestamptz,          -- a worker is sending it until then
    last_error      text,
    last_status     integer,              -- HTTP status or SMTP code of the last attempt
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX report_outbox_due ON report_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX report_outbox_target ON report_outbox (target_id, next_attempt_at, created_at)
    WHERE status = 'pending';
CREATE INDEX report_outbox_leased ON report_outbox (leased_until)
    WHERE status = 'pending' AND leased_until IS NOT NULL;
CREATE INDEX report_outbox_tenant ON report_outbox (tenant_id, created_at DESC);
CREATE INDEX report_outbox_finding ON report_outbox (finding_id);

-- When each recipient last got a digest.
CREATE TABLE report_digest_state (
    recipient_id uuid PRIMARY KEY REFERENCES email_recipients (id) ON DELETE CASCADE,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    last_sent_at timestamptz NOT NULL
);

-- Tenant reports (report writes, the portal serves the latest at /api/v1/report[.html]).
CREATE TABLE tenant_reports (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    generated_at timestamptz NOT NULL DEFAULT now(),
    data         jsonb NOT NULL,
    html         text NOT NULL
);
CREATE INDEX tenant_reports_latest ON tenant_reports (tenant_id, generated_at DESC);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['report_processed', 'report_outbox', 'report_digest_state',
                             'tenant_reports'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = vigil_current_tenant()) '
                       'WITH CHECK (tenant_id = vigil_current_tenant())', t);
        EXECUTE format('REVOKE ALL ON %I FROM vigil_portal', t);
    END LOOP;
END
$$;
-- the portal shows reports and the delivery log (dead deliveries are visible), read-only
GRANT SELECT ON tenant_reports, report_outbox TO vigil_portal;
