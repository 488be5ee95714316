//! PostgreSQL-specific behaviour: concurrent migrations, failures and timeouts, corrupt rows,
//! and the column encodings.

mod support;

use std::time::{Duration, Instant};

use esignet_spi::{ClientStore, ConsentStore, StoreError};
use esignet_store_postgres::{PgStoreOptions, PostgresStore};
use esignet_testkit::{client_store_contract, sample_client, sample_consent, unique_id};
use futures::future::join_all;
use serde_json::{Value, json};
use sqlx::{Executor, Row};
use support::{Proxy, free_port, open_store, options, raw_connection, url_via, with_fresh_schema};
use time::macros::datetime;

/// Migrations embedded in this build (the files in `migrations/`).
const MIGRATIONS: i64 = 3;

async fn applied_migrations(schema: &str) -> i64 {
    let mut connection = raw_connection(schema).await;
    sqlx::query("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut connection)
        .await
        .expect("the migrations table exists")
        .get(0)
}

#[tokio::test]
async fn instances_starting_together_on_a_fresh_schema_migrate_once() {
    // Several rounds, each on a fresh schema, with four instances that connect (creating the
    // schema) and migrate at the same moment.
    for _ in 0..3 {
        with_fresh_schema(|schema| async move {
            let url = support::postgres_url();
            let stores: Vec<PostgresStore> =
                join_all((0..4).map(|_| PostgresStore::connect(&url, options(&schema))))
                    .await
                    .into_iter()
                    .map(|connected| connected.expect("concurrent connect creating the schema"))
                    .collect();
            let migrated = join_all(stores.iter().map(PostgresStore::migrate)).await;
            for outcome in migrated {
                outcome.expect("concurrent migrate");
            }
            assert_eq!(applied_migrations(&schema).await, MIGRATIONS);
            join_all(stores.iter().map(|store| client_store_contract(store))).await;
            for store in &stores {
                store.close().await;
            }
        })
        .await;
    }
}

#[tokio::test]
async fn migrate_waits_for_the_advisory_lock_another_session_holds() {
    with_fresh_schema(|schema| async move {
        // Operations give up after 300 ms; migrate has its own, longer limit and must outwait
        // the 700 ms the lock is held.
        let store = PostgresStore::connect(
            &support::postgres_url(),
            PgStoreOptions {
                statement_timeout: Duration::from_millis(300),
                ..options(&schema)
            },
        )
        .await
        .expect("connect");
        let mut holder = raw_connection(&schema).await;
        let database: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&mut holder)
            .await
            .unwrap();
        let lock_id = sqlx_migration_lock_id(&database);
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(lock_id)
            .execute(&mut holder)
            .await
            .unwrap();

        let migrating = tokio::spawn({
            let store = store.clone();
            async move { store.migrate().await }
        });
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert!(
            !migrating.is_finished(),
            "migrate must wait while another session holds the migration lock"
        );
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(lock_id)
            .execute(&mut holder)
            .await
            .unwrap();
        migrating
            .await
            .unwrap()
            .expect("migrate after the lock is released");
        assert_eq!(applied_migrations(&schema).await, MIGRATIONS);
        store.close().await;
    })
    .await;
}

/// The advisory lock key sqlx's PostgreSQL migrator takes: 0x3d32ad9e * CRC-32(database name).
fn sqlx_migration_lock_id(database: &str) -> i64 {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926, "CRC-32 check value");
    0x3d32_ad9e * i64::from(crc32(database.as_bytes()))
}

