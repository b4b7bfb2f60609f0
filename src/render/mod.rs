//! Output for people and for scripts: the plan as a diff or as versioned JSON, and progress.
//! Colors go through `anstream`, which drops them off a terminal, with NO_COLOR or --no-color.

mod field_diff;
pub mod graph;
pub mod human;
pub mod json;
pub mod progress;
