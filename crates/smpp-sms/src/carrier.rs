//! Carrier profiles as data, and per-carrier billing counts.
//!
//! The four Japanese carriers are built-in rows of one table ([`BUILTIN_PROFILES`]);
//! any other carrier is a [`CarrierProfile`] value built by the caller (for example
//! from configuration). Nothing in the segmenter branches on a carrier's name.
//!
//! Numbers come from credit-card-sms.md ("Length", "Billing") and smpp34.md §10.3
//! and §12.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::Encoding;

/// How a carrier wants a text longer than one SMS delivered (smpp34.md §10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConcatMethod {
    /// UDH in short_message with an 8-bit reference (`05 00 03 RR TT SS`).
    Udh8,
    /// UDH in short_message with a 16-bit reference (`06 08 04 RR RR TT SS`).
    Udh16,
    /// sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs; the SMSC
    /// builds the UDH.
    Sar,
    /// The whole text in one PDU's message_payload TLV; the SMSC splits.
    Payload,
}

impl ConcatMethod {
    /// Octets of UDH (UDHL included) this method puts in every part: 6, 7 or 0.
    pub const fn udh_len(self) -> usize {
        match self {
            ConcatMethod::Udh8 => 6,
            ConcatMethod::Udh16 => 7,
            ConcatMethod::Sar | ConcatMethod::Payload => 0,
        }
    }

    /// Default per-part capacity for `encoding` (smpp34.md §10.3): 67/153 with an
    /// 8-bit reference, 66/152 with a 16-bit one. SAR uses 66/152 because the SMSC
    /// may add either UDH; payload uses 67/153 (the SMSC splits; only used by
    /// custom billing).
    pub const fn default_part_capacity(self, encoding: Encoding) -> usize {
        match (self, encoding) {
            (ConcatMethod::Udh16 | ConcatMethod::Sar, Encoding::Ucs2) => 66,
            (ConcatMethod::Udh16 | ConcatMethod::Sar, Encoding::Gsm7) => 152,
            (ConcatMethod::Udh8 | ConcatMethod::Payload, Encoding::Ucs2) => 67,
            (ConcatMethod::Udh8 | ConcatMethod::Payload, Encoding::Gsm7) => 153,
        }
    }
}

/// How a carrier counts billable messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BillingRule {
    /// 1 up to the single-SMS capacity, else one per per-part capacity:
    /// `⌈n / part⌉`. With the UCS2 capacities 70/66 this is docomo's table
    /// (1–70 → 1, 71–132 → 2, 133–198 → 3, +1 per 66) and with 70/67 au's and
    /// Rakuten's (71–134 → 2, 135–201 → 3, +1 per 67) (credit-card-sms.md).
    PerSegment,
    /// 1 for any length up to the profile's maximum (SoftBank).
    Flat,
}

/// One carrier's length limits, concatenation method and billing rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CarrierProfile {
    /// Carrier name as used in configuration and on the command line.
    pub name: Cow<'static, str>,
    /// Longest accepted text in characters as the carrier counts them (UCS-2 code
    /// units or GSM septets). 660 by default (credit-card-sms.md "Length").
    pub max_chars: usize,
    /// Characters in one un-split UCS2 SMS (70).
    pub single_ucs2: usize,
    /// Septets in one un-split GSM7 SMS (160).
    pub single_gsm7: usize,
    /// UCS-2 code units per part of a split message.
    pub part_ucs2: usize,
    /// GSM septets per part of a split message.
    pub part_gsm7: usize,
    /// How long texts are delivered.
    pub method: ConcatMethod,
    /// How the carrier bills.
    pub billing: BillingRule,
}

/// Default maximum length in characters (credit-card-sms.md "Length").
pub const DEFAULT_MAX_CHARS: usize = 660;

