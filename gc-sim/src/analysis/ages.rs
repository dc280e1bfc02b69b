//! How old the live objects are. An object's age is the number of scavenges it survived, from its header, which V8
//! tracks with its age mark (copied on the first survived scavenge, promoted on the second).

use serde::{Deserialize, Serialize};

use crate::analysis::object_graph::ObjectGraph;

/// Live objects that survived the same number of scavenges, by generation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeBucket {
    /// Scavenges survived (a mark-compact's promotion also counts as one).
    pub age: u8,
    /// Live objects of that age in the young generation.
    pub young_objects: u64,
    /// Their bytes.
    pub young_bytes: u64,
    /// Live objects of that age in the old generation.
    pub old_objects: u64,
    /// Their bytes.
    pub old_bytes: u64,
}

impl ObjectGraph<'_> {
    /// Live objects by age (scavenges survived) and generation, youngest first. One pass over the graph's objects.
    pub fn ages(&self) -> Vec<AgeBucket> {
        let mut buckets: Vec<AgeBucket> = Vec::new();
        for o in self.headers() {
            let age = usize::from(o.age());
            if age >= buckets.len() {
                buckets.resize_with(age + 1, AgeBucket::default);
            }
            let b = &mut buckets[age];
            if o.space().is_young() {
                b.young_objects += 1;
                b.young_bytes += u64::from(o.size);
            } else {
                b.old_objects += 1;
                b.old_bytes += u64::from(o.size);
            }
        }
        for (age, b) in buckets.iter_mut().enumerate() {
            b.age = age as u8;
        }
        buckets.retain(|b| b.young_objects + b.old_objects > 0);
        buckets
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::object_graph::ObjectGraph;
    use crate::{Collection, Heap, Labels};

    #[test]
    fn ages_count_scavenges_survived() {
        let mut heap = Heap::default();
        let old = heap.alloc(64, 0, Labels::NONE).unwrap();
        heap.add_root("globals", old).unwrap();
        heap.collect(Collection::Minor).unwrap();
        let once = heap.alloc(32, 0, Labels::NONE).unwrap();
        heap.add_root("globals", once).unwrap();
        heap.collect(Collection::Minor).unwrap();
        let fresh = heap.alloc(8, 0, Labels::NONE).unwrap();
        heap.add_root("globals", fresh).unwrap();
        let ages = ObjectGraph::new(&heap).ages();
        let young: Vec<_> = ages.iter().map(|b| (b.age, b.young_bytes, b.old_bytes)).collect();
        assert_eq!(young, [(0, 8, 0), (1, 32, 0), (2, 0, 64)]);
    }
}
