//! The young generation's semi-space new space (V8's `SemiSpaceNewSpace`).
//!
//! Two semi-spaces of equal capacity: the mutator bump-allocates in to-space, page after page; a scavenge flips
//! the two, copies survivors into the new to-space and leaves everything else behind in from-space. The page
//! geometry and the survivor LAB rule are V8's (`docs/v8-sources.md#page-geometry`, `#survivor-labs`):
//!
//! * a page has `area_size` allocatable bytes starting at `area_start`; an object never straddles pages, and the
//!   tail of a page too small for the next object is lost until the next flip;
//! * the scavenger copies survivors into 32 KiB LABs taken whole from the page (adjacent LABs merge), so a
//!   to-space page takes at most `area_size / lab_size` LABs of survivors; survivors over 8 KiB are placed
//!   individually; mutator allocation resumes right after the last copied object.

use crate::config::{HeapConfig, PageGeometry};
use crate::object::{Address, ObjectId, MAX_EPOCH};

/// The semi-space pair.
#[derive(Debug)]
pub(crate) struct NewSpace {
    geometry: PageGeometry,
    /// Pages per semi-space now.
    pub capacity_pages: u32,
    /// Pages per semi-space at start (and the floor when shrinking).
    pub initial_pages: u32,
    /// Most pages per semi-space.
    pub max_pages: u32,
    /// Current to-space page of the linear allocation area.
    page: u32,
    /// Allocation top within `page`.
    top: u32,
    /// Number of flips so far, modulo `MAX_EPOCH + 1`; young objects of another epoch are dead.
    pub epoch: u32,
    /// Objects in to-space, in address order.
    pub objects: Vec<ObjectId>,
    /// Object bytes in to-space.
    pub used_bytes: u64,
    /// Where survivors of the last scavenge end: objects below it have survived once (V8's age mark).
    pub age_mark: Address,
    /// Bytes that survived scavenges since the semi-space last grew.
    pub survived_since_last_expansion: u64,
}

/// The scavenger's current local allocation buffer in to-space.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SurvivorLab {
    page: u32,
    top: u32,
    limit: u32,
}

impl NewSpace {
    pub fn new(config: &HeapConfig) -> Self {
        let pages = |bytes| u32::try_from(config.semi_space_pages(bytes)).unwrap_or(u32::MAX);
        NewSpace {
            geometry: config.page,
            capacity_pages: pages(config.min_semi_space_size),
            initial_pages: pages(config.min_semi_space_size),
            max_pages: pages(config.max_semi_space_size),
            page: 0,
            top: config.page.area_start,
            epoch: 0,
            objects: Vec::new(),
            used_bytes: 0,
            age_mark: Address { page: 0, offset: config.page.area_start },
            survived_since_last_expansion: 0,
        }
    }

    /// Bytes a semi-space can hold (pages × page area).
    pub fn capacity_bytes(&self) -> u64 {
        u64::from(self.capacity_pages) * u64::from(self.geometry.area_size)
    }

    /// Bytes of memory the two semi-spaces occupy.
    pub fn committed_bytes(&self) -> u64 {
        2 * u64::from(self.capacity_pages) * u64::from(self.geometry.page_size)
    }

    #[cfg(test)]
    /// Bytes of to-space already passed by the allocation top (objects and lost page tails).
    pub fn allocated_area_bytes(&self) -> u64 {
        u64::from(self.page) * u64::from(self.geometry.area_size) + u64::from(self.top - self.geometry.area_start)
    }

    /// Bump-allocates `size` bytes for the mutator; `None` is V8's allocation failure.
    #[inline]
    pub fn allocate(&mut self, size: u32) -> Option<Address> {
        let end = self.geometry.area_end();
        if size <= end - self.top {
            let address = self.address(self.page, self.top);
            self.top += size;
            return Some(address);
        }
        if self.page + 1 < self.capacity_pages && size <= self.geometry.area_size {
            self.page += 1;
            self.top = self.geometry.area_start + size;
            return Some(self.address(self.page, self.geometry.area_start));
        }
        None
    }

    /// Flips the semi-spaces: returns the from-space object list and starts an empty to-space.
    pub fn flip(&mut self) -> Vec<ObjectId> {
        self.epoch = if self.epoch == MAX_EPOCH { 0 } else { self.epoch + 1 };
        self.page = 0;
        self.top = self.geometry.area_start;
        self.used_bytes = 0;
        std::mem::take(&mut self.objects)
    }

