//! A dependency graph over any node type: edges, topological order, cycle detection.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

/// A directed graph where an edge `a → b` means "a before b".
#[derive(Debug, Clone)]
pub(crate) struct Graph<N: Ord + Clone> {
    successors: BTreeMap<N, BTreeSet<N>>,
    predecessors: BTreeMap<N, BTreeSet<N>>,
}

/// The graph has a cycle through these nodes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("dependency cycle between {0}")]
pub(crate) struct CycleError(pub String);

impl<N: Ord + Clone + Debug> Default for Graph<N> {
    fn default() -> Self {
        Self { successors: BTreeMap::new(), predecessors: BTreeMap::new() }
    }
}

impl<N: Ord + Clone + Debug> Graph<N> {
    /// Adds a node without edges (no-op if present).
    pub(crate) fn add_node(&mut self, node: N) {
        self.successors.entry(node.clone()).or_default();
        self.predecessors.entry(node).or_default();
    }

    /// Adds `before → after`, adding both nodes.
    pub(crate) fn add_edge(&mut self, before: N, after: N) {
        self.add_node(before.clone());
        self.add_node(after.clone());
        self.successors.get_mut(&before).map(|s| s.insert(after.clone()));
        self.predecessors.get_mut(&after).map(|p| p.insert(before));
    }

    /// Every node, in `Ord` order.
    pub(crate) fn nodes(&self) -> impl Iterator<Item = &N> {
        self.successors.keys()
    }

    /// The nodes that must come right before `node`.
    pub(crate) fn predecessors(&self, node: &N) -> impl Iterator<Item = &N> {
        self.predecessors.get(node).into_iter().flatten()
    }

    /// The nodes that come right after `node`.
    pub(crate) fn successors(&self, node: &N) -> impl Iterator<Item = &N> {
        self.successors.get(node).into_iter().flatten()
    }

    /// For each node, the number of nodes on the longest chain that starts at it (itself
    /// included): what must still run, one after another, once it is done. The graph must be
    /// acyclic.
    pub(crate) fn chain_lengths(&self) -> BTreeMap<&N, usize> {
        let mut lengths: BTreeMap<&N, usize> = BTreeMap::new();
        let order = self.topological_order().expect("chain lengths of an acyclic graph");
        for node in order.iter().rev() {
            let key = self.successors.get_key_value(node).map(|(k, _)| k).expect("ordered nodes are nodes");
            let longest = self.successors(node).filter_map(|next| lengths.get(next)).max().copied().unwrap_or(0);
            lengths.insert(key, longest + 1);
        }
        lengths
    }

    /// A topological order (Kahn's algorithm; ties broken by `Ord` so the order is stable).
    pub(crate) fn topological_order(&self) -> Result<Vec<N>, CycleError> {
        let mut remaining: BTreeMap<&N, usize> = self.predecessors.iter().map(|(n, p)| (n, p.len())).collect();
        let mut ready: BTreeSet<&N> = remaining.iter().filter(|(_, d)| **d == 0).map(|(n, _)| *n).collect();
        let mut order = Vec::with_capacity(remaining.len());
        while let Some(node) = ready.pop_first() {
            remaining.remove(node);
            order.push(node.clone());
            for next in self.successors(node) {
                if let Some(degree) = remaining.get_mut(next) {
                    *degree -= 1;
                    if *degree == 0 {
                        ready.insert(next);
                    }
                }
            }
        }
        if remaining.is_empty() {
            Ok(order)
        } else {
            let stuck: Vec<String> = remaining.keys().map(|n| format!("{n:?}")).collect();
            Err(CycleError(stuck.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_dependencies_first_and_stably() {
        let mut g = Graph::default();
        g.add_edge("pool", "client");
        g.add_edge("pool", "domain");
        g.add_edge("client", "identity");
        g.add_node("other");
        assert_eq!(g.topological_order().unwrap(), ["other", "pool", "client", "domain", "identity"]);
    }

    #[test]
    fn measures_the_longest_chain_from_each_node() {
        let mut g = Graph::default();
        g.add_edge("api", "resource");
        g.add_edge("resource", "route");
        g.add_edge("route", "stage");
        g.add_edge("pool", "client");
        let lengths = g.chain_lengths();
        assert_eq!((lengths[&"api"], lengths[&"route"], lengths[&"pool"], lengths[&"stage"]), (4, 2, 2, 1));
    }

    #[test]
    fn reports_cycles() {
        let mut g = Graph::default();
        g.add_edge("a", "b");
        g.add_edge("b", "a");
        g.add_edge("c", "a");
        assert_eq!(g.topological_order().unwrap_err(), CycleError("\"a\", \"b\"".into()));
    }
}
