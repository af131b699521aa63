//! The policy configuration: per-class settings and opt-out keywords, read from TOML.
//!
//! ```toml
//! stop_keywords = ["STOP", "停止", "配信停止"]   # replaces the default list when given
//!
//! [classes.dunning]          # a built-in class: only the keys given change its defaults
//! quiet = "21:00-08:00"      # JST, may wrap midnight; "none" for no quiet hours
//! priority = 2               # lower is sent first
//!
//! [classes.campaign]
//! max_chars = 140
//!
//! [classes.survey]           # a new class starts from ClassPolicy::CUSTOM_DEFAULT
//! priority = 6
//! opt_out_applies = true
//! ```
//!
//! Keys per class: `quiet`, `priority`, `resend_unknown`, `requires_approval`,
//! `opt_out_applies`, `max_chars`. Unknown keys are errors, and every error names the line.

use std::collections::BTreeMap;

use serde::de::{Deserializer, Error as _};
use serde::Deserialize;

use crate::class::{ClassPolicy, QuietWindow, UnknownClass, BUILTIN_CLASSES, DUNNING};

/// Per-class policy and opt-out keywords. `Default` is the six built-in classes
/// ([`ClassPolicy::builtin`]) and the keywords `STOP`, `停止`, `配信停止`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct PolicyConfig {
    /// Class name (lowercase ASCII letters, digits, `_`) → policy. Always includes the
    /// built-in classes; configuration changes them and may add more.
    #[serde(deserialize_with = "merge_classes")]
    pub classes: BTreeMap<String, ClassPolicy>,
    /// A mobile-originated message equal to one of these (see
    /// [`PolicyConfig::is_stop_keyword`]) opts the sender out.
    pub stop_keywords: Vec<String>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            classes: BUILTIN_CLASSES
                .iter()
                .map(|&n| (n.to_owned(), ClassPolicy::builtin(n).expect("built-in class")))
                .collect(),
            stop_keywords: ["STOP", "停止", "配信停止"].map(String::from).to_vec(),
        }
    }
}

/// One class table as written: every key optional, merged onto the class's defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassOverrides {
    quiet: Option<QuietSetting>,
    priority: Option<i32>,
    resend_unknown: Option<bool>,
    requires_approval: Option<bool>,
    opt_out_applies: Option<bool>,
    max_chars: Option<usize>,
}

/// `quiet = "21:00-08:00"` or `quiet = "none"`.
#[derive(Debug)]
struct QuietSetting(Option<QuietWindow>);

impl<'de> Deserialize<'de> for QuietSetting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if matches!(s.trim(), "none" | "off" | "") {
            return Ok(QuietSetting(None));
        }
        s.parse()
            .map(|w| QuietSetting(Some(w)))
            .map_err(|e| D::Error::custom(format!("invalid quiet window: {e}")))
    }
}

fn merge_classes<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, ClassPolicy>, D::Error> {
    let written = BTreeMap::<String, ClassOverrides>::deserialize(d)?;
    let mut classes = PolicyConfig::default().classes;
    for (name, o) in written {
        let base = ClassPolicy::builtin(&name).unwrap_or(ClassPolicy::CUSTOM_DEFAULT);
        let c = classes.entry(name).or_insert(base);
        if let Some(q) = o.quiet {
            c.quiet = q.0;
        }
        c.priority = o.priority.unwrap_or(c.priority);
        c.resend_unknown = o.resend_unknown.unwrap_or(c.resend_unknown);
        c.requires_approval = o.requires_approval.unwrap_or(c.requires_approval);
        c.opt_out_applies = o.opt_out_applies.unwrap_or(c.opt_out_applies);
        c.max_chars = o.max_chars.or(c.max_chars);
    }
    Ok(classes)
}

/// A configuration that could not be read or does not make sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The TOML did not parse or a value has the wrong type or form.
    #[error("policy config{}: {message}", location(*line, *column, key.as_deref()))]
    Parse {
        /// 1-based line of the offending text, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// Dotted key, e.g. `classes.dunning.quiet`, when it could be found.
        key: Option<String>,
        /// What was wrong.
        message: String,
    },
    /// A class's settings are invalid.
    #[error("policy config: class {class}: {reason}")]
    Class {
        /// The class.
        class: String,
        /// Why.
        reason: String,
    },
    /// The stop keywords are invalid.
    #[error("policy config: stop_keywords: {0}")]
    StopKeywords(String),
}

fn location(line: Option<usize>, column: Option<usize>, key: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(l) = line {
        s.push_str(&format!(", line {l}"));
        if let Some(c) = column {
            s.push_str(&format!(" column {c}"));
        }
    }
    if let Some(k) = key {
        s.push_str(&format!(", key {k}"));
    }
    s
}

