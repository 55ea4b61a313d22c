//! Runs the emulator standalone with the sample setup: `cargo run -p auth-testkit --bin emulator [-- --tls]`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let tls = std::env::args().skip(1).any(|a| a == "--tls");
    auth_testkit::run_standalone(tls).await
}
