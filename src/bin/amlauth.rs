//! The `amlauth` command-line tool.
fn main() {}
