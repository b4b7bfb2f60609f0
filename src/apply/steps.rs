//! From a plan to a graph of steps. A replacement is two steps (delete the old, create the new)
//! so that, e.g., a domain is deleted before the pool it lives in and created after the new one.

use std::collections::BTreeMap;

use crate::graph::{CycleError, Graph};
use crate::plan::{Action, Plan, ResourceChange};
use crate::resource::{Address, references};
use crate::step::{Operation, Step};

/// A create or update that snapshots its container (a stage's deployment) runs after every
/// other step on what lives in that container, deletes included.
fn order_snapshots(graph: &mut Graph<Step>, work: &BTreeMap<Step, ResourceChange>) {
    let snapshots =
        work.keys().filter(|s| s.operation != Operation::Delete && s.address.kind.snapshots_its_container());
    for snapshot in snapshots {
        let Some(container) = snapshot.address.container() else { continue };
        let inside =
            work.keys().filter(|s| !s.address.kind.snapshots_its_container() && s.address.lives_in(&container));
        for step in inside {
            graph.add_edge(step.clone(), snapshot.clone());
        }
    }
}

/// An update that stops referring to a resource the plan deletes (a method leaving its
/// authorizer) runs before that delete: AWS refuses to delete what is still referred to.
fn order_unreferencing(graph: &mut Graph<Step>, plan: &Plan, step_of: &BTreeMap<(&Address, bool), Step>) {
    for change in plan.changes.iter().filter(|c| c.action == Action::Update) {
        let Some(update) = step_of.get(&(&change.address, false)) else { continue };
        let referred = change.before.iter().flat_map(|attributes| attributes.values()).flat_map(references);
        for address in referred {
            if let (Some(delete), None) = (step_of.get(&(&address, true)), step_of.get(&(&address, false))) {
                graph.add_edge(update.clone(), delete.clone());
            }
        }
    }
}

/// The steps of `plan` with their ordering, and the change each step carries out.
pub(crate) fn steps(plan: &Plan) -> Result<(Graph<Step>, BTreeMap<Step, ResourceChange>), CycleError> {
    let mut graph = Graph::default();
    let mut work = BTreeMap::new();
    let mut step_of: BTreeMap<(&Address, bool), Step> = BTreeMap::new();
    for change in &plan.changes {
        let operations: &[Operation] = match change.action {
            Action::NoOp => &[],
            Action::Create => &[Operation::Create],
            Action::Update => &[Operation::Update],
            Action::Replace => &[Operation::Delete, Operation::Create],
            Action::Delete => &[Operation::Delete],
        };
        for &operation in operations {
            let step = Step { address: change.address.clone(), operation };
            graph.add_node(step.clone());
            work.insert(step.clone(), change.clone());
            step_of.insert((&change.address, operation == Operation::Delete), step);
        }
    }
    for change in &plan.changes {
        let own_delete = step_of.get(&(&change.address, true));
        let own_apply = step_of.get(&(&change.address, false));
        if let (Some(delete), Some(apply)) = (own_delete, own_apply) {
            graph.add_edge(delete.clone(), apply.clone());
        }
        for parent in &change.depends_on {
            if let (Some(parent_apply), Some(apply)) = (step_of.get(&(parent, false)), own_apply) {
                graph.add_edge(parent_apply.clone(), apply.clone());
            }
            if let (Some(delete), Some(parent_delete)) = (own_delete, step_of.get(&(parent, true))) {
                graph.add_edge(delete.clone(), parent_delete.clone());
            }
        }
    }
    order_unreferencing(&mut graph, plan, &step_of);
    order_snapshots(&mut graph, &work);
    graph.topological_order()?;
    Ok((graph, work))
}
