//! Signing-key lifecycle (being written).
