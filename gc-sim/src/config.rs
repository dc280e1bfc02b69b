//! Heap configuration, with the defaults of Node 20 (V8 11.3) on a 64-bit machine with 16 GiB of memory or more.
//!
//! Every size is in bytes. Node's flags take MiB (`--max-semi-space-size=16`); multiply by [`MIB`].

pub use crate::controller::formulas::{KIB, MIB};

/// The geometry of a V8 page, shared by every paged space.
///
/// Defaults are measured on Node 20, x64 (`docs/v8-sources.md#page-geometry`): a 256 KiB page whose first
/// object sits at offset 4,424 and which has 257,720 allocatable bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PageGeometry {
    /// Bytes a page occupies (V8's `kPageSize`, `1 << kPageSizeBits`).
    pub page_size: u32,
    /// Offset of the first object (the page header and the unused start of the page).
    pub area_start: u32,
    /// Allocatable bytes of one page.
    pub area_size: u32,
}

impl PageGeometry {
    /// One past the last allocatable offset.
    pub fn area_end(&self) -> u32 {
        self.area_start + self.area_size
    }
}

impl Default for PageGeometry {
    fn default() -> Self {
        PageGeometry { page_size: 256 * 1024, area_start: 4_424, area_size: 257_720 }
    }
}

/// The smallest page size: an operating-system page (V8's pages are 256 KiB; smaller pages suit small test heaps).
/// Below it, the pages of even a default heap number millions.
pub const MIN_PAGE_SIZE: u32 = 4 * 1024;
/// The largest page size, 1 GiB (V8's pages have been 256 KiB to 1 MiB).
pub const MAX_PAGE_SIZE: u32 = 1 << 30;

/// The most pages a semi-space may have: 4 GiB of V8's 256 KiB pages, far above Node's largest semi-space (64 MiB).
/// A semi-space's pages are committed from the start, and a heap map has a row for each, so this bounds what a
/// configuration alone costs.
pub const MAX_SEMI_SPACE_PAGES: u64 = 1 << 14;

/// Configuration of a simulated heap.
///
/// `HeapConfig::default()` is Node 20 on a 64-bit machine with at least 16 GiB: 1 MiB initial and 16 MiB maximum
/// semi-space, 4096 MiB old generation. Change fields with struct-update syntax:
///
/// ```
/// use gc_sim::{HeapConfig, MIB};
/// let config = HeapConfig { max_semi_space_size: 4 * MIB, max_old_generation_size: 64 * MIB, ..HeapConfig::default() };
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeapConfig {
    /// Page geometry of every space.
    #[serde(deserialize_with = "map_only")]
    pub page: PageGeometry,
    /// Initial semi-space capacity (`--min-semi-space-size`); rounded up to whole pages.
    pub min_semi_space_size: u64,
    /// Maximum semi-space capacity (`--max-semi-space-size`); rounded up to whole pages.
    pub max_semi_space_size: u64,
    /// Factor by which the semi-space grows (`--semi-space-growth-factor`, at least 2 in V8).
    pub semi_space_growth_factor: u32,
    /// Number of scavenges an object survives in new space before the next one promotes it; V8's age mark gives 1
    /// (copied on the first survived scavenge, promoted on the second). 0 promotes every survivor at once.
    pub promotion_age: u8,
    /// Objects larger than this go to large-object space (`kMaxRegularHeapObjectSize`, 128 KiB).
    pub large_object_threshold: u32,
    /// Size of the scavenger's local allocation buffers in to-space (`kLabSize`, 32 KiB).
    pub lab_size: u32,
    /// Survivors larger than this are copied outside LABs (`kMaxLabObjectSize`, 8 KiB).
    pub max_lab_object_size: u32,
    /// Maximum size of the old generation (`--max-old-space-size`): old space plus large-object space.
    pub max_old_generation_size: u64,
    /// Initial old-generation allocation limit; `None` means V8's `min(512 MiB, max_old_generation_size / 2)`.
    pub initial_old_generation_limit: Option<u64>,
    /// Smallest free-list block (`3 × kTaggedSize` = 24 B); smaller gaps are wasted as holes.
    pub min_free_block: u32,
    /// A page becomes an evacuation candidate when its free bytes are at least this percentage of the page area
    /// (V8's `target_fragmentation_percent` before a compaction speed is known: 70).
    pub evacuation_threshold_percent: u32,
    /// Most live bytes evacuated by one mark-compact (`max_evacuated_bytes`, 4 MiB).
    pub max_evacuated_bytes: u64,
    /// The pause cost model.
    #[serde(deserialize_with = "map_only")]
    pub pause: PauseModel,
    /// Incremental marking (V8's `--incremental-marking`, on in Node): a mark-compact is prepared by marking that
    /// runs across mutator time, in steps paid for by allocation and tasks and by a concurrent marker, and is
    /// finalized by a short pause. Off: every mark-compact marks atomically in its pause (the plain model).
    pub incremental_marking: bool,
    /// Incremental marking never starts while the old generation's object bytes are at most this (V8's
    /// `kActivationThreshold`, 8 MiB); the plain rule (an atomic mark-compact at the allocation limit) applies
    /// instead.
    pub incremental_marking_activation_threshold: u64,
    /// The scavenge task's trigger in percent of new space's capacity (`--scavenge-task-trigger`, 80): once new
    /// space is that full, a task is posted that scavenges at the next turn of the event loop (reason `task`).
    /// 0 turns the task off.
    pub scavenge_task_trigger_percent: u32,
    /// The memory reducer (`--memory-reducer`, V8's `memory-reducer.cc`): memory-reducing mark-compacts after
    /// start-up and when the program goes quiet.
    pub memory_reducer: bool,
    /// Allocation-site pretenuring (`--allocation-site-pretenuring`): a `site` whose objects survive their first
    /// scavenge (85 % of at least 100) at the largest new space allocates in the old generation from then on.
    pub allocation_site_pretenuring: bool,
}

