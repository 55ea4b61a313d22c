//! `config.json`: where SDK v1 looks for it, what it may contain, and how to write it.

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use auth_core::{Cloud, Env, TenantId};

use crate::error::{ConfigError, Malformed};
use crate::workspace::{ArmSegment, parse_workspace_id};

/// The environment variable that points at a config file, or at a directory to search from.
///
/// SDK v1 has no such variable; this name follows the `AZUREML_*` family azureml-core reads
/// (`AZUREML_CURRENT_CLOUD`, `AZUREML_AUTH_CONFIG_DIR`). A relative value is taken relative to
/// the start directory. When it is set, it replaces the start directory: a file is used as is, a
/// directory is searched (and its parents) exactly like SDK v1 searches `path`.
pub const CONFIG_PATH_ENV: &str = "AZUREML_CONFIG_PATH";

/// The subfolders SDK v1 searches, in order: `.azureml`, `aml_config`, then the directory itself.
pub const SUBFOLDERS: [&str; 3] = [".azureml", "aml_config", ""];

/// The file names SDK v1 tries in each subfolder, in order (`project.json` is the legacy name).
pub const FILE_NAMES: [&str; 2] = ["config.json", "project.json"];

/// Refuse config files larger than this (a real one is a few hundred bytes).
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// What a workspace `config.json` says: the workspace's coordinates, and optional hints.
///
/// Both of SDK v1's formats parse into this: the three fields `subscription_id`,
/// `resource_group` and `workspace_name`, or an ARM id in `Scope` (which wins when it is present
/// and not empty). `tenant_id` and `cloud` are optional hints this crate adds; SDK v1 ignores
/// them. Every other key is ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkspaceConfig {
    /// The subscription id.
    pub subscription_id: String,
    /// The resource group name.
    pub resource_group: String,
    /// The workspace name.
    pub workspace_name: String,
    /// The tenant (directory) of the subscription, when the file names one (`tenant_id`).
    pub tenant_id: Option<TenantId>,
    /// The Azure CLI name of the cloud (`AzureCloud`, `AzureChinaCloud`, `AzureUSGovernment`),
    /// when the file names one (`cloud`). Validated when the file is read.
    pub cloud: Option<String>,
}

impl WorkspaceConfig {
    /// A config for the workspace `workspace_name` in `resource_group` of `subscription_id`.
    ///
    /// Each part must be a non-empty ARM path segment (no `/`, `?` or `#`, no control
    /// characters, no surrounding whitespace).
    pub fn new(
        subscription_id: &str,
        resource_group: &str,
        workspace_name: &str,
    ) -> Result<Self, auth_core::Error> {
        ArmSegment::Subscription.validate(subscription_id)?;
        ArmSegment::ResourceGroup.validate(resource_group)?;
        ArmSegment::Workspace.validate(workspace_name)?;
        Ok(Self {
            subscription_id: subscription_id.to_owned(),
            resource_group: resource_group.to_owned(),
            workspace_name: workspace_name.to_owned(),
            tenant_id: None,
            cloud: None,
        })
    }

    /// With a tenant hint.
    pub fn with_tenant(mut self, tenant: TenantId) -> Self {
        self.tenant_id = Some(tenant);
        self
    }

    /// With a cloud hint (written by its Azure CLI name, such as `AzureChinaCloud`).
    pub fn with_cloud(mut self, cloud: &Cloud) -> Self {
        self.cloud = Some(cloud.name().to_owned());
        self
    }

    /// The cloud the file names, if any.
    ///
    /// Fails only for a name that is not a known cloud, which a file read by this crate never
    /// holds (it is checked when the file is parsed).
    pub fn resolve_cloud(&self) -> Result<Option<Cloud>, auth_core::Error> {
        self.cloud.as_deref().map(Cloud::from_az_name).transpose()
    }

    /// The workspace's ARM resource id, the `Scope` of SDK v1's format.
    pub fn resource_id(&self) -> String {
        crate::workspace::resource_id(
            &self.subscription_id,
            &self.resource_group,
            &self.workspace_name,
        )
    }

    /// Parses the bytes of a config file (`path` is only used in errors).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, ConfigError> {
        parse_config(bytes).map_err(|reason| ConfigError::Malformed {
            path: path.to_owned(),
            reason,
        })
    }

    /// The JSON this crate writes: SDK v1's `Scope` format (with `Id: null`, as `write_config`
    /// writes it), plus the three fields, so that SDK v2's `MLClient.from_config` (which reads
    /// only the fields) can use the same file, plus the hints when set.
    pub fn to_json(&self) -> String {
        let mut map = serde_json::Map::new();
        map.insert("Id".into(), serde_json::Value::Null);
        map.insert("Scope".into(), self.resource_id().into());
        map.insert(
            "subscription_id".into(),
            self.subscription_id.clone().into(),
        );
        map.insert("resource_group".into(), self.resource_group.clone().into());
        map.insert("workspace_name".into(), self.workspace_name.clone().into());
        if let Some(t) = &self.tenant_id {
            map.insert("tenant_id".into(), t.as_str().into());
        }
        if let Some(c) = &self.cloud {
            map.insert("cloud".into(), c.clone().into());
        }
        let mut text = serde_json::to_string_pretty(&serde_json::Value::Object(map))
            .unwrap_or_else(|_| String::from("{}"));
        text.push('\n');
        text
    }
}

