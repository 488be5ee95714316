//! [`ClientStore`] on the `client_detail` table.

use esignet_spi::{ClientRecord, ClientStatus, ClientStore, StoreError};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{Postgres, query::Query};

use crate::codec::{Columns, encode_json, encode_optional_json};
use crate::{PostgresStore, database_error, unique_violation};

const TABLE: &str = "client_detail";

/// The constraint names of the migrations, which the database reports on a violation.
const PRIMARY_KEY: &str = "pk_client_detail";
const UNIQUE_PUBLIC_KEY_HASH: &str = "ux_client_detail_public_key_hash";

// `json` columns are read as text, so the exact stored JSON text is parsed here.
const SELECT: &str = "SELECT id, name::text AS name, rp_id, logo_uri, \
     redirect_uris::text AS redirect_uris, claims::text AS claims, \
     acr_values::text AS acr_values, public_key::text AS public_key, public_key_hash, \
     enc_public_key::text AS enc_public_key, grant_types::text AS grant_types, \
     auth_methods::text AS auth_methods, status, additional_config::text AS additional_config, \
     cr_dtimes, upd_dtimes FROM client_detail WHERE id = $1";

// INSERT and UPDATE number their parameters the same way, so `bind_client` serves both. JSON is
// bound as text and cast, which validates it.
const INSERT: &str = "INSERT INTO client_detail (id, name, rp_id, logo_uri, redirect_uris, \
     claims, acr_values, public_key, public_key_hash, enc_public_key, grant_types, auth_methods, \
     status, additional_config, cr_dtimes, upd_dtimes) \
     VALUES ($1, $2::json, $3, $4, $5::json, $6::json, $7::json, $8::json, $9, $10::json, \
     $11::json, $12::json, $13, $14::json, $15, $16)";

const UPDATE: &str = "UPDATE client_detail SET name = $2::json, rp_id = $3, logo_uri = $4, \
     redirect_uris = $5::json, claims = $6::json, acr_values = $7::json, public_key = $8::json, \
     public_key_hash = $9, enc_public_key = $10::json, grant_types = $11::json, \
     auth_methods = $12::json, status = $13, additional_config = $14::json, cr_dtimes = $15, \
     upd_dtimes = $16 WHERE id = $1";

#[async_trait::async_trait]
impl ClientStore for PostgresStore {
    async fn get_client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        self.timed("get_client", async {
            let row = sqlx::query(SELECT)
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(|error| database_error("get_client", error))?;
            row.as_ref().map(decode_client).transpose()
        })
        .await
    }

    async fn insert_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
        let encoded = EncodedClient::new(client)?;
        self.timed("insert_client", async {
            bind_client(sqlx::query(INSERT), &encoded)
                .execute(&self.pool)
                .await
                .map_err(|error| client_write_error("insert_client", error))?;
            Ok(())
        })
        .await
    }

    async fn update_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
        let encoded = EncodedClient::new(client)?;
        self.timed("update_client", async {
            let done = bind_client(sqlx::query(UPDATE), &encoded)
                .execute(&self.pool)
                .await
                .map_err(|error| client_write_error("update_client", error))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }
}

/// Names the uniqueness rule a write broke, or maps the failure as any other.
fn client_write_error(operation: &'static str, error: sqlx::Error) -> StoreError {
    match unique_violation(&error) {
        Some(UNIQUE_PUBLIC_KEY_HASH) => StoreError::Conflict("public_key"),
        Some(PRIMARY_KEY) => StoreError::Conflict("client_id"),
        _ => database_error(operation, error),
    }
}

/// A client's column values, encoded before any connection is taken.
struct EncodedClient<'a> {
    record: &'a ClientRecord,
    name: String,
    redirect_uris: String,
    claims: String,
    acr_values: String,
    public_key: String,
    enc_public_key: Option<String>,
    grant_types: String,
    auth_methods: String,
    additional_config: Option<String>,
}

impl<'a> EncodedClient<'a> {
    fn new(record: &'a ClientRecord) -> Result<Self, StoreError> {
        Ok(Self {
            record,
            name: encode_json("name", &record.name)?,
            redirect_uris: encode_json("redirect_uris", &record.redirect_uris)?,
            claims: encode_json("claims", &record.claims)?,
            acr_values: encode_json("acr_values", &record.acr_values)?,
            public_key: encode_json("public_key", &record.public_key)?,
            enc_public_key: encode_optional_json("enc_public_key", record.enc_public_key.as_ref())?,
            grant_types: encode_json("grant_types", &record.grant_types)?,
            auth_methods: encode_json("auth_methods", &record.auth_methods)?,
            additional_config: encode_optional_json(
                "additional_config",
                record.additional_config.as_ref(),
            )?,
        })
    }
}

/// Binds $1..$16 in the column order of [`INSERT`] and [`UPDATE`].
fn bind_client<'q>(
    query: Query<'q, Postgres, PgArguments>,
    client: &'q EncodedClient<'_>,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(client.record.client_id.as_str())
        .bind(client.name.as_str())
        .bind(client.record.relying_party_id.as_str())
        .bind(client.record.logo_uri.as_str())
        .bind(client.redirect_uris.as_str())
        .bind(client.claims.as_str())
        .bind(client.acr_values.as_str())
        .bind(client.public_key.as_str())
        .bind(client.record.public_key_hash.as_str())
        .bind(client.enc_public_key.as_deref())
        .bind(client.grant_types.as_str())
        .bind(client.auth_methods.as_str())
        .bind(client.record.status.as_str())
        .bind(client.additional_config.as_deref())
        .bind(client.record.created_at)
        .bind(client.record.updated_at)
}

fn decode_client(row: &PgRow) -> Result<ClientRecord, StoreError> {
    let columns = Columns::new(TABLE, row);
    let status = ClientStatus::parse(&columns.text("status")?)
        .ok_or_else(|| columns.corrupt("status", "unknown client status"))?;
    Ok(ClientRecord {
        client_id: columns.text("id")?,
        name: columns.json_object("name")?,
        relying_party_id: columns.text("rp_id")?,
        logo_uri: columns.text("logo_uri")?,
        redirect_uris: columns.string_list("redirect_uris")?,
        claims: columns.string_list("claims")?,
        acr_values: columns.string_list("acr_values")?,
        public_key: columns.json("public_key")?,
        public_key_hash: columns.text("public_key_hash")?,
        enc_public_key: columns.optional_json("enc_public_key")?,
        grant_types: columns.string_list("grant_types")?,
        auth_methods: columns.string_list("auth_methods")?,
        status,
        additional_config: columns.optional_json("additional_config")?,
        created_at: columns.time("cr_dtimes")?,
        updated_at: columns.optional_time("upd_dtimes")?,
    })
}
