//! Which managed-identity source the environment describes, and how each spells its request
//! (protocol reference §1.1, §2.1–§2.6, §2.8).

use std::fmt;

use auth_core::entra::Form;
use auth_core::http::check_endpoint_url;
use auth_core::{Env, Error, Secret};

use crate::UserAssignedId;

/// The IMDS authority of Azure VMs and scale sets (plain HTTP, link-local).
pub const IMDS_AUTHORITY: &str = "http://169.254.169.254";
/// The IMDS token path, appended to the authority (or to `AZURE_POD_IDENTITY_AUTHORITY_HOST`).
pub const IMDS_TOKEN_PATH: &str = "/metadata/identity/oauth2/token";
/// `api-version` of IMDS.
pub const IMDS_API_VERSION: &str = "2018-02-01";
/// `api-version` of App Service / Functions / Container Apps.
pub const APP_SERVICE_API_VERSION: &str = "2019-08-01";
/// `api-version` of Azure Arc (HIMDS).
pub const ARC_API_VERSION: &str = "2020-06-01";
/// `api-version` of Azure ML compute (the legacy App Service protocol).
pub const AZURE_ML_API_VERSION: &str = "2017-09-01";
/// `api-version` of Service Fabric.
pub const SERVICE_FABRIC_API_VERSION: &str = "2019-07-01-preview";

/// The managed-identity source a credential talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ManagedIdentitySource {
    /// Service Fabric (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`, `IDENTITY_SERVER_THUMBPRINT`).
    ServiceFabric,
    /// App Service, Functions, Container Apps, Automation (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`).
    AppService,
    /// Azure Arc-enabled servers (`IDENTITY_ENDPOINT`, `IMDS_ENDPOINT`).
    AzureArc,
    /// Azure ML compute instances and clusters (`MSI_ENDPOINT`, `MSI_SECRET`).
    AzureMl,
    /// Azure Cloud Shell (`MSI_ENDPOINT` alone).
    CloudShell,
    /// The Azure Instance Metadata Service of VMs, scale sets and AKS pod identity.
    Imds,
}

impl ManagedIdentitySource {
    /// A stable lowercase name for logs and scripts.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ServiceFabric => "service_fabric",
            Self::AppService => "app_service",
            Self::AzureArc => "azure_arc",
            Self::AzureMl => "azure_ml",
            Self::CloudShell => "cloud_shell",
            Self::Imds => "imds",
        }
    }

    /// Whether this source can be asked for a user-assigned identity of this kind.
    pub fn accepts(self, id: &UserAssignedId) -> bool {
        match self {
            Self::Imds | Self::AppService | Self::AzureArc => true,
            Self::AzureMl => matches!(id, UserAssignedId::ClientId(_)),
            Self::CloudShell | Self::ServiceFabric => false,
        }
    }
}

impl fmt::Display for ManagedIdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ServiceFabric => "Service Fabric",
            Self::AppService => "App Service",
            Self::AzureArc => "Azure Arc",
            Self::AzureMl => "Azure ML compute",
            Self::CloudShell => "Cloud Shell",
            Self::Imds => "IMDS",
        })
    }
}

/// A source with what it needs to send its request.
#[derive(Clone)]
pub(crate) enum Endpoint {
    ServiceFabric {
        url: String,
        header: Secret,
        thumbprint: String,
    },
    AppService {
        url: String,
        header: Secret,
    },
    AzureArc {
        url: String,
    },
    AzureMl {
        url: String,
        secret: Secret,
        default_client_id: Option<String>,
    },
    CloudShell {
        url: String,
    },
    Imds {
        url: String,
        /// `AZURE_POD_IDENTITY_AUTHORITY_HOST` was set: the endpoint counts as present, no probe.
        pod_identity: bool,
    },
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct(match self {
            Self::ServiceFabric { .. } => "ServiceFabric",
            Self::AppService { .. } => "AppService",
            Self::AzureArc { .. } => "AzureArc",
            Self::AzureMl { .. } => "AzureMl",
            Self::CloudShell { .. } => "CloudShell",
            Self::Imds { .. } => "Imds",
        });
        d.field("url", &self.url());
        match self {
            Self::ServiceFabric { thumbprint, .. } => {
                d.field("thumbprint", thumbprint);
            }
            Self::AzureMl {
                default_client_id, ..
            } => {
                d.field("default_client_id", default_client_id);
            }
            Self::Imds { pod_identity, .. } => {
                d.field("pod_identity", pod_identity);
            }
            _ => {}
        }
        d.finish_non_exhaustive()
    }
}

