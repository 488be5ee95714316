//! Domain tests over real seams (SQLite in memory, the in-process cache, the mock identity
//! system, real keys) with a manual clock, for everything that needs time to pass: transaction,
//! code and consent expiry, DPoP proof age, client-assertion expiry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod captcha;
mod harness;
mod signup;
mod time_rules;
mod wallet;
mod wallet_harness;
