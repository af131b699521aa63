//! The send decision: one pure function from a message's facts and the configuration to
//! send, hold or reject, with the trail of rules that led there.
//!
//! Rules, in the order they are applied:
//!
//! 1. An unknown class is rejected (`unknown_class`).
//! 2. A suppressed recipient (e.g. a recycled number) is rejected (`suppressed(<code>)`).
//! 3. An opted-out recipient is rejected when the class honours opt-out (`opted_out`).
//! 4. The earliest send time is `max(now, send_at)`. When the class has quiet hours and
//!    that time is inside them, the message is held until the window ends (08:00 JST of the
//!    right day for 21:00-08:00). A future `send_at` holds until `send_at`, and the quiet
//!    hours are checked again at that time.
//! 5. A `deadline` at or before `now` is rejected (`deadline_passed`); a release time at or
//!    after the deadline is rejected (`deadline_before_release`): a reminder that would go
//!    out late expires instead.
//!
//! Window edges for 21:00-08:00: 20:59:59 JST sends, 21:00:00 holds until 08:00:00 the next
//! day, 07:59:59 holds until 08:00:00 the same day, 08:00:00 sends.

use std::fmt;

use crate::config::PolicyConfig;
use crate::number::mask;
use crate::time::{format_jst, Millis};

/// What the daemon's lists say about the recipient.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListStatus {
    /// The reason code when the number is on the suppression list (e.g. `recycled_number`).
    pub suppressed: Option<String>,
    /// The number is on the opt-out list.
    pub opted_out: bool,
}

/// The facts about one message that the decision depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionInput<'a> {
    /// Message class name, e.g. `dunning`.
    pub class: &'a str,
    /// Recipient in E.164 (used only, masked, in the trail).
    pub to: &'a str,
    /// The current time.
    pub now: Millis,
    /// Booked sending time (予約配信), if any.
    pub send_at: Option<Millis>,
    /// Do not send at or after this time.
    pub deadline: Option<Millis>,
    /// Suppression and opt-out status.
    pub lists: ListStatus,
}

/// Why a message is not sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// The class is not configured.
    UnknownClass,
    /// The recipient is suppressed, with the list's reason code.
    Suppressed(String),
    /// The recipient opted out and the class honours opt-out.
    OptedOut,
    /// The deadline is at or before now.
    DeadlinePassed,
    /// The message could only be released at or after its deadline.
    DeadlineBeforeRelease,
}

