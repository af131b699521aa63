//! Message classes and what each one is allowed to do: quiet hours, priority, resending,
//! approval and opt-out (credit-card-sms.md, "What they send").

use std::fmt;
use std::str::FromStr;

use crate::time::{format_time_of_day, jst_midnight, jst_millis_of_day, Millis, DAY, HOUR, MINUTE};

/// One-time passcodes (3-D Secure, login). Never held.
pub const OTP: &str = "otp";
/// Fraud alerts, often two-way. Never held.
pub const FRAUD_ALERT: &str = "fraud_alert";
/// Payment reminders (督促). Held 21:00–08:00 JST by law.
pub const DUNNING: &str = "dunning";
/// Statement ready, debit failed, amount due. Held 21:00–08:00 JST by policy.
pub const BILLING_NOTICE: &str = "billing_notice";
/// Card shipped, address change, application incomplete. Held 21:00–08:00 JST by policy.
pub const NOTICE: &str = "notice";
/// Promotions and surveys. Held 21:00–08:00 JST, and opt-out applies.
pub const CAMPAIGN: &str = "campaign";

/// The six built-in classes, in priority order.
pub const BUILTIN_CLASSES: [&str; 6] =
    [OTP, FRAUD_ALERT, DUNNING, BILLING_NOTICE, NOTICE, CAMPAIGN];

/// A daily window of Japan time, `start` inclusive and `end` exclusive, that may wrap
/// midnight: `21:00-08:00` holds from 21:00:00.000 to 07:59:59.999 JST.
///
/// Written `HH:MM-HH:MM` (24-hour, JST). `start == end` is refused: it would be either an
/// empty or an all-day window, and neither is what anyone means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QuietWindow {
    start: Millis,
    end: Millis,
}

impl QuietWindow {
    /// 21:00-08:00 JST, the collection-hours guideline of the Money Lending Business Act.
    pub const LEGAL_DUNNING: QuietWindow = QuietWindow { start: 21 * HOUR, end: 8 * HOUR };

    /// A window from `start` to `end`, each as (hour, minute) JST.
    ///
    /// # Errors
    /// [`QuietWindowError`] for hours over 23, minutes over 59 or `start == end`.
    pub fn new(start: (u8, u8), end: (u8, u8)) -> Result<QuietWindow, QuietWindowError> {
        let to_ms = |(h, m): (u8, u8)| {
            if h > 23 || m > 59 {
                Err(QuietWindowError::BadTime(format!("{h:02}:{m:02}")))
            } else {
                Ok(Millis::from(h) * HOUR + Millis::from(m) * MINUTE)
            }
        };
        let (start, end) = (to_ms(start)?, to_ms(end)?);
        if start == end {
            return Err(QuietWindowError::Empty);
        }
        Ok(QuietWindow { start, end })
    }

    /// Start of the window, in milliseconds after JST midnight.
    pub const fn start(self) -> Millis {
        self.start
    }

    /// End of the window (exclusive), in milliseconds after JST midnight.
    pub const fn end(self) -> Millis {
        self.end
    }

    /// Whether the JST wall clock at `at` is inside the window.
    pub const fn contains(self, at: Millis) -> bool {
        let t = jst_millis_of_day(at);
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// `at` itself when outside the window, else the window's end: the first instant at
    /// `end` JST that is after `at` (08:00 the same morning at 07:59, the next morning at
    /// 21:00). The result is never inside the window.
    pub const fn release_after(self, at: Millis) -> Millis {
        if !self.contains(at) {
            return at;
        }
        let candidate = jst_midnight(at).saturating_add(self.end);
        if candidate > at {
            candidate
        } else {
            candidate.saturating_add(DAY)
        }
    }

    /// Whether every instant of `other` is inside `self`.
    pub fn covers(self, other: QuietWindow) -> bool {
        // Both are unions of whole minutes; checking each minute of `other` is exact.
        let minutes = (other.end - other.start).rem_euclid(DAY) / MINUTE;
        (0..minutes).all(|i| {
            let t = (other.start + i * MINUTE).rem_euclid(DAY) - crate::time::JST_OFFSET;
            self.contains(t)
        })
    }
}

impl fmt::Display for QuietWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", format_time_of_day(self.start), format_time_of_day(self.end))
    }
}

