//! The administration API over real HTTP: identities, schema validation, verified claims,
//! partners, keys and health.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Mock, SID, errors, new_identity, request_time, wrap};
use serde_json::{Value, json};

#[tokio::test]
async fn create_then_get_returns_the_stored_identity() {
    let mock = Mock::start().await;
    let created = mock
        .post_wrapped("/identity", new_identity("1234567890"))
        .await;
    assert_eq!(errors(&created), Vec::<String>::new());
    assert_eq!(
        created["response"],
        json!({"status": "mock identity data created successfully"})
    );
    assert!(created["responseTime"].as_str().unwrap().ends_with('Z'));

    let stored = mock.get("/identity/1234567890").await;
    let identity = &stored["response"];
    assert_eq!(identity["individualId"], "1234567890");
    assert_eq!(identity["fullName"][1]["value"], "Anne Lee");
    // The password is stored as upper-case hex SHA-256; nulls are not stored.
    let password = identity["password"].as_str().unwrap();
    assert_eq!(password.len(), 64);
    assert!(
        password
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    );
    assert!(identity.get("middleName").is_none());
    assert!(
        identity["encodedPhoto"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );

    let unknown = mock.get("/identity/999999999").await;
    assert_eq!(errors(&unknown), ["invalid_individual_id"]);
    assert_eq!(unknown["errors"][0]["message"], "invalid_individual_id");
    assert_eq!(unknown["response"], Value::Null);
}

#[tokio::test]
async fn missing_required_fields_are_listed_each_with_its_code() {
    let mock = Mock::start().await;
    let response = mock.post_wrapped("/identity", json!({})).await;
    assert_eq!(
        errors(&response),
        [
            "invalid_individualid",
            "invalid_pin",
            "invalid_fullname",
            "invalid_givenname",
            "invalid_familyname",
            "invalid_gender",
            "invalid_dateofbirth",
            "invalid_locality",
            "invalid_region",
            "invalid_country",
            "invalid_postalcode",
            "invalid_email",
            "invalid_phone",
            "invalid_encodedphoto",
            "invalid_preferredlang",
        ]
    );
    assert_eq!(response["errors"][2]["message"], "fullName: is required");
    assert_eq!(response["response"], Value::Null);
}

#[tokio::test]
async fn field_errors_name_the_field_and_rule_without_the_value() {
    let mock = Mock::start().await;
    let mut identity = new_identity("1234567891");
    identity["email"] = json!("ann.lee-at-example.com");
    let response = mock.post_wrapped("/identity", identity).await;
    assert_eq!(errors(&response), ["invalid_email"]);
    let message = response["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("email: must be an e-mail address"),
        "{message}"
    );
    assert!(!message.contains("ann.lee"));

    let mut identity = new_identity("1234567891");
    identity["shoeSize"] = json!("44");
    identity["verifiedClaims"] = json!([]);
    identity["dateOfBirth"] = json!("1990/02/30");
    identity["givenName"] = json!([{"language": "eng", "value": "  "}]);
    let response = mock.post_wrapped("/identity", identity).await;
    assert_eq!(
        errors(&response),
        [
            "unknown_field",
            "unknown_field",
            "invalid_givenname",
            "invalid_dateofbirth"
        ]
    );
    assert_eq!(
        response["errors"][0]["message"],
        "shoeSize: is not a member of the identity schema"
    );
    assert_eq!(
        response["errors"][2]["message"],
        "givenName[0].value: must not be blank"
    );
    // Nothing was stored.
    let stored = mock.get("/identity/1234567891").await;
    assert_eq!(errors(&stored), ["invalid_individual_id"]);
}

#[tokio::test]
async fn envelope_errors_are_invalid_request() {
    let mock = Mock::start().await;
    for offset in [time::Duration::seconds(-121), time::Duration::seconds(125)] {
        let body =
            json!({"requestTime": request_time(offset), "request": new_identity("1234567892")});
        let response = mock
            .send(reqwest::Method::POST, "/identity", body.to_string())
            .await;
        assert_eq!(errors(&response), ["invalid_request"]);
        assert!(
            response["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("requestTime:")
        );
    }
    let no_time = json!({"request": new_identity("1234567892")});
    let response = mock
        .send(reqwest::Method::POST, "/identity", no_time.to_string())
        .await;
    assert_eq!(errors(&response), ["invalid_request"]);
    let response = mock
        .send(reqwest::Method::POST, "/identity", "{not json".to_owned())
        .await;
    assert_eq!(errors(&response), ["invalid_request"]);
    let response = mock.post_wrapped("/identity", json!("a string")).await;
    assert_eq!(errors(&response), ["invalid_request"]);
}

#[tokio::test]
async fn a_duplicate_individual_id_is_refused() {
    let mock = Mock::start().await;
    let first = mock
        .post_wrapped("/identity", new_identity("1234567893"))
        .await;
    assert_eq!(errors(&first), Vec::<String>::new());
    let again = mock
        .post_wrapped("/identity", new_identity("1234567893"))
        .await;
    assert_eq!(errors(&again), ["duplicate_individual_id"]);
    // The demo personas are stored too.
    let mut persona = new_identity(SID);
    persona["pin"] = json!("111111");
    let persona = mock.post_wrapped("/identity", persona).await;
    assert_eq!(errors(&persona), ["duplicate_individual_id"]);
}

#[tokio::test]
async fn update_merges_a_partial_document() {
    let mock = Mock::start().await;
    mock.post_wrapped("/identity", new_identity("1234567894"))
        .await;
    let updated = mock
        .put_wrapped(
            "/identity",
            json!({"individualId": "1234567894", "email": "ann@example.org", "fullName": null,
                   "nickName": [{"language": "eng", "value": "Annie"}], "password": "Changed99"}),
        )
        .await;
    assert_eq!(errors(&updated), Vec::<String>::new());
    assert_eq!(
        updated["response"],
        json!({"status": "mock Identity data updated successfully"})
    );
    let stored = &mock.get("/identity/1234567894").await["response"];
    assert_eq!(stored["email"], "ann@example.org");
    assert_eq!(stored["nickName"][0]["value"], "Annie");
    assert_eq!(stored["fullName"][0]["value"], "Ann Lee", "null is ignored");
    assert_eq!(stored["pin"], "545411", "untouched members stay");
    assert_eq!(
        stored["password"],
        esignet_mock_authenticator::hash_password("Changed99").unwrap(),
        "a new password is hashed too"
    );

    let unknown = mock
        .put_wrapped(
            "/identity",
            json!({"individualId": "999999999", "pin": "1234"}),
        )
        .await;
    assert_eq!(errors(&unknown), ["invalid_individual_id"]);
    let missing_id = mock.put_wrapped("/identity", json!({"pin": "1234"})).await;
    assert_eq!(errors(&missing_id), ["invalid_individual_id"]);
    let bad = mock
        .put_wrapped(
            "/identity",
            json!({"individualId": "1234567894", "email": "nope", "pin": "12"}),
        )
        .await;
    assert_eq!(errors(&bad), ["invalid_pin", "invalid_email"]);
}

#[tokio::test]
async fn the_served_schema_describes_what_is_enforced() {
    let mock = Mock::start().await;
    let envelope = mock.get("/identity/identity-schema").await;
    assert!(envelope.get("responseTime").is_none());
    assert_eq!(errors(&envelope), Vec::<String>::new());
    let schema = &envelope["response"];
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["additionalProperties"], false);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    assert!(required.contains(&"email") && required.contains(&"encodedPhoto"));
    assert!(!required.contains(&"middleName"));
    // The email rule the schema states is the one that rejected the address above.
    let pattern = schema["properties"]["email"]["pattern"].as_str().unwrap();
    assert_eq!(pattern, "^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\\.[a-zA-Z0-9.-]+$");
    assert_eq!(
        schema["$defs"]["langField"]["items"]["required"],
        json!(["language", "value"])
    );
}

#[tokio::test]
async fn verified_claims_are_added_and_reported_in_claim_metadata() {
    let mock = Mock::start().await;
    mock.post_wrapped("/identity", new_identity("1234567895"))
        .await;
    let added = mock
        .post_wrapped(
            "/identity/add-verified-claim",
            json!({"individualId": "1234567895", "active": true, "verificationDetail": {
                "fullName": {"trust_framework": "pwd", "time": "2024-05-01T10:00:00Z"},
                "locality": {"trust_framework": "pwd", "time": "2024-05-01T10:00:00Z"}
            }}),
        )
        .await;
    assert_eq!(errors(&added), Vec::<String>::new());
    assert_eq!(
        added["response"],
        json!({"status": "Verified Claim added successfully"})
    );

    let auth = mock
        .post(
            &format!("/v2/kyc-auth/{}/{}", common::RP, common::CLIENT),
            &json!({"transactionId": "T-VC", "individualId": "1234567895", "pin": "545411",
                    "claimMetadataRequired": true}),
        )
        .await;
    assert_eq!(errors(&auth), Vec::<String>::new());
    let metadata = &auth["response"]["claimMetadata"];
    assert_eq!(metadata["name"][0]["trust_framework"], "pwd");
    assert_eq!(metadata["address"][0]["trust_framework"], "pwd");
    assert_eq!(metadata["email"], json!([]));

    for (request, code) in [
        (
            json!({"individualId": "1234567895", "verificationDetail": {"pin": {"trust_framework": "x"}}}),
            "invalid_claim",
        ),
        (
            json!({"individualId": "1234567895", "verificationDetail": {"nickName": {"trust_framework": "x"}}}),
            "invalid_claim",
        ),
        (
            json!({"individualId": "1234567895", "verificationDetail": {"email": {"time": "x"}}}),
            "invalid_request",
        ),
        (
            json!({"individualId": "1234567895", "verificationDetail": {"email": {"trust_framework": " "}}}),
            "invalid_request",
        ),
        (
            json!({"individualId": "1234567895", "verificationDetail": {}}),
            "invalid_request",
        ),
        (
            json!({"individualId": "999999999", "verificationDetail": {"email": {"trust_framework": "x"}}}),
            "invalid_individual_id",
        ),
    ] {
        let response = mock
            .post_wrapped("/identity/add-verified-claim", request.clone())
            .await;
        assert_eq!(errors(&response), [code], "{request}");
    }
}

#[tokio::test]
async fn partners_register_rsa_encryption_keys_only() {
    let mock = Mock::start().await;
    let key = josekit::jwk::Jwk::generate_rsa_key(2048)
        .unwrap()
        .to_public_key()
        .unwrap();
    let registered = mock
        .post_wrapped(
            "/partner",
            json!({"partnerId": "rp", "clientId": "client", "key": key.to_string(), "status": "ACTIVE"}),
        )
        .await;
    assert_eq!(errors(&registered), Vec::<String>::new());
    assert_eq!(
        registered["response"],
        "Partner data created/updated successfully"
    );

    let mut signing = key.clone();
    signing.set_key_use("sig");
    let ec = josekit::jwk::Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256)
        .unwrap()
        .to_public_key()
        .unwrap();
    for (request, code) in [
        (
            json!({"clientId": "c", "key": key.to_string()}),
            "invalid_partner_id",
        ),
        (
            json!({"partnerId": "p", "key": key.to_string()}),
            "invalid_client_id",
        ),
        (
            json!({"partnerId": "p", "clientId": "c", "key": "{}"}),
            "invalid_partner_key",
        ),
        (
            json!({"partnerId": "p", "clientId": "c", "key": signing.to_string()}),
            "invalid_partner_key",
        ),
        (
            json!({"partnerId": "p", "clientId": "c", "key": ec.to_string()}),
            "invalid_partner_key",
        ),
        (
            json!({"partnerId": "p", "clientId": "c", "key": key.to_string(), "status": 1}),
            "invalid_status",
        ),
    ] {
        let response = mock.post_wrapped("/partner", request.clone()).await;
        assert_eq!(errors(&response), [code], "{request}");
    }
}

