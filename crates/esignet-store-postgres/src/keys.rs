//! [`KeyStore`] on the `key_record` table.

use esignet_spi::{KeyRecord, KeyStore, StoreError};
use sqlx::postgres::PgRow;

use crate::codec::Columns;
use crate::{PostgresStore, database_error, unique_violation};

const TABLE: &str = "key_record";

/// The primary key's name in the migrations, which the database reports on a violation.
const PRIMARY_KEY: &str = "pk_key_record";

// Newest first by creation time; keys created in the same microsecond come newest-inserted
// first (`seq` is an identity column).
const LIST: &str = "SELECT kid, application, algorithm, encrypted_private_key, certificate_pem, \
     not_before, not_after, cr_dtimes FROM key_record WHERE application = $1 \
     ORDER BY cr_dtimes DESC, seq DESC";

const INSERT: &str = "INSERT INTO key_record (kid, application, algorithm, \
     encrypted_private_key, certificate_pem, not_before, not_after, cr_dtimes) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

#[async_trait::async_trait]
impl KeyStore for PostgresStore {
    async fn list_keys(&self, application: &str) -> Result<Vec<KeyRecord>, StoreError> {
        self.timed("list_keys", async {
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
        self.timed("insert_key", async {
            sqlx::query(INSERT)
                .bind(key.kid.as_str())
                .bind(key.application.as_str())
                .bind(key.algorithm.as_str())
                .bind(key.encrypted_private_key.as_slice())
                .bind(key.certificate_pem.as_str())
                .bind(key.not_before)
                .bind(key.not_after)
                .bind(key.created_at)
                .execute(&self.pool)
                .await
                .map_err(|error| match unique_violation(&error) {
                    Some(PRIMARY_KEY) => StoreError::Conflict("kid"),
                    _ => database_error("insert_key", error),
                })?;
            Ok(())
        })
        .await
    }
}

fn decode_key(row: &PgRow) -> Result<KeyRecord, StoreError> {
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