impl Default for HeapConfig {
    fn default() -> Self {
        HeapConfig {
            page: PageGeometry::default(),
            min_semi_space_size: MIB,
            max_semi_space_size: 16 * MIB,
            semi_space_growth_factor: 2,
            promotion_age: 1,
            large_object_threshold: 128 * 1024,
            lab_size: 32 * 1024,
            max_lab_object_size: 8 * 1024,
            max_old_generation_size: 4096 * MIB,
            initial_old_generation_limit: None,
            min_free_block: 24,
            evacuation_threshold_percent: 70,
            max_evacuated_bytes: 4 * MIB,
            pause: PauseModel::default(),
            incremental_marking: true,
            incremental_marking_activation_threshold: 8 * MIB,
            scavenge_task_trigger_percent: 80,
            memory_reducer: true,
            allocation_site_pretenuring: true,
        }
    }
}

/// Deserializes a struct from a JSON object only. A derived `Deserialize` also takes an array of the fields in
/// order, so `"heap": []` would silently mean "all defaults" and `"heap": [1, 2]` would set fields by position;
/// configuration is always written as an object, so anything else is a type error.
pub(crate) fn map_only<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    struct MapOnly<T>(std::marker::PhantomData<T>);
    impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for MapOnly<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }
    deserializer.deserialize_map(MapOnly(std::marker::PhantomData))
}

