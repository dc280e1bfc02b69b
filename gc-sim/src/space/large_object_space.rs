//! Large-object spaces (V8's `LargeObjectSpace` and `NewLargeObjectSpace`).
//!
//! An object larger than the large-object threshold (128 KiB) gets a page of its own. It is never copied: a
//! young large object that survives a scavenge is promoted by moving its page to the old large-object space, and
//! a dead one is freed whole, page and all.

use crate::config::PageGeometry;
use crate::object::ObjectId;

/// Large pages are committed in whole OS pages.
const COMMIT_PAGE_SIZE: u64 = 4096;

/// One large-object space: the list of its objects and its byte counts.
#[derive(Debug, Default)]
pub(crate) struct LargeObjectSpace {
    pub objects: Vec<ObjectId>,
    pub used_bytes: u64,
    pub committed_bytes: u64,
}

/// Bytes a large page for an object of `size` bytes occupies: the page header plus the object, in whole OS pages.
pub(crate) fn large_page_bytes(geometry: &PageGeometry, size: u32) -> u64 {
    (u64::from(geometry.area_start) + u64::from(size)).div_ceil(COMMIT_PAGE_SIZE) * COMMIT_PAGE_SIZE
}

impl LargeObjectSpace {
    /// Adds an object of `size` bytes.
    pub fn add(&mut self, id: ObjectId, size: u32, geometry: &PageGeometry) {
        self.objects.push(id);
        self.used_bytes += u64::from(size);
        self.committed_bytes += large_page_bytes(geometry, size);
    }

    /// Accounts for an object of `size` bytes leaving the space (the caller rebuilds `objects`).
    pub fn remove_bytes(&mut self, size: u32, geometry: &PageGeometry) {
        self.used_bytes -= u64::from(size);
        self.committed_bytes -= large_page_bytes(geometry, size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_page_is_header_plus_object_in_os_pages() {
        let g = PageGeometry::default();
        assert_eq!(large_page_bytes(&g, 200_000), 204_800); // 4,424 + 200,000 = 204,424 -> 50 OS pages
    }
}
