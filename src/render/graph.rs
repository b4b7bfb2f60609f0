//! The dependency graph of the desired resources as Graphviz DOT or Mermaid: an edge `a → b`
//! means `a` is created before `b` (and deleted after it).

use std::fmt::Write;

use crate::cli::GraphFormat;
use crate::resource::DesiredState;

/// Renders the graph of `desired` in `format`.
pub fn graph(desired: &DesiredState, format: GraphFormat) -> String {
    let mut out = String::new();
    let node =
        |address: &str| address.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>();
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
            out.push_str("flowchart LR\n");
            for resource in &desired.resources {
                let _ = writeln!(out, "  {}[\"{}\"]", node(&resource.address.to_string()), resource.address);
                for dependency in &resource.depends_on {
                    let _ = writeln!(
                        out,
                        "  {} --> {}",
                        node(&dependency.to_string()),
                        node(&resource.address.to_string())
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

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
            "flowchart LR\n  user_pool_main[\"user_pool.main\"]\n  api_route_GET__items__id_[\"api_route.GET /items/{id}\"]\n  user_pool_main --> api_route_GET__items__id_\n"
        );
    }
}
