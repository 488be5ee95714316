//! Tests of [`RegisteredIdentities`] over in-memory records (the SQLite records are tested in
//! `esignet-store-sqlite`, the whole path end to end in the binary's e2e tests).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::json;

use super::*;
use crate::factors::verify_password;

/// Records in a map; `fail` makes every write fail as an unavailable database would.
#[derive(Default)]
struct MemoryRecords {
    documents: Mutex<BTreeMap<String, String>>,
    fail: std::sync::atomic::AtomicBool,
}

impl MemoryRecords {
    fn check(&self) -> Result<(), StoreError> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Unavailable("down".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl IdentityRecords for MemoryRecords {
    async fn load(&self) -> Result<Vec<String>, StoreError> {
        self.check()?;
        Ok(self.documents.lock().unwrap().values().cloned().collect())
    }

    async fn insert(&self, individual_id: &str, document: &str) -> Result<(), StoreError> {
        self.check()?;
        let mut documents = self.documents.lock().unwrap();
        if documents.contains_key(individual_id) {
            return Err(StoreError::Conflict("individual_id"));
        }
        documents.insert(individual_id.to_owned(), document.to_owned());
        Ok(())
    }

    async fn save(&self, individual_id: &str, document: &str) -> Result<(), StoreError> {
        self.check()?;
        self.documents
            .lock()
            .unwrap()
            .insert(individual_id.to_owned(), document.to_owned());
        Ok(())
    }
}

const PHONE: &str = "+85512345678";
const ID: &str = "85512345678";

fn signup_document() -> Map<String, Value> {
    match json!({
        "individualId": ID,
        "phone": PHONE,
        "fullName": [{"language": "eng", "value": "Sok Dara"}],
        "email": "dara@example.org",
        "dateOfBirth": "1990/04/01",
        "preferredLang": "khm",
        "password": "Secret123",
    }) {
        Value::Object(document) => document,
        _ => unreachable!(),
    }
}

async fn registry(records: &Arc<MemoryRecords>) -> RegisteredIdentities {
    RegisteredIdentities::open(
        SharedDirectory::new(Directory::demo().unwrap()),
        records.clone(),
    )
    .await
    .unwrap()
}

fn code(result: Result<(), RegistryError>) -> String {
    result.unwrap_err().code
}

#[tokio::test]
async fn create_stores_a_salted_hash_and_publishes_at_once() {
    let records = Arc::new(MemoryRecords::default());
    let registry = registry(&records).await;
    registry.create(signup_document()).await.unwrap();

    let identity = registry.directory().get(ID).unwrap();
    assert!(verify_password(&identity, "Secret123"));
    assert!(!verify_password(&identity, "Secret124"));
    let stored = records.documents.lock().unwrap().get(ID).cloned().unwrap();
    assert!(!stored.contains("Secret123"), "never in clear");
    assert!(stored.contains(crate::SALTED_PASSWORD_PREFIX));

    let document = registry.document(ID).unwrap();
    assert_eq!(document["phone"], json!(PHONE));
    assert!(!document.contains_key("password") && !document.contains_key("pin"));
    assert!(registry.document("999999").is_none());
}

#[tokio::test]
async fn duplicates_fail_with_the_http_code_and_change_nothing() {
    let records = Arc::new(MemoryRecords::default());
    let registry = registry(&records).await;
    registry.create(signup_document()).await.unwrap();
    let mut again = signup_document();
    again.insert("password".into(), json!("Other1234"));
    assert_eq!(
        code(registry.create(again).await),
        codes::DUPLICATE_INDIVIDUAL_ID
    );
    assert!(verify_password(
        &registry.directory().get(ID).unwrap(),
        "Secret123"
    ));

    // A demo persona's id is taken too.
    let mut persona = signup_document();
    persona.insert("individualId".into(), json!("8267411571"));
    assert_eq!(
        code(registry.create(persona).await),
        codes::DUPLICATE_INDIVIDUAL_ID
    );

    // Stored by an earlier process but not yet loaded here: the store's conflict decides.
    let other = RegisteredIdentities::open(SharedDirectory::default(), records.clone())
        .await
        .unwrap();
    {
        let mut documents = records.documents.lock().unwrap();
        let copy = documents[ID].replace(ID, "85599999999");
        documents.insert("85599999999".into(), copy);
    }
    let mut raced = signup_document();
    raced.insert("individualId".into(), json!("85599999999"));
    assert_eq!(
        code(other.create(raced).await),
        codes::DUPLICATE_INDIVIDUAL_ID
    );
}

#[tokio::test]
async fn schema_violations_give_the_http_codes() {
    let records = Arc::new(MemoryRecords::default());
    let registry = registry(&records).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("email", json!("nobody"), "invalid_email"),
        ("fullName", json!([]), "invalid_fullname"),
        ("dateOfBirth", json!("1990/02/30"), "invalid_dateofbirth"),
        ("individualId", json!("12"), "invalid_individualid"),
        ("nickname", json!("x"), codes::UNKNOWN_FIELD),
    ];
    for (field, value, expected) in cases {
        let mut document = signup_document();
        document.insert(field.into(), value);
        assert_eq!(code(registry.create(document).await), expected, "{field}");
    }
    let mut missing = signup_document();
    missing.remove("password");
    assert_eq!(code(registry.create(missing).await), "invalid_password");
    assert!(registry.directory().get(ID).is_none());
    assert!(records.documents.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_store_failure_creates_nothing() {
    let records = Arc::new(MemoryRecords::default());
    let registry = registry(&records).await;
    records
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        code(registry.create(signup_document()).await),
        codes::UNKNOWN_ERROR
    );
    assert!(registry.directory().get(ID).is_none());
    records
        .fail
        .store(false, std::sync::atomic::Ordering::SeqCst);
    registry.create(signup_document()).await.unwrap();
    records
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let patch = json!({"password": "Changed123"})
        .as_object()
        .cloned()
        .unwrap();
    assert_eq!(code(registry.update(ID, patch).await), codes::UNKNOWN_ERROR);
    assert!(verify_password(
        &registry.directory().get(ID).unwrap(),
        "Secret123"
    ));
    assert!(
        RegisteredIdentities::open(SharedDirectory::default(), records.clone())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn update_changes_the_password_of_registered_and_demo_identities() {
    let records = Arc::new(MemoryRecords::default());
    let registry = registry(&records).await;
    registry.create(signup_document()).await.unwrap();
    let patch = |password: &str| json!({"password": password}).as_object().cloned().unwrap();
    registry.update(ID, patch("Changed123")).await.unwrap();
    let identity = registry.directory().get(ID).unwrap();
    assert!(verify_password(&identity, "Changed123"));
    assert!(!verify_password(&identity, "Secret123"));
    assert_eq!(
        identity.phone.as_deref(),
        Some(PHONE),
        "other members are kept"
    );

    registry
        .update("8267411571", patch("Persona123"))
        .await
        .unwrap();
    assert!(verify_password(
        &registry.directory().get("8267411571").unwrap(),
        "Persona123"
    ));

    assert_eq!(
        code(registry.update("999999", patch("Whatever1")).await),
        codes::INVALID_INDIVIDUAL_ID
    );
    let bad = json!({"email": "nobody"}).as_object().cloned().unwrap();
    assert_eq!(code(registry.update(ID, bad).await), "invalid_email");
    let unknown = json!({"ssn": "1"}).as_object().cloned().unwrap();
    assert_eq!(
        code(registry.update(ID, unknown).await),
        codes::UNKNOWN_FIELD
    );
}

#[tokio::test]
async fn verified_claims_are_added_replaced_and_checked() {
    let records = Arc::new(MemoryRecords::default());
    let registry = registry(&records).await;
    registry.create(signup_document()).await.unwrap();
    let details = json!({
        "fullName": {"trust_framework": "eidas", "time": "2024-01-01T00:00:00Z"},
        "dateOfBirth": {"trust_framework": "eidas", "time": "2024-01-01T00:00:00Z"},
    });
    registry
        .add_verified_claims(ID, details.as_object().unwrap(), true)
        .await
        .unwrap();
    let identity = registry.directory().get(ID).unwrap();
    assert_eq!(identity.verified_claims.len(), 1);
    assert_eq!(
        identity.verified_claims[0].fields,
        ["fullName", "dateOfBirth"],
        "in the order given"
    );

    // Verified again under the same framework (other case): replaces that field's entry.
    let again = json!({"fullName": {"trust_framework": "EIDAS", "time": "2025-01-01T00:00:00Z"}});
    registry
        .add_verified_claims(ID, again.as_object().unwrap(), true)
        .await
        .unwrap();
    let identity = registry.directory().get(ID).unwrap();
    assert_eq!(identity.verified_claims.len(), 2);
    assert_eq!(identity.verified_claims[0].fields, ["dateOfBirth"]);
    assert_eq!(identity.verified_claims[1].fields, ["fullName"]);
    assert!(identity.has_claim("name"));

    let cases = [
        (json!({}), codes::INVALID_REQUEST),
        (
            json!({"pin": {"trust_framework": "x"}}),
            codes::INVALID_CLAIM,
        ),
        (
            json!({"givenName": {"trust_framework": "x"}}),
            codes::INVALID_CLAIM,
        ),
        (json!({"email": "eidas"}), codes::INVALID_REQUEST),
        (
            json!({"email": {"trust_framework": " "}}),
            codes::INVALID_REQUEST,
        ),
    ];
    for (details, expected) in cases {
        assert_eq!(
            code(
                registry
                    .add_verified_claims(ID, details.as_object().unwrap(), true)
                    .await
            ),
            expected,
            "{details}"
        );
    }
    assert_eq!(
        code(
            registry
                .add_verified_claims("999999", again.as_object().unwrap(), true)
                .await
        ),
        codes::INVALID_INDIVIDUAL_ID
    );
    assert_eq!(
        registry.directory().get(ID).unwrap().verified_claims.len(),
        2
    );
}

#[tokio::test]
async fn everything_survives_a_reopen() {
    let records = Arc::new(MemoryRecords::default());
    {
        let registry = registry(&records).await;
        registry.create(signup_document()).await.unwrap();
        let details = json!({"phone": {"trust_framework": "nist_800_63A"}});
        registry
            .add_verified_claims(ID, details.as_object().unwrap(), true)
            .await
            .unwrap();
        let patch = json!({"password": "Persona123"})
            .as_object()
            .cloned()
            .unwrap();
        registry.update("8267411571", patch).await.unwrap();
    }
    let reopened = registry(&records).await;
    let identity = reopened.directory().get(ID).unwrap();
    assert!(verify_password(&identity, "Secret123"));
    assert_eq!(identity.verified_claims[0].fields, ["phone"]);
    assert!(verify_password(
        &reopened.directory().get("8267411571").unwrap(),
        "Persona123"
    ));

    records.documents.lock().unwrap().insert(
        "1".into(),
        r#"{"individualId": "1", "email": "nobody"}"#.into(),
    );
    let error = RegisteredIdentities::open(SharedDirectory::default(), records.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("email") && !error.contains("nobody"),
        "{error}"
    );
    records
        .documents
        .lock()
        .unwrap()
        .insert("1".into(), "not json".into());
    assert!(
        RegisteredIdentities::open(SharedDirectory::default(), records.clone())
            .await
            .is_err()
    );
}
