//! A pool of PKCS#11 sessions, so concurrent signatures do not queue on one session.
//!
//! A session serves one thread at a time (PKCS#11 sessions hold operation state); the pool
//! hands each caller its own, opening new ones up to `max` and making further callers wait.
//! A session the token invalidated (device removed, session closed, logged out) is dropped and
//! the operation retried once on a fresh session, after logging in again if the login was lost.

use std::sync::{Condvar, Mutex, PoisonError};

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error, RvError};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use crate::Pkcs11Error;

struct Idle {
    sessions: Vec<Session>,
    /// Sessions open (idle or lent).
    open: usize,
}

pub(crate) struct SessionPool {
    context: Pkcs11,
    slot: Slot,
    /// Held open for the life of the pool: the token keeps the user logged in while at least
    /// one session of the application is open.
    login: Mutex<Session>,
    pin: AuthPin,
    idle: Mutex<Idle>,
    returned: Condvar,
    max: usize,
}

impl SessionPool {
    pub(crate) fn new(
        context: Pkcs11,
        slot: Slot,
        login: Session,
        pin: AuthPin,
        max: usize,
    ) -> Self {
        SessionPool {
            context,
            slot,
            login: Mutex::new(login),
            pin,
            idle: Mutex::new(Idle {
                sessions: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
            max,
        }
    }

    /// Runs `operation` on a session of its own. Blocking.
    pub(crate) fn with_session<T>(
        &self,
        name: &'static str,
        operation: impl Fn(&Session) -> Result<T, Error>,
    ) -> Result<T, Pkcs11Error> {
        let mut retried = false;
        loop {
            let session = self.acquire(name)?;
            match operation(&session) {
                Ok(value) => {
                    self.release(session);
                    return Ok(value);
                }
                Err(error) if !retried && session_is_lost(&error) => {
                    retried = true;
                    self.discard(session);
                    if matches!(error, Error::Pkcs11(RvError::UserNotLoggedIn, _)) {
                        self.log_in_again()?;
                    }
                    tracing::warn!(operation = name, %error, "PKCS#11 session lost; retrying");
                }
                Err(error) => {
                    if session_is_lost(&error) {
                        self.discard(session);
                    } else {
                        self.release(session);
                    }
                    return Err(Pkcs11Error::token(name, &error));
                }
            }
        }
    }

    fn acquire(&self, name: &'static str) -> Result<Session, Pkcs11Error> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(session) = idle.sessions.pop() {
                return Ok(session);
            }
            if idle.open < self.max {
                idle.open += 1;
                drop(idle);
                return self.context.open_rw_session(self.slot).map_err(|error| {
                    self.idle
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .open -= 1;
                    Pkcs11Error::token(name, &error)
                });
            }
            idle = self
                .returned
                .wait(idle)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn release(&self, session: Session) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sessions
            .push(session);
        self.returned.notify_one();
    }

    fn discard(&self, session: Session) {
        drop(session);
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .open -= 1;
        self.returned.notify_one();
    }

    /// Replaces the login session after the token logged us out (a token reset, for example).
    fn log_in_again(&self) -> Result<(), Pkcs11Error> {
        let mut login = self.login.lock().unwrap_or_else(PoisonError::into_inner);
        let session = self
            .context
            .open_rw_session(self.slot)
            .map_err(|error| Pkcs11Error::token("open a session", &error))?;
        match session.login(UserType::User, Some(&self.pin)) {
            Ok(()) | Err(Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(error) => return Err(Pkcs11Error::token("log in again", &error)),
        }
        *login = session;
        Ok(())
    }
}

/// Whether the error means this session (or the login) is gone, rather than the operation
/// being refused.
fn session_is_lost(error: &Error) -> bool {
    matches!(
        error,
        Error::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceRemoved
                | RvError::TokenNotPresent
                | RvError::UserNotLoggedIn,
            _
        )
    )
}
