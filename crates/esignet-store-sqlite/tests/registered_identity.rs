//! The `registered_identity` table: insert, conflict, save, reopen.

use esignet_spi::StoreError;
use esignet_store_sqlite::SqliteStore;
use time::macros::datetime;

#[tokio::test]
async fn identities_are_inserted_once_saved_and_kept_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("esignet.db");
    let now = datetime!(2026-01-01 00:00 UTC);
    let store = SqliteStore::open(&path).await.unwrap();
    assert!(store.registered_identities().await.unwrap().is_empty());
    store
        .insert_registered_identity("20", r#"{"individualId":"20"}"#, now)
        .await
        .unwrap();
    store
        .insert_registered_identity("10", r#"{"individualId":"10"}"#, now)
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_registered_identity("10", r#"{"individualId":"10","pin":"1"}"#, now)
            .await,
        Err(StoreError::Conflict("individual_id"))
    ));
    store
        .save_registered_identity("10", r#"{"individualId":"10","pin":"2"}"#, now)
        .await
        .unwrap();
    store
        .save_registered_identity("30", r#"{"individualId":"30"}"#, now)
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_registered_identity("40", "not json", now)
            .await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.save_registered_identity("40", "{", now).await,
        Err(StoreError::Corrupt(_))
    ));
    store.close().await;

    let reopened = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        reopened.registered_identities().await.unwrap(),
        [
            r#"{"individualId":"10","pin":"2"}"#,
            r#"{"individualId":"20"}"#,
            r#"{"individualId":"30"}"#,
        ]
    );
    reopened.close().await;
    assert!(matches!(
        reopened.registered_identities().await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        reopened.insert_registered_identity("50", "{}", now).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        reopened.save_registered_identity("50", "{}", now).await,
        Err(StoreError::Unavailable(_))
    ));
}
