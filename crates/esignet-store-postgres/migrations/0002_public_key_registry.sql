-- The public key registry of wallet key binding (eSignet's public_key_registry, reference §7.3),
-- with the same columns as the SQLite store's table and the conventions of 0001 (json kept as
-- written, timestamptz, unlimited text, named constraints). Residents appear only as
-- base64url(SHA3-256(individual id)).

CREATE TABLE public_key_registry (
    id_hash           text        NOT NULL,
    auth_factor       text        NOT NULL,
    psu_token         text        NOT NULL,
    public_key        json        NOT NULL,
    public_key_hash   text        NOT NULL,
    certificate       text        NOT NULL,
    thumbprint        text        NOT NULL,
    wallet_binding_id text        NOT NULL,
    expire_dtimes     timestamptz NOT NULL,
    cr_dtimes         timestamptz NOT NULL,
    -- Re-binding the same factor replaces the row (the store upserts on this constraint).
    CONSTRAINT pk_public_key_registry PRIMARY KEY (id_hash, auth_factor)
);

-- Not unique: one resident may bind the same key for several factors. The store refuses a key
-- already bound to a different subject inside the saving transaction, which holds a
-- transaction-level advisory lock on the key's hash so that two saves of one key cannot both
-- pass the check.
CREATE INDEX ix_public_key_registry_key ON public_key_registry (public_key_hash);

-- Wallet-login lookups: the WLA token names the certificate by its thumbprint.
CREATE INDEX ix_public_key_registry_thumbprint ON public_key_registry (id_hash, thumbprint);
