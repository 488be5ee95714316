//! The shared store of eSignet-rs: registered clients, consent, key material and the wallet
//! public key registry in PostgreSQL, for deployments that run several instances against one
//! database.
//!
//! [`PostgresStore`] implements [`ClientStore`](esignet_spi::ClientStore),
//! [`ConsentStore`](esignet_spi::ConsentStore), [`KeyStore`](esignet_spi::KeyStore) and
//! [`BindingStore`](esignet_spi::BindingStore) over a pool of PostgreSQL connections.
//!
//! # Configuration
//!
//! [`PostgresStore::connect`] takes a libpq-style URL (`postgres://user:password@host:5432/db`)
//! and [`PgStoreOptions`]. TLS is not compiled in (the workspace's sqlx has no TLS feature):
//! `sslmode=prefer`, the default, connects in clear text and `sslmode=require` fails.
//!
//! - `max_connections` (16): pool size of this instance. The database serves every instance, so
//!   the sum over instances must stay below its `max_connections`.
//! - `acquire_timeout` (3 s): how long an operation waits for a pooled connection, opening one
//!   included.
//! - `statement_timeout` (5 s): PostgreSQL's `statement_timeout`, set on every connection, so the
//!   server itself cancels a statement stuck behind a lock.
//! - `schema` (none): a schema to keep the tables in. It is created if missing and put alone on
//!   the `search_path` of every pooled connection; without it the server's default
//!   `search_path` applies (normally `public`).
//!
//! The session settings (`statement_timeout`, `search_path`) are `SET` when a connection opens.
//! Behind a connection pooler they need session pooling (PgBouncer's `pool_mode = session`);
//! in transaction pooling they would not stick.
//!
//! Then [`PostgresStore::migrate`] brings the schema up to date. Several instances may start,
//! and migrate, at the same time: sqlx's migrator serializes them with a PostgreSQL advisory
//! lock (one per database), and the later ones find the work done.
//!
//! # Failure behaviour
//!
//! Every operation runs under a deadline of `acquire_timeout + statement_timeout`, and reports
//! what went wrong as a [`StoreError`]:
//!
//! - uniqueness rules as `Conflict("client_id" | "public_key" | "kid")`, told apart by the name of
//!   the violated constraint as the database reports it; a wallet key already bound to another
//!   subject as `Conflict("public_key")`, found by the saving transaction itself, which holds a
//!   transaction-level advisory lock on the key so concurrent saves of one key take turns;
//! - a database that is down, unreachable, overloaded or slow as `Unavailable`, within the
//!   deadline. Multi-statement writes run in one transaction, rolled back when cut short; only
//!   a call cut short while its final statement or commit is already in flight may have taken
//!   effect (the server-side `statement_timeout`, shorter than the deadline, normally cancels
//!   first, and a cancelled statement changes nothing);
//! - a stored row that cannot be decoded as `Corrupt`.
//!
//! While the database is unreachable, a call fails after about `acquire_timeout`, not at once:
//! sqlx's pool retries a refused connection until then, which rides out a database restart.
//! Nothing needs restarting after an outage: the pool checks connections idle for over a second
//! before handing them out (busy ones skip the check, which would double a read's round trips),
//! drops broken ones and opens new ones, so operations succeed again as soon as the
//! database is back. Error messages and logs name operations, tables, columns and constraints,
//! never stored values, and never the connection URL (which may hold a password).
//!
//! # Schema
//!
//! The schema lives in `migrations/` (embedded at build time). JSON documents and lists use the
//! `json` type, which validates on write and keeps the text exactly as written (key order
//! included); timestamps are `timestamptz`, which keeps microseconds: finer fractions are
//! truncated on write.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use esignet_spi::StoreError;
use sqlx::error::ErrorKind;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Executor, PgConnection};

mod bindings;
mod clients;
mod codec;
mod consent;
mod keys;

/// Default [`PgStoreOptions::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

