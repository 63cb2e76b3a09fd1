//! Where jobs run. `local` (this machine) is the default and needs no
//! cloud account; the AWS backends come later and reuse the same agent,
//! record and store layout.

pub mod local;
