//! The embedded default store of eSignet-rs: registered clients, consent and key material in one
//! SQLite file, and the identities registered with the built-in mock identity system.
//!
//! [`SqliteStore`] implements [`ClientStore`](esignet_spi::ClientStore),
//! [`ConsentStore`](esignet_spi::ConsentStore), [`KeyStore`](esignet_spi::KeyStore) and
//! [`BindingStore`](esignet_spi::BindingStore) (the wallet public key registry). It is
//! meant for a single instance (a PostgreSQL store serves several); SQLite in WAL mode lets reads
//! run alongside the one writer, and a small connection pool is all that needs.
//!
//! Every operation runs under a 5 s deadline and reports what went wrong as a
//! [`StoreError`]: uniqueness rules as `Conflict`, an unreachable, busy or failing database as
//! `Unavailable` (nothing written), a row that cannot be decoded as `Corrupt`. Error messages and
//! logs name operations, tables and columns, never the values stored.
//!
//! The schema lives in `migrations/` (embedded at build time, applied by [`SqliteStore::open`]).
//! Its conventions: JSON as TEXT, timestamps as RFC 3339 UTC text with nine fractional digits.

use std::future::Future;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use esignet_spi::StoreError;
use sqlx::SqlitePool;
use sqlx::error::ErrorKind;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

mod bindings;
mod clients;
mod codec;
mod consent;
mod identities;
mod keys;

/// How long one store operation may take, waiting for a connection included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a connection waits for another connection's write lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in the pool of a file database: enough readers for one instance's request
/// concurrency, while SQLite serializes the writers anyway.
pub const MAX_CONNECTIONS: u32 = 8;

/// Clients, consent and keys in SQLite. Cheap to clone: clones share the connection pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Serializes this process's writes. SQLite admits one writer at a time; letting pooled
    /// connections contend makes them sleep in SQLite's busy handler (up to 100 ms per retry),
    /// which stalls bursts of first-time consents. Queueing here costs nothing extra.
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl SqliteStore {
    /// Opens (creating it and its parent directories if missing) the database file at `path`,
    /// and brings its schema up to date.
    ///
    /// The connections use WAL journaling, `synchronous = FULL` (consent and keys must survive
    /// a power cut once saved), foreign keys on and a [`BUSY_TIMEOUT`]; the pool holds up to
    /// [`MAX_CONNECTIONS`].
    ///
    /// # Errors
    ///
    /// `Unavailable` if the directory or file cannot be created or opened, or a migration fails
    /// (for example when the file was written by a newer version with unknown migrations).
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            tokio::fs::create_dir_all(parent).await.map_err(|error| {
                tracing::error!(%error, "cannot create the database directory");
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
        Self::migrated(pool).await
    }

    /// A private database that lives in memory until the store and its clones are dropped.
    /// For tests and throw-away runs.
    ///
    /// The pool holds exactly one connection that never expires, because every SQLite
    /// connection to `:memory:` is a separate, empty database.
    ///
    /// # Errors
    ///
    /// `Unavailable` if SQLite cannot be started or the schema cannot be created.
    pub async fn open_in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|error| database_error("open", error))?
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(OPERATION_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|error| database_error("open", error))?;
        Self::migrated(pool).await
    }

    /// Closes every connection, waiting for operations in flight to finish. Later operations on
    /// this store or its clones fail with `Unavailable`.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn migrated(pool: SqlitePool) -> Result<Self, StoreError> {
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|error| {
                tracing::error!(%error, "sqlite store migration failed");
                StoreError::Unavailable(format!("schema migration failed: {error}"))
            })?;
        Ok(Self {
            pool,
            writer: std::sync::Arc::new(tokio::sync::Mutex::new(())),
        })
    }
}

/// Runs one store operation under [`OPERATION_TIMEOUT`]. On timeout the operation is dropped,
/// which rolls back any transaction it had open.
async fn timed<T>(
    operation: &'static str,
    work: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(OPERATION_TIMEOUT, work)
        .await
        .unwrap_or_else(|_| {
            tracing::warn!(operation, "sqlite store operation timed out");
            Err(StoreError::Unavailable(format!("{operation} timed out")))
        })
}

/// The `table.column` list of a unique-constraint violation (SQLite's message reads
/// `UNIQUE constraint failed: client_detail.id`), or `None` for any other error.
fn unique_violation(error: &sqlx::Error) -> Option<&str> {
    let sqlx::Error::Database(database) = error else {
        return None;
    };
    if database.kind() != ErrorKind::UniqueViolation {
        return None;
    }
    Some(
        database
            .message()
            .strip_prefix("UNIQUE constraint failed: ")
            .unwrap_or_else(|| database.message()),
    )
}

/// Maps an error that is not a uniqueness rule: undecodable data is `Corrupt`, everything else
/// (pool exhausted or closed, I/O, busy, a constraint the encoder should have prevented) is
/// `Unavailable`. SQLite and sqlx messages name tables, columns and types, never values.
fn database_error(operation: &'static str, error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::TypeNotFound { .. } => {
            tracing::error!(operation, %error, "sqlite store found an undecodable row");
            StoreError::Corrupt(format!("{operation}: {error}"))
        }
        error => {
            tracing::warn!(operation, %error, "sqlite store operation failed");
            StoreError::Unavailable(format!("{operation}: {error}"))
        }
    }
}
