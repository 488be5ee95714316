//! Server-side browser sessions, as the eSignet integration guide recommends: the browser holds
//! only an opaque random id (an `HttpOnly`, `SameSite=Lax` cookie); the pending logins and the
//! resident's claims stay on the server, in memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use esignet_jose::PrivateKey;
use esignet_spi::Clock;
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

/// The session cookie's name. Specific to this app: browsers do not separate cookies by port,
/// so on `127.0.0.1` the provider and the demo share one cookie namespace.
pub(crate) const COOKIE_NAME: &str = "esignet_demo_rp_session";
/// A session ends this long after it was last used.
pub(crate) const SESSION_IDLE_TTL: Duration = Duration::minutes(30);
/// A started login must come back within this time (the provider's own transaction is shorter).
const PENDING_TTL: Duration = Duration::minutes(10);
/// Pending logins kept per session (several tabs); the oldest is dropped beyond this.
const MAX_PENDING_PER_SESSION: usize = 8;
/// Sessions kept in memory; beyond this the one closest to expiry is dropped, so a flood of
/// cookie-less requests cannot grow memory without bound.
const MAX_SESSIONS: usize = 10_000;

/// What the callback needs to finish a login it started: the values sent to the provider.
pub(crate) struct PendingLogin {
    /// The `nonce` sent at authorization; the ID token must carry it.
    pub nonce: String,
    /// The PKCE code verifier.
    pub code_verifier: String,
    /// The per-login DPoP key (PAR + DPoP logins only).
    pub dpop_key: Option<PrivateKey>,
    /// Which button started it.
    pub mode: LoginMode,
    started_at: OffsetDateTime,
}

impl PendingLogin {
    /// A pending login started now.
    pub fn new(
        nonce: String,
        code_verifier: String,
        dpop_key: Option<PrivateKey>,
        mode: LoginMode,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            nonce,
            code_verifier,
            dpop_key,
            mode,
            started_at: now,
        }
    }
}

/// How the resident signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginMode {
    /// Authorization code with PKCE, front-channel request.
    Plain,
    /// Pushed authorization request and DPoP-bound tokens.
    ParDpop,
    /// Authorization code with PKCE, asking for essential verified claims: a resident who
    /// lacks them is offered identity verification (eKYC) during the login.
    VerifiedClaims,
}

impl LoginMode {
    /// A short human label.
    pub fn label(self) -> &'static str {
        match self {
            LoginMode::Plain => "Authorization code with PKCE",
            LoginMode::ParDpop => "Pushed authorization request (PAR), PKCE and DPoP",
            LoginMode::VerifiedClaims => "Authorization code with PKCE, verified claims required",
        }
    }
}

/// A signed-in resident.
#[derive(Clone)]
pub(crate) struct Profile {
    /// The verified userinfo claims.
    pub claims: Map<String, Value>,
    /// The ID token's `acr`, if any.
    pub acr: Option<String>,
    /// How the login was made.
    pub mode: LoginMode,
    /// The access token type the provider issued (`Bearer` or `DPoP`).
    pub token_type: String,
}

struct Session {
    last_used: OffsetDateTime,
    pending: HashMap<String, PendingLogin>,
    profile: Option<Profile>,
}

impl Session {
    fn new(now: OffsetDateTime) -> Self {
        Self {
            last_used: now,
            pending: HashMap::new(),
            profile: None,
        }
    }

    fn expired(&self, now: OffsetDateTime) -> bool {
        now >= self.last_used + SESSION_IDLE_TTL
    }
}

/// How often expired sessions are swept out (they hold personal data, so they should not
/// linger until the next new session happens to trigger a purge).
const PURGE_INTERVAL: Duration = Duration::minutes(1);

struct Sessions {
    map: HashMap<String, Session>,
    last_purge: OffsetDateTime,
}

/// The in-memory session map. Every method takes the lock briefly and never across an await,
/// and sweeps out expired sessions at most once per [`PURGE_INTERVAL`].
pub(crate) struct SessionStore {
    clock: Arc<dyn Clock>,
    sessions: Mutex<Sessions>,
}

