//! Hostile input never panics the parser or the evaluator: random bytes,
//! random JSON shapes, and mutations of a valid policy (a deterministic
//! companion to the cargo-fuzz target in `fuzz/`).

use hoist_iam::{Context, Policy, Request, evaluate};

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEED: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:Get*","iam:PassRole"],"Resource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"StringLike":{"aws:username":"a*"},"ForAllValues:StringEquals":{"aws:TagKeys":["x"]},"DateLessThan":{"aws:CurrentTime":"2030-01-01"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},{"Effect":"Deny","NotAction":"s3:*","NotResource":["*"]}]}"#;

const PIECES: &[&str] = &[
    "{", "}", "[", "]", ",", ":", "\"", "*", "?", "${", "${aws:username", "Allow", "Deny", "Statement", "Action", "NotAction",
    "Resource", "NotResource", "Condition", "StringEquals", "ForAnyValue:", "IfExists", "Null", "true", "1e999", "-1", "null",
    "\"\\u0000\"", "é", "arn:aws:s3:::", "/", "%", "0.0.0.0/33", "::/200", "9999-99-99",
];

fn exercise(text: &str) {
    if let Ok(p) = Policy::parse(text) {
        let ctx = Context::new()
            .with("aws:username", "alice")
            .with("aws:CurrentTime", "2026-01-01T00:00:00Z")
            .with("aws:SourceIp", "10.1.2.3")
            .with_all("aws:TagKeys", vec!["x".into(), "y".into()]);
        for (action, resource) in [("s3:GetObject", "arn:aws:s3:::b/alice/k"), ("iam:PassRole", "*"), ("", "")] {
            let _ = evaluate(std::slice::from_ref(&p), Some(std::slice::from_ref(&p)), &Request { action, resource, context: &ctx });
        }
    }
}

#[test]
fn hostile_input_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    exercise(SEED);
    assert!(Policy::parse(SEED).is_ok(), "the seed is a valid policy");
    for _ in 0..20_000 {
        let text = match rng.below(3) {
            // Random bytes, lossily made text.
            0 => {
                let bytes: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            // A random sequence of JSON-ish and policy-ish pieces.
            1 => (0..rng.below(40)).map(|_| PIECES[rng.below(PIECES.len())]).collect(),
            // The valid policy with slices replaced by pieces.
            _ => {
                let mut chars: Vec<char> = SEED.chars().collect();
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(chars.len());
                    let len = rng.below(6).min(chars.len() - at);
                    chars.splice(at..at + len, PIECES[rng.below(PIECES.len())].chars());
                }
                chars.into_iter().collect()
            }
        };
        exercise(&text);
    }
}
