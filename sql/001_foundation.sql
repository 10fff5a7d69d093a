-- Foundation: tenants, users, API keys and clusters, isolated per tenant by row-level
-- security for the vigil_portal role. Services other than the portal connect as the owner.
-- Migration number ranges: 001-009 foundation, 010-019 portal, 020-029 ingest,
-- 030-039 inventory (cluster model, posture), 040-049 inventory (API inventory),
-- 050-059 fuzzer, 060-069 report.

-- The portal role: no login of its own; the portal's connection does SET ROLE vigil_portal.
DO $$
BEGIN
    -- roles are shared by every database of the server, and advisory locks are not:
    -- another database migrating at the same moment may create it first
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vigil_portal') THEN
        BEGIN
            CREATE ROLE vigil_portal NOLOGIN NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF NOT pg_has_role(current_user, 'vigil_portal', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT vigil_portal TO %I', current_user);
        EXCEPTION WHEN unique_violation OR object_in_use THEN
            NULL;
        END;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO vigil_portal;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO vigil_portal;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO vigil_portal;

-- The tenant of the current transaction, set by set_config('vigil.tenant_id', ..., true);
-- NULL outside a tenant-scoped transaction, so policies then match no row.
CREATE FUNCTION vigil_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('vigil.tenant_id', true), '')::uuid $$;

CREATE TABLE tenants (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    plan           text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro', 'enterprise')),
    workload_limit integer CHECK (workload_limit IS NULL OR workload_limit >= 0),
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email         text NOT NULL CHECK (email = lower(email)),
    password_hash text NOT NULL,
    role          text NOT NULL DEFAULT 'owner' CHECK (role IN ('owner', 'admin', 'member')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (email)
);
CREATE INDEX users_tenant ON users (tenant_id);

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id      uuid REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT 'default',
    prefix       text NOT NULL,          -- visible part, e.g. vgk_AbCd1234
    key_hash     text NOT NULL UNIQUE,   -- hex SHA-256 of the whole key
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE clusters (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    server              text NOT NULL,
    ca_cert             text NOT NULL,
    credential          text NOT NULL,   -- AES-256-GCM sealed token (vg_secret_seal)
    key_id              text NOT NULL,   -- id of the master key that sealed it
    ingest_token_prefix text NOT NULL,
    ingest_token_hash   text NOT NULL UNIQUE,
    status              text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'ok', 'unreachable', 'unauthorized', 'error')),
    status_message      text,
    last_sync_at        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);
CREATE INDEX clusters_tenant ON clusters (tenant_id);

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE clusters ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON tenants
    USING (id = vigil_current_tenant()) WITH CHECK (id = vigil_current_tenant());
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = vigil_current_tenant()) WITH CHECK (tenant_id = vigil_current_tenant());
CREATE POLICY tenant_isolation ON api_keys
    USING (tenant_id = vigil_current_tenant()) WITH CHECK (tenant_id = vigil_current_tenant());
CREATE POLICY tenant_isolation ON clusters
    USING (tenant_id = vigil_current_tenant()) WITH CHECK (tenant_id = vigil_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, users, api_keys, clusters TO vigil_portal;
