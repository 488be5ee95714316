//! The mock identity system's own SQLite database (`mock-identity.db`): identities, verified
//! claims and partner keys, with the conventions of `esignet-store-sqlite` (WAL, `synchronous =
//! FULL`, a busy timeout, every operation under a deadline, errors that name operations and
//! tables but never values).

use std::future::Future;
use std::path::Path;

use esignet_spi::StoreError;
use esignet_store_sqlite::{BUSY_TIMEOUT, MAX_CONNECTIONS, OPERATION_TIMEOUT};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row as _, SqlitePool};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Who the verified-claim rows are recorded as created by (the Java mock's `cr_by`).
const CREATED_BY: &str = "mock-user";

/// One identity-assurance row: one field of one identity, verified under one trust framework.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifiedClaimRow {
    /// SHA3-256-B64U(individualId + lower(trust_framework) + field).
    pub id: String,
    /// The identity field (`fullName`, `locality`, ...).
    pub field: String,
    /// The top-level OpenID claim the field feeds (`name`, `address`, ...).
    pub claim: String,
    /// The verification's `trust_framework`.
    pub trust_framework: String,
    /// The verification metadata, JSON text.
    pub detail: String,
    /// Inactive rows are kept but never reported or released.
    pub active: bool,
}

/// A relying party's registered encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartnerKey {
    /// The public JWK, JSON text.
    pub public_key: String,
    /// `ACTIVE` or anything else (then unused).
    pub status: String,
}

/// The database. Cheap to clone: clones share the pool.
#[derive(Debug, Clone)]
pub(crate) struct IdentityStore {
    pool: SqlitePool,
}

impl IdentityStore {
    /// Opens (creating it and its directory if missing) the database at `path` and brings its
    /// schema up to date with this crate's `migrations/`.
    pub(crate) async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            tokio::fs::create_dir_all(parent).await.map_err(|error| {
                StoreError::Unavailable(format!("cannot create the database directory: {error}"))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(OPERATION_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|error| database_error("open", error))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|error| {
                tracing::error!(%error, "mock identity database migration failed");
                StoreError::Unavailable(format!("schema migration failed: {error}"))
            })?;
        Ok(Self { pool })
    }

    /// Whether the database answers.
    pub(crate) async fn ping(&self) -> bool {
        timed("ping", async {
            sqlx::query("SELECT 1")
                .execute(&self.pool)
                .await
                .map_err(|error| database_error("ping", error))
        })
        .await
        .is_ok()
    }

    /// Inserts a new identity; `Conflict("individual_id")` if the id exists.
    pub(crate) async fn insert_identity(
        &self,
        individual_id: &str,
        identity_json: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let now = encode_time(now)?;
        timed("insert_identity", async {
            sqlx::query(
                "INSERT INTO mock_identity (individual_id, identity_json, cr_dtimes) \
                 VALUES (?1, ?2, ?3)",
            )
            .bind(individual_id)
            .bind(identity_json)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(|error| {
                if is_unique_violation(&error) {
                    StoreError::Conflict("individual_id")
                } else {
                    database_error("insert_identity", error)
                }
            })?;
            Ok(())
        })
        .await
    }

    /// The stored identity document, if any.
    pub(crate) async fn identity_json(
        &self,
        individual_id: &str,
    ) -> Result<Option<String>, StoreError> {
        timed("identity_json", async {
            let row =
                sqlx::query("SELECT identity_json FROM mock_identity WHERE individual_id = ?1")
                    .bind(individual_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|error| database_error("identity_json", error))?;
            row.map(|row| text(&row, "identity_json")).transpose()
        })
        .await
    }

