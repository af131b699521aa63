//! CSV batches as operators upload them: decoding (UTF-8 with or without BOM, else
//! Shift_JIS as Excel writes it), reading rows, and checking every row before anything is
//! queued.
//!
//! Not checked here: the suppression and opt-out lists, which the daemon holds and checks
//! again right before each send with [`decide`](crate::decide()) (a number can be suppressed
//! between upload and send), and approval, which is the daemon's workflow
//! ([`ClassPolicy::requires_approval`](crate::ClassPolicy::requires_approval)).

use std::collections::HashMap;
use std::fmt;

use smpp_sms::{gsm7, ucs2, Encoding};

use crate::number::{parse_jp, NumberError, NumberRules};
use crate::template::Template;

/// How the uploaded bytes were encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceEncoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 starting with `EF BB BF` (Excel's "CSV UTF-8").
    Utf8Bom,
    /// Shift_JIS as Windows writes it (Windows-31J / CP932, the WHATWG "Shift_JIS").
    ShiftJis,
}

/// One data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line in the file where the row starts.
    pub line: usize,
    /// Header name → cell, trimmed. A short row lacks the trailing columns.
    pub fields: HashMap<String, String>,
}

/// A file that cannot be read as a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsvError {
    /// Neither valid UTF-8 nor valid Shift_JIS.
    #[error("the file is neither UTF-8 nor Shift_JIS text")]
    NotText,
    /// A BOM announced UTF-8 but the bytes are not.
    #[error("the file starts with a UTF-8 byte-order mark but is not valid UTF-8")]
    BadUtf8AfterBom,
    /// No header row.
    #[error("the file is empty: a header row naming the columns is required")]
    Empty,
    /// A header cell is empty.
    #[error("header column {column} has no name")]
    EmptyHeader {
        /// 1-based column.
        column: usize,
    },
    /// Two header cells have the same name.
    #[error("header names column {name:?} twice")]
    DuplicateHeader {
        /// The name.
        name: String,
    },
    /// A row has more cells than the header.
    #[error("line {line}: {found} cells, but the header has {expected} columns")]
    TooManyFields {
        /// 1-based line.
        line: usize,
        /// Cells in the row.
        found: usize,
        /// Columns in the header.
        expected: usize,
    },
    /// The CSV syntax is broken (e.g. an unclosed quote).
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// What the CSV reader said.
        message: String,
    },
}

/// Which encoding the bytes are in: a BOM means UTF-8, valid UTF-8 is UTF-8, else valid
/// Shift_JIS; `None` when neither. (Shift_JIS text that is also valid UTF-8 is read as
/// UTF-8; beyond a few characters of Japanese that does not happen.)
pub fn detect_encoding(bytes: &[u8]) -> Option<SourceEncoding> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        Some(SourceEncoding::Utf8Bom)
    } else if std::str::from_utf8(bytes).is_ok() {
        Some(SourceEncoding::Utf8)
    } else if encoding_rs::SHIFT_JIS
        .decode_without_bom_handling_and_without_replacement(bytes)
        .is_some()
    {
        Some(SourceEncoding::ShiftJis)
    } else {
        None
    }
}

