//! The dependency graph of the desired resources as Graphviz DOT or Mermaid: an edge `a → b`
//! means `a` is created before `b` (and deleted after it).

use std::fmt::Write;

use super::GraphFormat;
use crate::resource::{Address, DesiredState};

/// Renders the graph of `desired` in `format`.
pub(crate) fn graph(desired: &DesiredState, format: GraphFormat) -> String {
    let mut out = String::new();
    match format {
        GraphFormat::Dot => {
            let _ = writeln!(out, "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box];", desired.stack);
            for resource in &desired.resources {
                let _ = writeln!(out, "  \"{}\";", resource.address);
                for dependency in &resource.depends_on {
                    let _ = writeln!(out, "  \"{dependency}\" -> \"{}\";", resource.address);
                }
            }
            out.push_str("}\n");
        }
        GraphFormat::Mermaid => {
            // Node ids are positions, so addresses that differ only in punctuation (`/a-b`,
            // `/a_b`, `/a.b`) stay distinct nodes; the label shows the address.
            let id = |address: &Address| {
                desired.resources.iter().position(|r| r.address == *address).map(|i| format!("n{i}"))
            };
            out.push_str("flowchart LR\n");
            for (index, resource) in desired.resources.iter().enumerate() {
                let _ = writeln!(out, "  n{index}[\"{}\"]", resource.address);
                for dependency in resource.depends_on.iter().filter_map(id) {
                    let _ = writeln!(out, "  {dependency} --> n{index}");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::resource::{Address, Attributes, DesiredResource, ResourceKind, user_pool_address};

    fn desired() -> DesiredState {
        DesiredState {
            stack: "demo".into(),
            resources: vec![
                DesiredResource {
                    address: user_pool_address(),
                    attributes: Attributes::new(),
                    rules: &[],
                    depends_on: vec![],
                },
                DesiredResource {
                    address: Address::new(ResourceKind::ApiRoute, "GET /items/{id}"),
                    attributes: Attributes::new(),
                    rules: &[],
                    depends_on: vec![user_pool_address()],
                },
            ],
            secrets: BTreeMap::new(),
            unset_secrets: BTreeMap::new(),
            sensitive: BTreeMap::new(),
            hidden_maps: BTreeSet::new(),
            artifacts: BTreeMap::new(),
        }
    }

    #[test]
    fn renders_dot_and_mermaid() {
        assert_eq!(
            graph(&desired(), GraphFormat::Dot),
            "digraph \"demo\" {\n  rankdir=LR;\n  node [shape=box];\n  \"user_pool.main\";\n  \"api_route.GET /items/{id}\";\n  \"user_pool.main\" -> \"api_route.GET /items/{id}\";\n}\n"
        );
        assert_eq!(
            graph(&desired(), GraphFormat::Mermaid),
            "flowchart LR\n  n0[\"user_pool.main\"]\n  n1[\"api_route.GET /items/{id}\"]\n  n0 --> n1\n"
        );
    }

    #[test]
    fn addresses_that_differ_in_punctuation_are_distinct_nodes() {
        let mut state = desired();
        state.resources.truncate(1);
        for path in ["/a-b", "/a_b", "/a.b"] {
            state.resources.push(DesiredResource {
                address: Address::new(ResourceKind::ApiRoute, format!("GET {path}")),
                attributes: Attributes::new(),
                rules: &[],
                depends_on: vec![user_pool_address()],
            });
        }
        let mermaid = graph(&state, GraphFormat::Mermaid);
        for (id, path) in [("n1", "/a-b"), ("n2", "/a_b"), ("n3", "/a.b")] {
            assert!(mermaid.contains(&format!("  {id}[\"api_route.GET {path}\"]\n  n0 --> {id}\n")), "{mermaid}");
        }
    }
}
