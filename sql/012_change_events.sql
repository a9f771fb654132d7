-- Live updates: every change that Edgehog's UI shows is announced on the
-- channel 'edgehog_creds_events', by triggers, so that no write path (a
-- mutation, a device's report, the CLI, a cascade) can forget to. NOTIFY is
-- transactional: an announcement reaches listeners only when its transaction
-- commits, and never when it rolls back. events/ listens, re-reads each row
-- in its tenant's scope and hands it to that tenant's subscribers.
--
-- An announcement carries ids only, never a value: {"t": tenant, "k": kind,
-- "a": created | updated | destroyed, "id": the row's id} and, for a
-- deployment, "d": its device. No secret and nothing large ever travels in
-- it (a NOTIFY payload must stay under 8000 bytes).

CREATE FUNCTION announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- TG_ARGV[0]: the kind announced (default: the table's name).
    kind   text := coalesce(TG_ARGV[0], TG_TABLE_NAME);
    action text := CASE TG_OP WHEN 'INSERT' THEN 'created'
                              WHEN 'UPDATE' THEN 'updated'
                              ELSE 'destroyed' END;
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('edgehog_creds_events',
            json_build_object('t', OLD.tenant_id, 'k', kind, 'a', action, 'id', OLD.id)::text);
    ELSE
        PERFORM pg_notify('edgehog_creds_events',
            json_build_object('t', NEW.tenant_id, 'k', kind, 'a', action, 'id', NEW.id)::text);
    END IF;
    RETURN NULL;
END
$$;

-- Deployments also name their device (`deploymentsByDevice(deviceId)`).
CREATE FUNCTION announce_deployment_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    action text := CASE TG_OP WHEN 'INSERT' THEN 'created'
                              WHEN 'UPDATE' THEN 'updated'
                              ELSE 'destroyed' END;
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('edgehog_creds_events', json_build_object(
            't', OLD.tenant_id, 'k', 'deployments', 'a', action, 'id', OLD.id,
            'd', OLD.device_id)::text);
    ELSE
        PERFORM pg_notify('edgehog_creds_events', json_build_object(
            't', NEW.tenant_id, 'k', 'deployments', 'a', action, 'id', NEW.id,
            'd', NEW.device_id)::text);
    END IF;
    RETURN NULL;
END
$$;

-- A tag added to or removed from a device is an update of that device.
CREATE FUNCTION announce_device_tags_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('edgehog_creds_events', json_build_object(
            't', OLD.tenant_id, 'k', 'devices', 'a', 'updated', 'id', OLD.device_id)::text);
    ELSE
        PERFORM pg_notify('edgehog_creds_events', json_build_object(
            't', NEW.tenant_id, 'k', 'devices', 'a', 'updated', 'id', NEW.device_id)::text);
    END IF;
    RETURN NULL;
END
$$;

-- Created and destroyed only: these rows never change (credentials, releases
-- and images are immutable; volumes have no update).
CREATE TRIGGER image_credentials_announce AFTER INSERT OR DELETE ON image_credentials
    FOR EACH ROW EXECUTE FUNCTION announce_change();
CREATE TRIGGER releases_announce AFTER INSERT OR DELETE ON releases
    FOR EACH ROW EXECUTE FUNCTION announce_change();
CREATE TRIGGER images_announce AFTER INSERT OR DELETE ON images
    FOR EACH ROW EXECUTE FUNCTION announce_change();
CREATE TRIGGER volumes_announce AFTER INSERT OR DELETE ON volumes
    FOR EACH ROW EXECUTE FUNCTION announce_change();
CREATE TRIGGER deployment_events_announce AFTER INSERT ON deployment_events
    FOR EACH ROW EXECUTE FUNCTION announce_change();

-- Created, updated (when something changed) and destroyed.
CREATE TRIGGER applications_announce AFTER INSERT OR DELETE ON applications
    FOR EACH ROW EXECUTE FUNCTION announce_change();
CREATE TRIGGER applications_announce_update AFTER UPDATE ON applications
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION announce_change();
CREATE TRIGGER containers_announce AFTER INSERT OR DELETE ON containers
    FOR EACH ROW EXECUTE FUNCTION announce_change();
CREATE TRIGGER containers_announce_update AFTER UPDATE ON containers
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION announce_change();
CREATE TRIGGER networks_announce AFTER INSERT OR DELETE ON networks
    FOR EACH ROW EXECUTE FUNCTION announce_change();
CREATE TRIGGER networks_announce_update AFTER UPDATE ON networks
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION announce_change();
CREATE TRIGGER deployments_announce AFTER INSERT OR DELETE ON deployments
    FOR EACH ROW EXECUTE FUNCTION announce_deployment_change();
CREATE TRIGGER deployments_announce_update AFTER UPDATE ON deployments
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION announce_deployment_change();

-- Devices: created and updated (Edgehog's `deviceChanged` has no destroyed).
-- A presence record that only moves last_seen_at and online_until forward
-- (a device online and still asking) is not a change the UI shows; the start
-- of a streak (coming online) is.
CREATE TRIGGER devices_announce AFTER INSERT ON devices
    FOR EACH ROW EXECUTE FUNCTION announce_change();
CREATE TRIGGER devices_announce_update AFTER UPDATE ON devices
    FOR EACH ROW WHEN (
        (to_jsonb(OLD) - 'last_seen_at' - 'online_until')
        IS DISTINCT FROM (to_jsonb(NEW) - 'last_seen_at' - 'online_until'))
    EXECUTE FUNCTION announce_change();
CREATE TRIGGER device_tags_announce AFTER INSERT OR DELETE ON device_tags
    FOR EACH ROW EXECUTE FUNCTION announce_device_tags_change();
