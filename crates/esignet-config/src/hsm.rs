//! Validation of the HSM (PKCS#11) keys of the `[keys]` section (kept apart from `validate.rs`
//! for size; it uses the same helpers and records problems the same way).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::Problems;
use crate::raw::KeysRaw;
use crate::secret::SecretString;
use crate::settings::UnknownWord;
use crate::validate::{bounded, word};

/// Where the service's signing keys are generated and used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyBackend {
    /// In memory, stored encrypted under the key-encryption key (the default).
    Software,
    /// In a PKCS#11 token (an HSM); the private keys never leave it.
    Pkcs11,
}

impl KeyBackend {
    /// Every accepted spelling, in documentation order.
    pub const ALL: &'static [&'static str] = &["software", "pkcs11"];

    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyBackend::Software => "software",
            KeyBackend::Pkcs11 => "pkcs11",
        }
    }
}

impl fmt::Display for KeyBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyBackend {
    type Err = UnknownWord;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "software" => Ok(KeyBackend::Software),
            "pkcs11" => Ok(KeyBackend::Pkcs11),
            _ => Err(UnknownWord {
                expected: Self::ALL,
            }),
        }
    }
}

/// Which token of the PKCS#11 module holds the keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pkcs11Token {
    /// By token label.
    Label(String),
    /// By slot id.
    Slot(u64),
}

/// `keys.pkcs11_*`: how to reach the HSM (validated; present when `keys.backend = "pkcs11"`).
#[derive(Clone, Debug)]
pub struct Pkcs11Settings {
    /// The vendor's PKCS#11 module.
    pub module: PathBuf,
    /// The token.
    pub token: Pkcs11Token,
    /// The user PIN (from `keys.pkcs11_pin` or read from `keys.pkcs11_pin_file`).
    pub pin: SecretString,
    /// Prefix of the labels of the keys the service creates.
    pub key_label_prefix: String,
    /// Most sessions open at once for signing.
    pub max_sessions: usize,
    /// Whether the key-encryption key is an AES key in the token (`keys.pkcs11_kek`).
    pub kek: bool,
}

/// Longest accepted session pool.
const MAX_SESSIONS: u64 = 1024;

pub(crate) fn backend(
    raw: &KeysRaw,
    problems: &mut Problems,
) -> (KeyBackend, Option<Pkcs11Settings>) {
    let backend = word(problems, "keys.backend", &raw.backend).unwrap_or(KeyBackend::Software);
    let max_sessions = bounded(
        problems,
        "keys.pkcs11_max_sessions",
        raw.pkcs11_max_sessions,
        1,
        MAX_SESSIONS,
    );
    let prefix = raw.pkcs11_key_label_prefix.trim().to_owned();
    if prefix.is_empty() || prefix.contains(':') || prefix.len() > 32 {
        problems.push(
            "keys.pkcs11_key_label_prefix",
            "must be 1 to 32 characters without ':'",
        );
    }
    if raw.pkcs11_kek && (raw.encryption_key.is_some() || raw.encryption_key_file.is_some()) {
        problems.push(
            "keys.pkcs11_kek",
            "the key-encryption key is held in the HSM: remove keys.encryption_key and keys.encryption_key_file",
        );
    }
    if backend != KeyBackend::Pkcs11 {
        if raw.pkcs11_kek {
            problems.push("keys.pkcs11_kek", "requires keys.backend = \"pkcs11\"");
        }
        return (backend, None);
    }
    let module = match raw.pkcs11_module.as_deref().map(str::trim) {
        Some(module) if !module.is_empty() => PathBuf::from(module),
        _ => {
            problems.push(
                "keys.pkcs11_module",
                "required with keys.backend = \"pkcs11\": the path of the HSM vendor's PKCS#11 library",
            );
            PathBuf::new()
        }
    };
    let label = raw
        .pkcs11_token_label
        .as_deref()
        .map(str::trim)
        .filter(|label| !label.is_empty());
    let slot = raw
        .pkcs11_slot
        .as_deref()
        .map(str::trim)
        .filter(|slot| !slot.is_empty());
    let token = match (label, slot) {
        (Some(label), None) => Pkcs11Token::Label(label.to_owned()),
        (None, Some(slot)) => match slot.parse::<u64>() {
            Ok(slot) => Pkcs11Token::Slot(slot),
            Err(_) => {
                problems.push("keys.pkcs11_slot", "must be a slot number");
                Pkcs11Token::Slot(0)
            }
        },
        (Some(_), Some(_)) => {
            problems.push(
                "keys.pkcs11_token_label",
                "set either keys.pkcs11_token_label or keys.pkcs11_slot, not both",
            );
            Pkcs11Token::Slot(0)
        }
        (None, None) => {
            problems.push(
                "keys.pkcs11_token_label",
                "required with keys.backend = \"pkcs11\" (or set keys.pkcs11_slot)",
            );
            Pkcs11Token::Slot(0)
        }
    };
    let pin = match (&raw.pkcs11_pin, &raw.pkcs11_pin_file) {
        (Some(pin), None) => pin.clone(),
        (None, Some(file)) => match std::fs::read_to_string(file.trim()) {
            // A trailing newline is how editors and `echo` write files, never part of a PIN.
            Ok(text) => SecretString::new(text.trim_end_matches(['\r', '\n'])),
            Err(error) => {
                problems.push(
                    "keys.pkcs11_pin_file",
                    format!("cannot read {}: {error}", file.trim()),
                );
                SecretString::new("")
            }
        },
        (Some(_), Some(_)) => {
            problems.push(
                "keys.pkcs11_pin",
                "set either keys.pkcs11_pin or keys.pkcs11_pin_file, not both",
            );
            SecretString::new("")
        }
        (None, None) => {
            problems.push(
                "keys.pkcs11_pin",
                "required with keys.backend = \"pkcs11\" (prefer ESIGNET_KEYS__PKCS11_PIN or keys.pkcs11_pin_file)",
            );
            SecretString::new("")
        }
    };
    if pin.expose().is_empty() && (raw.pkcs11_pin.is_some() || raw.pkcs11_pin_file.is_some()) {
        problems.push("keys.pkcs11_pin", "the PIN is empty");
    }
    (
        backend,
        Some(Pkcs11Settings {
            module,
            token,
            pin,
            key_label_prefix: prefix,
            max_sessions: usize::try_from(max_sessions).unwrap_or(8),
            kek: raw.pkcs11_kek,
        }),
    )
}
