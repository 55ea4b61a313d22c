//! Azure clouds: where to sign in, where ARM is, and which audiences to ask for.

use std::borrow::Cow;

use crate::{Env, Error, TenantId};

/// An Azure cloud: its authority host, ARM endpoint, ARM audience and Azure ML audience.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cloud {
    name: Cow<'static, str>,
    authority_host: Cow<'static, str>,
    arm_endpoint: Cow<'static, str>,
    arm_audience: Cow<'static, str>,
    aml_audience: Cow<'static, str>,
}

impl Cloud {
    /// Azure public cloud (`AzureCloud`).
    pub const fn public() -> Self {
        Self::builtin(
            "AzureCloud",
            "https://login.microsoftonline.com",
            "https://management.azure.com/",
            "https://management.core.windows.net/",
            "https://ml.azure.com",
        )
    }

    /// Azure China, operated by 21Vianet (`AzureChinaCloud`).
    pub const fn china() -> Self {
        Self::builtin(
            "AzureChinaCloud",
            "https://login.chinacloudapi.cn",
            "https://management.chinacloudapi.cn/",
            "https://management.core.chinacloudapi.cn/",
            "https://ml.azure.cn",
        )
    }

    /// Azure US Government (`AzureUSGovernment`).
    pub const fn us_government() -> Self {
        Self::builtin(
            "AzureUSGovernment",
            "https://login.microsoftonline.us",
            "https://management.usgovcloudapi.net/",
            "https://management.core.usgovcloudapi.net/",
            "https://ml.azure.us",
        )
    }

    const fn builtin(
        name: &'static str,
        host: &'static str,
        arm: &'static str,
        arm_aud: &'static str,
        aml: &'static str,
    ) -> Self {
        Self {
            name: Cow::Borrowed(name),
            authority_host: Cow::Borrowed(host),
            arm_endpoint: Cow::Borrowed(arm),
            arm_audience: Cow::Borrowed(arm_aud),
            aml_audience: Cow::Borrowed(aml),
        }
    }

