//! [`BindingStore`] on the `public_key_registry` table (wallet key binding).

use esignet_spi::{BindingStore, KeyBindingRecord, StoreError};
use sqlx::sqlite::SqliteRow;

use crate::codec::{Columns, encode_time};
use crate::{SqliteStore, database_error, timed};

const TABLE: &str = "public_key_registry";

macro_rules! binding_columns {
    () => {
        "id_hash, auth_factor, psu_token, public_key, public_key_hash, certificate, thumbprint, \
         wallet_binding_id, expire_dtimes, cr_dtimes"
    };
}

const SELECT_BY_FACTOR: &str = concat!(
    "SELECT ",
    binding_columns!(),
    " FROM public_key_registry WHERE id_hash = ?1 AND auth_factor = ?2"
);

// A thumbprint is the hash of one certificate, so at most one row matches; LIMIT keeps the
// answer defined even for a damaged table.
const SELECT_BY_THUMBPRINT: &str = concat!(
    "SELECT ",
    binding_columns!(),
    " FROM public_key_registry WHERE id_hash = ?1 AND thumbprint = ?2 LIMIT 1"
);

// One statement, so the duplicate-key check and the write are atomic: the row is written only
// if no binding of a different subject holds the same key. The primary key is
// (id_hash, auth_factor), so REPLACE drops the factor's previous binding (re-binding).
const SAVE: &str = concat!(
    "INSERT OR REPLACE INTO public_key_registry (",
    binding_columns!(),
    ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 WHERE NOT EXISTS (SELECT 1 FROM \
     public_key_registry WHERE public_key_hash = ?5 AND psu_token <> ?3)"
);

#[async_trait::async_trait]
impl BindingStore for SqliteStore {
    async fn save_binding(&self, binding: &KeyBindingRecord) -> Result<(), StoreError> {
        let expires_at = encode_time("expire_dtimes", binding.expires_at)?;
        let created_at = encode_time("cr_dtimes", binding.created_at)?;
        if serde_json::from_str::<serde_json::Value>(&binding.public_key).is_err() {
            return Err(StoreError::Corrupt(format!(
                "{TABLE}.public_key: not valid JSON"
            )));
        }
        timed("save_binding", async {
            let _writer = self.writer.lock().await;
            let written = sqlx::query(SAVE)
                .bind(binding.id_hash.as_str())
                .bind(binding.auth_factor.as_str())
                .bind(binding.psu_token.as_str())
                .bind(binding.public_key.as_str())
                .bind(binding.public_key_hash.as_str())
                .bind(binding.certificate.as_str())
                .bind(binding.thumbprint.as_str())
                .bind(binding.wallet_binding_id.as_str())
                .bind(expires_at.as_str())
                .bind(created_at.as_str())
                .execute(&self.pool)
                .await
                .map_err(|error| database_error("save_binding", error))?;
            if written.rows_affected() == 0 {
                return Err(StoreError::Conflict("public_key"));
            }
            Ok(())
        })
        .await
    }

    async fn get_binding(
        &self,
        id_hash: &str,
        auth_factor: &str,
    ) -> Result<Option<KeyBindingRecord>, StoreError> {
        timed("get_binding", async {
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
        timed("find_binding_by_thumbprint", async {
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

fn decode_binding(row: &SqliteRow) -> Result<KeyBindingRecord, StoreError> {
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
