//! SMS over an HTTP gateway: one request per message, its body a template with `{recipient}`,
//! `{message}` and `{requesttime}` substituted (escaped for the content type).

use std::sync::Arc;

use async_trait::async_trait;
use esignet_config::{SmsGatewaySettings, SmsMethod};
use esignet_spi::{Clock, Notification, NotificationChannel, NotificationError, Notifier};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use time::macros::format_description;

use crate::templates::Templates;
use crate::{delivered, failed};

/// How placeholder values are escaped in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escaping {
    /// Inside a JSON string literal (`application/json`, `*+json`).
    Json,
    /// A form value (`application/x-www-form-urlencoded`).
    Form,
    /// As they are (`text/plain` and anything else).
    Raw,
}

/// Delivers [`NotificationChannel::Sms`] messages through an HTTP gateway.
pub struct HttpSmsNotifier {
    client: reqwest::Client,
    url: url::Url,
    method: reqwest::Method,
    body_template: String,
    escaping: Escaping,
    templates: Arc<Templates>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for HttpSmsNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a key in its query: only the host is shown.
        f.debug_struct("HttpSmsNotifier")
            .field("host", &self.url.host_str())
            .finish_non_exhaustive()
    }
}

impl HttpSmsNotifier {
    /// A notifier for `settings`, rendering with `templates`; `clock` stamps `{requesttime}`.
    ///
    /// # Errors
    /// A header value is not a valid HTTP header value, or the HTTP client cannot be built.
    pub fn new(
        settings: &SmsGatewaySettings,
        templates: Arc<Templates>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let mut headers = HeaderMap::new();
        let content_type = HeaderValue::from_str(&settings.content_type)
            .map_err(|_| anyhow::anyhow!("notification.sms_content_type is not a header value"))?;
        headers.insert(CONTENT_TYPE, content_type);
        for (name, value) in &settings.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| anyhow::anyhow!("notification.sms_headers: bad name {name}"))?;
            // The value is never echoed: it is usually a credential.
            let mut value = HeaderValue::from_str(value.expose()).map_err(|_| {
                anyhow::anyhow!("notification.sms_headers: the value of {name} is not valid")
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A redirect would replay the phone number and the OTP to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let media = settings.content_type.to_ascii_lowercase();
        let essence = media.split(';').next().unwrap_or_default().trim();
        let escaping = if essence == "application/json" || essence.ends_with("+json") {
            Escaping::Json
        } else if essence == "application/x-www-form-urlencoded" {
            Escaping::Form
        } else {
            Escaping::Raw
        };
        Ok(Self {
            client,
            url: settings.url.clone(),
            method: match settings.method {
                SmsMethod::Post => reqwest::Method::POST,
                SmsMethod::Put => reqwest::Method::PUT,
            },
            body_template: settings.body_template.clone(),
            escaping,
            templates,
            clock,
        })
    }

    /// Opens a TCP connection to the gateway's host and port (no request is sent): what
    /// `esignet config check` proves about the gateway.
    ///
    /// # Errors
    /// [`NotificationError::Delivery`] when the host does not resolve or does not accept.
    pub async fn check(&self, timeout: std::time::Duration) -> Result<(), NotificationError> {
        let host = self.url.host_str().unwrap_or_default().to_owned();
        let port = self.url.port_or_known_default().unwrap_or(443);
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port))).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(NotificationError::Delivery(format!(
                "cannot connect to the SMS gateway: {error}"
            ))),
            Err(_) => Err(NotificationError::Delivery(
                "the SMS gateway did not accept a connection in time".to_owned(),
            )),
        }
    }

    /// The request body for `recipient` and `message`.
    fn body(&self, recipient: &str, message: &str) -> String {
        let now = self
            .clock
            .now()
            .to_offset(time::UtcOffset::UTC)
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .unwrap_or_default();
        let escape = |value: &str| match self.escaping {
            Escaping::Json => {
                let quoted = serde_json::Value::from(value).to_string();
                quoted[1..quoted.len() - 1].to_owned()
            }
            Escaping::Form => url::form_urlencoded::byte_serialize(value.as_bytes()).collect(),
            Escaping::Raw => value.to_owned(),
        };
        // One pass, so a message containing `{recipient}` is not substituted again.
        let mut out = String::with_capacity(self.body_template.len() + message.len());
        let mut rest = self.body_template.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start..];
            let (value, len) = if after.starts_with("{recipient}") {
                (Some(escape(recipient)), "{recipient}".len())
            } else if after.starts_with("{message}") {
                (Some(escape(message)), "{message}".len())
            } else if after.starts_with("{requesttime}") {
                (Some(now.clone()), "{requesttime}".len())
            } else {
                (None, 1)
            };
            match value {
                Some(value) => out.push_str(&value),
                None => out.push('{'),
            }
            rest = &after[len..];
        }
        out.push_str(rest);
        out
    }

    async fn deliver(&self, notification: &Notification) -> Result<(), NotificationError> {
        let rendered = self.templates.render(
            notification.template,
            &notification.locale,
            &notification.values,
        )?;
        let body = self.body(&notification.recipient, &rendered.body);
        let response = self
            .client
            .request(self.method.clone(), self.url.clone())
            .body(body)
            .send()
            .await
            .map_err(|error| {
                // reqwest's error text names the URL, which may hold a key: kinds only.
                let what = if error.is_timeout() {
                    "the SMS gateway did not answer in time"
                } else if error.is_connect() {
                    "cannot connect to the SMS gateway"
                } else {
                    "the request to the SMS gateway failed"
                };
                NotificationError::Delivery(what.to_owned())
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            // The gateway's body may repeat the number: only the status is reported.
            Err(NotificationError::Delivery(format!(
                "the SMS gateway answered HTTP {}",
                status.as_u16()
            )))
        }
    }
}

#[async_trait]
impl Notifier for HttpSmsNotifier {
    async fn send(&self, notification: &Notification) -> Result<(), NotificationError> {
        if notification.channel != NotificationChannel::Sms {
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
        channel == NotificationChannel::Sms
    }
}
