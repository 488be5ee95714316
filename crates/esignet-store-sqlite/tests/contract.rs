//! The shared store contract suites, run against SQLite files and in-memory databases.

use esignet_spi::{ClientStore, ConsentStore, KeyStore};
use esignet_store_sqlite::SqliteStore;
use esignet_testkit::{
    client_store_contract, consent_store_contract, key_store_contract, sample_client,
    sample_consent, sample_key, unique_id,
};

async fn all_contracts(store: &SqliteStore) {
    client_store_contract(store).await;
    consent_store_contract(store).await;
    key_store_contract(store).await;
}

#[tokio::test]
async fn a_file_database_passes_the_store_contracts_and_keeps_data_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    // A parent directory that does not exist yet: open creates it.
    let path = dir.path().join("state").join("esignet.db");

    let store = SqliteStore::open(&path).await.unwrap();
    all_contracts(&store).await;
    let client = sample_client(&unique_id("persisted-client"));
    let consent = sample_consent(&client.client_id, &unique_id("psut"));
    let key = sample_key(&unique_id("APP"), &unique_id("kid"));
    store.insert_client(&client).await.unwrap();
    store.save_consent(&consent).await.unwrap();
    store.insert_key(&key).await.unwrap();
    store.close().await;

    // A second open of the same file sees everything and migrates nothing twice.
    let reopened = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        reopened.get_client(&client.client_id).await.unwrap(),
        Some(client.clone())
    );
    assert_eq!(
        reopened
            .get_consent(&consent.client_id, &consent.psu_token)
            .await
            .unwrap(),
        Some(consent.clone())
    );
    assert_eq!(
        reopened
            .consent_history(&consent.client_id, &consent.psu_token)
            .await
            .unwrap(),
        vec![consent]
    );
    assert_eq!(
        reopened.list_keys(&key.application).await.unwrap(),
        vec![key]
    );
    // The contracts still hold on a database that already has their earlier records.
    all_contracts(&reopened).await;
}

#[tokio::test]
async fn the_contracts_hold_when_run_concurrently_on_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("esignet.db"))
        .await
        .unwrap();
    // Several pooled connections writing at once through WAL and the busy timeout.
    tokio::join!(
        all_contracts(&store),
        all_contracts(&store),
        all_contracts(&store),
    );
}

#[tokio::test]
async fn an_in_memory_database_passes_the_store_contracts() {
    let store = SqliteStore::open_in_memory().await.unwrap();
    all_contracts(&store).await;
}
