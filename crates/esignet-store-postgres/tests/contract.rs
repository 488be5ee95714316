//! The shared store contract suites, run against PostgreSQL in a fresh schema per test.

mod support;

use esignet_spi::{BindingStore, ClientStore, ConsentStore, KeyStore, StoreError};
use esignet_store_postgres::PostgresStore;
use esignet_testkit::{
    binding_store_contract, client_store_contract, consent_store_contract, key_store_contract,
    sample_binding, sample_client, sample_consent, sample_key, unique_id,
};
use support::{open_store, with_fresh_schema};

async fn all_contracts(store: &PostgresStore) {
    client_store_contract(store).await;
    consent_store_contract(store).await;
    key_store_contract(store).await;
    binding_store_contract(store).await;
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
        let binding = sample_binding(&unique_id("id-hash"), "WLA", &unique_id("key"));
        first.save_binding(&binding).await.unwrap();
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
        assert_eq!(
            second
                .find_binding_by_thumbprint(&binding.id_hash, &binding.thumbprint)
                .await
                .unwrap(),
            Some(binding.clone())
        );
        // A uniqueness rule holds across instances.
        assert!(matches!(
            second.insert_client(&client).await,
            Err(StoreError::Conflict("client_id"))
        ));
        // So does the rule that a key belongs to one subject.
        let mut stolen = sample_binding(&unique_id("id-hash"), "WLA", "unused");
        stolen.public_key_hash = binding.public_key_hash.clone();
        assert!(matches!(
            second.save_binding(&stolen).await,
            Err(StoreError::Conflict("public_key"))
        ));
        first.close().await;
        second.close().await;
    })
    .await;
}

#[tokio::test]
async fn concurrent_saves_of_one_key_for_different_subjects_bind_it_once() {
    with_fresh_schema(|schema| async move {
        // Two instances (two pools), so the saves really run on different connections at once.
        let first = open_store(&schema).await;
        let second = open_store(&schema).await;
        for _ in 0..10 {
            let key_hash = unique_id("contested-key");
            let saves = (0..8).map(|index| {
                let mut binding = sample_binding(&unique_id("id-hash"), "WLA", &unique_id("key"));
                binding.public_key_hash = key_hash.clone();
                let store = if index % 2 == 0 { &first } else { &second };
                async move { (store.save_binding(&binding).await, binding) }
            });
            let outcomes = futures::future::join_all(saves).await;
            let mut bound = Vec::new();
            for (outcome, binding) in outcomes {
                match outcome {
                    Ok(()) => bound.push(binding),
                    Err(StoreError::Conflict("public_key")) => {
                        assert_eq!(
                            first.get_binding(&binding.id_hash, "WLA").await.unwrap(),
                            None,
                            "a refused save writes nothing"
                        );
                    }
                    Err(error) => panic!("unexpected save failure: {error:?}"),
                }
            }
            assert_eq!(bound.len(), 1, "exactly one subject gets the key");
            assert_eq!(
                second.get_binding(&bound[0].id_hash, "WLA").await.unwrap(),
                Some(bound[0].clone())
            );
        }
        first.close().await;
        second.close().await;
    })
    .await;
}