/// Default [`PgStoreOptions::acquire_timeout`].
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Default [`PgStoreOptions::statement_timeout`].
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`PostgresStore::migrate`] may take in all, waiting for another instance's migration
/// included. Longer than an operation's deadline because a migration may rewrite a large table.
pub const MIGRATION_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest schema name PostgreSQL keeps (`NAMEDATALEN - 1` bytes); longer names would be
/// truncated silently, so they are refused instead.
const MAX_SCHEMA_NAME_BYTES: usize = 63;

/// Tuning of a [`PostgresStore`]. See the crate documentation for what each field does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgStoreOptions {
    /// Most connections this instance holds (at least 1).
    pub max_connections: u32,
    /// How long an operation waits for a connection, opening one included.
    pub acquire_timeout: Duration,
    /// The server-side limit on each statement (rounded down to milliseconds, at least 1 ms).
    pub statement_timeout: Duration,
    /// The schema holding the tables, created if missing; `None`: the server's `search_path`.
    pub schema: Option<String>,
}

impl Default for PgStoreOptions {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            schema: None,
        }
    }
}

/// Clients, consent, keys and wallet bindings in PostgreSQL. Cheap to clone: clones share the
/// connection pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// The schema, quoted as an SQL identifier, if one is set.
    schema: Option<String>,
    /// How long opening or taking a connection may take.
    acquire_timeout: Duration,
    /// The deadline of one operation: waiting for a connection plus one statement.
    operation_timeout: Duration,
}

