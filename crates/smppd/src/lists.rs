//! The suppression and opt-out lists as the daemon uses them: looked up at accept, when a
//! batch is checked and queued, and again right before each send (a number can be suppressed
//! after its message was queued); entries come from the API, one number at a time or as a
//! CSV import.

use std::collections::HashMap;

use smpp_policy::ListStatus;
use smppd_store::{ListEntry, ListHits, Millis, StoreError};

use crate::app::App;

/// What the lists say about some numbers, by E.164 number. A number that is on neither list
/// is absent.
pub type Lists = HashMap<String, ListStatus>;

/// The reason an entry added through the API gets when none is given.
pub const DEFAULT_REASON: &str = "operator";

/// Looks `numbers` up in one read.
pub async fn lookup(app: &App, numbers: Vec<String>) -> Result<Lists, StoreError> {
    if numbers.is_empty() {
        return Ok(Lists::new());
    }
    let store = app.store.clone();
    let (numbers, hits) = tokio::task::spawn_blocking(move || {
        let hits = store.list_hits(&numbers)?;
        Ok::<_, StoreError>((numbers, hits))
    })
    .await
    .map_err(|e| StoreError::new("list_hits", e.to_string()))??;
    Ok(numbers
        .into_iter()
        .zip(hits)
        .filter(|(_, h)| h.suppressed.is_some() || h.opted_out)
        .map(|(n, h)| (n, status_of(h)))
        .collect())
}

/// The store's answer in the policy's terms.
pub fn status_of(h: ListHits) -> ListStatus {
    ListStatus { suppressed: h.suppressed, opted_out: h.opted_out }
}

/// A reason code: 1 to 40 characters of `a-z`, `0-9` and `_` (`recycled_number`). It ends up
/// inside a message's reason (`suppressed(recycled_number)`), so it stays a code, not prose.
pub fn check_reason(reason: &str) -> Result<(), String> {
    let ok = (1..=40).contains(&reason.len())
        && reason.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{reason:?} is not a reason code: 1 to 40 of a-z, 0-9 and _ (e.g. recycled_number)"
        ))
    }
}

/// What a CSV import read: the entries to store, and the lines it refused.
#[derive(Debug, Default)]
pub struct Import {
    /// Valid rows.
    pub entries: Vec<ListEntry>,
    /// (line, why) for every refused row.
    pub errors: Vec<(usize, String)>,
}

/// Reads a list import: CSV with a header naming a `number` column and, optionally, a
/// `reason` column; UTF-8 (with or without BOM) or Shift_JIS. Rows with a bad number or
/// reason are reported by line and left out. The error names what is wrong with the file as
/// a whole.
pub fn read_import(app: &App, csv: &[u8], by: &str, at: Millis) -> Result<Import, String> {
    let (header, rows) = smpp_policy::read_rows(csv).map_err(|e| e.to_string())?;
    if !header.iter().any(|h| h == "number") {
        return Err(format!("no \"number\" column (columns: {})", header.join(", ")));
    }
    let mut import = Import::default();
    for row in rows {
        let number = row.fields.get("number").map(String::as_str).unwrap_or("");
        let reason = row
            .fields
            .get("reason")
            .map(String::as_str)
            .filter(|r| !r.is_empty())
            .unwrap_or(DEFAULT_REASON);
        let checked =
            app.policy.normalise_number(number).and_then(|n| check_reason(reason).map(|()| n));
        match checked {
            Ok(number) => import.entries.push(ListEntry {
                number,
                reason: reason.to_string(),
                added_by: by.to_string(),
                added_at: at,
            }),
            Err(e) => import.errors.push((row.line, e)),
        }
    }
    Ok(import)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_are_short_snake_case() {
        assert!(check_reason("recycled_number").is_ok());
        assert!(check_reason("opt_out_2").is_ok());
        for bad in ["", "Recycled", "recycled number", "suppressed(x)", &"a".repeat(41)] {
            assert!(check_reason(bad).is_err(), "{bad:?}");
        }
    }
}