    /// A cloud from the Azure CLI's name for it (`az cloud list`), case-insensitively.
    pub fn from_az_name(name: &str) -> Result<Self, Error> {
        [Self::public(), Self::china(), Self::us_government()]
            .into_iter()
            .find(|c| c.name.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                Error::configuration(format!(
                    "unknown cloud {name:?}; use AzureCloud, AzureChinaCloud or AzureUSGovernment, or describe a custom cloud with Cloud::custom"
                ))
            })
    }

    /// A custom cloud (Azure Stack, a sovereign cloud, or a local emulator). Every URL must be
    /// HTTPS, except on a loopback address.
    pub fn custom(
        name: &str,
        authority_host: &str,
        arm_endpoint: &str,
        arm_audience: &str,
        aml_audience: &str,
    ) -> Result<Self, Error> {
        Ok(Self {
            name: Cow::Owned(name.to_owned()),
            authority_host: Cow::Owned(normalize_authority_host(authority_host)?),
            arm_endpoint: Cow::Owned(checked_url("ARM endpoint", arm_endpoint)?.to_owned()),
            arm_audience: Cow::Owned(arm_audience.to_owned()),
            aml_audience: Cow::Owned(aml_audience.to_owned()),
        })
    }

    /// This cloud with another authority host (as `AZURE_AUTHORITY_HOST` gives it): no scheme
    /// means `https://`; only HTTPS is accepted, except on loopback; trailing `/` is dropped.
    pub fn with_authority_host(mut self, host: &str) -> Result<Self, Error> {
        self.authority_host = Cow::Owned(normalize_authority_host(host)?);
        Ok(self)
    }

    /// This cloud with another ARM endpoint (HTTPS, except on loopback).
    pub fn with_arm_endpoint(mut self, endpoint: &str) -> Result<Self, Error> {
        self.arm_endpoint = Cow::Owned(checked_url("ARM endpoint", endpoint)?.to_owned());
        Ok(self)
    }

    /// The public cloud, or the cloud whose authority host `AZURE_AUTHORITY_HOST` names (a
    /// well-known host selects its cloud; another host keeps the public cloud's audiences).
    pub fn from_env(env: &dyn Env) -> Result<Self, Error> {
        match env.var("AZURE_AUTHORITY_HOST") {
            Some(host) => Self::from_authority_host(&host),
            None => Ok(Self::public()),
        }
    }

    /// The cloud whose authority host is `host` (China and US Government recognised by their
    /// hosts and aliases, with their ARM endpoints); any other host is the public cloud's
    /// endpoints with that authority, such as Azure Stack or a test server.
    pub fn from_authority_host(host: &str) -> Result<Self, Error> {
        let normalized = normalize_authority_host(host)?;
        let known = [Self::public(), Self::china(), Self::us_government()]
            .into_iter()
            .find(|c| {
                c.authority_host.eq_ignore_ascii_case(&normalized)
                    || aliases(&c.name)
                        .iter()
                        .any(|a| normalized.eq_ignore_ascii_case(&format!("https://{a}")))
            });
        known
            .unwrap_or_else(Self::public)
            .with_authority_host(&normalized)
    }

    /// The name, such as `AzureCloud`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The authority host URL without a trailing slash, such as `https://login.microsoftonline.com`.
    pub fn authority_host(&self) -> &str {
        &self.authority_host
    }

    /// The ARM endpoint, such as `https://management.azure.com/`.
    pub fn arm_endpoint(&self) -> &str {
        &self.arm_endpoint
    }

    /// The ARM audience (v1 resource) SDK v1 asks for, such as `https://management.core.windows.net/`.
    pub fn arm_audience(&self) -> &str {
        &self.arm_audience
    }

    /// The Azure ML service audience, such as `https://ml.azure.com`.
    pub fn aml_audience(&self) -> &str {
        &self.aml_audience
    }

    /// `https://{host}/{tenant}/oauth2/v2.0/token`.
    pub fn token_endpoint(&self, tenant: &TenantId) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.authority_host,
            tenant.as_str()
        )
    }

    /// `https://{host}/{tenant}/oauth2/v2.0/authorize`.
    pub fn authorize_endpoint(&self, tenant: &TenantId) -> String {
        format!(
            "{}/{}/oauth2/v2.0/authorize",
            self.authority_host,
            tenant.as_str()
        )
    }

    /// `https://{host}/{tenant}/oauth2/v2.0/devicecode`.
    pub fn device_code_endpoint(&self, tenant: &TenantId) -> String {
        format!(
            "{}/{}/oauth2/v2.0/devicecode",
            self.authority_host,
            tenant.as_str()
        )
    }
}

fn aliases(cloud: &str) -> &'static [&'static str] {
    match cloud {
        "AzureCloud" => &[
            "login.windows.net",
            "login.microsoft.com",
            "sts.windows.net",
        ],
        "AzureChinaCloud" => &["login.partner.microsoftonline.cn"],
        "AzureUSGovernment" => &["login.usgovcloudapi.net", "login-us.microsoftonline.com"],
        _ => &[],
    }
}

fn normalize_authority_host(host: &str) -> Result<String, Error> {
    let trimmed = host.trim().trim_end_matches('/');
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    checked_url("authority host", &with_scheme)?;
    Ok(with_scheme)
}

/// Checks that `url` is an absolute HTTPS URL, or HTTP on a loopback host.
pub(crate) fn checked_url<'a>(what: &str, url: &'a str) -> Result<&'a str, Error> {
    check_url(what, url, false)
}

/// Checks an endpoint URL: HTTPS, or plain HTTP on a loopback host (`127.0.0.0/8`, `::1`,
/// `localhost`) or a link-local one (`169.254.0.0/16`, `fe80::/10`: the managed identity
/// endpoint `169.254.169.254`). Names `what` in the error.
pub fn check_endpoint_url<'a>(what: &str, url: &'a str) -> Result<&'a str, Error> {
    check_url(what, url, true)
}

