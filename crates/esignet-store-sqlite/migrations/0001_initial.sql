-- Initial schema of the embedded store, modelled on eSignet's PostgreSQL schema (client_detail,
-- consent_detail, consent_history) plus one table for the service's own signing keys.
--
-- Conventions, kept by every table:
-- * JSON documents and lists are TEXT holding JSON (checked with json_valid).
-- * Timestamps are TEXT in RFC 3339, always UTC with nine fractional digits
--   (2025-01-02T03:04:05.123456789Z), so that text order is time order.
-- * Tables are STRICT: a value of the wrong type is refused on write, not discovered on read.

CREATE TABLE client_detail (
    id                TEXT NOT NULL PRIMARY KEY,
    name              TEXT NOT NULL CHECK (json_valid(name)),
    rp_id             TEXT NOT NULL,
    logo_uri          TEXT NOT NULL,
    redirect_uris     TEXT NOT NULL CHECK (json_valid(redirect_uris)),
    claims            TEXT NOT NULL CHECK (json_valid(claims)),
    acr_values        TEXT NOT NULL CHECK (json_valid(acr_values)),
    public_key        TEXT NOT NULL CHECK (json_valid(public_key)),
    -- base64url(SHA-256) over the key's identifying fields; one key belongs to one client.
    public_key_hash   TEXT NOT NULL,
    enc_public_key    TEXT CHECK (enc_public_key IS NULL OR json_valid(enc_public_key)),
    grant_types       TEXT NOT NULL CHECK (json_valid(grant_types)),
    auth_methods      TEXT NOT NULL CHECK (json_valid(auth_methods)),
    status            TEXT NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE')),
    additional_config TEXT CHECK (additional_config IS NULL OR json_valid(additional_config)),
    cr_dtimes         TEXT NOT NULL,
    upd_dtimes        TEXT
) STRICT;

CREATE UNIQUE INDEX ux_client_detail_public_key_hash ON client_detail (public_key_hash);

-- The current consent of each (client, subject). Saving replaces the row.
-- accepted_claims and permitted_scopes are JSON arrays rather than eSignet's comma-joined text,
-- so that an empty list and a list of one empty name stay distinct.
CREATE TABLE consent_detail (
    client_id            TEXT NOT NULL,
    psu_token            TEXT NOT NULL,
    id                   TEXT NOT NULL,
    claims               TEXT NOT NULL CHECK (json_valid(claims)),
    authorization_scopes TEXT NOT NULL CHECK (json_valid(authorization_scopes)),
    cr_dtimes            TEXT NOT NULL,
    expire_dtimes        TEXT,
    signature            TEXT,
    hash                 TEXT NOT NULL,
    accepted_claims      TEXT NOT NULL CHECK (json_valid(accepted_claims)),
    permitted_scopes     TEXT NOT NULL CHECK (json_valid(permitted_scopes)),
    PRIMARY KEY (client_id, psu_token)
) STRICT;

-- Every consent ever saved, append-only, same columns; seq records the order of saves.
CREATE TABLE consent_history (
    seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id            TEXT NOT NULL,
    psu_token            TEXT NOT NULL,
    id                   TEXT NOT NULL,
    claims               TEXT NOT NULL CHECK (json_valid(claims)),
    authorization_scopes TEXT NOT NULL CHECK (json_valid(authorization_scopes)),
    cr_dtimes            TEXT NOT NULL,
    expire_dtimes        TEXT,
    signature            TEXT,
    hash                 TEXT NOT NULL,
    accepted_claims      TEXT NOT NULL CHECK (json_valid(accepted_claims)),
    permitted_scopes     TEXT NOT NULL CHECK (json_valid(permitted_scopes))
) STRICT;

CREATE INDEX ix_consent_history_subject ON consent_history (client_id, psu_token, seq);

-- Key material of every key application; the private key is encrypted before it gets here.
CREATE TABLE key_record (
    kid                   TEXT NOT NULL PRIMARY KEY,
    application           TEXT NOT NULL,
    algorithm             TEXT NOT NULL,
    encrypted_private_key BLOB NOT NULL,
    certificate_pem       TEXT NOT NULL,
    not_before            TEXT NOT NULL,
    not_after             TEXT NOT NULL,
    cr_dtimes             TEXT NOT NULL
) STRICT;

CREATE INDEX ix_key_record_application ON key_record (application, cr_dtimes DESC);
