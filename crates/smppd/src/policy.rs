//! The daemon's view of the policy layer (`smpp-policy`): number normalisation, carrier
//! routing (MNP table, prefixes, default), classes and the send/hold/reject decision.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use smpp_policy::{
    CarrierTable, ClassPolicy, DecisionInput, ListStatus, PolicyConfig, RejectReason,
};
use smppd_store::Millis;

use crate::config::Config;

pub use smpp_policy::mask;

/// What the policy says about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send as soon as a bind is free.
    Send,
    /// Hold until this time (quiet hours, send_at).
    Hold {
        /// Release time.
        until: Millis,
        /// Why, for the record.
        reason: String,
    },
    /// Never send; kept for the record.
    Reject {
        /// Reason code (`suppressed(recycled_number)`, `deadline_passed`, …).
        reason: String,
    },
}

/// The class of the acknowledgement sent to a handset that opted out by MO. Built in (never
/// held, sent soon, never subject to opt-out) unless the configuration defines it.
pub const OPT_OUT_REPLY_CLASS: &str = "opt_out_reply";

/// Classes, routing and rules, built once from the config; the MNP table reloads and learns.
pub struct Policy {
    config: PolicyConfig,
    table: RwLock<Arc<CarrierTable>>,
    mnp_file: Mutex<Option<(PathBuf, Option<SystemTime>)>>,
    carriers: Vec<String>,
    default_carrier: String,
    not_subscriber: Vec<u32>,
}

impl Policy {
    /// Builds the policy from the config (and loads the MNP file, if any).
    pub fn new(config: &Config) -> Result<Self, String> {
        let default_carrier = config.default_carrier().to_string();
        let table = load_table(config, &default_carrier)?;
        let mnp_file = config.routing.mnp_file.clone().map(|p| {
            let modified = modified(&p);
            (p, modified)
        });
        let mut policy = config.policy.clone();
        policy.classes.entry(OPT_OUT_REPLY_CLASS.to_string()).or_insert(ClassPolicy {
            quiet: None,
            priority: 1,
            resend_unknown: false,
            requires_approval: false,
            opt_out_applies: false,
            max_chars: None,
        });
        Ok(Self {
            config: policy,
            table: RwLock::new(Arc::new(table)),
            mnp_file: Mutex::new(mnp_file),
            carriers: config.carriers.keys().cloned().collect(),
            default_carrier,
            not_subscriber: config.not_subscriber_statuses()?,
        })
    }

    /// The class rules.
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// `to` as E.164, or why it is not a Japanese mobile number.
    pub fn normalise_number(&self, to: &str) -> Result<String, String> {
        smpp_policy::normalise_jp(to).map_err(|e| e.to_string())
    }

    /// Whether the class exists (the error lists the known ones).
    pub fn class_known(&self, class: &str) -> Result<(), String> {
        self.config.class(class).map(|_| ()).map_err(|e| e.to_string())
    }

    /// Lower is sent first.
    pub fn priority(&self, class: &str) -> i32 {
        self.config.class(class).map_or(100, |c| c.priority)
    }

    /// May a submit with an unknown outcome be sent again automatically?
    pub fn resendable(&self, class: &str) -> bool {
        self.config.class(class).is_ok_and(|c| c.resend_unknown)
    }

    /// The longest text the class allows, when it is stricter than the carrier.
    pub fn max_chars(&self, class: &str) -> Option<usize> {
        self.config.class(class).ok().and_then(|c| c.max_chars)
    }

    /// The carrier for `to`: explicit, else the MNP table (learned, file, prefix), else the
    /// default. A table entry naming a carrier that is not configured falls to the default.
    pub fn route(&self, to: &str, explicit: Option<&str>) -> Result<String, String> {
        if let Some(c) = explicit {
            if self.carriers.iter().any(|k| k == c) {
                return Ok(c.to_string());
            }
            return Err(format!(
                "carrier {c:?} is not configured (configured: {})",
                self.carriers.join(", ")
            ));
        }
        // Looked up under the read lock rather than on a cloned Arc: `learn` can then
        // update the table in place instead of copying it.
        let carrier =
            self.table.read().map_err(|_| "carrier table unavailable")?.route(to, None).carrier;
        if self.carriers.contains(&carrier) {
            Ok(carrier)
        } else {
            Ok(self.default_carrier.clone())
        }
    }

    /// Send, hold or reject, with the rules that applied.
    pub fn decide(
        &self,
        class: &str,
        to: &str,
        now: Millis,
        send_at: Option<Millis>,
        deadline: Option<Millis>,
        lists: ListStatus,
    ) -> (Verdict, smpp_policy::Decision) {
        let input = DecisionInput { class, to, now, send_at, deadline, lists };
        let d = smpp_policy::decide(&input, &self.config);
        let verdict = match &d.verdict {
            smpp_policy::Verdict::Send => Verdict::Send,
            smpp_policy::Verdict::Hold { until } => {
                // The first quiet-hours or send_at rule says why ("class dunning: quiet
                // hours 21:00-08:00 JST").
                let why = [smpp_policy::RuleKind::QuietHours, smpp_policy::RuleKind::SendAt];
                let reason = d
                    .rules
                    .iter()
                    .find(|r| why.contains(&r.kind))
                    .map_or_else(|| "held".to_string(), |r| r.text.clone());
                Verdict::Hold { until: *until, reason }
            }
            smpp_policy::Verdict::Reject { reason } => Verdict::Reject { reason: reason.code() },
        };
        (verdict, d)
    }

