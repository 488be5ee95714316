//! [`BindingStore`] on the `public_key_registry` table (wallet key binding).

use esignet_spi::{BindingStore, KeyBindingRecord, StoreError};
use sqlx::postgres::PgRow;

use crate::codec::Columns;
use crate::{PostgresStore, database_error};

const TABLE: &str = "public_key_registry";

/// The first key of the transaction-level advisory lock taken on a public key's hash while it
/// is saved; the second is the hash of `public_key_hash`. Two-key advisory locks live in a key
/// space of their own, apart from the one-key lock sqlx's migrator takes. The value only has to
/// differ from other two-key locks on the same database; this crate takes no other.
const KEY_LOCK_CLASS: i32 = 0x6b65_7972; // "keyr"

/// The binding columns as selected (`json` read as text).
macro_rules! select_columns {
    () => {
        "id_hash, auth_factor, psu_token, public_key::text AS public_key, public_key_hash, \
         certificate, thumbprint, wallet_binding_id, expire_dtimes, cr_dtimes"
    };
}

const SELECT_BY_FACTOR: &str = concat!(
    "SELECT ",
    select_columns!(),
    " FROM public_key_registry WHERE id_hash = $1 AND auth_factor = $2"
);

// A thumbprint is the hash of one certificate, so at most one row matches; LIMIT keeps the
// answer defined even for a damaged table.
const SELECT_BY_THUMBPRINT: &str = concat!(
    "SELECT ",
    select_columns!(),
    " FROM public_key_registry WHERE id_hash = $1 AND thumbprint = $2 LIMIT 1"
);

// Read committed, whatever the server's default: then every statement of the transaction reads
// a fresh snapshot, so SAVE (which starts after the key lock is granted) sees every binding of
// the key committed before. Under repeatable read the snapshot would date from the lock
// statement, taken before the lock was granted, and a concurrent save could go unseen.
const BEGIN: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";

// Every save of a key takes this lock first, so saves of one key run one after the other until
// commit; saves of different keys (whose hashes seldom collide) do not wait for each other.
const LOCK_KEY: &str = "SELECT pg_advisory_xact_lock($1, hashtext($2))";

// The duplicate-key check and the write in one statement: the row is written only if no binding
// of a different subject holds the same key (no row affected otherwise). Re-binding a factor
// replaces its row through the primary key.
const SAVE: &str = "INSERT INTO public_key_registry (id_hash, auth_factor, psu_token, \
     public_key, public_key_hash, certificate, thumbprint, wallet_binding_id, expire_dtimes, \
     cr_dtimes) \
     SELECT $1, $2, $3, $4::json, $5, $6, $7, $8, $9, $10 WHERE NOT EXISTS (SELECT 1 FROM \
     public_key_registry WHERE public_key_hash = $5 AND psu_token <> $3) \
     ON CONFLICT ON CONSTRAINT pk_public_key_registry DO UPDATE SET \
     psu_token = EXCLUDED.psu_token, public_key = EXCLUDED.public_key, \
     public_key_hash = EXCLUDED.public_key_hash, certificate = EXCLUDED.certificate, \
     thumbprint = EXCLUDED.thumbprint, wallet_binding_id = EXCLUDED.wallet_binding_id, \
     expire_dtimes = EXCLUDED.expire_dtimes, cr_dtimes = EXCLUDED.cr_dtimes";

#[async_trait::async_trait]
impl BindingStore for PostgresStore {
    async fn save_binding(&self, binding: &KeyBindingRecord) -> Result<(), StoreError> {
        // Checked here, as the SQLite store does, so invalid JSON is `Corrupt` rather than the
        // database's cast error (which would read as `Unavailable`).
        if serde_json::from_str::<serde_json::Value>(&binding.public_key).is_err() {
            return Err(StoreError::Corrupt(format!(
                "{TABLE}.public_key: not valid JSON"
            )));
        }
        // Dropping the transaction on a failure or timeout rolls it back and releases the lock.
        self.timed("save_binding", async {
            let fail = |error| database_error("save_binding", error);
            let mut transaction = self.pool.begin_with(BEGIN).await.map_err(fail)?;
            sqlx::query(LOCK_KEY)
                .bind(KEY_LOCK_CLASS)
                .bind(binding.public_key_hash.as_str())
                .execute(&mut *transaction)
                .await
                .map_err(fail)?;
            let written = sqlx::query(SAVE)
                .bind(binding.id_hash.as_str())
                .bind(binding.auth_factor.as_str())
                .bind(binding.psu_token.as_str())
                .bind(binding.public_key.as_str())
                .bind(binding.public_key_hash.as_str())
                .bind(binding.certificate.as_str())
                .bind(binding.thumbprint.as_str())
                .bind(binding.wallet_binding_id.as_str())
                .bind(binding.expires_at)
                .bind(binding.created_at)
                .execute(&mut *transaction)
                .await
                .map_err(fail)?;
            if written.rows_affected() == 0 {
                // Nothing was written; the rollback on drop only releases the lock.
                return Err(StoreError::Conflict("public_key"));
            }
            transaction.commit().await.map_err(fail)
        })
        .await
    }

    async fn get_binding(
        &self,
        id_hash: &str,
        auth_factor: &str,
    ) -> Result<Option<KeyBindingRecord>, StoreError> {
        self.timed("get_binding", async {
            let row = sqlx::query(SELECT_BY_FACTOR)
                .bind(id_hash)
                .bind(auth_factor)
                .fetch_optional(&self.pool)
                .await
                .map_err(|error| database_error("get_binding", error))?;
            row.as_ref().map(decode_binding).transpose()
        })
        .await
    }

    async fn find_binding_by_thumbprint(
        &self,
        id_hash: &str,
        thumbprint: &str,
    ) -> Result<Option<KeyBindingRecord>, StoreError> {
        self.timed("find_binding_by_thumbprint", async {
            let row = sqlx::query(SELECT_BY_THUMBPRINT)
                .bind(id_hash)
                .bind(thumbprint)
                .fetch_optional(&self.pool)
                .await
                .map_err(|error| database_error("find_binding_by_thumbprint", error))?;
            row.as_ref().map(decode_binding).transpose()
        })
        .await
    }
}

fn decode_binding(row: &PgRow) -> Result<KeyBindingRecord, StoreError> {
    let columns = Columns::new(TABLE, row);
    Ok(KeyBindingRecord {
        id_hash: columns.text("id_hash")?,
        auth_factor: columns.text("auth_factor")?,
        psu_token: columns.text("psu_token")?,
        public_key: columns.text("public_key")?,
        public_key_hash: columns.text("public_key_hash")?,
        certificate: columns.text("certificate")?,
        thumbprint: columns.text("thumbprint")?,
        wallet_binding_id: columns.text("wallet_binding_id")?,
        expires_at: columns.time("expire_dtimes")?,
        created_at: columns.time("cr_dtimes")?,
    })
}