impl RejectReason {
    /// The reason code: `unknown_class`, `suppressed(<code>)`, `opted_out`,
    /// `deadline_passed` or `deadline_before_release`.
    pub fn code(&self) -> String {
        match self {
            RejectReason::UnknownClass => "unknown_class".into(),
            RejectReason::Suppressed(code) => format!("suppressed({code})"),
            RejectReason::OptedOut => "opted_out".into(),
            RejectReason::DeadlinePassed => "deadline_passed".into(),
            RejectReason::DeadlineBeforeRelease => "deadline_before_release".into(),
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

/// The outcome.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Send now.
    Send,
    /// Keep the message and decide again at `until` (always later than `now`).
    Hold {
        /// When to release it.
        until: Millis,
    },
    /// Do not send; report the reason.
    Reject {
        /// Why.
        reason: RejectReason,
    },
}

/// Which rule a trail line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuleKind {
    /// Class lookup.
    Class,
    /// Suppression list.
    Suppression,
    /// Opt-out list.
    OptOut,
    /// Booked send time.
    SendAt,
    /// Quiet hours.
    QuietHours,
    /// The resulting hold.
    Hold,
    /// Deadline checks.
    Deadline,
}

/// One line of the decision trail.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    /// Which rule.
    pub kind: RuleKind,
    /// What it found, for people: `class dunning: quiet hours 21:00-08:00 JST`.
    pub text: String,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The verdict and every rule that applied, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decision {
    /// Send, hold or reject.
    pub verdict: Verdict,
    /// The trail, for logs, the API and the CLI.
    pub rules: Vec<Rule>,
}

impl Decision {
    /// The verdict on the first line (`send`, `hold until 2026-11-23T08:00:00+09:00`,
    /// `reject: opted_out`), then one rule per line, each starting with `- `.
    pub fn explain(&self) -> String {
        let mut s = match &self.verdict {
            Verdict::Send => "send".to_owned(),
            Verdict::Hold { until } => format!("hold until {}", format_jst(*until)),
            Verdict::Reject { reason } => format!("reject: {reason}"),
        };
        for r in &self.rules {
            s.push_str("\n- ");
            s.push_str(&r.text);
        }
        s
    }
}

/// Decides what to do with one message now. Pure: same input and config, same answer; the
/// host clock and time zone are never read (Japan time is UTC+9 arithmetic).
///
/// ```
/// use smpp_policy::{decide, DecisionInput, ListStatus, PolicyConfig, Verdict};
/// use smpp_policy::time::{format_jst, parse_rfc3339};
///
/// let config = PolicyConfig::default();
/// let input = DecisionInput {
///     class: "dunning",
///     to: "+819012345678",
///     now: parse_rfc3339("2026-11-22T22:30:00+09:00")?,
///     send_at: None,
///     deadline: None,
///     lists: ListStatus::default(),
/// };
/// let d = decide(&input, &config);
/// let Verdict::Hold { until } = d.verdict else { panic!() };
/// assert_eq!(format_jst(until), "2026-11-23T08:00:00+09:00");
/// assert_eq!(d.explain().lines().next(), Some("hold until 2026-11-23T08:00:00+09:00"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decide(input: &DecisionInput<'_>, config: &PolicyConfig) -> Decision {
    let mut rules = Vec::new();
    let mut rule = |kind, text: String| rules.push(Rule { kind, text });
    let reject = |reason, rules| Decision { verdict: Verdict::Reject { reason }, rules };

    let class = match config.class(input.class) {
        Ok(c) => c,
        Err(e) => {
            rule(RuleKind::Class, e.to_string());
            return reject(RejectReason::UnknownClass, rules);
        }
    };
    let name = input.class.trim().to_ascii_lowercase();
    rule(RuleKind::Class, format!("class {name} (priority {})", class.priority));

    if let Some(code) = &input.lists.suppressed {
        rule(
            RuleKind::Suppression,
            format!("{} is on the suppression list: {code}", mask(input.to)),
        );
        return reject(RejectReason::Suppressed(code.clone()), rules);
    }
    rule(RuleKind::Suppression, "not on the suppression list".into());

    match (input.lists.opted_out, class.opt_out_applies) {
        (true, true) => {
            rule(
                RuleKind::OptOut,
                format!("{} opted out; class {name} honours opt-out", mask(input.to)),
            );
            return reject(RejectReason::OptedOut, rules);
        }
        (true, false) => rule(
            RuleKind::OptOut,
            format!("recipient opted out, but opt-out does not apply to class {name}"),
        ),
        (false, true) => rule(RuleKind::OptOut, "not on the opt-out list".into()),
        (false, false) => {}
    }

    let now = input.now;
    let mut earliest = now;
    if let Some(at) = input.send_at {
        if at > now {
            rule(RuleKind::SendAt, format!("send_at {} is in the future", format_jst(at)));
            earliest = at;
        } else {
            rule(RuleKind::SendAt, format!("send_at {} has come", format_jst(at)));
        }
    }

    let release = match class.quiet {
        None => {
            rule(RuleKind::QuietHours, format!("class {name}: no quiet hours"));
            earliest
        }
        Some(w) => {
            rule(RuleKind::QuietHours, format!("class {name}: quiet hours {w} JST"));
            if w.contains(earliest) {
                rule(
                    RuleKind::QuietHours,
                    format!("{} is inside the window", format_jst(earliest)),
                );
                w.release_after(earliest)
            } else {
                rule(
                    RuleKind::QuietHours,
                    format!("{} is outside the window", format_jst(earliest)),
                );
                earliest
            }
        }
    };

