//! The registry of resource kinds: which spec and which handler serve each [`ResourceKind`],
//! with what each kind's provider file declares (its IAM actions and hooks, see [`Kind`]),
//! expanded from the one list in [`crate::kinds`]. The executor's [`Runner`] and discovery are
//! generic over it.

use std::collections::BTreeMap;

use super::handler::{StepContext, run_handler};
use super::iam_actions::Permission;
use super::kind::Kind;
use super::{AwsProvider, apigateway, cognito_identity, cognito_idp, iam, lambda, usage_plans};
use crate::artifact::Artifact;
use crate::error::ProviderError;
use crate::live::LiveState;
use crate::plan::{AroundDelete, Deletions, ResourceChange};
use crate::resource::{Address, Attributes, DesiredState, ResourceKind, Spec, resolve, reveal};
use crate::secret::Secret;
use crate::stack::Stack;
use crate::step::{Operation, Runner, Step};

/// Expands the list of [`crate::kinds`] into the dispatch to each kind's spec and handler; the
/// `match`es are exhaustive, so a kind the list names without a spec does not compile.
macro_rules! define_registry {
    ($(
        $(#[$doc:meta])*
        $kind:ident: $name:literal, $spec:path, $handler:ident, parent: $parent:expr,
            referenced: $referenced:literal, adopt: $adopt:literal, holds_data: $holds_data:literal;
    )*) => {
        /// Carries out `operation` of `change` with the handler of its kind.
        async fn dispatch(
            provider: &AwsProvider,
            operation: Operation,
            change: &ResourceChange,
            cx: &StepContext<'_>,
        ) -> Result<Option<String>, ProviderError> {
            match change.address.kind {
                $(ResourceKind::$kind => run_handler::<$spec, _>(&provider.$handler, operation, change, cx).await,)*
            }
        }

        /// `attributes` of a resource of `kind` read through its spec and written back, so
        /// that sets come out sorted after discovery turned their ids into references.
        pub(super) fn normalized(kind: ResourceKind, attributes: &Attributes) -> Attributes {
            match kind {
                $(ResourceKind::$kind => <$spec>::from_attributes(attributes).map_or_else(|_| attributes.clone(), |s| s.to_attributes()),)*
            }
        }

        /// The IAM actions of each kind's calls, in the order of the list.
        pub(super) const PERMISSIONS: &[&[Permission]] = &[$(<$spec as Kind>::PERMISSIONS,)*];

        /// Adds to `state` the resources of the kinds that derive their own (see [`Kind::desired`]).
        pub(super) fn desired(stack: &Stack, state: &mut DesiredState) {
            $(<$spec as Kind>::desired(stack, state);)*
        }

        /// Discovers the kinds that read their own after the services (see [`Kind::discover`]).
        pub(super) async fn discover(
            provider: &AwsProvider,
            desired: &DesiredState,
            live: &mut LiveState,
        ) -> Result<(), ProviderError> {
            $(<$spec as Kind>::discover(provider, desired, live).await?;)*
            Ok(())
        }
    };
}

crate::kinds::with_kinds!(define_registry);

/// Carries out the steps of a plan against AWS with the secrets and code packages of the
/// desired state it was made from.
pub(crate) struct Applier {
    provider: AwsProvider,
    secrets: BTreeMap<Address, Secret>,
    sensitive: BTreeMap<String, Secret>,
    artifacts: BTreeMap<Address, Artifact>,
    /// The plan's deletions, for each delete to know what goes around it.
    deletions: Deletions,
}

impl AwsProvider {
    /// The runner of the steps toward `desired`.
    pub(crate) fn applier(self, desired: &DesiredState) -> Applier {
        Applier {
            provider: self,
            secrets: desired.secrets.clone(),
            sensitive: desired.sensitive.clone(),
            artifacts: desired.artifacts.clone(),
            deletions: Deletions::default(),
        }
    }
}

impl Runner for Applier {
    async fn run(
        &self,
        step: &Step,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<Option<String>, ProviderError> {
        let around = match step.operation {
            Operation::Delete => self.deletions.around(&step.address),
            _ => AroundDelete::default(),
        };
        if around.container_goes && step.address.kind.goes_with_its_container() {
            return Ok(None);
        }
        let change = resolved(change, step.operation, ids, &self.sensitive)?;
        let mut cx = StepContext::new(&change.address, ids);
        cx.adopt = change.adopt;
        cx.container_goes_for_good = around.container_goes_for_good;
        cx.deleted_inside = around.inside;
        cx.secret = self.secrets.get(&change.address);
        cx.artifact = self.artifacts.get(&change.address);
        let done =
            dispatch(&self.provider, step.operation, &change, &cx).await.map_err(|error| self.scrubbed(error))?;
        if let Some(id) = done.as_deref().filter(|_| LISTED_LATE.contains(&change.address.kind)) {
            self.provider.locks.created(id);
        }
        Ok(done)
    }
}

/// The kinds whose names AWS does not keep unique and whose lists may miss a new one for a
/// while: the stack's lock tells the next run which of them this run created.
const LISTED_LATE: [ResourceKind; 6] = [
    ResourceKind::UserPool,
    ResourceKind::UserPoolClient,
    ResourceKind::IdentityPool,
    ResourceKind::RestApi,
    ResourceKind::UsagePlan,
    ResourceKind::ApiKey,
];

impl Applier {
    /// This applier, knowing the plan's `deletions`: a delete whose container goes too and
    /// that AWS carries out along with it gets no call.
    pub(crate) fn knowing(mut self, deletions: Deletions) -> Self {
        self.deletions = deletions;
        self
    }

    /// `error` without any secret this run sends: AWS's refusals may echo the request (Lambda's
    /// environment error quotes every variable).
    fn scrubbed(&self, mut error: ProviderError) -> ProviderError {
        for secret in self.sensitive.values().chain(self.secrets.values()) {
            if !secret.expose().is_empty() {
                error.message = error.message.replace(secret.expose(), "(sensitive)");
            }
        }
        error
    }
}

/// `change` with the references replaced by physical ids on the side(s) `operation` needs (a
/// delete needs only the live side: what replaces it may not exist yet; a create only the
/// desired side), and the desired side's sensitive placeholders by their values.
fn resolved(
    change: &ResourceChange,
    operation: Operation,
    ids: &BTreeMap<Address, String>,
    sensitive: &BTreeMap<String, Secret>,
) -> Result<ResourceChange, ProviderError> {
    let resolve_all = |attributes: &Option<Attributes>| -> Result<Option<Attributes>, ProviderError> {
        let Some(attributes) = attributes else { return Ok(None) };
        let mut out = Attributes::new();
        for (field, value) in attributes {
            let value = resolve(value, ids).map_err(|missing| {
                ProviderError::other(
                    "resolve",
                    format!("{} refers to {missing}, which does not exist (yet)", change.address),
                )
            })?;
            out.insert(field.clone(), reveal(&value, sensitive));
        }
        Ok(Some(out))
    };
    let before = if operation == Operation::Create { None } else { resolve_all(&change.before)? };
    let after = if operation == Operation::Delete { None } else { resolve_all(&change.after)? };
    Ok(ResourceChange { before, after, ..change.clone() })
}
