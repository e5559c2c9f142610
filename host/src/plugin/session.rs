//! One request's instance of a plugin (a `Store` and its export), the calls made on it, and
//! the classification of what went wrong. With `reuse = "warm"` an unspoiled instance goes back
//! to its plugin's idle list when the session ends.

use super::bindings::setup_api;
use super::convert;
use super::cpu;
use super::error::Error;
use super::instance::{Exports, Guest, Live, MAX_WARM_IDLE, Plugin};
use super::state::PluginState;
use super::stats::Outcome;
use super::types::{MAX_WARM_USES, Normalized, PluginKind, Reply, Request, Reuse, Ruling, Verdict};
use crate::event::Event;
use std::sync::Arc;
use wasmtime::{Store, Trap, UpdateDeadline};

/// One request's instance of a plugin.
pub struct Session<'p> {
    plugin: &'p Plugin,
    /// Always `Some` until dropped (taken then to return it to the warm pool).
    store: Option<Store<PluginState>>,
    guest: Option<Guest>,
    /// `setup-api` (guests built against 0.1.2 or later).
    setup: Option<setup_api::Guest>,
    /// Requests this instance served before this one.
    uses: u32,
    /// A trap, deadline or resource limit hit this instance: never reuse it.
    spoiled: bool,
}

impl<'p> Session<'p> {
    /// A session on `plugin`: an idle warm instance when it has one and reuses them, else a
    /// fresh store and instance.
    pub(super) async fn open(plugin: &'p Plugin) -> Result<Session<'p>, Error> {
        if plugin.limits.reuse == Reuse::Warm {
            let idle = plugin.warm.lock().unwrap_or_else(|p| p.into_inner()).pop();
            if let Some(live) = idle {
                return Ok(Session {
                    plugin,
                    store: Some(live.store),
                    guest: Some(live.guest),
                    setup: live.setup,
                    uses: live.uses,
                    spoiled: false,
                });
            }
        }
        Session::open_fresh(plugin).await
    }

    /// A session on a new store and instance of `plugin`.
    pub(super) async fn open_fresh(plugin: &'p Plugin) -> Result<Session<'p>, Error> {
        let mut store = Store::new(
            &plugin.engine,
            PluginState::new(plugin.identity.clone(), plugin.limits.max_memory_bytes),
        );
        store.limiter(|state| &mut state.limits);
        // Every epoch tick while the guest runs, compare the CPU time it has used with its
        // budget (see `cpu`); within budget it yields to tokio, so a spinning plugin cannot
        // starve other requests.
        store.epoch_deadline_callback(|mut ctx| {
            let state = ctx.data_mut();
            if state.cpu.spent_ns() >= state.budget_ms.saturating_mul(1_000_000) {
                state.deadline_hit = true;
                return Ok(UpdateDeadline::Interrupt);
            }
            if state.wall_deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                state.late_hit = true;
                return Ok(UpdateDeadline::Interrupt);
            }
            Ok(UpdateDeadline::Yield(1))
        });
        let mut session = Session {
            plugin,
            store: Some(store),
            guest: None,
            setup: None,
            uses: 0,
            spoiled: false,
        };
        session.arm(0);
        let meter = session.meter();
        let instance = match cpu::metered(&meter, plugin.pre.instantiate_async(session.store())).await {
            Ok(instance) => instance,
            Err(e) => {
                let said = session.store().data_mut().output.drain(&plugin.identity.id);
                return Err(session.fault("instantiate", e, said));
            }
        };
        let store = session.store();
        let guest = match &plugin.exports {
            Exports::Normalize(ix, answer) => ix.load(&mut *store, &instance).and_then(|normalize| {
                let answer = answer.as_ref().map(|a| a.load(&mut *store, &instance)).transpose()?;
                Ok(Guest::Normalize(normalize, answer))
            }),
            Exports::Filter(ix) => ix.load(&mut *store, &instance).map(Guest::Filter),
            Exports::Transform(ix) => ix.load(&mut *store, &instance).map(Guest::Transform),
            Exports::Decide(ix) => ix.load(&mut *store, &instance).map(Guest::Decide),
        };
        // A type mismatch between the guest's exports and this host's WIT (an ABI break) is
        // found here, by the typed lookups, before any call.
        let guest = match guest {
            Ok(guest) => guest,
            Err(e) => {
                session.spoiled = true;
                return Err(Error::Contract {
                    plugin: plugin.identity.id.clone(),
                    reason: format!(
                        "its exports do not match this router's `router:plugin` ABI ({}): {e:#}",
                        super::SUPPORTED_ABI
                    ),
                });
            }
        };
        session.guest = Some(guest);
        session.setup = match &plugin.setup {
            Some(ix) => Some(ix.load(session.store(), &instance).map_err(|e| Error::Contract {
                plugin: plugin.identity.id.clone(),
                reason: format!("its `setup-api` does not match this router's ABI: {e:#}"),
            })?),
            None => None,
        };
        Ok(session)
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        // A session dropped while its call's future was cut off mid-guest (the meter says the
        // call is unfinished) has a guest stopped halfway: not reused either.
        if self.plugin.limits.reuse != Reuse::Warm
            || self.spoiled
            || self.uses + 1 >= MAX_WARM_USES
            || self.store.as_ref().is_none_or(|s| s.data().cpu.unfinished())
        {
            return;
        }
        let (Some(store), Some(guest)) = (self.store.take(), self.guest.take()) else {
            return;
        };
        let mut idle = self.plugin.warm.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_WARM_IDLE {
            idle.push(Live {
                store,
                guest,
                setup: self.setup.take(),
                uses: self.uses + 1,
            });
        }
    }
}

impl Session<'_> {
    fn store(&mut self) -> &mut Store<PluginState> {
        self.store
            .as_mut()
            .expect("a session's store is only taken when it is dropped")
    }

