use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<Task, TaskError> {
    Task::parse(Path::new("/tmp/t/task.yaml"), text, &Overrides::default())
}

#[test]
fn skypilot_style_task_parses() {
    let task = parse(
        "name: train-gpt\n\
         envs:\n  EPOCHS: 3\n  MODEL: gpt2\n\
         resources:\n  accelerators: A10G:1\n  use_spot: true\n  disk_size: 100\n  cloud: aws\n\
         setup: |\n  pip install -r requirements.txt\n\
         run: |\n  python train.py --epochs $EPOCHS\n",
    )
    .unwrap();
    assert_eq!(task.name, "train-gpt");
    assert_eq!(task.envs["EPOCHS"], "3"); // numbers become strings, as in SkyPilot
    assert_eq!(task.resources.accelerators, vec![Accelerators { name: "A10G".into(), count: 1 }]);
    assert!(task.resources.use_spot);
    assert_eq!(task.resources.disk_size, Some(100));
    assert_eq!(task.setup.as_deref(), Some("pip install -r requirements.txt\n"));
    assert!(task.run.starts_with("python train.py"));
    assert_eq!(task.backend, None);
}

#[test]
fn hoist_fields_parse() {
    let task = parse(
        "run: python t.py\ncheckpoints: ckpt/\nartifacts: [model.json, out/]\nbackend: local\n\
         secrets: [HF_TOKEN]\nresources:\n  max_runtime: 1h30m\n  accelerators: {H100: 8}\n",
    )
    .unwrap();
    assert_eq!(task.name, "task"); // from the file name
    assert_eq!(task.checkpoints.as_deref(), Some("ckpt"));
    assert_eq!(task.artifacts, vec!["model.json", "out"]);
    assert_eq!(task.backend, Some(Backend::Local));
    assert_eq!(task.secrets, vec!["HF_TOKEN"]);
    assert_eq!(task.resources.max_runtime, Some(5400));
    assert_eq!(task.resources.accelerators[0].count, 8);
}

#[test]
fn skypilot_secret_mapping_with_null_values_is_accepted() {
    let task = parse("run: x\nsecrets:\n  HF_TOKEN: null\n  WANDB_API_KEY:\n").unwrap();
    assert_eq!(task.secrets, vec!["HF_TOKEN", "WANDB_API_KEY"]);
}

#[test]
fn overrides_win_and_fill_null_envs() {
    let overrides = Overrides {
        name: Some("other".into()),
        envs: vec![("A".into(), "from-cli".into()), ("NEW".into(), "1".into())],
        backend: Some(Backend::Local),
    };
    let task = Task::parse(Path::new("t.yaml"), "name: x\nrun: r\nenvs:\n  A: null\n  B: b\n", &overrides).unwrap();
    assert_eq!(task.name, "other");
    assert_eq!(task.envs["A"], "from-cli");
    assert_eq!(task.envs["B"], "b");
    assert_eq!(task.envs["NEW"], "1");
}

#[test]
fn errors_carry_line_column_and_field() {
    let err = parse("name: a\nrun: x\nresources:\n  disk_size: lots\n").unwrap_err();
    assert_eq!((err.line, err.column), (4, 14));
    assert_eq!(err.field.as_deref(), Some("resources.disk_size"));
    assert!(err.to_string().starts_with("/tmp/t/task.yaml:4:14: `resources.disk_size`: "), "{err}");

    let err = parse("name: a\nrunn: x\n").unwrap_err();
    assert_eq!((err.line, err.column), (2, 1));
    assert!(err.message.contains("unknown field `runn` (did you mean `run`?)"), "{err}");
}

#[test]
fn names_are_checked_as_skypilot_does() {
    for good in ["train-1", "minGPT-ddp", "multi_hostname", "llama3.1-train", "1train", "Train"] {
        assert!(check_name(good).is_ok(), "{good:?}");
    }
    for bad in ["", "train_", "train-", "-train", "my task", "a/b", &"a".repeat(129)] {
        assert!(check_name(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn job_ids_use_a_deterministic_aws_safe_slug() {
    assert_eq!(job_slug("minGPT-ddp"), "mingpt-ddp");
    assert_eq!(job_slug("multi_hostname"), "multi-hostname");
    assert_eq!(job_slug("llama3.1--train"), "llama3-1-train");
    assert_eq!(job_slug("1train"), "job-1train");
    let long = job_slug(&"very-long-task-name-".repeat(5));
    assert!(long.len() <= 32 && long == job_slug(&"very-long-task-name-".repeat(5)), "{long}");
    assert_ne!(long, job_slug(&"very-long-task-name-".repeat(6)));
}

#[test]
fn sizes_take_skypilot_units() {
    let t = parse("run: x\nresources:\n  memory: 1TB+\n  disk_size: 512GB\n").unwrap();
    assert_eq!(t.resources.memory, Some(Amount::new(1024.0, true)));
    assert_eq!(t.resources.disk_size, Some(512));
    let t = parse("run: x\nresources:\n  memory: 512MB\n").unwrap();
    assert_eq!(t.resources.memory, Some(Amount::new(0.5, false)));
    let t = parse("run: x\nresources:\n  accelerators: {L4:1, A10G:2}\n").unwrap();
    assert_eq!(t.resources.accelerators.iter().map(|a| a.to_string()).collect::<Vec<_>>(), vec!["L4:1", "A10G:2"]);
}
