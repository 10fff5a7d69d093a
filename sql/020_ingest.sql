-- Ingest: the collector's lease and backoff per cluster. Only one collector replica polls a
-- cluster at a time: a replica takes the row with
--   INSERT ... ON CONFLICT (cluster_id) DO UPDATE ... WHERE expires_at < now() OR holder = me
-- renews it while it lists, and releases it (expires_at = now()) when the sync ends, so a dead
-- replica's clusters are taken over once its lease expires. failures/next_attempt_at hold the
-- exponential backoff after a failed sync.
CREATE TABLE cluster_leases (
    cluster_id      uuid PRIMARY KEY REFERENCES clusters (id) ON DELETE CASCADE,
    holder          text NOT NULL,
    expires_at      timestamptz NOT NULL,
    failures        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz
);
