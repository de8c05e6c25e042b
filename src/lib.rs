//! vippsleaks: finds leaked Vipps MobilePay API keys.
//!
//! The pipeline: inputs (`scan`: walker, stdin, archives) -> decoding (`decode`: encodings) ->
//! detection (`detect`: assignments, shapes, context, rules, pairing) -> findings (`finding`)
//! -> reporters (`report`: text, json, sarif, github). `app` ties them to the command line.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod app;
pub mod cli;
pub mod config;
pub mod decode;
pub mod detect;
pub mod finding;
pub mod git;
pub mod report;
pub mod rules;
pub mod scan;
pub mod suppress;
