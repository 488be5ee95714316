//! The shared [`Cache`] of eSignet-rs: Redis, for deployments that run several instances.
//!
//! [`RedisCache`] keeps every entry in Redis under `<prefix>:<namespace>::<key>` (eSignet's own
//! layout, prefix `esignet` by default) with the entry's TTL as the key's expiry, so every
//! instance sees the same transactions, one-time codes, replay caches and counters. Each
//! operation is one atomic Redis step:
//!
//! | operation | Redis |
//! |---|---|
//! | `put` | `SET key value PX ttl` |
//! | `get` | `GET key` |
//! | `take` | `GETDEL key` (Redis 6.2 or later; checked by [`RedisCache::connect`]) |
//! | `delete` | `DEL key` |
//! | `put_if_absent` | `SET key value NX PX ttl` |
//! | `increment` | a Lua script: `INCR`, then `PEXPIRE` only when the result is 1 |
//! | `batch` | one Lua script running every step (atomic, one round trip) |
//! | `publish` / `subscribe` | `PUBLISH` / `SUBSCRIBE` on `<prefix>:<channel>` |
//!
//! TTLs are whole milliseconds (Redis' resolution), rounded up, so an entry never expires early;
//! a zero TTL lives one millisecond. Namespaces must not contain `:`, so that no two
//! (namespace, key) pairs share a Redis key; the service's namespaces are plain words.
//!
//! # Configuration
//!
//! [`RedisCache::connect`] takes a Redis URL (`redis://[user:password@]host[:port][/db]`) and
//! [`RedisOptions`]: the key `prefix` (instances sharing a prefix share entries: give unrelated
//! deployments on one Redis different prefixes), the `command_timeout` (2 s) bounding every
//! operation, and the `connect_timeout` (2 s) bounding each connection attempt.
//!
//! One Redis server (or a proxy in front of several) is supported: not Redis Cluster's
//! redirections, and not TLS (`rediss://`), which is not compiled in.
//!
//! # Failure behaviour
//!
//! Every operation is bounded by `command_timeout` and fails with
//! [`CacheError::Unavailable`] when Redis is down, unreachable, slow or answers with an error.
//! Commands share one multiplexed connection managed by redis-rs' `ConnectionManager`: when the
//! connection breaks it is re-established in the background, one attempt at a time, so while
//! Redis is down each call fails fast (a refused connection is reported at once rather than
//! retried until the timeout), and the first call after Redis is back succeeds, with the same
//! `RedisCache`. A call that fails after its command was sent may or may not have taken effect;
//! none is retried in that case, because `take` and `increment` must not run twice.
//!
//! Each subscription has a dedicated connection. If it is lost, the subscription reconnects and
//! subscribes again by itself, backing off up to a few seconds between attempts; messages
//! published in between are lost (Redis pub/sub delivers to whoever listens at that moment).
//!
//! Errors and logs name operations and the server address, never keys' values, and never the
//! password of the URL.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use esignet_spi::{BatchOutcome, Cache, CacheError, CacheReply, CacheStep, Subscription};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, RedisError, Script};

mod pubsub;

/// Default [`RedisOptions::prefix`], eSignet's own.
pub const DEFAULT_PREFIX: &str = "esignet";

/// Default [`RedisOptions::command_timeout`].
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// Default [`RedisOptions::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest TTL sent to Redis, about a hundred years: as good as never, and far from the
/// overflow Redis refuses (`PX` plus the current time must fit in 64 bits).
const MAX_TTL_MILLIS: u64 = 100 * 365 * 24 * 3600 * 1000;

/// `INCR`, and on the first increment `PEXPIRE`, in one atomic step: the counter expires `ttl`
/// after its creation, and later increments do not extend it.
const INCREMENT_SCRIPT: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
";

