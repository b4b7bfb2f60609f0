//! The handler of one resource kind: create, finish, update, delete and find, over the kind's
//! typed [`Spec`]. [`run_handler`] carries out a step with it, the same way for every kind: it
//! reads the plan's attributes into specs, and when a create's answer was lost (or a repeated
//! create finds its resource already there, or AWS answered a create that takes no idempotency
//! token with a server error) it finds the resource by name and ownership tags and goes on with
//! the rest of the step; a create is sent again only after its resource was not found.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use super::lock::LISTING_SETTLE;
use crate::artifact::Artifact;
use crate::error::{ErrorClass, ProviderError};
use crate::plan::ResourceChange;
use crate::resource::{Address, Attributes, Spec};
use crate::secret::Secret;
use crate::step::Operation;

/// What a handler knows about the step it carries out.
pub(super) struct StepContext<'a> {
    /// The resource.
    pub address: &'a Address,
    /// Whether this run takes the resource over (`--adopt`): the update adds the ownership tags.
    pub adopt: bool,
    /// The secret the stack file gives the resource (a password, an API key value).
    pub secret: Option<&'a Secret>,
    /// The function's code package.
    pub artifact: Option<&'a Artifact>,
    /// Whether the plan deletes this deleted resource's container for good (a domain's pool,
    /// in a destroy): the container's delete then waits for what this delete left settling.
    pub container_goes_for_good: bool,
    /// The resources inside this deleted one that the plan deletes too (a pool's domain).
    pub deleted_inside: Vec<Address>,
    ids: &'a BTreeMap<Address, String>,
}

impl<'a> StepContext<'a> {
    /// The context of a step on `address`, with the physical ids known so far.
    pub(super) fn new(address: &'a Address, ids: &'a BTreeMap<Address, String>) -> Self {
        Self {
            address,
            adopt: false,
            secret: None,
            artifact: None,
            container_goes_for_good: false,
            deleted_inside: Vec::new(),
            ids,
        }
    }

    /// The physical id of the resource at `address`, known once it exists.
    pub(super) fn id_of(&self, address: &Address) -> Result<&'a str, ProviderError> {
        self.ids
            .get(address)
            .map(String::as_str)
            .ok_or_else(|| ProviderError::other("lookup", format!("{address} has no id yet (was it created?)")))
    }
}

