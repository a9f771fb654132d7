-- Devices as Edgehog's UI shows them: presence, the interfaces a device
-- declares (its capabilities come from them), hardware types, system models
-- and tags. Every key carries tenant_id, so nothing can point across tenants.

-- Presence, from the device's own authenticated requests: devices/store.py
-- `id_for_token` records one in the token look-up itself, at most every
-- quarter of the online window (EDGEHOG_CREDS_DEVICE_ONLINE_SECONDS).
ALTER TABLE devices
    ADD COLUMN last_seen_at              timestamptz,  -- the last request recorded
    ADD COLUMN online_until              timestamptz,  -- last_seen_at + the window then in force
    ADD COLUMN streak_started_at         timestamptz,  -- first request of the current (or last) streak
    ADD COLUMN previous_streak_ended_at  timestamptz,  -- online_until of the streak before it
    ADD COLUMN introspection_reported_at timestamptz,  -- NULL: it never declared its interfaces
    ADD COLUMN system_model_id           uuid;
-- Presence updates touch no indexed column: room on each page lets them stay
-- heap-only (HOT), without new index entries.
ALTER TABLE devices SET (fillfactor = 80);

-- The device-token look-up, which records the request as the device's
-- presence when its last record is older than a quarter of the window: one
-- statement per device request, and a write only when one is due (a
-- function, so that the UPDATE is not even started when none is). A request
-- while the device is online extends its streak; one after that starts a new
-- streak, and records when the old one ended (when it stopped counting).
CREATE FUNCTION device_token_seen(p_tenant_id uuid, p_token_hash bytea, p_window float8)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    found_id uuid;
    seen_at  timestamptz;
BEGIN
    SELECT id, last_seen_at INTO found_id, seen_at
    FROM devices WHERE tenant_id = p_tenant_id AND token_hash = p_token_hash;
    IF found_id IS NOT NULL
       AND (seen_at IS NULL OR seen_at <= now() - p_window * interval '0.25 second') THEN
        UPDATE devices d SET
            last_seen_at = now(),
            online_until = now() + p_window * interval '1 second',
            streak_started_at =
                CASE WHEN d.online_until > now() THEN d.streak_started_at ELSE now() END,
            previous_streak_ended_at =
                CASE WHEN d.online_until > now() THEN d.previous_streak_ended_at
                     ELSE d.online_until END
        WHERE d.tenant_id = p_tenant_id AND d.id = found_id
          -- again: of concurrent requests, the first writes, the others
          -- (re-checking the row it wrote) do not.
          AND (d.last_seen_at IS NULL OR d.last_seen_at <= now() - p_window * interval '0.25 second');
    END IF;
    RETURN found_id;
END $$;

-- The interfaces a device declares (Astarte's introspection): name and version.
CREATE TABLE device_interfaces (
    tenant_id  uuid    NOT NULL,
    device_id  uuid    NOT NULL,
    name       text    COLLATE "C" NOT NULL,
    major      integer NOT NULL CHECK (major >= 0),
    minor      integer NOT NULL CHECK (minor >= 0),
    PRIMARY KEY (tenant_id, device_id, name),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE hardware_types (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    handle       text        COLLATE "C" NOT NULL,
    name         text        COLLATE "C" NOT NULL,
    inserted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT hardware_types_handle_unique UNIQUE (tenant_id, handle),
    CONSTRAINT hardware_types_name_unique UNIQUE (tenant_id, name)
);
CREATE INDEX hardware_types_by_inserted_at ON hardware_types (tenant_id, inserted_at, id);

-- A part number names one hardware type in its tenant (Edgehog's identity).
CREATE TABLE hardware_type_part_numbers (
    tenant_id         uuid        NOT NULL,
    id                uuid        NOT NULL DEFAULT gen_random_uuid(),
    hardware_type_id  uuid        NOT NULL,
    part_number       text        COLLATE "C" NOT NULL,
    inserted_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, hardware_type_id) REFERENCES hardware_types (tenant_id, id)
        ON DELETE CASCADE,
    CONSTRAINT hardware_type_part_numbers_unique UNIQUE (tenant_id, part_number)
);
CREATE INDEX hardware_type_part_numbers_of_type
    ON hardware_type_part_numbers (tenant_id, hardware_type_id, inserted_at, id);

CREATE TABLE system_models (
    tenant_id         uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                uuid        NOT NULL DEFAULT gen_random_uuid(),
    handle            text        COLLATE "C" NOT NULL,
    name              text        COLLATE "C" NOT NULL,
    picture_url       text,
    descriptions      jsonb       NOT NULL DEFAULT '{}',  -- language tag -> text
    hardware_type_id  uuid        NOT NULL,
    inserted_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    -- NO ACTION, as Edgehog: a hardware type in use cannot be deleted (the
    -- service says so first); checked at the end of the statement, so a
    -- tenant's cascade removes both.
    FOREIGN KEY (tenant_id, hardware_type_id) REFERENCES hardware_types (tenant_id, id),
    CONSTRAINT system_models_handle_unique UNIQUE (tenant_id, handle),
    CONSTRAINT system_models_name_unique UNIQUE (tenant_id, name)
);
CREATE INDEX system_models_by_inserted_at ON system_models (tenant_id, inserted_at, id);
CREATE INDEX system_models_of_hardware_type ON system_models (tenant_id, hardware_type_id);

CREATE TABLE system_model_part_numbers (
    tenant_id        uuid        NOT NULL,
    id               uuid        NOT NULL DEFAULT gen_random_uuid(),
    system_model_id  uuid        NOT NULL,
    part_number      text        COLLATE "C" NOT NULL,
    inserted_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, system_model_id) REFERENCES system_models (tenant_id, id)
        ON DELETE CASCADE,
    CONSTRAINT system_model_part_numbers_unique UNIQUE (tenant_id, part_number)
);
CREATE INDEX system_model_part_numbers_of_model
    ON system_model_part_numbers (tenant_id, system_model_id, inserted_at, id);

-- Deleting a system model leaves its devices without one. Only that column:
-- a plain SET NULL would null tenant_id too.
ALTER TABLE devices
    ADD CONSTRAINT devices_system_model_fk FOREIGN KEY (tenant_id, system_model_id)
        REFERENCES system_models (tenant_id, id) ON DELETE SET NULL (system_model_id);
CREATE INDEX devices_of_system_model ON devices (tenant_id, system_model_id)
    WHERE system_model_id IS NOT NULL;

-- Tags: names are trimmed and lower-cased (as Edgehog's), unique per tenant.
CREATE TABLE tags (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    name         text        COLLATE "C" NOT NULL,
    inserted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT tags_name_unique UNIQUE (tenant_id, name)
);

CREATE TABLE device_tags (
    tenant_id    uuid        NOT NULL,
    device_id    uuid        NOT NULL,
    tag_id       uuid        NOT NULL,
    inserted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, device_id, tag_id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, tag_id) REFERENCES tags (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX device_tags_by_tag ON device_tags (tenant_id, tag_id);

-- The tags of each device (Device.tags), and the tags some device carries
-- (existingDeviceTags): what devices/store.py lists.
CREATE VIEW device_tag_names AS
    SELECT dt.tenant_id, dt.device_id, t.id, t.name
    FROM device_tags dt JOIN tags t ON t.tenant_id = dt.tenant_id AND t.id = dt.tag_id;

CREATE VIEW tags_in_use AS
    SELECT t.tenant_id, t.id, t.name, t.inserted_at
    FROM tags t
    WHERE EXISTS (SELECT 1 FROM device_tags dt WHERE dt.tenant_id = t.tenant_id AND dt.tag_id = t.id);
