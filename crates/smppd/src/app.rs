//! The running daemon: shared state ([`App`]) and the tasks around it ([`Daemon`]).
//!
//! ```text
//!  HTTP API ──accept (group commit)──▶ Store (SQLite) ◀──claim── Sender (per account) ──▶ binds
//!                                        ▲  ▲                        │ submit_group
//!                         ledger (group) ┘  └ receipts/MOs (group) ◀─ Receiver (per account)
//!  webhook worker ◀── outbox ────────────┘
//! ```

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use smpp_session::SessionConfig;
use smpp_sms::CarrierProfile;
use smpp_tokio::{BindMode, EsmeClient, EsmeConfig, TlsConfig};
use smppd_store::{
    Accepted, Millis, MoIn, MoRecorded, NewMessage, ReceiptIn, ReceiptOutcome, Store, SubmitResult,
};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use crate::clock::{Clock, SystemClock};
use crate::commit::GroupCommit;
use crate::config::{AccountConfig, Config};
use crate::metrics::Metrics;
use crate::policy::Policy;

/// A transient submit failure is retried after this long.
const RETRY_DELAY_MS: i64 = 5_000;

/// One SMSC account's client.
pub struct Account {
    /// Carrier name.
    pub carrier: String,
    /// Account name.
    pub name: String,
    /// The binds.
    pub client: EsmeClient,
}

/// State shared by the API, senders, receivers and the webhook worker.
pub struct App {
    /// The configuration.
    pub config: Config,
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// Classes, routing, quiet hours.
    pub policy: Policy,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Accepts messages (group commit).
    pub accept: GroupCommit<NewMessage, Accepted>,
    /// Records submit results (group commit).
    pub ledger: GroupCommit<SubmitResult, ()>,
    /// Records receipts (group commit).
    pub receipts: GroupCommit<ReceiptIn, ReceiptOutcome>,
    /// Records MOs (group commit).
    pub mos: GroupCommit<MoIn, MoRecorded>,
    /// Wakes idle senders when messages were accepted.
    pub wake: Notify,
    /// The SMSC accounts.
    pub accounts: Vec<Account>,
    /// Messages waiting (queued, held, submitting), refreshed every second and on accept.
    pub backlog: AtomicU64,
    /// False once shutdown began: the API refuses new messages.
    pub accepting: AtomicBool,
    clock: Arc<dyn Clock>,
    profiles: BTreeMap<String, CarrierProfile>,
    keys: HashMap<String, String>,
}

impl App {
    /// Now, from the daemon's clock.
    pub fn now(&self) -> smppd_store::Millis {
        self.clock.now_ms()
    }

    /// The carrier's segmentation/billing profile.
    pub fn profile(&self, carrier: &str) -> Option<&CarrierProfile> {
        self.profiles.get(carrier)
    }

    /// The name of the API key with this token.
    pub fn key_name(&self, token: &str) -> Option<&str> {
        self.keys.get(token).map(String::as_str)
    }

    /// Whether every carrier has at least one bind up.
    pub fn ready(&self) -> bool {
        self.config
            .carriers
            .keys()
            .all(|c| self.accounts.iter().any(|a| &a.carrier == c && a.client.status().bound > 0))
    }
}

/// A running daemon.
pub struct Daemon {
    app: Arc<App>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    senders: JoinSet<()>,
    others: JoinSet<()>,
}

impl Daemon {
    /// Recovers the store, connects every account, starts the senders, receivers, webhook
    /// worker and the HTTP API. Returns once the API listens.
    pub async fn start(config: Config, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        Self::start_with_clock(config, store, Arc::new(SystemClock)).await
    }

