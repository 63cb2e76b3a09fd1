//! The one applier every declarative command shares (`init`'s footprint,
//! `deploy`'s endpoints): a plan is a set of work items, each a resource's
//! steps, each declaring which other items it must wait for. The applier
//! starts every item whose dependencies are done, up to a bound at once,
//! and starts more as items finish. Nothing is looked up by name or wired
//! by hand: an item a plan produces is an item that is applied.
//!
//! A failed item fails only itself and what depends on it (reported as
//! skipped); the rest finish, and re-running the command converges.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use futures_util::stream::{FuturesUnordered, StreamExt};

/// One resource's share of a plan.
#[derive(Debug, Clone)]
pub struct Work<S> {
    /// Unique within the plan, e.g. `role hoist-ml-sagemaker`.
    pub key: String,
    /// Keys of the items that must finish (successfully) first.
    pub after: Vec<String>,
    pub steps: Vec<S>,
}

/// How one resource's steps run.
pub trait Step: Clone + Send + Sync {
    /// Whether the step must finish before the item's later steps start
    /// (it creates the resource, or later steps read what it made). Steps
    /// that do not are sent together once the ones before them are done.
    fn goes_first(&self) -> bool;
}

/// What happened to each item.
#[derive(Debug)]
pub struct Outcome<E> {
    /// Items whose steps all succeeded (or that had none), in finishing order.
    pub done: Vec<String>,
    /// Items that failed, with the first error.
    pub failed: Vec<(String, E)>,
    /// Items not started because something they wait for failed.
    pub skipped: Vec<String>,
}

impl<E> Outcome<E> {
    pub fn is_ok(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }
}

/// A plan whose dependencies name no item, or that wait for each other,
/// can never be applied: that is a bug in the plan, not in the account.
#[derive(Debug, thiserror::Error)]
#[error("internal error: the plan cannot be ordered ({0})")]
pub struct BadPlan(String);

/// Apply `work`, at most `limit` items at once. `run` performs one step;
/// `finished` is told of each item that had steps and finished them
/// (for progress lines).
pub async fn apply<S, E, F, Fut>(work: Vec<Work<S>>, limit: usize, run: F, mut finished: impl FnMut(&str)) -> Result<Outcome<E>, BadPlan>
where
    S: Step,
    F: Fn(S) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    check(&work)?;
    let limit = limit.max(1);
    let mut waiting: BTreeMap<String, Work<S>> = work.into_iter().map(|w| (w.key.clone(), w)).collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut outcome = Outcome { done: Vec::new(), failed: Vec::new(), skipped: Vec::new() };
    let mut running = FuturesUnordered::new();
    loop {
        // Whatever can never run (it waits for a failure) is skipped;
        // whatever is ready starts, while there is room.
        let blocked: Vec<String> = waiting
            .values()
            .filter(|w| w.after.iter().any(|a| outcome.failed.iter().any(|(k, _)| k == a) || outcome.skipped.contains(a)))
            .map(|w| w.key.clone())
            .collect();
        for key in blocked {
            waiting.remove(&key);
            outcome.skipped.push(key);
        }
        let ready: Vec<String> =
            waiting.values().filter(|w| w.after.iter().all(|a| done.contains(a))).map(|w| w.key.clone()).collect();
        for key in ready.into_iter().take(limit.saturating_sub(running.len())) {
            let item = waiting.remove(&key).expect("ready item is waiting");
            let run = &run;
            running.push(async move {
                let had_steps = !item.steps.is_empty();
                (item.key, had_steps, run_steps(item.steps, run).await)
            });
        }
        let Some((key, had_steps, result)) = running.next().await else { break };
        match result {
            Ok(()) => {
                if had_steps {
                    finished(&key);
                }
                done.insert(key.clone());
                outcome.done.push(key);
            }
            Err(e) => outcome.failed.push((key, e)),
        }
    }
    // Skipped transitively: anything still waiting waits for a skip.
    outcome.skipped.extend(waiting.into_keys());
    Ok(outcome)
}

/// One item's steps: those that go first one by one, in order; each run of
/// the others together.
async fn run_steps<S, E, F, Fut>(steps: Vec<S>, run: &F) -> Result<(), E>
where
    S: Step,
    F: Fn(S) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let mut batch = Vec::new();
    for step in steps {
        if step.goes_first() {
            for result in futures_util::future::join_all(batch.drain(..).map(run)).await {
                result?;
            }
            run(step).await?;
        } else {
            batch.push(step);
        }
    }
    for result in futures_util::future::join_all(batch.into_iter().map(run)).await {
        result?;
    }
    Ok(())
}