impl CarrierProfile {
    /// NTT docomo: UDH with a 16-bit reference, 66 UCS2 / 152 GSM7 per part
    /// (smpp34.md §12).
    pub const DOCOMO: CarrierProfile = CarrierProfile::builtin("docomo", ConcatMethod::Udh16);
    /// au (KDDI): UDH with an 8-bit reference, 67 UCS2 / 153 GSM7 per part.
    pub const AU: CarrierProfile = CarrierProfile::builtin("au", ConcatMethod::Udh8);
    /// SoftBank: one PDU with the whole text in message_payload, billed 1 up to 660.
    pub const SOFTBANK: CarrierProfile = CarrierProfile::builtin("softbank", ConcatMethod::Payload);
    /// Rakuten Mobile: UDH with an 8-bit reference, like au.
    pub const RAKUTEN: CarrierProfile = CarrierProfile::builtin("rakuten", ConcatMethod::Udh8);

    const fn builtin(name: &'static str, method: ConcatMethod) -> CarrierProfile {
        CarrierProfile {
            name: Cow::Borrowed(name),
            max_chars: DEFAULT_MAX_CHARS,
            single_ucs2: 70,
            single_gsm7: 160,
            part_ucs2: method.default_part_capacity(Encoding::Ucs2),
            part_gsm7: method.default_part_capacity(Encoding::Gsm7),
            method,
            billing: match method {
                ConcatMethod::Payload => BillingRule::Flat,
                _ => BillingRule::PerSegment,
            },
        }
    }

    /// A profile for any other carrier with the defaults for `method`: 660
    /// characters, 70/160 per single SMS, the §10.3 per-part capacities, flat
    /// billing for [`ConcatMethod::Payload`] and per-segment billing otherwise.
    /// Adjust the public fields afterwards as needed.
    pub fn new(name: impl Into<Cow<'static, str>>, method: ConcatMethod) -> CarrierProfile {
        CarrierProfile { name: name.into(), ..CarrierProfile::builtin("", method) }
    }

    /// Looks up a built-in profile by name, ignoring case and surrounding spaces.
    ///
    /// # Errors
    /// [`UnknownCarrier`], whose message lists the known names.
    ///
    /// ```
    /// use smpp_sms::{CarrierProfile, ConcatMethod};
    /// assert_eq!(CarrierProfile::by_name("DoCoMo").unwrap().method, ConcatMethod::Udh16);
    /// let err = CarrierProfile::by_name("ymobile").unwrap_err();
    /// assert_eq!(err.to_string(), "unknown carrier \"ymobile\" (known: docomo, au, softbank, rakuten)");
    /// ```
    pub fn by_name(name: &str) -> Result<CarrierProfile, UnknownCarrier> {
        let wanted = name.trim();
        BUILTIN_PROFILES
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(wanted))
            .cloned()
            .ok_or_else(|| UnknownCarrier { name: name.to_owned() })
    }

    /// Names of the built-in profiles, in table order.
    pub fn known_names() -> Vec<&'static str> {
        BUILTIN_PROFILES.iter().map(|p| p.name.as_ref()).collect()
    }

    /// Single-SMS capacity for `encoding` (70 UCS2 chars / 160 septets by default).
    pub fn single_capacity(&self, encoding: Encoding) -> usize {
        match encoding {
            Encoding::Gsm7 => self.single_gsm7,
            Encoding::Ucs2 => self.single_ucs2,
        }
    }

    /// Per-part capacity for `encoding` when the text is split.
    pub fn part_capacity(&self, encoding: Encoding) -> usize {
        match encoding {
            Encoding::Gsm7 => self.part_gsm7,
            Encoding::Ucs2 => self.part_ucs2,
        }
    }

    /// Checks that the capacities fit the 140-octet user data with this method's
    /// UDH (smpp34.md §10.3), that a part can hold a surrogate or escape pair, and
    /// that a payload fits the 64 KiB message_payload TLV.
    ///
    /// # Errors
    /// A human-readable reason.
    pub fn validate(&self) -> Result<(), String> {
        const USER_DATA_BITS: usize = 140 * 8;
        let udh = self.method.udh_len();
        // SAR: the SMSC adds the UDH; at least the 6-octet one.
        let udh_on_air = if self.method == ConcatMethod::Sar { 6 } else { udh };
        let fill = usize::from(crate::gsm7::fill_bits(udh_on_air));
        let checks = [
            (self.single_ucs2 * 16 <= USER_DATA_BITS, "single_ucs2 exceeds 70"),
            (self.single_gsm7 * 7 <= USER_DATA_BITS, "single_gsm7 exceeds 160"),
            (
                self.method == ConcatMethod::Payload
                    || udh_on_air * 8 + self.part_ucs2 * 16 <= USER_DATA_BITS,
                "part_ucs2 does not fit 140 octets with the UDH",
            ),
            (
                self.method == ConcatMethod::Payload
                    || udh_on_air * 8 + fill + self.part_gsm7 * 7 <= USER_DATA_BITS,
                "part_gsm7 does not fit 140 octets with the UDH",
            ),
            (
                self.part_ucs2 >= 2 && self.part_gsm7 >= 2,
                "per-part capacity must be at least 2 (a surrogate or escape pair)",
            ),
            (
                self.single_ucs2 >= 2 && self.single_gsm7 >= 2,
                "single-SMS capacity must be at least 2",
            ),
            (
                self.method != ConcatMethod::Payload || self.max_chars * 2 <= 65_535,
                "max_chars does not fit in message_payload",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, reason)) => Err((*reason).to_owned()),
            None => Ok(()),
        }
    }
}