impl PolicyConfig {
    /// Reads TOML and [validates](PolicyConfig::validate) it.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] with line, column and key for syntax errors, unknown keys and
    /// wrong values; [`ConfigError::Class`] / [`ConfigError::StopKeywords`] from validation.
    ///
    /// ```
    /// use smpp_policy::PolicyConfig;
    /// let c = PolicyConfig::from_toml_str("[classes.notice]\nquiet = \"22:00-07:00\"\n")?;
    /// assert_eq!(c.class("notice")?.quiet.unwrap().to_string(), "22:00-07:00");
    /// assert_eq!(c.class("dunning")?.priority, 2); // untouched defaults stay
    ///
    /// let err = PolicyConfig::from_toml_str("[classes.dunning]\nquite = \"x\"\n").unwrap_err();
    /// assert!(err.to_string().starts_with("policy config, line 2 column 1, key classes.dunning.quite: unknown field `quite`"), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_toml_str(text: &str) -> Result<PolicyConfig, ConfigError> {
        let config: PolicyConfig = toml::from_str(text).map_err(|e| parse_error(text, &e))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what the types cannot: class names are lowercase identifiers, `dunning` keeps
    /// a quiet window covering 21:00-08:00 JST (the law), `max_chars` is at least 1, and
    /// every stop keyword is non-empty.
    ///
    /// # Errors
    /// The first problem found, naming the class or the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, c) in &self.classes {
            let bad = |reason: String| ConfigError::Class { class: name.clone(), reason };
            if name.is_empty()
                || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(bad("a class name is lowercase ASCII letters, digits and _".into()));
            }
            if name == DUNNING && !c.quiet.is_some_and(|q| q.covers(QuietWindow::LEGAL_DUNNING)) {
                let got = c.quiet.map_or("none".to_owned(), |q| q.to_string());
                return Err(bad(format!(
                    "quiet window must cover 21:00-08:00 JST (Money Lending Business Act \
                     collection-hours guideline), got {got}"
                )));
            }
            if c.max_chars == Some(0) {
                return Err(bad("max_chars must be at least 1".into()));
            }
        }
        if let Some(i) = self.stop_keywords.iter().position(|k| normalise_keyword(k).is_empty()) {
            return Err(ConfigError::StopKeywords(format!("entry {} is empty", i + 1)));
        }
        Ok(())
    }

    /// The policy of class `name` (ASCII case and surrounding spaces ignored).
    ///
    /// # Errors
    /// [`UnknownClass`] listing the configured names.
    pub fn class(&self, name: &str) -> Result<&ClassPolicy, UnknownClass> {
        let wanted = name.trim().to_ascii_lowercase();
        self.classes.get(&wanted).ok_or_else(|| UnknownClass {
            name: name.to_owned(),
            known: self.class_names().map(str::to_owned).collect(),
        })
    }

    /// Configured class names, in priority order (then by name).
    pub fn class_names(&self) -> impl Iterator<Item = &str> {
        let mut v: Vec<(&String, &ClassPolicy)> = self.classes.iter().collect();
        v.sort_by_key(|(n, c)| (c.priority, n.as_str()));
        v.into_iter().map(|(n, _)| n.as_str())
    }

    /// Whether a mobile-originated text is an opt-out request: after trimming (also the
    /// ideographic space), folding full-width ASCII to ASCII and lowercasing, it equals one
    /// of [`PolicyConfig::stop_keywords`] treated the same way. `"stop"`, `" ＳＴＯＰ "` and
    /// `"配信停止"` match; `"please stop"` does not (the whole message must be the keyword).
    ///
    /// ```
    /// let c = smpp_policy::PolicyConfig::default();
    /// assert!(c.is_stop_keyword(" ｓｔｏｐ\n"));
    /// assert!(!c.is_stop_keyword("stop it"));
    /// ```
    pub fn is_stop_keyword(&self, text: &str) -> bool {
        let t = normalise_keyword(text);
        !t.is_empty() && self.stop_keywords.iter().any(|k| normalise_keyword(k) == t)
    }
}

