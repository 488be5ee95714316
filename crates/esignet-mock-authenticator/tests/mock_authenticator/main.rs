//! `MockAuthenticator` driven through the `Authenticator` seam, with a clock-driven cache and an
//! RSA signer, the KYC checked by an independent JWT library.

mod binding;
mod exchange;
mod kyc_auth;
mod send_otp;
mod support;
