-- Devices, the deployments of releases to them, and the record of every
-- payload that carried credentials to a device.

CREATE TABLE devices (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    device_id    text        COLLATE "C" NOT NULL,  -- the device's own identifier (Astarte-style)
    name         text        COLLATE "C" NOT NULL,
    token_hash   bytea       NOT NULL UNIQUE,  -- sha256 of the device token; the token is never stored
    inserted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT devices_device_id_unique UNIQUE (tenant_id, device_id)
);
CREATE INDEX devices_by_inserted_at ON devices (tenant_id, inserted_at, id);
CREATE INDEX devices_by_name ON devices (tenant_id, name, id);

CREATE TABLE deployments (
    tenant_id    uuid        NOT NULL,
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    device_id    uuid        NOT NULL,
    release_id   uuid        NOT NULL,
    state        text        NOT NULL DEFAULT 'pending',
    inserted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, release_id) REFERENCES releases (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX deployments_by_inserted_at ON deployments (tenant_id, inserted_at, id);
CREATE INDEX deployments_of_device ON deployments (tenant_id, device_id, inserted_at, id);
CREATE INDEX deployments_of_release ON deployments (tenant_id, release_id);

-- One row per set of credentials in each payload handed to a device.
-- Plain ids and a time: no password, no Docker-auth value, no payload.
-- Ids are kept without foreign keys so the record outlives what it names.
CREATE TABLE credential_deliveries (
    tenant_id            uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                   uuid        NOT NULL DEFAULT gen_random_uuid(),
    image_credentials_id uuid        NOT NULL,
    device_id            uuid        NOT NULL,
    deployment_id        uuid        NOT NULL,
    delivered_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX credential_deliveries_of_credentials
    ON credential_deliveries (tenant_id, image_credentials_id, delivered_at, id);
CREATE INDEX credential_deliveries_by_at ON credential_deliveries (tenant_id, delivered_at, id);

CREATE TRIGGER credential_deliveries_immutable
    BEFORE UPDATE ON credential_deliveries
    FOR EACH ROW EXECUTE FUNCTION forbid_update();
