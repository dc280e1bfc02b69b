//! The heap's label table: interned label strings and the distinct label combinations object headers point to.

use std::num::NonZeroU32;

use rustc_hash::FxHashMap;

use crate::object::{Label, LabelSet, Labels};

/// Interned [`Label`]s of one heap and the label combinations ([`LabelSet`]) in use.
#[derive(Debug)]
pub(crate) struct LabelTable {
    /// The identity of the heap, carried by its labels so that another heap's are refused.
    heap: u32,
    names: Vec<String>,
    ids: FxHashMap<String, Label>,
    /// The distinct label combinations of objects, indexed by [`LabelSet`]; entry 0 is [`Labels::NONE`].
    sets: Vec<Labels>,
    set_ids: FxHashMap<Labels, LabelSet>,
    /// Whether any label combination names a site.
    sites: bool,
}

impl LabelTable {
    /// An empty table for the heap `heap`.
    pub fn new(heap: u32) -> LabelTable {
        LabelTable {
            heap,
            names: Vec::new(),
            ids: FxHashMap::default(),
            sets: vec![Labels::NONE],
            set_ids: FxHashMap::default(),
            sites: false,
        }
    }

    /// Interns `name`.
    pub fn intern(&mut self, name: &str) -> Label {
        if let Some(&label) = self.ids.get(name) {
            return label;
        }
        self.names.push(name.to_owned());
        let number = u32::try_from(self.names.len()).ok().and_then(NonZeroU32::new);
        let label = Label { number: number.expect("fewer than 2^32 labels, numbered from 1"), heap: self.heap };
        self.ids.insert(name.to_owned(), label);
        label
    }

    /// The label `name` if it was interned.
    pub fn find(&self, name: &str) -> Option<Label> {
        self.ids.get(name).copied()
    }

    /// The index of `label` in this table, or `None` for a label of another heap.
    #[inline]
    pub fn index(&self, label: Label) -> Option<usize> {
        (label.heap == self.heap && label.index() < self.names.len()).then(|| label.index())
    }

    /// The string of `label`, or `None` for a label of another heap.
    pub fn name(&self, label: Label) -> Option<&str> {
        self.index(label).map(|i| self.names[i].as_str())
    }

    /// Number of labels interned.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// The string of the label numbered `index` (0-based).
    pub fn name_at(&self, index: usize) -> &str {
        &self.names[index]
    }

    /// The index of a label combination, interned on first use.
    #[inline]
    pub fn set_of(&mut self, labels: Labels) -> LabelSet {
        if labels == Labels::NONE {
            return LabelSet::NONE;
        }
        if let Some(&set) = self.set_ids.get(&labels) {
            return set;
        }
        let set = LabelSet(u32::try_from(self.sets.len()).expect("fewer than 2^32 label combinations"));
        self.sites |= labels.site.is_some();
        self.sets.push(labels);
        self.set_ids.insert(labels, set);
        set
    }

    /// The labels a header's combination stands for.
    /// Whether any object was given a `site` label.
    #[inline]
    pub fn has_sites(&self) -> bool {
        self.sites
    }

    #[inline]
    pub fn resolve(&self, set: LabelSet) -> Labels {
        self.sets[set.0 as usize]
    }

    /// Number of distinct label combinations, [`Labels::NONE`] included.
    #[cfg(test)]
    pub fn set_count(&self) -> usize {
        self.sets.len()
    }
}
