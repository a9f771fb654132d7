-- Containers become resources of their own, as in Edgehog: created once
-- (Containers -> New), named, and then referenced by releases. Their image is
-- a resource too (one per reference and credentials), and a release lists
-- its containers through release_containers. Existing rows are carried over:
-- every container keeps its id, its image id and its place in its release.

-- Images: what a device pulls, with the credentials it pulls it with.
-- Unique per tenant by (reference, credentials), as Edgehog's identity;
-- public images (no credentials, none lost) by reference alone.
CREATE TABLE images (
    tenant_id               uuid        NOT NULL,
    id                      uuid        NOT NULL DEFAULT gen_random_uuid(),
    reference               text        NOT NULL,  -- exactly as written: what the device pulls
    image_credentials_id    uuid,                  -- NULL: a public image, or see below
    credentials_deleted_at  timestamptz,           -- set when its credentials were deleted
    inserted_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    -- Deleting credentials detaches images first (credentials/service.py);
    -- NO ACTION here catches any path that forgot to. Deferred, like the
    -- other keys below that guard a row in use, because a tenant's removal
    -- cascades through both tables and checks each cascade on its own.
    FOREIGN KEY (tenant_id, image_credentials_id) REFERENCES image_credentials (tenant_id, id)
        DEFERRABLE INITIALLY DEFERRED,
    CHECK (image_credentials_id IS NULL OR credentials_deleted_at IS NULL)
);
CREATE UNIQUE INDEX images_by_reference_and_credentials
    ON images (tenant_id, reference, image_credentials_id)
    WHERE image_credentials_id IS NOT NULL;
CREATE UNIQUE INDEX images_public_by_reference
    ON images (tenant_id, reference)
    WHERE image_credentials_id IS NULL AND credentials_deleted_at IS NULL;
CREATE INDEX images_using_credentials
    ON images (tenant_id, image_credentials_id)
    WHERE image_credentials_id IS NOT NULL;

-- One image per (reference, credentials) of the existing containers, keeping
-- the image id of the oldest; containers that lost their credentials keep an
-- image of their own (it says so).
INSERT INTO images (tenant_id, id, reference, image_credentials_id, credentials_deleted_at, inserted_at)
SELECT DISTINCT ON (tenant_id, image_reference, image_credentials_id,
                    CASE WHEN credentials_deleted_at IS NULL THEN NULL ELSE id END)
       tenant_id, image_id, image_reference, image_credentials_id, credentials_deleted_at, inserted_at
FROM containers
ORDER BY tenant_id, image_reference, image_credentials_id,
         CASE WHEN credentials_deleted_at IS NULL THEN NULL ELSE id END, inserted_at, id;

UPDATE containers c SET image_id = i.id
FROM images i
WHERE i.tenant_id = c.tenant_id
  AND i.reference = c.image_reference
  AND i.image_credentials_id IS NOT DISTINCT FROM c.image_credentials_id
  AND (c.credentials_deleted_at IS NULL) = (i.credentials_deleted_at IS NULL)
  AND (c.credentials_deleted_at IS NULL OR i.id = c.image_id)
  AND c.image_id <> i.id;