/// Every dependency names an item, and there is no cycle.
fn check<S>(work: &[Work<S>]) -> Result<(), BadPlan> {
    let keys: BTreeSet<&str> = work.iter().map(|w| w.key.as_str()).collect();
    if keys.len() != work.len() {
        return Err(BadPlan("two items share a key".into()));
    }
    for w in work {
        if let Some(a) = w.after.iter().find(|a| !keys.contains(a.as_str())) {
            return Err(BadPlan(format!("{} waits for {a}, which is not in the plan", w.key)));
        }
    }
    // Kahn's algorithm: whatever is never freed is in a cycle.
    let mut freed: BTreeSet<&str> = BTreeSet::new();
    loop {
        let next: Vec<&str> = work
            .iter()
            .filter(|w| !freed.contains(w.key.as_str()) && w.after.iter().all(|a| freed.contains(a.as_str())))
            .map(|w| w.key.as_str())
            .collect();
        if next.is_empty() {
            break;
        }
        freed.extend(next);
    }
    match work.iter().find(|w| !freed.contains(w.key.as_str())) {
        Some(w) => Err(BadPlan(format!("{} is in a dependency cycle", w.key))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;

    #[derive(Debug, Clone)]
    struct T {
        name: &'static str,
        first: bool,
        fail: bool,
    }

    impl Step for T {
        fn goes_first(&self) -> bool {
            self.first
        }
    }

    fn step(name: &'static str, first: bool) -> T {
        T { name, first, fail: false }
    }

    fn work(key: &str, after: &[&str], steps: Vec<T>) -> Work<T> {
        Work { key: key.into(), after: after.iter().map(|a| a.to_string()).collect(), steps }
    }

    /// Runs the plan, logging `start X` / `end X` per step, each step taking 10 ms.
    async fn trace(plan: Vec<Work<T>>, limit: usize) -> (Vec<String>, Outcome<String>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        let outcome = apply(
            plan,
            limit,
            move |s: T| {
                let log = l.clone();
                async move {
                    log.lock().unwrap().push(format!("start {}", s.name));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    log.lock().unwrap().push(format!("end {}", s.name));
                    if s.fail { Err(format!("{} failed", s.name)) } else { Ok(()) }
                }
            },
            |_| {},
        )
        .await
        .unwrap();
        let log = log.lock().unwrap().clone();
        (log, outcome)
    }

    fn index(log: &[String], entry: &str) -> usize {
        log.iter().position(|l| l == entry).unwrap_or_else(|| panic!("{entry} not in {log:?}"))
    }

    #[tokio::test]
    async fn dependencies_order_items_and_independent_items_overlap() {
        let plan = vec![
            work("boundary", &[], vec![step("b", true)]),
            work("role", &["boundary"], vec![step("role.create", true), step("role.inline", false), step("role.tag", false)]),
            work("profile", &["boundary"], vec![step("profile.create", true)]),
            work("holds", &["role", "profile"], vec![step("add", true)]),
            work("bucket", &[], vec![step("bucket", true)]),
        ];
        let (log, outcome) = trace(plan, 8).await;
        assert!(outcome.is_ok());
        assert!(index(&log, "end b") < index(&log, "start role.create"));
        assert!(index(&log, "end b") < index(&log, "start profile.create"));
        assert!(index(&log, "end role.create") < index(&log, "start role.inline"));
        // A resource's non-first steps go out together.
        assert!(index(&log, "start role.tag") < index(&log, "end role.inline"));
        assert!(index(&log, "end role.tag") < index(&log, "start add"));
        assert!(index(&log, "end profile.create") < index(&log, "start add"));
        // Independent of the boundary: starts alongside it.
        assert!(index(&log, "start bucket") < index(&log, "end b"));
    }

    #[tokio::test]
    async fn the_bound_limits_how_many_items_run_at_once() {
        let plan: Vec<Work<T>> = ["a", "b", "c", "d", "e"].iter().map(|k| work(k, &[], vec![step(k, true)])).collect();
        let (log, outcome) = trace(plan, 2).await;
        assert_eq!(outcome.done.len(), 5);
        let mut live = 0usize;
        let mut most = 0usize;
        for entry in &log {
            live = if entry.starts_with("start") { live + 1 } else { live - 1 };
            most = most.max(live);
        }
        assert_eq!(most, 2, "{log:?}");
    }

    #[tokio::test]
    async fn a_failure_skips_its_dependents_only() {
        let plan = vec![
            work("a", &[], vec![T { name: "a", first: true, fail: true }]),
            work("b", &["a"], vec![step("b", true)]),
            work("c", &["b"], vec![step("c", true)]),
            work("d", &[], vec![step("d", true)]),
        ];
        let (log, outcome) = trace(plan, 4).await;
        assert_eq!(outcome.failed.iter().map(|(k, e)| (k.as_str(), e.as_str())).collect::<Vec<_>>(), [("a", "a failed")]);
        let mut skipped = outcome.skipped.clone();
        skipped.sort();
        assert_eq!(skipped, ["b", "c"]);
        assert_eq!(outcome.done, ["d"]);
        assert!(!log.iter().any(|l| l == "start b" || l == "start c"));
    }

    #[tokio::test]
    async fn plans_that_cannot_be_ordered_are_refused_before_any_step() {
        let run = |_s: T| async { Err::<(), String>("ran".into()) };
        let missing = vec![work("a", &["nope"], vec![step("a", true)])];
        assert!(apply(missing, 1, run, |_| {}).await.unwrap_err().to_string().contains("not in the plan"));
        let cycle = vec![work("a", &["b"], vec![step("a", true)]), work("b", &["a"], vec![step("b", true)])];
        assert!(apply(cycle, 1, run, |_| {}).await.unwrap_err().to_string().contains("cycle"));
    }
}