    /// Places a survivor of `size` bytes in to-space using the LAB rule; `None` when to-space is full.
    pub fn allocate_survivor(&mut self, size: u32, lab: &mut SurvivorLab, config: &HeapConfig) -> Option<Address> {
        let g = self.geometry;
        if size > config.max_lab_object_size {
            // Large survivors are allocated individually from the linear area.
            let address = self.allocate(size)?;
            return Some(address);
        }
        if lab.page == self.page && lab.limit - lab.top >= size && lab.limit != 0 {
            let address = self.address(lab.page, lab.top);
            lab.top += size;
            return Some(address);
        }
        // A new LAB: whole, from this page if it still has room for one, else from the next page.
        let lab_size = config.lab_size;
        if g.area_end() - self.top < lab_size {
            if self.page + 1 >= self.capacity_pages {
                return None;
            }
            self.page += 1;
            self.top = g.area_start;
        }
        if lab.page == self.page && lab.limit == self.top && lab.limit != 0 {
            // Adjacent to the previous LAB: the two merge.
            lab.limit += lab_size;
        } else {
            *lab = SurvivorLab { page: self.page, top: self.top, limit: self.top + lab_size };
        }
        self.top = lab.limit;
        let address = self.address(lab.page, lab.top);
        lab.top += size;
        Some(address)
    }

    /// Ends survivor copying: the unused rest of the last LAB goes back to the mutator, and the age mark is set.
    pub fn finish_survivors(&mut self, lab: &SurvivorLab) {
        if lab.limit != 0 && lab.page == self.page && lab.limit == self.top {
            self.top = lab.top;
        }
        self.age_mark = self.address(self.page, self.top);
    }

    /// The address of `offset` in page `page` of the current to-space. The two semi-spaces are distinct memory:
    /// semi-space 0 has pages `0..max_pages`, semi-space 1 pages `max_pages..2 * max_pages`.
    #[inline]
    pub(crate) fn address(&self, page: u32, offset: u32) -> Address {
        Address { page: (self.epoch & 1) * self.max_pages + page, offset }
    }

    /// Empties new space after a full GC has promoted every survivor.
    pub fn reset_after_full_gc(&mut self) {
        self.flip();
        self.age_mark = self.address(0, self.geometry.area_start);
    }

    /// Sets the capacity in pages (growing or shrinking); never below what to-space already uses.
    pub fn set_capacity_pages(&mut self, pages: u32) {
        self.capacity_pages = pages.clamp(self.page + 1, self.max_pages.max(self.page + 1));
    }

    /// The linear allocation area's page index in to-space (0-based) and its top.
    pub fn allocation_position(&self) -> (u32, u32) {
        (self.page, self.top)
    }

    #[cfg(test)]
    /// Current allocation position.
    pub fn top(&self) -> Address {
        self.address(self.page, self.top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MIB;

    fn space() -> (NewSpace, HeapConfig) {
        let config = HeapConfig { min_semi_space_size: MIB, ..HeapConfig::default() };
        (NewSpace::new(&config), config)
    }

    #[test]
    fn a_one_mib_semi_space_holds_four_page_areas() {
        let (mut s, _) = space();
        assert_eq!(s.capacity_bytes(), 1_030_880);
        let mut n = 0u64;
        while s.allocate(48).is_some() {
            n += 1;
        }
        // 257,720 / 48 = 5,369 objects per page (8 B lost at each page end).
        assert_eq!(n, 4 * 5_369);
    }

    #[test]
    fn objects_never_straddle_pages() {
        let (mut s, _) = space();
        let a = s.allocate(257_000).unwrap();
        let b = s.allocate(1_000).unwrap();
        assert_eq!((a.page, b.page), (0, 1));
        assert_eq!(b.offset, 4_424);
    }

    #[test]
    fn survivor_labs_waste_the_page_tail_as_measured() {
        // 4,800 survivors of 48 B: 4,778 fit in the 7 LABs of page 0 (229,344 B), 28,376 B of it are lost.
        let (mut s, config) = space();
        s.flip();
        let mut lab = SurvivorLab::default();
        let mut pages = [0u32; 2];
        for _ in 0..4_800 {
            let a = s.allocate_survivor(48, &mut lab, &config).unwrap();
            pages[(a.page - s.max_pages) as usize] += 1;
        }
        assert_eq!(pages, [4_778, 22]);
        s.finish_survivors(&lab);
        // Mutator allocation resumes right after the last copied object.
        assert_eq!(s.top(), Address { page: s.max_pages + 1, offset: 4_424 + 22 * 48 });
        assert_eq!(s.allocated_area_bytes() - 4_800 * 48, 257_720 - 229_344);
    }

    #[test]
    fn survivors_that_fit_seven_labs_waste_nothing() {
        let (mut s, config) = space();
        s.flip();
        let mut lab = SurvivorLab::default();
        for _ in 0..4_700 {
            assert_eq!(s.allocate_survivor(48, &mut lab, &config).unwrap().page, s.max_pages, "page 0 of semi-space 1");
        }
        s.finish_survivors(&lab);
        assert_eq!(s.top().offset, 4_424 + 225_600);
    }

    #[test]
    fn to_space_overflow_reports_failure() {
        let (mut s, config) = space();
        s.flip();
        let mut lab = SurvivorLab::default();
        let mut copied = 0u64;
        while s.allocate_survivor(4096, &mut lab, &config).is_some() {
            copied += 4096;
        }
        assert_eq!(copied, 4 * 7 * 32 * 1024, "4 pages of 7 LABs");
    }
}
