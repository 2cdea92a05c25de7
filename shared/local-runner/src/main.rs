//! `local-runner`: the command line lands with the demo.

fn main() {}
