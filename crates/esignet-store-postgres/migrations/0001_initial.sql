-- Initial schema of the PostgreSQL store, modelled on eSignet's (client_detail, consent_detail,
-- consent_history) plus one table for the service's own signing keys. It mirrors the SQLite
-- store's schema so that both backends accept and return the same records.
--
-- Conventions, kept by every table:
-- * JSON documents and lists are `json`: validated on write and kept exactly as written (key
--   order included, unlike `jsonb`), so a record reads back as it was saved.
-- * Timestamps are `timestamptz` (UTC instants, microsecond precision).
-- * Text is `text` without length limits: limits are the service's to check, and the same for
--   every backend.
-- * Constraints are named: the store tells uniqueness rules apart by the name the database
--   reports (pk_client_detail -> client_id, ux_client_detail_public_key_hash -> public_key,
--   pk_key_record -> kid). Renaming one is a code change.

CREATE TABLE client_detail (
    id                text        NOT NULL,
    name              json        NOT NULL,
    rp_id             text        NOT NULL,
    logo_uri          text        NOT NULL,
    redirect_uris     json        NOT NULL,
    claims            json        NOT NULL,
    acr_values        json        NOT NULL,
    public_key        json        NOT NULL,
    -- base64url(SHA-256) over the key's identifying fields; one key belongs to one client.
    public_key_hash   text        NOT NULL,
    enc_public_key    json,
    grant_types       json        NOT NULL,
    auth_methods      json        NOT NULL,
    status            text        NOT NULL,
    additional_config json,
    cr_dtimes         timestamptz NOT NULL,
    upd_dtimes        timestamptz,
    CONSTRAINT pk_client_detail PRIMARY KEY (id),
    CONSTRAINT ux_client_detail_public_key_hash UNIQUE (public_key_hash),
    CONSTRAINT ck_client_detail_status CHECK (status IN ('ACTIVE', 'INACTIVE'))
);

-- The current consent of each (client, subject). Saving replaces the row.
-- accepted_claims and permitted_scopes are JSON arrays rather than eSignet's comma-joined text,
-- so that an empty list and a list of one empty name stay distinct.
CREATE TABLE consent_detail (
    client_id            text        NOT NULL,
    psu_token            text        NOT NULL,
    id                   text        NOT NULL,
    claims               json        NOT NULL,
    authorization_scopes json        NOT NULL,
    cr_dtimes            timestamptz NOT NULL,
    expire_dtimes        timestamptz,
    signature            text,
    hash                 text        NOT NULL,
    accepted_claims      json        NOT NULL,
    permitted_scopes     json        NOT NULL,
    CONSTRAINT pk_consent_detail PRIMARY KEY (client_id, psu_token)
);

-- Every consent ever saved, append-only, same columns; seq records the order of saves.
CREATE TABLE consent_history (
    seq                  bigint      GENERATED ALWAYS AS IDENTITY,
    client_id            text        NOT NULL,
    psu_token            text        NOT NULL,
    id                   text        NOT NULL,
    claims               json        NOT NULL,
    authorization_scopes json        NOT NULL,
    cr_dtimes            timestamptz NOT NULL,
    expire_dtimes        timestamptz,
    signature            text,
    hash                 text        NOT NULL,
    accepted_claims      json        NOT NULL,
    permitted_scopes     json        NOT NULL,
    CONSTRAINT pk_consent_history PRIMARY KEY (seq)
);

CREATE INDEX ix_consent_history_subject ON consent_history (client_id, psu_token, seq);

-- Key material of every key application; the private key is encrypted before it gets here.
-- seq breaks ties between keys created in the same microsecond (newest inserted first).
CREATE TABLE key_record (
    kid                   text        NOT NULL,
    application           text        NOT NULL,
    algorithm             text        NOT NULL,
    encrypted_private_key bytea       NOT NULL,
    certificate_pem       text        NOT NULL,
    not_before            timestamptz NOT NULL,
    not_after             timestamptz NOT NULL,
    cr_dtimes             timestamptz NOT NULL,
    seq                   bigint      GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT pk_key_record PRIMARY KEY (kid)
);

CREATE INDEX ix_key_record_application ON key_record (application, cr_dtimes DESC, seq DESC);