    /// [`Daemon::start`] with another clock: tests move a [`crate::clock::ManualClock`]
    /// across quiet hours and deadlines.
    pub async fn start_with_clock(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let policy = Policy::new(&config).map_err(anyhow::Error::msg).context("policy")?;
        recover(&store, &policy, clock.now_ms()).await?;
        relearn_carriers(&store, &policy).await?;
        set_id_formats(&store, &config).await?;
        let metrics = Arc::new(Metrics::new());
        let profiles = config
            .carriers
            .keys()
            .map(|c| Ok((c.clone(), config.profile_of(c).map_err(anyhow::Error::msg)?)))
            .collect::<anyhow::Result<_>>()?;
        let mut accounts = Vec::new();
        let mut connections = Vec::new();
        for (carrier, c) in &config.carriers {
            for a in &c.accounts {
                let (client, conn) = smpp_tokio::connect(esme_config(a)?)
                    .with_context(|| format!("carriers.{carrier}: account {}", a.name()))?;
                connections.push(conn);
                accounts.push(Account { carrier: carrier.clone(), name: a.name().into(), client });
            }
        }
        let keys = config.api_keys.iter().map(|k| (k.key.clone(), k.name.0.clone())).collect();
        let app = Arc::new(App {
            accept: accept_writer(&store),
            ledger: ledger_writer(&store),
            receipts: receipt_writer(&store),
            mos: mo_writer(&store, config.server.reply_window_hours),
            config,
            store,
            policy,
            metrics,
            wake: Notify::new(),
            accounts,
            backlog: AtomicU64::new(0),
            accepting: AtomicBool::new(true),
            clock,
            profiles,
            keys,
        });
        let (stop, _) = watch::channel(false);
        let mut others = JoinSet::new();
        for conn in connections {
            others.spawn(conn);
        }
        let senders = spawn_accounts(&app, &stop, &mut others);
        if let Some(w) = app.config.webhook.clone() {
            others.spawn(crate::webhook::run(app.clone(), w, stop.subscribe()));
        }
        others.spawn(refresh_loop(app.clone(), stop.subscribe()));
        others.spawn(purge_loop(app.clone(), stop.subscribe()));
        let listener = tokio::net::TcpListener::bind(app.config.server.listen)
            .await
            .with_context(|| format!("server.listen {}", app.config.server.listen))?;
        let addr = listener.local_addr()?;
        others.spawn(crate::http::serve(app.clone(), listener, stop.subscribe()));
        tracing::info!(%addr, "smppd listening");
        Ok(Self { app, addr, stop, senders, others })
    }

    /// The API's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Graceful shutdown: stop intake, let the senders record what is in flight, unbind
    /// every account (which waits for outstanding responses), then stop the rest. Gives up
    /// waiting after `server.shutdown_grace_secs`.
    pub async fn shutdown(mut self) {
        self.app.accepting.store(false, Ordering::Relaxed);
        self.stop.send_replace(true);
        let grace = Duration::from_secs(self.app.config.server.shutdown_grace_secs);
        let app = self.app.clone();
        let drain = async {
            while self.senders.join_next().await.is_some() {}
            for a in &app.accounts {
                a.client.unbind().await;
            }
        };
        if tokio::time::timeout(grace, drain).await.is_err() {
            tracing::warn!("shutdown grace period over; stopping with requests in flight");
        }
        self.others.abort_all();
        while self.others.join_next().await.is_some() {}
    }
}

fn spawn_accounts(
    app: &Arc<App>,
    stop: &watch::Sender<bool>,
    others: &mut JoinSet<()>,
) -> JoinSet<()> {
    let mut senders = JoinSet::new();
    for (i, a) in app.accounts.iter().enumerate() {
        let cfg = account_config(&app.config, &a.carrier, &a.name);
        let window = cfg.map_or(10, |c| c.window.0 * c.binds.0);
        // At slow contracted rates, claim no more than ~2 s of traffic: what a crash leaves
        // `unknown` stays small.
        let by_rate =
            cfg.and_then(|c| c.tps.as_ref()).map_or(usize::MAX, |t| (t.0 * 2.0).ceil() as usize);
        let max_in_flight = window.min(by_rate).max(1);
        let sender = crate::sender::Sender::new(
            app.clone(),
            &a.carrier,
            &a.name,
            a.client.clone(),
            max_in_flight,
        );
        senders.spawn(sender.run(stop.subscribe()));
        if let Some(r) = crate::receiver::Receiver::new(
            app.clone(),
            &a.carrier,
            &a.name,
            &app.accounts[i].client,
        ) {
            others.spawn(r.run(stop.subscribe()));
        }
    }
    senders
}

fn account_config<'a>(config: &'a Config, carrier: &str, name: &str) -> Option<&'a AccountConfig> {
    config.carriers.get(carrier)?.accounts.iter().find(|a| a.name() == name)
}

async fn recover(store: &Arc<dyn Store>, policy: &Policy, now: Millis) -> anyhow::Result<()> {
    let resendable: Vec<String> =
        policy.config().classes.keys().filter(|c| policy.resendable(c)).cloned().collect();
    let store = store.clone();
    let r = tokio::task::spawn_blocking(move || {
        store.recover(now, &|class: &str| resendable.iter().any(|c| c == class))
    })
    .await??;
    if r.requeued + r.unknown > 0 {
        tracing::warn!(
            requeued = r.requeued,
            unknown = r.unknown,
            "recovered messages left in flight by the last run"
        );
    }
    Ok(())
}