/// A config file that was found and read: where it is, and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigFile {
    /// The file that was used.
    pub path: PathBuf,
    /// Its content.
    pub config: WorkspaceConfig,
    /// How the file was chosen.
    pub origin: ConfigOrigin,
}

/// How a config file was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigOrigin {
    /// The caller named the file.
    Explicit,
    /// [`CONFIG_PATH_ENV`] named the file, or the directory the search started from.
    Env,
    /// Found by SDK v1's search; `tried` lists the paths checked before it, in order.
    Search {
        /// The candidates checked before the file was found (the file itself excluded).
        tried: Vec<PathBuf>,
    },
}

impl fmt::Display for ConfigFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "workspace {} (resource group {}, subscription {}) from {}",
            self.config.workspace_name,
            self.config.resource_group,
            self.config.subscription_id,
            self.path.display()
        )
    }
}

/// Finds the workspace config as SDK v1's `Workspace.from_config()` does, starting at `start`.
///
/// If [`CONFIG_PATH_ENV`] is set in `env`, its value replaces `start` (relative values are
/// taken relative to `start`); a value that names nothing is an error rather than a silent
/// fallback. Then [`search_config`] runs on the path. `env` also gives `HOME` (or `USERPROFILE`)
/// for a leading `~`.
///
/// `start` should be absolute (the current directory, usually); a relative one is made absolute
/// by resolving it on the filesystem. [`find_config_from_process`] passes the process's current
/// directory and environment.
pub fn find_config(start: &Path, env: &dyn Env) -> Result<ConfigFile, ConfigError> {
    let start = absolute(&expand_home(start, env))?;
    let Some(value) = env.var(CONFIG_PATH_ENV) else {
        return search_config(&start);
    };
    let named = absolute(&start.join(expand_home(Path::new(value.trim()), env)))?;
    match std::fs::metadata(&named) {
        Ok(m) if m.is_file() => load(&named, ConfigOrigin::Env),
        Ok(_) => {
            let mut found = search_config(&named)?;
            found.origin = ConfigOrigin::Env;
            Ok(found)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ConfigError::EnvPathMissing {
            variable: CONFIG_PATH_ENV,
            path: named,
        }),
        Err(source) => Err(ConfigError::Io {
            path: named,
            action: "read",
            source: std::sync::Arc::new(source),
        }),
    }
}

/// [`find_config`] from the process's current directory, with the process environment.
pub fn find_config_from_process() -> Result<ConfigFile, ConfigError> {
    let cwd = std::env::current_dir().map_err(|source| ConfigError::Io {
        path: PathBuf::from("."),
        action: "find the current directory",
        source: std::sync::Arc::new(source),
    })?;
    find_config(&cwd, &auth_core::ProcessEnv)
}

/// SDK v1's `Workspace.from_config(path)`: an existing file at `path` is used as is (whatever its
/// name); otherwise `path` is a directory searched by [`candidates`] order, and the first
/// regular file found wins.
///
/// A candidate that cannot be checked (a permission error, a symlink loop) stops the search with
/// [`ConfigError::UnreadableDirectory`] naming its directory, where SDK v1 would silently skip it and possibly use another
/// file. When nothing is found, [`ConfigError::NotFound`] lists every path tried.
pub fn search_config(path: &Path) -> Result<ConfigFile, ConfigError> {
    search_config_named(path, &FILE_NAMES)
}

/// [`search_config`] trying only the given file names (SDK v1's `_file_name` argument).
pub fn search_config_named(path: &Path, file_names: &[&str]) -> Result<ConfigFile, ConfigError> {
    let path = absolute(path)?;
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => return load(&path, ConfigOrigin::Explicit),
        Ok(_) => {}
        Err(e) if skippable(&e) => {}
        Err(source) => {
            return Err(ConfigError::Io {
                path,
                action: "read",
                source: std::sync::Arc::new(source),
            });
        }
    }
    let mut tried = Vec::new();
    for candidate in candidates_named(&path, file_names) {
        match std::fs::metadata(&candidate) {
            Ok(m) if m.is_file() => {
                tracing::debug!(path = %candidate.display(), "found the workspace config");
                return load(&candidate, ConfigOrigin::Search { tried });
            }
            // A directory named config.json: SDK v1's isfile() skips it.
            Ok(_) => {}
            Err(e) if skippable(&e) => {}
            Err(source) => {
                let dir = candidate
                    .parent()
                    .map_or_else(|| candidate.clone(), Path::to_path_buf);
                return Err(ConfigError::UnreadableDirectory {
                    path: dir,
                    source: std::sync::Arc::new(source),
                });
            }
        }
        tried.push(candidate);
    }
    Err(ConfigError::NotFound { start: path, tried })
}