    fn state(&self) -> &PluginState {
        self.store
            .as_ref()
            .expect("a session's store is only taken when it is dropped")
            .data()
    }

    /// Resets the CPU budget for the next call, whose input is `input_bytes` long.
    fn arm(&mut self, input_bytes: usize) {
        let limits = self.plugin.limits;
        let store = self.store();
        let state = store.data_mut();
        state.budget_ms = cpu::budget_ms(limits.timeout_ms, limits.timeout_ms_per_mib, input_bytes);
        state.cpu.reset();
        state.deadline_hit = false;
        state.wall_deadline = None;
        state.late_hit = false;
        state.limits.limit_hit = false;
        store.set_epoch_deadline(1);
    }

    /// The CPU meter of this session's store, for [`cpu::metered`].
    fn meter(&self) -> Arc<cpu::CpuMeter> {
        self.state().cpu.clone()
    }

    fn id(&self) -> String {
        self.plugin.identity.id.clone()
    }

    /// Classifies a wasmtime error from `call`: deadline, resource limit, or another trap,
    /// quoting what the guest said before it (`said`). The instance is spoiled either way.
    fn fault(&mut self, call: &'static str, e: wasmtime::Error, said: super::output::Said) -> Error {
        self.spoiled = true;
        self.plugin.health.fault();
        let state = self.state();
        if state.late_hit {
            return Error::Late {
                plugin: self.id(),
                deadline_ms: state.late_after_ms,
            };
        }
        if state.deadline_hit || matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
            Error::DeadlineExceeded {
                plugin: self.id(),
                budget_ms: state.budget_ms,
            }
        } else if state.limits.limit_hit {
            Error::ResourceLimit {
                plugin: self.id(),
                limit_bytes: self.plugin.limits.max_memory_bytes,
            }
        } else {
            let trap = super::output::describe_trap(&e);
            Error::Trapped {
                plugin: self.id(),
                call,
                message: match said.message {
                    Some(guest) => format!("{guest} ({trap})"),
                    None => trap,
                },
            }
        }
    }

    /// Ends a call: logs the guest's output, turns its result into ours (`convert` for a
    /// success), and counts the call in the plugin's statistics (`outcome` of a success).
    fn settle<W, T>(
        &mut self,
        call: &'static str,
        started: std::time::Instant,
        out: wasmtime::Result<Result<W, super::bindings::wit::PluginError>>,
        convert: impl FnOnce(&mut Self, W) -> Result<T, Error>,
        outcome: impl FnOnce(&T) -> super::stats::Outcome,
    ) -> Result<T, Error> {
        let id = self.id();
        let said = self.store().data_mut().output.drain(&id);
        let result = match out {
            Err(trap) => Err(self.fault(call, trap, said)),
            // A runtime that catches its own out-of-memory (Python's `MemoryError`, turned
            // into `internal` by the kit) still ran into the cap: say which cap.
            Ok(Err(_)) if self.state().limits.limit_hit => {
                self.spoiled = true;
                self.plugin.health.fault();
                Err(Error::ResourceLimit {
                    plugin: id.clone(),
                    limit_bytes: self.plugin.limits.max_memory_bytes,
                })
            }
            Ok(Err(e)) => Err(self.reported(e)),
            Ok(Ok(value)) => convert(self, value),
        };
        let counted = match &result {
            Ok(value) => outcome(value),
            Err(e) => super::stats::Outcome::of(e),
        };
        self.plugin.stats.call(call, counted, started.elapsed());
        result
    }

    fn reported(&self, e: super::bindings::wit::PluginError) -> Error {
        use super::bindings::wit::PluginError as P;
        match e {
            P::InvalidInput(reason) => Error::Rejected {
                plugin: self.id(),
                reason,
            },
            P::Unauthorized(reason) => Error::Unauthorized {
                plugin: self.id(),
                reason,
            },
            P::Unavailable(reason) => Error::Unavailable {
                plugin: self.id(),
                reason,
            },
            P::BadSettings(reason) => Error::BadSettings {
                plugin: self.id(),
                reason,
            },
            P::Internal(reason) => Error::Failed {
                plugin: self.id(),
                reason,
            },
        }
    }

    fn wrong_kind(&self, wanted: PluginKind) -> Error {
        Error::Contract {
            plugin: self.id(),
            reason: format!(
                "called as a {} but it is a {}",
                wanted.as_str(),
                self.plugin.kind.as_str()
            ),
        }
    }

    /// Asks the guest to check its settings (`setup-api.validate-settings`); `Ok(false)` when
    /// it predates that export (built against `router:plugin` 0.1.0/0.1.1).
    pub async fn validate_settings(&mut self) -> Result<bool, Error> {
        self.arm(0);
        let Some(setup) = self.setup.clone() else {
            return Ok(false);
        };
        let (meter, started) = (self.meter(), std::time::Instant::now());
        let out = cpu::metered(&meter, setup.call_validate_settings(self.store())).await;
        self.settle("validate-settings", started, out, |_, ()| Ok(true), |_| Outcome::Ok)
    }

    /// Runs a normalizer on a request.
    pub async fn normalize(&mut self, request: &Request) -> Result<Normalized, Error> {
        self.plugin.health.call();
        self.arm(request.body.len());
        let Some(Guest::Normalize(guest, _)) = &self.guest else {
            return Err(self.wrong_kind(PluginKind::Normalizer));
        };
        let guest = guest.clone();
        let (meter, started) = (self.meter(), std::time::Instant::now());
        let out = cpu::metered(
            &meter,
            guest.call_normalize(self.store(), &convert::request_to_wit(request)),
        )
        .await;
        self.settle(
            "normalize",
            started,
            out,
            |session, normalized| {
                let mut normalized = convert::normalized_from_wit(normalized).map_err(|reason| Error::Contract {
                    plugin: session.id(),
                    reason,
                })?;
                let macs = std::mem::take(&mut session.store().data_mut().macs);
                normalized.reply_carries_mac = normalized
                    .reply
                    .as_ref()
                    .is_some_and(|reply| super::host::reply_carries(reply, &macs));
                Ok(normalized)
            },
            |_| Outcome::Ok,
        )
    }

    /// Runs a filter on one event.
    pub async fn filter(&mut self, event: &Event) -> Result<Verdict, Error> {
        self.plugin.health.call();
        self.arm(0);
        let Some(Guest::Filter(guest)) = &self.guest else {
            return Err(self.wrong_kind(PluginKind::Filter));
        };
        let guest = guest.clone();
        let (meter, started) = (self.meter(), std::time::Instant::now());
        let out = cpu::metered(&meter, guest.call_filter(self.store(), &convert::event_to_wit(event))).await;
        let verdict = self.settle(
            "filter",
            started,
            out,
            |_, verdict| Ok(convert::verdict_from_wit(verdict)),
            |verdict| match verdict {
                Verdict::Keep => Outcome::Ok,
                Verdict::Drop(_) => Outcome::Drop,
            },
        )?;
        if let Verdict::Drop(reason) = &verdict {
            self.plugin.stats.drop_reason(reason);
        }
        Ok(verdict)
    }

    /// Runs a transform on one event.
    pub async fn transform(&mut self, event: &Event) -> Result<Vec<Event>, Error> {
        self.plugin.health.call();
        self.arm(0);
        let Some(Guest::Transform(guest)) = &self.guest else {
            return Err(self.wrong_kind(PluginKind::Transform));
        };
        let guest = guest.clone();
        let (meter, started) = (self.meter(), std::time::Instant::now());
        let out = cpu::metered(
            &meter,
            guest.call_transform(self.store(), &convert::event_to_wit(event)),
        )
        .await;
        self.settle(
            "transform",
            started,
            out,
            |session, events| {
                events
                    .into_iter()
                    .map(|e| convert::event_from_wit(e).map(|(event, _)| event))
                    .collect::<Result<_, _>>()
                    .map_err(|reason| Error::Contract {
                        plugin: session.id(),
                        reason,
                    })
            },
            |_| Outcome::Ok,
        )
    }

    /// Runs a decider on one event, with the site's clock in `zone`; with `deadline`, the
    /// guest is interrupted there (at the next epoch tick) and the call reports
    /// [`Error::Late`].
    pub async fn decide(
        &mut self,
        event: &Event,
        zone: &jiff::tz::TimeZone,
        deadline: Option<std::time::Instant>,
    ) -> Result<Ruling, Error> {
        self.plugin.health.call();
        self.arm(0);
        let state = self.store().data_mut();
        state.time_zone = zone.clone();
        state.wall_deadline = deadline;
        state.late_after_ms = deadline.map_or(0.0, |d| {
            d.saturating_duration_since(std::time::Instant::now()).as_secs_f64() * 1e3
        });
        let Some(Guest::Decide(guest)) = &self.guest else {
            return Err(self.wrong_kind(PluginKind::Decider));
        };
        let guest = guest.clone();
        let (meter, started) = (self.meter(), std::time::Instant::now());
        let out = cpu::metered(&meter, guest.call_decide(self.store(), &convert::event_to_wit(event))).await;
        self.settle(
            "decide",
            started,
            out,
            |session, ruling| {
                convert::ruling_from_wit(ruling).map_err(|reason| Error::Contract {
                    plugin: session.id(),
                    reason,
                })
            },
            |_| Outcome::Ok,
        )
    }

    /// Has a normalizer render `ruling` as the reply to `request` (whose first event is `event`).
    pub async fn answer(&mut self, request: &Request, event: &Event, ruling: &Ruling) -> Result<Reply, Error> {
        self.plugin.health.call();
        self.arm(request.body.len());
        let Some(Guest::Normalize(_, Some(guest))) = &self.guest else {
            return Err(Error::Contract {
                plugin: self.id(),
                reason: "it does not export `router:plugin/answer-api` (world `access-normalizer`), so it cannot \
                         put a ruling into its reply"
                    .to_string(),
            });
        };
        let guest = guest.clone();
        let (meter, started) = (self.meter(), std::time::Instant::now());
        let out = cpu::metered(
            &meter,
            guest.call_answer(
                self.store(),
                &convert::request_to_wit(request),
                &convert::event_to_wit(event),
                &convert::ruling_to_wit(ruling),
            ),
        )
        .await;
        self.settle(
            "answer",
            started,
            out,
            |session, reply| {
                convert::reply_from_wit(reply).map_err(|reason| Error::Contract {
                    plugin: session.id(),
                    reason,
                })
            },
            |_| Outcome::Ok,
        )
    }
}
