//! E-mail over SMTP (lettre's Tokio transport), with STARTTLS required, implicit TLS, or no
//! encryption to a loopback relay.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use esignet_config::{SmtpSecurity, SmtpSettings};
use esignet_spi::{Notification, NotificationChannel, NotificationError, Notifier};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::templates::Templates;
use crate::{delivered, failed};

/// Delivers [`NotificationChannel::Email`] messages through one SMTP server.
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    templates: Arc<Templates>,
    timeout: Duration,
}

impl std::fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpNotifier")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpNotifier {
    /// A notifier for `settings`, rendering with `templates`. Nothing is connected yet.
    ///
    /// # Errors
    /// The `From:` address does not parse, the CA file cannot be read or is not PEM, or the
    /// TLS parameters cannot be built.
    pub fn new(settings: &SmtpSettings, templates: Arc<Templates>) -> anyhow::Result<Self> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|_| anyhow::anyhow!("notification.smtp_from is not a mailbox"))?;
        let tls = match settings.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::Starttls => Tls::Required(tls_parameters(settings)?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters(settings)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(settings.timeout));
        if let Some(username) = &settings.username {
            let password = settings
                .password
                .as_ref()
                .map(|p| p.expose().to_owned())
                .unwrap_or_default();
            builder = builder
                .credentials(Credentials::new(username.clone(), password))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(Self {
            transport: builder.build(),
            from,
            templates,
            timeout: settings.timeout,
        })
    }

    /// Connects, greets, negotiates TLS and authenticates, then quits: what `esignet config
    /// check` proves about the server.
    ///
    /// # Errors
    /// [`NotificationError::Delivery`] describing the failure (never an address).
    pub async fn check(&self) -> Result<(), NotificationError> {
        match tokio::time::timeout(self.overall_timeout(), self.transport.test_connection()).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(NotificationError::Delivery(
                "the SMTP server did not answer NOOP".to_owned(),
            )),
            Ok(Err(error)) => Err(describe(&error)),
            Err(_) => Err(timed_out()),
        }
    }

    /// A whole send makes several round trips, each bounded by the timeout; the total is
    /// bounded too, so a server trickling bytes cannot hold a resident's request.
    fn overall_timeout(&self) -> Duration {
        self.timeout.saturating_mul(3)
    }

    async fn deliver(&self, notification: &Notification) -> Result<(), NotificationError> {
        let to: Mailbox = notification.recipient.parse().map_err(|_| {
            NotificationError::Delivery("the recipient is not an e-mail address".to_owned())
        })?;
        let rendered = self.templates.render(
            notification.template,
            &notification.locale,
            &notification.values,
        )?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(rendered.body)
            .map_err(|_| NotificationError::Delivery("cannot build the e-mail".to_owned()))?;
        match tokio::time::timeout(self.overall_timeout(), self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(describe(&error)),
            Err(_) => Err(timed_out()),
        }
    }
}

#[async_trait]
impl Notifier for SmtpNotifier {
    async fn send(&self, notification: &Notification) -> Result<(), NotificationError> {
        if notification.channel != NotificationChannel::Email {
            return Err(NotificationError::ChannelUnavailable(
                notification.channel.as_str(),
            ));
        }
        match self.deliver(notification).await {
            Ok(()) => {
                delivered(notification);
                Ok(())
            }
            Err(error) => {
                failed(notification, &error);
                Err(error)
            }
        }
    }

    fn supports(&self, channel: NotificationChannel) -> bool {
        channel == NotificationChannel::Email
    }
}

fn tls_parameters(settings: &SmtpSettings) -> anyhow::Result<TlsParameters> {
    let mut builder = TlsParameters::builder(settings.host.clone());
    if let Some(path) = &settings.ca_file {
        let pem = std::fs::read(path).map_err(|error| {
            anyhow::anyhow!(
                "cannot read notification.smtp_ca_file {}: {error}",
                path.display()
            )
        })?;
        let certificate = Certificate::from_pem(&pem).map_err(|_| {
            anyhow::anyhow!(
                "notification.smtp_ca_file {} is not a PEM certificate",
                path.display()
            )
        })?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build()
        .map_err(|error| anyhow::anyhow!("cannot set up TLS for the SMTP server: {error}"))
}

fn timed_out() -> NotificationError {
    NotificationError::Delivery("the SMTP server did not answer in time".to_owned())
}

/// An operator message for a lettre error. The error's own text is not used: an SMTP reply
/// may quote the recipient (`550 <someone@example.org>: no such user`), so only its kind and
/// reply code are reported.
fn describe(error: &lettre::transport::smtp::Error) -> NotificationError {
    let code = error
        .status()
        .map(|code| format!(" (reply code {code})"))
        .unwrap_or_default();
    let what = if error.is_timeout() {
        "the SMTP server did not answer in time".to_owned()
    } else if error.is_tls() {
        "the TLS handshake with the SMTP server failed (certificate or protocol)".to_owned()
    } else if error.is_permanent() {
        format!("the SMTP server refused the message or the credentials{code}")
    } else if error.is_transient() {
        format!("the SMTP server refused the message for now{code}")
    } else if error.is_client() {
        // lettre's client errors are its own fixed texts (STARTTLS not offered, no common
        // authentication mechanism): no address in them.
        format!("the SMTP exchange failed: {error}")
    } else if error.is_response() {
        "the SMTP server's answer could not be read".to_owned()
    } else {
        // Connection-level failures (refused, unresolvable host, certificate rejected)
        // happen before any address is sent: their cause is safe to show.
        let mut cause = String::new();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            cause = inner.to_string();
            source = inner.source();
        }
        if cause.is_empty() {
            "cannot connect to the SMTP server".to_owned()
        } else {
            format!("cannot connect to the SMTP server: {cause}")
        }
    };
    NotificationError::Delivery(what)
}
