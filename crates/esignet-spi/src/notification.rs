//! The notification seam: deliver a message (an OTP, a registration confirmation) to a
//! resident over SMS or e-mail.
//!
//! Callers name *what* to send ([`NotificationTemplate`] plus the values to substitute) and to
//! *whom*; the implementation owns the per-language templates and the transport (SMTP, an HTTP
//! SMS gateway, ...). Keeping templates on the implementation side means an operator changes
//! wording without touching the flows that send.

use std::collections::BTreeMap;

use async_trait::async_trait;

/// The channel a notification goes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationChannel {
    /// A text message to a phone number.
    Sms,
    /// An e-mail message.
    Email,
}

impl NotificationChannel {
    /// The lower-case channel name used in configuration and eSignet's `otpChannels`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Email => "email",
        }
    }
}

/// What is being sent: selects the template (per language) on the implementation side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationTemplate {
    /// A one-time password for a login (values: `otp`, `validity_minutes`).
    LoginOtp,
    /// A one-time password for signup or password reset (values: `challenge`).
    SignupOtp,
    /// The account was registered.
    Registration,
    /// The password was changed.
    ForgotPassword,
}

impl NotificationTemplate {
    /// The template's configuration name (`send-otp`, `registration`, ... as in eSignet's
    /// `sms-notification-template.<name>.<lang>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginOtp => "login-otp",
            Self::SignupOtp => "send-otp",
            Self::Registration => "registration",
            Self::ForgotPassword => "forgot-password",
        }
    }
}

/// One message to deliver.
#[derive(Debug, Clone)]
pub struct Notification {
    /// SMS or e-mail.
    pub channel: NotificationChannel,
    /// The phone number (as the identity system holds it) or e-mail address. Personal data:
    /// never log it (log [`mask_recipient`] instead).
    pub recipient: String,
    /// Which template to render.
    pub template: NotificationTemplate,
    /// The resident's language (three-letter code, e.g. `eng`); implementations fall back to
    /// their default language when they have no template in it.
    pub locale: String,
    /// Values substituted into the template (`{otp}`, `{challenge}`). Secret: never log them.
    pub values: BTreeMap<String, String>,
}

/// A delivery failure. The message is for operators and must hold neither the recipient nor
/// the substituted values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    /// The channel is not configured on this deployment.
    #[error("notification channel {0} is not configured")]
    ChannelUnavailable(&'static str),
    /// The transport refused or failed (SMTP error, gateway 5xx, timeout).
    #[error("notification delivery failed: {0}")]
    Delivery(String),
    /// No template for this message (in any language).
    #[error("no notification template {0}")]
    MissingTemplate(&'static str),
}

/// Delivers notifications.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends one message; returns once the transport accepted it.
    async fn send(&self, notification: &Notification) -> Result<(), NotificationError>;

    /// Whether `channel` can be delivered at all (so a caller can refuse early, and the UI can
    /// offer only working channels).
    fn supports(&self, channel: NotificationChannel) -> bool;
}

/// Masks a recipient the way eSignet shows it to the resident (`maskedMobile`,
/// `maskedEmail`): a phone number keeps its last four digits (`XXXXXX1571`); an e-mail keeps
/// the first and last character of the local part where it is longer than two characters, and
/// the domain (`aXXXXXe@example.org`).
pub fn mask_recipient(channel: NotificationChannel, recipient: &str) -> String {
    match channel {
        NotificationChannel::Sms => {
            let chars: Vec<char> = recipient.chars().collect();
            let keep = chars.len().min(4);
            let hidden = chars.len() - keep;
            let mut masked = "X".repeat(hidden);
            masked.extend(&chars[hidden..]);
            masked
        }
        NotificationChannel::Email => match recipient.rsplit_once('@') {
            Some((local, domain)) => {
                let chars: Vec<char> = local.chars().collect();
                let masked_local = if chars.len() <= 2 {
                    "X".repeat(chars.len())
                } else {
                    let mut s = String::new();
                    s.push(chars[0]);
                    s.push_str(&"X".repeat(chars.len() - 2));
                    s.push(chars[chars.len() - 1]);
                    s
                };
                format!("{masked_local}@{domain}")
            }
            None => "X".repeat(recipient.chars().count()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_keep_their_last_four_digits() {
        assert_eq!(
            mask_recipient(NotificationChannel::Sms, "8267411571"),
            "XXXXXX1571"
        );
        assert_eq!(mask_recipient(NotificationChannel::Sms, "123"), "123");
    }

    #[test]
    fn emails_keep_the_domain_and_the_ends_of_the_local_part() {
        assert_eq!(
            mask_recipient(NotificationChannel::Email, "siddharth@example.org"),
            "sXXXXXXXh@example.org"
        );
        assert_eq!(
            mask_recipient(NotificationChannel::Email, "ab@example.org"),
            "XX@example.org"
        );
        assert_eq!(
            mask_recipient(NotificationChannel::Email, "nodomain"),
            "XXXXXXXX"
        );
    }
}
