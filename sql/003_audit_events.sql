-- Who created or deleted what, and when. Never holds a secret: `details`
-- carries only names and counts (a label, a version, how many containers).
CREATE TABLE audit_events (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor        text,                  -- the JWT's `sub`, when it has one
    action       text        NOT NULL,  -- 'create' or 'delete'
    entity_type  text        NOT NULL,  -- 'ImageCredentials', 'Release', ...
    entity_id    uuid        NOT NULL,
    details      jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX audit_events_by_at ON audit_events (tenant_id, at, id);
CREATE INDEX audit_events_by_entity ON audit_events (tenant_id, entity_id, at, id);

CREATE TRIGGER audit_events_immutable
    BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION forbid_update();
