//! Developer commands: `cargo xtask ci | bench | emulator | demo`.
fn main() {}
