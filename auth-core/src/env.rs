//! Environment variables, injected so that tests need not touch the process environment.

use std::collections::HashMap;
use std::fmt::Debug;

use crate::Error;

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

/// A boolean variable, parsed strictly: `true` or `1` is true, `false` or `0` is false (ASCII
/// case-insensitive), unset or empty is `None`, anything else is an error naming the variable.
pub fn env_flag(env: &dyn Env, name: &str) -> Result<Option<bool>, Error> {
    let Some(value) = env.var(name) else {
        return Ok(None);
    };
    match value.trim() {
        v if v == "1" || v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        v if v == "0" || v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        v => Err(Error::configuration(format!(
            "{name} is {v:?}; it must be true, 1, false or 0"
        ))),
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
