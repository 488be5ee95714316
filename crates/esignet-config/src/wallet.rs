//! Validation of the `[wallet]` section (kept apart from `validate.rs` for size; it uses the
//! same helpers and records problems the same way).

use std::time::Duration;

use crate::error::Problems;
use crate::raw::WalletRaw;
use crate::settings::WalletSettings;
use crate::validate::{bounded, secs};

/// Longest accepted binding-certificate validity, in days (ten years).
const MAX_CERTIFICATE_DAYS: u64 = 3650;

pub(crate) fn wallet(
    raw: WalletRaw,
    request_timeout: Duration,
    problems: &mut Problems,
) -> WalletSettings {
    let mut long_poll = |key: &str, value: u64| {
        let wait = secs(problems, key, value, 1);
        // A long poll outliving the request timeout would be cut off by the server itself, and
        // the login page would see a gateway error instead of `response_timeout`.
        if wait >= request_timeout {
            problems.push(
                key,
                format!(
                    "must be less than server.request_timeout_secs ({})",
                    request_timeout.as_secs()
                ),
            );
        }
        wait
    };
    let link_status_timeout = long_poll(
        "wallet.link_status_timeout_secs",
        raw.link_status_timeout_secs,
    );
    let link_auth_code_timeout = long_poll(
        "wallet.link_auth_code_timeout_secs",
        raw.link_auth_code_timeout_secs,
    );
    let binding_audience = raw.binding_audience.trim().to_owned();
    if binding_audience.is_empty() {
        problems.push("wallet.binding_audience", "must not be empty");
    }
    let certificate_days = bounded(
        problems,
        "wallet.certificate_validity_days",
        raw.certificate_validity_days,
        1,
        MAX_CERTIFICATE_DAYS,
    );
    WalletSettings {
        link_code_ttl: secs(
            problems,
            "wallet.link_code_ttl_secs",
            raw.link_code_ttl_secs,
            1,
        ),
        link_code_length: usize::try_from(bounded(
            problems,
            "wallet.link_code_length",
            raw.link_code_length,
            8,
            64,
        ))
        .unwrap_or(15),
        link_code_limit: bounded(
            problems,
            "wallet.link_code_limit",
            raw.link_code_limit,
            1,
            100,
        ),
        active_link_codes: bounded(
            problems,
            "wallet.active_link_codes",
            raw.active_link_codes,
            1,
            10,
        ),
        link_status_timeout,
        link_auth_code_timeout,
        linked_ttl: secs(problems, "wallet.linked_ttl_secs", raw.linked_ttl_secs, 1),
        linked_auth_ttl: secs(
            problems,
            "wallet.linked_auth_ttl_secs",
            raw.linked_auth_ttl_secs,
            1,
        ),
        consented_ttl: secs(
            problems,
            "wallet.consented_ttl_secs",
            raw.consented_ttl_secs,
            1,
        ),
        binding_audience,
        wla_max_age: secs(problems, "wallet.wla_max_age_secs", raw.wla_max_age_secs, 1),
        wla_clock_skew: secs(
            problems,
            "wallet.wla_clock_skew_secs",
            raw.wla_clock_skew_secs,
            0,
        ),
        certificate_validity: Duration::from_secs(certificate_days * 86_400),
        encrypt_binding_id: raw.encrypt_binding_id,
    }
}
