//! Scopes (v2) and resources (v1), with the conversion rules of the Azure CLI and SDK v1.

use std::fmt;

use crate::Error;

const DEFAULT_SUFFIX: &str = "/.default";

/// One validated scope, such as `https://management.core.windows.net//.default`.
///
/// Allowed characters are those azure-identity accepts for scopes handed to tools: ASCII
/// letters, digits and `_ - . : /`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(Box<str>);

impl Scope {
    /// Validates a scope string.
    pub fn new(value: &str) -> Result<Self, Error> {
        if value.is_empty() {
            return Err(Error::configuration(
                "a scope is empty; use a resource followed by /.default, such as https://management.azure.com//.default",
            ));
        }
        if let Some(bad) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/')))
        {
            return Err(Error::configuration(format!(
                "invalid scope {value:?}: the character {bad:?} is not allowed in a scope"
            )));
        }
        Ok(Self(value.into()))
    }

    /// The scope for a v1 resource: the resource with `/.default` appended as is.
    ///
    /// A trailing slash is kept, so `https://management.core.windows.net/` becomes
    /// `https://management.core.windows.net//.default`: the audience Entra puts in the token is
    /// derived from this text, and ARM validates it exactly.
    pub fn for_resource(resource: &str) -> Result<Self, Error> {
        if resource.is_empty() {
            return Err(Error::configuration(
                "the resource is empty; use a URI such as https://management.core.windows.net/",
            ));
        }
        Self::new(&format!("{resource}{DEFAULT_SUFFIX}"))
    }

    /// The v1 resource of this scope: `/.default` (or, as the Azure CLI does,
    /// `/user_impersonation`) stripped from the end; other scopes are returned unchanged.
    pub fn resource(&self) -> &str {
        self.0
            .strip_suffix(DEFAULT_SUFFIX)
            .or_else(|| self.0.strip_suffix("/user_impersonation"))
            .unwrap_or(&self.0)
    }

    /// The scope text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({:?})", &*self.0)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A non-empty set of scopes, sorted by bytes and without duplicates (MSAL's order on the wire).
///
/// The set's hash is computed once, when it is built, so that a cache lookup does not rehash it.
///
/// Cloning shares the set; equality checks identity first.
#[derive(Clone, Eq)]
pub struct Scopes(std::sync::Arc<[Scope]>, u64);

impl std::hash::Hash for Scopes {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PartialEq for Scopes {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0) || (self.1 == other.1 && self.0 == other.0)
    }
}

impl Scopes {
    /// Builds a set from scope strings.
    pub fn new<I, S>(scopes: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut v = scopes
            .into_iter()
            .map(|s| Scope::new(s.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if v.is_empty() {
            return Err(Error::configuration(
                "no scope given; ask for one resource's scope, such as https://management.azure.com//.default",
            ));
        }
        v.sort();
        v.dedup();
        Ok(Self::from_sorted(v))
    }

    /// The set holding the scope of one v1 resource.
    pub fn for_resource(resource: &str) -> Result<Self, Error> {
        Ok(Self::from_sorted(vec![Scope::for_resource(resource)?]))
    }

    fn from_sorted(scopes: Vec<Scope>) -> Self {
        let mut h = crate::cache::FxHasher::default();
        for s in scopes.iter() {
            std::hash::Hasher::write(&mut h, s.as_str().as_bytes());
            std::hash::Hasher::write_u8(&mut h, 0xff);
        }
        let hash = std::hash::Hasher::finish(&h);
        Self(scopes.into(), hash)
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        self.1
    }

    /// The scopes, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    /// The scopes joined by single spaces, as the `scope` form field carries them.
    pub fn to_form_value(&self) -> String {
        let mut out = String::new();
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(s.as_str());
        }
        out
    }

    /// The v1 resource when the set holds exactly one scope.
    pub fn single_resource(&self) -> Option<&str> {
        match &*self.0 {
            [one] => Some(one.resource()),
            _ => None,
        }
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(Scope::as_str))
            .finish()
    }
}

impl From<Scope> for Scopes {
    fn from(scope: Scope) -> Self {
        Self::from_sorted(vec![scope])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_resource_to_scope(resource: &str, scope: &str) {
        let s = Scope::for_resource(resource).unwrap();
        assert_eq!(s.as_str(), scope);
        assert_eq!(s.resource(), resource, "round trip of {resource}");
    }

    #[test]
    fn resource_scope_rules() {
        check_resource_to_scope(
            "https://management.core.windows.net/",
            "https://management.core.windows.net//.default",
        );
        check_resource_to_scope(
            "https://management.azure.com/",
            "https://management.azure.com//.default",
        );
        check_resource_to_scope(
            "https://management.core.chinacloudapi.cn/",
            "https://management.core.chinacloudapi.cn//.default",
        );
        check_resource_to_scope(
            "https://management.core.usgovcloudapi.net/",
            "https://management.core.usgovcloudapi.net//.default",
        );
        check_resource_to_scope("https://ml.azure.com", "https://ml.azure.com/.default");
        check_resource_to_scope("https://ml.azure.cn", "https://ml.azure.cn/.default");
        check_resource_to_scope("https://ml.azure.us", "https://ml.azure.us/.default");
    }

    #[test]
    fn scope_to_resource_strips_known_suffixes_only() {
        assert_eq!(
            Scope::new("https://management.azure.com/user_impersonation")
                .unwrap()
                .resource(),
            "https://management.azure.com"
        );
        assert_eq!(Scope::new("openid").unwrap().resource(), "openid");
    }

    #[test]
    fn invalid_scopes_are_rejected() {
        for bad in [
            "",
            "https://x/.default extra",
            "https://x/.default&client_secret=1",
            "a\"b",
            "a?b",
        ] {
            assert!(Scope::new(bad).is_err(), "{bad:?}");
        }
        assert!(Scope::for_resource("").is_err());
    }

    #[test]
    fn scopes_are_sorted_and_deduplicated() {
        let s = Scopes::new([
            "profile",
            "https://management.azure.com/.default",
            "openid",
            "offline_access",
            "openid",
        ])
        .unwrap();
        assert_eq!(
            s.to_form_value(),
            "https://management.azure.com/.default offline_access openid profile"
        );
        assert!(Scopes::new(Vec::<&str>::new()).is_err());
        assert_eq!(
            Scopes::for_resource("https://ml.azure.com")
                .unwrap()
                .single_resource(),
            Some("https://ml.azure.com")
        );
    }
}
