//! In-process publish/subscribe: one broadcast channel per channel name, alive while it has
//! subscribers.

use std::sync::Arc;

use dashmap::DashMap;
use esignet_spi::Subscription;
use futures::StreamExt;
use tokio::sync::broadcast::{self, error::RecvError};

/// The live channels, by name.
///
/// A channel's sender is created by its first subscriber and removed when its last subscriber
/// goes, so channel names used once (per-transaction event channels) do not accumulate.
/// Creation (in [`Channels::subscribe`]) and removal (in [`Membership`]'s `Drop`) both run under
/// the map's lock for that name, so a subscriber arriving while the last one leaves either joins
/// the old channel before the removal check or creates a fresh one after it; it is never left
/// holding a receiver of a sender that is no longer in the map.
#[derive(Debug)]
pub(crate) struct Channels {
    senders: DashMap<String, broadcast::Sender<String>>,
    capacity: usize,
}

impl Channels {
    /// An empty registry whose channels buffer `capacity` messages per slow subscriber.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            senders: DashMap::new(),
            capacity,
        }
    }

    /// Sends `message` to every current subscriber of `channel`; dropped if there are none.
    pub(crate) fn publish(&self, channel: &str, message: &str) {
        if let Some(sender) = self.senders.get(channel) {
            // An error only means every receiver has just gone; the message is dropped, which is
            // what publishing to a channel without subscribers does.
            sender.send(message.to_owned()).ok();
        }
    }

    /// A stream of the messages published on `channel` from now on.
    pub(crate) fn subscribe(self: &Arc<Self>, channel: &str) -> Subscription {
        let receiver = self
            .senders
            .entry(channel.to_owned())
            .or_insert_with(|| broadcast::channel(self.capacity).0)
            .subscribe();
        let membership = Membership {
            channels: Arc::clone(self),
            channel: channel.to_owned(),
            receiver: Some(receiver),
        };
        futures::stream::unfold(membership, |mut membership| async move {
            let message = membership.recv().await?;
            Some((message, membership))
        })
        .boxed()
    }

    /// How many channels currently have at least one subscriber.
    pub(crate) fn len(&self) -> usize {
        self.senders.len()
    }
}

/// One subscriber's receiver; leaving (drop) removes the channel if it was the last one.
struct Membership {
    channels: Arc<Channels>,
    channel: String,
    /// Always `Some` until `drop`, which must release the receiver before checking whether any
    /// remain.
    receiver: Option<broadcast::Receiver<String>>,
}

impl Membership {
    /// The next message, or `None` once the channel is closed.
    async fn recv(&mut self) -> Option<String> {
        let receiver = self.receiver.as_mut()?;
        loop {
            match receiver.recv().await {
                Ok(message) => return Some(message),
                // A subscriber that fell more than `capacity` messages behind loses the oldest
                // ones and carries on with what is still buffered: events are notifications, and
                // a stalled reader must not hold memory or block publishers.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        drop(self.receiver.take());
        self.channels
            .senders
            .remove_if(&self.channel, |_, sender| sender.receiver_count() == 0);
    }
}
