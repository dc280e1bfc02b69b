//! Strong roots: named root sets (like V8's global handles or Node's timer list) and handle scopes.

use std::collections::{BTreeMap, HashMap};

use crate::object::ObjectId;

/// One named root set: a multiset of handles, so rooting an object twice needs two removals.
#[derive(Debug, Default)]
pub(crate) struct RootSet {
    pub name: String,
    /// Handle -> how many times it is held. Ordered so that every collection visits roots in the same order.
    pub handles: BTreeMap<ObjectId, u32>,
}

/// All named root sets of a heap.
#[derive(Debug, Default)]
pub(crate) struct RootSets {
    sets: Vec<RootSet>,
    by_name: HashMap<String, usize>,
}

impl RootSets {
    /// Adds one handle to `object` in the set `name`, creating the set on first use.
    pub fn add(&mut self, name: &str, object: ObjectId) {
        let index = match self.by_name.get(name) {
            Some(&i) => i,
            None => {
                self.sets.push(RootSet { name: name.to_owned(), handles: BTreeMap::new() });
                self.by_name.insert(name.to_owned(), self.sets.len() - 1);
                self.sets.len() - 1
            }
        };
        *self.sets[index].handles.entry(object).or_insert(0) += 1;
    }

    /// Removes one handle; false when the set does not hold `object`.
    pub fn remove(&mut self, name: &str, object: ObjectId) -> bool {
        let Some(&index) = self.by_name.get(name) else { return false };
        let handles = &mut self.sets[index].handles;
        match handles.get_mut(&object) {
            Some(count) if *count > 1 => *count -= 1,
            Some(_) => {
                handles.remove(&object);
            }
            None => return false,
        }
        true
    }

    /// How many handles the set `name` holds on `object`.
    pub fn count(&self, name: &str, object: ObjectId) -> u32 {
        self.by_name.get(name).and_then(|&i| self.sets[i].handles.get(&object)).copied().unwrap_or(0)
    }

    /// Every root set, in order of creation.
    pub fn sets(&self) -> &[RootSet] {
        &self.sets
    }
}

/// The stack of open handle scopes (V8's `HandleScope`): each holds every object allocated while it is the
/// innermost open scope, until it exits.
#[derive(Debug, Default)]
pub(crate) struct HandleScopes {
    /// Index into `handles` where each open scope starts.
    starts: Vec<usize>,
    handles: Vec<ObjectId>,
}

impl HandleScopes {
    /// Opens a scope.
    pub fn enter(&mut self) {
        self.starts.push(self.handles.len());
    }

    /// Closes the innermost scope, dropping its handles; false when none is open.
    pub fn exit(&mut self) -> bool {
        match self.starts.pop() {
            Some(start) => {
                self.handles.truncate(start);
                true
            }
            None => false,
        }
    }

    /// Records a freshly allocated object in the innermost scope, if one is open.
    #[inline]
    pub fn hold(&mut self, object: ObjectId) {
        if !self.starts.is_empty() {
            self.handles.push(object);
        }
    }

    /// Number of open scopes.
    pub fn depth(&self) -> usize {
        self.starts.len()
    }

    /// Every handle of every open scope.
    pub fn handles(&self) -> &[ObjectId] {
        &self.handles
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotmap::SlotMap;

    #[test]
    fn root_sets_are_multisets() {
        let mut ids = SlotMap::<ObjectId, ()>::with_key();
        let a = ids.insert(());
        let mut roots = RootSets::default();
        roots.add("timers", a);
        roots.add("timers", a);
        assert_eq!(roots.count("timers", a), 2);
        assert!(roots.remove("timers", a));
        assert_eq!(roots.count("timers", a), 1);
        assert!(roots.remove("timers", a));
        assert!(!roots.remove("timers", a), "a third removal has nothing to remove");
        assert!(!roots.remove("globals", a), "an unknown set holds nothing");
    }

    #[test]
    fn scopes_hold_what_was_allocated_inside_them() {
        let mut ids = SlotMap::<ObjectId, ()>::with_key();
        let (a, b, c) = (ids.insert(()), ids.insert(()), ids.insert(()));
        let mut scopes = HandleScopes::default();
        scopes.hold(a); // no scope open: not held
        scopes.enter();
        scopes.hold(b);
        scopes.enter();
        scopes.hold(c);
        assert_eq!(scopes.handles(), &[b, c]);
        assert!(scopes.exit());
        assert_eq!(scopes.handles(), &[b]);
        assert!(scopes.exit());
        assert!(!scopes.exit());
        assert!(scopes.handles().is_empty());
    }
}