/// Whether a metadata error means "no file here" (as opposed to "could not look").
fn skippable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Every path SDK v1 checks when it searches from directory `start`, in order.
///
/// The subfolder loop is the outer loop (`.azureml`, `aml_config`, then the directory itself),
/// file names the middle one (`config.json`, then `project.json`), and each (subfolder, file)
/// pair walks from `start` up to the filesystem root. So a parent's `.azureml/config.json` comes
/// before `./config.json`. Each parent is symlink-resolved, as v1's `realpath` does.
pub fn candidates(start: &Path) -> Vec<PathBuf> {
    candidates_named(start, &FILE_NAMES)
}

fn candidates_named(start: &Path, file_names: &[&str]) -> Vec<PathBuf> {
    let dirs = ancestors(start);
    let mut out = Vec::with_capacity(dirs.len() * SUBFOLDERS.len() * file_names.len());
    for sub in SUBFOLDERS {
        for name in file_names {
            for dir in &dirs {
                let base = if sub.is_empty() {
                    dir.clone()
                } else {
                    dir.join(sub)
                };
                out.push(base.join(name));
            }
        }
    }
    out
}

/// `start`, then each parent (`realpath` of `dir/..`, as v1) up to and including the root.
fn ancestors(start: &Path) -> Vec<PathBuf> {
    let mut out = vec![start.to_path_buf()];
    let mut current = start.to_path_buf();
    // Bounded: a path has few components; the bound only guards against a resolver cycle.
    for _ in 0..4096 {
        let Some(lexical) = current.parent() else {
            break;
        };
        // v1: realpath(join(path, "..")), which resolves `path` itself first when it is a
        // symlink; for a path that does not exist, the lexical parent.
        let parent =
            std::fs::canonicalize(current.join("..")).unwrap_or_else(|_| lexical.to_path_buf());
        if parent == current || out.contains(&parent) {
            break;
        }
        out.push(parent.clone());
        current = parent;
    }
    out
}

/// An absolute, lexically normalised path (v1's `abspath`: `.` and `..` folded without touching
/// the filesystem). A relative path is resolved on the filesystem.
fn absolute(path: &Path) -> Result<PathBuf, ConfigError> {
    if path.is_absolute() {
        let mut out = PathBuf::new();
        for c in path.components() {
            match c {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    out.pop();
                }
                other => out.push(other.as_os_str()),
            }
        }
        return Ok(out);
    }
    std::fs::canonicalize(path).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        action: "resolve",
        source: std::sync::Arc::new(source),
    })
}

/// Expands a leading `~` with `HOME` (or `USERPROFILE`) from `env`, as v1's `expanduser` does.
fn expand_home(path: &Path, env: &dyn Env) -> PathBuf {
    let mut parts = path.components();
    let Some(first) = parts.next() else {
        return path.to_path_buf();
    };
    if first.as_os_str() != OsStr::new("~") {
        return path.to_path_buf();
    }
    match env.var("HOME").or_else(|| env.var("USERPROFILE")) {
        Some(home) => PathBuf::from(home).join(parts.as_path()),
        None => path.to_path_buf(),
    }
}

/// Reads and parses the config file at `path` (any file name).
pub fn load_config(path: &Path) -> Result<ConfigFile, ConfigError> {
    load(path, ConfigOrigin::Explicit)
}

fn load(path: &Path, origin: ConfigOrigin) -> Result<ConfigFile, ConfigError> {
    let io_err = |source: io::Error| ConfigError::Io {
        path: path.to_owned(),
        action: "read",
        source: std::sync::Arc::new(source),
    };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if meta.is_dir() {
        return Err(io_err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a directory",
        )));
    }
    let too_large = |bytes: u64| ConfigError::Malformed {
        path: path.to_owned(),
        reason: Malformed::TooLarge { bytes },
    };
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(too_large(meta.len()));
    }
    // Bounded: a device reports size 0 (/dev/zero never ends), and a file may have grown since
    // it was measured. A pipe (`<(...)`) still works.
    let bytes = match auth_core::fs::read_capped(path, MAX_CONFIG_BYTES) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::FileTooLarge => {
            return Err(too_large(MAX_CONFIG_BYTES + 1));
        }
        Err(e) => return Err(io_err(e)),
    };
    let config = WorkspaceConfig::parse(path, &bytes)?;
    Ok(ConfigFile {
        path: path.to_owned(),
        config,
        origin,
    })
}

