//! Faults between hoist and AWS, injected by `hoist_testkit::proxy` on the
//! wire between the `hoist` binary and the emulator.

mod common;

use std::sync::Arc;

use common::Run;
use hoist_testkit::proxy::{FaultConfig, FaultProxy};
use hoist_testkit::{Emulator, EmulatorOptions, IsolatedEnv};

const REGION: &str = "us-east-1";

/// Run the binary off the async runtime (it blocks until hoist exits).
async fn hoist(env: &Arc<IsolatedEnv>, args: &[&str]) -> Run {
    let env = env.clone();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || common::hoist(&env, &args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .expect("hoist runner")
}

/// The emulator's admin environment, its requests sent through `proxy`.
fn via(emu: &Emulator, proxy: &FaultProxy) -> Arc<IsolatedEnv> {
    let mut env = emu.env();
    env.set("AWS_ENDPOINT_URL", proxy.endpoint());
    Arc::new(env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn smoke() {
    let emu = Emulator::start();
    let proxy = FaultProxy::start(emu.endpoint(), FaultConfig::default());
    let env = via(&emu, &proxy);
    let run = hoist(&env, &["init", "--yes"]).await;
    for e in proxy.exchanges() {
        eprintln!("{:>3} {:>5}ms {:>5}ms {} {} {:?} {:?}", e.seq, e.arrived.as_millis(), e.finished.as_millis(), e.label(), e.path, e.status, e.injected);
    }
    run.expect_code(0);
    let _ = REGION;
    let _ = EmulatorOptions::default();
}