/// How one resource kind is created, changed and deleted in AWS. Every method makes its calls
/// through [`super::call::Calls`], so each call is retried on its own.
pub(super) trait Handler<S: Spec>: Sync {
    /// Sends the create call; returns the new physical id.
    fn create(&self, cx: &StepContext<'_>, wanted: &S) -> impl Future<Output = Result<String, ProviderError>> + Send;

    /// The calls after the create (policies, waiting until it is ready, …); they must be
    /// harmless to repeat, since a create found after a lost answer runs them too.
    fn finish(
        &self,
        _cx: &StepContext<'_>,
        _id: &str,
        _wanted: &S,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send {
        async { Ok(()) }
    }

    /// Changes the live resource `id` from `live` to `wanted`.
    fn update(
        &self,
        cx: &StepContext<'_>,
        _id: &str,
        _live: &S,
        _wanted: &S,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send {
        let address = cx.address.clone();
        async move { Err(ProviderError::other("update", format!("{address} cannot change in place"))) }
    }

    /// Deletes the live resource `id`; one already gone counts as deleted.
    fn delete(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        live: &S,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;

    /// The id of the stack's resource at this address, if it exists (found by name and
    /// confirmed by its ownership tags).
    fn find(
        &self,
        _cx: &StepContext<'_>,
        _wanted: &S,
    ) -> impl Future<Output = Result<Option<String>, ProviderError>> + Send {
        async { Ok(None) }
    }
}

/// Carries out `operation` of `change` with `handler`; returns the new id after a create.
pub(super) async fn run_handler<S: Spec, H: Handler<S>>(
    handler: &H,
    operation: Operation,
    change: &ResourceChange,
    cx: &StepContext<'_>,
) -> Result<Option<String>, ProviderError> {
    let live_id = || {
        change.id.as_deref().ok_or_else(|| ProviderError::other("plan", format!("{} has no live id", change.address)))
    };
    match operation {
        Operation::Create => {
            let wanted = read::<S>(change.after.as_ref(), &change.address)?;
            let id = create_or_find(handler, cx, &wanted).await?;
            handler.finish(cx, &id, &wanted).await?;
            Ok(Some(id))
        }
        Operation::Update => {
            let live = read::<S>(change.before.as_ref(), &change.address)?;
            let wanted = read::<S>(change.after.as_ref(), &change.address)?;
            handler.update(cx, live_id()?, &live, &wanted).await.map(|()| None)
        }
        Operation::Delete => {
            let live = read::<S>(change.before.as_ref(), &change.address)?;
            handler.delete(cx, live_id()?, &live).await.map(|()| None)
        }
    }
}

/// How many times a create answered with a server error is sent, each resend only after its
/// resource was looked for and not found.
const SERVER_ERROR_CREATES: u32 = 3;
/// The wait before looking for the resource of a create answered with a server error.
const FIRST_LOOK_AFTER: Duration = Duration::from_secs(1);
/// The wait after a create answered with a server error before its resource, not found at the
/// first look, is looked for again and only then sent again: AWS's lists may miss a new resource
/// for a while (the lock's listing settle, and its clock margin).
const LAST_LOOK_AFTER: Duration = LISTING_SETTLE.saturating_add(Duration::from_secs(2));

/// Creates the resource, or finds it when the create may have happened though it failed (a lost
/// answer, "already exists", a server error): the id either way. A create answered with a
/// server error that finds nothing is sent again, a few times at most.
async fn create_or_find<S: Spec, H: Handler<S>>(
    handler: &H,
    cx: &StepContext<'_>,
    wanted: &S,
) -> Result<String, ProviderError> {
    let mut tries = 1;
    loop {
        let error = match handler.create(cx, wanted).await {
            Ok(id) => return Ok(id),
            Err(error) if error.class.may_have_created() => error,
            Err(error) => return Err(error),
        };
        let server_error = error.class == ErrorClass::CreateServerError;
        if server_error {
            tokio::time::sleep(FIRST_LOOK_AFTER).await;
        }
        let mut found = handler.find(cx, wanted).await?;
        if found.is_none() && server_error {
            tokio::time::sleep(LAST_LOOK_AFTER.saturating_sub(FIRST_LOOK_AFTER)).await;
            found = handler.find(cx, wanted).await?;
        }
        if let Some(id) = found {
            tracing::info!(address = %cx.address, %id, %error, "the create's resource exists; going on with it");
            return Ok(id);
        }
        if !server_error || tries == SERVER_ERROR_CREATES {
            return Err(error);
        }
        tracing::info!(address = %cx.address, %error, "the create failed and made nothing; sending it again");
        tries += 1;
    }
}

fn read<S: Spec>(attributes: Option<&Attributes>, address: &Address) -> Result<S, ProviderError> {
    let attributes = attributes.ok_or_else(|| ProviderError::other("plan", format!("{address} has no attributes")))?;
    S::from_attributes(attributes).map_err(|e| ProviderError::other("plan", e.to_string()))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::plan::Action;
    use crate::resource::ResourceKind;

    crate::spec! {
        /// A role-like spec for the tests.
        struct Thing for IamRole {
            policy: String,
        }
    }

    /// Fails each create with `class` (all of them, or only the first when `first_only`), and
    /// finds the resource once a create succeeded or when `committed` (from its second look on
    /// when `listed_late`); records the calls.
    struct LosingHandler {
        class: ErrorClass,
        committed: bool,
        first_only: bool,
        listed_late: bool,
        calls: Mutex<Vec<String>>,
    }

    impl LosingHandler {
        fn new(class: ErrorClass, committed: bool, first_only: bool) -> Self {
            Self { class, committed, first_only, listed_late: false, calls: Mutex::default() }
        }

        fn calls(&self) -> Vec<String> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl Handler<Thing> for LosingHandler {
        async fn create(&self, _cx: &StepContext<'_>, _wanted: &Thing) -> Result<String, ProviderError> {
            let mut calls = self.calls.lock().unwrap();
            let first = !calls.contains(&"create".to_string());
            calls.push("create".into());
            if first || !self.first_only {
                return Err(ProviderError::new(self.class, "CreateUserPool", "lost"));
            }
            Ok("arn:role".into())
        }

        async fn finish(&self, _cx: &StepContext<'_>, id: &str, wanted: &Thing) -> Result<(), ProviderError> {
            self.calls.lock().unwrap().push(format!("finish {id} {}", wanted.policy));
            Ok(())
        }

        async fn delete(&self, _cx: &StepContext<'_>, _id: &str, _live: &Thing) -> Result<(), ProviderError> {
            unreachable!("not deleted in these tests")
        }

        async fn find(&self, _cx: &StepContext<'_>, _wanted: &Thing) -> Result<Option<String>, ProviderError> {
            let mut calls = self.calls.lock().unwrap();
            let looked = calls.iter().any(|call| call == "find");
            calls.push("find".into());
            Ok((self.committed && (looked || !self.listed_late)).then(|| "arn:role".into()))
        }
    }

    async fn create_with(handler: &LosingHandler) -> Result<Option<String>, ProviderError> {
        let address = Address::new(ResourceKind::IamRole, "x");
        let change = ResourceChange {
            address: address.clone(),
            action: Action::Create,
            id: None,
            reason: crate::plan::Reason::Missing,
            changed_fields: Vec::new(),
            before: None,
            after: Some(Thing { policy: "p".into() }.to_attributes()),
            depends_on: Vec::new(),
            notes: Vec::new(),
            adopt: false,
        };
        let ids = BTreeMap::new();
        run_handler(handler, Operation::Create, &change, &StepContext::new(&address, &ids)).await
    }

    #[tokio::test]
    async fn a_create_whose_answer_was_lost_continues_with_the_resource_it_finds() {
        let handler = LosingHandler::new(ErrorClass::Unanswered, true, false);
        assert_eq!(create_with(&handler).await, Ok(Some("arn:role".to_string())));
        assert_eq!(handler.calls(), ["create", "find", "finish arn:role p"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_create_answered_with_a_server_error_is_looked_for_before_it_is_sent_again() {
        let committed = LosingHandler::new(ErrorClass::CreateServerError, true, false);
        assert_eq!(create_with(&committed).await, Ok(Some("arn:role".to_string())));
        assert_eq!(committed.calls(), ["create", "find", "finish arn:role p"]);
        let not_made = LosingHandler::new(ErrorClass::CreateServerError, false, true);
        assert_eq!(create_with(&not_made).await, Ok(Some("arn:role".to_string())));
        assert_eq!(not_made.calls(), ["create", "find", "find", "create", "finish arn:role p"]);
        let failing = LosingHandler::new(ErrorClass::CreateServerError, false, false);
        assert_eq!(create_with(&failing).await.unwrap_err().class, ErrorClass::CreateServerError);
        let looked_twice = ["create", "find", "find"];
        assert_eq!(failing.calls(), [looked_twice, looked_twice, looked_twice].concat());
        let listed_late =
            LosingHandler { listed_late: true, ..LosingHandler::new(ErrorClass::CreateServerError, true, false) };
        let started = tokio::time::Instant::now();
        assert_eq!(create_with(&listed_late).await, Ok(Some("arn:role".to_string())));
        assert_eq!(listed_late.calls(), ["create", "find", "find", "finish arn:role p"], "found, not sent again");
        assert!(started.elapsed() >= LISTING_SETTLE, "the second look waits for the lists to settle");
        let lost = LosingHandler::new(ErrorClass::Unanswered, false, true);
        assert_eq!(create_with(&lost).await.unwrap_err().class, ErrorClass::Unanswered, "no resend after a timeout");
        assert_eq!(lost.calls(), ["create", "find"]);
    }
}
