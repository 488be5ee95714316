//! [`ConsentStore`] on `consent_detail` (current consent) and `consent_history` (append-only).

use esignet_spi::{ConsentRecord, ConsentStore, StoreError};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{Postgres, query::Query};

use crate::codec::{Columns, encode_json};
use crate::{PostgresStore, database_error};

/// The consent columns as selected (`json` read as text); both tables have them.
macro_rules! select_columns {
    () => {
        "client_id, psu_token, id, claims::text AS claims, \
         authorization_scopes::text AS authorization_scopes, cr_dtimes, expire_dtimes, \
         signature, hash, accepted_claims::text AS accepted_claims, \
         permitted_scopes::text AS permitted_scopes"
    };
}

/// The consent columns in bind order, and their parameters (JSON bound as text and cast).
macro_rules! insert_columns {
    () => {
        "(client_id, psu_token, id, claims, authorization_scopes, cr_dtimes, expire_dtimes, \
         signature, hash, accepted_claims, permitted_scopes) \
         VALUES ($1, $2, $3, $4::json, $5::json, $6, $7, $8, $9, $10::json, $11::json)"
    };
}

const SELECT_CURRENT: &str = concat!(
    "SELECT ",
    select_columns!(),
    " FROM consent_detail WHERE client_id = $1 AND psu_token = $2"
);

const SELECT_HISTORY: &str = concat!(
    "SELECT ",
    select_columns!(),
    " FROM consent_history WHERE client_id = $1 AND psu_token = $2 ORDER BY seq"
);

// One statement replaces the current consent of the pair: unlike eSignet's delete-then-insert,
// two concurrent saves for the same pair cannot both find no row and collide on insert.
const UPSERT_CURRENT: &str = concat!(
    "INSERT INTO consent_detail ",
    insert_columns!(),
    " ON CONFLICT ON CONSTRAINT pk_consent_detail DO UPDATE SET id = EXCLUDED.id, \
     claims = EXCLUDED.claims, authorization_scopes = EXCLUDED.authorization_scopes, \
     cr_dtimes = EXCLUDED.cr_dtimes, expire_dtimes = EXCLUDED.expire_dtimes, \
     signature = EXCLUDED.signature, hash = EXCLUDED.hash, \
     accepted_claims = EXCLUDED.accepted_claims, permitted_scopes = EXCLUDED.permitted_scopes"
);

const APPEND_HISTORY: &str = concat!("INSERT INTO consent_history ", insert_columns!());

const DELETE_CURRENT: &str = "DELETE FROM consent_detail WHERE client_id = $1 AND psu_token = $2";

#[async_trait::async_trait]
impl ConsentStore for PostgresStore {
    async fn get_consent(
        &self,
        client_id: &str,
        psu_token: &str,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        self.timed("get_consent", async {
            let row = sqlx::query(SELECT_CURRENT)
                .bind(client_id)
                .bind(psu_token)
                .fetch_optional(&self.pool)
                .await
                .map_err(|error| database_error("get_consent", error))?;
            row.as_ref()
                .map(|row| decode_consent("consent_detail", row))
                .transpose()
        })
        .await
    }

    async fn save_consent(&self, consent: &ConsentRecord) -> Result<(), StoreError> {
        let encoded = EncodedConsent::new(consent)?;
        // The current row is replaced and the history row appended in one transaction: both
        // or neither. Dropping the transaction on a failure or timeout rolls it back.
        self.timed("save_consent", async {
            let fail = |error| database_error("save_consent", error);
            let mut transaction = self.pool.begin().await.map_err(fail)?;
            bind_consent(sqlx::query(UPSERT_CURRENT), &encoded)
                .execute(&mut *transaction)
                .await
                .map_err(fail)?;
            bind_consent(sqlx::query(APPEND_HISTORY), &encoded)
                .execute(&mut *transaction)
                .await
                .map_err(fail)?;
            transaction.commit().await.map_err(fail)
        })
        .await
    }

    async fn delete_consent(&self, client_id: &str, psu_token: &str) -> Result<(), StoreError> {
        self.timed("delete_consent", async {
            sqlx::query(DELETE_CURRENT)
                .bind(client_id)
                .bind(psu_token)
                .execute(&self.pool)
                .await
                .map_err(|error| database_error("delete_consent", error))?;
            Ok(())
        })
        .await
    }

    async fn consent_history(
        &self,
        client_id: &str,
        psu_token: &str,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        self.timed("consent_history", async {
            let rows = sqlx::query(SELECT_HISTORY)
                .bind(client_id)
                .bind(psu_token)
                .fetch_all(&self.pool)
                .await
                .map_err(|error| database_error("consent_history", error))?;
            rows.iter()
                .map(|row| decode_consent("consent_history", row))
                .collect()
        })
        .await
    }
}

/// A consent's JSON column values, encoded before any connection is taken.
struct EncodedConsent<'a> {
    record: &'a ConsentRecord,
    claims: String,
    authorization_scopes: String,
    accepted_claims: String,
    permitted_scopes: String,
}

impl<'a> EncodedConsent<'a> {
    fn new(record: &'a ConsentRecord) -> Result<Self, StoreError> {
        Ok(Self {
            record,
            claims: encode_json("claims", &record.claims)?,
            authorization_scopes: encode_json(
                "authorization_scopes",
                &record.authorization_scopes,
            )?,
            accepted_claims: encode_json("accepted_claims", &record.accepted_claims)?,
            permitted_scopes: encode_json("permitted_scopes", &record.permitted_scopes)?,
        })
    }
}

/// Binds $1..$11 in the order of `insert_columns!`.
fn bind_consent<'q>(
    query: Query<'q, Postgres, PgArguments>,
    consent: &'q EncodedConsent<'_>,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(consent.record.client_id.as_str())
        .bind(consent.record.psu_token.as_str())
        .bind(consent.record.id.as_str())
        .bind(consent.claims.as_str())
        .bind(consent.authorization_scopes.as_str())
        .bind(consent.record.created_at)
        .bind(consent.record.expires_at)
        .bind(consent.record.signature.as_deref())
        .bind(consent.record.hash.as_str())
        .bind(consent.accepted_claims.as_str())
        .bind(consent.permitted_scopes.as_str())
}

fn decode_consent(table: &'static str, row: &PgRow) -> Result<ConsentRecord, StoreError> {
    let columns = Columns::new(table, row);
    Ok(ConsentRecord {
        id: columns.text("id")?,
        client_id: columns.text("client_id")?,
        psu_token: columns.text("psu_token")?,
        claims: columns.json("claims")?,
        authorization_scopes: columns.json("authorization_scopes")?,
        created_at: columns.time("cr_dtimes")?,
        expires_at: columns.optional_time("expire_dtimes")?,
        signature: columns.optional_text("signature")?,
        hash: columns.text("hash")?,
        accepted_claims: columns.string_list("accepted_claims")?,
        permitted_scopes: columns.string_list("permitted_scopes")?,
    })
}
