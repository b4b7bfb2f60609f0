//! `authdemo access`: who can call each route of the live deployment, and why. [`live`] reads
//! what the verdicts depend on (methods, keys linked to the usage plan, the identity pool's
//! roles and every policy on them) from the discovered state, adding only the reads discovery
//! does not make; [`policy`] evaluates IAM policies and [`matrix`] turns it all into the report.
//! Both are pure.

pub(crate) mod cognito;
pub(crate) mod live;
pub(crate) mod matrix;
pub(crate) mod policy;
