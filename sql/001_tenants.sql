-- A tenant is one Edgehog tenant: its slug is in every API path, and its
-- public key verifies the JWTs of its users.
CREATE TABLE tenants (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    slug            text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]+$'),
    jwt_public_key  text        NOT NULL,
    inserted_at     timestamptz NOT NULL DEFAULT now()
);

-- Rows that must never change once written raise instead of updating.
-- Credentials and releases are immutable: to change one, create a new one.
CREATE FUNCTION forbid_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
