//! Runs the emulator standalone with the sample setup:
//! `cargo run -p auth-testkit --bin emulator -- [--tls] [--entra-port N] [--arm-port N]`.

use auth_testkit::StartOptions;

fn port(args: &[String], name: &str) -> Result<u16, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(0),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name} needs a port number")),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = (|| -> Result<StartOptions, String> {
        Ok(StartOptions::new()
            .tls(args.iter().any(|a| a == "--tls"))
            .entra_port(port(&args, "--entra-port")?)
            .arm_port(port(&args, "--arm-port")?))
    })()
    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    auth_testkit::run_standalone_with(options).await
}
