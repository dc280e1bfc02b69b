//! The foreground tasks the heap has posted and not yet run (`heap/tasks.rs` runs them).

/// Tasks posted and not yet run.
#[derive(Debug, Default)]
pub(crate) struct PostedTasks {
    /// The scavenge task: new space reached its trigger.
    pub scavenge: bool,
    /// The marking job's start task: the soft marking limit was reached.
    pub start_marking: bool,
    /// New-space allocation left before the scavenge task's observer looks again.
    pub scavenge_observer_left: u64,
    /// When the marking job's task was last posted (while marking, it always is), for its latency.
    pub marking_task_posted_ms: Option<f64>,
    /// The marking job's average latency from posting to running (V8's `AverageTimeToIncrementalMarkingTask`), once
    /// a task has run.
    pub time_to_marking_task_ms: Option<f64>,
}
