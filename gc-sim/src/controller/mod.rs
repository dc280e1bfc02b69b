//! The heap controller: every policy decision of the heap (V8's `heap.cc` limit checks and `heap-controller.cc`).

pub(crate) mod formulas;
