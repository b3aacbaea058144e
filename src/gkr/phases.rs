//! Per-phase timing. Every phase of a proof (and of its verification) is a `tracing` span named
//! `phase`, with the side and the phase's name as fields, so `-v` logs show where time goes; a
//! caller that wants the figures passes a [`PhaseHook`] in its options, called with each phase's
//! name and duration when the phase ends.

use std::time::{Duration, Instant};

/// Called with each phase's name and duration as the phase ends.
pub type PhaseHook<'a> = &'a (dyn Fn(&str, Duration) + Sync);

/// The phase running now, as a span entered on this thread.
pub(crate) struct Phases<'a> {
    side: &'static str,
    hook: Option<PhaseHook<'a>>,
    current: Option<(String, Instant, tracing::span::EnteredSpan)>,
}

impl<'a> Phases<'a> {
    pub fn new(side: &'static str, hook: Option<PhaseHook<'a>>) -> Self {
        Self { side, hook, current: None }
    }

    /// Ends the running phase (if any) and starts `name`.
    pub fn start(&mut self, name: impl Into<String>) {
        self.end();
        let name = name.into();
        let span = tracing::info_span!("phase", side = self.side, name = %name).entered();
        self.current = Some((name, Instant::now(), span));
    }

    /// Ends the running phase, reporting its duration to the hook.
    pub fn end(&mut self) {
        if let Some((name, start, span)) = self.current.take() {
            let elapsed = start.elapsed();
            drop(span);
            if let Some(hook) = self.hook {
                hook(&name, elapsed);
            }
        }
    }
}

impl Drop for Phases<'_> {
    fn drop(&mut self) {
        self.end();
    }
}

/// A hook that collects the phases into a list, for callers that print them.
#[derive(Debug, Default)]
pub struct PhaseLog(std::sync::Mutex<Vec<(String, Duration)>>);

impl PhaseLog {
    /// Records a phase (the [`PhaseHook`] to pass: `&|name, d| log.record(name, d)`).
    pub fn record(&self, name: &str, d: Duration) {
        if let Ok(mut v) = self.0.lock() {
            v.push((name.to_string(), d));
        }
    }

    /// The phases recorded so far, in order.
    pub fn take(&self) -> Vec<(String, Duration)> {
        self.0.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default()
    }
}
