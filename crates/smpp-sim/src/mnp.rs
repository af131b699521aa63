//! Number ownership (MNP) and handset status: which carrier serves a number now, and whether
//! the handset is reachable or the number was recycled (credit-card-sms.md, "Carrier
//! determination" and "Recycled-number check").

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::config::ConfigError;

/// What the network knows about a handset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandsetStatus {
    Ok,
    /// Off or out of coverage: the carrier retries, then gives up (UNDELIV).
    Unreachable,
    /// Reassigned to another subscriber: UNDELIV.
    Recycled,
}

/// The table: number → (carrier, status). Numbers are normalised (see [`normalise`]).
#[derive(Debug, Default)]
pub(crate) struct NumberTable {
    entries: HashMap<String, (Arc<str>, HandsetStatus)>,
}

/// `+81 90-1234-5678`, `09012345678` and `819012345678` are one number: digits only, and a
/// national `0` prefix becomes `81` (Japan).
pub(crate) fn normalise(number: &str) -> Cow<'_, str> {
    // This runs for every submit: a number already in the international form (the usual
    // case) is borrowed, anything else costs one allocation of the final size.
    let bytes = number.as_bytes();
    if bytes.iter().all(u8::is_ascii_digit) {
        return match bytes {
            [b'0', second, ..] if *second != b'0' => Cow::Owned(["81", &number[1..]].concat()),
            _ => Cow::Borrowed(number),
        };
    }
    let digits = || number.bytes().filter(u8::is_ascii_digit);
    let mut it = digits();
    let national = it.next() == Some(b'0') && it.next().is_some_and(|d| d != b'0');
    let mut out = String::with_capacity(number.len() + 1);
    if national {
        out.push_str("81");
    }
    out.extend(digits().skip(usize::from(national)).map(char::from));
    Cow::Owned(out)
}

/// One `number,carrier[,status]` line.
pub(crate) fn parse_line(line: &str) -> Result<(String, String, HandsetStatus), String> {
    let mut cols = line.split(',').map(str::trim);
    let number = cols.next().unwrap_or("");
    let carrier = cols.next().unwrap_or("");
    if number.is_empty() || !number.chars().any(|c| c.is_ascii_digit()) {
        return Err(format!("{line:?}: expected number,carrier[,status]"));
    }
    if carrier.is_empty() {
        return Err(format!("{line:?}: the carrier is missing"));
    }
    let status = match cols.next().unwrap_or("ok").to_ascii_lowercase().as_str() {
        "" | "ok" => HandsetStatus::Ok,
        "unreachable" => HandsetStatus::Unreachable,
        "recycled" => HandsetStatus::Recycled,
        other => {
            return Err(format!("{line:?}: status {other:?} is not ok, unreachable or recycled"))
        }
    };
    Ok((normalise(number).into_owned(), carrier.to_owned(), status))
}

impl NumberTable {
    pub(crate) fn insert(&mut self, number: String, carrier: &str, status: HandsetStatus) {
        self.entries.insert(number, (Arc::from(carrier), status));
    }

    /// Reads a CSV file; errors name the file and line.
    pub(crate) fn load_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new("mnp.file", format!("{}: {e}", path.display())))?;
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.is_empty()
                || t.starts_with('#')
                || (i == 0 && t.to_ascii_lowercase().starts_with("number"))
            {
                continue;
            }
            let (n, c, s) = parse_line(t).map_err(|m| {
                ConfigError::new("mnp.file", format!("{}:{}: {m}", path.display(), i + 1))
            })?;
            self.insert(n, &c, s);
        }
        Ok(())
    }

    /// The carrier serving `number`, when listed, and the handset status.
    pub(crate) fn lookup(&self, number: &str) -> Option<(&str, HandsetStatus)> {
        if self.entries.is_empty() {
            return None;
        }
        self.entries.get(&*normalise(number)).map(|(c, s)| (&**c, *s))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms_are_one_number() {
        assert_eq!(normalise("090-1234-5678"), "819012345678");
        assert_eq!(normalise("+81 90 1234 5678"), "819012345678");
        assert_eq!(normalise("819012345678"), "819012345678");
        assert_eq!(normalise("0012345"), "0012345");
        assert_eq!(normalise("0"), "0");
        assert_eq!(normalise(""), "");
        assert_eq!(normalise("0-9"), "819");
    }

    #[test]
    fn lines_parse_with_optional_status() {
        assert_eq!(
            parse_line("09011112222,au").unwrap(),
            ("819011112222".into(), "au".into(), HandsetStatus::Ok)
        );
        assert_eq!(
            parse_line("819011112222, docomo, recycled").unwrap().2,
            HandsetStatus::Recycled
        );
        assert!(parse_line("819011112222").is_err());
        assert!(parse_line("819011112222,au,lost").is_err());
    }
}
