//! The QR-code (linked) login, browser side and the link itself (eSignet
//! `/linked-authorization/*`, reference §3.8, §6): the login page asks for a link code and shows
//! it as a QR code, a wallet scans it (`link-transaction`), authenticates and consents
//! ([`crate::linked_auth`]), and the page, long-polling, collects an ordinary authorization code.
//!
//! State lives in the flow cache only, under the stages of [`stage`]: a `preauth` transaction
//! is *taken* when a wallet links it, so the browser flow and a second wallet can no longer use
//! it; each later step takes its source entry, so no step can be replayed.
//!
//! Wake-ups between the wallet's requests and the waiting browser go through the cache's
//! publish/subscribe, so they work when the two reach different instances of a shared cache. A
//! poll subscribes **before** it checks the state (nothing published in between is lost), and
//! re-checks the state every [`POLL_RECHECK`] as well, so a message lost by the transport only
//! delays an answer.

use std::time::Duration;

use esignet_spi::AuditAction;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::AuthCodeResponse;
use crate::error::{Error, Result};
use crate::service::Core;
use crate::transaction::{Transaction, auth_transaction_id, stage};
use crate::wallet::{format_datetime, unix_after};
use crate::wallet_api::{
    LinkAuthCodeRequest, LinkCodeRequest, LinkCodeResponse, LinkStatusRequest, LinkStatusResponse,
    LinkTransactionRequest, LinkTransactionResponse,
};
use crate::{DetailsVersion, codes};

/// How often a long poll re-reads the state even without a notification.
pub const POLL_RECHECK: Duration = Duration::from_secs(2);

/// A link code not yet scanned (`linkcodegenerated`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LinkCodeEntry {
    transaction_id: String,
    /// The slot (`<transaction id>:<n>`) that must still hold this code for it to be usable.
    slot: String,
    /// Unix expiry.
    expires_at: i64,
}

/// A scanned link code (`linkedcode`): where the browser finds the linked transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LinkedCodeEntry {
    pub(crate) transaction_id: String,
    pub(crate) linked_transaction_id: String,
}

/// A transaction taken over by a wallet (`linked`, `linkedauth`, `consented`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LinkedTransaction {
    pub(crate) linked_transaction_id: String,
    pub(crate) link_code_hash: String,
    pub(crate) transaction: Transaction,
}

/// The channel announcing that the link code with this hash was scanned.
pub(crate) fn linked_channel(link_code_hash: &str) -> String {
    format!("esignet:linked:{link_code_hash}")
}

/// The channel announcing that the wallet consented for this linked transaction.
pub(crate) fn consented_channel(linked_transaction_id: &str) -> String {
    format!("esignet:consented:{linked_transaction_id}")
}

/// Where a link code stands for a given transaction.
enum LinkState {
    Waiting,
    Linked,
    Unknown,
}

impl Core {
    /// `POST /linked-authorization/link-code` (CSRF): a new link code for a `preauth`
    /// transaction, valid `link_code_ttl` (cut at the end of the pre-authentication window).
    /// A transaction may generate `link_code_limit` codes; only the newest `active_link_codes`
    /// are usable.
    ///
    /// Errors: `invalid_transaction_id`, `invalid_transaction`, `link_code_limit_reached`,
    /// `not_implemented`.
    pub async fn link_code(&self, request: LinkCodeRequest) -> Result<LinkCodeResponse> {
        let outcome = self.link_code_inner(&request).await;
        self.audit(
            AuditAction::LinkCode,
            outcome.as_ref().map(|_| ()),
            request.transaction_id.as_deref(),
            None,
            None,
        );
        outcome
    }