/// A quiet window that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuietWindowError {
    /// Not `HH:MM-HH:MM`.
    #[error("expected \"HH:MM-HH:MM\" (JST, e.g. \"21:00-08:00\"), got {0:?}")]
    Format(String),
    /// A time that is not on the 24-hour clock.
    #[error("{0} is not a time of day (00:00 to 23:59)")]
    BadTime(String),
    /// Start equals end.
    #[error("start and end are equal, so the window is empty")]
    Empty,
}

impl FromStr for QuietWindow {
    type Err = QuietWindowError;

    /// Parses `21:00-08:00` (spaces around the parts allowed; `H:MM` accepted).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let format = || QuietWindowError::Format(s.to_owned());
        let (a, b) = s.split_once('-').ok_or_else(format)?;
        let hm = |t: &str| -> Result<(u8, u8), QuietWindowError> {
            let (h, m) = t.trim().split_once(':').ok_or_else(format)?;
            let digits = |x: &str, max_len| {
                if x.is_empty() || x.len() > max_len || !x.bytes().all(|c| c.is_ascii_digit()) {
                    Err(format())
                } else {
                    x.parse::<u8>().map_err(|_| format())
                }
            };
            if m.len() != 2 {
                return Err(format());
            }
            Ok((digits(h, 2)?, digits(m, 2)?))
        };
        QuietWindow::new(hm(a)?, hm(b)?)
    }
}

/// What one message class may do. Built-in defaults: [`ClassPolicy::builtin`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassPolicy {
    /// Daily JST window in which messages of this class are held, not sent.
    pub quiet: Option<QuietWindow>,
    /// Queue priority; lower goes first.
    pub priority: i32,
    /// A submit whose outcome is unknown (connection lost before the response) may be resent
    /// automatically. A duplicate OTP is harmless; a duplicate reminder is not.
    pub resend_unknown: bool,
    /// A CSV batch of this class needs a second operator's approval before it is sent.
    pub requires_approval: bool,
    /// Recipients on the opt-out list are not sent this class.
    pub opt_out_applies: bool,
    /// Longest text for this class, when shorter than the carrier's maximum.
    pub max_chars: Option<usize>,
}

impl ClassPolicy {
    /// The defaults for a class that is not built in: held 21:00-08:00, priority 10, no
    /// automatic resend, approval required, opt-out not applied. Cautious on purpose.
    pub const CUSTOM_DEFAULT: ClassPolicy = ClassPolicy {
        quiet: Some(QuietWindow::LEGAL_DUNNING),
        priority: 10,
        resend_unknown: false,
        requires_approval: true,
        opt_out_applies: false,
        max_chars: None,
    };

    /// The built-in defaults for `name`, or `None` when it is not a built-in class:
    ///
    /// | class | quiet (JST) | priority | resend_unknown | requires_approval | opt_out_applies |
    /// |---|---|---|---|---|---|
    /// | otp | — | 0 | yes | no | no |
    /// | fraud_alert | — | 1 | no | no | no |
    /// | dunning | 21:00-08:00 | 2 | no | yes | no |
    /// | billing_notice | 21:00-08:00 | 3 | no | yes | no |
    /// | notice | 21:00-08:00 | 4 | no | yes | no |
    /// | campaign | 21:00-08:00 | 5 | no | yes | yes |
    pub fn builtin(name: &str) -> Option<ClassPolicy> {
        let held = |priority| ClassPolicy { priority, ..ClassPolicy::CUSTOM_DEFAULT };
        let urgent = |priority, resend_unknown| ClassPolicy {
            quiet: None,
            priority,
            resend_unknown,
            requires_approval: false,
            opt_out_applies: false,
            max_chars: None,
        };
        Some(match name {
            OTP => urgent(0, true),
            FRAUD_ALERT => urgent(1, false),
            DUNNING => held(2),
            BILLING_NOTICE => held(3),
            NOTICE => held(4),
            CAMPAIGN => ClassPolicy { opt_out_applies: true, ..held(5) },
            _ => return None,
        })
    }
}

/// A class name that is not configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown message class {name:?} (known: {})", known.join(", "))]
pub struct UnknownClass {
    /// The name asked for.
    pub name: String,
    /// The configured names.
    pub known: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_rfc3339;

