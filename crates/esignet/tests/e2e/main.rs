//! End-to-end tests: the real binary over loopback HTTP.

mod cli;
mod errors;
mod flows;
mod harness;
mod login;
mod verify;
