//! Shared test support for eSignet-rs.
//!
//! The contract suites here are what "implements the trait" means for every storage and cache
//! backend: each is a plain async function that panics (through `assert!`) on the first
//! violation, so an implementation's own tests call it with their instance and the same rules
//! hold for SQLite and the in-memory cache as for PostgreSQL and Redis.
//!
//! - [`client_store_contract`], [`consent_store_contract`], [`key_store_contract`]: durable
//!   storage. Every call uses fresh ids, so the suites can run repeatedly and concurrently
//!   against one shared database.
//! - [`binding_store_contract`]: the wallet public key registry
//!   ([`BindingStore`](esignet_spi::BindingStore)), with [`sample_binding`].
//! - [`cache_contract`]: everything about a [`Cache`](esignet_spi::Cache) that does not need time
//!   to pass. [`cache_expiry_contract`]: TTL behaviour, with the caller saying how time passes
//!   (a `ManualClock` for the in-memory cache, real waiting for Redis).
//! - Fixtures ([`sample_client`], [`sample_consent`], [`sample_key`], [`unique_id`]) that fill
//!   every field, so round-trip assertions cover the whole record.
#![deny(missing_docs)]

mod binding_contract;
mod cache_contract;
mod fixtures;
mod store_contract;

pub use binding_contract::{binding_store_contract, sample_binding};
pub use cache_contract::{cache_contract, cache_expiry_contract};
pub use fixtures::{sample_client, sample_consent, sample_key, unique_id};
pub use store_contract::{client_store_contract, consent_store_contract, key_store_contract};