    fn jst(s: &str) -> Millis {
        parse_rfc3339(&format!("{s}+09:00")).unwrap()
    }

    #[test]
    fn parses_and_prints_windows() {
        let w: QuietWindow = "21:00-08:00".parse().unwrap();
        assert_eq!(w, QuietWindow::LEGAL_DUNNING);
        assert_eq!(w.to_string(), "21:00-08:00");
        let w: QuietWindow = " 9:30 - 12:05 ".parse().unwrap();
        assert_eq!(w.to_string(), "09:30-12:05");
    }

    #[test]
    fn rejects_malformed_windows() {
        for s in ["", "21:00", "21-08", "21:00-8", "21:0-08:00", "xx:00-08:00", "21:00-08:00-09:00"]
        {
            assert!(matches!(s.parse::<QuietWindow>(), Err(QuietWindowError::Format(_))), "{s}");
        }
        assert_eq!(
            "24:00-08:00".parse::<QuietWindow>().unwrap_err().to_string(),
            "24:00 is not a time of day (00:00 to 23:59)"
        );
        assert_eq!("08:00-08:00".parse::<QuietWindow>(), Err(QuietWindowError::Empty));
    }

    #[test]
    fn wrapping_window_edges() {
        let w = QuietWindow::LEGAL_DUNNING;
        assert!(!w.contains(jst("2026-11-22T20:59:59.999")));
        assert!(w.contains(jst("2026-11-22T21:00:00")));
        assert!(w.contains(jst("2026-11-23T07:59:59.999")));
        assert!(!w.contains(jst("2026-11-23T08:00:00")));
        assert_eq!(w.release_after(jst("2026-11-22T21:00:00")), jst("2026-11-23T08:00:00"));
        assert_eq!(w.release_after(jst("2026-11-23T00:00:00")), jst("2026-11-23T08:00:00"));
        assert_eq!(w.release_after(jst("2026-11-23T07:59:59")), jst("2026-11-23T08:00:00"));
        assert_eq!(w.release_after(jst("2026-11-23T12:00:00")), jst("2026-11-23T12:00:00"));
    }

    #[test]
    fn non_wrapping_window() {
        let w: QuietWindow = "12:00-13:00".parse().unwrap();
        assert!(w.contains(jst("2026-01-01T12:30:00")));
        assert!(!w.contains(jst("2026-01-01T13:00:00")));
        assert!(!w.contains(jst("2026-01-01T11:59:59")));
        assert_eq!(w.release_after(jst("2026-01-01T12:30:00")), jst("2026-01-01T13:00:00"));
    }

    #[test]
    fn covers_checks_every_minute() {
        let legal = QuietWindow::LEGAL_DUNNING;
        assert!(legal.covers(legal));
        assert!("20:00-09:00".parse::<QuietWindow>().unwrap().covers(legal));
        assert!(!"22:00-08:00".parse::<QuietWindow>().unwrap().covers(legal));
        assert!(!"21:00-07:59".parse::<QuietWindow>().unwrap().covers(legal));
        assert!("00:00-23:59"
            .parse::<QuietWindow>()
            .unwrap()
            .covers("01:00-02:00".parse().unwrap()));
    }

    #[test]
    fn builtin_defaults_match_the_table() {
        let otp = ClassPolicy::builtin(OTP).unwrap();
        assert_eq!(
            (otp.quiet, otp.priority, otp.resend_unknown, otp.requires_approval),
            (None, 0, true, false)
        );
        let fraud = ClassPolicy::builtin(FRAUD_ALERT).unwrap();
        assert_eq!((fraud.quiet, fraud.priority, fraud.resend_unknown), (None, 1, false));
        for (i, name) in BUILTIN_CLASSES.iter().enumerate() {
            let c = ClassPolicy::builtin(name).unwrap();
            assert_eq!(c.priority, i as i32, "{name}");
            assert_eq!(c.opt_out_applies, *name == CAMPAIGN, "{name}");
            assert_eq!(c.resend_unknown, *name == OTP, "{name}");
            if i >= 2 {
                assert_eq!(c.quiet, Some(QuietWindow::LEGAL_DUNNING), "{name}");
                assert!(c.requires_approval, "{name}");
            }
        }
        assert_eq!(ClassPolicy::builtin("marketing"), None);
    }
}
