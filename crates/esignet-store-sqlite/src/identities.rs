//! The `registered_identity` table: identities registered at runtime with the built-in mock
//! identity system, one JSON document each. The documents are opaque here (the mock's model
//! lives in `esignet-mock-authenticator`, which adapts these methods to its records seam).

use esignet_spi::StoreError;
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::codec::encode_time;
use crate::{SqliteStore, database_error, timed, unique_violation};

impl SqliteStore {
    /// Every registered identity document, in individual-id order.
    ///
    /// # Errors
    ///
    /// `Unavailable` when the database fails, `Corrupt` for an undecodable row.
    pub async fn registered_identities(&self) -> Result<Vec<String>, StoreError> {
        timed("registered_identities", async {
            let rows =
                sqlx::query("SELECT identity_json FROM registered_identity ORDER BY individual_id")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|error| database_error("registered_identities", error))?;
            rows.iter()
                .map(|row| {
                    row.try_get::<String, _>("identity_json")
                        .map_err(|error| database_error("registered_identities", error))
                })
                .collect()
        })
        .await
    }

    /// Stores a new identity document.
    ///
    /// # Errors
    ///
    /// `Conflict("individual_id")` when the individual id is already stored (nothing is
    /// written); `Corrupt` when `document` is not JSON; `Unavailable` when the database fails.
    pub async fn insert_registered_identity(
        &self,
        individual_id: &str,
        document: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        check_json(document)?;
        let now = encode_time("cr_dtimes", now)?;
        timed("insert_registered_identity", async {
            let _writer = self.writer.lock().await;
            sqlx::query(
                "INSERT INTO registered_identity (individual_id, identity_json, cr_dtimes) \
                 VALUES (?1, ?2, ?3)",
            )
            .bind(individual_id)
            .bind(document)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(|error| {
                if unique_violation(&error).is_some() {
                    StoreError::Conflict("individual_id")
                } else {
                    database_error("insert_registered_identity", error)
                }
            })?;
            Ok(())
        })
        .await
    }

    /// Stores an identity document, replacing the stored one of the same individual id (its
    /// creation time is kept).
    ///
    /// # Errors
    ///
    /// `Corrupt` when `document` is not JSON; `Unavailable` when the database fails.
    pub async fn save_registered_identity(
        &self,
        individual_id: &str,
        document: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        check_json(document)?;
        let now = encode_time("upd_dtimes", now)?;
        timed("save_registered_identity", async {
            let _writer = self.writer.lock().await;
            sqlx::query(
                "INSERT INTO registered_identity (individual_id, identity_json, cr_dtimes) \
                 VALUES (?1, ?2, ?3) ON CONFLICT (individual_id) DO UPDATE SET \
                 identity_json = excluded.identity_json, upd_dtimes = excluded.cr_dtimes",
            )
            .bind(individual_id)
            .bind(document)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(|error| database_error("save_registered_identity", error))?;
            Ok(())
        })
        .await
    }
}

fn check_json(document: &str) -> Result<(), StoreError> {
    serde_json::from_str::<serde_json::Value>(document)
        .map(|_| ())
        .map_err(|_| {
            StoreError::Corrupt("registered_identity.identity_json: not valid JSON".into())
        })
}
