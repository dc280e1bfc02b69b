//! Shared helpers of the integration tests.
#![allow(dead_code)]

use gc_sim::{HeapConfig, PageGeometry, KIB, MIB};

/// A heap with 4 KiB pages so that a few hundred small objects fill new space and trigger collections.
pub fn tiny_config() -> HeapConfig {
    HeapConfig {
        page: PageGeometry { page_size: 4096, area_start: 64, area_size: 4032 },
        min_semi_space_size: 8 * KIB,
        max_semi_space_size: 32 * KIB,
        large_object_threshold: 2048,
        lab_size: 1024,
        max_lab_object_size: 256,
        max_old_generation_size: 64 * MIB,
        ..HeapConfig::default()
    }
}
