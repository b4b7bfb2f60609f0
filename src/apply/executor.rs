//! Walks the step graph: a step starts once every step before it has succeeded, at most
//! `parallelism` run at once, a failed step skips everything after it, and a stop request (Ctrl-C)
//! lets running steps finish but starts no new one, so a re-run can adopt and finish.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::error::ProviderError;
use crate::graph::Graph;
use crate::plan::ResourceChange;
use crate::resource::Address;
use crate::step::{Runner, Step};

/// Progress of a run, for a [`Reporter`].
#[derive(Debug)]
pub(crate) enum Event<'a> {
    /// The step started.
    Started(&'a Step),
    /// The step ended.
    Finished {
        /// The step.
        step: &'a Step,
        /// How long it ran.
        elapsed: Duration,
        /// The new physical id, or the error.
        result: Result<Option<&'a str>, &'a ProviderError>,
    },
    /// The step will not run because `because` failed or did not run.
    Skipped {
        /// The step.
        step: &'a Step,
        /// The step that blocked it.
        because: &'a Step,
    },
    /// The step was not started because the run was asked to stop.
    NotStarted(&'a Step),
}

/// Receives progress events.
pub(crate) trait Reporter {
    /// Called from the executor, in order, for each event.
    fn report(&self, event: Event<'_>);
}

/// How one step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StepOutcome {
    /// Succeeded.
    Done,
    /// Failed with this message.
    Failed(String),
    /// Skipped because a step before it failed.
    Skipped,
    /// Not started because the run was stopped.
    NotStarted,
}

/// How a run ended.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Each step's end.
    pub steps: BTreeMap<Step, StepOutcome>,
    /// Whether a stop request ended the run early.
    pub interrupted: bool,
}

impl Outcome {
    /// Whether every step succeeded.
    pub(crate) fn succeeded(&self) -> bool {
        self.steps.values().all(|s| *s == StepOutcome::Done)
    }

    /// How many steps ended as `outcome`.
    pub(crate) fn count(&self, outcome: &StepOutcome) -> usize {
        self.steps.values().filter(|s| *s == outcome).count()
    }
}

/// How a run goes: at most `parallelism` steps at once, no new step once `stop` is set, and
/// every event told to `reporter`.
#[derive(Clone, Copy)]
pub(crate) struct Pace<'a> {
    /// At most this many steps at once.
    pub(crate) parallelism: usize,
    /// Set (by Ctrl-C) to start no new step.
    pub(crate) stop: &'a AtomicBool,
    /// Hears of every step's start and end.
    pub(crate) reporter: &'a dyn Reporter,
}

/// Runs every step of `graph`, see the module doc. `ids` starts with the live physical ids.
pub(crate) async fn execute<R: Runner>(
    graph: &Graph<Step>,
    work: &BTreeMap<Step, ResourceChange>,
    runner: Arc<R>,
    mut ids: BTreeMap<Address, String>,
    pace: Pace<'_>,
) -> Outcome {
    let Pace { parallelism, stop, reporter } = pace;
    let mut outcome = Outcome::default();
    let mut waiting_on: BTreeMap<&Step, usize> = graph.nodes().map(|s| (s, graph.predecessors(s).count())).collect();
    // Ready steps start longest chain first, so that the run takes about as long as its
    // critical path rather than waiting on a long chain started last.
    let chains = graph.chain_lengths();
    let mut ready: BTreeSet<(Reverse<usize>, &Step)> =
        waiting_on.iter().filter(|(_, n)| **n == 0).map(|(s, _)| (Reverse(chains[*s]), *s)).collect();
    let mut running = JoinSet::new();
    loop {
        while running.len() < parallelism.max(1) && !stop.load(Ordering::SeqCst) {
            let Some((_, step)) = ready.pop_first() else { break };
            reporter.report(Event::Started(step));
            let (runner, step, change, snapshot) = (runner.clone(), step.clone(), work[step].clone(), ids.clone());
            running.spawn(async move {
                let started = Instant::now();
                let result = runner.run(&step, &change, &snapshot).await;
                (step, started.elapsed(), result)
            });
        }
        let Some(joined) = running.join_next().await else { break };
        let (step, elapsed, result) = match joined {
            Ok(finished) => finished,
            Err(panic) => std::panic::resume_unwind(panic.into_panic()),
        };
        let step = graph.nodes().find(|s| **s == step).expect("a spawned step is a graph node");
        reporter.report(Event::Finished { step, elapsed, result: result.as_ref().map(Option::as_deref) });
        match result {
            Ok(new_id) => {
                if let Some(id) = new_id {
                    ids.insert(step.address.clone(), id);
                }
                outcome.steps.insert(step.clone(), StepOutcome::Done);
                for next in graph.successors(step) {
                    let count = waiting_on.get_mut(next).expect("successors are graph nodes");
                    *count -= 1;
                    if *count == 0 {
                        ready.insert((Reverse(chains[next]), next));
                    }
                }
            }
            Err(error) => {
                outcome.steps.insert(step.clone(), StepOutcome::Failed(error.to_string()));
                skip_after(graph, step, &mut outcome, reporter);
            }
        }
    }
    mark_not_started(graph, &mut outcome, reporter);
    outcome
}

/// Marks every step that has no outcome yet as not started: the run was stopped.
fn mark_not_started(graph: &Graph<Step>, outcome: &mut Outcome, reporter: &dyn Reporter) {
    for step in graph.nodes() {
        if !outcome.steps.contains_key(step) {
            outcome.interrupted = true;
            reporter.report(Event::NotStarted(step));
            outcome.steps.insert(step.clone(), StepOutcome::NotStarted);
        }
    }
}

/// Marks every step reachable from `failed` as skipped.
fn skip_after(graph: &Graph<Step>, failed: &Step, outcome: &mut Outcome, reporter: &dyn Reporter) {
    let mut pending: Vec<&Step> = graph.successors(failed).collect();
    while let Some(step) = pending.pop() {
        if outcome.steps.contains_key(step) {
            continue;
        }
        let because = graph.predecessors(step).find(|p| outcome.steps.contains_key(*p)).unwrap_or(failed);
        reporter.report(Event::Skipped { step, because });
        outcome.steps.insert(step.clone(), StepOutcome::Skipped);
        pending.extend(graph.successors(step));
    }
}

#[cfg(test)]
mod tests;
