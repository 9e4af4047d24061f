//! shadowai: audit "shadow AI" use on a small-business network from packet captures.
//!
//! The modules are the stages of the pipeline, in the order data flows through them:
//! `capture → decode → flow → proto → classify → report`; `pipeline` carries packets through
//! them and `cli` is the command line around it. `synth` writes the project's own test
//! captures (no public capture is ever copied into the repository).

pub mod capture;
pub mod classify;
pub mod cli;
pub mod decode;
pub mod flow;
pub mod pipeline;
pub mod proto;
pub mod report;
pub mod scan;
#[doc(hidden)]
pub mod synth;
#[cfg(test)]
mod testkit;