    async fn link_code_inner(&self, request: &LinkCodeRequest) -> Result<LinkCodeResponse> {
        let wallet = self.wallet()?;
        let config = &wallet.config;
        let transaction_id = non_blank(request.transaction_id.as_deref())
            .ok_or(Error::code(codes::INVALID_TRANSACTION_ID))?;
        let transaction: Transaction = self
            .flow
            .get(stage::PREAUTH, transaction_id)
            .await?
            .ok_or(Error::code(codes::INVALID_TRANSACTION))?;
        let now = self.clock.now();
        let deadline = transaction
            .created_at
            .saturating_add(i64::try_from(self.config.preauth_ttl.as_secs()).unwrap_or(i64::MAX));
        let remaining = u64::try_from(deadline - now.unix_timestamp())
            .ok()
            .filter(|secs| *secs > 0)
            .map(Duration::from_secs)
            .ok_or(Error::code(codes::INVALID_TRANSACTION))?;
        let issued = self
            .flow
            .raw()
            .increment(
                stage::RATE_LIMIT,
                &format!("{transaction_id}:link-code"),
                remaining,
            )
            .await?;
        if issued > config.link_code_limit {
            return Err(Error::code(codes::LINK_CODE_LIMIT_REACHED));
        }
        let link_code = esignet_jose::random_alphanumeric(config.link_code_length);
        let code_hash = esignet_jose::sha3_256_b64url(link_code.as_bytes());
        // Codes rotate through `active_link_codes` slots: a new code evicts the one issued
        // `active_link_codes` codes earlier. A code is usable only while its slot still names
        // it, so even racing requests never leave more codes usable than there are slots.
        let slot = format!(
            "{transaction_id}:{}",
            (issued - 1) % config.active_link_codes.max(1)
        );
        let evicted: Option<String> = self.flow.take(stage::LINK_CODE_SLOT, &slot).await?;
        if let Some(evicted) = evicted {
            self.flow
                .delete(stage::LINK_CODE_GENERATED, &evicted)
                .await?;
        }
        let ttl = config.link_code_ttl.min(remaining);
        let entry = LinkCodeEntry {
            transaction_id: transaction_id.to_owned(),
            slot: slot.clone(),
            expires_at: unix_after(now, ttl),
        };
        self.flow
            .put(stage::LINK_CODE_GENERATED, &code_hash, &entry, ttl)
            .await?;
        self.flow
            .put(stage::LINK_CODE_SLOT, &slot, &code_hash, remaining)
            .await?;
        Ok(LinkCodeResponse {
            transaction_id: transaction_id.to_owned(),
            link_code,
            expire_date_time: format_datetime(now + ttl),
        })
    }

    /// `POST /linked-authorization/link-status` (CSRF, long poll): answers `LINKED` as soon as
    /// a wallet has scanned the code, waiting at most `link_status_timeout`.
    ///
    /// Errors: `invalid_transaction_id`, `invalid_link_code` (unknown, expired, evicted or of
    /// another transaction), `response_timeout` (not linked in time: poll again),
    /// `not_implemented`.
    pub async fn link_status(&self, request: LinkStatusRequest) -> Result<LinkStatusResponse> {
        let outcome = self.link_status_inner(&request).await;
        self.audit(
            AuditAction::LinkStatus,
            outcome.as_ref().map(|_| ()),
            request.transaction_id.as_deref(),
            None,
            None,
        );
        outcome
    }

    async fn link_status_inner(&self, request: &LinkStatusRequest) -> Result<LinkStatusResponse> {
        let wallet = self.wallet()?;
        let transaction_id = non_blank(request.transaction_id.as_deref())
            .ok_or(Error::code(codes::INVALID_TRANSACTION_ID))?;
        let link_code =
            non_blank(request.link_code.as_deref()).ok_or(Error::code(codes::INVALID_LINK_CODE))?;
        let code_hash = esignet_jose::sha3_256_b64url(link_code.as_bytes());
        let deadline = tokio::time::Instant::now() + wallet.config.link_status_timeout;
        // Subscribe first: a link published after this point is never missed.
        let mut notifications = self
            .flow
            .raw()
            .subscribe(&linked_channel(&code_hash))
            .await?;
        loop {
            match self.link_state(transaction_id, &code_hash).await? {
                LinkState::Linked => {
                    return Ok(LinkStatusResponse {
                        link_status: "LINKED",
                    });
                }
                LinkState::Unknown => return Err(Error::code(codes::INVALID_LINK_CODE)),
                LinkState::Waiting => {}
            }
            wait_for_notification(&mut notifications, deadline).await?;
        }
    }

    async fn link_state(&self, transaction_id: &str, code_hash: &str) -> Result<LinkState> {
        let linked: Option<LinkedCodeEntry> = self.flow.get(stage::LINKED_CODE, code_hash).await?;
        if let Some(linked) = linked {
            return Ok(if linked.transaction_id == transaction_id {
                LinkState::Linked
            } else {
                LinkState::Unknown
            });
        }
        let waiting: Option<LinkCodeEntry> =
            self.flow.get(stage::LINK_CODE_GENERATED, code_hash).await?;
        Ok(match waiting {
            Some(entry)
                if entry.transaction_id == transaction_id && entry.expires_at > self.now_unix() =>
            {
                LinkState::Waiting
            }
            _ => LinkState::Unknown,
        })
    }