fn check_url<'a>(what: &str, url: &'a str, link_local: bool) -> Result<&'a str, Error> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| Error::configuration(format!("the {what} {url:?} is not a valid URL")))?;
    let host = uri.host().unwrap_or_default();
    if host.is_empty() {
        return Err(Error::configuration(format!(
            "the {what} {url:?} has no host"
        )));
    }
    match uri.scheme_str() {
        Some("https") => Ok(url),
        Some("http") if is_loopback(host) => Ok(url),
        Some("http") if link_local && is_link_local(host) => Ok(url),
        _ if link_local => Err(Error::configuration(format!(
            "the {what} {url:?} must use https (plain http is allowed only on a loopback or link-local address such as 127.0.0.1 or 169.254.169.254)"
        ))),
        _ => Err(Error::configuration(format!(
            "the {what} {url:?} must use https (plain http is allowed only on a loopback address such as 127.0.0.1)"
        ))),
    }
}

/// Whether `host` (as a URL spells it) is a loopback name or address.
pub(crate) fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `host` (as a URL spells it) is a link-local address.
pub(crate) fn is_link_local(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    match h.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_link_local(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_unicast_link_local(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn az_names() {
        assert_eq!(Cloud::from_az_name("AzureCloud").unwrap(), Cloud::public());
        assert_eq!(
            Cloud::from_az_name("azurechinacloud")
                .unwrap()
                .arm_endpoint(),
            "https://management.chinacloudapi.cn/"
        );
        assert_eq!(
            Cloud::from_az_name("AzureUSGovernment")
                .unwrap()
                .aml_audience(),
            "https://ml.azure.us"
        );
        assert!(
            Cloud::from_az_name("AzureGermanCloud")
                .unwrap_err()
                .to_string()
                .contains("unknown cloud")
        );
    }

    fn check_env(value: &str, expected: Result<(&str, &str), &str>) {
        let env: HashMap<&'static str, &'static str> = HashMap::from([(
            "AZURE_AUTHORITY_HOST",
            Box::leak(value.to_owned().into_boxed_str()) as &str,
        )]);
        match (Cloud::from_env(&env), expected) {
            (Ok(c), Ok((name, host))) => {
                assert_eq!(c.name(), name, "{value}");
                assert_eq!(c.authority_host(), host, "{value}");
            }
            (Err(e), Err(msg)) => assert!(e.to_string().contains(msg), "{value}: {e}"),
            (got, want) => panic!("{value}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn authority_host_from_env() {
        check_env(
            "login.microsoftonline.us",
            Ok(("AzureUSGovernment", "https://login.microsoftonline.us")),
        );
        check_env(
            "https://login.chinacloudapi.cn/",
            Ok(("AzureChinaCloud", "https://login.chinacloudapi.cn")),
        );
        check_env(
            "https://login.partner.microsoftonline.cn",
            Ok((
                "AzureChinaCloud",
                "https://login.partner.microsoftonline.cn",
            )),
        );
        check_env(
            "http://127.0.0.1:8080",
            Ok(("AzureCloud", "http://127.0.0.1:8080")),
        );
        check_env(
            "http://localhost:8080/",
            Ok(("AzureCloud", "http://localhost:8080")),
        );
        check_env("http://login.example.com", Err("must use https"));
        check_env("ftp://login.example.com", Err("must use https"));
        check_env("", Ok(("AzureCloud", "https://login.microsoftonline.com")));
    }

    #[test]
    fn endpoints() {
        let t = TenantId::new("contoso.onmicrosoft.com").unwrap();
        assert_eq!(
            Cloud::public().token_endpoint(&t),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(
            Cloud::china().device_code_endpoint(&t),
            "https://login.chinacloudapi.cn/contoso.onmicrosoft.com/oauth2/v2.0/devicecode"
        );
        assert!(Cloud::custom("x", "http://10.0.0.1", "https://arm/", "a", "b").is_err());
        assert!(Cloud::custom("x", "http://[::1]:9", "http://127.0.0.1:9/", "a", "b").is_ok());
    }
}