    if let Some(deadline) = input.deadline {
        if deadline <= now {
            rule(RuleKind::Deadline, format!("deadline {} has passed", format_jst(deadline)));
            return reject(RejectReason::DeadlinePassed, rules);
        }
        if release >= deadline {
            rule(
                RuleKind::Deadline,
                format!(
                    "release at {} is not before the deadline {}",
                    format_jst(release),
                    format_jst(deadline)
                ),
            );
            return reject(RejectReason::DeadlineBeforeRelease, rules);
        }
        rule(RuleKind::Deadline, format!("deadline {} not reached", format_jst(deadline)));
    }

    if release > now {
        rule(RuleKind::Hold, format!("held until {}", format_jst(release)));
        Decision { verdict: Verdict::Hold { until: release }, rules }
    } else {
        Decision { verdict: Verdict::Send, rules }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::{BUILTIN_CLASSES, CAMPAIGN, DUNNING, FRAUD_ALERT, NOTICE, OTP};
    use crate::time::{jst_millis_of_day, parse_rfc3339, DAY, HOUR, JST_OFFSET, SECOND};
    use proptest::prelude::*;

    const TO: &str = "+819012345678";

    fn jst(s: &str) -> Millis {
        parse_rfc3339(&format!("{s}+09:00")).unwrap()
    }

    fn input(class: &str, now: Millis) -> DecisionInput<'_> {
        DecisionInput {
            class,
            to: TO,
            now,
            send_at: None,
            deadline: None,
            lists: ListStatus::default(),
        }
    }

    fn verdict(i: &DecisionInput<'_>) -> Verdict {
        decide(i, &PolicyConfig::default()).verdict
    }

    fn hold(s: &str) -> Verdict {
        Verdict::Hold { until: jst(s) }
    }

    fn rejected(reason: RejectReason) -> Verdict {
        Verdict::Reject { reason }
    }

    #[test]
    fn dunning_window_edges() {
        let at = |s| verdict(&input(DUNNING, jst(s)));
        assert_eq!(at("2026-11-22T20:59:59"), Verdict::Send);
        assert_eq!(at("2026-11-22T21:00:00"), hold("2026-11-23T08:00:00"));
        assert_eq!(at("2026-11-22T23:59:59"), hold("2026-11-23T08:00:00"));
        assert_eq!(at("2026-11-23T00:00:00"), hold("2026-11-23T08:00:00"));
        assert_eq!(at("2026-11-23T07:59:59"), hold("2026-11-23T08:00:00"));
        assert_eq!(at("2026-11-23T08:00:00"), Verdict::Send);
        // Across a month and a year end.
        assert_eq!(at("2026-12-31T22:00:00"), hold("2027-01-01T08:00:00"));
        assert_eq!(at("2028-02-28T21:30:00"), hold("2028-02-29T08:00:00"));
    }

    #[test]
    fn trail_reads_like_the_rules() {
        let d = decide(&input(DUNNING, jst("2026-11-22T22:30:00")), &PolicyConfig::default());
        assert_eq!(
            d.explain(),
            "hold until 2026-11-23T08:00:00+09:00\n\
             - class dunning (priority 2)\n\
             - not on the suppression list\n\
             - class dunning: quiet hours 21:00-08:00 JST\n\
             - 2026-11-22T22:30:00+09:00 is inside the window\n\
             - held until 2026-11-23T08:00:00+09:00"
        );
    }

    #[test]
    fn otp_and_fraud_alerts_are_never_held() {
        for class in [OTP, FRAUD_ALERT] {
            let d = decide(&input(class, jst("2026-11-23T03:00:00")), &PolicyConfig::default());
            assert_eq!(d.verdict, Verdict::Send);
            assert!(d.explain().contains(&format!("class {class}: no quiet hours")));
        }
    }

