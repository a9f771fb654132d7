-- Applications, their releases and the containers each release runs.
-- Releases and containers are immutable once created; the single change a
-- container may see is losing its credentials when those are deleted.

CREATE TABLE applications (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    name         text        COLLATE "C" NOT NULL,
    description  text        NOT NULL DEFAULT '',
    inserted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX applications_by_inserted_at ON applications (tenant_id, inserted_at, id);
CREATE INDEX applications_by_name ON applications (tenant_id, name, id);

CREATE TABLE releases (
    tenant_id       uuid        NOT NULL,
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    application_id  uuid        NOT NULL,
    version         text        NOT NULL,  -- a Semantic Version, checked by the service
    inserted_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT releases_version_unique UNIQUE (tenant_id, application_id, version)
);
CREATE INDEX releases_by_inserted_at ON releases (tenant_id, inserted_at, id);
CREATE INDEX releases_of_application ON releases (tenant_id, application_id, inserted_at, id);

CREATE TRIGGER releases_immutable
    BEFORE UPDATE ON releases
    FOR EACH ROW EXECUTE FUNCTION forbid_update();

CREATE TABLE containers (
    tenant_id               uuid        NOT NULL,
    id                      uuid        NOT NULL DEFAULT gen_random_uuid(),
    release_id              uuid        NOT NULL,
    position                int         NOT NULL,  -- order within the release, from 0
    image_id                uuid        NOT NULL DEFAULT gen_random_uuid(),  -- the Image node's id
    image_reference         text        NOT NULL,  -- exactly as the release wrote it
    image_credentials_id    uuid,                  -- NULL: a public image, or see below
    credentials_deleted_at  timestamptz,           -- set when its credentials were deleted
    hostname                text        NOT NULL DEFAULT '',
    restart_policy          text        NOT NULL DEFAULT '',
    env                     jsonb       NOT NULL DEFAULT '[]',  -- [{"key": .., "value": ..}]
    port_bindings           text[]      NOT NULL DEFAULT '{}',
    binds                   text[]      NOT NULL DEFAULT '{}',
    network_mode            text        NOT NULL DEFAULT '',
    extra_hosts             text[]      NOT NULL DEFAULT '{}',
    cap_add                 text[]      NOT NULL DEFAULT '{}',
    cap_drop                text[]      NOT NULL DEFAULT '{}',
    privileged              boolean     NOT NULL DEFAULT false,
    read_only_rootfs        boolean     NOT NULL DEFAULT false,
    cpu_period              bigint,
    cpu_quota               bigint,
    cpu_realtime_period     bigint,
    cpu_realtime_runtime    bigint,
    memory                  bigint,
    memory_reservation      bigint,
    memory_swap             bigint,
    memory_swappiness       int,
    volume_driver           text        NOT NULL DEFAULT '',
    storage_opt             text[]      NOT NULL DEFAULT '{}',
    tmpfs                   text[]      NOT NULL DEFAULT '{}',
    inserted_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, release_id, position),
    FOREIGN KEY (tenant_id, release_id) REFERENCES releases (tenant_id, id) ON DELETE CASCADE,
    -- Same tenant by construction: the key includes tenant_id. Deleting
    -- credentials detaches containers first (store/image_credentials.py), so
    -- NO ACTION here catches any path that forgot to.
    FOREIGN KEY (tenant_id, image_credentials_id) REFERENCES image_credentials (tenant_id, id),
    CHECK (image_credentials_id IS NULL OR credentials_deleted_at IS NULL)
);
-- Image nodes are looked up by their own id (node(id:)).
CREATE UNIQUE INDEX containers_by_image ON containers (tenant_id, image_id);
CREATE INDEX containers_using_credentials
    ON containers (tenant_id, image_credentials_id, inserted_at, id)
    WHERE image_credentials_id IS NOT NULL;

-- A container may change in one way only: losing its deleted credentials.
CREATE FUNCTION containers_only_lose_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.image_credentials_id IS NOT NULL
       AND NEW.image_credentials_id IS NULL
       AND NEW.credentials_deleted_at IS NOT NULL
       AND (to_jsonb(NEW) - 'image_credentials_id' - 'credentials_deleted_at')
           = (to_jsonb(OLD) - 'image_credentials_id' - 'credentials_deleted_at') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'containers are immutable' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER containers_immutable
    BEFORE UPDATE ON containers
    FOR EACH ROW EXECUTE FUNCTION containers_only_lose_credentials();
