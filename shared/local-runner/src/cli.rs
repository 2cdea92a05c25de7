//! The command line: `demo`, `run` and `help`, with their options.

use std::path::PathBuf;

pub const USAGE: &str = "\
local-runner: the whole Channel Manager in one process, no AWS account needed.

USAGE:
    local-runner demo [OPTIONS]     every function on embedded state and queues, against the bundled
                                    Walmart and Commerce sandboxes, driven by a scripted day
    local-runner run  [OPTIONS]     the same channel against real endpoints (Walmart's sandbox or
                                    production, a real Commerce store)
    local-runner chaos --seeds N    N short demos with chaos (seeds 1..N): a table of what was
                                    injected, what failed honestly, and invariant violations
    local-runner help

DEMO OPTIONS:
    --hours H          scenario hours to play (default 24)
    --time-scale X     scenario time runs X times faster than the wall clock (default 1440: a day
                       in about a minute)
    --products N       products seeded in Commerce (default 300; some with bad GTINs)
    --orders N         buyers' orders placed on Walmart (default 40)
    --seed N           randomness of the scenario (default 1)
    --state-dir DIR    where the run keeps its state (default .local-state/demo-<date>-<time>)
    --chaos SEED       inject faults, kills, redeliveries and doubled ticks drawn from SEED (a
                       Chaos section in the summary; the invariants must still hold)
    --quiet            no progress lines
    --serve            keep serving the dashboard after the summary, until Ctrl-C
    --no-push          no Walmart notifications: orders and cancellations arrive by polling alone
    --push-drop-rate R the share (0..1) of notifications Walmart never sends (default 0)

CHAOS OPTIONS:
    --seeds N          how many seeds (default 10)
    --from S           first seed (default 1)
    --hours H, --products N, --orders N, --time-scale X
                       each demo's size (default 3 h, 50 products, 10 orders, x720)
    --state-dir DIR    one directory per seed under DIR (default .local-state/chaos-<date>-<time>)

RUN OPTIONS:
    --config FILE      channel.toml or channel.json (else the environment: WALMART_BASE_URL,
                       COMMERCE_BASE_URL, CHANNEL_SETTINGS, CHANNEL_SECRETS or CHANNEL_SECRETS_FILE)
    --hours H          stop after H hours (default: until Ctrl-C)
    --state-dir DIR    where the channel keeps its state; reuse it to continue (default
                       .local-state/run-<date>-<time>)
    --quiet            no progress lines

`demo` and `run` serve the merchant's dashboard on 127.0.0.1 (address, user and a one-time password
printed at start; CHANNEL_DASHBOARD_PASSWORD sets the password instead).
Progress goes to stderr, the summary to stdout, logs to <state-dir>/runner.log (RUST_LOG filters).
Exit codes: 0 done, 1 an invariant broke, 2 bad usage or configuration, 3 the runner failed,
130 interrupted (Ctrl-C).";

/// `demo` options as given (unset ones come from the state directory or the defaults).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DemoArgs {
    pub hours: Option<f64>,
    pub time_scale: Option<f64>,
    pub products: Option<usize>,
    pub orders: Option<usize>,
    pub seed: Option<u64>,
    pub state_dir: Option<PathBuf>,
    pub quiet: bool,
    pub chaos: Option<u64>,
    /// `--serve`: the dashboard keeps serving after the summary until Ctrl-C.
    pub serve: bool,
    /// `--no-push`: the polls alone, no Walmart notifications.
    pub no_push: bool,
    /// `--push-drop-rate R`: the share of notifications Walmart never sends.
    pub push_drop_rate: Option<f64>,
}

