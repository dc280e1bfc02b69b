//! Free lists of the paged old space (V8's `FreeListManyCachedOrigin`, simplified).
//!
//! Sweeping turns the gaps between live objects into free blocks. A block of at least the minimum block size
//! (24 B) goes into the category of the largest size class not above its size: 24, 32, 48 … 256 B in 16-byte
//! steps, then 512 B to 64 KiB by powers of two (24 classes). Smaller gaps cannot hold a free-list node and are
//! wasted until the next sweep.
//!
//! Allocation (a simplification of V8's `FreeListManyCached::Allocate`): search the request's own category (whose
//! blocks may be too small) for a block that fits, looking at no more than [`OWN_CATEGORY_SEARCH_LIMIT`] blocks,
//! then take the first block of any larger category.

/// Size classes: the lower bound of each category.
pub(crate) const SIZE_CLASSES: [u32; 24] = [
    24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 512, 1024, 2048, 4096, 8192, 16384,
    32768, 65536,
];

/// How many blocks of the request's own category an allocation examines before moving to larger categories.
pub(crate) const OWN_CATEGORY_SEARCH_LIMIT: usize = 16;

/// A free block: `size` bytes at `offset` of old-space page `page`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FreeBlock {
    /// The page.
    pub page: u32,
    /// Offset of the block within the page.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// The free lists of one paged space.
#[derive(Debug, Default)]
pub(crate) struct FreeList {
    categories: [Vec<FreeBlock>; SIZE_CLASSES.len()],
    available: u64,
}

fn category(size: u32) -> usize {
    SIZE_CLASSES.partition_point(|&class| class <= size).saturating_sub(1)
}

impl FreeList {
    /// Adds a block; blocks smaller than the smallest class are not kept (the caller counts them as waste).
    pub fn add(&mut self, block: FreeBlock) {
        debug_assert!(block.size >= SIZE_CLASSES[0]);
        self.available += u64::from(block.size);
        self.categories[category(block.size)].push(block);
    }

    /// Removes and returns a block of at least `size` bytes.
    pub fn allocate(&mut self, size: u32) -> Option<FreeBlock> {
        let first = category(size);
        let own = &mut self.categories[first];
        let searched = own.len().min(OWN_CATEGORY_SEARCH_LIMIT);
        let found = (own.len() - searched..own.len()).rev().find(|&i| own[i].size >= size);
        let block = match found {
            Some(i) => own.swap_remove(i),
            None => self.categories[first + 1..].iter_mut().find_map(Vec::pop)?,
        };
        self.available -= u64::from(block.size);
        Some(block)
    }

    /// Bytes in free blocks.
    pub fn available_bytes(&self) -> u64 {
        self.available
    }

    /// Forgets every block (sweeping rebuilds the lists from scratch).
    pub fn clear(&mut self) {
        self.categories.iter_mut().for_each(Vec::clear);
        self.available = 0;
    }

    /// Every block, for the verifier and heap maps.
    pub fn blocks(&self) -> impl Iterator<Item = &FreeBlock> {
        self.categories.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(size: u32) -> FreeBlock {
        FreeBlock { page: 0, offset: 0, size }
    }

    #[test]
    fn categories_are_v8_size_classes() {
        assert_eq!(category(24), 0);
        assert_eq!(category(31), 0);
        assert_eq!(category(32), 1);
        assert_eq!(category(260), 15);
        assert_eq!(category(512), 16);
        assert_eq!(category(1 << 20), 23);
    }

    #[test]
    fn allocation_takes_a_fitting_block_from_its_category_first() {
        let mut list = FreeList::default();
        list.add(block(48));
        list.add(block(56));
        list.add(block(4096));
        assert_eq!(list.available_bytes(), 4200);
        assert_eq!(list.allocate(56).unwrap().size, 56, "the 56 B block fits; the 48 B one does not");
        assert_eq!(list.allocate(56).unwrap().size, 4096, "then a larger category");
        assert_eq!(list.allocate(56), None);
        assert_eq!(list.available_bytes(), 48);
        assert_eq!(list.allocate(40).unwrap().size, 48);
    }

    #[test]
    fn clear_forgets_everything() {
        let mut list = FreeList::default();
        list.add(block(100));
        list.clear();
        assert_eq!(list.available_bytes(), 0);
        assert_eq!(list.blocks().count(), 0);
    }
}
