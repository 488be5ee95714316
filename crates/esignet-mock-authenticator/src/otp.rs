//! Send-OTP logic: which channels, and how the destinations are masked.

use esignet_spi::PluginError;

use crate::codes;
use crate::identity::Identity;

/// Masks a phone number the Java mock's way: the first `len / 2 + 1` characters become `X`
/// (`+919427357934` → `XXXXXXX357934`).
pub fn mask_mobile(phone: &str) -> String {
    let length = phone.chars().count();
    let hidden = (length / 2 + 1).min(length);
    phone
        .chars()
        .enumerate()
        .map(|(position, character)| if position < hidden { 'X' } else { character })
        .collect()
}

/// Masks an e-mail address the Java mock's way: in the local part every character whose 1-based
/// position is not a multiple of 3 becomes `X`; the domain stays
/// (`john.doe@example.com` → `XXhXXdXX@example.com`). A value without `@` is masked whole.
pub fn mask_email(email: &str) -> String {
    let (local, domain) = match email.split_once('@') {
        Some((local, domain)) => (local, Some(domain)),
        None => (email, None),
    };
    let mut masked: String = local
        .chars()
        .enumerate()
        .map(|(index, character)| if (index + 1) % 3 == 0 { character } else { 'X' })
        .collect();
    if let Some(domain) = domain {
        masked.push('@');
        masked.push_str(domain);
    }
    masked
}

/// Where an OTP goes, masked for display.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OtpDestinations {
    /// The masked e-mail address, when `email` was requested and the identity has one.
    pub masked_email: Option<String>,
    /// The masked phone number, when `phone` (or `mobile`) was requested and the identity has one.
    pub masked_mobile: Option<String>,
}

/// Works out the OTP destinations of `identity` for the requested `channels`.
///
/// Every requested channel must be one of `supported` (compared case-insensitively), else
/// `invalid_otp_channel`. `email` maps to the e-mail address, `phone` and `mobile` to the phone
/// number. If none of the requested channels has a value: `no_email_mobile_found`.
pub fn otp_destinations(
    identity: &Identity,
    channels: &[String],
    supported: &[String],
) -> Result<OtpDestinations, PluginError> {
    let mut destinations = OtpDestinations::default();
    for channel in channels {
        let channel = channel.to_ascii_lowercase();
        if !supported
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(&channel))
        {
            return Err(PluginError::new(codes::INVALID_OTP_CHANNEL));
        }
        match channel.as_str() {
            "email" => {
                destinations.masked_email = identity.email.as_deref().map(mask_email);
            }
            "phone" | "mobile" => {
                destinations.masked_mobile = identity.phone.as_deref().map(mask_mobile);
            }
            // A channel an operator allowed but the mock has no field for: nothing to send to.
            _ => {}
        }
    }
    if destinations.masked_email.is_none() && destinations.masked_mobile.is_none() {
        return Err(PluginError::new(codes::NO_EMAIL_MOBILE_FOUND));
    }
    Ok(destinations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_masking_hides_the_first_half_plus_one() {
        assert_eq!(mask_mobile("+919427357934"), "XXXXXXX357934");
        assert_eq!(mask_mobile("+85512345678"), "XXXXXXX45678");
        assert_eq!(mask_mobile("9876543210"), "XXXXXX3210");
        assert_eq!(mask_mobile("12"), "XX");
        assert_eq!(mask_mobile("1"), "X");
        assert_eq!(mask_mobile(""), "");
    }

    #[test]
    fn email_masking_keeps_every_third_local_character_and_the_domain() {
        assert_eq!(mask_email("john.doe@example.com"), "XXhXXdXX@example.com");
        assert_eq!(
            mask_email("siddharth.mansour@example.com"),
            "XXdXXaXXhXXaXXoXX@example.com"
        );
        assert_eq!(mask_email("ab@example.org"), "XX@example.org");
        assert_eq!(mask_email("abc@x.io"), "XXc@x.io");
        assert_eq!(mask_email("nodomain"), "XXdXXaXX");
    }

    fn identity(email: Option<&str>, phone: Option<&str>) -> Identity {
        let mut value = serde_json::json!({"individualId": "1"});
        if let Some(email) = email {
            value["email"] = email.into();
        }
        if let Some(phone) = phone {
            value["phone"] = phone.into();
        }
        serde_json::from_value(value).unwrap()
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| (*value).to_owned()).collect()
    }

    #[test]
    fn destinations_follow_the_requested_channels() {
        let supported = strings(&["email", "phone"]);
        let both = identity(Some("ann@example.com"), Some("+911234567890"));
        let result = otp_destinations(&both, &strings(&["EMAIL", "phone"]), &supported).unwrap();
        assert_eq!(result.masked_email.as_deref(), Some("XXn@example.com"));
        assert_eq!(result.masked_mobile.as_deref(), Some("XXXXXXX567890"));

        let email_only = otp_destinations(&both, &strings(&["email"]), &supported).unwrap();
        assert_eq!(email_only.masked_mobile, None);
    }

    #[test]
    fn a_missing_destination_is_skipped_unless_it_is_the_only_one() {
        let supported = strings(&["email", "phone"]);
        let phone_only = identity(None, Some("+85512345678"));
        let result =
            otp_destinations(&phone_only, &strings(&["email", "phone"]), &supported).unwrap();
        assert_eq!(result.masked_email, None);
        assert!(result.masked_mobile.is_some());

        let error = otp_destinations(&phone_only, &strings(&["email"]), &supported).unwrap_err();
        assert_eq!(error.code, "no_email_mobile_found");
        let error = otp_destinations(&phone_only, &[], &supported).unwrap_err();
        assert_eq!(error.code, "no_email_mobile_found");
    }

    #[test]
    fn unsupported_channels_are_rejected_before_anything_else() {
        let supported = strings(&["email", "phone"]);
        let both = identity(Some("ann@example.com"), Some("+911234567890"));
        for channels in [&["sms"][..], &["email", "mobile"][..], &["fax"][..]] {
            let error = otp_destinations(&both, &strings(channels), &supported).unwrap_err();
            assert_eq!(error.code, "invalid_otp_channel", "{channels:?}");
        }
        let with_mobile = strings(&["email", "mobile"]);
        let result = otp_destinations(&both, &strings(&["mobile"]), &with_mobile).unwrap();
        assert_eq!(result.masked_mobile.as_deref(), Some("XXXXXXX567890"));
    }
}
