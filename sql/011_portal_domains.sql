-- Public hosts a tenant proved it controls (DESIGN section 6: an HTTP challenge file under
-- /.well-known/), accepted as fuzz job targets. Written and read by the portal only.
CREATE TABLE portal_target_domains (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    host        text NOT NULL CHECK (host = lower(host)),   -- host[:port] as in fuzz base URLs
    token       text NOT NULL,                               -- the challenge file's content
    verified_at timestamptz,
    last_error  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, host)
);
ALTER TABLE portal_target_domains ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON portal_target_domains
    USING (tenant_id = vigil_current_tenant()) WITH CHECK (tenant_id = vigil_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON portal_target_domains TO vigil_portal;
