//! When each tag's objects were promoted: the collectors record every promotion of a tagged object here (an index
//! into a vector by label, so the cost per promoted object is one branch and an addition), and
//! [`Heap::tag_promotion`](crate::Heap::tag_promotion) reads it. (The ages of live objects are an analysis:
//! [`analysis::ages`](crate::analysis::ages).)

use serde::{Deserialize, Serialize};

use crate::object::Label;

/// When a tag's objects were promoted to the old generation, by scavenges and mark-compacts.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TagPromotion {
    /// Number of the first collection that promoted one of the tag's objects (see
    /// [`GcEvent::number`](crate::GcEvent::number)).
    pub first_gc: u64,
    /// Simulated time when that collection started, ms.
    pub first_ms: f64,
    /// Number of the last one.
    pub last_gc: u64,
    /// Simulated time when that one started, ms.
    pub last_ms: f64,
    /// Objects promoted.
    pub objects: u64,
    /// Bytes promoted.
    pub bytes: u64,
}

/// Promotions of tagged objects, indexed by label number.
#[derive(Debug, Default)]
pub(crate) struct TagPromotions {
    by_label: Vec<Option<TagPromotion>>,
}

impl TagPromotions {
    /// Records that collection `gc`, started at `start_ms`, promoted an object of `size` bytes tagged `tag`.
    #[inline]
    pub fn record(&mut self, tag: Option<Label>, size: u32, gc: u64, start_ms: f64) {
        let Some(tag) = tag else { return };
        let index = tag.index();
        if index >= self.by_label.len() {
            self.by_label.resize(index + 1, None);
        }
        let entry = self.by_label[index].get_or_insert(TagPromotion {
            first_gc: gc,
            first_ms: start_ms,
            last_gc: gc,
            last_ms: start_ms,
            objects: 0,
            bytes: 0,
        });
        entry.last_gc = gc;
        entry.last_ms = start_ms;
        entry.objects += 1;
        entry.bytes += u64::from(size);
    }

    /// The promotions of `tag`'s objects so far.
    pub fn get(&self, tag: Label) -> Option<TagPromotion> {
        self.by_label.get(tag.index()).copied().flatten()
    }
}
