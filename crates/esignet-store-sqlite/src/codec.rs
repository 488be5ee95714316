//! Column encodings shared by every table: JSON as text, timestamps as sortable RFC 3339 text.

use esignet_spi::StoreError;
use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::format_description::FormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// RFC 3339 in UTC with a fixed nine-digit fraction, so that comparing the text compares the
/// instants (`ORDER BY` on a timestamp column is time order) and nanoseconds survive.
const TIMESTAMP: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z");

/// The stored text of `at`.
pub(crate) fn encode_time(column: &'static str, at: OffsetDateTime) -> Result<String, StoreError> {
    at.checked_to_offset(UtcOffset::UTC)
        .and_then(|utc| utc.format(TIMESTAMP).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("{column}: timestamp out of range")))
}

/// The stored text of an optional timestamp.
pub(crate) fn encode_optional_time(
    column: &'static str,
    at: Option<OffsetDateTime>,
) -> Result<Option<String>, StoreError> {
    at.map(|at| encode_time(column, at)).transpose()
}

/// The JSON text of a document or list. Serializing JSON values and string lists cannot fail;
/// the error path exists only because the serializer's signature has one.
pub(crate) fn encode_json(
    column: &'static str,
    value: &impl JsonText,
) -> Result<String, StoreError> {
    value
        .to_json_text()
        .map_err(|_| StoreError::Corrupt(format!("{column}: value cannot be encoded as JSON")))
}

/// Types stored as JSON text.
pub(crate) trait JsonText {
    /// The compact JSON text.
    fn to_json_text(&self) -> serde_json::Result<String>;
}

impl JsonText for Value {
    fn to_json_text(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }
}

impl JsonText for Map<String, Value> {
    fn to_json_text(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }
}

impl JsonText for Vec<String> {
    fn to_json_text(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }
}

/// Reads one row's columns, turning every failure into `Corrupt` naming the column.
pub(crate) struct Columns<'r> {
    table: &'static str,
    row: &'r SqliteRow,
}

impl<'r> Columns<'r> {
    /// The columns of `row`, read from `table`.
    pub(crate) fn new(table: &'static str, row: &'r SqliteRow) -> Self {
        Self { table, row }
    }

    /// A non-null text column.
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

    /// A non-null blob column.
    pub(crate) fn bytes(&self, column: &'static str) -> Result<Vec<u8>, StoreError> {
        self.row
            .try_get::<Vec<u8>, _>(column)
            .map_err(|error| self.corrupt(column, &error.to_string()))
    }

    /// A non-null timestamp column.
    pub(crate) fn time(&self, column: &'static str) -> Result<OffsetDateTime, StoreError> {
        let text = self.text(column)?;
        self.parse_time(column, &text)
    }

    /// A nullable timestamp column.
    pub(crate) fn optional_time(
        &self,
        column: &'static str,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        self.optional_text(column)?
            .map(|text| self.parse_time(column, &text))
            .transpose()
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

    fn parse_time(&self, column: &'static str, text: &str) -> Result<OffsetDateTime, StoreError> {
        OffsetDateTime::parse(text, &Rfc3339)
            .map_err(|_| self.corrupt(column, "not an RFC 3339 timestamp"))
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

#[cfg(test)]
mod tests {
    use time::macros::{datetime, offset};

    use super::*;

    #[test]
    fn timestamps_are_utc_with_nine_fraction_digits() {
        assert_eq!(
            encode_time("t", datetime!(2025-01-02 03:04:05 UTC)).unwrap(),
            "2025-01-02T03:04:05.000000000Z"
        );
        assert_eq!(
            encode_time("t", datetime!(2025-01-02 05:04:05.5 +02:00)).unwrap(),
            "2025-01-02T03:04:05.500000000Z"
        );
    }

    #[test]
    fn timestamp_text_order_is_time_order() {
        let earlier = encode_time("t", datetime!(2025-01-02 03:04:05 UTC)).unwrap();
        let later = encode_time("t", datetime!(2025-01-02 03:04:05.000000001 UTC)).unwrap();
        let other_zone = encode_time("t", datetime!(2025-01-02 04:04:04 +01:00)).unwrap();
        assert!(other_zone < earlier && earlier < later);
    }

    #[test]
    fn timestamps_round_trip_to_the_same_instant() {
        let at = datetime!(2025-07-08 09:10:11.123456789 -05:30);
        let text = encode_time("t", at).unwrap();
        let parsed = OffsetDateTime::parse(&text, &Rfc3339).unwrap();
        assert_eq!(parsed, at);
        assert_eq!(parsed.offset(), offset!(UTC));
    }
}
