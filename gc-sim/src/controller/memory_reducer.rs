//! The memory reducer (V8's `memory-reducer.cc`): after start-up, and when the heap has grown since its last run,
//! it waits for the program to go quiet and then starts memory-reducing mark-compacts (incremental marking with the
//! reduce-memory flag: ` (reduce)` in `--trace-gc`), up to three in a row.
//!
//! A state machine over three events: a *timer* (its time came), a *mark-compact* ended, and *possible garbage*
//! (the old generation grew by a megabyte before the first mark-compact, `Heap::NotifyOldGenerationExpansion`).

/// The timer's delay after start-up notice and after a mark-compact (`kLongDelayMs`, also
/// `--gc-memory-reducer-start-delay-ms`' default).
pub(crate) const LONG_DELAY_MS: f64 = 8_000.0;
/// The delay between two reducing mark-compacts of one run (`kShortDelayMs`).
pub(crate) const SHORT_DELAY_MS: f64 = 500.0;
/// The watchdog: a run starts even without a quiet program once this long passed since the last mark-compact
/// (`kWatchdogDelayMs`).
pub(crate) const WATCHDOG_DELAY_MS: f64 = 100_000.0;
/// Reducing mark-compacts per run (`kMaxNumberOfGCs`).
pub(crate) const MAX_NUMBER_OF_GCS: u32 = 3;
/// After a run, a mark-compact wakes the reducer once committed old-generation memory grew by this factor ...
pub(crate) const COMMITTED_MEMORY_FACTOR: f64 = 1.1;
/// ... and by at least this many bytes (`kCommittedMemoryDelta`).
pub(crate) const COMMITTED_MEMORY_DELTA: u64 = 10 * 1024 * 1024;
/// Every timer fires this much after its delay (`kSlackMs`).
pub(crate) const TIMER_SLACK_MS: f64 = 100.0;
/// Growth of the old generation's capacity before the first mark-compact that counts as possible garbage
/// (`kMemoryReducerActivationThreshold`).
pub(crate) const ACTIVATION_THRESHOLD: u64 = 1024 * 1024;

/// The reducer's state (V8's `MemoryReducer::State`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum ReducerState {
    /// Idle, remembering the committed memory after its last run.
    Done { committed_at_last_run: u64, last_gc_ms: f64 },
    /// Waiting until `next_gc_ms`.
    Wait { started_gcs: u32, next_gc_ms: f64, last_gc_ms: f64 },
    /// A reducing mark-compact was started.
    Run { started_gcs: u32, last_gc_ms: f64 },
}

/// What the heap should do after the reducer saw an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReducerAction {
    Nothing,
    /// Start incremental marking with the reduce-memory flag.
    StartReducingGc,
}

/// The memory reducer.
#[derive(Debug)]
pub(crate) struct MemoryReducer {
    state: ReducerState,
    /// When the posted timer fires: the delay into the wait plus [`TIMER_SLACK_MS`]. A mark-compact during the wait
    /// moves the wait's end but not the timer, which then finds it early and waits the rest.
    timer_ms: Option<f64>,
    /// A run has finished (V8's `kDone`, as opposed to the initial `kUninit`): the heap grows slowly.
    ran: bool,
}

impl Default for MemoryReducer {
    fn default() -> Self {
        MemoryReducer {
            state: ReducerState::Done { committed_at_last_run: 0, last_gc_ms: 0.0 },
            timer_ms: None,
            ran: false,
        }
    }
}

impl MemoryReducer {
    /// The state now.
    #[cfg(test)]
    pub fn state(&self) -> ReducerState {
        self.state
    }

    /// When the timer fires next, if one is posted.
    pub fn timer_due_ms(&self) -> Option<f64> {
        self.timer_ms
    }

    /// Whether the heap should grow slowly (`ShouldGrowHeapSlowly`): a run finished and the reducer rests.
    pub fn should_grow_heap_slowly(&self) -> bool {
        self.ran && matches!(self.state, ReducerState::Done { .. })
    }

    /// Enters `state`; a wait entered from another state posts the timer.
    fn enter(&mut self, state: ReducerState) {
        match state {
            ReducerState::Wait { next_gc_ms, .. } => {
                if !matches!(self.state, ReducerState::Wait { .. }) || self.timer_ms.is_none() {
                    self.timer_ms = Some(next_gc_ms + TIMER_SLACK_MS);
                }
            }
            _ => self.timer_ms = None,
        }
        if matches!(self.state, ReducerState::Run { .. }) && matches!(state, ReducerState::Done { .. }) {
            self.ran = true;
        }
        self.state = state;
    }

    /// Possible garbage (`NotifyPossibleGarbage`): from idle, wait [`LONG_DELAY_MS`].
    pub fn notify_possible_garbage(&mut self, now_ms: f64) {
        if let ReducerState::Done { last_gc_ms, .. } = self.state {
            self.enter(ReducerState::Wait { started_gcs: 0, next_gc_ms: now_ms + LONG_DELAY_MS, last_gc_ms });
        }
    }

