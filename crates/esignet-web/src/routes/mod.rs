//! Route tables, one module per API family.

pub mod authorization;
pub mod binding;
pub mod captcha;
pub mod client_mgmt;
pub mod linked;
pub mod oidc;
pub mod session;
pub mod signup_redirect;
