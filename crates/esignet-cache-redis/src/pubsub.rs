//! Subscriptions: a dedicated Redis connection each, kept up by a task that subscribes again
//! after the connection is lost, until the subscriber drops the stream.

use std::time::Duration;

use esignet_spi::{CacheError, Subscription};
use futures::StreamExt;
use redis::Client;
use redis::aio::{PubSubSink, PubSubStream};
use tokio::sync::mpsc;

/// Messages buffered for a subscriber that has not read them yet. When it is full the task
/// stops reading from Redis until there is room (Redis buffers meanwhile, and drops the
/// connection past its pub/sub output limit, after which the task subscribes again).
const BUFFER: usize = 1024;

/// The first wait before subscribing again after a lost connection; doubled per failed
/// attempt up to [`MAX_RETRY_DELAY`].
const MIN_RETRY_DELAY: Duration = Duration::from_millis(100);

/// The longest wait between attempts to subscribe again.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(3);

/// What a subscription needs to (re)connect.
pub(crate) struct Settings {
    pub(crate) client: Client,
    /// The full Redis channel name (prefixed).
    pub(crate) channel: String,
    /// The server address, for logs.
    pub(crate) server: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) command_timeout: Duration,
}

/// Subscribes to `settings.channel` and returns the stream of its messages.
///
/// Returns only once Redis has confirmed the subscription, so every message published after
/// this returns is delivered (while the connection holds).
pub(crate) async fn subscribe(settings: Settings) -> Result<Subscription, CacheError> {
    let connection = connect(&settings).await.map_err(|problem| {
        tracing::warn!(server = %settings.server, problem, "Redis subscribe failed");
        CacheError::Unavailable(format!("subscribe: {problem}"))
    })?;
    let (sender, receiver) = mpsc::channel(BUFFER);
    tokio::spawn(forward(settings, connection, sender));
    Ok(
        futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|message| (message, receiver))
        })
        .boxed(),
    )
}

/// A connection subscribed to the channel: the sink must be kept for the stream to live.
type Subscribed = (PubSubSink, PubSubStream);

/// Opens a dedicated connection and subscribes it, each step under its timeout. The error is a
/// description for logs (no URL, no payload).
async fn connect(settings: &Settings) -> Result<Subscribed, String> {
    let pubsub = tokio::time::timeout(settings.connect_timeout, settings.client.get_async_pubsub())
        .await
        .map_err(|_| "connecting timed out".to_owned())?
        .map_err(|error| format!("cannot connect: {error}"))?;
    let (mut sink, stream) = pubsub.split();
    tokio::time::timeout(
        settings.command_timeout,
        sink.subscribe(settings.channel.as_str()),
    )
    .await
    .map_err(|_| "SUBSCRIBE timed out".to_owned())?
    .map_err(|error| format!("SUBSCRIBE failed: {error}"))?;
    Ok((sink, stream))
}

/// Delivers messages to the subscriber, subscribing again whenever the connection is lost,
/// until the subscriber drops its stream.
async fn forward(settings: Settings, mut connection: Subscribed, sender: mpsc::Sender<String>) {
    loop {
        let (sink, mut messages) = connection;
        loop {
            tokio::select! {
                message = messages.next() => {
                    let Some(message) = message else { break };
                    // This crate publishes text only; anything else came from elsewhere.
                    let Ok(text) = String::from_utf8(message.get_payload_bytes().to_vec()) else {
                        tracing::warn!(channel = %settings.channel, "dropped a non-UTF-8 message");
                        continue;
                    };
                    if sender.send(text).await.is_err() {
                        return;
                    }
                }
                () = sender.closed() => return,
            }
        }
        drop(sink);
        tracing::warn!(
            server = %settings.server,
            channel = %settings.channel,
            "Redis subscription connection lost; subscribing again"
        );
        let mut delay = MIN_RETRY_DELAY;
        connection = loop {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = sender.closed() => return,
            }
            match connect(&settings).await {
                Ok(connection) => break connection,
                Err(problem) => {
                    tracing::debug!(channel = %settings.channel, problem, "subscribing again failed");
                    delay = (delay * 2).min(MAX_RETRY_DELAY);
                }
            }
        };
        tracing::info!(channel = %settings.channel, "Redis subscription restored");
    }
}
