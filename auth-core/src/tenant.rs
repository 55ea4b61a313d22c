//! Tenant identifiers, validated before they go into a URL.

use std::fmt;

use crate::Error;

/// A tenant segment of an authority URL: a directory GUID, a verified domain, or one of
/// `organizations`, `common`, `consumers`.
///
/// Validation follows azure-identity: non-empty, ASCII letters, digits, `-` and `.` only. This
/// rejects path and query injection before any URL is built.
///
/// Cloning shares the text; equality checks identity first, so a cache lookup with the
/// credential's own tenant compares no bytes.
#[derive(Clone, Eq, PartialOrd, Ord)]
pub struct TenantId(std::sync::Arc<str>, u64);

impl std::hash::Hash for TenantId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PartialEq for TenantId {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl TenantId {
    /// Validates a tenant id or domain.
    pub fn new(value: &str) -> Result<Self, Error> {
        let value = value.trim();
        if value.is_empty() {
            return Err(Error::configuration(
                "the tenant id is empty; set it to the directory (tenant) GUID or a verified domain",
            ));
        }
        // The value is not quoted: a secret pasted into the tenant's variable must not reach an
        // error (client secrets contain `~`, which no tenant has).
        if let Some((at, bad)) = value
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
        {
            return Err(Error::configuration(format!(
                "invalid tenant id ({} characters): the character {bad:?} at position {} is not allowed; a tenant is a GUID or a domain such as contoso.onmicrosoft.com",
                value.chars().count(),
                at + 1
            )));
        }
        if value.chars().all(|c| c == '.') {
            return Err(Error::configuration(format!(
                "invalid tenant id {value:?}: a tenant is a GUID or a domain such as contoso.onmicrosoft.com"
            )));
        }
        let mut h = crate::cache::FxHasher::default();
        std::hash::Hasher::write(&mut h, value.as_bytes());
        Ok(Self(value.into(), std::hash::Hasher::finish(&h)))
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        self.1
    }

    /// The tenant segment as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a multi-tenant alias (`common`, `organizations`, `consumers`) rather than
    /// one directory. Client-credential flows need a concrete tenant.
    pub fn is_multi_tenant_alias(&self) -> bool {
        ["common", "organizations", "consumers"]
            .iter()
            .any(|a| self.0.eq_ignore_ascii_case(a))
    }
}

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantId({:?})", &*self.0)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for TenantId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, ok: bool) {
        assert_eq!(TenantId::new(input).is_ok(), ok, "{input:?}");
    }

    #[test]
    fn validation() {
        check("72f988bf-86f1-41af-91ab-2d7cd011db47", true);
        check("contoso.onmicrosoft.com", true);
        check("organizations", true);
        check("", false);
        check("   ", false);
        check("a/b", false);
        check("tenant?x=1", false);
        check("ten ant", false);
        check("../etc", false);
        check("tenant#", false);
        check("tenänt", false);
        check(".", false);
        check("..", false);
    }

    #[test]
    fn an_invalid_tenant_is_not_quoted() {
        // A client secret pasted into the tenant's variable.
        let e = TenantId::new("Xy8Q~abcDEF.ghi_JKL").unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("Xy8Q"), "{shown}");
        assert!(shown.contains("'~' at position 5"), "{shown}");
    }

    #[test]
    fn aliases() {
        assert!(
            TenantId::new("Organizations")
                .unwrap()
                .is_multi_tenant_alias()
        );
        assert!(
            !TenantId::new("contoso.com")
                .unwrap()
                .is_multi_tenant_alias()
        );
    }
}