/// Decodes and reads a batch file: the header names (trimmed), then the data rows.
/// Blank lines and rows whose cells are all empty (Excel's trailing `,,,`) are skipped;
/// cells are trimmed; quoting follows RFC 4180.
///
/// # Errors
/// [`CsvError`] naming the line.
///
/// ```
/// use smpp_policy::csv_batch::read_rows;
/// let sjis = b"tel,name\r\n09012345678,\x8eR\x93c\r\n"; // 山田 in Shift_JIS
/// let (header, rows) = read_rows(sjis)?;
/// assert_eq!(header, ["tel", "name"]);
/// assert_eq!(rows[0].fields["name"], "山田");
/// assert_eq!(rows[0].line, 2);
/// # Ok::<(), smpp_policy::csv_batch::CsvError>(())
/// ```
pub fn read_rows(bytes: &[u8]) -> Result<(Vec<String>, Vec<Row>), CsvError> {
    let text: std::borrow::Cow<'_, str> = match detect_encoding(bytes) {
        Some(SourceEncoding::Utf8Bom) => {
            std::str::from_utf8(&bytes[3..]).map_err(|_| CsvError::BadUtf8AfterBom)?.into()
        }
        Some(SourceEncoding::Utf8) => {
            std::str::from_utf8(bytes).map_err(|_| CsvError::NotText)?.into()
        }
        Some(SourceEncoding::ShiftJis) => encoding_rs::SHIFT_JIS
            .decode_without_bom_handling_and_without_replacement(bytes)
            .ok_or(CsvError::NotText)?,
        None => return Err(CsvError::NotText),
    };
    let mut reader = csv_reader(text.as_bytes());
    let mut records = reader.records();
    let syntax = |e: csv::Error| CsvError::Syntax {
        line: e.position().map_or(0, |p| p.line() as usize),
        message: e.to_string(),
    };
    let header_record = loop {
        match records.next() {
            None => return Err(CsvError::Empty),
            Some(r) => {
                let r = r.map_err(syntax)?;
                if r.iter().any(|c| !c.is_empty()) {
                    break r;
                }
            }
        }
    };
    let header: Vec<String> = header_record.iter().map(str::to_owned).collect();
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() {
            return Err(CsvError::EmptyHeader { column: i + 1 });
        }
        if header[..i].contains(name) {
            return Err(CsvError::DuplicateHeader { name: name.clone() });
        }
    }
    let mut rows = Vec::new();
    for r in records {
        let r = r.map_err(syntax)?;
        let line = r.position().map_or(0, |p| p.line() as usize);
        if r.iter().all(str::is_empty) {
            continue;
        }
        if r.len() > header.len() {
            // Trailing empty cells are harmless (spreadsheets pad rows).
            if r.iter().skip(header.len()).any(|c| !c.is_empty()) {
                return Err(CsvError::TooManyFields {
                    line,
                    found: r.len(),
                    expected: header.len(),
                });
            }
        }
        let fields = header.iter().cloned().zip(r.iter().map(str::to_owned)).collect();
        rows.push(Row { line, fields });
    }
    Ok((header, rows))
}

/// The CSV dialect of both loaders: comma, `"` quotes, cells trimmed, rows of any length.
/// Lines end at `\n` (a `\r` before it is trimmed away with the cell): with the reader's
/// default CRLF terminator, records of CRLF files report the line before their own.
pub(crate) fn csv_reader<R: std::io::Read>(reader: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(reader)
}

/// A row ready to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchMessage {
    /// 1-based line in the file.
    pub line: usize,
    /// Recipient, E.164.
    pub to: String,
    /// The rendered text.
    pub text: String,
    /// Its length as carriers count it (GSM septets or UCS-2 code units).
    pub chars: usize,
}

/// One problem with one row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RowError {
    /// The number cell is empty.
    #[error("no number")]
    MissingNumber,
    /// The number is not a Japanese mobile number.
    #[error("bad number: {0}")]
    BadNumber(NumberError),
    /// A placeholder's cell is empty or absent.
    #[error("missing field {0}")]
    MissingField(String),
    /// The rendered text is longer than the carrier (or class) accepts.
    #[error("text is {chars} characters after filling in, at most {max} allowed")]
    TooLong {
        /// Length as counted (septets or UCS-2 code units).
        chars: usize,
        /// The maximum.
        max: usize,
    },
    /// The same recipient appeared on an earlier line.
    #[error("duplicate recipient: same number as line {first_line}")]
    Duplicate {
        /// The earlier line.
        first_line: usize,
    },
}

/// Every problem with one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowErrors {
    /// 1-based line in the file.
    pub line: usize,
    /// The problems, in the order checked: number, fields, length, duplicate.
    pub errors: Vec<RowError>,
}

impl fmt::Display for RowErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RowErrors {}

/// The batch as a whole does not fit the template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The number column is not in the header.
    #[error("no column {column:?} for the number (columns: {})", header.join(", "))]
    NoNumberColumn {
        /// The column asked for.
        column: String,
        /// The header.
        header: Vec<String>,
    },
    /// The template uses placeholders that are not columns.
    #[error("template fields not in the file: {} (columns: {})", names.join(", "), header.join(", "))]
    UnknownFields {
        /// The placeholders.
        names: Vec<String>,
        /// The header.
        header: Vec<String>,
    },
}

