//! The public key registry (wallet binding) contract, on a file and in memory.

use esignet_spi::BindingStore;
use esignet_store_sqlite::SqliteStore;
use esignet_testkit::{binding_store_contract, sample_binding, unique_id};

#[tokio::test]
async fn a_file_database_passes_the_binding_contract_and_keeps_bindings_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("esignet.db");
    let store = SqliteStore::open(&path).await.unwrap();
    binding_store_contract(&store).await;
    let binding = sample_binding(&unique_id("id-hash"), "WLA", &unique_id("key"));
    store.save_binding(&binding).await.unwrap();
    store.close().await;

    let reopened = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        reopened.get_binding(&binding.id_hash, "WLA").await.unwrap(),
        Some(binding)
    );
    binding_store_contract(&reopened).await;
}

#[tokio::test]
async fn concurrent_runs_on_one_file_pass_the_binding_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("esignet.db"))
        .await
        .unwrap();
    tokio::join!(
        binding_store_contract(&store),
        binding_store_contract(&store),
        binding_store_contract(&store),
    );
}

#[tokio::test]
async fn an_in_memory_database_passes_the_binding_contract() {
    let store = SqliteStore::open_in_memory().await.unwrap();
    binding_store_contract(&store).await;
}