impl FromStr for CarrierProfile {
    type Err = UnknownCarrier;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CarrierProfile::by_name(s)
    }
}

/// The built-in carrier table (credit-card-sms.md, smpp34.md §12).
pub static BUILTIN_PROFILES: [CarrierProfile; 4] =
    [CarrierProfile::DOCOMO, CarrierProfile::AU, CarrierProfile::SOFTBANK, CarrierProfile::RAKUTEN];

/// A carrier name that is not in [`BUILTIN_PROFILES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCarrier {
    /// The name that was asked for.
    pub name: String,
}

impl fmt::Display for UnknownCarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown carrier {:?} (known: {})",
            self.name,
            CarrierProfile::known_names().join(", ")
        )
    }
}

impl std::error::Error for UnknownCarrier {}

/// Billable count for a UCS2 text of `chars` UTF-16 code units, exactly per
/// credit-card-sms.md: docomo 1–70 → 1, 71–132 → 2, 133–198 → 3, +1 per 66;
/// au/Rakuten 71–134 → 2, 135–201 → 3, +1 per 67; SoftBank 1 up to 660.
///
/// An empty text counts 1 (one PDU is still sent). Lengths over the profile's
/// maximum are not checked here ([`crate::segment()`] rejects them).
///
/// ```
/// use smpp_sms::{billable_count, CarrierProfile};
/// assert_eq!(billable_count(133, &CarrierProfile::DOCOMO), 3);
/// assert_eq!(billable_count(133, &CarrierProfile::AU), 2);
/// assert_eq!(billable_count(660, &CarrierProfile::SOFTBANK), 1);
/// ```
pub fn billable_count(chars: usize, profile: &CarrierProfile) -> u32 {
    billable_count_for(Encoding::Ucs2, chars, profile)
}