    #[test]
    fn rejects_unknown_class_and_lists_known_ones() {
        let d = decide(&input("promo", 0), &PolicyConfig::default());
        assert_eq!(d.verdict, rejected(RejectReason::UnknownClass));
        assert!(d
            .explain()
            .starts_with("reject: unknown_class\n- unknown message class \"promo\" (known: otp,"));
    }

    #[test]
    fn rejects_suppressed_with_the_code_and_masks_the_number() {
        let mut i = input(OTP, 0);
        i.lists.suppressed = Some("recycled_number".into());
        let d = decide(&i, &PolicyConfig::default());
        assert_eq!(d.verdict, rejected(RejectReason::Suppressed("recycled_number".into())));
        let text = d.explain();
        assert!(text.starts_with("reject: suppressed(recycled_number)"), "{text}");
        assert!(text.contains("+81901*****78") && !text.contains(TO), "{text}");
    }

    #[test]
    fn opt_out_rejects_campaign_only() {
        let mut i = input(CAMPAIGN, jst("2026-11-23T12:00:00"));
        i.lists.opted_out = true;
        assert_eq!(verdict(&i), rejected(RejectReason::OptedOut));
        i.class = DUNNING;
        let d = decide(&i, &PolicyConfig::default());
        assert_eq!(d.verdict, Verdict::Send);
        assert!(d.explain().contains("opt-out does not apply to class dunning"));
    }

    #[test]
    fn future_send_at_holds_until_send_at() {
        let mut i = input(NOTICE, jst("2026-11-23T09:00:00"));
        i.send_at = Some(jst("2026-11-23T10:00:00"));
        let d = decide(&i, &PolicyConfig::default());
        assert_eq!(d.verdict, hold("2026-11-23T10:00:00"));
        assert!(d.explain().contains("send_at 2026-11-23T10:00:00+09:00 is in the future"));
        i.send_at = Some(jst("2026-11-23T08:00:00"));
        assert_eq!(verdict(&i), Verdict::Send);
    }

    #[test]
    fn send_at_inside_quiet_hours_holds_until_the_window_ends() {
        let mut i = input(DUNNING, jst("2026-11-22T18:00:00"));
        i.send_at = Some(jst("2026-11-22T23:00:00"));
        let d = decide(&i, &PolicyConfig::default());
        assert_eq!(d.verdict, hold("2026-11-23T08:00:00"));
        let text = d.explain();
        assert!(text.contains("2026-11-22T23:00:00+09:00 is inside the window"), "{text}");
    }

    #[test]
    fn deadline_passed_rejects() {
        let mut i = input(OTP, jst("2026-11-23T09:00:00"));
        i.deadline = Some(jst("2026-11-23T09:00:00"));
        assert_eq!(verdict(&i), rejected(RejectReason::DeadlinePassed));
        i.deadline = Some(jst("2026-11-23T09:00:00") + 1);
        assert_eq!(verdict(&i), Verdict::Send);
    }

    #[test]
    fn deadline_before_release_expires_instead_of_sending_late() {
        let mut i = input(DUNNING, jst("2026-11-22T22:00:00"));
        i.deadline = Some(jst("2026-11-23T08:00:00"));
        let d = decide(&i, &PolicyConfig::default());
        assert_eq!(d.verdict, rejected(RejectReason::DeadlineBeforeRelease));
        assert!(d.explain().contains(
            "release at 2026-11-23T08:00:00+09:00 is not before the deadline 2026-11-23T08:00:00+09:00"
        ));
        i.deadline = Some(jst("2026-11-23T08:00:01"));
        assert_eq!(verdict(&i), hold("2026-11-23T08:00:00"));
    }

    #[test]
    fn suppression_wins_over_everything_after_it() {
        let mut i = input(CAMPAIGN, 0);
        i.lists = ListStatus { suppressed: Some("x".into()), opted_out: true };
        i.deadline = Some(-1);
        assert_eq!(verdict(&i), rejected(RejectReason::Suppressed("x".into())));
    }

