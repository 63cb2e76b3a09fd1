#![no_main]

use hoist_iam::{Context, Policy, Request, evaluate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(policy) = Policy::parse(text) {
        let ctx = Context::new().with("aws:username", "alice").with("aws:SourceIp", "10.1.2.3");
        let req = Request { action: "s3:GetObject", resource: "arn:aws:s3:::b/alice/k", context: &ctx };
        let policies = [policy];
        let _ = evaluate(&policies, Some(&policies), &req);
    }
});