/// The smpp-tokio settings for one account.
pub fn esme_config(a: &AccountConfig) -> anyhow::Result<EsmeConfig> {
    let mut c = EsmeConfig::new(&a.host.0, a.port.0, &a.system_id.0, &a.password)?;
    c.system_type(&a.system_type)?;
    let mode = if a.bind_mode.0 == "tx+rx" {
        BindMode::TransmitterReceiver
    } else {
        BindMode::Transceiver
    };
    let mut session = SessionConfig::default();
    session
        .window(a.window.0)
        .enquire_link_interval(Some(Duration::from_secs(a.enquire_link_secs.0)))
        .response_timeout(Duration::from_secs(a.response_timeout_secs.0));
    c.bind_mode(mode)
        .binds(a.binds.0)
        .tps(a.tps.as_ref().map(|t| t.0))
        .session(session)
        .correlate(false);
    if let Some(t) = &a.tls {
        c.tls(Some(TlsConfig {
            server_name: t.server_name.clone(),
            ca_file: Some(t.ca_file.clone()),
            client_cert: t.client_cert.clone(),
            client_key: t.client_key.clone(),
        }));
    }
    Ok(c)
}

fn accept_writer(store: &Arc<dyn Store>) -> GroupCommit<NewMessage, Accepted> {
    let store = store.clone();
    GroupCommit::spawn(256, 20_000, move |m| store.accept(m))
}

fn ledger_writer(store: &Arc<dyn Store>) -> GroupCommit<SubmitResult, ()> {
    let store = store.clone();
    GroupCommit::spawn(4096, 20_000, move |r| {
        store.record_submits(r, RETRY_DELAY_MS)?;
        Ok(vec![(); r.len()])
    })
}

fn receipt_writer(store: &Arc<dyn Store>) -> GroupCommit<ReceiptIn, ReceiptOutcome> {
    let store = store.clone();
    GroupCommit::spawn(256, 20_000, move |r| store.apply_receipts(r))
}

fn mo_writer(store: &Arc<dyn Store>, window_hours: u64) -> GroupCommit<MoIn, MoRecorded> {
    let store = store.clone();
    let window = (window_hours * 3_600_000) as i64;
    GroupCommit::spawn(256, 5_000, move |m| store.record_mos(m, window))
}

/// Gives every account its configured message-id format (`auto`: learned).
async fn set_id_formats(store: &Arc<dyn Store>, config: &Config) -> anyhow::Result<()> {
    let formats: Vec<_> = config
        .carriers
        .values()
        .flat_map(|c| &c.accounts)
        .map(|a| (a.name().to_owned(), a.message_id_format.reading_pair()))
        .collect();
    let s = store.clone();
    tokio::task::spawn_blocking(move || {
        formats.iter().try_for_each(|(account, pair)| s.configure_id_format(account, *pair))
    })
    .await??;
    Ok(())
}

/// Puts the carriers learned from re-routes before this start back into the carrier table.
async fn relearn_carriers(store: &Arc<dyn Store>, policy: &Policy) -> anyhow::Result<()> {
    let s = store.clone();
    let learned = tokio::task::spawn_blocking(move || s.learned_carriers()).await??;
    for (number, carrier) in &learned {
        if let Err(e) = policy.learn(number, carrier) {
            tracing::warn!(to = %smpp_policy::mask(number), carrier, error = %e,
                "a learned carrier is not configured any more; lesson ignored");
        }
    }
    if !learned.is_empty() {
        tracing::info!(numbers = learned.len(), "carriers learned from re-routes reloaded");
    }
    Ok(())
}

