//! Prints a dashboard user for the login secret: `dashboard-password <user>` reads the password
//! from standard input (one line) and prints `{"name": ..., "password_hash": ...}` to add to the
//! secret's `users` (see infra/README.md).

use std::io::BufRead as _;
use std::process::ExitCode;

use dashboard::password::{ITERATIONS, PasswordHash};

fn main() -> ExitCode {
    let Some(user) = std::env::args().nth(1) else {
        eprintln!("usage: dashboard-password <user>   (the password is read from standard input)");
        return ExitCode::from(2);
    };
    let mut password = String::new();
    if std::io::stdin().lock().read_line(&mut password).is_err() {
        eprintln!("cannot read the password from standard input");
        return ExitCode::from(2);
    }
    let password = password.trim_end_matches(['\r', '\n']);
    if password.chars().count() < 12 {
        eprintln!("use a password of at least 12 characters");
        return ExitCode::from(2);
    }
    let entry = serde_json::json!({
        "name": user,
        "password_hash": PasswordHash::new(password, ITERATIONS).encode(),
    });
    println!("{entry}");
    ExitCode::SUCCESS
}
