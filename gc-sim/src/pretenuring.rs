//! Allocation-site pretenuring (V8's `pretenuring-handler.cc`): the objects an allocation site makes are counted
//! when they are allocated and when a scavenge finds them alive for the first time (V8's allocation mementos). When
//! at least [`MIN_MEMENTOS`] were made since the last scavenge and [`PRETENURE_RATIO`] of them survived it, and that
//! scavenge ran with new space at its largest, the site is *tenured*: from then on its objects are allocated in the
//! old generation directly, as `pretenured` ones.
//!
//! A site is the `site` label of an object; objects without one are never pretenured. V8 can also take a decision
//! back ("deoptimize" a tenured site whose objects stop surviving); gc-sim keeps it.

use crate::label_table::LabelTable;
use crate::object::{Label, LabelSet};

/// Fewest mementos made at a site before its survival is judged (V8's `kMinMementoCount`).
pub(crate) const MIN_MEMENTOS: u32 = 100;
/// Share of a site's objects that must survive a scavenge for it to be tenured (`kPretenureRatio`, 85 %).
pub(crate) const PRETENURE_RATIO: f64 = 0.85;

/// Per-site counters since the last scavenge, and the decisions.
#[derive(Debug, Default)]
pub(crate) struct PretenuringFeedback {
    /// By label index: objects allocated, objects found alive, tenured.
    sites: Vec<SiteFeedback>,
    /// Labels whose counters are not zero.
    active: Vec<usize>,
}

#[derive(Clone, Copy, Debug, Default)]
struct SiteFeedback {
    created: u32,
    found: u32,
    tenured: bool,
}

impl PretenuringFeedback {
    /// Whether objects of `site` are allocated in the old generation; otherwise counts one more allocated there.
    #[inline]
    pub fn allocate(&mut self, labels: &LabelTable, site: Label) -> bool {
        let Some(index) = labels.index(site) else { return false };
        if index >= self.sites.len() {
            self.sites.resize(index + 1, SiteFeedback::default());
        }
        let feedback = &mut self.sites[index];
        if feedback.tenured {
            return true;
        }
        if feedback.created == 0 && feedback.found == 0 {
            self.active.push(index);
        }
        feedback.created = feedback.created.saturating_add(1);
        false
    }

    /// A scavenge found an object of the label set `set` alive for the first time.
    #[inline]
    pub fn found(&mut self, labels: &LabelTable, set: LabelSet) {
        let Some(site) = labels.resolve(set).site else { return };
        let Some(index) = labels.index(site) else { return };
        if let Some(feedback) = self.sites.get_mut(index) {
            if feedback.created == 0 && feedback.found == 0 {
                self.active.push(index);
            }
            feedback.found = feedback.found.saturating_add(1);
        }
    }

    /// After a scavenge (V8's `ProcessPretenuringFeedback`): sites with enough mementos whose objects survived are
    /// tenured if new space was at its largest; every counter restarts. Returns how many sites were tenured.
    pub fn digest(&mut self, new_space_at_maximum: bool) -> usize {
        let mut tenured = 0;
        for index in self.active.drain(..) {
            let feedback = &mut self.sites[index];
            if new_space_at_maximum
                && feedback.created >= MIN_MEMENTOS
                && f64::from(feedback.found) >= PRETENURE_RATIO * f64::from(feedback.created)
                && !feedback.tenured
            {
                feedback.tenured = true;
                tenured += 1;
            }
            feedback.created = 0;
            feedback.found = 0;
        }
        tenured
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Labels;

    #[test]
    fn a_site_whose_objects_survive_is_tenured_only_after_a_scavenge_at_the_largest_new_space() {
        let mut labels = LabelTable::new(7);
        let site = labels.intern("server.js:34");
        let set = labels.set_of(Labels { site: Some(site), ..Labels::NONE });
        let mut p = PretenuringFeedback::default();
        for _ in 0..100 {
            assert!(!p.allocate(&labels, site));
        }
        for _ in 0..85 {
            p.found(&labels, set);
        }
        assert_eq!(p.digest(false), 0, "new space could still grow");
        for _ in 0..100 {
            assert!(!p.allocate(&labels, site));
        }
        for _ in 0..84 {
            p.found(&labels, set);
        }
        assert_eq!(p.digest(true), 0, "84 % survived");
        for _ in 0..99 {
            p.allocate(&labels, site);
        }
        for _ in 0..99 {
            p.found(&labels, set);
        }
        assert_eq!(p.digest(true), 0, "fewer than 100 mementos");
        for _ in 0..100 {
            p.allocate(&labels, site);
        }
        for _ in 0..85 {
            p.found(&labels, set);
        }
        assert_eq!(p.digest(true), 1);
        assert!(p.allocate(&labels, site), "tenured: allocated old from now on");
    }
}
