use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

use super::*;
use crate::apply::steps;
use crate::error::ErrorClass;
use crate::plan::{Action, Plan};
use crate::resource::{ResourceKind, user_pool_address};
use crate::step::Operation;

/// Records the order of calls and the peak concurrency; fails the addresses it is told to.
#[derive(Default)]
struct FakeRunner {
    log: Mutex<Vec<String>>,
    running: AtomicUsize,
    peak: AtomicUsize,
    fail: Vec<String>,
}

impl Runner for FakeRunner {
    async fn run(
        &self,
        step: &Step,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<Option<String>, ProviderError> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        let label = format!("{:?} {}", step.operation, step.address);
        self.log.lock().unwrap().push(label);
        if self.fail.contains(&step.address.to_string()) {
            return Err(ProviderError::new(ErrorClass::Other, "Fake", "boom"));
        }
        if !change.depends_on.is_empty() && step.operation != Operation::Delete {
            assert!(ids.contains_key(&user_pool_address()), "the pool id is known before its children run");
        }
        Ok((step.operation == Operation::Create).then(|| format!("id-{}", step.address.name)))
    }
}

struct Silent;
impl Reporter for Silent {
    fn report(&self, _: Event<'_>) {}
}

fn change(address: Address, action: Action, parent: bool) -> ResourceChange {
    ResourceChange {
        address,
        action,
        id: (action != Action::Create).then(|| "live".into()),
        reason: crate::plan::Reason::Missing,
        changed_fields: vec![],
        before: None,
        after: None,
        depends_on: if parent { vec![user_pool_address()] } else { vec![] },
        notes: vec![],
        adopt: false,
    }
}

fn clients(n: usize, action: Action) -> Vec<ResourceChange> {
    (0..n).map(|i| change(Address::new(ResourceKind::UserPoolClient, format!("c{i}")), action, true)).collect()
}

async fn run_plan(changes: Vec<ResourceChange>, runner: FakeRunner, parallelism: usize) -> (Outcome, Arc<FakeRunner>) {
    let plan = Plan {
        stack: "t".into(),
        account: String::new(),
        region: String::new(),
        changes,
        ignored: vec![],
        conflicts: vec![],
    };
    let (graph, work) = steps(&plan).unwrap();
    let runner = Arc::new(runner);
    let ids = plan.changes.iter().filter_map(|c| Some((c.address.clone(), c.id.clone()?))).collect();
    let pace = Pace { parallelism, stop: &AtomicBool::new(false), reporter: &Silent };
    let outcome = execute(&graph, &work, runner.clone(), ids, pace).await;
    (outcome, runner)
}

#[tokio::test]
async fn creates_parents_before_children() {
    let mut changes = vec![change(user_pool_address(), Action::Create, false)];
    changes.extend(clients(3, Action::Create));
    let (outcome, runner) = run_plan(changes, FakeRunner::default(), 10).await;
    assert!(outcome.succeeded());
    assert_eq!(runner.log.lock().unwrap()[0], "Create user_pool.main");
}

#[tokio::test]
async fn deletes_children_before_parents() {
    let mut changes = clients(2, Action::Delete);
    changes.push(change(user_pool_address(), Action::Delete, false));
    let (outcome, runner) = run_plan(changes, FakeRunner::default(), 10).await;
    assert!(outcome.succeeded());
    assert_eq!(runner.log.lock().unwrap().last().unwrap(), "Delete user_pool.main");
}

#[tokio::test]
async fn replacement_deletes_the_child_before_the_parent_and_recreates_in_reverse() {
    let domain = Address::new(ResourceKind::UserPoolDomain, "main");
    let changes = vec![change(user_pool_address(), Action::Replace, false), change(domain, Action::Replace, true)];
    let (outcome, runner) = run_plan(changes, FakeRunner::default(), 10).await;
    assert!(outcome.succeeded());
    assert_eq!(
        *runner.log.lock().unwrap(),
        [
            "Delete user_pool_domain.main",
            "Delete user_pool.main",
            "Create user_pool.main",
            "Create user_pool_domain.main"
        ]
    );
}

#[tokio::test]
async fn never_runs_more_steps_at_once_than_allowed() {
    let mut changes = vec![change(user_pool_address(), Action::NoOp, false)];
    changes.extend(clients(12, Action::Update));
    let (outcome, runner) = run_plan(changes.clone(), FakeRunner::default(), 3).await;
    assert!(outcome.succeeded());
    assert_eq!(runner.peak.load(Ordering::SeqCst), 3);
    let (_, runner) = run_plan(changes, FakeRunner::default(), 1).await;
    assert_eq!(runner.peak.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failure_skips_its_dependents_but_not_independent_steps() {
    let mut changes = vec![change(user_pool_address(), Action::Create, false)];
    changes.extend(clients(2, Action::Create));
    let other = change(Address::new(ResourceKind::UserPoolClient, "elsewhere"), Action::Update, false);
    changes.push(other);
    let runner = FakeRunner { fail: vec!["user_pool.main".into()], ..FakeRunner::default() };
    let (outcome, runner) = run_plan(changes, runner, 10).await;
    assert!(!outcome.succeeded());
    assert_eq!(outcome.count(&StepOutcome::Skipped), 2);
    assert!(outcome.steps.values().any(|o| matches!(o, StepOutcome::Failed(_))));
    assert!(runner.log.lock().unwrap().contains(&"Update user_pool_client.elsewhere".to_string()));
    assert!(!runner.log.lock().unwrap().iter().any(|l| l.contains("c0")));
}

#[tokio::test]
async fn a_stop_request_starts_nothing_new() {
    let plan = Plan {
        stack: "t".into(),
        account: String::new(),
        region: String::new(),
        changes: clients(3, Action::Update),
        ignored: vec![],
        conflicts: vec![],
    };
    let (graph, work) = steps(&plan).unwrap();
    let runner = Arc::new(FakeRunner::default());
    let pace = Pace { parallelism: 10, stop: &AtomicBool::new(true), reporter: &Silent };
    let outcome = execute(&graph, &work, runner.clone(), BTreeMap::new(), pace).await;
    assert!(outcome.interrupted);
    assert_eq!(outcome.count(&StepOutcome::NotStarted), 3);
    assert!(runner.log.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_step_with_the_longest_chain_behind_it_starts_first() {
    let standalone = change(Address::new(ResourceKind::UserPool, "a"), Action::Create, false);
    let mut changes = vec![standalone, change(user_pool_address(), Action::Create, false)];
    changes.extend(clients(2, Action::Create));
    let (outcome, runner) = run_plan(changes, FakeRunner::default(), 1).await;
    assert!(outcome.succeeded());
    let log = runner.log.lock().unwrap();
    assert_eq!(log[0], "Create user_pool.main", "the pool has its clients behind it: {log:?}");
}