    /// `POST /linked-authorization/link-transaction` (v1) and `/v2/link-transaction` (wallet,
    /// no CSRF): the wallet scanned `linkCode`. The `preauth` transaction is taken over into
    /// `linked` under a fresh linked transaction id, the browser's `link-status` poll is woken,
    /// and the wallet gets what its consent screen needs.
    ///
    /// Errors: `invalid_link_code` (unknown, expired, evicted or already used),
    /// `invalid_transaction` (the transaction expired or was completed otherwise),
    /// `invalid_client_id`, `not_implemented`.
    pub async fn link_transaction(
        &self,
        version: DetailsVersion,
        request: LinkTransactionRequest,
    ) -> Result<LinkTransactionResponse> {
        let outcome = self.link_transaction_inner(version, &request).await;
        self.audit(
            AuditAction::LinkTransaction,
            outcome.as_ref().map(|_| ()),
            outcome
                .as_ref()
                .ok()
                .map(|response| response.link_transaction_id.as_str()),
            None,
            None,
        );
        outcome
    }

    async fn link_transaction_inner(
        &self,
        version: DetailsVersion,
        request: &LinkTransactionRequest,
    ) -> Result<LinkTransactionResponse> {
        let wallet = self.wallet()?;
        let config = &wallet.config;
        let link_code =
            non_blank(request.link_code.as_deref()).ok_or(Error::code(codes::INVALID_LINK_CODE))?;
        let code_hash = esignet_jose::sha3_256_b64url(link_code.as_bytes());
        // Taken, not read: of two wallets scanning the same code only one links it.
        let entry: LinkCodeEntry = self
            .flow
            .take(stage::LINK_CODE_GENERATED, &code_hash)
            .await?
            .ok_or(Error::code(codes::INVALID_LINK_CODE))?;
        let slot_holder: Option<String> = self.flow.get(stage::LINK_CODE_SLOT, &entry.slot).await?;
        let still_active = slot_holder.is_some_and(|holder| {
            esignet_jose::constant_time_eq(holder.as_bytes(), code_hash.as_bytes())
        });
        if entry.expires_at <= self.now_unix() || !still_active {
            return Err(Error::code(codes::INVALID_LINK_CODE));
        }
        let mut transaction: Transaction = self
            .flow
            .take(stage::PREAUTH, &entry.transaction_id)
            .await?
            .ok_or(Error::code(codes::INVALID_TRANSACTION))?;
        let client = self
            .active_client(&transaction.client_id, codes::INVALID_CLIENT_ID)
            .await?;
        let linked_transaction_id = esignet_jose::random_id();
        // The identity system sees the wallet's part as a transaction of its own.
        transaction.auth_transaction_id =
            auth_transaction_id(&linked_transaction_id, self.config.auth_txn_id_length);
        let response = link_transaction_response(
            version,
            &linked_transaction_id,
            &transaction,
            &client,
            &self.config.ui_configs,
        );
        let linked = LinkedTransaction {
            linked_transaction_id: linked_transaction_id.clone(),
            link_code_hash: code_hash.clone(),
            transaction,
        };
        self.flow
            .put(
                stage::LINKED,
                &linked_transaction_id,
                &linked,
                config.linked_ttl,
            )
            .await?;
        // The browser reads the linked code until it has collected its authorization code,
        // which may take every later stage's full lifetime.
        let linked_code_ttl = config.linked_ttl + config.linked_auth_ttl + config.consented_ttl;
        self.flow
            .put(
                stage::LINKED_CODE,
                &code_hash,
                &LinkedCodeEntry {
                    transaction_id: entry.transaction_id.clone(),
                    linked_transaction_id: linked_transaction_id.clone(),
                },
                linked_code_ttl,
            )
            .await?;
        self.notify(&linked_channel(&code_hash), "LINKED").await;
        Ok(response)
    }

    /// `POST /linked-authorization/link-auth-code` (CSRF, long poll): once the wallet has
    /// consented, mints an authorization code for the transaction (into `authcodegenerated`,
    /// so the ordinary token endpoint serves it) and answers as `auth-code` does. Waits at most
    /// `link_auth_code_timeout`. The code is handed out once.
    ///
    /// Errors: `invalid_transaction_id`, `invalid_link_code` (unknown, or of another
    /// transaction, or the linked transaction is over), `response_timeout` (no consent yet:
    /// poll again), `not_implemented`.
    pub async fn link_auth_code(&self, request: LinkAuthCodeRequest) -> Result<AuthCodeResponse> {
        let outcome = self.link_auth_code_inner(&request).await;
        self.audit(
            AuditAction::LinkAuthCode,
            outcome.as_ref().map(|_| ()),
            request.transaction_id.as_deref(),
            None,
            None,
        );
        outcome
    }

