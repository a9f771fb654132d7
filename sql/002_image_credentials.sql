-- Registry credentials. The password is stored only sealed (libsodium sealed
-- box to the server's public key); sealed_key_id names that key.
CREATE TABLE image_credentials (
    tenant_id        uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               uuid        NOT NULL,
    -- "C" collation: byte order, the same on every server, so sorts and
    -- cursors never depend on how a database was initialised.
    label            text        COLLATE "C" NOT NULL,
    username         text        COLLATE "C" NOT NULL,
    sealed_key_id    text        NOT NULL,
    sealed_password  bytea       NOT NULL,
    inserted_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    -- Labels are unique per tenant; this index also serves the LABEL sort.
    CONSTRAINT image_credentials_label_unique UNIQUE (tenant_id, label)
);

-- One index per sort the API offers, each ending in id, the keyset tie-break.
CREATE INDEX image_credentials_by_inserted_at ON image_credentials (tenant_id, inserted_at, id);
CREATE INDEX image_credentials_by_username ON image_credentials (tenant_id, username, id);

-- There is no update path: rotating means create new, repoint, delete old.
CREATE TRIGGER image_credentials_immutable
    BEFORE UPDATE ON image_credentials
    FOR EACH ROW EXECUTE FUNCTION forbid_update();
