//! Checks exchanges saved from a running sandbox against the specs and prints the report.
//!
//! ```sh
//! curl -s http://127.0.0.1:8082/_sandbox/exchanges > exchanges.json
//! cargo run -p spec-check --example check_exchanges -- commerce exchanges.json
//! ```
//! `walmart` also checks feed files. Exits 1 when there are violations, 2 on usage or load errors.

use std::process::ExitCode;

use sandbox_kit::Exchange;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [api, file] = args.as_slice() else {
        eprintln!("usage: check_exchanges walmart|commerce EXCHANGES.json");
        return ExitCode::from(2);
    };
    let exchanges: Vec<Exchange> = match std::fs::read_to_string(file)
        .map_err(|error| error.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|error| error.to_string()))
    {
        Ok(exchanges) => exchanges,
        Err(error) => {
            eprintln!("cannot read exchanges from {file}: {error}");
            return ExitCode::from(2);
        }
    };
    let report = match api.as_str() {
        "walmart" => spec_check::walmart_spec()
            .and_then(|spec| Ok(spec.report_with_feeds(&exchanges, spec_check::feed_schemas()?))),
        "commerce" => spec_check::commerce_spec().map(|spec| spec.report(&exchanges)),
        other => {
            eprintln!("unknown API {other:?}: walmart or commerce");
            return ExitCode::from(2);
        }
    };
    match report {
        Ok(report) => {
            print!("{report}");
            for (method, template) in &report.covered {
                println!("  covered: {method} {template}");
            }
            if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(2)
        }
    }
}
