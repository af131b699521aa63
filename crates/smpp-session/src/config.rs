//! Session parameters (smpp34.md §8.5, §8.6: "make all four timers configurable").

use std::time::Duration;

use smpp_codec::{Framer, SequenceNumber};

/// Parameters of one session. Build with [`SessionConfig::default`] and the setters:
///
/// ```
/// use std::time::Duration;
/// use smpp_session::SessionConfig;
///
/// let mut config = SessionConfig::default();
/// config
///     .window(100)
///     .response_timeout(Duration::from_secs(10))
///     .enquire_link_interval(Some(Duration::from_secs(60)));
/// assert_eq!(config.get_window(), 100);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    window: usize,
    response_timeout: Duration,
    enquire_link_interval: Option<Duration>,
    inactivity_timeout: Option<Duration>,
    session_init_timeout: Option<Duration>,
    bind_timeout: Duration,
    max_command_length: u32,
    strict: bool,
    first_sequence_number: SequenceNumber,
}

impl SessionConfig {
    /// The largest window accepted; larger values are lowered to it. It keeps the number of
    /// pending requests far below the 2^31 - 1 sequence numbers.
    pub const MAX_WINDOW: usize = 1 << 20;

    /// Most requests of ours awaiting a response at once; [`crate::SendError::WindowFull`]
    /// beyond it. Default **10**, the spec's recommendation (§2.5.2 note, smpp34.md §8.5) and
    /// a safe choice for an unknown SMSC; carriers publish their own figure, and throughput
    /// over a long round trip needs more (rate ≈ window / round-trip time). 0 is raised to 1.
    /// The session's own enquire_link, bind and unbind do not take a slot.
    pub fn window(&mut self, window: usize) -> &mut Self {
        self.window = window.clamp(1, Self::MAX_WINDOW);
        self
    }

    /// How long a request waits for its response before it fails with
    /// [`crate::Event::ResponseTimeout`] (response_timer, smpp34.md §8.6). Also bounds the
    /// wait for enquire_link_resp and unbind_resp. Default **30 s**: peers use 1-60 s; long
    /// enough for an SMSC under load, short enough that a stalled window recovers.
    pub fn response_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.response_timeout = timeout;
        self
    }

    /// Send enquire_link when nothing was received for this long while bound
    /// (enquire_link_timer, smpp34.md §8.4); `None` disables it. Default **30 s**, what
    /// Kannel, Jasmin, smppex and Rusmpp use; below most NAT and firewall idle limits.
    pub fn enquire_link_interval(&mut self, interval: Option<Duration>) -> &mut Self {
        self.enquire_link_interval = interval;
        self
    }

    /// Close when no PDU other than enquire_link(_resp) went either way for this long
    /// (inactivity_timer, smpp34.md §8.6). Default **`None`** (off, as in smppex): with
    /// enquire_link on, an idle but healthy bind is normal for an ESME.
    pub fn inactivity_timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.inactivity_timeout = timeout;
        self
    }

    /// SMSC role: close when no bind succeeded this long after the session was created
    /// (session_init_timer, smpp34.md §8.6); `None` disables it. Default **10 s** (smppex),
    /// which frees connections that never bind. Ignored in the ESME role.
    pub fn session_init_timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.session_init_timeout = timeout;
        self
    }

    /// ESME role: close when our bind gets no bind_resp within this. Default **10 s**: a bind
    /// is cheap for an SMSC, so a slow one means a wedged peer; reconnecting is the remedy.
    pub fn bind_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.bind_timeout = timeout;
        self
    }

    /// Largest command_length accepted from the peer; a larger one loses framing and closes
    /// the session with generic_nack ESME_RINVCMDLEN (smpp34.md §2, §8.3). Default
    /// [`Framer::DEFAULT_MAX_COMMAND_LENGTH`] (70 KiB), enough for a full message_payload.
    pub fn max_command_length(&mut self, max: u32) -> &mut Self {
        self.max_command_length = max;
        self
    }

    /// Decode strictly ([`smpp_codec::DecodeOptions::STRICT`]) instead of tolerating what real
    /// peers send. Default **false**: tolerance is what keeps binds to real carriers up;
    /// strict suits conformance tests of a peer.
    pub fn strict(&mut self, strict: bool) -> &mut Self {
        self.strict = strict;
        self
    }

    /// The first sequence number our requests use. Default **1** (spec §4.1.1 note a).
    pub fn first_sequence_number(&mut self, first: SequenceNumber) -> &mut Self {
        self.first_sequence_number = first;
        self
    }

    /// See [`SessionConfig::window`].
    pub fn get_window(&self) -> usize {
        self.window
    }

    /// See [`SessionConfig::response_timeout`].
    pub fn get_response_timeout(&self) -> Duration {
        self.response_timeout
    }

    /// See [`SessionConfig::enquire_link_interval`].
    pub fn get_enquire_link_interval(&self) -> Option<Duration> {
        self.enquire_link_interval
    }

    /// See [`SessionConfig::inactivity_timeout`].
    pub fn get_inactivity_timeout(&self) -> Option<Duration> {
        self.inactivity_timeout
    }

    /// See [`SessionConfig::session_init_timeout`].
    pub fn get_session_init_timeout(&self) -> Option<Duration> {
        self.session_init_timeout
    }

    /// See [`SessionConfig::bind_timeout`].
    pub fn get_bind_timeout(&self) -> Duration {
        self.bind_timeout
    }

    /// See [`SessionConfig::max_command_length`].
    pub fn get_max_command_length(&self) -> u32 {
        self.max_command_length
    }

    /// See [`SessionConfig::strict`].
    pub fn get_strict(&self) -> bool {
        self.strict
    }

    /// See [`SessionConfig::first_sequence_number`].
    pub fn get_first_sequence_number(&self) -> SequenceNumber {
        self.first_sequence_number
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            window: 10,
            response_timeout: Duration::from_secs(30),
            enquire_link_interval: Some(Duration::from_secs(30)),
            inactivity_timeout: None,
            session_init_timeout: Some(Duration::from_secs(10)),
            bind_timeout: Duration::from_secs(10),
            max_command_length: Framer::DEFAULT_MAX_COMMAND_LENGTH,
            strict: false,
            first_sequence_number: SequenceNumber::FIRST,
        }
    }
}