/// A configuration that cannot describe a heap.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid heap configuration: {field} {problem}")]
pub struct ConfigError {
    /// The offending field of [`HeapConfig`].
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl HeapConfig {
    /// Node 20's defaults for a machine (or cgroup) with `physical_memory` bytes, as computed by V8's
    /// `Heap::HeapSizeFromPhysicalMemory` (docs/v8-sources.md, "Heap controller").
    pub fn for_physical_memory(physical_memory: u64) -> Self {
        let (max_old, max_semi) = crate::controller::formulas::heap_sizes_from_physical_memory(physical_memory);
        HeapConfig {
            max_old_generation_size: max_old,
            max_semi_space_size: max_semi,
            min_semi_space_size: MIB.min(max_semi),
            ..HeapConfig::default()
        }
    }

    /// The plain model, for teaching: no incremental marking (every mark-compact is atomic and starts at the
    /// allocation limit), no scavenge task, no memory reducer, no allocation-site pretenuring. Only the
    /// configuration's runtime parts change.
    pub fn plain(self) -> Self {
        HeapConfig {
            incremental_marking: false,
            scavenge_task_trigger_percent: 0,
            memory_reducer: false,
            allocation_site_pretenuring: false,
            ..self
        }
    }

    /// Checks that the configuration describes a heap the simulator can run.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |field, problem: String| Err(ConfigError { field, problem });
        let p = &self.page;
        if !p.page_size.is_power_of_two() || !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&p.page_size) {
            return err(
                "page.page_size",
                format!(
                    "must be a power of two from {MIN_PAGE_SIZE} (4 KiB) to {MAX_PAGE_SIZE} (1 GiB), not {}",
                    p.page_size
                ),
            );
        }
        if p.area_size == 0 {
            return err("page.area_size", "must be positive".into());
        }
        if u64::from(p.area_start) + u64::from(p.area_size) > u64::from(p.page_size) {
            return err(
                "page.area_size",
                format!("area {}+{} does not fit a {} B page", p.area_start, p.area_size, p.page_size),
            );
        }
        if self.min_semi_space_size == 0 {
            return err("min_semi_space_size", "must be positive".into());
        }
        if self.min_semi_space_size > self.max_semi_space_size {
            return err(
                "min_semi_space_size",
                format!("{} exceeds max_semi_space_size {}", self.min_semi_space_size, self.max_semi_space_size),
            );
        }
        if self.semi_space_pages(self.max_semi_space_size) > MAX_SEMI_SPACE_PAGES {
            return err(
                "max_semi_space_size",
                format!(
                    "is more than {MAX_SEMI_SPACE_PAGES} pages ({} MiB with pages of {} B)",
                    MAX_SEMI_SPACE_PAGES * u64::from(p.page_size) / MIB,
                    p.page_size
                ),
            );
        }
        if self.semi_space_growth_factor < 2 {
            return err("semi_space_growth_factor", "must be at least 2, as in V8".into());
        }
        if self.large_object_threshold == 0 || self.large_object_threshold > p.area_size {
            return err("large_object_threshold", format!("must be between 1 and the page area ({} B)", p.area_size));
        }
        if self.lab_size == 0 || self.lab_size > p.area_size {
            return err("lab_size", format!("must be between 1 and the page area ({} B)", p.area_size));
        }
        if self.max_lab_object_size > self.lab_size {
            return err("max_lab_object_size", "must not exceed lab_size".into());
        }
        if self.max_old_generation_size < u64::from(p.page_size) {
            return err("max_old_generation_size", "must hold at least one page".into());
        }
        if self.min_free_block < crate::object::OBJECT_ALIGNMENT {
            return err("min_free_block", "must be at least 8 bytes".into());
        }
        if self.evacuation_threshold_percent > 100 {
            return err("evacuation_threshold_percent", "must be at most 100".into());
        }
        if self.scavenge_task_trigger_percent > 100 {
            return err("scavenge_task_trigger_percent", "must be at most 100 (0 turns the task off)".into());
        }
        self.pause.validate()
    }

    /// Number of pages of a semi-space of `bytes` (rounded up, at least one).
    pub fn semi_space_pages(&self, bytes: u64) -> u64 {
        bytes.div_ceil(u64::from(self.page.page_size)).max(1)
    }

    /// The initial old-generation allocation limit in force for this configuration.
    pub fn initial_old_generation_limit(&self) -> u64 {
        self.initial_old_generation_limit.unwrap_or_else(|| {
            crate::controller::formulas::initial_old_generation_allocation_limit(self.max_old_generation_size)
        })
    }
}

/// The modelled cost of a pause, calibrated on Node 20 on 2 vCPUs; the measured figures are in
/// `docs/v8-sources.md#pause-calibration`, and the fit in `docs/model.md` §7.
///
/// * Scavenge: `scavenge_base_ms + scavenge_ms_per_mib × MiB survived (copied + promoted)`.
/// * Mark-compact: `mark_compact_base_ms + mark_ms_per_mib × MiB marked + sweep_ms_per_page × pages swept +
///   evacuate_ms_per_mib × MiB evacuated`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PauseModel {
    /// Fixed cost of a scavenge (roots, remembered set, flip).
    pub scavenge_base_ms: f64,
    /// Cost per MiB that survives a scavenge.
    pub scavenge_ms_per_mib: f64,
    /// Fixed cost of a mark-compact.
    pub mark_compact_base_ms: f64,
    /// Cost per MiB marked.
    pub mark_ms_per_mib: f64,
    /// Cost per page swept.
    pub sweep_ms_per_page: f64,
    /// Cost per MiB evacuated.
    pub evacuate_ms_per_mib: f64,
    /// Main-thread cost per MiB marked by an incremental marking step (paid for by allocation or run by a task).
    pub incremental_step_ms_per_mib: f64,
    /// MiB the concurrent marker marks per ms of mutator time while incremental marking runs (0: no concurrent
    /// marking, the steps do all the work).
    pub concurrent_marking_mib_per_ms: f64,
}

impl Default for PauseModel {
    fn default() -> Self {
        PauseModel {
            scavenge_base_ms: 0.3,
            scavenge_ms_per_mib: 0.9,
            mark_compact_base_ms: 1.0,
            mark_ms_per_mib: 0.4,
            sweep_ms_per_page: 0.01,
            evacuate_ms_per_mib: 1.0,
            incremental_step_ms_per_mib: 2.0,
            concurrent_marking_mib_per_ms: 0.25,
        }
    }
}