/// Billable count for a text of `units` characters in `encoding` (UCS-2 code units
/// or GSM septets), using the profile's capacities for that encoding.
///
/// For GSM7 this applies the same rule with 160 and 152/153 septets; the carriers'
/// published table (credit-card-sms.md) is stated for UCS2 text only.
pub fn billable_count_for(encoding: Encoding, units: usize, profile: &CarrierProfile) -> u32 {
    match profile.billing {
        BillingRule::Flat => 1,
        BillingRule::PerSegment => {
            let single = profile.single_capacity(encoding);
            let part = profile.part_capacity(encoding).max(1);
            let n = if units <= single { 1 } else { units.div_ceil(part) };
            u32::try_from(n).unwrap_or(u32::MAX)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// smpp34.md §12 worked counts: (chars, docomo, au/rakuten, softbank).
    const WORKED: [(usize, u32, u32, u32); 10] = [
        (70, 1, 1, 1),
        (71, 2, 2, 1),
        (132, 2, 2, 1),
        (133, 3, 2, 1),
        (134, 3, 2, 1),
        (135, 3, 3, 1),
        (198, 3, 3, 1),
        (199, 4, 3, 1),
        (201, 4, 3, 1),
        (660, 10, 10, 1),
    ];

    #[test]
    fn billing_matches_worked_table_for_every_carrier() {
        for (n, docomo, au, softbank) in WORKED {
            assert_eq!(billable_count(n, &CarrierProfile::DOCOMO), docomo, "docomo {n}");
            assert_eq!(billable_count(n, &CarrierProfile::AU), au, "au {n}");
            assert_eq!(billable_count(n, &CarrierProfile::RAKUTEN), au, "rakuten {n}");
            assert_eq!(billable_count(n, &CarrierProfile::SOFTBANK), softbank, "softbank {n}");
        }
    }

    #[test]
    fn docomo_bills_one_more_per_66_chars_after_198() {
        assert_eq!(billable_count(264, &CarrierProfile::DOCOMO), 4);
        assert_eq!(billable_count(265, &CarrierProfile::DOCOMO), 5);
    }

    #[test]
    fn au_bills_one_more_per_67_chars_after_201() {
        assert_eq!(billable_count(268, &CarrierProfile::AU), 4);
        assert_eq!(billable_count(269, &CarrierProfile::AU), 5);
    }

    #[test]
    fn short_and_empty_texts_bill_one() {
        for p in &BUILTIN_PROFILES {
            assert_eq!(billable_count(0, p), 1);
            assert_eq!(billable_count(1, p), 1);
        }
    }

    #[test]
    fn gsm7_billing_uses_septet_capacities() {
        assert_eq!(billable_count_for(Encoding::Gsm7, 160, &CarrierProfile::DOCOMO), 1);
        assert_eq!(billable_count_for(Encoding::Gsm7, 161, &CarrierProfile::DOCOMO), 2);
        assert_eq!(billable_count_for(Encoding::Gsm7, 305, &CarrierProfile::DOCOMO), 3);
        assert_eq!(billable_count_for(Encoding::Gsm7, 306, &CarrierProfile::AU), 2);
    }

    #[test]
    fn builtin_profiles_have_the_documented_capacities() {
        let d = &CarrierProfile::DOCOMO;
        assert_eq!((d.part_ucs2, d.part_gsm7, d.method), (66, 152, ConcatMethod::Udh16));
        for p in [&CarrierProfile::AU, &CarrierProfile::RAKUTEN] {
            assert_eq!((p.part_ucs2, p.part_gsm7, p.method), (67, 153, ConcatMethod::Udh8));
        }
        let s = &CarrierProfile::SOFTBANK;
        assert_eq!((s.method, s.billing), (ConcatMethod::Payload, BillingRule::Flat));
        for p in &BUILTIN_PROFILES {
            assert_eq!((p.max_chars, p.single_ucs2, p.single_gsm7), (660, 70, 160));
            assert_eq!(p.validate(), Ok(()), "{}", p.name);
        }
    }

    #[test]
    fn lookup_is_case_insensitive_and_unknown_lists_known_names() {
        assert_eq!(CarrierProfile::by_name(" AU ").unwrap(), CarrierProfile::AU);
        assert_eq!("Rakuten".parse::<CarrierProfile>().unwrap(), CarrierProfile::RAKUTEN);
        let err = CarrierProfile::by_name("kddi").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("\"kddi\""), "{msg}");
        assert!(msg.contains("docomo, au, softbank, rakuten"), "{msg}");
    }

    #[test]
    fn custom_profile_gets_method_defaults_and_can_be_tuned() {
        let mut p = CarrierProfile::new(String::from("mvno-x"), ConcatMethod::Sar);
        assert_eq!(p.name, "mvno-x");
        assert_eq!((p.part_ucs2, p.part_gsm7, p.billing), (66, 152, BillingRule::PerSegment));
        p.max_chars = 670;
        assert_eq!(p.validate(), Ok(()));
        p.part_ucs2 = 70;
        assert!(p.validate().is_err());
    }

    #[test]
    fn validate_rejects_udh16_with_67_ucs2_chars_per_part() {
        let mut p = CarrierProfile::DOCOMO;
        p.part_ucs2 = 67;
        assert!(p.validate().unwrap_err().contains("part_ucs2"));
        let mut p = CarrierProfile::DOCOMO;
        p.part_gsm7 = 153;
        assert!(p.validate().unwrap_err().contains("part_gsm7"));
    }
}