/// A batch of steps as one atomic script (one round trip). `KEYS[i]` is step i's key; `ARGV`
/// holds, per step, its code and then its arguments: `G`/`T` (get / GETDEL) and whether the
/// entry is required (`1`/`0`), `P` (SET PX) the value and the TTL in ms, `D` (DEL), `I`
/// (INCR, PEXPIRE on creation) the TTL in ms. The reply is `{1, reply...}` when every step ran
/// and `{0, i}` when the required entry of step i (1-based) was absent; a value that is absent
/// is `false`, which Redis answers as nil.
const BATCH_SCRIPT: &str = r"
local replies = {1}
local a = 1
for i = 1, #KEYS do
  local op = ARGV[a]
  if op == 'G' or op == 'T' then
    local value
    if op == 'G' then value = redis.call('GET', KEYS[i]) else value = redis.call('GETDEL', KEYS[i]) end
    if value == false and ARGV[a + 1] == '1' then return {0, i} end
    replies[#replies + 1] = value
    a = a + 2
  elseif op == 'P' then
    redis.call('SET', KEYS[i], ARGV[a + 1], 'PX', ARGV[a + 2])
    replies[#replies + 1] = 1
    a = a + 3
  elseif op == 'D' then
    redis.call('DEL', KEYS[i])
    replies[#replies + 1] = 1
    a = a + 1
  elseif op == 'I' then
    local count = redis.call('INCR', KEYS[i])
    if count == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[a + 1]) end
    replies[#replies + 1] = count
    a = a + 2
  else
    return redis.error_reply('unknown batch step')
  end
end
return replies
";

/// Settings of a [`RedisCache`]. See the crate documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisOptions {
    /// The first part of every key and channel name.
    pub prefix: String,
    /// The most one operation may take, waiting for a connection included.
    pub command_timeout: Duration,
    /// The most one attempt to open a connection may take.
    pub connect_timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_PREFIX.to_owned(),
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

/// A [`Cache`] in Redis, shared by every instance using the same server and prefix.
pub struct RedisCache {
    /// Opens the dedicated connections of subscriptions.
    client: Client,
    /// The shared, self-reconnecting connection for commands. Cheap to clone.
    commands: ConnectionManager,
    /// The server address, for logs (never the URL: it may hold a password).
    server: String,
    prefix: String,
    command_timeout: Duration,
    connect_timeout: Duration,
    increment: Script,
    batch: Script,
}

impl std::fmt::Debug for RedisCache {
    // Written by hand so that no connection details beyond the address are ever printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("server", &self.server)
            .field("prefix", &self.prefix)
            .field("command_timeout", &self.command_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    /// Connects to the Redis server at `url` and checks that it can serve this cache.
    ///
    /// The first connection is opened here, so a wrong URL, refused credentials or an
    /// unreachable server are reported at start-up; later losses are repaired by reconnecting.
    ///
    /// # Errors
    ///
    /// `Unavailable` if the URL does not parse, the server cannot be reached within
    /// `connect_timeout` (plus `command_timeout` for the check), refuses the login, or is older
    /// than Redis 6.2 (no `GETDEL`). The message never contains the URL.
    pub async fn connect(url: &str, options: RedisOptions) -> Result<Arc<Self>, CacheError> {
        if url.starts_with("rediss://") {
            return Err(CacheError::Unavailable(
                "Redis over TLS (rediss://) is not supported by this build".to_owned(),
            ));
        }
        let client = Client::open(url).map_err(|_| {
            // Only a fixed message: the URL, and so the parse error, may contain the password.
            CacheError::Unavailable(
                "invalid Redis URL (expected redis://[user:password@]host[:port][/db])".to_owned(),
            )
        })?;
        let server = client.get_connection_info().addr().to_string();
        tracing::info!(%server, prefix = %options.prefix, "connecting to Redis");
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.command_timeout))
            // One attempt per reconnection: while Redis is down, callers get the refusal at
            // once instead of waiting out a backoff; the next call starts the next attempt.
            .set_number_of_retries(0);
        let commands = tokio::time::timeout(
            options.connect_timeout,
            ConnectionManager::new_with_config(client.clone(), config),
        )
        .await
        .map_err(|_| {
            tracing::warn!(%server, "connecting to Redis timed out");
            CacheError::Unavailable(format!("connecting to Redis at {server} timed out"))
        })?
        .map_err(|error| {
            tracing::warn!(%server, %error, "cannot connect to Redis");
            CacheError::Unavailable(format!("cannot connect to Redis at {server}: {error}"))
        })?;
        let cache = Self {
            client,
            commands,
            server,
            prefix: options.prefix,
            command_timeout: options.command_timeout,
            connect_timeout: options.connect_timeout,
            increment: Script::new(INCREMENT_SCRIPT),
            batch: Script::new(BATCH_SCRIPT),
        };
        cache.check_server().await?;
        Ok(Arc::new(cache))
    }

    /// `GETDEL` on a key no entry can have (it has no `::`), to refuse a server that lacks it
    /// now rather than fail every one-time code later.
    async fn check_server(&self) -> Result<(), CacheError> {
        let mut probe = redis::cmd("GETDEL");
        probe.arg(format!("{}:getdel-probe", self.prefix));
        let mut connection = self.commands.clone();
        let checked = tokio::time::timeout(
            self.command_timeout,
            probe.query_async::<Option<Vec<u8>>>(&mut connection),
        )
        .await;
        let problem = match checked {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(error))
                if error
                    .to_string()
                    .to_ascii_lowercase()
                    .contains("unknown command") =>
            {
                "it lacks GETDEL: Redis 6.2 or later is needed".to_owned()
            }
            Ok(Err(error)) => error.to_string(),
            Err(_) => "the first command timed out".to_owned(),
        };
        tracing::error!(server = %self.server, problem, "Redis cannot serve the cache");
        Err(CacheError::Unavailable(format!(
            "Redis at {} cannot serve the cache: {problem}",
            self.server
        )))
    }

    /// The Redis key of (`namespace`, `key`): `<prefix>:<namespace>::<key>`.
    fn key(&self, namespace: &str, key: &str) -> Result<String, CacheError> {
        // A `:` in the namespace could make two pairs meet: ("a:", "x") and ("a", ":x") would
        // both be `<prefix>:a:::x`.
        if namespace.contains(':') {
            tracing::error!(namespace, "cache namespace contains ':'");
            return Err(CacheError::Unavailable(
                "invalid cache namespace: it must not contain ':'".to_owned(),
            ));
        }
        Ok(format!("{}:{namespace}::{key}", self.prefix))
    }

    /// The Redis channel of `channel`: `<prefix>:<channel>`.
    fn channel(&self, channel: &str) -> String {
        format!("{}:{channel}", self.prefix)
    }

    /// Runs `command` under the command timeout, mapping failures to `Unavailable`.
    async fn command<T>(&self, operation: &'static str, command: Cmd) -> Result<T, CacheError>
    where
        T: redis::FromRedisValue + Send,
    {
        self.run(operation, |mut connection| {
            let command = command.clone();
            async move { command.query_async::<T>(&mut connection).await }
        })
        .await
    }

    /// Runs `attempt` on the shared connection under the command timeout.
    ///
    /// A refused connection means the command was never sent, and that the connection manager
    /// has just started a new connection attempt (it reports the previous attempt's failure
    /// first), so the attempt is repeated once: the first call after Redis is back succeeds,
    /// and while it is down the call still fails at once.
    async fn run<T, F, Fut>(&self, operation: &'static str, attempt: F) -> Result<T, CacheError>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let work = async {
            match attempt(self.commands.clone()).await {
                Err(error) if error.is_connection_refusal() => attempt(self.commands.clone()).await,
                outcome => outcome,
            }
        };
        match tokio::time::timeout(self.command_timeout, work).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                tracing::warn!(operation, server = %self.server, %error, "Redis command failed");
                Err(CacheError::Unavailable(format!("{operation}: {error}")))
            }
            Err(_) => {
                tracing::warn!(operation, server = %self.server, "Redis command timed out");
                Err(CacheError::Unavailable(format!("{operation} timed out")))
            }
        }
    }
}