impl PauseModel {
    /// Modelled pause of a scavenge in which `survived_bytes` were copied or promoted.
    pub fn scavenge_ms(&self, survived_bytes: u64) -> f64 {
        self.scavenge_base_ms + self.scavenge_ms_per_mib * mib(survived_bytes)
    }

    /// Modelled pause of a mark-compact.
    pub fn mark_compact_ms(&self, marked_bytes: u64, swept_pages: u64, evacuated_bytes: u64) -> f64 {
        self.mark_compact_base_ms
            + self.mark_ms_per_mib * mib(marked_bytes)
            + self.sweep_ms_per_page * swept_pages as f64
            + self.evacuate_ms_per_mib * mib(evacuated_bytes)
    }

    /// Main-thread time of an incremental marking step that marked `bytes`.
    pub fn incremental_step_ms(&self, bytes: u64) -> f64 {
        self.incremental_step_ms_per_mib * mib(bytes)
    }

    /// Bytes the concurrent marker marks in `ms` of mutator time.
    pub fn concurrent_marking_bytes(&self, ms: f64) -> u64 {
        (self.concurrent_marking_mib_per_ms * ms * MIB as f64) as u64
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let fields = [
            ("pause.scavenge_base_ms", self.scavenge_base_ms),
            ("pause.scavenge_ms_per_mib", self.scavenge_ms_per_mib),
            ("pause.mark_compact_base_ms", self.mark_compact_base_ms),
            ("pause.mark_ms_per_mib", self.mark_ms_per_mib),
            ("pause.sweep_ms_per_page", self.sweep_ms_per_page),
            ("pause.evacuate_ms_per_mib", self.evacuate_ms_per_mib),
            ("pause.incremental_step_ms_per_mib", self.incremental_step_ms_per_mib),
            ("pause.concurrent_marking_mib_per_ms", self.concurrent_marking_mib_per_ms),
        ];
        match fields.iter().find(|(_, v)| !(v.is_finite() && (0.0..=MAX_PAUSE_COEFFICIENT).contains(v))) {
            Some((field, v)) => Err(ConfigError {
                field,
                problem: if v.abs() < 1e15 {
                    format!("must be a number from 0 to {MAX_PAUSE_COEFFICIENT:e}, not {v}")
                } else {
                    format!("must be a number from 0 to {MAX_PAUSE_COEFFICIENT:e}, not {v:e}")
                },
            }),
            None => Ok(()),
        }
    }
}

/// The largest pause coefficient [`PauseModel`] accepts: 10^6 ms (about 17 minutes) per collection, MiB or page,
/// thousands of times any real one. Pauses then stay far from overflowing the simulated clock, and every time in a
/// report stays finite.
pub const MAX_PAUSE_COEFFICIENT: f64 = 1e6;

fn mib(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_node_20_on_a_large_machine() {
        let c = HeapConfig::default();
        assert!(c.validate().is_ok());
        assert_eq!(c.semi_space_pages(c.min_semi_space_size), 4);
        assert_eq!(c.semi_space_pages(c.max_semi_space_size), 64);
        assert_eq!(c.initial_old_generation_limit(), 512 * MIB);
    }

    #[test]
    fn invalid_configurations_name_the_field() {
        let c = HeapConfig { min_semi_space_size: 32 * MIB, ..HeapConfig::default() };
        assert_eq!(c.validate().unwrap_err().field, "min_semi_space_size");
        let c = HeapConfig { semi_space_growth_factor: 1, ..HeapConfig::default() };
        assert_eq!(c.validate().unwrap_err().field, "semi_space_growth_factor");
        let c = HeapConfig { large_object_threshold: 300_000, ..HeapConfig::default() };
        assert_eq!(c.validate().unwrap_err().field, "large_object_threshold");
    }

    #[test]
    fn pause_model_follows_the_calibration() {
        let m = PauseModel::default();
        // About 1 ms per surviving MiB including the fixed cost (docs/v8-sources.md#pause-calibration).
        assert!((m.scavenge_ms(MIB) - 1.2).abs() < 1e-9);
        // 41 MiB live, 160 pages swept: inside the measured 14-19.5 ms.
        let mc = m.mark_compact_ms(41 * MIB, 160, 0);
        assert!((14.0..=19.5).contains(&mc), "{mc}");
    }
}