impl Endpoint {
    pub(crate) fn source(&self) -> ManagedIdentitySource {
        match self {
            Self::ServiceFabric { .. } => ManagedIdentitySource::ServiceFabric,
            Self::AppService { .. } => ManagedIdentitySource::AppService,
            Self::AzureArc { .. } => ManagedIdentitySource::AzureArc,
            Self::AzureMl { .. } => ManagedIdentitySource::AzureMl,
            Self::CloudShell { .. } => ManagedIdentitySource::CloudShell,
            Self::Imds { .. } => ManagedIdentitySource::Imds,
        }
    }

    pub(crate) fn url(&self) -> &str {
        match self {
            Self::ServiceFabric { url, .. }
            | Self::AppService { url, .. }
            | Self::AzureArc { url }
            | Self::AzureMl { url, .. }
            | Self::CloudShell { url }
            | Self::Imds { url, .. } => url,
        }
    }

    /// Chooses the source from the environment in azure-identity's order (§2.1) and says why.
    pub(crate) fn from_env(env: &dyn Env) -> Result<(Self, &'static str), Error> {
        let identity_endpoint = env.var("IDENTITY_ENDPOINT");
        let identity_header = env.var("IDENTITY_HEADER");
        let thumbprint = env.var("IDENTITY_SERVER_THUMBPRINT");
        let imds_endpoint = env.var("IMDS_ENDPOINT");
        let msi_endpoint = env.var("MSI_ENDPOINT");
        let msi_secret = env.var("MSI_SECRET");
        if let Some(url) = identity_endpoint {
            let url = url.trim().to_owned();
            return match (identity_header, thumbprint, imds_endpoint) {
                (Some(header), Some(thumbprint), _) => {
                    if !url.starts_with("https://") {
                        return Err(Error::configuration(format!(
                            "the Service Fabric IDENTITY_ENDPOINT {url:?} must use https"
                        )));
                    }
                    check("IDENTITY_ENDPOINT", &url)?;
                    let thumbprint: String = thumbprint
                        .chars()
                        .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r' | ':'))
                        .collect();
                    if thumbprint.len() != 40 || !thumbprint.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(Error::configuration(
                            "IDENTITY_SERVER_THUMBPRINT is not a SHA-1 thumbprint (40 hex digits)",
                        ));
                    }
                    Ok((
                        Self::ServiceFabric {
                            url,
                            header: Secret::new(header),
                            thumbprint,
                        },
                        "IDENTITY_ENDPOINT, IDENTITY_HEADER and IDENTITY_SERVER_THUMBPRINT are set",
                    ))
                }
                (Some(header), None, _) => {
                    check("IDENTITY_ENDPOINT", &url)?;
                    Ok((
                        Self::AppService {
                            url,
                            header: Secret::new(header),
                        },
                        "IDENTITY_ENDPOINT and IDENTITY_HEADER are set",
                    ))
                }
                (None, _, Some(_)) => {
                    check("IDENTITY_ENDPOINT", &url)?;
                    Ok((
                        Self::AzureArc { url },
                        "IDENTITY_ENDPOINT and IMDS_ENDPOINT are set, IDENTITY_HEADER is not",
                    ))
                }
                (None, _, None) => Err(Error::unavailable(
                    "no managed identity endpoint found: IDENTITY_ENDPOINT is set, but neither IDENTITY_HEADER (App Service, Service Fabric) nor IMDS_ENDPOINT (Azure Arc)",
                )
                .with_hint("set the missing variable, or unset IDENTITY_ENDPOINT to use IMDS")),
            };
        }
        if let Some(url) = msi_endpoint {
            let url = url.trim().to_owned();
            check("MSI_ENDPOINT", &url)?;
            return Ok(match msi_secret {
                Some(secret) => (
                    Self::AzureMl {
                        url,
                        secret: Secret::new(secret),
                        default_client_id: env
                            .var("DEFAULT_IDENTITY_CLIENT_ID")
                            .map(|s| s.trim().to_owned()),
                    },
                    "MSI_ENDPOINT and MSI_SECRET are set",
                ),
                None => (
                    Self::CloudShell { url },
                    "MSI_ENDPOINT is set, MSI_SECRET is not",
                ),
            });
        }
        if let Some(host) = env.var("AZURE_POD_IDENTITY_AUTHORITY_HOST") {
            let url = format!("{}{IMDS_TOKEN_PATH}", host.trim().trim_end_matches('/'));
            check("AZURE_POD_IDENTITY_AUTHORITY_HOST", &url)?;
            return Ok((
                Self::Imds {
                    url,
                    pod_identity: true,
                },
                "no App Service, Arc, Azure ML or Cloud Shell variables; AZURE_POD_IDENTITY_AUTHORITY_HOST overrides the IMDS host",
            ));
        }
        Ok((
            Self::Imds {
                url: format!("{IMDS_AUTHORITY}{IMDS_TOKEN_PATH}"),
                pod_identity: false,
            },
            "no App Service, Arc, Azure ML or Cloud Shell variables are set",
        ))
    }

    /// Refuses an identity this source cannot select: never a silent system-assigned token.
    pub(crate) fn check_id(&self, id: Option<&UserAssignedId>) -> Result<(), Error> {
        let Some(id) = id else { return Ok(()) };
        let source = self.source();
        if source.accepts(id) {
            return Ok(());
        }
        let what = match source {
            ManagedIdentitySource::AzureMl => {
                "Azure ML compute selects a user-assigned identity by client id only"
            }
            ManagedIdentitySource::CloudShell => {
                "Cloud Shell always uses the signed-in user's identity and cannot select a user-assigned identity"
            }
            _ => "Service Fabric uses the identity the cluster assigns and cannot select one",
        };
        Err(Error::configuration(format!(
            "{what}, but {} was requested",
            id.describe()
        ))
        .with_hint(match source {
            ManagedIdentitySource::AzureMl => {
                "give the identity's client id instead, or request the compute's default identity"
            }
            _ => "create the credential without a user-assigned id",
        }))
    }

    /// The query parameters of a GET source, in the order MSAL sends them.
    pub(crate) fn query(
        &self,
        resource: &str,
        id: Option<&UserAssignedId>,
    ) -> Vec<(&'static str, String)> {
        let (api, spell): (&str, fn(&UserAssignedId) -> &'static str) = match self {
            Self::Imds { .. } => (IMDS_API_VERSION, |id| match id {
                UserAssignedId::ClientId(_) => "client_id",
                UserAssignedId::ObjectId(_) => "object_id",
                UserAssignedId::ResourceId(_) => "msi_res_id",
            }),
            Self::AppService { .. } => (APP_SERVICE_API_VERSION, |id| match id {
                UserAssignedId::ClientId(_) => "client_id",
                UserAssignedId::ObjectId(_) => "object_id",
                UserAssignedId::ResourceId(_) => "mi_res_id",
            }),
            Self::AzureArc { .. } => (ARC_API_VERSION, |id| match id {
                UserAssignedId::ClientId(_) => "client_id",
                UserAssignedId::ObjectId(_) => "object_id",
                UserAssignedId::ResourceId(_) => "msi_res_id",
            }),
            Self::AzureMl { .. } => (AZURE_ML_API_VERSION, |_| "clientid"),
            Self::ServiceFabric { .. } => (SERVICE_FABRIC_API_VERSION, |_| "client_id"),
            Self::CloudShell { .. } => return Vec::new(),
        };
        let mut q = vec![
            ("api-version", api.to_owned()),
            ("resource", resource.to_owned()),
        ];
        match (self, id) {
            (_, Some(id)) => q.push((spell(id), id.value().to_owned())),
            (
                Self::AzureMl {
                    default_client_id: Some(default),
                    ..
                },
                None,
            ) => q.push(("clientid", default.clone())),
            _ => {}
        }
        q
    }
}