/// Trim, full-width ASCII (U+FF01–U+FF5E) to ASCII, lowercase.
fn normalise_keyword(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Turns toml's error into one line naming line, column and the dotted key.
fn parse_error(text: &str, e: &toml::de::Error) -> ConfigError {
    let (mut line, mut column, mut key) = (None, None, None);
    if let Some(span) = e.span() {
        let start = span.start.min(text.len());
        let before = &text[..start];
        let line_no = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        line = Some(line_no);
        column = Some(before[line_start..].chars().count() + 1);
        key = key_at(text, line_start);
    }
    let message = e.message().trim().lines().map(str::trim).collect::<Vec<_>>().join("; ");
    ConfigError::Parse { line, column, key, message }
}

/// The dotted key of the `key = value` line starting at `line_start`, prefixed with the
/// nearest `[table]` header above it.
fn key_at(text: &str, line_start: usize) -> Option<String> {
    let this_line = text[line_start..].lines().next().unwrap_or("");
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && !l.starts_with("[["))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().replace(' ', ""));
    let own = this_line.split_once('=').map(|(k, _)| k.trim().trim_matches('"').to_owned());
    match (table, own) {
        (Some(t), Some(k)) if !k.is_empty() => Some(format!("{t}.{k}")),
        (None, Some(k)) if !k.is_empty() => Some(k),
        (t, _) => {
            let header = this_line.trim();
            if header.starts_with('[') {
                Some(header.trim_matches(|c| c == '[' || c == ']').trim().to_owned())
            } else {
                t
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::{CAMPAIGN, NOTICE, OTP};

    #[test]
    fn empty_toml_is_the_default() {
        assert_eq!(PolicyConfig::from_toml_str("").unwrap(), PolicyConfig::default());
        assert_eq!(PolicyConfig::default().validate(), Ok(()));
    }

    #[test]
    fn a_class_table_changes_only_the_keys_given() {
        let c = PolicyConfig::from_toml_str(
            "[classes.campaign]\npriority = 9\nmax_chars = 140\n[classes.otp]\nquiet = \"none\"\n",
        )
        .unwrap();
        let camp = c.class(CAMPAIGN).unwrap();
        assert_eq!((camp.priority, camp.max_chars, camp.opt_out_applies), (9, Some(140), true));
        assert_eq!(camp.quiet, Some(QuietWindow::LEGAL_DUNNING));
        assert_eq!(c.class(OTP).unwrap().quiet, None);
        assert_eq!(c.class(NOTICE).unwrap(), &ClassPolicy::builtin(NOTICE).unwrap());
    }

    #[test]
    fn new_classes_start_from_the_cautious_default() {
        let c = PolicyConfig::from_toml_str("[classes.survey]\npriority = 6\n").unwrap();
        let s = c.class("survey").unwrap();
        assert_eq!(s, &ClassPolicy { priority: 6, ..ClassPolicy::CUSTOM_DEFAULT });
        assert_eq!(c.class_names().last(), Some("survey"));
    }

    #[test]
    fn unknown_class_lists_known_ones_in_priority_order() {
        let err = PolicyConfig::default().class("promo").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown message class \"promo\" (known: otp, fraud_alert, dunning, billing_notice, notice, campaign)"
        );
        assert!(PolicyConfig::default().class(" OTP ").is_ok());
    }

    #[test]
    fn bad_quiet_window_names_line_and_key() {
        let text = "# policy\n[classes.dunning]\npriority = 2\nquiet = \"25:00-08:00\"\n";
        let err = PolicyConfig::from_toml_str(text).unwrap_err();
        let ConfigError::Parse { line, key, .. } = &err else { panic!("{err:?}") };
        assert_eq!(*line, Some(4));
        assert_eq!(key.as_deref(), Some("classes.dunning.quiet"));
        let msg = err.to_string();
        assert!(msg.contains("line 4"), "{msg}");
        assert!(msg.contains("invalid quiet window: 25:00 is not a time of day"), "{msg}");
    }

    #[test]
    fn unknown_key_and_wrong_type_name_the_line() {
        let err = PolicyConfig::from_toml_str("[classes.otp]\npriority = \"high\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("line 2") && msg.contains("classes.otp.priority"), "{msg}");
        let err = PolicyConfig::from_toml_str("stop_words = []\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("line 1") && msg.contains("unknown field `stop_words`"), "{msg}");
        let err = PolicyConfig::from_toml_str("[classes.otp\n").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        assert!(!err.to_string().contains('\n'), "one line: {err}");
    }

    #[test]
    fn dunning_cannot_lose_the_legal_quiet_hours() {
        for q in ["none", "22:00-08:00"] {
            let err = PolicyConfig::from_toml_str(&format!("[classes.dunning]\nquiet = \"{q}\"\n"))
                .unwrap_err();
            assert!(
                err.to_string().starts_with(
                    "policy config: class dunning: quiet window must cover 21:00-08:00"
                ),
                "{err}"
            );
        }
        assert!(PolicyConfig::from_toml_str("[classes.dunning]\nquiet = \"20:00-08:30\"\n").is_ok());
    }

    #[test]
    fn validate_names_the_class() {
        let mut c = PolicyConfig::default();
        c.classes.insert("Bad Name".into(), ClassPolicy::CUSTOM_DEFAULT);
        assert!(c.validate().unwrap_err().to_string().contains("class Bad Name"));
        let err = PolicyConfig::from_toml_str("[classes.notice]\nmax_chars = 0\n").unwrap_err();
        assert_eq!(err.to_string(), "policy config: class notice: max_chars must be at least 1");
        let err = PolicyConfig::from_toml_str("stop_keywords = [\"STOP\", \" \"]\n").unwrap_err();
        assert_eq!(err.to_string(), "policy config: stop_keywords: entry 2 is empty");
    }

    #[test]
    fn stop_keywords_match_whole_message_case_and_width_insensitively() {
        let c = PolicyConfig::default();
        for yes in ["STOP", "stop", " Stop \n", "ＳＴＯＰ", "ｓｔｏｐ", "停止", "　配信停止　"]
        {
            assert!(c.is_stop_keyword(yes), "{yes:?}");
        }
        for no in ["", "  ", "stopp", "please stop", "停止して", "1"] {
            assert!(!c.is_stop_keyword(no), "{no:?}");
        }
        let c = PolicyConfig::from_toml_str("stop_keywords = [\"ＥＮＤ\"]\n").unwrap();
        assert!(c.is_stop_keyword("end") && !c.is_stop_keyword("stop"));
    }
}