    #[test]
    fn configured_class_follows_its_own_window() {
        let c = PolicyConfig::from_toml_str("[classes.survey]\nquiet = \"20:00-10:00\"\n").unwrap();
        let d = decide(&input("survey", jst("2026-11-23T09:00:00")), &c);
        assert_eq!(d.verdict, hold("2026-11-23T10:00:00"));
    }

    /// Instants between 2000 and 2100.
    fn instant() -> impl Strategy<Value = Millis> {
        946_684_800_000i64..4_102_444_800_000
    }

    fn held_hour(h: i64) -> bool {
        !(8..21).contains(&h)
    }

    proptest! {
        #[test]
        fn dunning_holds_iff_jst_hour_is_21_to_8(now in instant()) {
            let hour = jst_millis_of_day(now) / HOUR;
            match verdict(&input(DUNNING, now)) {
                Verdict::Send => prop_assert!(!held_hour(hour)),
                Verdict::Hold { until } => {
                    prop_assert!(held_hour(hour));
                    prop_assert_eq!(jst_millis_of_day(until), 8 * HOUR);
                    prop_assert!(until > now);
                    prop_assert!(until - now <= 11 * HOUR);
                }
                v => prop_assert!(false, "{v:?}"),
            }
        }

        #[test]
        fn edges_hold_on_any_date(day in 11_000i64..47_000) {
            // JST midnight of an arbitrary day.
            let midnight = day * DAY - JST_OFFSET;
            let at = |h: i64, s: i64| verdict(&input(DUNNING, midnight + h * HOUR + s * SECOND));
            prop_assert_eq!(at(20, 3599), Verdict::Send);
            prop_assert_eq!(at(21, 0), Verdict::Hold { until: midnight + DAY + 8 * HOUR });
            prop_assert_eq!(at(7, 3599), Verdict::Hold { until: midnight + 8 * HOUR });
            prop_assert_eq!(at(8, 0), Verdict::Send);
        }

        #[test]
        fn only_the_jst_wall_clock_matters(now in instant(), days in -3000i64..3000) {
            for class in BUILTIN_CLASSES {
                let a = verdict(&input(class, now));
                let b = verdict(&input(class, now + days * DAY));
                let shifted = match a {
                    Verdict::Hold { until } => Verdict::Hold { until: until + days * DAY },
                    v => v,
                };
                prop_assert_eq!(b, shifted);
            }
        }

        #[test]
        fn urgent_classes_are_never_held(now in instant()) {
            prop_assert_eq!(verdict(&input(OTP, now)), Verdict::Send);
            prop_assert_eq!(verdict(&input(FRAUD_ALERT, now)), Verdict::Send);
        }

        #[test]
        fn release_is_never_early_nor_in_quiet_hours(
            now in instant(),
            send_in in -2 * DAY..3 * DAY,
            deadline_in in prop::option::of(-DAY..4 * DAY),
            class in prop::sample::select(BUILTIN_CLASSES.to_vec()),
        ) {
            let mut i = input(class, now);
            i.send_at = Some(now + send_in);
            i.deadline = deadline_in.map(|d| now + d);
            let c = PolicyConfig::default();
            let policy = c.class(class).unwrap();
            let earliest = now.max(now + send_in);
            let release = match decide(&i, &c).verdict {
                Verdict::Send => now,
                Verdict::Hold { until } => { prop_assert!(until > now); until }
                Verdict::Reject { reason } => {
                    let d = i.deadline.unwrap();
                    let expected = if d <= now {
                        RejectReason::DeadlinePassed
                    } else {
                        RejectReason::DeadlineBeforeRelease
                    };
                    prop_assert_eq!(reason, expected);
                    return Ok(());
                }
            };
            prop_assert!(release >= earliest);
            if let Some(w) = policy.quiet {
                prop_assert!(!w.contains(release));
                if !w.contains(earliest) { prop_assert_eq!(release, earliest); }
            } else {
                prop_assert_eq!(release, earliest);
            }
            if let Some(d) = i.deadline { prop_assert!(release < d); }
        }
    }
}