    /// Reloads the MNP file when it changed since the last load. Returns the number of rows
    /// when it reloaded. Learned entries carry over.
    pub fn reload_if_changed(&self) -> Result<Option<usize>, String> {
        let mut file = self.mnp_file.lock().map_err(|_| "carrier table unavailable")?;
        let Some((path, seen)) = file.as_mut() else { return Ok(None) };
        let now = modified(path);
        if now == *seen {
            return Ok(None);
        }
        let mut table =
            CarrierTable::load_csv(path, &self.default_carrier).map_err(|e| e.to_string())?;
        let rows = table.len();
        // Carried over under the write lock, so nothing learned meanwhile is lost.
        let mut current = self.table.write().map_err(|_| "carrier table unavailable")?;
        table.carry_learned_from(&current).map_err(|e| e.to_string())?;
        *current = Arc::new(table);
        *seen = now;
        Ok(Some(rows))
    }

    /// Whether a submit_sm_resp status means "not our subscriber" (`routing.
    /// not_subscriber_statuses`): the message is re-routed once.
    pub fn is_not_subscriber(&self, status: u32) -> bool {
        self.not_subscriber.contains(&status)
    }

    /// The carrier to try after `rejected_by` refused `to` as not its subscriber, among the
    /// configured carriers; `None` when there is no other.
    pub fn next_candidate(&self, to: &str, rejected_by: &str) -> Option<String> {
        let carriers: Vec<&str> = self.carriers.iter().map(String::as_str).collect();
        self.table.read().ok()?.next_candidate(to, rejected_by, &carriers)
    }

    /// Remembers that `carrier` serves `to` (it accepted a re-routed message): later
    /// messages go there first, and a reload of the MNP file keeps it.
    pub fn learn(&self, to: &str, carrier: &str) -> Result<(), String> {
        let mut table = self.table.write().map_err(|_| "carrier table unavailable")?;
        Arc::make_mut(&mut table).learn(to, carrier).map_err(|e| e.to_string())
    }

    /// The lists' verdict for a message of `class` to `to`: the reject reason code
    /// (`suppressed(<code>)`, `opted_out`), or `None` when the lists allow it. The same rule
    /// as at accept ([`Policy::decide`]), without the time rules.
    pub fn list_reject(&self, class: &str, to: &str, lists: ListStatus) -> Option<String> {
        let input = DecisionInput { class, to, now: 0, send_at: None, deadline: None, lists };
        match smpp_policy::decide(&input, &self.config).verdict {
            smpp_policy::Verdict::Reject {
                reason: r @ (RejectReason::Suppressed(_) | RejectReason::OptedOut),
            } => Some(r.code()),
            _ => None,
        }
    }
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn load_table(config: &Config, default_carrier: &str) -> Result<CarrierTable, String> {
    let table = match &config.routing.mnp_file {
        Some(p) => CarrierTable::load_csv(p, default_carrier)
            .map_err(|e| format!("routing.mnp_file {}: {e}", p.display()))?,
        None => CarrierTable::new(default_carrier),
    };
    table
        .with_prefixes(config.routing.prefixes.iter())
        .map_err(|e| format!("routing.prefixes: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        let account = |port: u16| {
            format!(
                "name = \"a{port}\"\nhost = \"127.0.0.1\"\nport = {port}\nsystem_id = \"cardco\"\n\
                 password = \"secret\"\n"
            )
        };
        let text = format!(
            "[routing]\ndefault_carrier = \"docomo\"\n\
             [carriers.docomo]\n[[carriers.docomo.accounts]]\n{}\
             [carriers.softbank]\n[[carriers.softbank.accounts]]\n{}",
            account(2775),
            account(2777)
        );
        let config = Config::parse(&text, "smppd.toml", &|_| None).unwrap();
        Policy::new(&config).unwrap()
    }

    #[test]
    fn a_refused_number_goes_to_the_other_carrier_and_is_then_learned() {
        let p = policy();
        let to = "+819012345678";
        assert_eq!(p.route(to, None).unwrap(), "docomo");
        assert!(p.is_not_subscriber(0x0B) && !p.is_not_subscriber(0x58));
        assert_eq!(p.next_candidate(to, "docomo").as_deref(), Some("softbank"));
        p.learn(to, "softbank").unwrap();
        assert_eq!(p.route(to, None).unwrap(), "softbank");
        assert_eq!(p.next_candidate(to, "softbank").as_deref(), Some("docomo"));
    }

    #[test]
    fn lists_refuse_suppressed_numbers_always_and_opted_out_ones_where_opt_out_applies() {
        let p = policy();
        let to = "+819012345678";
        let suppressed =
            ListStatus { suppressed: Some("recycled_number".into()), opted_out: false };
        assert_eq!(
            p.list_reject("otp", to, suppressed).as_deref(),
            Some("suppressed(recycled_number)")
        );
        let opted_out = ListStatus { suppressed: None, opted_out: true };
        assert_eq!(p.list_reject("campaign", to, opted_out.clone()).as_deref(), Some("opted_out"));
        assert_eq!(p.list_reject("dunning", to, opted_out), None);
        assert_eq!(p.list_reject("campaign", to, ListStatus::default()), None);
    }

    #[test]
    fn the_opt_out_acknowledgement_class_is_built_in_and_never_held() {
        let p = policy();
        let at_night = smpp_policy::parse_rfc3339("2026-11-22T23:00:00+09:00").unwrap();
        let opted_out = ListStatus { suppressed: None, opted_out: true };
        let (v, _) =
            p.decide(OPT_OUT_REPLY_CLASS, "+819012345678", at_night, None, None, opted_out);
        assert_eq!(v, Verdict::Send);
    }
}
