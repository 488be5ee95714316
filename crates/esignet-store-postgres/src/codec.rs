//! Column encodings shared by every table: JSON documents and lists as `json` (bound and read
//! as text), timestamps as `timestamptz` (bound and read by sqlx as `OffsetDateTime`).

use esignet_spi::StoreError;
use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

/// The JSON text of a document or list. Serializing JSON values and string lists cannot fail;
/// the error path exists only because the serializer's signature has one.
pub(crate) fn encode_json(
    column: &'static str,
    value: &impl serde::Serialize,
) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|_| StoreError::Corrupt(format!("{column}: value cannot be encoded as JSON")))
}

/// The JSON text of an optional document.
pub(crate) fn encode_optional_json(
    column: &'static str,
    value: Option<&Value>,
) -> Result<Option<String>, StoreError> {
    value.map(|value| encode_json(column, value)).transpose()
}

/// Reads one row's columns, turning every failure into `Corrupt` naming the column.
pub(crate) struct Columns<'r> {
    table: &'static str,
    row: &'r PgRow,
}

impl<'r> Columns<'r> {
    /// The columns of `row`, read from `table`.
    pub(crate) fn new(table: &'static str, row: &'r PgRow) -> Self {
        Self { table, row }
    }

    /// A non-null text column (or a `json` column selected as `::text`).
    pub(crate) fn text(&self, column: &'static str) -> Result<String, StoreError> {
        self.row
            .try_get::<String, _>(column)
            .map_err(|error| self.corrupt(column, &error.to_string()))
    }

    /// A nullable text column.
    pub(crate) fn optional_text(&self, column: &'static str) -> Result<Option<String>, StoreError> {
        self.row
            .try_get::<Option<String>, _>(column)
            .map_err(|error| self.corrupt(column, &error.to_string()))
    }

    /// A non-null `bytea` column.
    pub(crate) fn bytes(&self, column: &'static str) -> Result<Vec<u8>, StoreError> {
        self.row
            .try_get::<Vec<u8>, _>(column)
            .map_err(|error| self.corrupt(column, &error.to_string()))
    }

    /// A non-null `timestamptz` column, in UTC.
    pub(crate) fn time(&self, column: &'static str) -> Result<OffsetDateTime, StoreError> {
        self.row
            .try_get::<OffsetDateTime, _>(column)
            .map_err(|error| self.corrupt(column, &error.to_string()))
    }

    /// A nullable `timestamptz` column, in UTC.
    pub(crate) fn optional_time(
        &self,
        column: &'static str,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        self.row
            .try_get::<Option<OffsetDateTime>, _>(column)
            .map_err(|error| self.corrupt(column, &error.to_string()))
    }

    /// A non-null column holding any JSON value.
    pub(crate) fn json(&self, column: &'static str) -> Result<Value, StoreError> {
        let text = self.text(column)?;
        self.parse_json(column, &text)
    }

    /// A nullable column holding any JSON value.
    pub(crate) fn optional_json(&self, column: &'static str) -> Result<Option<Value>, StoreError> {
        self.optional_text(column)?
            .map(|text| self.parse_json(column, &text))
            .transpose()
    }

    /// A non-null column holding a JSON object.
    pub(crate) fn json_object(
        &self,
        column: &'static str,
    ) -> Result<Map<String, Value>, StoreError> {
        match self.json(column)? {
            Value::Object(object) => Ok(object),
            _ => Err(self.corrupt(column, "not a JSON object")),
        }
    }

    /// A non-null column holding a JSON array of strings.
    pub(crate) fn string_list(&self, column: &'static str) -> Result<Vec<String>, StoreError> {
        let text = self.text(column)?;
        serde_json::from_str(&text).map_err(|_| self.corrupt(column, "not a JSON array of strings"))
    }

    fn parse_json(&self, column: &'static str, text: &str) -> Result<Value, StoreError> {
        // The parse error is left out: its message can quote the stored text.
        serde_json::from_str(text).map_err(|_| self.corrupt(column, "not valid JSON"))
    }

    /// A `Corrupt` error naming the column and the problem, never the stored value.
    pub(crate) fn corrupt(&self, column: &'static str, problem: &str) -> StoreError {
        tracing::error!(
            table = self.table,
            column,
            problem,
            "undecodable stored row"
        );
        StoreError::Corrupt(format!("{}.{column}: {problem}", self.table))
    }
}
