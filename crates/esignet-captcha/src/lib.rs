//! Captcha verifiers for eSignet-rs, behind the [`esignet_spi::CaptchaVerifier`] seam.
//!
//! * [`PowCaptcha`]: a built-in, offline proof-of-work captcha. The server issues a stateless,
//!   HMAC-signed challenge (random salt, difficulty, action, expiry); the browser searches a
//!   nonce with SHA-256 (`assets/captcha-pow.js`, exported here as [`POW_SOLVER_JS`]); the
//!   server checks the signature, the expiry, the action, the work and single use. No third
//!   party sees the resident, and any instance sharing the key and the cache can verify.
//! * [`RemoteCaptcha`]: the `siteverify` protocol shared by Google reCAPTCHA, hCaptcha and
//!   Cloudflare Turnstile (form `secret`, `response`, optional `remoteip`; JSON `success`).
//!
//! Which one runs, and for which actions, is configuration (`[captcha]`); the service uses
//! [`esignet_spi::NoCaptcha`] when captcha is off. See the crate README for how the login page
//! uses the proof-of-work solver.

mod hmac;
mod pow;
mod remote;

pub use pow::{
    DEFAULT_CHALLENGE_TTL, DEFAULT_DIFFICULTY_BITS, MAX_DIFFICULTY_BITS, MIN_DIFFICULTY_BITS,
    PowCaptcha, PowChallenge, PowConfig, REPLAY_NAMESPACE, solve,
};
pub use remote::{RemoteCaptcha, RemoteConfig, RemoteProvider};

/// The browser-side proof-of-work solver (`assets/captcha-pow.js`): a vanilla-JS ES module
/// exporting `solveChallenge` and `fetchAndSolve`, which also runs itself as a module Web
/// Worker. The login page serves these bytes as `text/javascript`; its interface is documented
/// in the crate README.
pub const POW_SOLVER_JS: &str = include_str!("../assets/captcha-pow.js");
