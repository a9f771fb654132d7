-- Volumes and networks, as Edgehog has them: named Docker objects that the
-- containers of a release use. Both are immutable once created (no UPDATE
-- path), and neither may be deleted while a container uses it.

CREATE TABLE volumes (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid        NOT NULL,
    label        text        COLLATE "C" NOT NULL,
    driver       text        COLLATE "C" NOT NULL DEFAULT 'local',
    -- Docker's DriverOpts: string keys to string values (the service checks them).
    options      jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
    inserted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    -- Labels are unique per tenant; this index also serves the LABEL sort.
    CONSTRAINT volumes_label_unique UNIQUE (tenant_id, label)
);
-- One index per sort the API offers, each ending in id, the keyset tie-break.
CREATE INDEX volumes_by_inserted_at ON volumes (tenant_id, inserted_at, id);
CREATE INDEX volumes_by_driver ON volumes (tenant_id, driver, id);

CREATE TRIGGER volumes_immutable
    BEFORE UPDATE ON volumes
    FOR EACH ROW EXECUTE FUNCTION forbid_update();

CREATE TABLE networks (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid        NOT NULL,
    -- Optional, as in Edgehog; unique per tenant when present (NULLs are
    -- distinct, as Ash's identity on a nullable attribute).
    label        text        COLLATE "C",
    driver       text        COLLATE "C" NOT NULL DEFAULT 'bridge',
    internal     boolean     NOT NULL DEFAULT false,
    enable_ipv6  boolean     NOT NULL DEFAULT false,
    options      jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
    inserted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT networks_label_unique UNIQUE (tenant_id, label)
);
CREATE INDEX networks_by_inserted_at ON networks (tenant_id, inserted_at, id);
CREATE INDEX networks_by_driver ON networks (tenant_id, driver, id);

CREATE TRIGGER networks_immutable
    BEFORE UPDATE ON networks
    FOR EACH ROW EXECUTE FUNCTION forbid_update();

-- How a container uses them. Rows go with their container; a volume or
-- network that a row names cannot be deleted (NO ACTION: the services refuse
-- first, with a count, and this catches any path that forgot to). Same
-- tenant by construction: every key holds tenant_id.
--
-- The rows reference their tenant directly, as Edgehog's do: removing a
-- tenant deletes them in the first round of cascades, before the NO ACTION
-- checks that deleting its volumes and networks queues (PostgreSQL runs
-- cascaded deletes breadth first; through containers alone, a check would
-- still find them and refuse the tenant's removal).
CREATE TABLE container_volumes (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    container_id  uuid NOT NULL,
    volume_id     uuid NOT NULL,
    target        text NOT NULL,  -- the mount point inside the container
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, container_id) REFERENCES containers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, volume_id) REFERENCES volumes (tenant_id, id),
    CONSTRAINT container_volumes_target_unique UNIQUE (tenant_id, container_id, target),
    -- Edgehog's key: a container mounts a volume once.
    CONSTRAINT container_volumes_volume_unique UNIQUE (tenant_id, container_id, volume_id)
);
-- Who uses a volume: the delete check, and the foreign key's own check.
CREATE INDEX container_volumes_by_volume ON container_volumes (tenant_id, volume_id);

CREATE TABLE container_networks (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    container_id  uuid NOT NULL,
    network_id    uuid NOT NULL,
    -- Edgehog's key: a container joins a network once.
    PRIMARY KEY (tenant_id, container_id, network_id),
    FOREIGN KEY (tenant_id, container_id) REFERENCES containers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, network_id) REFERENCES networks (tenant_id, id)
);
CREATE INDEX container_networks_by_network ON container_networks (tenant_id, network_id);