impl SessionStore {
    /// An empty store whose expiry follows `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let now = clock.now();
        Self {
            clock,
            sessions: Mutex::new(Sessions {
                map: HashMap::new(),
                last_purge: now,
            }),
        }
    }

    /// The current time of the injected clock.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Locks the map (sweeping it when a sweep is due) and returns it with the current time.
    fn lock(&self) -> (MutexGuard<'_, Sessions>, OffsetDateTime) {
        let now = self.now();
        // A panic while holding the lock cannot leave a session half-written in a way that
        // matters (each entry is replaced whole), so a poisoned map is still usable.
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if now >= sessions.last_purge + PURGE_INTERVAL {
            sessions.map.retain(|_, session| !session.expired(now));
            sessions.last_purge = now;
        }
        (sessions, now)
    }

    /// Records a login started under `state` in the session `id` (or in a new session when `id`
    /// is absent, unknown or expired) and returns the session id to put in the cookie.
    pub fn add_pending(&self, id: Option<&str>, state: String, pending: PendingLogin) -> String {
        let (mut guard, now) = self.lock();
        let sessions = &mut guard.map;
        let id = match id.filter(|id| sessions.get(*id).is_some_and(|s| !s.expired(now))) {
            Some(id) => id.to_owned(),
            None => insert_new(sessions, now),
        };
        if let Some(session) = sessions.get_mut(&id) {
            session.last_used = now;
            session
                .pending
                .retain(|_, login| now < login.started_at + PENDING_TTL);
            if session.pending.len() >= MAX_PENDING_PER_SESSION
                && let Some(oldest) = session
                    .pending
                    .iter()
                    .min_by_key(|(_, login)| login.started_at)
                    .map(|(state, _)| state.clone())
            {
                session.pending.remove(&oldest);
            }
            session.pending.insert(state, pending);
        }
        id
    }

    /// Removes and returns the login started under `state` in session `id`: a state is good
    /// for one callback only, and only in the browser that started it. `None` when the
    /// session or the state is unknown or expired.
    pub fn take_pending(&self, id: &str, state: &str) -> Option<PendingLogin> {
        let (mut sessions, now) = self.lock();
        let session = sessions.map.get_mut(id).filter(|s| !s.expired(now))?;
        session.last_used = now;
        session
            .pending
            .remove(state)
            .filter(|login| now < login.started_at + PENDING_TTL)
    }

    /// Stores the signed-in profile under a fresh session id (the old id is dropped, so an id
    /// planted in the browser before the login never becomes a signed-in session), keeping the
    /// other pending logins. Returns the new id.
    pub fn sign_in(&self, old_id: &str, profile: Profile) -> String {
        let (mut guard, now) = self.lock();
        let sessions = &mut guard.map;
        let pending = sessions
            .remove(old_id)
            .map(|session| session.pending)
            .unwrap_or_default();
        let id = insert_new(sessions, now);
        if let Some(session) = sessions.get_mut(&id) {
            session.pending = pending;
            session.profile = Some(profile);
        }
        id
    }

    /// The signed-in profile of session `id`, if it is live (using it extends its life).
    pub fn profile(&self, id: &str) -> Option<Profile> {
        let (mut sessions, now) = self.lock();
        let session = sessions.map.get_mut(id).filter(|s| !s.expired(now))?;
        session.last_used = now;
        session.profile.clone()
    }

    /// Forgets session `id`.
    pub fn remove(&self, id: &str) {
        self.lock().0.map.remove(id);
    }

    /// The number of sessions held (expired ones included until the next purge).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().0.map.len()
    }
}

/// Purges expired sessions, makes room if the map is full, and inserts a new empty session.
fn insert_new(sessions: &mut HashMap<String, Session>, now: OffsetDateTime) -> String {
    sessions.retain(|_, session| !session.expired(now));
    if sessions.len() >= MAX_SESSIONS
        && let Some(stalest) = sessions
            .iter()
            .min_by_key(|(_, session)| session.last_used)
            .map(|(id, _)| id.clone())
    {
        sessions.remove(&stalest);
    }
    let id = esignet_jose::random_id();
    sessions.insert(id.clone(), Session::new(now));
    id
}