fn check(what: &str, url: &str) -> Result<(), Error> {
    check_endpoint_url(what, url).map(|_| ())
}

/// `url?k=v&k=v`, encoded by auth-core's form encoder (the one encoder of the workspace).
pub(crate) fn with_query(url: &str, query: &[(&'static str, String)]) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let form = query
        .iter()
        .fold(Form::new(), |f, (k, v)| f.field(k, v.as_str()));
    let encoded = form.encode();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{}", String::from_utf8_lossy(&encoded))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn detect(
        vars: &[(&'static str, &'static str)],
    ) -> Result<(ManagedIdentitySource, String), Error> {
        let env: HashMap<&'static str, &'static str> = vars.iter().copied().collect();
        Endpoint::from_env(&env).map(|(e, _)| (e.source(), e.url().to_owned()))
    }

    #[test]
    fn selection_order() {
        use ManagedIdentitySource::*;
        let sf = [
            (
                "IDENTITY_ENDPOINT",
                "https://10.0.0.4:2377/metadata/identity/oauth2/token",
            ),
            ("IDENTITY_HEADER", "h"),
            (
                "IDENTITY_SERVER_THUMBPRINT",
                "0123456789:abcdef0123456789ABCDEF01234567",
            ),
            ("MSI_ENDPOINT", "http://localhost:1/x"),
        ];
        assert_eq!(detect(&sf).unwrap().0, ServiceFabric);
        let app = [
            ("IDENTITY_ENDPOINT", "http://localhost:4141/MSI/token"),
            ("IDENTITY_HEADER", "h"),
            ("IMDS_ENDPOINT", "x"),
        ];
        assert_eq!(detect(&app).unwrap().0, AppService);
        let arc = [
            (
                "IDENTITY_ENDPOINT",
                "http://localhost:40342/metadata/identity/oauth2/token",
            ),
            ("IMDS_ENDPOINT", "http://localhost:40342"),
            ("MSI_ENDPOINT", "http://localhost:1/"),
        ];
        assert_eq!(detect(&arc).unwrap().0, AzureArc);
        let alone = detect(&[("IDENTITY_ENDPOINT", "http://localhost:1/")]).unwrap_err();
        assert_eq!(alone.kind(), auth_core::ErrorKind::Unavailable);
        let aml = [
            ("MSI_ENDPOINT", "http://127.0.0.1:46808/MSI/auth"),
            ("MSI_SECRET", "s"),
        ];
        assert_eq!(detect(&aml).unwrap().0, AzureMl);
        assert_eq!(
            detect(&[("MSI_ENDPOINT", "http://localhost:50342/oauth2/token")])
                .unwrap()
                .0,
            CloudShell
        );
        // Empty values count as unset.
        assert_eq!(
            detect(&[
                ("MSI_ENDPOINT", "http://localhost:50342/oauth2/token"),
                ("MSI_SECRET", " ")
            ])
            .unwrap()
            .0,
            CloudShell
        );
        assert_eq!(
            detect(&[]).unwrap(),
            (
                Imds,
                "http://169.254.169.254/metadata/identity/oauth2/token".to_owned()
            )
        );
        assert_eq!(
            detect(&[(
                "AZURE_POD_IDENTITY_AUTHORITY_HOST",
                "http://127.0.0.1:2579/"
            )])
            .unwrap(),
            (
                Imds,
                "http://127.0.0.1:2579/metadata/identity/oauth2/token".to_owned()
            )
        );
    }

    #[test]
    fn endpoints_must_be_local_or_https() {
        let e = detect(&[
            ("MSI_ENDPOINT", "http://evil.example/token"),
            ("MSI_SECRET", "s"),
        ])
        .unwrap_err();
        assert_eq!(e.kind(), auth_core::ErrorKind::Configuration);
        let e = detect(&[
            ("IDENTITY_ENDPOINT", "http://localhost:2377/"),
            ("IDENTITY_HEADER", "h"),
            ("IDENTITY_SERVER_THUMBPRINT", "ab"),
        ])
        .unwrap_err();
        assert!(e.message().contains("must use https"), "{e}");
    }

    #[test]
    fn id_spelling_per_source() {
        let env: HashMap<&'static str, &'static str> = HashMap::new();
        let (imds, _) = Endpoint::from_env(&env).unwrap();
        let rid = UserAssignedId::ResourceId("/subscriptions/s/rg/id".into());
        let names = |e: &Endpoint, id: Option<&UserAssignedId>| {
            e.query("https://management.azure.com", id)
                .into_iter()
                .map(|(k, _)| k)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&imds, Some(&rid)),
            ["api-version", "resource", "msi_res_id"]
        );
        let app = Endpoint::AppService {
            url: "http://localhost:1/".into(),
            header: Secret::new("h"),
        };
        assert_eq!(
            names(&app, Some(&rid)),
            ["api-version", "resource", "mi_res_id"]
        );
        let aml = Endpoint::AzureMl {
            url: "http://localhost:1/".into(),
            secret: Secret::new("s"),
            default_client_id: Some("d".into()),
        };
        assert_eq!(names(&aml, None), ["api-version", "resource", "clientid"]);
        assert!(aml.check_id(Some(&rid)).is_err());
        assert!(
            aml.check_id(Some(&UserAssignedId::ClientId("c".into())))
                .is_ok()
        );
        let shell = Endpoint::CloudShell {
            url: "http://localhost:1/".into(),
        };
        let e = shell
            .check_id(Some(&UserAssignedId::ObjectId("o".into())))
            .unwrap_err();
        assert!(e.message().contains("object id o"), "{e}");
    }

    #[test]
    fn encoding() {
        assert_eq!(
            with_query(
                "http://h/p",
                &[("resource", "https://management.azure.com".into())]
            ),
            "http://h/p?resource=https%3A%2F%2Fmanagement.azure.com"
        );
        assert_eq!(
            with_query("http://h/p", &[("a", "b c".into()), ("d", "é".into())]),
            "http://h/p?a=b+c&d=%C3%A9"
        );
        assert_eq!(
            with_query("http://h/p?x=1", &[("a", "b".into())]),
            "http://h/p?x=1&a=b"
        );
        assert_eq!(with_query("http://h/p", &[]), "http://h/p");
    }

    #[test]
    fn debug_hides_secrets() {
        let e = Endpoint::AzureMl {
            url: "http://localhost:1/".into(),
            secret: Secret::new("MSI-SECRET-VALUE"),
            default_client_id: None,
        };
        let d = format!("{e:?}");
        assert!(!d.contains("MSI-SECRET-VALUE"), "{d}");
        assert_eq!(
            d,
            r#"AzureMl { url: "http://localhost:1/", default_client_id: None, .. }"#
        );
    }
}