fn parse_config(bytes: &[u8]) -> Result<WorkspaceConfig, Malformed> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(Malformed::ByteOrderMark { encoding: "UTF-8" });
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Malformed::ByteOrderMark { encoding: "UTF-16" });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| Malformed::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    if text.trim().is_empty() {
        return Err(Malformed::Empty);
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| Malformed::NotJson {
        line: e.line(),
        column: e.column(),
        detail: json_error_detail(&e),
    })?;
    let serde_json::Value::Object(map) = value else {
        return Err(Malformed::NotAnObject {
            found: json_type(&value),
        });
    };

    let optional_string = |key: &'static str| -> Result<Option<&str>, Malformed> {
        match map.get(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(Malformed::WrongType {
                field: key,
                expected: "a string",
                found: json_type(other),
            }),
        }
    };

    let tenant_id = optional_string("tenant_id")?
        .map(|t| {
            TenantId::new(t).map_err(|_| Malformed::InvalidValue {
                field: "tenant_id",
                value: t.to_owned(),
                expected: "a tenant GUID or a domain such as contoso.onmicrosoft.com",
            })
        })
        .transpose()?;
    let cloud = optional_string("cloud")?
        .map(|c| {
            Cloud::from_az_name(c)
                .map(|cloud| cloud.name().to_owned())
                .map_err(|_| Malformed::InvalidValue {
                    field: "cloud",
                    value: c.to_owned(),
                    expected: "AzureCloud, AzureChinaCloud or AzureUSGovernment",
                })
        })
        .transpose()?;

    // SDK v1: a non-empty `Scope` wins over the three fields.
    if let Some(scope) = optional_string("Scope")? {
        let (subscription_id, resource_group, workspace_name) =
            parse_workspace_id(scope).map_err(|why| Malformed::InvalidScope {
                scope: scope.to_owned(),
                why,
            })?;
        return Ok(WorkspaceConfig {
            subscription_id,
            resource_group,
            workspace_name,
            tenant_id,
            cloud,
        });
    }

    let required = |segment: ArmSegment| -> Result<String, Malformed> {
        let key = segment.config_key();
        let value = match map.get(key) {
            None | Some(serde_json::Value::Null) => {
                return Err(Malformed::MissingField { field: key });
            }
            Some(serde_json::Value::String(s)) => s,
            Some(other) => {
                return Err(Malformed::WrongType {
                    field: key,
                    expected: "a string",
                    found: json_type(other),
                });
            }
        };
        if value.trim().is_empty() {
            return Err(Malformed::EmptyField { field: key });
        }
        segment
            .check(value)
            .map_err(|why| Malformed::InvalidValue {
                field: key,
                value: value.clone(),
                expected: why,
            })?;
        Ok(value.clone())
    };
    Ok(WorkspaceConfig {
        subscription_id: required(ArmSegment::Subscription)?,
        resource_group: required(ArmSegment::ResourceGroup)?,
        workspace_name: required(ArmSegment::Workspace)?,
        tenant_id,
        cloud,
    })
}

/// serde_json's message without its " at line L column C" suffix (the error has them as fields).
fn json_error_detail(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Writes `config` as SDK v1's `Workspace.write_config(path)` does: into `<dir>/.azureml/`,
/// as `project.json` if that legacy file already exists there, otherwise as `config.json`.
/// Returns the path written.
///
/// The write is atomic: the JSON goes to a temporary file in the same directory, which is
/// flushed to disk and then renamed over the target, so a reader sees the old file or the new
/// one, never half of one. The file holds no secret; it gets the default permissions (0644
/// under the usual umask).
pub fn write_config(dir: &Path, config: &WorkspaceConfig) -> Result<PathBuf, ConfigError> {
    let target_dir = dir.join(".azureml");
    let io_err = |path: &Path, action: &'static str| {
        let path = path.to_owned();
        move |source: io::Error| ConfigError::Io {
            path,
            action,
            source: std::sync::Arc::new(source),
        }
    };
    std::fs::create_dir_all(&target_dir).map_err(io_err(&target_dir, "create"))?;
    let legacy = target_dir.join("project.json");
    let target = if std::fs::metadata(&legacy).is_ok_and(|m| m.is_file()) {
        legacy
    } else {
        target_dir.join("config.json")
    };
    write_atomic(&target, config.to_json().as_bytes())?;
    Ok(target)
}

/// Writes `bytes` to `target` through a temporary sibling file, fsync and rename.
fn write_atomic(target: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| -> io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, target)?;
        // Make the rename itself durable (where directories can be opened and synced).
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        ConfigError::Io {
            path: target.to_owned(),
            action: "write",
            source: std::sync::Arc::new(source),
        }
    })
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