#[tokio::test]
async fn migrating_again_changes_nothing() {
    with_fresh_schema(|schema| async move {
        let store = open_store(&schema).await;
        let client = sample_client(&unique_id("client"));
        store.insert_client(&client).await.unwrap();
        store.migrate().await.expect("second migrate");
        open_store(&schema).await.close().await;
        assert_eq!(applied_migrations(&schema).await, MIGRATIONS);
        assert_eq!(
            store.get_client(&client.client_id).await.unwrap(),
            Some(client)
        );
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_closed_port_is_unavailable_within_the_acquire_timeout() {
    let port = free_port().await;
    let url = url_via("127.0.0.1", port).replace("postgres@", "postgres:s3cret-password@");
    assert!(url.contains("s3cret-password"));
    let options = PgStoreOptions {
        acquire_timeout: Duration::from_secs(1),
        ..PgStoreOptions::default()
    };
    let started = Instant::now();
    let refused = PostgresStore::connect(&url, options).await;
    let elapsed = started.elapsed();
    let Err(error) = refused else {
        panic!("nothing listens on port {port}, yet connect succeeded");
    };
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    assert!(
        elapsed < Duration::from_millis(2500),
        "took {elapsed:?} for an acquire timeout of 1 s"
    );
    assert!(
        !format!("{error} {error:?}").contains("s3cret-password"),
        "the password leaked into {error:?}"
    );
}

#[tokio::test]
async fn operations_fail_fast_while_the_database_is_away_and_recover_after() {
    with_fresh_schema(|schema| async move {
        let direct = open_store(&schema).await;
        let proxy = Proxy::new().await;
        proxy.start().await;
        let acquire_timeout = Duration::from_secs(1);
        let store = PostgresStore::connect(
            &proxy.url(),
            PgStoreOptions {
                acquire_timeout,
                ..options(&schema)
            },
        )
        .await
        .expect("connect through the proxy");
        let before = sample_client(&unique_id("before"));
        store.insert_client(&before).await.expect("insert while up");

        proxy.stop().await;
        let during = sample_client(&unique_id("during"));
        let consent = sample_consent(&during.client_id, &unique_id("psut"));
        for attempt in 0..2 {
            let started = Instant::now();
            let outcomes = [
                store.get_client(&before.client_id).await.map(|_| ()),
                store.insert_client(&during).await,
                store.save_consent(&consent).await,
            ];
            for outcome in outcomes {
                assert!(
                    matches!(outcome, Err(StoreError::Unavailable(_))),
                    "attempt {attempt}: expected Unavailable, got {outcome:?}"
                );
            }
            let elapsed = started.elapsed();
            assert!(
                elapsed < 3 * (acquire_timeout + Duration::from_millis(500)),
                "attempt {attempt}: three failing calls took {elapsed:?}"
            );
        }

        // Back, on the same port: the same store works again without a restart.
        proxy.start().await;
        assert_eq!(
            store
                .get_client(&before.client_id)
                .await
                .expect("get after recovery"),
            Some(before.clone())
        );
        store
            .insert_client(&during)
            .await
            .expect("insert after recovery");
        store
            .save_consent(&consent)
            .await
            .expect("save after recovery");
        // Nothing from the failed calls was half-written: one consent, once in the history.
        assert_eq!(
            direct
                .consent_history(&consent.client_id, &consent.psu_token)
                .await
                .unwrap(),
            vec![consent]
        );
        assert_eq!(
            direct.get_client(&during.client_id).await.unwrap(),
            Some(during)
        );
        proxy.stop().await;
        store.close().await;
        direct.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_statement_stuck_behind_a_lock_is_cut_by_the_statement_timeout() {
    with_fresh_schema(|schema| async move {
        open_store(&schema).await.close().await;
        let store = PostgresStore::connect(
            &support::postgres_url(),
            PgStoreOptions {
                statement_timeout: Duration::from_millis(500),
                ..options(&schema)
            },
        )
        .await
        .unwrap();
        let client = sample_client(&unique_id("client"));
        store.insert_client(&client).await.unwrap();

        // Another session locks the history table: save_consent's upsert of the current row
        // succeeds, its history append waits, and the whole transaction must roll back.
        let mut locker = raw_connection(&schema).await;
        locker.execute("BEGIN").await.unwrap();
        locker
            .execute("LOCK TABLE consent_history IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
        let consent = sample_consent(&client.client_id, &unique_id("psut"));
        let started = Instant::now();
        let saved = store.save_consent(&consent).await;
        // Cancelled by the server (the store's own deadline would be 2.5 s here).
        assert!(
            matches!(saved, Err(StoreError::Unavailable(ref message))
                if message.contains("statement timeout")),
            "{saved:?}"
        );
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
        locker.execute("ROLLBACK").await.unwrap();
        assert_eq!(
            store
                .get_consent(&consent.client_id, &consent.psu_token)
                .await
                .unwrap(),
            None,
            "a cut-short save must not leave the current consent behind"
        );

        locker.execute("BEGIN").await.unwrap();
        locker
            .execute("LOCK TABLE client_detail IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
        let read = store.get_client(&client.client_id).await;
        assert!(matches!(read, Err(StoreError::Unavailable(_))), "{read:?}");
        locker.execute("ROLLBACK").await.unwrap();
        assert_eq!(
            store.get_client(&client.client_id).await.unwrap(),
            Some(client)
        );
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn undecodable_rows_are_corrupt_and_the_message_names_no_value() {
    with_fresh_schema(|schema| async move {
        let store = open_store(&schema).await;
        let mut connection = raw_connection(&schema).await;
        for (column, stored) in [
            ("name", r#""a plain secret string""#),
            ("redirect_uris", r#"{"secret": "not a list"}"#),
            ("additional_config", "not json at all"),
        ] {
            let client = sample_client(&unique_id("client"));
            store.insert_client(&client).await.unwrap();
            // additional_config is json: text that is not JSON can only get there by changing
            // the column type, which is what a careless manual edit would do.
            if column == "additional_config" {
                connection
                    .execute("ALTER TABLE client_detail ALTER COLUMN additional_config TYPE text")
                    .await
                    .unwrap();
            }
            let cast = if column == "additional_config" {
                ""
            } else {
                "::json"
            };
            sqlx::query(&format!(
                "UPDATE client_detail SET {column} = $1{cast} WHERE id = $2"
            ))
            .bind(stored)
            .bind(&client.client_id)
            .execute(&mut connection)
            .await
            .unwrap_or_else(|error| panic!("corrupting {column}: {error}"));
            let read = store.get_client(&client.client_id).await;
            let Err(StoreError::Corrupt(message)) = read else {
                panic!("{column}: expected Corrupt, got {read:?}");
            };
            assert!(message.contains(column), "{message}");
            assert!(!message.contains("secret"), "{message}");
        }
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn timestamps_are_utc_instants_kept_to_the_microsecond() {
    with_fresh_schema(|schema| async move {
        let store = open_store(&schema).await;
        let mut client = sample_client(&unique_id("client"));
        client.created_at = datetime!(2025-01-02 05:04:05.123456789 +02:00);
        client.updated_at = Some(datetime!(1969-12-31 23:59:59.999999 UTC));
        store.insert_client(&client).await.unwrap();
        let read = store.get_client(&client.client_id).await.unwrap().unwrap();
        assert_eq!(read.created_at, datetime!(2025-01-02 03:04:05.123456 UTC));
        assert_eq!(read.created_at.offset(), time::UtcOffset::UTC);
        assert_eq!(read.updated_at, client.updated_at);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn json_is_kept_exactly_as_written() {
    with_fresh_schema(|schema| async move {
        let store = open_store(&schema).await;
        let mut client = sample_client(&unique_id("client"));
        // Neither alphabetical nor jsonb's order (shorter keys first).
        client.name = serde_json::from_str(r#"{"zzz": "z", "@none": "n", "a": "a"}"#).unwrap();
        client.additional_config = Some(json!({"purpose": {"type": "login", "title": {}},
            "dup": [1, 2.5, "\u{0}", null]}));
        store.insert_client(&client).await.unwrap();
        let read = store.get_client(&client.client_id).await.unwrap().unwrap();
        let keys: Vec<&String> = read.name.keys().collect();
        assert_eq!(keys, ["zzz", "@none", "a"]);
        assert_eq!(read, client);
        let additional: Value = read.additional_config.unwrap();
        assert_eq!(additional["dup"][2], json!("\u{0}"));
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn invalid_schema_names_are_refused() {
    for schema in ["", "x\0y", &"s".repeat(64)] {
        let refused = PostgresStore::connect(&support::postgres_url(), options(schema)).await;
        assert!(
            matches!(refused, Err(StoreError::Unavailable(ref message)) if message.contains("schema")),
            "{refused:?}"
        );
    }
}
