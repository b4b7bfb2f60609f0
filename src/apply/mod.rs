//! Carrying out a plan: the plan's changes become steps in a dependency graph (deletes children
//! first, creates and updates parents first) that [`execute`] walks with bounded parallelism.

mod executor;
mod retry;
mod steps;

pub use executor::{Event, Outcome, Reporter, Runner, StepOutcome, execute};
pub use retry::{RetryPolicy, retry, wait_until};
pub use steps::{Operation, Step, steps};
