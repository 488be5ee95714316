-- Identities residents registered themselves (signup) with the built-in mock identity system,
-- and demo personas once changed (password reset, verified claims). One JSON document per
-- individual: the mock's identity model, the password only as a salted slow hash. Same
-- conventions as 0001: JSON as TEXT, RFC 3339 UTC timestamps with nine fraction digits, STRICT.

CREATE TABLE registered_identity (
    individual_id TEXT NOT NULL PRIMARY KEY,
    identity_json TEXT NOT NULL CHECK (json_valid(identity_json)),
    cr_dtimes     TEXT NOT NULL,
    upd_dtimes    TEXT
) STRICT;
