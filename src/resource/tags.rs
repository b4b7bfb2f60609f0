//! The stack's own tags (`tags:` in the stack file) on the resources it owns: which tag keys are
//! the user's to manage, and the one difference between a resource's live tags and the wanted
//! ones that every provider sends with its service's tag calls. Keys starting with `authdemo:`
//! (ownership) or `aws:` (AWS's own, which no one else may set or delete) are never managed.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;

/// The key prefixes the stack file's tags may not use; discovery leaves such tags out.
pub(crate) const RESERVED_PREFIXES: [&str; 2] = ["aws:", "authdemo:"];

/// Whether `key` starts with a reserved prefix (in any case, as AWS compares `aws:`).
pub(crate) fn is_reserved(key: &str) -> bool {
    RESERVED_PREFIXES.iter().any(|prefix| key.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix)))
}

/// The tags of `all` that are the stack file's to manage: every one but the reserved ones.
pub(crate) fn user_tags<'a>(all: impl IntoIterator<Item = (&'a String, &'a String)>) -> BTreeMap<String, String> {
    all.into_iter().filter(|(key, _)| !is_reserved(key)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// What turns a resource's live tags into the wanted ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TagChanges {
    /// Tags to add or whose value changes.
    pub set: BTreeMap<String, String>,
    /// Keys to remove.
    pub remove: Vec<String>,
}

impl TagChanges {
    /// The changes from `live` to `wanted`, both maps of user tags; a reserved key in `live` is
    /// never removed.
    pub(crate) fn between(live: &BTreeMap<String, String>, wanted: &BTreeMap<String, String>) -> Self {
        let set = wanted.iter().filter(|(k, v)| live.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
        let remove = live.keys().filter(|k| !wanted.contains_key(*k) && !is_reserved(k)).cloned().collect();
        Self { set, remove }
    }

    /// These changes, also setting `ownership` when the resource is being adopted.
    #[must_use]
    pub(crate) fn adopting(mut self, adopt: bool, ownership: impl IntoIterator<Item = (String, String)>) -> Self {
        if adopt {
            self.set.extend(ownership);
        }
        self
    }

    /// Whether nothing changes.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }

    /// Sends these changes with a service's own tag calls: `untag` with the keys to remove first
    /// (so that the resource never holds more tags than AWS allows), then `tag` with the tags to
    /// set; a call with nothing to send is not made.
    pub(crate) async fn send<E, Untag, Tag>(
        &self,
        untag: impl FnOnce(Vec<String>) -> Untag,
        tag: impl FnOnce(HashMap<String, String>) -> Tag,
    ) -> Result<(), E>
    where
        Untag: Future<Output = Result<(), E>>,
        Tag: Future<Output = Result<(), E>>,
    {
        if !self.remove.is_empty() {
            untag(self.remove.clone()).await?;
        }
        if !self.set.is_empty() {
            tag(self.set.clone().into_iter().collect()).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_difference_sets_added_and_changed_tags_and_removes_the_others() {
        let live = map(&[("team", "payments"), ("owner", "bob"), ("cost", "1")]);
        let wanted = map(&[("team", "billing"), ("cost", "1"), ("env", "dev")]);
        let changes = TagChanges::between(&live, &wanted);
        assert_eq!(changes.set, map(&[("env", "dev"), ("team", "billing")]));
        assert_eq!(changes.remove, ["owner"]);
        assert!(TagChanges::between(&wanted, &wanted).is_empty());
    }

    #[test]
    fn reserved_tags_are_neither_managed_nor_removed() {
        let live = map(&[("aws:cloudformation:stack-name", "x"), ("AWS:other", "y"), ("authdemo:stack", "s")]);
        assert!(user_tags(&live).is_empty());
        assert!(TagChanges::between(&live, &BTreeMap::new()).is_empty());
        assert!(is_reserved("Authdemo:id") && !is_reserved("awsome") && !is_reserved("a"));
    }

    #[test]
    fn adopting_adds_the_ownership_tags() {
        let ownership = [("authdemo:stack".to_string(), "s".to_string())];
        let changes = TagChanges::default().adopting(true, ownership.clone());
        assert_eq!(changes.set, map(&[("authdemo:stack", "s")]));
        assert!(TagChanges::default().adopting(false, ownership).is_empty());
    }

    #[tokio::test]
    async fn sends_removals_first_and_no_call_with_nothing_to_send() {
        let calls = &std::sync::Mutex::new(Vec::<String>::new());
        let record = |call: String| {
            calls.lock().unwrap().push(call);
            Ok::<(), ()>(())
        };
        let untag = |keys: Vec<String>| async move { record(format!("untag {keys:?}")) };
        let tag = |tags: HashMap<String, String>| async move { record(format!("tag {}", tags.len())) };
        let changes = TagChanges::between(&map(&[("old", "1"), ("team", "a")]), &map(&[("team", "b")]));
        changes.send(untag, tag).await.unwrap();
        assert_eq!(*calls.lock().unwrap(), ["untag [\"old\"]", "tag 1"]);
        calls.lock().unwrap().clear();
        let same = TagChanges::between(&map(&[("team", "a")]), &map(&[("team", "a")]));
        same.send(untag, tag).await.unwrap();
        assert!(calls.lock().unwrap().is_empty(), "no call with nothing to send");
    }
}
