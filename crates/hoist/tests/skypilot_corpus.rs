//! The SkyPilot compatibility corpus (`tests/corpus/skypilot/`): task
//! files written from SkyPilot's documented schema, covering every field
//! it documents (docs/SKYPILOT.md maps each field to its file). Each file
//! says on its first line what hoist must do with it:
//!
//! - `# expect: ok`: it parses and validates; if this machine can run it
//!   (no GPU or node count it lacks), it runs to success through the real
//!   binary on the local backend;
//! - `# expect: rejected FIELD`: it is refused, blaming FIELD (`-` when
//!   the file as a whole is at fault), with a message in the user's
//!   terms: never a parser's internal type or limit names.

mod common;

use std::path::{Path, PathBuf};

use hoist::backends::host::{Host, fit};
use hoist::task::{Overrides, Task};
use hoist_testkit::IsolatedEnv;

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/skypilot");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "the corpus is in {}", dir.display());
    files
}

enum Expect {
    Ok,
    Rejected(String),
}

fn expectation(path: &Path) -> Expect {
    let text = std::fs::read_to_string(path).unwrap();
    let first = text.lines().next().unwrap_or_default();
    match first.strip_prefix("# expect: ").map(str::trim) {
        Some("ok") => Expect::Ok,
        Some(r) if r.starts_with("rejected ") => Expect::Rejected(r["rejected ".len()..].trim().to_string()),
        _ => panic!("{}: the first line must be `# expect: ok` or `# expect: rejected FIELD`", path.display()),
    }
}

/// Words that belong to the YAML/serde layer, not to the user.
const INTERNALS: &[&str] = &["u32", "u64", "i64", "f64", "struct", "Nodes {", "limits breached", "Spanned", "enum", "scalar"];

#[test]
fn every_corpus_file_is_accepted_or_refused_as_stated() {
    let mut failures = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    for path in corpus() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let result = Task::load(&path, &Overrides::default());
        match (expectation(&path), result) {
            (Expect::Ok, Ok(_)) => accepted += 1,
            (Expect::Ok, Err(e)) => failures.push(format!("{name}: expected ok, got: {e}")),
            (Expect::Rejected(field), Ok(_)) => failures.push(format!("{name}: expected rejection at {field}, but it was accepted")),
            (Expect::Rejected(field), Err(e)) => {
                rejected += 1;
                let blamed = e.field.clone().unwrap_or_else(|| "-".into());
                if field != "-" && blamed != field {
                    failures.push(format!("{name}: expected `{field}` to be blamed, got `{blamed}`: {e}"));
                }
                if e.line == 0 && field != "-" {
                    failures.push(format!("{name}: no line in: {e}"));
                }
                if let Some(word) = INTERNALS.iter().find(|w| e.message.contains(*w)) {
                    failures.push(format!("{name}: the message shows the parser's internals ({word:?}): {e}"));
                }
            }
        }
    }
    eprintln!("corpus: {accepted} accepted, {rejected} refused as expected");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Accepted files this machine can run, run: through the real binary, on
/// the local backend, to success, with every note printed.
#[test]
fn accepted_corpus_files_run_locally_where_they_fit() {
    let mut env = IsolatedEnv::new();
    env.set("HOIST_DATA_DIR", env.path().join("data"));
    let host = Host::detect();
    let mut ran = 0;
    let mut failures = Vec::new();
    for path in corpus() {
        if !matches!(expectation(&path), Expect::Ok) {
            continue;
        }
        let task = Task::load(&path, &Overrides::default()).unwrap();
        if fit(&task, &host).is_err() {
            // Refused before anything starts, which the next test checks.
            continue;
        }
        let file = path.to_string_lossy().to_string();
        let run = common::hoist(&env, &["run", &file, "--backend", "local"]);
        if run.code != 0 {
            failures.push(format!("{}: exit {}\n{}{}", path.display(), run.code, run.stdout, run.stderr));
        }
        for n in &task.notices {
            if !run.stderr.contains(&n.field) {
                failures.push(format!("{}: the note about `{}` was not shown:\n{}", path.display(), n.field, run.stderr));
            }
        }
        ran += 1;
    }
    eprintln!("corpus: {ran} files ran locally");
    assert!(ran >= 8, "too few corpus files ran locally ({ran})");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What this machine cannot give is refused before anything is created,
/// saying what is missing and where it can run.
#[test]
fn local_backend_refuses_what_this_machine_lacks_and_notes_what_does_not_apply() {
    let host = Host { cpus: 2, memory_gib: 8.0, gpus: vec![] };
    let task = |yaml: &str| Task::parse(Path::new("/tmp/t.yaml"), &format!("run: x\n{yaml}"), &Overrides::default()).unwrap();
    let err = fit(&task("resources:\n  accelerators: H100:8\n"), &host).unwrap_err();
    assert!(err.contains("H100:8") && err.contains("no GPU") && err.contains("--backend ec2"), "{err}");
    let err = fit(&task("resources:\n  cpus: 4+\n"), &host).unwrap_err();
    assert!(err.contains("4+") && err.contains("2 CPUs"), "{err}");
    let err = fit(&task("resources:\n  memory: 64\n"), &host).unwrap_err();
    assert!(err.contains("64 GiB") && err.contains("8.0 GiB"), "{err}");
    let err = fit(&task("num_nodes: 2\n"), &host).unwrap_err();
    assert!(err.contains("num_nodes: 2"), "{err}");
    let notes = fit(&task("resources:\n  instance_type: g5.xlarge\n  use_spot: true\n  disk_size: 200\n  image_id: docker:pytorch/pytorch\n"), &host).unwrap();
    for field in ["instance_type", "use_spot", "disk_size", "image_id"] {
        assert!(notes.iter().any(|n| n.contains(field)), "no note about {field}: {notes:?}");
    }
    // Alternatives: the first this machine can give is taken.
    let notes = fit(&task("resources:\n  any_of:\n    - accelerators: A10G:1\n    - cpus: 2\n"), &host).unwrap();
    assert!(notes.iter().any(|n| n.contains("alternative 2")), "{notes:?}");
}
