//! [`ConsentStore`] on `consent_detail` (current consent) and `consent_history` (append-only).

use esignet_spi::{ConsentRecord, ConsentStore, StoreError};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Sqlite, query::Query};

use crate::codec::{Columns, encode_json, encode_optional_time, encode_time};
use crate::{SqliteStore, database_error, timed};

/// The consent columns, in bind order; both tables have them (history adds `seq`).
macro_rules! consent_columns {
    () => {
        "client_id, psu_token, id, claims, authorization_scopes, cr_dtimes, expire_dtimes, \
         signature, hash, accepted_claims, permitted_scopes"
    };
}

const SELECT_CURRENT: &str = concat!(
    "SELECT ",
    consent_columns!(),
    " FROM consent_detail WHERE client_id = ?1 AND psu_token = ?2"
);

const SELECT_HISTORY: &str = concat!(
    "SELECT ",
    consent_columns!(),
    " FROM consent_history WHERE client_id = ?1 AND psu_token = ?2 ORDER BY seq"
);

// The primary key of consent_detail is (client_id, psu_token): REPLACE deletes the previous
// current consent of the pair and inserts this one, as eSignet's delete-then-insert does.
const REPLACE_CURRENT: &str = concat!(
    "INSERT OR REPLACE INTO consent_detail (",
    consent_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
);

const APPEND_HISTORY: &str = concat!(
    "INSERT INTO consent_history (",
    consent_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
);

const DELETE_CURRENT: &str = "DELETE FROM consent_detail WHERE client_id = ?1 AND psu_token = ?2";

#[async_trait::async_trait]
impl ConsentStore for SqliteStore {
    async fn get_consent(
        &self,
        client_id: &str,
        psu_token: &str,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        timed("get_consent", async {
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
        // or neither.
        timed("save_consent", async {
            let _writer = self.writer.lock().await;
            let fail = |error| database_error("save_consent", error);
            // The first statement writes, so the transaction takes the write lock at once
            // (waiting up to the busy timeout) instead of failing to upgrade a read later.
            let mut transaction = self.pool.begin().await.map_err(fail)?;
            bind_consent(sqlx::query(REPLACE_CURRENT), &encoded)
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
        timed("delete_consent", async {
            let _writer = self.writer.lock().await;
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
        timed("consent_history", async {
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

/// A consent's column values, encoded before any connection is taken.
struct EncodedConsent<'a> {
    record: &'a ConsentRecord,
    claims: String,
    authorization_scopes: String,
    created_at: String,
    expires_at: Option<String>,
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
            created_at: encode_time("cr_dtimes", record.created_at)?,
            expires_at: encode_optional_time("expire_dtimes", record.expires_at)?,
            accepted_claims: encode_json("accepted_claims", &record.accepted_claims)?,
            permitted_scopes: encode_json("permitted_scopes", &record.permitted_scopes)?,
        })
    }
}

/// Binds ?1..?11 in the order of `consent_columns!`.
fn bind_consent<'q>(
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    consent: &'q EncodedConsent<'_>,
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    query
        .bind(consent.record.client_id.as_str())
        .bind(consent.record.psu_token.as_str())
        .bind(consent.record.id.as_str())
        .bind(consent.claims.as_str())
        .bind(consent.authorization_scopes.as_str())
        .bind(consent.created_at.as_str())
        .bind(consent.expires_at.as_deref())
        .bind(consent.record.signature.as_deref())
        .bind(consent.record.hash.as_str())
        .bind(consent.accepted_claims.as_str())
        .bind(consent.permitted_scopes.as_str())
}

fn decode_consent(table: &'static str, row: &SqliteRow) -> Result<ConsentRecord, StoreError> {
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
