//! The spaces of the heap, each with its own accounting: new space's semi-spaces, old space's pages and free lists,
//! the two large-object spaces and the OLD_TO_NEW remembered set (V8's `new-spaces.h`, `paged-spaces.h`,
//! `free-list.h`, `large-spaces.h`, `remembered-set.h`). They know nothing of each other: the collectors move
//! objects between them and the heap drives both.

pub(crate) mod free_list;
pub(crate) mod large_object_space;
pub(crate) mod new_space;
pub(crate) mod old_space;
pub(crate) mod remembered_set;
