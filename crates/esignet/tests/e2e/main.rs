//! End-to-end tests: the real binary over loopback HTTP.
// Test support code panics on purpose when the system under test misbehaves, and it talks to a
// real server process, so it reads the real clock rather than an injected one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod admission;
mod audit;
mod browser;
mod cli;
mod demo;
mod deployment;
mod discovery;
mod ekyc_plan;
mod errors;
mod fapi2;
mod flows;
mod harness;
mod helm;
mod hsm;
mod hsm_import;
mod hsm_kek;
mod ida;
mod login;
mod notification;
mod rest_identity;
mod scaleout;
mod session;
mod signup;
mod signup_redirect;
mod sunbird;
mod telemetry;
mod verify;
mod wallet;
