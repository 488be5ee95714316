//! The shared store contract suites, run against PostgreSQL in a fresh schema per test.

mod support;

use esignet_spi::{ClientStore, ConsentStore, KeyStore};
use esignet_store_postgres::PostgresStore;
use esignet_testkit::{
    client_store_contract, consent_store_contract, key_store_contract, sample_client,
    sample_consent, sample_key, unique_id,
};
use support::{open_store, with_fresh_schema};

async fn all_contracts(store: &PostgresStore) {
    client_store_contract(store).await;
    consent_store_contract(store).await;
    key_store_contract(store).await;
}

#[tokio::test]
async fn postgres_passes_the_store_contracts() {
    with_fresh_schema(|schema| async move {
        let store = open_store(&schema).await;
        all_contracts(&store).await;
        // Again, on a database that already holds the first run's records.
        all_contracts(&store).await;
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn the_contracts_hold_when_run_concurrently_on_one_pool() {
    with_fresh_schema(|schema| async move {
        let store = open_store(&schema).await;
        tokio::join!(
            all_contracts(&store),
            all_contracts(&store),
            all_contracts(&store),
            all_contracts(&store),
        );
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn two_instances_on_one_schema_see_each_others_writes() {
    with_fresh_schema(|schema| async move {
        let first = open_store(&schema).await;
        let second = open_store(&schema).await;
        tokio::join!(all_contracts(&first), all_contracts(&second));

        let client = sample_client(&unique_id("shared-client"));
        let consent = sample_consent(&client.client_id, &unique_id("psut"));
        let key = sample_key(&unique_id("APP"), &unique_id("kid"));
        first.insert_client(&client).await.unwrap();
        first.save_consent(&consent).await.unwrap();
        first.insert_key(&key).await.unwrap();
        assert_eq!(
            second.get_client(&client.client_id).await.unwrap(),
            Some(client.clone())
        );
        assert_eq!(
            second
                .get_consent(&consent.client_id, &consent.psu_token)
                .await
                .unwrap(),
            Some(consent.clone())
        );
        assert_eq!(second.list_keys(&key.application).await.unwrap(), vec![key]);
        // A uniqueness rule holds across instances.
        assert!(matches!(
            second.insert_client(&client).await,
            Err(esignet_spi::StoreError::Conflict("client_id"))
        ));
        first.close().await;
        second.close().await;
    })
    .await;
}