/// The session id in a `Cookie` request header value, if any.
pub(crate) fn session_id_from_cookies<'a>(
    headers: impl Iterator<Item = &'a str>,
) -> Option<String> {
    headers
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim_matches('"').to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use esignet_spi::{ManualClock, SystemClock};

    fn store() -> (Arc<ManualClock>, SessionStore) {
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        (clock.clone(), SessionStore::new(clock))
    }

    fn pending(now: OffsetDateTime) -> PendingLogin {
        PendingLogin::new("n".into(), "v".into(), None, LoginMode::Plain, now)
    }

    fn profile() -> Profile {
        Profile {
            claims: Map::new(),
            acr: None,
            mode: LoginMode::Plain,
            token_type: "Bearer".into(),
        }
    }

    #[test]
    fn a_state_is_single_use_and_bound_to_its_session() {
        let (_, store) = store();
        let id = store.add_pending(None, "s1".into(), pending(store.now()));
        let other = store.add_pending(None, "s2".into(), pending(store.now()));
        assert_ne!(id, other);
        assert!(store.take_pending(&other, "s1").is_none());
        assert!(store.take_pending(&id, "s1").is_some());
        assert!(store.take_pending(&id, "s1").is_none());
        assert_eq!(
            store.add_pending(Some(&id), "s3".into(), pending(store.now())),
            id
        );
    }

    #[test]
    fn sessions_and_pending_logins_expire() {
        let (clock, store) = store();
        let id = store.add_pending(None, "s1".into(), pending(store.now()));
        clock.advance(PENDING_TTL);
        assert!(store.take_pending(&id, "s1").is_none());
        let signed_in = store.sign_in(&id, profile());
        assert_ne!(signed_in, id, "the id is rotated at sign-in");
        clock.advance(SESSION_IDLE_TTL - Duration::seconds(1));
        assert!(
            store.profile(&signed_in).is_some(),
            "use extends the session"
        );
        clock.advance(SESSION_IDLE_TTL - Duration::seconds(1));
        assert!(store.profile(&signed_in).is_some());
        clock.advance(SESSION_IDLE_TTL);
        assert!(store.profile(&signed_in).is_none());
        let fresh = store.add_pending(Some(&signed_in), "s2".into(), pending(store.now()));
        assert_ne!(fresh, signed_in, "an expired id is not revived");
        assert_eq!(store.len(), 1, "expired sessions are purged");
    }

    #[test]
    fn expired_sessions_are_swept_without_new_sessions() {
        let (clock, store) = store();
        let id = store.add_pending(None, "s1".into(), pending(store.now()));
        store.sign_in(&id, profile());
        assert_eq!(store.len(), 1);
        clock.advance(SESSION_IDLE_TTL);
        assert!(store.profile("unknown").is_none());
        assert_eq!(store.len(), 0, "the sweep ran on an unrelated lookup");
    }

    #[test]
    fn pending_logins_per_session_are_bounded() {
        let (clock, store) = store();
        let id = store.add_pending(None, "s0".into(), pending(store.now()));
        for index in 1..=MAX_PENDING_PER_SESSION {
            clock.advance(Duration::seconds(1));
            store.add_pending(Some(&id), format!("s{index}"), pending(store.now()));
        }
        assert!(store.take_pending(&id, "s0").is_none(), "the oldest went");
        assert!(store.take_pending(&id, "s1").is_some());
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let headers = ["a=1; esignet_demo_rp_session=abc; b=2", "c=3"];
        assert_eq!(
            session_id_from_cookies(headers.into_iter()).as_deref(),
            Some("abc")
        );
        assert_eq!(session_id_from_cookies(["a=1"].into_iter()), None);
        assert_eq!(
            session_id_from_cookies(["esignet_demo_rp_session="].into_iter()),
            None
        );
    }
}
