//! The stand-in `az` of the Azure CLI credential's tests: see `auth_testkit::az`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    // argv[0], not current_exe(): the stand-in is run through a link in its state folder.
    let argv0 = PathBuf::from(args.next().unwrap_or_default());
    let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    auth_testkit::az::main(&argv0, &args)
}
