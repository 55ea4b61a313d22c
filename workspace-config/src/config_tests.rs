//! Config discovery, parsing and writing on temporary directory trees.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;

/// A temporary directory tree, removed on drop.
struct Tree {
    root: PathBuf,
}

impl Tree {
    fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let root = std::env::temp_dir().join(format!(
            "wsconfig-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        // Canonical, because the search resolves parents with realpath.
        let root = std::fs::canonicalize(root).unwrap();
        Self { root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        if rel.is_empty() || rel == "." {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    fn dir(&self, rel: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    fn file(&self, rel: &str, content: &[u8]) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }

    /// A valid config whose workspace name records where it is, so a test sees which was used.
    fn config(&self, rel: &str) -> PathBuf {
        let name = rel.replace(['/', '.'], "_");
        self.file(
            rel,
            format!(
                r#"{{"subscription_id": "sub", "resource_group": "rg", "workspace_name": "{name}"}}"#
            )
            .as_bytes(),
        )
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn no_env() -> HashMap<String, String> {
    HashMap::new()
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Creates `configs` (paths relative to the tree), searches from `start`, expects `expected`.
fn check_found(configs: &[&str], start: &str, expected: &str) {
    let t = Tree::new();
    for c in configs {
        t.config(c);
    }
    let start = t.dir(start);
    let found = find_config(&start, &no_env())
        .unwrap_or_else(|e| panic!("{configs:?} from {start:?}: {e}"));
    assert_eq!(found.path, t.path(expected), "{configs:?} from {start:?}");
    assert_eq!(
        found.config.workspace_name,
        expected.replace(['/', '.'], "_"),
        "the content is the found file's"
    );
}

#[test]
fn search_order() {
    // The directory itself.
    check_found(&["p/config.json"], "p", "p/config.json");
    // A parent's .azureml/config.json beats ./config.json, as in SDK v1.
    check_found(
        &["p/config.json", ".azureml/config.json"],
        "p",
        ".azureml/config.json",
    );
    check_found(
        &["a/b/c/config.json", "a/.azureml/config.json"],
        "a/b/c",
        "a/.azureml/config.json",
    );
    // The nearest .azureml wins among .azureml directories.
    check_found(
        &["a/.azureml/config.json", "a/b/.azureml/config.json"],
        "a/b",
        "a/b/.azureml/config.json",
    );
    // config.json at any level beats project.json at any level (file names are the middle loop).
    check_found(
        &["a/b/.azureml/project.json", "a/.azureml/config.json"],
        "a/b",
        "a/.azureml/config.json",
    );
    // .azureml (even project.json, even two levels up) beats aml_config.
    check_found(
        &["a/b/aml_config/config.json", ".azureml/project.json"],
        "a/b",
        ".azureml/project.json",
    );
    // aml_config (anywhere up) beats the bare directory.
    check_found(
        &["a/b/config.json", "a/aml_config/project.json"],
        "a/b",
        "a/aml_config/project.json",
    );
    // config.json before project.json in the same directory.
    check_found(&["p/project.json", "p/config.json"], "p", "p/config.json");
    // Legacy project.json alone.
    check_found(
        &["p/aml_config/project.json"],
        "p/q",
        "p/aml_config/project.json",
    );
}

#[test]
fn search_skips_what_is_not_a_regular_file() {
    let t = Tree::new();
    // A directory named config.json, and a file named .azureml, are skipped (v1's isfile()).
    t.dir("p/.azureml/config.json");
    t.file("p/q/.azureml", b"not a directory");
    // A dangling symlink is skipped too.
    #[cfg(unix)]
    std::os::unix::fs::symlink(t.path("nowhere.json"), t.path("p/q/project.json")).unwrap();
    let want = t.config("p/q/config.json");
    let found = find_config(&t.path("p/q"), &no_env()).unwrap();
    assert_eq!(found.path, want);
    let ConfigOrigin::Search { tried } = &found.origin else {
        panic!("{:?}", found.origin)
    };
    assert!(tried.contains(&t.path("p/.azureml/config.json")));
    assert!(tried.contains(&t.path("p/q/.azureml/config.json")));
    assert!(!tried.contains(&want));
}

#[test]
fn candidates_list_the_whole_order() {
    let t = Tree::new();
    let start = t.dir("a/b");
    let levels: Vec<PathBuf> = start.ancestors().map(Path::to_path_buf).collect();
    let all = candidates(&start);
    assert_eq!(all.len(), levels.len() * 6);
    let mut want = Vec::new();
    for sub in [".azureml", "aml_config", ""] {
        for name in ["config.json", "project.json"] {
            for dir in &levels {
                let base = if sub.is_empty() {
                    dir.clone()
                } else {
                    dir.join(sub)
                };
                want.push(base.join(name));
            }
        }
    }
    assert_eq!(all, want);
    assert_eq!(all[0], t.path("a/b/.azureml/config.json"));
    assert_eq!(all[1], t.path("a/.azureml/config.json"));
}

#[cfg(unix)]
#[test]
fn parents_are_symlink_resolved() {
    // start = link/inner where link -> real/deep: the walk goes up through real/ (v1's realpath).
    let t = Tree::new();
    t.dir("real/deep/inner");
    std::os::unix::fs::symlink(t.path("real/deep"), t.path("link")).unwrap();
    t.config("real/.azureml/config.json");
    let found = find_config(&t.path("link/inner"), &no_env()).unwrap();
    assert_eq!(found.path, t.path("real/.azureml/config.json"));

    // The start itself a symlink: its parent is the target's parent (realpath of start/..),
    // not the directory holding the link.
    let t = Tree::new();
    t.dir("work");
    t.dir("other/deep");
    std::os::unix::fs::symlink(t.path("other/deep"), t.path("work/lnk")).unwrap();
    t.config("other/.azureml/config.json");
    t.config("work/.azureml/config.json");
    let found = find_config(&t.path("work/lnk"), &no_env()).unwrap();
    assert_eq!(found.path, t.path("other/.azureml/config.json"));
    let ConfigOrigin::Search { tried } = &found.origin else {
        panic!("{:?}", found.origin)
    };
    assert_eq!(tried, &vec![t.path("work/lnk/.azureml/config.json")]);
}

#[test]
fn not_found_lists_every_path_tried() {
    let t = Tree::new();
    let start = t.dir("a/b");
    let err = find_config(&start, &no_env()).unwrap_err();
    let ConfigError::NotFound { start: s, tried } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(s, &start);
    assert_eq!(tried, &candidates(&start));
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!(
            "no workspace config (config.json) in {} or its parent directories; download config.json from ml.azure.com",
            start.display()
        )),
        "{shown}"
    );
    assert!(shown.contains("AZUREML_CONFIG_PATH"), "{shown}");
    for p in tried {
        assert!(shown.contains(&format!("\n  {}", p.display())), "{shown}");
    }
    let core: auth_core::Error = err.clone().into();
    assert_eq!(core.kind(), auth_core::ErrorKind::Configuration);
    let source = std::error::Error::source(&core).unwrap();
    assert!(matches!(
        source.downcast_ref::<ConfigError>(),
        Some(ConfigError::NotFound { .. })
    ));
}

#[test]
fn explicit_file_and_directory() {
    let t = Tree::new();
    let file = t.config("elsewhere/my-workspace.json");
    // An existing file is used as is, whatever its name.
    let found = search_config(&file).unwrap();
    assert_eq!(found.path, file);
    assert_eq!(found.origin, ConfigOrigin::Explicit);
    assert_eq!(load_config(&file).unwrap().path, file);
    // A directory is searched (and its parents).
    let want = t.config("proj/.azureml/config.json");
    assert_eq!(search_config(&t.dir("proj/src")).unwrap().path, want);
    // Only the given name (v1's _file_name).
    t.config("proj/src/project.json");
    assert_eq!(
        search_config_named(&t.path("proj/src"), &["project.json"])
            .unwrap()
            .path,
        t.path("proj/src/project.json")
    );
    // A start directory that does not exist is walked up from, as v1 does.
    assert_eq!(
        search_config(&t.path("proj/missing/deeper")).unwrap().path,
        want
    );
    // `.` and `..` are folded first, as v1's abspath does.
    let found = search_config(&t.path("proj/src/../src/./")).unwrap();
    assert_eq!(found.path, want);
    let ConfigOrigin::Search { tried } = &found.origin else {
        panic!("{:?}", found.origin)
    };
    assert_eq!(tried[0], t.path("proj/src/.azureml/config.json"));
    // load_config on a directory or a missing file: an io error naming it.
    let e = load_config(&t.path("proj")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("cannot read {}", t.path("proj").display())),
        "{e}"
    );
    let e = load_config(&t.path("nope.json")).unwrap_err();
    assert!(e.to_string().contains("no such file"), "{e}");
}

#[test]
fn env_override() {
    let t = Tree::new();
    let start = t.dir("cwd");
    t.config("cwd/.azureml/config.json");
    let file = t.config("shared/ws.json");
    t.config("shared/dir/aml_config/config.json");

    // A file, absolute.
    let e = env(&[(CONFIG_PATH_ENV, file.to_str().unwrap())]);
    let found = find_config(&start, &e).unwrap();
    assert_eq!(
        (found.path.clone(), found.origin.clone()),
        (file.clone(), ConfigOrigin::Env)
    );

    // A directory, relative to the start: searched like v1's path.
    let e = env(&[(CONFIG_PATH_ENV, "../shared/dir")]);
    let found = find_config(&start, &e).unwrap();
    assert_eq!(found.path, t.path("shared/dir/aml_config/config.json"));
    assert_eq!(found.origin, ConfigOrigin::Env);

    // A file, relative: the path is normalised.
    let e = env(&[(CONFIG_PATH_ENV, "./../shared/ws.json")]);
    assert_eq!(find_config(&start, &e).unwrap().path, file);

    // `~` is the HOME of the injected env.
    let e = env(&[
        (CONFIG_PATH_ENV, "~/ws.json"),
        ("HOME", t.path("shared").to_str().unwrap()),
    ]);
    assert_eq!(
        find_config(&start, &e).unwrap().path,
        t.path("shared/ws.json")
    );

    // A path that does not exist: an error naming the variable, no silent fallback.
    let e = env(&[(CONFIG_PATH_ENV, "missing.json")]);
    let err = find_config(&start, &e).unwrap_err();
    assert!(matches!(err, ConfigError::EnvPathMissing { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "AZUREML_CONFIG_PATH names {}, which does not exist; point it at the workspace's config.json or at a directory to search from, or unset it",
            start.join("missing.json").display()
        )
    );

    // Empty means unset.
    let e = env(&[(CONFIG_PATH_ENV, "  ")]);
    assert_eq!(
        find_config(&start, &e).unwrap().path,
        t.path("cwd/.azureml/config.json")
    );
}

/// Parses `content` from a file and expects an error whose text contains every fragment.
fn check_malformed(content: &[u8], fragments: &[&str]) {
    let t = Tree::new();
    let path = t.file(".azureml/config.json", content);
    let err = find_config(&t.root, &no_env()).unwrap_err();
    assert!(
        matches!(err, ConfigError::Malformed { .. }),
        "{content:?}: {err:?}"
    );
    let shown = err.to_string();
    let prefix = format!("the workspace config {} is not valid: ", path.display());
    assert!(shown.starts_with(&prefix), "{shown}");
    for f in fragments {
        assert!(
            shown.contains(f),
            "{:?}: {shown:?} lacks {f:?}",
            String::from_utf8_lossy(content)
        );
    }
    assert!(!shown.ends_with('.'), "{shown}");
    assert_eq!(err.path(), path);
}

#[test]
fn malformed_files() {
    let ok = r#""subscription_id": "s", "resource_group": "rg", "workspace_name": "ws""#;
    check_malformed(
        format!("\u{feff}{{{ok}}}").as_bytes(),
        &["UTF-8 byte-order mark", "save it as UTF-8 without BOM"],
    );
    check_malformed(
        b"\xff\xfe{\x00}\x00",
        &["saved as UTF-16", "save it as UTF-8 without BOM"],
    );
    check_malformed(
        b"{\"subscription_id\": \"s\xe9\"}",
        &["not UTF-8 text (invalid bytes at offset 22)"],
    );
    check_malformed(b"", &["it is empty"]);
    check_malformed(b"  \n", &["it is empty"]);
    check_malformed(
        b"subscription_id = s",
        &[
            "it is not valid JSON (line 1, column 1: expected value)",
            "fix the syntax",
        ],
    );
    check_malformed(
        b"{\"subscription_id\": \"s\",\n \"resource_group\": \"rg\",\n}",
        &["not valid JSON (line 3, column 1: trailing comma)"],
    );
    check_malformed(b"{\"subscription_id\": \"s\"", &["not valid JSON", "EOF"]);
    check_malformed(b"[1, 2]", &["it holds an array, not a JSON object"]);
    check_malformed(b"\"text\"", &["it holds a string, not a JSON object"]);
    check_malformed(
        br#"{"subscription_id": "s", "resource_group": "rg"}"#,
        &[
            "it has no workspace_name; a workspace config needs subscription_id, resource_group and workspace_name (or a Scope",
        ],
    );
    check_malformed(
        br#"{"subscription_id": null, "resource_group": "rg", "workspace_name": "ws"}"#,
        &["it has no subscription_id"],
    );
    check_malformed(
        br#"{"subscription_id": "s", "resource_group": "", "workspace_name": "ws"}"#,
        &["its resource_group is empty; set it to the workspace's resource group name"],
    );
    check_malformed(
        br#"{"subscription_id": "s", "resource_group": "rg", "workspace_name": "   "}"#,
        &["its workspace_name is empty"],
    );
    check_malformed(
        br#"{"subscription_id": 1234, "resource_group": "rg", "workspace_name": "ws"}"#,
        &["its subscription_id is a number; it must be a string"],
    );
    check_malformed(
        br#"{"subscription_id": "s", "resource_group": ["rg"], "workspace_name": "ws"}"#,
        &["its resource_group is an array; it must be a string"],
    );
    check_malformed(
        br#"{"subscription_id": "s", "resource_group": "a/b", "workspace_name": "ws"}"#,
        &["its resource_group \"a/b\" is not valid: contains a character"],
    );
    check_malformed(
        br#"{"Scope": 42}"#,
        &["its Scope is a number; it must be a string"],
    );
    check_malformed(
        br#"{"Scope": "/subscriptions/s/resourceGroups/rg"}"#,
        &[
            "its Scope \"/subscriptions/s/resourceGroups/rg\" is not the ARM id of an Azure ML workspace (it stops before the workspace name)",
            "/providers/Microsoft.MachineLearningServices/workspaces/<name>",
        ],
    );
    check_malformed(
        br#"{"Scope": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st"}"#,
        &["not a Microsoft.MachineLearningServices/workspaces resource"],
    );
    check_malformed(
        br#"{"Scope": "subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"}"#,
        &["it does not start with /subscriptions/"],
    );
    check_malformed(
        br#"{"Scope": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/c"}"#,
        &["it names a resource inside the workspace"],
    );
    check_malformed(
        br#"{"Scope": "/subscriptions//resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"}"#,
        &["its subscription id is empty"],
    );
    check_malformed(
        br#"{"Scope": "/subscriptions/s/resourcegroup/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"}"#,
        &["the subscription is not followed by /resourceGroups/"],
    );
    check_malformed(
        format!(r#"{{{ok}, "cloud": "AzureGermanCloud"}}"#).as_bytes(),
        &[
            "its cloud \"AzureGermanCloud\" is not valid: AzureCloud, AzureChinaCloud or AzureUSGovernment",
        ],
    );
    check_malformed(
        format!(r#"{{{ok}, "tenant_id": "a/b"}}"#).as_bytes(),
        &["its tenant_id \"a/b\" is not valid"],
    );
    check_malformed(
        format!(r#"{{{ok}, "tenant_id": true}}"#).as_bytes(),
        &["its tenant_id is a boolean; it must be a string"],
    );
}

#[test]
fn too_large_file() {
    let t = Tree::new();
    let big = vec![b' '; (MAX_CONFIG_BYTES + 1) as usize];
    let path = t.file("config.json", &big);
    let e = load_config(&path).unwrap_err();
    assert!(
        e.to_string().contains("too large to be a workspace config"),
        "{e}"
    );
}

/// Parses `content` and expects (subscription, resource group, workspace, tenant, cloud).
fn check_parsed(content: &str, want: (&str, &str, &str, Option<&str>, Option<&str>)) {
    let c = WorkspaceConfig::parse(Path::new("config.json"), content.as_bytes())
        .unwrap_or_else(|e| panic!("{content}: {e}"));
    let got = (
        c.subscription_id.as_str(),
        c.resource_group.as_str(),
        c.workspace_name.as_str(),
        c.tenant_id.as_ref().map(|t| t.as_str()),
        c.cloud.as_deref(),
    );
    assert_eq!(got, want, "{content}");
}

#[test]
fn both_formats() {
    let id = "/subscriptions/S/resourceGroups/RG/providers/Microsoft.MachineLearningServices/workspaces/W";
    check_parsed(
        r#"{"subscription_id": "s", "resource_group": "rg", "workspace_name": "ws"}"#,
        ("s", "rg", "ws", None, None),
    );
    // SDK v1's write_config format.
    check_parsed(
        &format!(r#"{{"Id": null, "Scope": "{id}"}}"#),
        ("S", "RG", "W", None, None),
    );
    // Scope wins over the fields.
    check_parsed(
        &format!(
            r#"{{"Scope": "{id}", "subscription_id": "s", "resource_group": "rg", "workspace_name": "ws"}}"#
        ),
        ("S", "RG", "W", None, None),
    );
    // An empty or null Scope does not count.
    check_parsed(
        r#"{"Scope": "", "subscription_id": "s", "resource_group": "rg", "workspace_name": "ws"}"#,
        ("s", "rg", "ws", None, None),
    );
    check_parsed(
        r#"{"Scope": null, "subscription_id": "s", "resource_group": "rg", "workspace_name": "ws"}"#,
        ("s", "rg", "ws", None, None),
    );
    // Keywords are case-insensitive; one trailing slash is fine.
    check_parsed(
        r#"{"Scope": "/SUBSCRIPTIONS/s/resourcegroups/rg/Providers/microsoft.machinelearningservices/Workspaces/ws/"}"#,
        ("s", "rg", "ws", None, None),
    );
    // Hints, and unknown keys ignored.
    check_parsed(
        r#"{"subscription_id": "s", "resource_group": "rg", "workspace_name": "ws", "tenant_id": "contoso.onmicrosoft.com", "cloud": "azurechinacloud", "location": "eastus", "friendly": {"x": 1}}"#,
        (
            "s",
            "rg",
            "ws",
            Some("contoso.onmicrosoft.com"),
            Some("AzureChinaCloud"),
        ),
    );
    // Empty hints count as absent.
    check_parsed(
        r#"{"subscription_id": "s", "resource_group": "rg", "workspace_name": "ws", "tenant_id": "", "cloud": null}"#,
        ("s", "rg", "ws", None, None),
    );
}

#[cfg(unix)]
#[test]
fn unreadable_directory_stops_the_search() {
    // A symlink loop: looking into `.azureml` fails with ELOOP (this works as root too).
    let t = Tree::new();
    let start = t.dir("p");
    std::os::unix::fs::symlink(t.path("p/.azureml"), t.path("p/.azureml")).unwrap();
    t.config("p/config.json");
    let err = find_config(&start, &no_env()).unwrap_err();
    let ConfigError::UnreadableDirectory { path, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(path, &t.path("p/.azureml"));
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!(
            "cannot look into {} while searching for the workspace config: too many levels of symbolic links; fix its permissions, or name the config file with AZUREML_CONFIG_PATH",
            t.path("p/.azureml").display()
        )),
        "{shown}"
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[cfg(unix)]
#[test]
fn permission_denied_directory() {
    use std::os::unix::fs::PermissionsExt as _;
    let t = Tree::new();
    let start = t.dir("p");
    let locked = t.dir("p/.azureml");
    t.config("p/.azureml/config.json");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let result = find_config(&start, &no_env());
    let root_bypasses = std::fs::read_dir(&locked).is_ok();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    if root_bypasses {
        // Running as root: permissions do not apply, the file is found.
        assert_eq!(result.unwrap().path, t.path("p/.azureml/config.json"));
    } else {
        let err = result.unwrap_err();
        assert!(
            matches!(err, ConfigError::UnreadableDirectory { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("permission denied"), "{err}");
    }
}

#[test]
fn write_config_round_trips_atomically() {
    let t = Tree::new();
    let dir = t.dir("proj");
    let config = WorkspaceConfig::new("s", "rg", "ws")
        .unwrap()
        .with_tenant(auth_core::TenantId::new("contoso.onmicrosoft.com").unwrap())
        .with_cloud(&auth_core::Cloud::us_government());
    let written = write_config(&dir, &config).unwrap();
    assert_eq!(written, t.path("proj/.azureml/config.json"));
    let back = find_config(&t.dir("proj/sub"), &no_env()).unwrap();
    assert_eq!(back.path, written);
    assert_eq!(back.config, config);
    // SDK v1's format (Scope, Id) plus the fields SDK v2 reads.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&written).unwrap()).unwrap();
    assert_eq!(json["Id"], serde_json::Value::Null);
    assert_eq!(
        json["Scope"],
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
    );
    assert_eq!(json["workspace_name"], "ws");
    assert_eq!(json["cloud"], "AzureUSGovernment");

    // Overwrite: the new content replaces the old, and no temporary file is left.
    let other = WorkspaceConfig::new("s2", "rg2", "ws2").unwrap();
    write_config(&dir, &other).unwrap();
    assert_eq!(load_config(&written).unwrap().config, other);
    let names: Vec<String> = std::fs::read_dir(t.path("proj/.azureml"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["config.json".to_owned()]);
}

#[test]
fn write_config_keeps_a_legacy_project_json() {
    let t = Tree::new();
    t.config("proj/.azureml/project.json");
    let config = WorkspaceConfig::new("s", "rg", "ws").unwrap();
    let written = write_config(&t.path("proj"), &config).unwrap();
    assert_eq!(written, t.path("proj/.azureml/project.json"));
    assert_eq!(load_config(&written).unwrap().config, config);
    assert!(!t.path("proj/.azureml/config.json").exists());
}

#[test]
fn write_config_failure_leaves_nothing_behind() {
    let t = Tree::new();
    // `.azureml` is a file: the directory cannot be created.
    t.file("proj/.azureml", b"x");
    let err = write_config(
        &t.path("proj"),
        &WorkspaceConfig::new("s", "rg", "ws").unwrap(),
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "cannot create {}",
            t.path("proj/.azureml").display()
        )),
        "{err}"
    );
    // The target is a directory: the rename fails and the temporary file is removed.
    let t = Tree::new();
    t.dir("proj/.azureml/config.json/inner");
    let err = write_config(
        &t.path("proj"),
        &WorkspaceConfig::new("s", "rg", "ws").unwrap(),
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("cannot write "), "{err}");
    let names: Vec<String> = std::fs::read_dir(t.path("proj/.azureml"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["config.json".to_owned()]);
}

#[test]
fn new_validates_names() {
    let check = |s: &str, rg: &str, w: &str, want: &str| {
        let e = WorkspaceConfig::new(s, rg, w).unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
        assert_eq!(e.kind(), auth_core::ErrorKind::Configuration);
    };
    check("", "rg", "ws", "the subscription id \"\" is empty");
    check(
        "s",
        "a/b",
        "ws",
        "the resource group name \"a/b\" contains a character",
    );
    check("s", "rg", " ws", "has leading or trailing whitespace");
    check("s", "rg", "..", "relative path segment");
    check("s", "rg", "w?x", "contains a character");
}

#[test]
fn display_of_a_found_file() {
    let t = Tree::new();
    let p = t.config("config.json");
    let f = load_config(&p).unwrap();
    assert_eq!(
        f.to_string(),
        format!(
            "workspace config_json (resource group rg, subscription sub) from {}",
            p.display()
        )
    );
}

/// A device named as the config must fail at once: it reports size 0, and reading /dev/zero
/// never ends.
#[cfg(unix)]
#[test]
fn an_endless_config_is_refused() {
    let e = load_config(Path::new("/dev/zero")).unwrap_err();
    assert!(
        matches!(
            &e,
            ConfigError::Malformed { reason: Malformed::TooLarge { bytes }, .. } if *bytes == MAX_CONFIG_BYTES + 1
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("too large to be a workspace config"),
        "{e}"
    );
}