    /// Replaces a stored identity document; `NotFound` if there is none.
    pub(crate) async fn replace_identity(
        &self,
        individual_id: &str,
        identity_json: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let now = encode_time(now)?;
        timed("replace_identity", async {
            let done = sqlx::query(
                "UPDATE mock_identity SET identity_json = ?2, upd_dtimes = ?3 \
                 WHERE individual_id = ?1",
            )
            .bind(individual_id)
            .bind(identity_json)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(|error| database_error("replace_identity", error))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    /// Inserts an identity and its verified claims unless the id exists (then nothing is
    /// written). Returns whether it was inserted.
    pub(crate) async fn seed_identity(
        &self,
        individual_id: &str,
        identity_json: &str,
        claims: &[VerifiedClaimRow],
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let now = encode_time(now)?;
        timed("seed_identity", async {
            let mut transaction = self
                .pool
                .begin()
                .await
                .map_err(|error| database_error("seed_identity", error))?;
            let inserted = sqlx::query(
                "INSERT OR IGNORE INTO mock_identity (individual_id, identity_json, cr_dtimes) \
                 VALUES (?1, ?2, ?3)",
            )
            .bind(individual_id)
            .bind(identity_json)
            .bind(now.as_str())
            .execute(&mut *transaction)
            .await
            .map_err(|error| database_error("seed_identity", error))?
            .rows_affected()
                == 1;
            if inserted {
                for claim in claims {
                    upsert_claim(&mut transaction, individual_id, claim, &now).await?;
                }
            }
            transaction
                .commit()
                .await
                .map_err(|error| database_error("seed_identity", error))?;
            Ok(inserted)
        })
        .await
    }

    /// Inserts or updates (matched by id) verified-claim rows of one identity, atomically.
    pub(crate) async fn upsert_verified_claims(
        &self,
        individual_id: &str,
        claims: &[VerifiedClaimRow],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let now = encode_time(now)?;
        timed("upsert_verified_claims", async {
            let mut transaction = self
                .pool
                .begin()
                .await
                .map_err(|error| database_error("upsert_verified_claims", error))?;
            for claim in claims {
                upsert_claim(&mut transaction, individual_id, claim, &now).await?;
            }
            transaction
                .commit()
                .await
                .map_err(|error| database_error("upsert_verified_claims", error))
        })
        .await
    }

    /// The verified-claim rows of an identity, oldest first.
    pub(crate) async fn verified_claims(
        &self,
        individual_id: &str,
    ) -> Result<Vec<VerifiedClaimRow>, StoreError> {
        timed("verified_claims", async {
            let rows = sqlx::query(
                "SELECT id, field, claim, trust_framework, detail, is_active FROM verified_claim \
                 WHERE individual_id = ?1 ORDER BY cr_dtimes, rowid",
            )
            .bind(individual_id)
            .fetch_all(&self.pool)
            .await
            .map_err(|error| database_error("verified_claims", error))?;
            rows.iter()
                .map(|row| {
                    Ok(VerifiedClaimRow {
                        id: text(row, "id")?,
                        field: text(row, "field")?,
                        claim: text(row, "claim")?,
                        trust_framework: text(row, "trust_framework")?,
                        detail: text(row, "detail")?,
                        active: row
                            .try_get::<i64, _>("is_active")
                            .map_err(|error| database_error("verified_claims", error))?
                            != 0,
                    })
                })
                .collect()
        })
        .await
    }

    /// Registers or replaces the key of (partner, client).
    pub(crate) async fn upsert_partner(
        &self,
        partner_id: &str,
        client_id: &str,
        key: &PartnerKey,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let now = encode_time(now)?;
        timed("upsert_partner", async {
            sqlx::query(
                "INSERT INTO partner_data (partner_id, client_id, public_key, status, cr_dtimes) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (partner_id, client_id) DO UPDATE SET \
                 public_key = excluded.public_key, status = excluded.status, \
                 upd_dtimes = excluded.cr_dtimes",
            )
            .bind(partner_id)
            .bind(client_id)
            .bind(key.public_key.as_str())
            .bind(key.status.as_str())
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(|error| database_error("upsert_partner", error))?;
            Ok(())
        })
        .await
    }

    /// The key registered for (partner, client), if any.
    pub(crate) async fn partner(
        &self,
        partner_id: &str,
        client_id: &str,
    ) -> Result<Option<PartnerKey>, StoreError> {
        timed("partner", async {
            let row = sqlx::query(
                "SELECT public_key, status FROM partner_data \
                 WHERE partner_id = ?1 AND client_id = ?2",
            )
            .bind(partner_id)
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|error| database_error("partner", error))?;
            row.map(|row| {
                Ok(PartnerKey {
                    public_key: text(&row, "public_key")?,
                    status: text(&row, "status")?,
                })
            })
            .transpose()
        })
        .await
    }
}

async fn upsert_claim(
    transaction: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    individual_id: &str,
    claim: &VerifiedClaimRow,
    now: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO verified_claim (id, individual_id, field, claim, trust_framework, detail, \
         is_active, cr_by, cr_dtimes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (id) DO UPDATE SET detail = excluded.detail, \
         is_active = excluded.is_active, upd_by = excluded.cr_by, upd_dtimes = excluded.cr_dtimes",
    )
    .bind(claim.id.as_str())
    .bind(individual_id)
    .bind(claim.field.as_str())
    .bind(claim.claim.as_str())
    .bind(claim.trust_framework.as_str())
    .bind(claim.detail.as_str())
    .bind(i64::from(claim.active))
    .bind(CREATED_BY)
    .bind(now)
    .execute(&mut **transaction)
    .await
    .map_err(|error| database_error("upsert_verified_claim", error))?;
    Ok(())
}

/// Runs one operation under the store deadline; on timeout the operation is dropped (rolling
/// back any open transaction).
async fn timed<T>(
    operation: &'static str,
    work: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(OPERATION_TIMEOUT, work)
        .await
        .unwrap_or_else(|_| {
            tracing::warn!(operation, "mock identity database operation timed out");
            Err(StoreError::Unavailable(format!("{operation} timed out")))
        })
}

fn encode_time(at: OffsetDateTime) -> Result<String, StoreError> {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|_| StoreError::Corrupt("timestamp out of range".to_owned()))
}

fn text(row: &SqliteRow, column: &'static str) -> Result<String, StoreError> {
    row.try_get::<String, _>(column)
        .map_err(|error| database_error("decode", error))
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database)
        if database.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// SQLite and sqlx messages name tables, columns and types, never values.
fn database_error(operation: &'static str, error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            tracing::error!(operation, %error, "mock identity database row is undecodable");
            StoreError::Corrupt(format!("{operation}: {error}"))
        }
        error => {
            tracing::warn!(operation, %error, "mock identity database operation failed");
            StoreError::Unavailable(format!("{operation}: {error}"))
        }
    }
}