-- A release lists containers by id, in order; a container may be in several.
CREATE TABLE release_containers (
    tenant_id     uuid NOT NULL,
    release_id    uuid NOT NULL,
    container_id  uuid NOT NULL,
    position      int  NOT NULL,  -- from 0, in the order the release lists them
    PRIMARY KEY (tenant_id, release_id, container_id),
    UNIQUE (tenant_id, release_id, position),
    FOREIGN KEY (tenant_id, release_id) REFERENCES releases (tenant_id, id) ON DELETE CASCADE,
    -- A container in a release cannot be deleted (no API deletes containers;
    -- a tenant's removal takes both).
    FOREIGN KEY (tenant_id, container_id) REFERENCES containers (tenant_id, id)
        DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX release_containers_of_container ON release_containers (tenant_id, container_id);

INSERT INTO release_containers (tenant_id, release_id, container_id, position)
SELECT tenant_id, release_id, id, position FROM containers;

-- Which container of a release must start before which (Edgehog's
-- containerDependencies); both are containers of that release.
CREATE TABLE release_container_dependencies (
    tenant_id      uuid NOT NULL,
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    release_id     uuid NOT NULL,
    container_id   uuid NOT NULL,
    dependency_id  uuid NOT NULL,
    PRIMARY KEY (tenant_id, release_id, container_id, dependency_id),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, release_id, container_id)
        REFERENCES release_containers (tenant_id, release_id, container_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, release_id, dependency_id)
        REFERENCES release_containers (tenant_id, release_id, container_id) ON DELETE CASCADE,
    CHECK (container_id <> dependency_id)
);

-- The containers table: a name of its own, its image by id, no release.
DROP TRIGGER containers_immutable ON containers;
DROP FUNCTION containers_only_lose_credentials();
DROP INDEX containers_using_credentials;
DROP INDEX containers_by_image;

ALTER TABLE containers ADD COLUMN name text COLLATE "C";
-- Existing containers are named after their release and place, which is
-- unique; a new container gets the name its creator gives it.
UPDATE containers c SET name = a.name || '-' || r.version || '-' || c.position
FROM releases r JOIN applications a ON a.tenant_id = r.tenant_id AND a.id = r.application_id
WHERE r.tenant_id = c.tenant_id AND r.id = c.release_id;
ALTER TABLE containers ALTER COLUMN name SET NOT NULL;
ALTER TABLE containers ADD CONSTRAINT containers_name_unique UNIQUE (tenant_id, name);

-- Restart policies as Edgehog's API spells them (its UI matches "on_failure");
-- a device still gets Docker's "on-failure" (deployments/payload.py).
UPDATE containers SET restart_policy = replace(restart_policy, '-', '_')
WHERE restart_policy LIKE '%-%';
-- Unset network mode is "bridge" (Edgehog's default, and Docker's).
UPDATE containers SET network_mode = 'bridge' WHERE network_mode = '';
ALTER TABLE containers ALTER COLUMN network_mode SET DEFAULT 'bridge';
ALTER TABLE containers ADD CONSTRAINT containers_tenant_fkey
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;

ALTER TABLE containers DROP COLUMN release_id;  -- its unique (tenant, release, position) goes with it
ALTER TABLE containers DROP COLUMN position;
ALTER TABLE containers DROP COLUMN image_reference;
ALTER TABLE containers DROP COLUMN image_credentials_id;
ALTER TABLE containers DROP COLUMN credentials_deleted_at;
ALTER TABLE containers ALTER COLUMN image_id DROP DEFAULT;
ALTER TABLE containers ADD CONSTRAINT containers_image_fkey
    FOREIGN KEY (tenant_id, image_id) REFERENCES images (tenant_id, id)
    DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX containers_of_image ON containers (tenant_id, image_id);
CREATE INDEX containers_by_inserted_at ON containers (tenant_id, inserted_at, id);
CREATE INDEX containers_by_name ON containers (tenant_id, name, id);

-- A container's settings never change; its name may (Edgehog's updateContainer).
CREATE FUNCTION containers_only_rename() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (to_jsonb(NEW) - 'name') = (to_jsonb(OLD) - 'name') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'containers are immutable but for their name' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER containers_immutable
    BEFORE UPDATE ON containers
    FOR EACH ROW EXECUTE FUNCTION containers_only_rename();

-- An image never changes but to lose credentials that were deleted.
CREATE FUNCTION images_only_lose_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.image_credentials_id IS NOT NULL
       AND NEW.image_credentials_id IS NULL
       AND NEW.credentials_deleted_at IS NOT NULL
       AND (to_jsonb(NEW) - 'image_credentials_id' - 'credentials_deleted_at')
           = (to_jsonb(OLD) - 'image_credentials_id' - 'credentials_deleted_at') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'images are immutable' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER images_immutable
    BEFORE UPDATE ON images
    FOR EACH ROW EXECUTE FUNCTION images_only_lose_credentials();

-- Device mappings and device requests belong to one container and go with it.
CREATE TABLE device_mappings (
    tenant_id           uuid NOT NULL,
    id                  uuid NOT NULL DEFAULT gen_random_uuid(),
    container_id        uuid NOT NULL,
    position            int  NOT NULL,
    path_on_host        text NOT NULL,
    path_in_container   text NOT NULL,
    cgroup_permissions  text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, container_id, position),
    FOREIGN KEY (tenant_id, container_id) REFERENCES containers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE device_requests (
    tenant_id     uuid   NOT NULL,
    id            uuid   NOT NULL DEFAULT gen_random_uuid(),
    container_id  uuid   NOT NULL,
    position      int    NOT NULL,
    driver        text   NOT NULL DEFAULT '',
    count         bigint NOT NULL DEFAULT 0,
    device_ids    text[] NOT NULL DEFAULT '{}',
    capabilities  jsonb  NOT NULL DEFAULT '[]',  -- [[capability, ...], ...]: OR of ANDs
    options       jsonb  NOT NULL DEFAULT '{}',  -- {key: value}, strings
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, container_id, position),
    FOREIGN KEY (tenant_id, container_id) REFERENCES containers (tenant_id, id) ON DELETE CASCADE
);

CREATE TRIGGER device_mappings_immutable
    BEFORE UPDATE ON device_mappings
    FOR EACH ROW EXECUTE FUNCTION forbid_update();
CREATE TRIGGER device_requests_immutable
    BEFORE UPDATE ON device_requests
    FOR EACH ROW EXECUTE FUNCTION forbid_update();
CREATE TRIGGER release_containers_immutable
    BEFORE UPDATE ON release_containers
    FOR EACH ROW EXECUTE FUNCTION forbid_update();
CREATE TRIGGER release_container_dependencies_immutable
    BEFORE UPDATE ON release_container_dependencies
    FOR EACH ROW EXECUTE FUNCTION forbid_update();