/// `ttl` in whole milliseconds for `PX`/`PEXPIRE`: rounded up (an entry must not expire before
/// its TTL), at least 1 (Redis refuses 0) and at most [`MAX_TTL_MILLIS`].
fn ttl_millis(ttl: Duration) -> u64 {
    let millis = ttl.as_nanos().div_ceil(1_000_000);
    u64::try_from(millis)
        .unwrap_or(MAX_TTL_MILLIS)
        .clamp(1, MAX_TTL_MILLIS)
}

/// Reads the batch script's reply against the steps that were sent.
fn batch_outcome(
    steps: &[CacheStep],
    reply: Vec<redis::Value>,
) -> Result<BatchOutcome, CacheError> {
    let malformed = || CacheError::Unavailable("batch: unexpected reply".to_owned());
    let mut values = reply.into_iter();
    let integer = |value: Option<redis::Value>| match value {
        Some(redis::Value::Int(n)) => Ok(n),
        _ => Err(malformed()),
    };
    if integer(values.next())? == 0 {
        let step = integer(values.next())?;
        let step = usize::try_from(step - 1).map_err(|_| malformed())?;
        return Ok(BatchOutcome::Missing { step });
    }
    let mut replies = Vec::with_capacity(steps.len());
    for step in steps {
        let value = values.next().ok_or_else(malformed)?;
        replies.push(match (step, value) {
            (CacheStep::Get { .. } | CacheStep::Take { .. }, redis::Value::Nil) => {
                CacheReply::Value(None)
            }
            (CacheStep::Get { .. } | CacheStep::Take { .. }, redis::Value::BulkString(bytes)) => {
                CacheReply::Value(Some(bytes))
            }
            (CacheStep::Put { .. } | CacheStep::Delete { .. }, redis::Value::Int(_)) => {
                CacheReply::Done
            }
            (CacheStep::Increment { .. }, redis::Value::Int(count)) => {
                CacheReply::Count(u64::try_from(count).map_err(|_| malformed())?)
            }
            _ => return Err(malformed()),
        });
    }
    Ok(BatchOutcome::Completed(replies))
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    async fn put(
        &self,
        namespace: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let mut command = redis::cmd("SET");
        command
            .arg(self.key(namespace, key)?)
            .arg(value)
            .arg("PX")
            .arg(ttl_millis(ttl));
        self.command::<()>("put", command).await
    }

    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut command = redis::cmd("GET");
        command.arg(self.key(namespace, key)?);
        self.command("get", command).await
    }

    async fn take(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut command = redis::cmd("GETDEL");
        command.arg(self.key(namespace, key)?);
        self.command("take", command).await
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<(), CacheError> {
        let mut command = redis::cmd("DEL");
        command.arg(self.key(namespace, key)?);
        self.command::<()>("delete", command).await
    }

    async fn put_if_absent(
        &self,
        namespace: &str,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let mut command = redis::cmd("SET");
        command
            .arg(self.key(namespace, key)?)
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(ttl_millis(ttl));
        // `OK` when stored, nil when the key exists.
        let stored: Option<String> = self.command("put_if_absent", command).await?;
        Ok(stored.is_some())
    }

    async fn increment(
        &self,
        namespace: &str,
        key: &str,
        ttl: Duration,
    ) -> Result<u64, CacheError> {
        let redis_key = self.key(namespace, key)?;
        let ttl = ttl_millis(ttl);
        let count: i64 = self
            .run("increment", |mut connection| {
                // EVALSHA, falling back to EVAL (which caches the script) on a server that has
                // not seen it yet, such as one restarted since.
                let mut invocation = self.increment.key(&redis_key);
                invocation.arg(ttl);
                async move { invocation.invoke_async::<i64>(&mut connection).await }
            })
            .await?;
        // INCR counts up from 1 on a new key; anything else means the key held something else.
        u64::try_from(count).map_err(|_| {
            tracing::error!(namespace, "Redis counter is negative");
            CacheError::Unavailable("increment: the counter is negative".to_owned())
        })
    }

    async fn batch(&self, steps: Vec<CacheStep>) -> Result<BatchOutcome, CacheError> {
        let mut keys = Vec::with_capacity(steps.len());
        let mut args: Vec<Vec<u8>> = Vec::with_capacity(steps.len() * 3);
        let flag = |required: bool| {
            if required {
                b"1".to_vec()
            } else {
                b"0".to_vec()
            }
        };
        for step in &steps {
            match step {
                CacheStep::Get {
                    namespace,
                    key,
                    required,
                } => {
                    keys.push(self.key(namespace, key)?);
                    args.extend([b"G".to_vec(), flag(*required)]);
                }
                CacheStep::Take {
                    namespace,
                    key,
                    required,
                } => {
                    keys.push(self.key(namespace, key)?);
                    args.extend([b"T".to_vec(), flag(*required)]);
                }
                CacheStep::Put {
                    namespace,
                    key,
                    value,
                    ttl,
                } => {
                    keys.push(self.key(namespace, key)?);
                    args.extend([
                        b"P".to_vec(),
                        value.clone(),
                        ttl_millis(*ttl).to_string().into_bytes(),
                    ]);
                }
                CacheStep::Delete { namespace, key } => {
                    keys.push(self.key(namespace, key)?);
                    args.push(b"D".to_vec());
                }
                CacheStep::Increment {
                    namespace,
                    key,
                    ttl,
                } => {
                    keys.push(self.key(namespace, key)?);
                    args.extend([b"I".to_vec(), ttl_millis(*ttl).to_string().into_bytes()]);
                }
            }
        }
        let reply: Vec<redis::Value> = self
            .run("batch", |mut connection| {
                let mut invocation = self.batch.prepare_invoke();
                for key in &keys {
                    invocation.key(key);
                }
                for arg in &args {
                    invocation.arg(arg.as_slice());
                }
                async move { invocation.invoke_async(&mut connection).await }
            })
            .await?;
        batch_outcome(&steps, reply)
    }

    async fn publish(&self, channel: &str, message: &str) -> Result<(), CacheError> {
        let mut command = redis::cmd("PUBLISH");
        command.arg(self.channel(channel)).arg(message);
        // The reply counts the receivers; zero is fine (messages without subscribers drop).
        self.command::<i64>("publish", command).await.map(|_| ())
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, CacheError> {
        pubsub::subscribe(pubsub::Settings {
            client: self.client.clone(),
            channel: self.channel(channel),
            server: self.server.clone(),
            connect_timeout: self.connect_timeout,
            command_timeout: self.command_timeout,
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_round_up_to_whole_milliseconds_within_redis_limits() {
        assert_eq!(ttl_millis(Duration::ZERO), 1);
        assert_eq!(ttl_millis(Duration::from_nanos(1)), 1);
        assert_eq!(ttl_millis(Duration::from_millis(1)), 1);
        assert_eq!(ttl_millis(Duration::from_micros(1001)), 2);
        assert_eq!(ttl_millis(Duration::from_secs(300)), 300_000);
        assert_eq!(ttl_millis(Duration::MAX), MAX_TTL_MILLIS);
    }

    #[tokio::test]
    async fn a_bad_url_is_refused_without_echoing_it() {
        let refused = RedisCache::connect(
            "redis://user:s3cret@host:notaport/0",
            RedisOptions::default(),
        )
        .await;
        let Err(CacheError::Unavailable(message)) = refused else {
            panic!("expected Unavailable, got {refused:?}");
        };
        assert!(!message.contains("s3cret"), "{message}");
    }

    /// Compiles only if the public futures can be spawned on a multi-threaded runtime.
    #[allow(dead_code)]
    fn public_futures_can_be_spawned(cache: Arc<RedisCache>) {
        drop(tokio::spawn(async move {
            let _ = cache.subscribe("channel").await;
            let _ = cache.increment("ns", "key", Duration::from_secs(1)).await;
        }));
        drop(tokio::spawn(async {
            let _ = RedisCache::connect("", RedisOptions::default()).await;
        }));
    }
}