    /// A mark-compact ended (`NotifyMarkCompact`). `committed` is the old generation's committed memory after it;
    /// `likely_to_collect_more` says whether another one would free more.
    pub fn notify_mark_compact(&mut self, now_ms: f64, committed: u64, likely_to_collect_more: bool) {
        let state = match self.state {
            ReducerState::Done { committed_at_last_run, last_gc_ms } => {
                let threshold = ((committed_at_last_run as f64 * COMMITTED_MEMORY_FACTOR) as u64)
                    .max(committed_at_last_run + COMMITTED_MEMORY_DELTA);
                if committed < threshold {
                    ReducerState::Done { committed_at_last_run, last_gc_ms }
                } else {
                    ReducerState::Wait { started_gcs: 0, next_gc_ms: now_ms + LONG_DELAY_MS, last_gc_ms: now_ms }
                }
            }
            ReducerState::Wait { started_gcs, .. } => {
                ReducerState::Wait { started_gcs, next_gc_ms: now_ms + LONG_DELAY_MS, last_gc_ms: now_ms }
            }
            ReducerState::Run { started_gcs, .. } => {
                if started_gcs < MAX_NUMBER_OF_GCS && (likely_to_collect_more || started_gcs == 1) {
                    ReducerState::Wait { started_gcs, next_gc_ms: now_ms + SHORT_DELAY_MS, last_gc_ms: now_ms }
                } else {
                    ReducerState::Done { committed_at_last_run: committed, last_gc_ms: now_ms }
                }
            }
        };
        self.enter(state);
    }

    /// The timer fired at `now_ms`. `quiet`: the program allocates slowly, or the heap optimizes for memory;
    /// `can_start`: no marking runs. Returns whether to start a reducing mark-compact.
    pub fn notify_timer(&mut self, now_ms: f64, quiet: bool, can_start: bool, committed: u64) -> ReducerAction {
        self.timer_ms = None;
        let ReducerState::Wait { started_gcs, next_gc_ms, last_gc_ms } = self.state else {
            return ReducerAction::Nothing;
        };
        if started_gcs >= MAX_NUMBER_OF_GCS {
            self.enter(ReducerState::Done { committed_at_last_run: committed, last_gc_ms });
            return ReducerAction::Nothing;
        }
        let watchdog = last_gc_ms != 0.0 && now_ms > last_gc_ms + WATCHDOG_DELAY_MS;
        if can_start && (quiet || watchdog) {
            if next_gc_ms <= now_ms {
                self.enter(ReducerState::Run { started_gcs: started_gcs + 1, last_gc_ms });
                return ReducerAction::StartReducingGc;
            }
            // Woken early (a mark-compact moved the wait's end): wait the rest.
            self.timer_ms = Some(next_gc_ms + TIMER_SLACK_MS);
        } else {
            let next_gc_ms = now_ms + LONG_DELAY_MS;
            self.state = ReducerState::Wait { started_gcs, next_gc_ms, last_gc_ms };
            self.timer_ms = Some(next_gc_ms + TIMER_SLACK_MS);
        }
        ReducerAction::Nothing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_up_garbage_gives_two_reducing_gcs_then_rest() {
        let mut r = MemoryReducer::default();
        r.notify_possible_garbage(100.0);
        assert_eq!(r.timer_due_ms(), Some(8_200.0), "8 s and the timer's slack");
        assert_eq!(r.notify_timer(8_200.0, true, true, 0), ReducerAction::StartReducingGc);
        assert!(!r.should_grow_heap_slowly());
        // The first reducing GC always asks for a second, half a second later.
        r.notify_mark_compact(8_210.0, 8 << 20, false);
        assert_eq!(r.timer_due_ms(), Some(8_810.0));
        assert_eq!(r.notify_timer(8_810.0, true, true, 0), ReducerAction::StartReducingGc);
        // The second freed little: done, and the heap grows slowly from now on.
        r.notify_mark_compact(8_820.0, 7 << 20, false);
        assert!(
            matches!(r.state(), ReducerState::Done { committed_at_last_run, .. } if committed_at_last_run == 7 << 20)
        );
        assert_eq!(r.timer_due_ms(), None);
        assert!(r.should_grow_heap_slowly());
    }

    #[test]
    fn a_busy_program_postpones_the_run_and_the_watchdog_ends_the_wait() {
        let mut r = MemoryReducer::default();
        r.notify_mark_compact(1_000.0, 20 << 20, false);
        assert_eq!(r.timer_due_ms(), Some(9_100.0));
        assert_eq!(r.notify_timer(9_100.0, false, true, 0), ReducerAction::Nothing);
        assert_eq!(r.timer_due_ms(), Some(17_200.0));
        // Marking already runs: cannot start.
        assert_eq!(r.notify_timer(17_200.0, true, false, 0), ReducerAction::Nothing);
        let mut fired = None;
        for _ in 0..20 {
            let t = r.timer_due_ms().unwrap();
            if r.notify_timer(t, false, true, 0) == ReducerAction::StartReducingGc {
                fired = Some(t);
                break;
            }
        }
        let t = fired.expect("the watchdog starts a run");
        assert!(t > 1_000.0 + WATCHDOG_DELAY_MS && t < 1_000.0 + WATCHDOG_DELAY_MS + 8_200.0, "{t}");
    }

    #[test]
    fn after_a_run_only_substantial_growth_wakes_the_reducer() {
        let mut r = MemoryReducer {
            state: ReducerState::Done { committed_at_last_run: 20 << 20, last_gc_ms: 0.0 },
            ..MemoryReducer::default()
        };
        r.notify_mark_compact(1_000.0, 25 << 20, false);
        assert!(matches!(r.state(), ReducerState::Done { .. }), "less than 10 MiB more");
        r.notify_mark_compact(2_000.0, 30 << 20, false);
        assert_eq!(r.timer_due_ms(), Some(10_100.0));
        // A mark-compact while waiting moves the wait's end; the timer finds it early and waits the rest.
        r.notify_mark_compact(5_000.0, 30 << 20, false);
        assert_eq!(r.timer_due_ms(), Some(10_100.0));
        assert_eq!(r.notify_timer(10_100.0, true, true, 0), ReducerAction::Nothing);
        assert_eq!(r.timer_due_ms(), Some(13_100.0));
        assert_eq!(r.notify_timer(13_100.0, true, true, 0), ReducerAction::StartReducingGc);
    }
}