/// How long a receipt that matched nothing waits before a cross reading of its id
/// (hex↔decimal) is considered: well past any response timeout, so its own submit_sm_resp
/// would have been recorded by then. At least a minute.
fn held_receipt_grace_ms(config: &Config) -> i64 {
    let slowest = config
        .carriers
        .values()
        .flat_map(|c| &c.accounts)
        .map(|a| a.response_timeout_secs.0)
        .max()
        .unwrap_or(0);
    let secs = slowest.saturating_mul(2).max(60);
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// Held receipts looked at per sweep (one a second): bounds the write transaction.
const SWEEP_BATCH: usize = 1000;

/// Once a second: expire messages past their deadline, sweep held receipts, refresh gauges
/// and the backlog.
async fn refresh_loop(app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let mut seen: HashMap<(String, String), (u64, u64)> = HashMap::new();
    let grace = held_receipt_grace_ms(&app.config);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
        let store = app.store.clone();
        let reload = app.clone();
        let r = tokio::task::spawn_blocking(move || {
            match reload.policy.reload_if_changed() {
                Ok(Some(rows)) => tracing::info!(rows, "MNP table reloaded"),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "MNP table not reloaded; keeping the old one")
                }
            }
            let now = reload.now();
            store.expire(now)?;
            let swept = store.sweep_held_receipts(now.saturating_sub(grace), SWEEP_BATCH)?;
            if !swept.is_empty() {
                tracing::info!(
                    receipts = swept.len(),
                    "held receipts matched once the SMSC's id format was learned"
                );
            }
            Ok::<_, smppd_store::StoreError>((
                store.depth()?,
                store.backlog()?,
                store.held_receipts()?,
            ))
        })
        .await;
        match r {
            Ok(Ok((depth, backlog, held))) => {
                app.backlog.store(backlog, Ordering::Relaxed);
                app.metrics.receipts_held.set(i64::try_from(held).unwrap_or(i64::MAX));
                app.metrics.queue.reset();
                for d in depth {
                    app.metrics
                        .queue
                        .with_label_values(&[d.status.as_str(), &d.class, &d.carrier])
                        .set(d.count as i64);
                }
            }
            // Deadlines, the receipt sweep and the gauges wait for the next second.
            Ok(Err(e)) => tracing::error!(error = %e, "periodic refresh failed"),
            Err(e) => tracing::error!(error = %e, "periodic refresh task failed"),
        }
        refresh_binds(&app, &mut seen);
    }
}

/// How often old audit events are purged: they age by days, so once an hour is plenty.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Held receipts forgotten per transaction by the purge.
const PURGE_BATCH: usize = 10_000;

fn days_ms(days: u64) -> i64 {
    i64::try_from(days.saturating_mul(86_400_000)).unwrap_or(i64::MAX)
}

/// Once an hour (and at start): deletes audit events older than the configured retention,
/// and held receipts that never matched.
async fn purge_loop(app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let audit_days = app.config.database.audit_retention_days.as_ref().map(|d| d.0);
    let held_days = app.config.database.held_receipt_retention_days.0;
    loop {
        let store = app.store.clone();
        let now = app.now();
        let r = tokio::task::spawn_blocking(move || {
            let audit = match audit_days {
                Some(days) => store.purge_audit(now.saturating_sub(days_ms(days)))?,
                None => 0,
            };
            let before = now.saturating_sub(days_ms(held_days));
            let mut held = 0;
            loop {
                let n = store.purge_held_receipts(before, PURGE_BATCH)?;
                held += n;
                if n < PURGE_BATCH as u64 {
                    break;
                }
            }
            Ok::<_, smppd_store::StoreError>((audit, held))
        })
        .await;
        match r {
            Ok(Ok((audit, held))) => {
                if audit > 0 {
                    tracing::info!(events = audit, days = audit_days, "old audit events purged");
                }
                if held > 0 {
                    tracing::info!(
                        receipts = held,
                        days = held_days,
                        "receipts that never matched a submit forgotten"
                    );
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "purge failed"),
            Err(e) => tracing::error!(error = %e, "purge task failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(PURGE_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

fn refresh_binds(app: &App, seen: &mut HashMap<(String, String), (u64, u64)>) {
    let m = &app.metrics;
    for a in &app.accounts {
        let binds = a.client.binds();
        let labels = [a.carrier.as_str(), a.name.as_str()];
        m.binds_up.with_label_values(&labels).set(binds.iter().filter(|b| b.bound).count() as i64);
        let (throttles, reconnects) =
            binds.iter().fold((0, 0), |(t, r), b| (t + b.throttles, r + b.reconnects));
        let last = seen.entry((a.carrier.clone(), a.name.clone())).or_default();
        m.throttles.with_label_values(&labels).inc_by(throttles.saturating_sub(last.0));
        m.reconnects.with_label_values(&labels).inc_by(reconnects.saturating_sub(last.1));
        *last = (throttles, reconnects);
        for b in &binds {
            m.window
                .with_label_values(&[&a.carrier, &a.name, &b.index.to_string()])
                .set(b.in_flight as i64);
        }
    }
}
