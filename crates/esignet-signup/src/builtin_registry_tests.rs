//! [`BuiltInRegistry`] over in-memory records: the codes the resident sees match the HTTP
//! registry path's, and what was registered is there after a reopen.

use std::collections::BTreeMap;
use std::sync::Mutex;

use esignet_mock_authenticator::{Directory, IdentityRecords, SharedDirectory, verify_password};
use esignet_spi::StoreError;

use super::*;

#[derive(Default)]
struct MemoryRecords(Mutex<BTreeMap<String, String>>);

#[async_trait]
impl IdentityRecords for MemoryRecords {
    async fn load(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.0.lock().unwrap().values().cloned().collect())
    }

    async fn insert(&self, individual_id: &str, document: &str) -> Result<(), StoreError> {
        let mut documents = self.0.lock().unwrap();
        if documents.contains_key(individual_id) {
            return Err(StoreError::Conflict("individual_id"));
        }
        documents.insert(individual_id.to_owned(), document.to_owned());
        Ok(())
    }

    async fn save(&self, individual_id: &str, document: &str) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap()
            .insert(individual_id.to_owned(), document.to_owned());
        Ok(())
    }
}

const PHONE: &str = "85512345678";

async fn open(records: &Arc<MemoryRecords>) -> (BuiltInRegistry, SharedDirectory) {
    let directory = SharedDirectory::new(Directory::demo().unwrap());
    let identities = RegisteredIdentities::open(directory.clone(), records.clone())
        .await
        .unwrap();
    (
        BuiltInRegistry::new(Arc::new(identities), "phone"),
        directory,
    )
}

fn profile(identity: Value) -> Profile {
    Profile {
        individual_id: PHONE.into(),
        consent: Some("AGREE".into()),
        identity: Some(identity),
        active: true,
    }
}

fn registration() -> Profile {
    profile(json!({
        "phone": PHONE,
        "fullName": [{"language": "eng", "value": "Sok Dara"}],
        "preferredLang": "eng",
        "password": "Secret123",
        "encodedPhoto": {"value": "iVBORw0KGgo="},
    }))
}

#[tokio::test]
async fn registration_is_created_completed_and_readable() {
    let records = Arc::new(MemoryRecords::default());
    let (registry, directory) = open(&records).await;
    let profile = registration();
    registry
        .validate(ProfileAction::Create, &profile)
        .await
        .unwrap();
    assert_eq!(
        registry.create("app-1", &profile).await.unwrap(),
        ProfileStatus::Completed
    );
    assert_eq!(
        registry.status("app-1").await.unwrap(),
        ProfileStatus::Completed
    );
    let identity = directory.get(PHONE).unwrap();
    assert!(verify_password(&identity, "Secret123"));
    assert_eq!(
        identity.encoded_photo.as_deref(),
        Some("data:image/jpeg;base64,iVBORw0KGgo=")
    );

    let found = registry.get(PHONE).await.unwrap();
    assert!(found.active);
    let document = found.identity.unwrap();
    assert_eq!(document["phone"], json!(PHONE));
    assert!(document.get("password").is_none());
    assert!(registry.is_match(&document, &json!({"phone": PHONE})));

    let unknown = registry.get("85500000000").await.unwrap();
    assert!(!unknown.active && unknown.identity.is_none());
    assert_eq!(
        registry.ui_spec().await.unwrap()["schema"][0]["id"],
        json!("phone")
    );
}

#[tokio::test]
async fn refusals_carry_the_http_registry_codes() {
    let records = Arc::new(MemoryRecords::default());
    let (registry, _) = open(&records).await;
    let mut mismatch = registration();
    mismatch.individual_id = "85599999999".into();
    assert_eq!(
        registry
            .validate(ProfileAction::Create, &mismatch)
            .await
            .unwrap_err()
            .code,
        codes::IDENTIFIER_MISMATCH
    );
    let no_identity = Profile {
        identity: None,
        ..registration()
    };
    for action in [ProfileAction::Create, ProfileAction::Update] {
        assert_eq!(
            registry
                .validate(action, &no_identity)
                .await
                .unwrap_err()
                .code,
            codes::INVALID_USERINFO
        );
    }
    assert_eq!(
        registry.create("a", &no_identity).await.unwrap_err().code,
        codes::INVALID_USERINFO
    );
    assert_eq!(
        registry.update("a", &no_identity).await.unwrap_err().code,
        codes::INVALID_USERINFO
    );

    let mut bad_email = registration();
    bad_email.identity.as_mut().unwrap()["email"] = json!("nobody");
    assert_eq!(
        registry.create("a", &bad_email).await.unwrap_err().code,
        "invalid_email"
    );
    let mut extra = registration();
    extra.identity.as_mut().unwrap()["nationality"] = json!("KH");
    assert_eq!(
        registry.create("a", &extra).await.unwrap_err().code,
        "unknown_field"
    );

    registry.create("a", &registration()).await.unwrap();
    assert_eq!(
        registry
            .create("b", &registration())
            .await
            .unwrap_err()
            .code,
        "duplicate_individual_id"
    );
}

#[tokio::test]
async fn reset_and_verified_claims_update_the_identity_and_survive_a_reopen() {
    let records = Arc::new(MemoryRecords::default());
    {
        let (registry, directory) = open(&records).await;
        registry.create("a", &registration()).await.unwrap();
        let reset = profile(json!({"password": "Changed123"}));
        registry
            .validate(ProfileAction::Update, &reset)
            .await
            .unwrap();
        assert_eq!(
            registry.update("r", &reset).await.unwrap(),
            ProfileStatus::Completed
        );
        assert!(verify_password(
            &directory.get(PHONE).unwrap(),
            "Changed123"
        ));

        let claims = profile(json!({"verified_claims": {
            "fullName": {"trust_framework": "mock-eKYC", "time": "2025-01-01T00:00:00Z"}
        }}));
        registry.update("v", &claims).await.unwrap();
        assert!(directory.get(PHONE).unwrap().has_claim("name"));
        assert_eq!(
            directory.get(PHONE).unwrap().verified_claims[0].fields,
            ["fullName"]
        );

        let not_object = profile(json!({"verified_claims": ["fullName"]}));
        assert_eq!(
            registry.update("v", &not_object).await.unwrap_err().code,
            codes::INVALID_REQUEST
        );
        let unknown_field = profile(json!({"verified_claims": {"pin": {"trust_framework": "x"}}}));
        assert_eq!(
            registry.update("v", &unknown_field).await.unwrap_err().code,
            "invalid_claim"
        );
        let mut stranger = profile(json!({"password": "Changed123"}));
        stranger.individual_id = "85500000000".into();
        assert_eq!(
            registry.update("r", &stranger).await.unwrap_err().code,
            "invalid_individual_id"
        );
    }
    let (registry, directory) = open(&records).await;
    let identity = directory.get(PHONE).unwrap();
    assert!(verify_password(&identity, "Changed123"));
    assert_eq!(identity.verified_claims.len(), 1);
    assert!(registry.get(PHONE).await.unwrap().active);
}
