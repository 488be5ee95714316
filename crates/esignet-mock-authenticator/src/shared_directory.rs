//! [`SharedDirectory`]: the directory the mock authenticates against, shared with the built-in
//! registry that adds and changes identities at runtime.

use std::sync::{Arc, PoisonError, RwLock};

use crate::directory::{Directory, DirectoryError};
use crate::identity::Identity;

/// A [`Directory`] behind a lock, cheap to clone (clones share it). Readers get copies of
/// identities, so no lock is held across an `.await`: a login reads the identity once and
/// checks its factors on that copy, and a registration is visible to the next login at once.
#[derive(Debug, Clone, Default)]
pub struct SharedDirectory {
    inner: Arc<RwLock<Directory>>,
}

impl SharedDirectory {
    /// Shares `directory`.
    pub fn new(directory: Directory) -> Self {
        Self {
            inner: Arc::new(RwLock::new(directory)),
        }
    }

    /// A copy of the identity with this individual id, if any.
    pub fn get(&self, individual_id: &str) -> Option<Identity> {
        self.read(|directory| directory.get(individual_id).cloned())
    }

    /// Whether an identity has this individual id.
    pub fn contains(&self, individual_id: &str) -> bool {
        self.read(|directory| directory.get(individual_id).is_some())
    }

    /// How many identities there are.
    pub fn len(&self) -> usize {
        self.read(Directory::len)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.read(Directory::is_empty)
    }

    /// Adds `identity` or replaces the one with its individual id, after the directory's
    /// checks (nothing changes when they fail). Returns whether one was replaced.
    pub fn put(&self, identity: Identity) -> Result<bool, DirectoryError> {
        // A panic while holding the lock cannot leave the map half-written (`put` validates
        // before it inserts), so a poisoned lock is still consistent.
        self.inner
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .put(identity)
    }

    fn read<T>(&self, reader: impl FnOnce(&Directory) -> T) -> T {
        reader(&self.inner.read().unwrap_or_else(PoisonError::into_inner))
    }
}

impl From<Directory> for SharedDirectory {
    fn from(directory: Directory) -> Self {
        Self::new(directory)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_seen_by_every_clone_and_invalid_ones_change_nothing() {
        let shared = SharedDirectory::new(
            Directory::from_json(r#"[{"individualId": "10", "pin": "1234"}]"#).unwrap(),
        );
        let other = shared.clone();
        assert_eq!(shared.len(), 1);
        assert!(!shared.is_empty());
        assert!(shared.contains("10") && !shared.contains("20"));

        let mut added: Identity = serde_json::from_str(r#"{"individualId": "20"}"#).unwrap();
        assert!(!shared.put(added.clone()).unwrap());
        assert!(other.contains("20"));
        added.pin = Some("9999".into());
        assert!(other.put(added).unwrap(), "replaced");
        assert_eq!(shared.get("20").unwrap().pin.as_deref(), Some("9999"));

        let broken: Identity =
            serde_json::from_str(r#"{"individualId": "20", "email": "nobody"}"#).unwrap();
        assert!(matches!(
            shared.put(broken),
            Err(DirectoryError::Invalid { .. })
        ));
        assert_eq!(shared.get("20").unwrap().pin.as_deref(), Some("9999"));
        assert_eq!(shared.len(), 2);
        assert!(SharedDirectory::default().is_empty());
    }
}
