-- The deployment lifecycle, as Edgehog models it, with the device speaking
-- for itself (docs/device-protocol.md): what the server asks of a device
-- waits in device_messages until the device reads it; what the device
-- reports lands in deployments.state, deployment_events and device_resources.

-- States: pending (created), sent (the device read its CreateDeploymentRequest),
-- started and stopped (as the device reports them). `context` says which
-- command was sent last and not yet answered; `upgrade_from` names the
-- deployment this one replaces once it is ready (upgradeDeployment).
UPDATE deployments SET state = 'pending' WHERE state NOT IN ('pending', 'sent', 'started', 'stopped');
ALTER TABLE deployments
    ADD CONSTRAINT deployments_state_known CHECK (state IN ('pending', 'sent', 'started', 'stopped')),
    ADD COLUMN timed_out boolean NOT NULL DEFAULT false,
    ADD COLUMN context text CHECK (context IN (
        'start_message_sent', 'stop_message_sent', 'delete_message_sent', 'upgrade_message_sent')),
    -- The device's timestamp of the state it last reported: an older report
    -- arriving later changes nothing.
    ADD COLUMN state_reported_at timestamptz,
    ADD COLUMN upgrade_from uuid,
    ADD CONSTRAINT deployments_upgrade_from_fkey FOREIGN KEY (tenant_id, upgrade_from)
        REFERENCES deployments (tenant_id, id) ON DELETE SET NULL (upgrade_from);

-- What the device reported about a deployment (DeploymentEvent). A report
-- sent again (a retry) is the same event, not a new one.
CREATE TABLE deployment_events (
    tenant_id      uuid        NOT NULL,
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    deployment_id  uuid        NOT NULL,
    type           text        NOT NULL CHECK (type IN (
        'starting', 'started', 'stopping', 'stopped', 'updating', 'deleting', 'error')),
    message        text        NOT NULL DEFAULT '',
    add_info       text[]      NOT NULL DEFAULT '{}',
    reported_at    timestamptz NOT NULL,  -- the device's clock
    inserted_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, deployment_id) REFERENCES deployments (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT deployment_events_once UNIQUE (tenant_id, deployment_id, reported_at, type, message)
);
CREATE INDEX deployment_events_of_deployment
    ON deployment_events (tenant_id, deployment_id, inserted_at, id);

CREATE TRIGGER deployment_events_immutable
    BEFORE UPDATE ON deployment_events
    FOR EACH ROW EXECUTE FUNCTION forbid_update();

-- What a device says it holds (the Available* properties): one row per
-- resource, its last state by the device's clock. A NULL state is a resource
-- the device removed (kept, so that an older report arriving later cannot
-- bring it back).
CREATE TABLE device_resources (
    tenant_id    uuid        NOT NULL,
    device_id    uuid        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN (
        'image', 'volume', 'network', 'device_mapping', 'device_request', 'container')),
    resource_id  uuid        NOT NULL,
    state        text,
    reported_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, device_id, kind, resource_id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);

-- What a device must do, in order: the server-owned messages of Edgehog's
-- interfaces (Create*Request, DeploymentCommand, DeploymentUpdate). A device
-- reads them after the last sequence it has handled, which also tells the
-- server it may forget those. A CreateImageRequest is stored without its
-- registryAuth: the credentials are opened when the device reads it.
CREATE TABLE device_messages (
    tenant_id      uuid        NOT NULL,
    device_id      uuid        NOT NULL,
    sequence       bigint      GENERATED ALWAYS AS IDENTITY,
    deployment_id  uuid        NOT NULL,
    interface      text        NOT NULL,
    path           text        NOT NULL,
    data           jsonb       NOT NULL,
    image_id       uuid,       -- a CreateImageRequest's image, to fill in registryAuth
    inserted_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, device_id, sequence),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, deployment_id) REFERENCES deployments (tenant_id, id) ON DELETE CASCADE,
    CHECK (NOT (data ? 'registryAuth') OR data ->> 'registryAuth' = '')
);
CREATE INDEX device_messages_of_deployment ON device_messages (tenant_id, deployment_id);

CREATE TRIGGER device_messages_immutable
    BEFORE UPDATE ON device_messages
    FOR EACH ROW EXECUTE FUNCTION forbid_update();

-- The system models a release requires (Edgehog's requiredSystemModels):
-- none, any device; otherwise a device must be of one of them to get it.
CREATE TABLE release_system_models (
    tenant_id        uuid NOT NULL,
    release_id       uuid NOT NULL,
    system_model_id  uuid NOT NULL,
    PRIMARY KEY (tenant_id, release_id, system_model_id),
    FOREIGN KEY (tenant_id, release_id) REFERENCES releases (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, system_model_id) REFERENCES system_models (tenant_id, id)
        ON DELETE CASCADE
);
CREATE INDEX release_system_models_of_model ON release_system_models (tenant_id, system_model_id);
