//! Delivery of OTPs and signup notifications to residents: e-mail over SMTP
//! ([`SmtpNotifier`]), SMS over an HTTP gateway ([`HttpSmsNotifier`]), and the router between
//! them ([`ChannelNotifier`]), all behind the [`esignet_spi::Notifier`] seam.
//!
//! Texts come from [`Templates`]: built-in defaults for every template in the seven UI
//! languages, overridable per template and language from `[notification]`.
//!
//! # What is logged
//!
//! Each delivery logs its channel, template and the *masked* recipient
//! ([`esignet_spi::mask_recipient`]); never the address, the number, the OTP or the text. A
//! failure is a [`NotificationError::Delivery`] whose message names the kind of failure (a
//! timeout, an SMTP reply code, an HTTP status) and never the recipient or the values: SMTP
//! replies and gateway bodies, which may quote the recipient, are not passed on.
#![deny(missing_docs)]

mod sms;
mod smtp;
mod templates;

use std::sync::Arc;

use async_trait::async_trait;
use esignet_config::NotificationSettings;
use esignet_spi::{
    Clock, Notification, NotificationChannel, NotificationError, Notifier, mask_recipient,
};

pub use sms::HttpSmsNotifier;
pub use smtp::SmtpNotifier;
pub use templates::{LANGUAGES, Rendered, Templates};

/// Routes each notification to the transport of its channel; either may be absent.
#[derive(Clone, Default)]
pub struct ChannelNotifier {
    sms: Option<Arc<dyn Notifier>>,
    email: Option<Arc<dyn Notifier>>,
}

impl std::fmt::Debug for ChannelNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelNotifier")
            .field("sms", &self.sms.is_some())
            .field("email", &self.email.is_some())
            .finish()
    }
}

impl ChannelNotifier {
    /// A router over the given transports.
    pub fn new(sms: Option<Arc<dyn Notifier>>, email: Option<Arc<dyn Notifier>>) -> Self {
        Self { sms, email }
    }

    /// The transports `settings` configures, or `None` when it configures neither (the caller
    /// keeps its default).
    ///
    /// # Errors
    /// A transport cannot be set up (unreadable CA file, bad header value, ...).
    pub fn from_settings(
        settings: &NotificationSettings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Option<Self>> {
        let transports = Transports::from_settings(settings, clock)?;
        Ok(transports
            .is_configured()
            .then(|| transports.into_notifier()))
    }
}

#[async_trait]
impl Notifier for ChannelNotifier {
    async fn send(&self, notification: &Notification) -> Result<(), NotificationError> {
        let transport = match notification.channel {
            NotificationChannel::Sms => self.sms.as_ref(),
            NotificationChannel::Email => self.email.as_ref(),
        };
        match transport {
            Some(transport) => transport.send(notification).await,
            None => Err(NotificationError::ChannelUnavailable(
                notification.channel.as_str(),
            )),
        }
    }

    fn supports(&self, channel: NotificationChannel) -> bool {
        match channel {
            NotificationChannel::Sms => self.sms.is_some(),
            NotificationChannel::Email => self.email.is_some(),
        }
    }
}

/// The concrete transports of a configuration, kept typed so that `config check` can probe
/// them before they are erased into a [`ChannelNotifier`].
#[derive(Debug, Default)]
pub struct Transports {
    /// The SMS gateway, with its timeout.
    pub sms: Option<(Arc<HttpSmsNotifier>, std::time::Duration)>,
    /// The SMTP server.
    pub email: Option<Arc<SmtpNotifier>>,
}

impl Transports {
    /// Builds the transports `settings` configures, sharing one set of [`Templates`].
    ///
    /// # Errors
    /// As [`ChannelNotifier::from_settings`].
    pub fn from_settings(
        settings: &NotificationSettings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let templates = Arc::new(Templates::new(
            &settings.default_language,
            &settings.templates,
            &settings.email_subjects,
        ));
        let sms = match &settings.sms {
            Some(sms) => Some((
                Arc::new(HttpSmsNotifier::new(sms, templates.clone(), clock)?),
                sms.timeout,
            )),
            None => None,
        };
        let email = match &settings.smtp {
            Some(smtp) => Some(Arc::new(SmtpNotifier::new(smtp, templates)?)),
            None => None,
        };
        Ok(Self { sms, email })
    }

    /// Whether any transport is configured.
    pub fn is_configured(&self) -> bool {
        self.sms.is_some() || self.email.is_some()
    }

    /// Proves each transport can be reached: a TCP connection to the gateway; a full SMTP
    /// session (greeting, TLS, AUTH) with the server. Returns one message per failure,
    /// naming the configuration key.
    pub async fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some((sms, timeout)) = &self.sms
            && let Err(error) = sms.check(*timeout).await
        {
            problems.push(format!("notification.sms_url: {error}"));
        }
        if let Some(email) = &self.email
            && let Err(error) = email.check().await
        {
            problems.push(format!("notification.smtp_host: {error}"));
        }
        problems
    }

    /// The router over these transports.
    pub fn into_notifier(self) -> ChannelNotifier {
        ChannelNotifier {
            sms: self.sms.map(|(sms, _)| sms as Arc<dyn Notifier>),
            email: self.email.map(|email| email as Arc<dyn Notifier>),
        }
    }
}

/// Logs a delivery: channel, template, masked recipient.
pub(crate) fn delivered(notification: &Notification) {
    tracing::info!(
        channel = notification.channel.as_str(),
        template = notification.template.as_str(),
        recipient = %mask_recipient(notification.channel, &notification.recipient),
        "notification delivered"
    );
}

/// Logs a failed delivery: channel, template, masked recipient and the (address-free) error.
pub(crate) fn failed(notification: &Notification, error: &NotificationError) {
    tracing::warn!(
        channel = notification.channel.as_str(),
        template = notification.template.as_str(),
        recipient = %mask_recipient(notification.channel, &notification.recipient),
        %error,
        "notification not delivered"
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use esignet_spi::NotificationTemplate;

    use super::*;

    fn note(channel: NotificationChannel) -> Notification {
        Notification {
            channel,
            recipient: "8267411571".to_owned(),
            template: NotificationTemplate::SignupOtp,
            locale: "eng".to_owned(),
            values: BTreeMap::new(),
        }
    }

    #[tokio::test]
    async fn an_unconfigured_channel_is_unavailable() {
        let router = ChannelNotifier::default();
        assert!(!router.supports(NotificationChannel::Sms));
        assert!(!router.supports(NotificationChannel::Email));
        assert_eq!(
            router.send(&note(NotificationChannel::Email)).await,
            Err(NotificationError::ChannelUnavailable("email"))
        );
    }

    #[test]
    fn no_transport_configured_means_no_notifier() {
        assert!(
            ChannelNotifier::from_settings(
                &NotificationSettings::default(),
                Arc::new(esignet_spi::SystemClock)
            )
            .unwrap()
            .is_none()
        );
    }
}
