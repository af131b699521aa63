//! The daemon's view of the policy layer: number normalisation, carrier routing, classes and
//! the send/hold/reject decision. The rules themselves live in `smpp-policy`.

use std::collections::BTreeMap;

use smppd_store::Millis;

use crate::config::Config;

/// What the policy says about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send as soon as a bind is free.
    Send,
    /// Hold until this time (quiet hours, send_at).
    Hold {
        /// Release time.
        until: Millis,
        /// Why (for the record).
        reason: String,
    },
    /// Never send; kept for the record.
    Reject {
        /// Reason code.
        reason: String,
    },
}

/// Classes, routing and rules, built once from the config.
pub struct Policy {
    classes: BTreeMap<String, ClassRule>,
    prefixes: Vec<(String, String)>,
    carriers: Vec<String>,
    default_carrier: String,
}

#[derive(Debug, Clone)]
struct ClassRule {
    priority: i32,
    resend_unknown: bool,
    quiet: Option<(u32, u32)>,
}

impl Policy {
    /// Builds the policy from the config.
    pub fn new(config: &Config) -> Result<Self, String> {
        let quiet = Some((21 * 3600, 8 * 3600));
        let classes = [
            ("otp", 0, true, None),
            ("fraud_alert", 1, false, None),
            ("dunning", 2, false, quiet),
            ("billing_notice", 3, false, quiet),
            ("notice", 4, false, quiet),
            ("campaign", 5, false, quiet),
        ]
        .into_iter()
        .map(|(n, priority, resend_unknown, quiet)| {
            (n.to_string(), ClassRule { priority, resend_unknown, quiet })
        })
        .collect();
        let mut prefixes: Vec<_> =
            config.routing.prefixes.iter().map(|(p, c)| (p.clone(), c.clone())).collect();
        prefixes.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        Ok(Self {
            classes,
            prefixes,
            carriers: config.carriers.keys().cloned().collect(),
            default_carrier: config.default_carrier().to_string(),
        })
    }

    /// `to` as E.164, or why it is not a Japanese mobile number.
    pub fn normalise_number(&self, to: &str) -> Result<String, String> {
        let digits: String = to.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
        let national = if let Some(rest) = digits.strip_prefix("+81") {
            format!("0{rest}")
        } else if let Some(rest) = digits.strip_prefix("81").filter(|r| r.len() == 10) {
            format!("0{rest}")
        } else {
            digits
        };
        if !national.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{:?} has characters other than digits", mask(to)));
        }
        if national.len() != 11 || !["070", "080", "090"].iter().any(|p| national.starts_with(p)) {
            return Err("not a Japanese mobile number (070/080/090 followed by 8 digits)".into());
        }
        Ok(format!("+81{}", &national[1..]))
    }

    /// Whether the class exists.
    pub fn class_known(&self, class: &str) -> Result<(), String> {
        if self.classes.contains_key(class) {
            return Ok(());
        }
        let known: Vec<&str> = self.classes.keys().map(String::as_str).collect();
        Err(format!("unknown class {class:?} (known: {})", known.join(", ")))
    }

    /// Lower is sent first.
    pub fn priority(&self, class: &str) -> i32 {
        self.classes.get(class).map_or(100, |c| c.priority)
    }

    /// May a submit with an unknown outcome be sent again automatically?
    pub fn resendable(&self, class: &str) -> bool {
        self.classes.get(class).is_some_and(|c| c.resend_unknown)
    }

    /// The carrier for `to`: explicit, else prefix, else default.
    pub fn route(&self, to: &str, explicit: Option<&str>) -> Result<String, String> {
        if let Some(c) = explicit {
            if self.carriers.iter().any(|k| k == c) {
                return Ok(c.to_string());
            }
            return Err(format!("carrier {c:?} is not configured"));
        }
        Ok(self
            .prefixes
            .iter()
            .find(|(p, _)| to.starts_with(p.as_str()))
            .map_or_else(|| self.default_carrier.clone(), |(_, c)| c.clone()))
    }

    /// Send, hold or reject.
    pub fn decide(
        &self,
        class: &str,
        now: Millis,
        send_at: Option<Millis>,
        deadline: Option<Millis>,
    ) -> Verdict {
        let Some(rule) = self.classes.get(class) else {
            return Verdict::Reject { reason: "unknown_class".into() };
        };
        let mut at = send_at.unwrap_or(now).max(now);
        let mut reason = (at > now).then(|| "send_at".to_string());
        if let Some((start, end)) = rule.quiet {
            let day = 86_400_000;
            let jst = at + 9 * 3_600_000;
            let secs = (jst.rem_euclid(day) / 1000) as u32;
            if secs >= start || secs < end {
                let midnight = jst - jst.rem_euclid(day);
                let release =
                    midnight + i64::from(end) * 1000 + if secs >= start { day } else { 0 };
                at = release - 9 * 3_600_000;
                reason = Some(format!("quiet hours for {class}"));
            }
        }
        if let Some(d) = deadline {
            if d <= now {
                return Verdict::Reject { reason: "deadline_passed".into() };
            }
            if at >= d {
                return Verdict::Reject { reason: "deadline_before_release".into() };
            }
        }
        match reason {
            Some(reason) if at > now => Verdict::Hold { until: at, reason },
            _ => Verdict::Send,
        }
    }
}

/// A phone number for logs: country code, three digits, the last two.
pub fn mask(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}
