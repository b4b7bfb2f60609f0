//! The stack's claim on AWS resources: the same-named candidates a listing gives, the one its
//! ownership tags pick among them, and the tag changes sent to a resource it owns.

use std::collections::HashMap;
use std::fmt;

use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};

use super::call::Calls;
use crate::error::{ErrorClass, ProviderError};
use crate::live::{ForeignResource, LiveState, check_ownership, is_untagged};
use crate::resource::Address;
use crate::resource::tags::TagChanges;

/// A resource found by name: its id, its tags and its description.
pub(super) type Candidate<T> = (String, HashMap<String, String>, T);

/// The items of `listed` whose `name` is the stack's, each as a [`Candidate`] that `describe`
/// reads (`None` when it has gone since the listing, or has no id).
pub(super) async fn candidates<Item, T, Described>(
    listed: Vec<Item>,
    stack: &str,
    name: impl Fn(&Item) -> Option<&str>,
    describe: impl Fn(Item) -> Described,
) -> Result<Vec<Candidate<T>>, ProviderError>
where
    Described: Future<Output = Result<Option<Candidate<T>>, ProviderError>>,
{
    let mut candidates = Vec::new();
    for item in listed.into_iter().filter(|item| name(item) == Some(stack)) {
        candidates.extend(describe(item).await?);
    }
    Ok(candidates)
}

/// Picks the stack's resource among same-named `candidates` (id, tags, description) by its
/// ownership tags; the others are recorded as foreign. Two owned candidates are a conflict. An
/// untagged candidate of an address the user asked to adopt is taken over instead.
pub(super) fn claim<T>(
    candidates: Vec<Candidate<T>>,
    stack: &str,
    address: &Address,
    live: &mut LiveState,
) -> Result<Option<T>, ProviderError> {
    let mut owned = Vec::new();
    let mut adoptable = Vec::new();
    for (id, tags, description) in candidates {
        match ForeignResource::of(address, id.clone(), &tags, stack) {
            None => owned.push((id, description)),
            Some(_) if live.adoptable.contains(address) && is_untagged(&tags) => adoptable.push((id, description)),
            Some(foreign) => live.foreign.push(foreign),
        }
    }
    if owned.is_empty() && adoptable.len() == 1 {
        live.adopted.insert(address.clone());
        owned = adoptable;
    } else if !adoptable.is_empty() {
        let ids: Vec<&str> = adoptable.iter().map(|(id, _)| id.as_str()).collect();
        let message = format!(
            "cannot adopt {address}: {} candidates ({}); delete or rename the extra ones by hand",
            ids.len(),
            ids.join(", ")
        );
        return Err(ProviderError::new(ErrorClass::Conflict, "adopt", message));
    }
    if owned.len() > 1 {
        return Err(several_claim(address, stack, owned.iter().map(|(id, _)| id.as_str())));
    }
    Ok(owned.pop().map(|(_, description)| description))
}

/// The error for several resources that claim `address` of `stack`: which to keep is not for the
/// tool to guess, so the run stops with their ids and the fix.
pub(super) fn several_claim<'a>(address: &Address, stack: &str, ids: impl Iterator<Item = &'a str>) -> ProviderError {
    let message = format!(
        "several resources claim {address} of stack `{stack}`: {}; delete the extra ones by hand, keeping the one in use",
        ids.collect::<Vec<_>>().join(", ")
    );
    ProviderError::new(ErrorClass::Conflict, "discovery", message)
}

/// The id of the one candidate (id, tags, description) owned by `address` of `stack`, for a
/// create that looks for its resource after a lost answer; several are a conflict.
pub(super) fn owned_id<T>(
    candidates: Vec<Candidate<T>>,
    stack: &str,
    address: &Address,
) -> Result<Option<String>, ProviderError> {
    let mut owned: Vec<String> = candidates
        .into_iter()
        .filter(|(_, tags, _)| check_ownership(tags, stack, address).is_ok())
        .map(|(id, _, _)| id)
        .collect();
    if owned.len() > 1 {
        return Err(several_claim(address, stack, owned.iter().map(String::as_str)));
    }
    Ok(owned.pop())
}

/// Sends `changes` to one resource with its service's tag operations, each named with the
/// request it sends: `untag` with the keys to remove first (so that the resource never holds more
/// tags than AWS allows), then `tag` with the tags to set; a call with nothing to send is not made.
pub(super) async fn send_tags<UntagFut, TagFut, U, T, UE, TE, UR, TR>(
    calls: &Calls,
    changes: &TagChanges,
    (untag_operation, untag): (&'static str, impl Fn(Vec<String>) -> UntagFut),
    (tag_operation, tag): (&'static str, impl Fn(HashMap<String, String>) -> TagFut),
) -> Result<(), ProviderError>
where
    UntagFut: Future<Output = Result<U, SdkError<UE, UR>>>,
    TagFut: Future<Output = Result<T, SdkError<TE, TR>>>,
    UE: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    TE: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    UR: fmt::Debug,
    TR: fmt::Debug,
{
    let (untag, tag) = (&untag, &tag);
    changes
        .send(
            |keys: Vec<String>| async move { calls.call(untag_operation, || untag(keys.clone())).await.map(drop) },
            |tags: HashMap<String, String>| async move {
                calls.call(tag_operation, || tag(tags.clone())).await.map(drop)
            },
        )
        .await
}