/// `chaos` options as given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChaosArgs {
    pub seeds: Option<u64>,
    pub from: Option<u64>,
    pub hours: Option<f64>,
    pub time_scale: Option<f64>,
    pub products: Option<usize>,
    pub orders: Option<usize>,
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunArgs {
    pub config: Option<PathBuf>,
    pub hours: Option<f64>,
    pub state_dir: Option<PathBuf>,
    pub quiet: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Demo(DemoArgs),
    Chaos(ChaosArgs),
    Run(RunArgs),
    Help,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn value<'a>(args: &mut impl Iterator<Item = &'a String>, flag: &str) -> Result<&'a str, UsageError> {
    args.next()
        .map(String::as_str)
        .filter(|v| !v.starts_with("--"))
        .ok_or_else(|| UsageError(format!("{flag} needs a value")))
}

fn number<T: std::str::FromStr>(raw: &str, flag: &str) -> Result<T, UsageError> {
    raw.parse()
        .map_err(|_| UsageError(format!("{flag} takes a number, not {raw:?}")))
}

fn positive(raw: &str, flag: &str) -> Result<f64, UsageError> {
    let n: f64 = number(raw, flag)?;
    if n.is_finite() && n > 0.0 {
        Ok(n)
    } else {
        Err(UsageError(format!(
            "{flag} must be a positive number, not {raw:?}"
        )))
    }
}

pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let mut it = args.iter();
    let Some(command) = it.next() else {
        return Err(UsageError("say what to do: demo, chaos, run or help".into()));
    };
    match command.as_str() {
        "help" | "--help" | "-h" => Ok(Command::Help),
        "demo" => {
            let mut d = DemoArgs::default();
            while let Some(flag) = it.next() {
                match flag.as_str() {
                    "--hours" => d.hours = Some(positive(value(&mut it, flag)?, flag)?),
                    "--time-scale" => {
                        let scale = positive(value(&mut it, flag)?, flag)?;
                        if scale < 1.0 {
                            return Err(UsageError("--time-scale must be at least 1".into()));
                        }
                        d.time_scale = Some(scale);
                    }
                    "--products" => d.products = Some(number(value(&mut it, flag)?, flag)?),
                    "--orders" => d.orders = Some(number(value(&mut it, flag)?, flag)?),
                    "--seed" => d.seed = Some(number(value(&mut it, flag)?, flag)?),
                    "--state-dir" => d.state_dir = Some(PathBuf::from(value(&mut it, flag)?)),
                    "--quiet" => d.quiet = true,
                    "--chaos" => d.chaos = Some(number(value(&mut it, flag)?, flag)?),
                    "--serve" => d.serve = true,
                    "--no-push" => d.no_push = true,
                    "--push-drop-rate" => {
                        let rate: f64 = number(value(&mut it, flag)?, flag)?;
                        if !(0.0..=1.0).contains(&rate) {
                            return Err(UsageError("--push-drop-rate must be within 0..1".into()));
                        }
                        d.push_drop_rate = Some(rate);
                    }
                    "--help" | "-h" => return Ok(Command::Help),
                    other => return Err(UsageError(format!("demo does not take {other:?}"))),
                }
            }
            if d.products == Some(0) {
                return Err(UsageError("--products must be at least 1".into()));
            }
            Ok(Command::Demo(d))
        }
        "chaos" => {
            let mut c = ChaosArgs::default();
            while let Some(flag) = it.next() {
                match flag.as_str() {
                    "--seeds" => c.seeds = Some(number(value(&mut it, flag)?, flag)?),
                    "--from" => c.from = Some(number(value(&mut it, flag)?, flag)?),
                    "--hours" => c.hours = Some(positive(value(&mut it, flag)?, flag)?),
                    "--time-scale" => {
                        let scale = positive(value(&mut it, flag)?, flag)?;
                        if scale < 1.0 {
                            return Err(UsageError("--time-scale must be at least 1".into()));
                        }
                        c.time_scale = Some(scale);
                    }
                    "--products" => c.products = Some(number(value(&mut it, flag)?, flag)?),
                    "--orders" => c.orders = Some(number(value(&mut it, flag)?, flag)?),
                    "--state-dir" => c.state_dir = Some(PathBuf::from(value(&mut it, flag)?)),
                    "--help" | "-h" => return Ok(Command::Help),
                    other => return Err(UsageError(format!("chaos does not take {other:?}"))),
                }
            }
            if c.products == Some(0) || c.seeds == Some(0) {
                return Err(UsageError("--products and --seeds must be at least 1".into()));
            }
            Ok(Command::Chaos(c))
        }
        "run" => {
            let mut r = RunArgs::default();
            while let Some(flag) = it.next() {
                match flag.as_str() {
                    "--config" => r.config = Some(PathBuf::from(value(&mut it, flag)?)),
                    "--hours" => r.hours = Some(positive(value(&mut it, flag)?, flag)?),
                    "--state-dir" => r.state_dir = Some(PathBuf::from(value(&mut it, flag)?)),
                    "--quiet" => r.quiet = true,
                    "--help" | "-h" => return Ok(Command::Help),
                    other => return Err(UsageError(format!("run does not take {other:?}"))),
                }
            }
            Ok(Command::Run(r))
        }
        other => Err(UsageError(format!(
            "unknown command {other:?}: demo, chaos, run or help"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn demo_options_parse() {
        let c = parse(&args(
            "demo --hours 3 --time-scale 600 --products 50 --orders 10 --seed 9 --state-dir /tmp/x --quiet --chaos 4",
        ))
        .unwrap();
        assert_eq!(
            c,
            Command::Demo(DemoArgs {
                hours: Some(3.0),
                time_scale: Some(600.0),
                products: Some(50),
                orders: Some(10),
                seed: Some(9),
                state_dir: Some(PathBuf::from("/tmp/x")),
                quiet: true,
                chaos: Some(4),
                serve: false,
                no_push: false,
                push_drop_rate: None,
            })
        );
        assert_eq!(
            parse(&args("chaos --seeds 200 --from 3 --hours 2")).unwrap(),
            Command::Chaos(ChaosArgs {
                seeds: Some(200),
                from: Some(3),
                hours: Some(2.0),
                ..ChaosArgs::default()
            })
        );
        assert_eq!(parse(&args("demo")).unwrap(), Command::Demo(DemoArgs::default()));
        assert!(matches!(
            parse(&args("demo --serve")).unwrap(),
            Command::Demo(DemoArgs { serve: true, .. })
        ));
        let Command::Demo(push) = parse(&args("demo --no-push --push-drop-rate 0.2")).unwrap() else {
            panic!("demo");
        };
        assert!(push.no_push && push.push_drop_rate == Some(0.2));
        assert!(parse(&args("demo --push-drop-rate 2")).is_err());
    }

    #[test]
    fn run_options_parse() {
        let c = parse(&args("run --config channel.toml --hours 0.5")).unwrap();
        assert_eq!(
            c,
            Command::Run(RunArgs {
                config: Some(PathBuf::from("channel.toml")),
                hours: Some(0.5),
                state_dir: None,
                quiet: false,
            })
        );
    }

    #[test]
    fn mistakes_are_named() {
        for (line, says) in [
            ("", "demo, chaos, run or help"),
            ("deploy", "unknown command"),
            ("demo --hours", "needs a value"),
            ("demo --hours --quiet", "needs a value"),
            ("demo --hours soon", "takes a number"),
            ("demo --hours -1", "positive"),
            ("demo --time-scale 0.5", "at least 1"),
            ("demo --products 0", "at least 1"),
            ("demo --config x", "does not take"),
            ("run --seed 3", "does not take"),
            ("chaos --seeds 0", "at least 1"),
            ("chaos --seed 3", "does not take"),
        ] {
            let err = parse(&args(line)).unwrap_err();
            assert!(err.0.contains(says), "{line}: {err}");
        }
        assert_eq!(parse(&args("help")).unwrap(), Command::Help);
        assert_eq!(parse(&args("demo --help")).unwrap(), Command::Help);
    }
}
