//! Integration tests: the real `authdemo` binary against a real (patched) moto server, with AWS
//! read back through the SDK. One test binary, so the emulator starts once for all tests.

mod support;

mod access;
mod amplify;
mod api;
mod boundary;
mod browser;
mod ci;
mod ci_role;
mod cli;
mod cognito_routes;
mod completion;
mod cors;
mod dataplane;
mod demo;
mod faults;
mod groups;
mod handover;
mod hosted_ui;
mod identity_pool;
mod limits;
mod pacing;
mod permissions;
mod plan_text;
mod preserve;
mod runtimes;
mod secrets;
mod sign_up;
mod tags;
mod user_pool;
mod validation;
mod verify;
mod workflow;