impl std::fmt::Debug for PostgresStore {
    // Written by hand: the pool's connect options hold the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("connections", &self.pool.size())
            .field("idle", &self.pool.num_idle())
            .field("operation_timeout", &self.operation_timeout)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` and, if `options.schema` is set, creates that schema
    /// when missing. Does not migrate: call [`PostgresStore::migrate`] next.
    ///
    /// One connection is opened at once, so a wrong URL, refused credentials or an unreachable
    /// server are reported here; more are opened on demand up to `max_connections`. Every
    /// connection gets the `statement_timeout` and, with a schema, `search_path` = that schema.
    ///
    /// # Errors
    ///
    /// `Unavailable` if the URL does not parse, the schema name is empty, longer than 63 bytes
    /// or holds a NUL, or the server cannot be reached (within `acquire_timeout`), refuses the
    /// login or refuses to create the schema. The message never contains the URL.
    pub async fn connect(url: &str, options: PgStoreOptions) -> Result<Self, StoreError> {
        let connect_options = PgConnectOptions::from_str(url)
            .map_err(|error| {
                // sqlx's parse errors name the problem, not the URL's text.
                tracing::error!(%error, "invalid PostgreSQL URL");
                StoreError::Unavailable(format!("invalid PostgreSQL URL: {error}"))
            })?
            .application_name("esignet");
        let schema = options
            .schema
            .as_deref()
            .map(validated_identifier)
            .transpose()?;
        let operation_timeout = options
            .acquire_timeout
            .saturating_add(options.statement_timeout);
        tracing::info!(
            host = connect_options.get_host(),
            port = connect_options.get_port(),
            schema = options.schema.as_deref(),
            "connecting to PostgreSQL"
        );

        let pool_options = pool_options(
            options.max_connections,
            options.acquire_timeout,
            session_setup(options.statement_timeout, schema.as_deref()),
        );
        let connected = tokio::time::timeout(
            operation_timeout,
            pool_options.connect_with(connect_options),
        )
        .await
        .unwrap_or(Err(sqlx::Error::PoolTimedOut));
        let pool = connected.map_err(|error| database_error("connect", error))?;

        let store = Self {
            pool,
            schema,
            acquire_timeout: options.acquire_timeout,
            operation_timeout,
        };
        if let Some(schema) = store.schema.as_deref() {
            store.create_schema(schema).await?;
        }
        Ok(store)
    }

    /// Applies the embedded migrations not yet applied to the schema. Safe to run from several
    /// instances at once: sqlx's migrator holds a PostgreSQL advisory lock while it checks and
    /// applies migrations, so one instance migrates and the others wait, then find nothing to do.
    ///
    /// Runs on a connection of its own (a one-connection pool, closed afterwards), because the
    /// advisory lock belongs to the session: if a migration fails or is cut short, closing the
    /// session releases the lock instead of leaving it held on a connection of the store's
    /// pool. Statements, waiting for the lock included, may take up to [`MIGRATION_TIMEOUT`],
    /// and so may the whole call.
    ///
    /// # Errors
    ///
    /// `Unavailable` if the database cannot be reached, a migration fails, the database holds
    /// migrations this build does not know or whose checksum differs, or the time runs out.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let work = async {
            let options = (*self.pool.connect_options()).clone();
            let setup = session_setup(MIGRATION_TIMEOUT, self.schema.as_deref());
            let pool = pool_options(1, self.acquire_timeout, setup)
                .connect_with(options)
                .await
                .map_err(|error| database_error("migrate", error))?;
            let migrated = sqlx::migrate!("./migrations").run(&pool).await;
            // Closing ends the session, which releases the advisory lock whatever happened.
            pool.close().await;
            migrated.map_err(|error| {
                tracing::error!(%error, "PostgreSQL store migration failed");
                StoreError::Unavailable(format!("schema migration failed: {error}"))
            })
        };
        tokio::time::timeout(MIGRATION_TIMEOUT, work)
            .await
            .unwrap_or_else(|_| {
                tracing::error!("PostgreSQL store migration timed out");
                Err(StoreError::Unavailable(
                    "schema migration timed out".to_owned(),
                ))
            })
    }

    /// Closes every connection, waiting for operations in flight to finish. Later operations on
    /// this store or its clones fail with `Unavailable`.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// `CREATE SCHEMA IF NOT EXISTS` of the quoted `schema`, tolerating another instance
    /// creating it at the same time (PostgreSQL then reports a duplicate instead of skipping).
    async fn create_schema(&self, schema: &str) -> Result<(), StoreError> {
        let sql = format!("CREATE SCHEMA IF NOT EXISTS {schema}");
        self.timed("create_schema", async {
            match sqlx::raw_sql(&sql).execute(&self.pool).await {
                Ok(_) => Ok(()),
                Err(sqlx::Error::Database(error))
                    if matches!(error.code().as_deref(), Some("42P06" | "23505")) =>
                {
                    Ok(())
                }
                Err(error) => Err(database_error("create_schema", error)),
            }
        })
        .await
    }

    /// Runs one store operation under the store's deadline. On timeout the operation is
    /// dropped, which rolls back any transaction it had open.
    async fn timed<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        tokio::time::timeout(self.operation_timeout, work)
            .await
            .unwrap_or_else(|_| {
                tracing::warn!(operation, "PostgreSQL store operation timed out");
                Err(StoreError::Unavailable(format!("{operation} timed out")))
            })
    }
}

/// The statements run on every new connection: the session's `statement_timeout` and, with a
/// schema, its `search_path`. Set here rather than as startup parameters, which connection
/// poolers such as PgBouncer refuse.
fn session_setup(statement_timeout: Duration, schema: Option<&str>) -> Arc<str> {
    let mut setup = format!(
        "SET statement_timeout = {}",
        duration_millis(statement_timeout)
    );
    if let Some(schema) = schema {
        setup.push_str(&format!("; SET search_path TO {schema}"));
    }
    setup.into()
}

/// Runs `sql` (no parameters) on a fresh pooled connection. A named function rather than a
/// closure body so the future's lifetime is tied to the connection's.
fn run_raw(
    connection: &mut PgConnection,
    sql: Arc<str>,
) -> Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + '_>> {
    Box::pin(async move {
        // A query without arguments goes over the simple-query protocol: nothing is prepared.
        connection.execute(&*sql).await?;
        Ok(())
    })
}

/// How long a pooled connection may sit idle before it is checked (a ping) on its next use.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// Pool settings shared by the store's pool and the migration's.
fn pool_options(
    max_connections: u32,
    acquire_timeout: Duration,
    session_setup: Arc<str>,
) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(acquire_timeout)
        // Connections idle for a while are checked before use, so the pool notices those that
        // died with a database restart and replaces them instead of failing the operation. A
        // busy connection is not: checking every acquisition doubled the round trips of a read.
        .test_before_acquire(false)
        .before_acquire(|connection, metadata| {
            Box::pin(async move {
                if metadata.idle_for < IDLE_BEFORE_PING {
                    return Ok(true);
                }
                Ok(sqlx::Connection::ping(connection).await.is_ok())
            })
        })
        .after_connect(move |connection, _| run_raw(connection, Arc::clone(&session_setup)))
}

/// A duration in whole milliseconds, at least 1: PostgreSQL reads a `statement_timeout` of 0 as
/// "no limit".
fn duration_millis(duration: Duration) -> u128 {
    duration.as_millis().max(1)
}

/// `name` as a quoted SQL identifier, if PostgreSQL would keep it as written.
fn validated_identifier(name: &str) -> Result<String, StoreError> {
    if name.is_empty() || name.len() > MAX_SCHEMA_NAME_BYTES || name.contains('\0') {
        return Err(StoreError::Unavailable(format!(
            "invalid schema name: must be 1 to {MAX_SCHEMA_NAME_BYTES} bytes without NUL"
        )));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// The name of the unique constraint a write violated, or `None` for any other error.
fn unique_violation(error: &sqlx::Error) -> Option<&str> {
    let sqlx::Error::Database(database) = error else {
        return None;
    };
    if database.kind() != ErrorKind::UniqueViolation {
        return None;
    }
    database.constraint()
}

/// Maps an error that is not a uniqueness rule: undecodable data is `Corrupt`, everything else
/// (pool timeout or closed, I/O, cancelled statement, server error) is `Unavailable`.
/// PostgreSQL's messages (the part shown here; values only appear in their `detail`) and
/// sqlx's name types, columns and constraints, never values.
fn database_error(operation: &'static str, error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::TypeNotFound { .. } => {
            tracing::error!(operation, %error, "PostgreSQL store found an undecodable row");
            StoreError::Corrupt(format!("{operation}: {error}"))
        }
        sqlx::Error::PoolTimedOut => {
            tracing::warn!(
                operation,
                "no PostgreSQL connection within the acquire timeout"
            );
            StoreError::Unavailable(format!(
                "{operation}: no database connection within the acquire timeout"
            ))
        }
        error => {
            tracing::warn!(operation, %error, "PostgreSQL store operation failed");
            StoreError::Unavailable(format!("{operation}: {error}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compiles only if the public futures can be spawned on a multi-threaded runtime (a
    /// `Send` future whose type does not depend on higher-ranked lifetimes).
    #[allow(dead_code)]
    fn public_futures_can_be_spawned(store: PostgresStore) {
        drop(tokio::spawn(async move {
            let _ = store.migrate().await;
            store.close().await;
        }));
        drop(tokio::spawn(async {
            let _ = PostgresStore::connect("", PgStoreOptions::default()).await;
        }));
    }

    #[test]
    fn schema_names_are_quoted_and_checked() {
        assert_eq!(validated_identifier("esignet").unwrap(), "\"esignet\"");
        assert_eq!(
            validated_identifier("we\"ird name").unwrap(),
            "\"we\"\"ird name\""
        );
        assert!(validated_identifier("").is_err());
        assert!(validated_identifier("nul\0").is_err());
        assert!(validated_identifier(&"x".repeat(63)).is_ok());
        assert!(validated_identifier(&"x".repeat(64)).is_err());
    }

    #[test]
    fn sessions_get_the_statement_timeout_and_the_schema() {
        assert_eq!(
            &*session_setup(Duration::from_millis(1500), None),
            "SET statement_timeout = 1500"
        );
        assert_eq!(
            &*session_setup(Duration::from_secs(5), Some("\"s\"")),
            "SET statement_timeout = 5000; SET search_path TO \"s\""
        );
    }

    #[test]
    fn a_zero_statement_timeout_still_limits() {
        assert_eq!(duration_millis(Duration::ZERO), 1);
        assert_eq!(duration_millis(Duration::from_secs(5)), 5000);
    }

    #[tokio::test]
    async fn a_bad_url_is_refused_without_echoing_it() {
        let error = PostgresStore::connect(
            "postgres://user:s3cret@host:notaport/db",
            PgStoreOptions::default(),
        )
        .await
        .unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
}
