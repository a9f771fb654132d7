-- Processes keep tenants (slug -> id and JWT public key) in memory, so that a
-- request needs no query to find its tenant. A tenant whose key is replaced,
-- or that is removed, must not go on being served from memory: every update
-- or delete of a tenant row is announced, after commit, on this channel with
-- the tenant's slug (tenants/directory.py listens and forgets it).
CREATE FUNCTION announce_tenant_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('edgehog_creds_tenant_changed', OLD.slug);
    RETURN NULL;
END
$$;

CREATE TRIGGER tenants_announce_change
    AFTER UPDATE OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION announce_tenant_change();