#[tokio::test]
async fn keys_and_health() {
    let mock = Mock::start().await;
    let keys = mock.get("/keys.json").await;
    assert!(keys.get("responseTime").is_none());
    assert_eq!(errors(&keys), Vec::<String>::new());
    let certificates = keys["response"]["allCertificates"].as_array().unwrap();
    assert_eq!(certificates.len(), 1);
    let certificate = &certificates[0];
    assert!(
        certificate["certificateData"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert!(certificate["keyId"].as_str().unwrap().len() >= 43);
    assert!(certificate["issuedAt"].as_str().unwrap() < certificate["expiryAt"].as_str().unwrap());

    let health = mock.get("/actuator/health").await;
    assert_eq!(health["status"], "UP");
}

#[tokio::test]
async fn demo_personas_are_seeded_once_and_edits_survive_a_restart() {
    let mock = Mock::start().await;
    for id in [
        "8267411571",
        "5860142938",
        "3519847260",
        "7704215589",
        "6102938475",
    ] {
        let persona = mock.get(&format!("/identity/{id}")).await;
        assert_eq!(errors(&persona), Vec::<String>::new(), "{id}");
        assert!(
            persona["response"]["encodedPhoto"]
                .as_str()
                .unwrap()
                .starts_with("data:image/png;base64,")
        );
        assert!(persona["response"].get("verifiedClaims").is_none());
    }
    let updated = mock
        .put_wrapped("/identity", json!({"individualId": SID, "pin": "000111"}))
        .await;
    assert_eq!(errors(&updated), Vec::<String>::new());
    let first_key = mock.get("/keys.json").await["response"]["allCertificates"][0]["keyId"].clone();

    let Mock { data, .. } = mock;
    let restarted = Mock::start_in(data, std::time::Duration::ZERO).await;
    let persona = restarted.get(&format!("/identity/{SID}")).await;
    assert_eq!(persona["response"]["pin"], "000111");
    assert_eq!(
        restarted.get("/keys.json").await["response"]["allCertificates"][0]["keyId"],
        first_key,
        "the signing key is kept"
    );
    // The wrapped helper is what every test above used; make sure its time is what is checked.
    assert!(
        wrap(json!({}))["requestTime"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
}

#[tokio::test]
async fn the_signup_schema_takes_a_registration_and_serves_the_account_form() {
    // The full schema: no account form, and a registration's few members are not enough.
    let full = Mock::start().await;
    let spec = full.get("/identity/ui-spec").await;
    assert_eq!(
        spec["errors"][0]["errorCode"], "ui_spec_not_found",
        "{spec}"
    );
    let registration = json!({
        "individualId": "9123456789",
        "fullName": [{"language": "eng", "value": "Asha Rao"}],
        "phone": "9123456789",
        "password": "Asha#2026rao",
        "preferredLang": "eng",
    });
    let refused = full.post_wrapped("/identity", registration.clone()).await;
    assert!(
        !refused["errors"].as_array().unwrap().is_empty(),
        "{refused}"
    );

    let signup = Mock::start_signup().await;
    let spec = signup.get("/identity/ui-spec").await;
    assert_eq!(spec["errors"], json!([]), "{spec}");
    let ids: Vec<&str> = spec["response"]["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "phone",
            "fullName",
            "email",
            "dateOfBirth",
            "password",
            "preferredLang",
            "consent"
        ]
    );
    let schema = signup.get("/identity/identity-schema").await;
    assert_eq!(
        schema["response"]["required"],
        json!(["individualId", "password", "fullName", "phone"])
    );
    let created = signup.post_wrapped("/identity", registration).await;
    assert_eq!(created["errors"], json!([]), "{created}");
    let stored = signup.get("/identity/9123456789").await;
    assert_eq!(stored["response"]["fullName"][0]["value"], "Asha Rao");
    // The members given keep their rules; a missing phone is still refused.
    let bad = signup
        .post_wrapped(
            "/identity",
            json!({"individualId": "9123456788", "fullName": [{"language": "eng", "value": "B"}],
                   "password": "x", "email": "nope"}),
        )
        .await;
    let codes: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["errorCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["invalid_email", "invalid_phone"], "{bad}");
}