    async fn link_auth_code_inner(
        &self,
        request: &LinkAuthCodeRequest,
    ) -> Result<AuthCodeResponse> {
        let wallet = self.wallet()?;
        let transaction_id = non_blank(request.transaction_id.as_deref())
            .ok_or(Error::code(codes::INVALID_TRANSACTION_ID))?;
        let linked_code = non_blank(request.linked_code.as_deref())
            .ok_or(Error::code(codes::INVALID_LINK_CODE))?;
        let code_hash = esignet_jose::sha3_256_b64url(linked_code.as_bytes());
        let entry = self
            .flow
            .get::<LinkedCodeEntry>(stage::LINKED_CODE, &code_hash)
            .await?
            .filter(|entry| entry.transaction_id == transaction_id)
            .ok_or(Error::code(codes::INVALID_LINK_CODE))?;
        let linked_id = entry.linked_transaction_id;
        let deadline = tokio::time::Instant::now() + wallet.config.link_auth_code_timeout;
        // Subscribe before looking at `consented`, so a consent in between is not missed.
        let mut notifications = self
            .flow
            .raw()
            .subscribe(&consented_channel(&linked_id))
            .await?;
        loop {
            let consented: Option<LinkedTransaction> =
                self.flow.take(stage::CONSENTED, &linked_id).await?;
            if let Some(consented) = consented {
                self.flow.delete(stage::LINKED_CODE, &code_hash).await?;
                return self.mint_auth_code(consented.transaction).await;
            }
            if !self.linked_alive(&linked_id, &code_hash).await? {
                return Err(Error::code(codes::INVALID_LINK_CODE));
            }
            wait_for_notification(&mut notifications, deadline).await?;
        }
    }

    /// Whether the linked transaction can still reach `consented`.
    async fn linked_alive(&self, linked_id: &str, code_hash: &str) -> Result<bool> {
        let code: Option<Value> = self.flow.get(stage::LINKED_CODE, code_hash).await?;
        if code.is_none() {
            return Ok(false);
        }
        for stage_name in [stage::LINKED, stage::LINKED_AUTH] {
            let entry: Option<Value> = self.flow.get(stage_name, linked_id).await?;
            if entry.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Stores `transaction` under the hash of a fresh authorization code, as `auth-code` does.
    async fn mint_auth_code(&self, transaction: Transaction) -> Result<AuthCodeResponse> {
        let code = esignet_jose::random_id();
        let code_key = esignet_jose::sha256_b64url(code.as_bytes());
        self.flow
            .put(
                stage::AUTH_CODE,
                &code_key,
                &transaction,
                self.config.auth_code_lifetime,
            )
            .await?;
        Ok(AuthCodeResponse {
            nonce: transaction.nonce,
            state: transaction.state,
            code,
            redirect_uri: transaction.redirect_uri,
        })
    }

    /// Publishes a wake-up. A failure is logged, not returned: the state change it announces
    /// is already stored, and waiting polls re-check the state on their own.
    pub(crate) async fn notify(&self, channel: &str, message: &str) {
        if let Err(error) = self.flow.raw().publish(channel, message).await {
            tracing::warn!(%error, "linked-login notification not published");
        }
    }
}

/// Waits for a notification, at most [`POLL_RECHECK`] and never past `deadline`
/// (`response_timeout` once it has passed). A closed subscription degrades to re-checking.
async fn wait_for_notification(
    notifications: &mut esignet_spi::Subscription,
    deadline: tokio::time::Instant,
) -> Result<()> {
    let now = tokio::time::Instant::now();
    if now >= deadline {
        return Err(Error::code(codes::RESPONSE_TIMEOUT));
    }
    let wait = (deadline - now).min(POLL_RECHECK);
    match tokio::time::timeout(wait, notifications.next()).await {
        Ok(Some(_)) | Err(_) => Ok(()),
        Ok(None) => {
            tokio::time::sleep(wait).await;
            Ok(())
        }
    }
}

fn link_transaction_response(
    version: DetailsVersion,
    linked_transaction_id: &str,
    transaction: &Transaction,
    client: &esignet_spi::ClientRecord,
    ui_configs: &serde_json::Map<String, Value>,
) -> LinkTransactionResponse {
    let client_name = if version == DetailsVersion::V1 {
        client.name.get("@none").cloned().unwrap_or(Value::Null)
    } else {
        Value::Object(client.name.clone())
    };
    let mut configs = ui_configs.clone();
    configs.insert(
        "clientAdditionalConfig".to_owned(),
        client.additional_config.clone().unwrap_or(Value::Null),
    );
    LinkTransactionResponse {
        link_transaction_id: linked_transaction_id.to_owned(),
        logo_url: client.logo_uri.clone(),
        auth_factors: transaction.auth_factors.clone(),
        authorize_scopes: transaction.authorize_scopes.clone(),
        essential_claims: transaction.claims.essential(),
        voluntary_claims: transaction.claims.voluntary(),
        configs,
        client_name,
        credential_scopes: (version != DetailsVersion::V1).then(Vec::new),
    }
}

pub(crate) fn non_blank(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}
