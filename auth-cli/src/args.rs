//! The arguments of `az account get-access-token`, validated by character before they become
//! arguments (protocol reference §3.1–§3.2): no shell runs them, and a value that starts an
//! option or carries a quote never reaches az.

use auth_core::{Error, Scopes, TenantId};

/// `account get-access-token --output json` with `--resource` (a `/.default` scope, as
/// azure-identity passes it) or `--scope`, then `--tenant` and `--subscription` when given.
pub(crate) fn get_access_token(
    scopes: &Scopes,
    tenant: Option<&TenantId>,
    subscription: Option<&str>,
) -> Result<Vec<String>, Error> {
    let mut scopes_iter = scopes.iter();
    let (Some(scope), None) = (scopes_iter.next(), scopes_iter.next()) else {
        return Err(Error::configuration(format!(
            "az gives a token for one scope at a time, not {}",
            scopes.to_form_value()
        ))
        .with_hint("ask for one scope, such as https://management.azure.com/.default"));
    };
    let scope = scope.as_str();
    check_scope(scope)?;
    let mut args: Vec<String> = ["account", "get-access-token", "--output", "json"]
        .map(str::to_owned)
        .into();
    match scope.strip_suffix("/.default") {
        Some(resource) => args.extend(["--resource".to_owned(), resource.to_owned()]),
        None => args.extend(["--scope".to_owned(), scope.to_owned()]),
    }
    if let Some(t) = tenant {
        check_tenant(t.as_str())?;
        args.extend(["--tenant".to_owned(), t.as_str().to_owned()]);
    }
    if let Some(s) = subscription {
        check_subscription(s)?;
        args.extend(["--subscription".to_owned(), s.to_owned()]);
    }
    Ok(args)
}

/// `account show --output json`.
pub(crate) fn account_show() -> Vec<String> {
    ["account", "show", "--output", "json"]
        .map(str::to_owned)
        .into()
}

fn allowed(value: &str, extra: &[char]) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
        && !value.starts_with('-')
}

pub(crate) fn check_tenant(tenant: &str) -> Result<(), Error> {
    if allowed(tenant, &['-', '.']) {
        Ok(())
    } else {
        Err(Error::configuration(format!(
            "invalid tenant id {tenant:?} for az: only letters, digits, '-' and '.' are allowed"
        ))
        .with_hint("use the tenant's GUID or domain; see https://learn.microsoft.com/partner-center/find-ids-and-domain-names"))
    }
}

fn check_scope(scope: &str) -> Result<(), Error> {
    if allowed(scope, &['_', '-', '.', ':', '/']) {
        Ok(())
    } else {
        Err(Error::configuration(format!(
            "invalid scope {scope:?} for az: only letters, digits, '.', '-', '_', ':' and '/' are allowed"
        )))
    }
}

pub(crate) fn check_subscription(subscription: &str) -> Result<(), Error> {
    if allowed(subscription, &['_', '-', '.', ' ']) {
        Ok(())
    } else {
        Err(Error::configuration(format!(
            "subscription {subscription:?} has characters az does not accept"
        ))
        .with_hint("if this is a subscription name, use its id instead"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(s: &str) -> Scopes {
        Scopes::new([s]).unwrap()
    }

    #[test]
    fn arguments_as_azure_identity_passes_them() {
        let t = TenantId::new("contoso.onmicrosoft.com").unwrap();
        assert_eq!(
            get_access_token(
                &scopes("https://management.azure.com/.default"),
                Some(&t),
                Some("5ab5c000-0000-4000-8000-00000000d001"),
            )
            .unwrap(),
            [
                "account",
                "get-access-token",
                "--output",
                "json",
                "--resource",
                "https://management.azure.com",
                "--tenant",
                "contoso.onmicrosoft.com",
                "--subscription",
                "5ab5c000-0000-4000-8000-00000000d001"
            ]
        );
        // The management resource keeps its own trailing slash, as az expects it.
        let args = get_access_token(
            &Scopes::for_resource("https://management.core.windows.net/").unwrap(),
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            args[4..],
            ["--resource", "https://management.core.windows.net/"]
        );
        let args = get_access_token(
            &scopes("https://ml.azure.com/user_impersonation"),
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            args[4..],
            ["--scope", "https://ml.azure.com/user_impersonation"]
        );
    }

    #[test]
    fn values_are_checked_by_character() {
        for bad in ["a b", "x;rm -rf /", "-leading", "tenant\"", ""] {
            assert!(check_tenant(bad).is_err(), "{bad:?}");
        }
        check_tenant("72f988bf-86f1-41af-91ab-2d7cd011db47").unwrap();
        for bad in ["https://x/.default --debug", "a'b", "-x", "x\ny"] {
            assert!(check_scope(bad).is_err(), "{bad:?}");
        }
        assert!(check_subscription("My Subscription").is_ok());
        for bad in ["a;b", "a\"b", "--tenant"] {
            let e = check_subscription(bad).unwrap_err();
            assert!(e.to_string().contains("use its id instead"), "{e}");
        }
        let two = Scopes::new(["a/.default", "b/.default"]).unwrap();
        let e = get_access_token(&two, None, None).unwrap_err();
        assert!(e.message().contains("one scope at a time"), "{e}");
    }
}
