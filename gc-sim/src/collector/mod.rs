//! The two collectors: the [scavenger] (young generation, V8's `scavenger.cc`) and [mark-compact](mark_compact) (both
//! generations, V8's `mark-compact.cc`). Each works on split borrows of the heap's parts, returns its counters, and
//! leaves policy (when to run, limits, resizing) to the [heap controller](crate::controller) and the event to the
//! [GC tracer](crate::gc_tracer).

pub(crate) mod mark_compact;
pub(crate) mod scavenger;
