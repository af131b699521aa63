//! How the model's enums are spelled in the database: the API spellings of
//! [`MessageStatus::as_str`] and [`SegmentState::as_str`], so the file reads well in `sqlite3`.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::{MessageStatus, SegmentState};

impl ToSql for MessageStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for MessageStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        MessageStatus::parse(text).ok_or_else(|| unknown_spelling("message status", text))
    }
}

impl ToSql for SegmentState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for SegmentState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        SegmentState::parse(text).ok_or_else(|| unknown_spelling("segment state", text))
    }
}

fn unknown_spelling(what: &str, text: &str) -> FromSqlError {
    FromSqlError::Other(format!("unknown {what} {text:?} in the database").into())
}
