//! Runs the emulator standalone with the sample setup until Ctrl-C:
//! `cargo run -p auth-testkit --bin emulator -- [--tls] [--entra-port N] [--arm-port N]`
//! (or `cargo xtask emulator [flags]`).

use std::process::ExitCode;

use auth_testkit::StartOptions;

const USAGE: &str = "\
usage: emulator [--tls] [--entra-port N] [--arm-port N]

Runs the local Microsoft Entra ID + Azure Resource Manager emulator with the sample setup,
prints its endpoints, the sample (fake) credentials and curl commands, and serves until Ctrl-C.

  --tls            serve HTTPS; the CA certificate is written to a temporary file (printed)
  --entra-port N   the Entra ID port (default: any free port)
  --arm-port N     the ARM port (default: any free port)
  -h, --help       print this help and exit
";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Help,
    Run {
        tls: bool,
        entra_port: u16,
        arm_port: u16,
    },
}

fn parse(args: &[String]) -> Result<Command, String> {
    let (mut tls, mut entra_port, mut arm_port) = (false, 0, 0);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| format!("{name} needs a port number"))
                .and_then(|v| {
                    v.parse::<u16>()
                        .map_err(|_| format!("{name} needs a port number (0-65535), not {v:?}"))
                })
        };
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--tls" if inline.is_none() => tls = true,
            "--entra-port" => entra_port = value(flag)?,
            "--arm-port" => arm_port = value(flag)?,
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    Ok(Command::Run {
        tls,
        entra_port,
        arm_port,
    })
}

#[allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool"
)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run {
            tls,
            entra_port,
            arm_port,
        }) => StartOptions::new()
            .tls(tls)
            .entra_port(entra_port)
            .arm_port(arm_port),
        Err(e) => {
            eprintln!("emulator: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("emulator: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(auth_testkit::run_standalone_with(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags() {
        assert_eq!(
            parse(&args(&[])).unwrap(),
            Command::Run {
                tls: false,
                entra_port: 0,
                arm_port: 0
            }
        );
        assert_eq!(
            parse(&args(&["--tls", "--entra-port", "8443", "--arm-port=9443"])).unwrap(),
            Command::Run {
                tls: true,
                entra_port: 8443,
                arm_port: 9443
            }
        );
        assert_eq!(parse(&args(&["--tls", "--help"])).unwrap(), Command::Help);
        assert_eq!(parse(&args(&["-h"])).unwrap(), Command::Help);
        for (bad, message) in [
            (&["--bogus"][..], "unknown argument \"--bogus\""),
            (&["tls"][..], "unknown argument \"tls\""),
            (&["--tls=yes"][..], "unknown argument \"--tls=yes\""),
            (&["--entra-port"][..], "--entra-port needs a port number"),
            (&["--arm-port", "http"][..], "not \"http\""),
            (&["--arm-port=70000"][..], "not \"70000\""),
        ] {
            let e = parse(&args(bad)).unwrap_err();
            assert!(e.contains(message), "{bad:?}: {e}");
        }
    }
}
