//! SQLite-specific behaviour: opening, failure mapping, undecodable rows and atomic consent saves.

use std::path::Path;

use esignet_spi::{ClientStore, ConsentStore, KeyStore, StoreError};
use esignet_store_sqlite::SqliteStore;
use esignet_testkit::{sample_client, sample_consent, sample_key, unique_id};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

/// A second, raw connection to the store's file, to see and tamper with what the store wrote.
async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(path))
        .await
        .expect("raw connection to the store's file")
}

async fn execute(path: &Path, sql: &str) {
    let mut connection = raw(path).await;
    sqlx::query(sql)
        .execute(&mut connection)
        .await
        .expect("tampering statement");
    connection.close().await.expect("close raw connection");
}

#[tokio::test]
async fn open_creates_the_file_in_wal_mode_with_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("esignet.db");
    let _store = SqliteStore::open(&path).await.unwrap();
    assert!(path.is_file());

    let mut connection = raw(&path).await;
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' \
         AND name != 'sqlite_sequence' ORDER BY name",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    let tables: Vec<&str> = tables.iter().map(|(name,)| name.as_str()).collect();
    assert_eq!(
        tables,
        [
            "client_detail",
            "consent_detail",
            "consent_history",
            "key_record",
            "public_key_registry",
            "registered_identity"
        ]
    );
}

#[tokio::test]
async fn open_reports_an_unusable_location_as_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-directory");
    std::fs::write(&blocker, b"a file where a directory should be").unwrap();
    let result = SqliteStore::open(&blocker.join("esignet.db")).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "got {result:?}"
    );
}

#[tokio::test]
async fn a_closed_store_is_unavailable() {
    let store = SqliteStore::open_in_memory().await.unwrap();
    store.close().await;
    let result = store.get_client("any").await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "got {result:?}"
    );
    let result = store.insert_key(&sample_key("APP", "kid")).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "got {result:?}"
    );
}

#[tokio::test]
async fn undecodable_rows_are_corrupt_without_revealing_stored_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("esignet.db");
    let store = SqliteStore::open(&path).await.unwrap();

    let client = sample_client(&unique_id("client"));
    store.insert_client(&client).await.unwrap();
    let consent = sample_consent(&client.client_id, "psut");
    store.save_consent(&consent).await.unwrap();
    let key = sample_key("APP", &unique_id("kid"));
    store.insert_key(&key).await.unwrap();

    // Each case damages one column with text that must not be echoed back.
    let cases: [(&str, &str); 4] = [
        (
            "UPDATE client_detail SET name = '[\"secret-name\"]'",
            "client_detail.name",
        ),
        (
            "UPDATE client_detail SET name = '{}', cr_dtimes = 'secret-yesterday'",
            "client_detail.cr_dtimes",
        ),
        (
            "UPDATE client_detail SET cr_dtimes = '2025-01-01T00:00:00Z', \
             claims = '[\"a\", {\"secret\": 1}]'",
            "client_detail.claims",
        ),
        (
            "UPDATE client_detail SET claims = '[]', enc_public_key = 'null', \
             redirect_uris = '{\"secret\": true}'",
            "client_detail.redirect_uris",
        ),
    ];
    for (damage, column) in cases {
        execute(&path, damage).await;
        match store.get_client(&client.client_id).await {
            Err(StoreError::Corrupt(message)) => {
                assert!(message.contains(column), "{message} should name {column}");
                assert!(!message.contains("secret"), "{message} reveals the value");
            }
            other => panic!("after `{damage}` expected Corrupt, got {other:?}"),
        }
    }

    execute(
        &path,
        "UPDATE consent_history SET accepted_claims = '\"secret\"'",
    )
    .await;
    match store
        .consent_history(&consent.client_id, &consent.psu_token)
        .await
    {
        Err(StoreError::Corrupt(message)) => {
            assert!(
                message.contains("consent_history.accepted_claims"),
                "{message}"
            );
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // The current consent was not damaged and still reads.
    assert_eq!(
        store
            .get_consent(&consent.client_id, &consent.psu_token)
            .await
            .unwrap(),
        Some(consent)
    );

    execute(&path, "UPDATE key_record SET not_after = 'secret-never'").await;
    match store.list_keys("APP").await {
        Err(StoreError::Corrupt(message)) => {
            assert!(message.contains("key_record.not_after"), "{message}");
            assert!(!message.contains("secret"), "{message}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn a_consent_save_that_fails_half_way_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("esignet.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let first = sample_consent("client", "psut");
    store.save_consent(&first).await.unwrap();

    // Make the second statement of the save (the history append) fail.
    execute(
        &path,
        "CREATE TRIGGER refuse_history BEFORE INSERT ON consent_history \
         BEGIN SELECT RAISE(ABORT, 'history refused'); END",
    )
    .await;
    let second = sample_consent("client", "psut");
    let result = store.save_consent(&second).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "got {result:?}"
    );
    assert_eq!(
        store.get_consent("client", "psut").await.unwrap(),
        Some(first.clone()),
        "the current consent must not change when the history append fails"
    );

    execute(&path, "DROP TRIGGER refuse_history").await;
    store.save_consent(&second).await.unwrap();
    assert_eq!(
        store.consent_history("client", "psut").await.unwrap(),
        vec![first, second]
    );
}

#[tokio::test]
async fn keys_created_at_the_same_instant_list_the_latest_inserted_first() {
    let store = SqliteStore::open_in_memory().await.unwrap();
    let application = unique_id("APP");
    let earlier = sample_key(&application, &unique_id("kid-a"));
    let later = sample_key(&application, &unique_id("kid-b"));
    assert_eq!(earlier.created_at, later.created_at);
    store.insert_key(&earlier).await.unwrap();
    store.insert_key(&later).await.unwrap();
    assert_eq!(
        store.list_keys(&application).await.unwrap(),
        vec![later, earlier]
    );
}
