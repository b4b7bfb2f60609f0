//! Carrying out a plan: the plan's changes become steps in a dependency graph (deletes children
//! first, creates and updates parents first) that [`execute`] walks with bounded parallelism.

mod executor;
mod steps;

pub(crate) use executor::{Event, Outcome, Pace, Reporter, StepOutcome, execute};
pub(crate) use steps::steps;
