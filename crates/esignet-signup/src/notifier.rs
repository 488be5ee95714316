//! The default notifier of embedded and demo deployments: it delivers nothing and logs only the
//! masked recipient and the template name (never the OTP or the number).

use async_trait::async_trait;
use esignet_spi::{Notification, NotificationChannel, NotificationError, Notifier, mask_recipient};

/// Logs `template` and the masked recipient at info level; never the values.
#[derive(Debug, Default, Clone, Copy)]
pub struct MaskedLogNotifier;

#[async_trait]
impl Notifier for MaskedLogNotifier {
    async fn send(&self, notification: &Notification) -> Result<(), NotificationError> {
        tracing::info!(
            channel = notification.channel.as_str(),
            template = notification.template.as_str(),
            recipient = %mask_recipient(notification.channel, &notification.recipient),
            "signup notification (not delivered: no transport configured)"
        );
        Ok(())
    }

    fn supports(&self, channel: NotificationChannel) -> bool {
        channel == NotificationChannel::Sms
    }
}
