//! SDK v1's `Workspace.from_config()` end to end: write a config, find it from a subdirectory,
//! get the workspace over ARM.

use std::collections::HashMap;

use workspace_config::{Workspace, find_config, write_config};

use crate::{READER, SUB, client, emulator, ws_id};

#[tokio::test]
async fn write_find_and_get() {
    let root = std::env::temp_dir().join(format!("wsconfig-it-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("notebooks/deep")).unwrap();
    let root = std::fs::canonicalize(root).unwrap();

    let emu = emulator().await;
    let c = client(&emu, READER, 0);
    let listed = c.list_by_resource_group(SUB, "rg-ml").await.unwrap();
    let target = listed[2].workspace().unwrap();
    let written = write_config(&root, &target.to_config()).unwrap();
    assert_eq!(written, root.join(".azureml/config.json"));

    let env: HashMap<String, String> = HashMap::new();
    let found = find_config(&root.join("notebooks/deep"), &env).unwrap();
    assert_eq!(found.path, written);
    let ws = Workspace::from_config(&found).unwrap();
    let info = c.get(&ws).await.unwrap();
    assert_eq!(info.id, ws_id(SUB, "rg-ml", "ws-c"));
    std::fs::remove_dir_all(&root).unwrap();
}
