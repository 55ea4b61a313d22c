//! Which user-assigned identity to ask for.

use std::fmt;

/// A user-assigned managed identity, by one of its three ids. `None` in the options means the
/// system-assigned identity (on Azure ML compute: `DEFAULT_IDENTITY_CLIENT_ID` when set).
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UserAssignedId {
    /// The client (application) id.
    ClientId(String),
    /// The object (principal) id.
    ObjectId(String),
    /// The full ARM resource id
    /// (`/subscriptions/…/resourceGroups/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/…`).
    ResourceId(String),
}

impl UserAssignedId {
    /// The id's value.
    pub fn value(&self) -> &str {
        match self {
            Self::ClientId(v) | Self::ObjectId(v) | Self::ResourceId(v) => v,
        }
    }

    /// `client id`, `object id` or `resource id`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::ClientId(_) => "client id",
            Self::ObjectId(_) => "object id",
            Self::ResourceId(_) => "resource id",
        }
    }

    /// `the user-assigned identity with client id …`, for messages.
    pub(crate) fn describe(&self) -> String {
        format!(
            "the user-assigned identity with {} {}",
            self.kind_name(),
            self.value()
        )
    }

    pub(crate) fn validate(&self) -> Result<(), auth_core::Error> {
        let v = self.value();
        if v.trim().is_empty() || v.trim() != v || v.chars().any(char::is_control) {
            return Err(auth_core::Error::configuration(format!(
                "the managed identity {} {v:?} is empty or has spaces or control characters",
                self.kind_name()
            )));
        }
        Ok(())
    }
}

impl fmt::Debug for UserAssignedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClientId(v) => f.debug_tuple("ClientId").field(v).finish(),
            Self::ObjectId(v) => f.debug_tuple("ObjectId").field(v).finish(),
            Self::ResourceId(v) => f.debug_tuple("ResourceId").field(v).finish(),
        }
    }
}

impl fmt::Display for UserAssignedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind_name(), self.value())
    }
}