/// The length of `text` as carriers count it: GSM septets when every character is in the
/// GSM 03.38 tables, else UTF-16 code units (the same rule as `smpp_sms::segment`).
pub fn carrier_chars(text: &str) -> usize {
    match Encoding::choose(text, false) {
        Encoding::Gsm7 => gsm7::septet_len(text).unwrap_or(0),
        Encoding::Ucs2 => ucs2::unit_len(text),
    }
}

/// [`validate_batch_with`] for 070/080/090 numbers.
///
/// # Errors
/// [`BatchError`] when the header lacks the number column or a placeholder's column.
pub fn validate_batch(
    header: &[String],
    rows: &[Row],
    template: &Template,
    number_column: &str,
    carrier_max_chars: impl Fn(&str) -> usize,
) -> Result<Vec<Result<BatchMessage, RowErrors>>, BatchError> {
    validate_batch_with(
        header,
        rows,
        template,
        number_column,
        NumberRules::DEFAULT,
        carrier_max_chars,
    )
}

/// Checks every row and renders its message. One result per row, in order: the message
/// with the normalised number, or every problem found in the row.
///
/// `carrier_max_chars` is called with the row's E.164 number and returns the longest text
/// allowed for it: the routed carrier's maximum, or a class's `max_chars` when smaller. It
/// is not called for rows whose number is bad (their length is not checked). Empty cells
/// count as missing. The second and later rows for a number are duplicates.
///
/// # Errors
/// [`BatchError`] when the header lacks the number column or a placeholder's column; then
/// no row is looked at.
///
/// ```
/// use smpp_policy::csv_batch::{read_rows, validate_batch};
/// use smpp_policy::template::Template;
/// let (header, rows) = read_rows("tel,name\n090-1234-5678,山田\n03-1234-5678,\n".as_bytes())?;
/// let t = Template::parse("{{name}}様")?;
/// let results = validate_batch(&header, &rows, &t, "tel", |_| 660)?;
/// assert_eq!(results[0].as_ref().unwrap().to, "+819012345678");
/// assert_eq!(results[0].as_ref().unwrap().text, "山田様");
/// assert_eq!(
///     results[1].as_ref().unwrap_err().to_string(),
///     "line 3: bad number: not a Japanese mobile number: landline prefix 03; missing field name"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn validate_batch_with(
    header: &[String],
    rows: &[Row],
    template: &Template,
    number_column: &str,
    rules: NumberRules,
    carrier_max_chars: impl Fn(&str) -> usize,
) -> Result<Vec<Result<BatchMessage, RowErrors>>, BatchError> {
    if !header.iter().any(|h| h == number_column) {
        return Err(BatchError::NoNumberColumn {
            column: number_column.to_owned(),
            header: header.to_vec(),
        });
    }
    let unknown: Vec<String> = template
        .placeholders()
        .into_iter()
        .filter(|p| !header.iter().any(|h| h == p))
        .map(str::to_owned)
        .collect();
    if !unknown.is_empty() {
        return Err(BatchError::UnknownFields { names: unknown, header: header.to_vec() });
    }

    let mut first_seen: HashMap<u64, usize> = HashMap::with_capacity(rows.len());
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut errors = Vec::new();
        let number = match row.fields.get(number_column).map(String::as_str).unwrap_or("") {
            "" => {
                errors.push(RowError::MissingNumber);
                None
            }
            n => match parse_jp(n, rules) {
                Ok(n) => Some(n),
                Err(e) => {
                    errors.push(RowError::BadNumber(e));
                    None
                }
            },
        };
        let rendered = template
            .render_with(|name| row.fields.get(name).map(String::as_str).filter(|v| !v.is_empty()));
        let text = match rendered {
            Ok(t) => Some(t),
            Err(missing) => {
                errors.extend(missing.names.into_iter().map(RowError::MissingField));
                None
            }
        };
        let chars = text.as_deref().map(carrier_chars);
        if let (Some(n), Some(chars)) = (number, chars) {
            let max = carrier_max_chars(&n.e164());
            if chars > max {
                errors.push(RowError::TooLong { chars, max });
            }
        }
        if let Some(n) = number {
            match first_seen.get(&n.nsn()) {
                Some(&first_line) => errors.push(RowError::Duplicate { first_line }),
                None => {
                    first_seen.insert(n.nsn(), row.line);
                }
            }
        }
        out.push(match (number, text, chars) {
            (Some(n), Some(text), Some(chars)) if errors.is_empty() => {
                Ok(BatchMessage { line: row.line, to: n.e164(), text, chars })
            }
            _ => Err(RowErrors { line: row.line, errors }),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sjis(s: &str) -> Vec<u8> {
        let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode(s);
        assert!(!bad);
        bytes.into_owned()
    }

    const CSV: &str = "電話番号,氏名,金額\n090-1234-5678,山田,12000\n";

    #[test]
    fn reads_utf8_with_and_without_bom_and_shift_jis_alike() {
        let plain = CSV.as_bytes().to_vec();
        let bom = [b"\xEF\xBB\xBF".as_slice(), CSV.as_bytes()].concat();
        let sj = sjis(CSV);
        assert_eq!(detect_encoding(&plain), Some(SourceEncoding::Utf8));
        assert_eq!(detect_encoding(&bom), Some(SourceEncoding::Utf8Bom));
        assert_eq!(detect_encoding(&sj), Some(SourceEncoding::ShiftJis));
        let expected = read_rows(&plain).unwrap();
        assert_eq!(expected.0, ["電話番号", "氏名", "金額"]);
        assert_eq!(expected.1[0].fields["氏名"], "山田");
        assert_eq!(read_rows(&bom).unwrap(), expected);
        assert_eq!(read_rows(&sj).unwrap(), expected);
    }

    #[test]
    fn shift_jis_with_windows_characters() {
        // ① and ～ are CP932 extensions Excel writes.
        let text = "name\n①様～\n";
        let (_, rows) = read_rows(&sjis(text)).unwrap();
        assert_eq!(rows[0].fields["name"], "①様～");
    }

    #[test]
    fn rejects_bytes_that_are_not_text() {
        assert_eq!(read_rows(b"a,b\n\xFF\xFF\xFF\n"), Err(CsvError::NotText));
        assert_eq!(read_rows(b"\xEF\xBB\xBFa\n\xFF\n"), Err(CsvError::BadUtf8AfterBom));
    }

    #[test]
    fn header_is_required_and_checked() {
        assert_eq!(read_rows(b""), Err(CsvError::Empty));
        assert_eq!(read_rows(b"\n\n,,\n"), Err(CsvError::Empty));
        assert_eq!(read_rows(b"a,,b\n"), Err(CsvError::EmptyHeader { column: 2 }));
        assert_eq!(read_rows(b"a,b,a\n"), Err(CsvError::DuplicateHeader { name: "a".into() }));
    }

    #[test]
    fn rows_keep_their_lines_and_skip_blank_ones() {
        let (_, rows) = read_rows(b"a,b\r\n1,2\r\n\r\n,,\r\n\"x\ny\",3,\r\n4\r\n").unwrap();
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 5, 7]);
        assert_eq!(rows[1].fields["a"], "x\ny");
        assert_eq!(rows[2].fields.get("b"), None);
        assert_eq!(
            read_rows(b"a\n1\n2,3\n"),
            Err(CsvError::TooManyFields { line: 3, found: 2, expected: 1 })
        );
    }

    #[test]
    fn broken_quotes_are_reported_or_read_leniently() {
        // The csv crate reads an unclosed quote to the end of input rather than failing.
        let r = read_rows(b"a\n\"open\n");
        assert!(r.is_ok() || matches!(r, Err(CsvError::Syntax { .. })));
    }

    fn batch(csv: &str, tpl: &str, max: usize) -> Vec<Result<BatchMessage, RowErrors>> {
        let (h, rows) = read_rows(csv.as_bytes()).unwrap();
        validate_batch(&h, &rows, &Template::parse(tpl).unwrap(), "tel", |_| max).unwrap()
    }

    #[test]
    fn good_rows_render_with_normalised_numbers() {
        let r = batch(
            "tel,name\n０９０１２３４５６７８,山田\n+81 80 1111 2222,Sato\n",
            "{{name}}様",
            660,
        );
        let ok: Vec<_> = r.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            ok[0],
            BatchMessage {
                line: 2, to: "+819012345678".into(), text: "山田様".into(), chars: 3
            }
        );
        assert_eq!((ok[1].to.as_str(), ok[1].text.as_str()), ("+818011112222", "Sato様"));
    }

    #[test]
    fn each_row_error_is_reported() {
        let csv = "tel,name,amount\n\
                   09012345678,山田,100\n\
                   ,佐藤,100\n\
                   0901234567,鈴木,\n\
                   090-1234-5678,田中,100\n\
                   08011112222,高橋高橋高橋,100\n";
        let r = batch(csv, "{{name}}様 {{amount}}円", 8);
        assert!(r[0].is_ok());
        let errs = |i: usize| r[i].as_ref().unwrap_err().errors.clone();
        assert_eq!(errs(1), [RowError::MissingNumber]);
        assert_eq!(
            errs(2),
            [
                RowError::BadNumber(NumberError::WrongLength { digits: 10, expected: 11 }),
                RowError::MissingField("amount".into())
            ]
        );
        assert_eq!(errs(3), [RowError::Duplicate { first_line: 2 }]);
        assert_eq!(errs(4), [RowError::TooLong { chars: 12, max: 8 }]);
        assert_eq!(
            r[4].as_ref().unwrap_err().to_string(),
            "line 6: text is 12 characters after filling in, at most 8 allowed"
        );
    }

    #[test]
    fn max_chars_is_asked_per_recipient_and_counts_gsm_septets() {
        let (h, rows) = read_rows(b"tel,code\n09011112222,1234\n08011112222,1234\n").unwrap();
        let t = Template::parse("Code {{code}} [ok]").unwrap();
        // "[" and "]" are GSM escape characters: 2 septets each.
        let r = validate_batch(
            &h,
            &rows,
            &t,
            "tel",
            |to| if to.starts_with("+8190") { 15 } else { 16 },
        )
        .unwrap();
        assert_eq!(r[0].as_ref().unwrap_err().errors, [RowError::TooLong { chars: 16, max: 15 }]);
        assert_eq!(r[1].as_ref().unwrap().chars, 16);
    }

    #[test]
    fn batch_level_errors_name_the_columns() {
        let (h, rows) = read_rows(b"tel,name\n").unwrap();
        let t = Template::parse("{{name}} {{due}}").unwrap();
        let err = validate_batch(&h, &rows, &t, "tel", |_| 660).unwrap_err();
        assert_eq!(err.to_string(), "template fields not in the file: due (columns: tel, name)");
        let err = validate_batch(&h, &rows, &t, "phone", |_| 660).unwrap_err();
        assert_eq!(err.to_string(), "no column \"phone\" for the number (columns: tel, name)");
    }

    #[test]
    fn allow_020_is_passed_through() {
        let (h, rows) = read_rows(b"tel\n020-1234-5678\n").unwrap();
        let t = Template::parse("hi").unwrap();
        let rules = NumberRules { allow_020: true };
        assert!(validate_batch(&h, &rows, &t, "tel", |_| 660).unwrap()[0].is_err());
        assert!(validate_batch_with(&h, &rows, &t, "tel", rules, |_| 660).unwrap()[0].is_ok());
    }

    proptest! {
        #[test]
        fn read_rows_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = read_rows(&bytes);
        }

        #[test]
        fn shift_jis_and_utf8_read_the_same(names in prop::collection::vec("[あ-んア-ン山田佐藤鈴木高橋様円a-z]{1,6}", 1..10)) {
            let csv: String = std::iter::once("tel,name\n".to_string())
                .chain(names.iter().enumerate().map(|(i, n)| format!("090{i:08},{n}\n")))
                .collect();
            let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode(&csv);
            prop_assume!(!bad);
            // Shift_JIS bytes that happen to be valid UTF-8 are read as UTF-8 (documented).
            prop_assume!(std::str::from_utf8(&bytes).is_err() || csv.is_ascii());
            prop_assert_eq!(read_rows(&bytes).unwrap(), read_rows(csv.as_bytes()).unwrap());
        }
    }
}
