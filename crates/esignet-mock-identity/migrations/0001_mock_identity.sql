-- Schema of the mock identity system's own database (mock-identity.db), modelled on the Java
-- mock's `mockidentitysystem` schema. Signing keys live in a separate file (mock-identity-keys.db)
-- managed by esignet-store-sqlite, because two sqlx migrators cannot share one file's
-- `_sqlx_migrations` table.
--
-- Conventions (those of esignet-store-sqlite): JSON as TEXT checked with json_valid, timestamps
-- as RFC 3339 UTC text, STRICT tables.

-- One JSON document per identity, in the Java mock's shape, password hashed, without nulls.
CREATE TABLE mock_identity (
    individual_id TEXT NOT NULL PRIMARY KEY,
    identity_json TEXT NOT NULL CHECK (json_valid(identity_json)),
    cr_dtimes     TEXT NOT NULL,
    upd_dtimes    TEXT
) STRICT;

-- Identity-assurance metadata, one row per (individual, trust framework, identity field).
-- id = SHA3-256-B64U(individualId + lower(trust_framework) + field), so adding the same
-- verification again updates the row. `claim` is the OpenID claim the field feeds (`address` for
-- every address member); `field` is kept as well so that KYC can release member by member.
CREATE TABLE verified_claim (
    id              TEXT NOT NULL PRIMARY KEY,
    individual_id   TEXT NOT NULL REFERENCES mock_identity (individual_id),
    field           TEXT NOT NULL,
    claim           TEXT NOT NULL,
    trust_framework TEXT NOT NULL,
    detail          TEXT NOT NULL CHECK (json_valid(detail)),
    is_active       INTEGER NOT NULL CHECK (is_active IN (0, 1)),
    cr_by           TEXT NOT NULL,
    cr_dtimes       TEXT NOT NULL,
    upd_by          TEXT,
    upd_dtimes      TEXT
) STRICT;

CREATE INDEX ix_verified_claim_individual ON verified_claim (individual_id);

-- Relying parties' public keys for encrypted (JWE) KYC, keyed like the Java mock.
CREATE TABLE partner_data (
    partner_id TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    public_key TEXT NOT NULL CHECK (json_valid(public_key)),
    status     TEXT NOT NULL,
    cr_dtimes  TEXT NOT NULL,
    upd_dtimes TEXT,
    PRIMARY KEY (partner_id, client_id)
) STRICT;
