//! Environment variables, injected so that tests need not touch the process environment.

use std::collections::HashMap;
use std::fmt::Debug;

/// A source of environment variables. An empty value counts as unset.
pub trait Env: Send + Sync + Debug {
    /// The value of `name`, or `None` when it is unset or empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    #[allow(clippy::disallowed_methods, reason = "the process environment adapter")]
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Env for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.trim().is_empty()).cloned()
    }
}

impl Env for HashMap<&'static str, &'static str> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (*v).to_owned())
    }
}
