-- The public key registry of wallet key binding (eSignet's public_key_registry, reference §7.3).
-- Same conventions as 0001: JSON as TEXT, RFC 3339 UTC timestamps with nine fraction digits,
-- STRICT tables. Residents appear only as base64url(SHA3-256(individual id)).

CREATE TABLE public_key_registry (
    id_hash           TEXT NOT NULL,
    auth_factor       TEXT NOT NULL,
    psu_token         TEXT NOT NULL,
    public_key        TEXT NOT NULL CHECK (json_valid(public_key)),
    public_key_hash   TEXT NOT NULL,
    certificate       TEXT NOT NULL,
    thumbprint        TEXT NOT NULL,
    wallet_binding_id TEXT NOT NULL,
    expire_dtimes     TEXT NOT NULL,
    cr_dtimes         TEXT NOT NULL,
    -- Re-binding the same factor replaces the row.
    PRIMARY KEY (id_hash, auth_factor)
) STRICT;

-- Not unique: one resident may bind the same key for several factors; the store refuses (in
-- the saving transaction) a key already bound to a different subject.
CREATE INDEX ix_public_key_registry_key ON public_key_registry (public_key_hash);

-- Wallet-login lookups: the WLA token names the certificate by its thumbprint.
CREATE INDEX ix_public_key_registry_thumbprint ON public_key_registry (id_hash, thumbprint);
