//! [`KeyStore`] on the `key_record` table.

use esignet_spi::{KeyRecord, KeyStore, StoreError};
use sqlx::sqlite::SqliteRow;

use crate::codec::{Columns, encode_time};
use crate::{SqliteStore, database_error, timed, unique_violation};

const TABLE: &str = "key_record";

// Newest first by creation time; keys created in the same nanosecond come newest-inserted first.
const LIST: &str = "SELECT kid, application, algorithm, encrypted_private_key, certificate_pem, \
     not_before, not_after, cr_dtimes FROM key_record WHERE application = ?1 \
     ORDER BY cr_dtimes DESC, rowid DESC";

const INSERT: &str = "INSERT INTO key_record (kid, application, algorithm, \
     encrypted_private_key, certificate_pem, not_before, not_after, cr_dtimes) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

#[async_trait::async_trait]
impl KeyStore for SqliteStore {
    async fn list_keys(&self, application: &str) -> Result<Vec<KeyRecord>, StoreError> {
        timed("list_keys", async {
            let rows = sqlx::query(LIST)
                .bind(application)
                .fetch_all(&self.pool)
                .await
                .map_err(|error| database_error("list_keys", error))?;
            rows.iter().map(decode_key).collect()
        })
        .await
    }

    async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        let not_before = encode_time("not_before", key.not_before)?;
        let not_after = encode_time("not_after", key.not_after)?;
        let created_at = encode_time("cr_dtimes", key.created_at)?;
        timed("insert_key", async {
            let _writer = self.writer.lock().await;
            sqlx::query(INSERT)
                .bind(key.kid.as_str())
                .bind(key.application.as_str())
                .bind(key.algorithm.as_str())
                .bind(key.encrypted_private_key.as_slice())
                .bind(key.certificate_pem.as_str())
                .bind(not_before.as_str())
                .bind(not_after.as_str())
                .bind(created_at.as_str())
                .execute(&self.pool)
                .await
                .map_err(|error| match unique_violation(&error) {
                    Some(columns) if columns.contains("key_record.kid") => {
                        StoreError::Conflict("kid")
                    }
                    _ => database_error("insert_key", error),
                })?;
            Ok(())
        })
        .await
    }
}

fn decode_key(row: &SqliteRow) -> Result<KeyRecord, StoreError> {
    let columns = Columns::new(TABLE, row);
    Ok(KeyRecord {
        kid: columns.text("kid")?,
        application: columns.text("application")?,
        algorithm: columns.text("algorithm")?,
        encrypted_private_key: columns.bytes("encrypted_private_key")?,
        certificate_pem: columns.text("certificate_pem")?,
        not_before: columns.time("not_before")?,
        not_after: columns.time("not_after")?,
        created_at: columns.time("cr_dtimes")?,
    })
}
