-- Portal: browser sessions, login throttling, and the few lookups that must find a row before
-- the tenant is known (login, session and API-key authentication). Those run through
-- SECURITY DEFINER functions owned by the migrating superuser with a fixed search_path, so
-- row-level security stays on for every table the vigil_portal role touches directly.

CREATE TABLE portal_sessions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   text NOT NULL UNIQUE,   -- hex SHA-256 of the cookie value
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX portal_sessions_tenant ON portal_sessions (tenant_id);
CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);
ALTER TABLE portal_sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON portal_sessions
    USING (tenant_id = vigil_current_tenant()) WITH CHECK (tenant_id = vigil_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON portal_sessions TO vigil_portal;

-- Failed logins, keyed by "email:<address>" and "ip:<address>"; not tenant data (no policy
-- needed: only the SECURITY DEFINER functions below read or write it).
CREATE TABLE portal_login_failures (
    key       text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX portal_login_failures_key ON portal_login_failures (key, failed_at);
REVOKE ALL ON portal_login_failures FROM vigil_portal;

-- The user a login names: (user_id, tenant_id, password_hash), no row when unknown.
CREATE FUNCTION portal_login_lookup(p_email text)
    RETURNS TABLE (user_id uuid, tenant_id uuid, password_hash text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT u.id, u.tenant_id, u.password_hash FROM users u WHERE u.email = lower(p_email) $$;

-- Seconds the caller must wait before another login attempt for this email or client, 0 when
-- it may try now. A key is blocked once it has p_max failures inside the window.
CREATE FUNCTION portal_login_throttle(p_email text, p_ip text, p_window_s integer,
                                      p_max_email integer, p_max_ip integer)
    RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    wait_s integer := 0;
    k text;
    lim integer;
    oldest timestamptz;
BEGIN
    DELETE FROM portal_login_failures WHERE failed_at < now() - make_interval(secs => p_window_s);
    FOREACH k IN ARRAY ARRAY['email:' || lower(p_email), 'ip:' || p_ip] LOOP
        lim := CASE WHEN k LIKE 'email:%' THEN p_max_email ELSE p_max_ip END;
        SELECT f.failed_at INTO oldest FROM portal_login_failures f WHERE f.key = k
            ORDER BY f.failed_at DESC OFFSET lim - 1 LIMIT 1;
        IF oldest IS NOT NULL THEN
            wait_s := greatest(wait_s, ceil(extract(epoch FROM
                          oldest + make_interval(secs => p_window_s) - now()))::integer, 1);
        END IF;
    END LOOP;
    RETURN wait_s;
END
$$;

CREATE FUNCTION portal_login_failed(p_email text, p_ip text) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public
    AS $$ INSERT INTO portal_login_failures (key) VALUES ('email:' || lower(p_email)), ('ip:' || p_ip) $$;

CREATE FUNCTION portal_login_succeeded(p_email text) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public
    AS $$ DELETE FROM portal_login_failures WHERE key = 'email:' || lower(p_email) $$;

-- The live session with this token hash: (session_id, tenant_id, user_id). last_seen_at is
-- refreshed at most once a minute, so a busy session does not write on every request.
CREATE FUNCTION portal_session_lookup(p_token_hash text)
    RETURNS TABLE (session_id uuid, tenant_id uuid, user_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    RETURN QUERY SELECT s.id, s.tenant_id, s.user_id FROM portal_sessions s
                  WHERE s.token_hash = p_token_hash AND s.expires_at > now();
    UPDATE portal_sessions s SET last_seen_at = now()
     WHERE s.token_hash = p_token_hash AND s.last_seen_at < now() - interval '60 seconds';
END
$$;

-- The unrevoked API key with this hash: (key_id, tenant_id, user_id); last_used_at is
-- recorded at most once a minute.
CREATE FUNCTION portal_api_key_lookup(p_key_hash text)
    RETURNS TABLE (key_id uuid, tenant_id uuid, user_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    RETURN QUERY SELECT k.id, k.tenant_id, k.user_id FROM api_keys k
                  WHERE k.key_hash = p_key_hash AND k.revoked_at IS NULL;
    UPDATE api_keys k SET last_used_at = now()
     WHERE k.key_hash = p_key_hash AND k.revoked_at IS NULL
       AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '60 seconds');
END
$$;

REVOKE ALL ON FUNCTION portal_login_lookup(text), portal_login_throttle(text, text, integer, integer, integer),
    portal_login_failed(text, text), portal_login_succeeded(text), portal_session_lookup(text),
    portal_api_key_lookup(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION portal_login_lookup(text), portal_login_throttle(text, text, integer, integer, integer),
    portal_login_failed(text, text), portal_login_succeeded(text), portal_session_lookup(text),
    portal_api_key_lookup(text) TO vigil_portal;
