-- The audit trail written by the `postgres` audit sink (crate esignet-audit): one row per audited
-- action, append-only. No personal data: the resident appears only as
-- base64url(SHA3-256(individual id)), and `instance` names the host or instance, not a person.

CREATE TABLE audit_event (
    -- Assigned in insertion order, so `ORDER BY id` replays events as the instance recorded them.
    id                 bigint      GENERATED ALWAYS AS IDENTITY,
    at                 timestamptz NOT NULL,
    action             text        NOT NULL,
    status             text        NOT NULL,
    transaction_id     text,
    client_id          text,
    individual_id_hash text,
    error_code         text,
    instance           text        NOT NULL,
    CONSTRAINT pk_audit_event PRIMARY KEY (id),
    CONSTRAINT ck_audit_event_status CHECK (status IN ('SUCCESS', 'ERROR'))
);

-- Following one transaction, and purging or exporting by time range.
CREATE INDEX ix_audit_event_transaction ON audit_event (transaction_id, id);
CREATE INDEX ix_audit_event_at ON audit_event (at);

-- Append-only even for the role that owns the table and writes to it: a trigger refuses every
-- UPDATE, DELETE and TRUNCATE. (Only a superuser or the owner dropping the trigger gets around
-- it; operators who need more run the application as a role that does not own the table.)
CREATE FUNCTION audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER tr_audit_event_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();

CREATE TRIGGER tr_audit_event_no_truncate
    BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
