//! The whole channel in one process (README command 1).
//!
//! Every operation runs through `operations::registry` exactly as the Lambdas do; only the adapters
//! differ: the embedded state store and in-process queues, timers from the SAM template, and either
//! the bundled Walmart and Commerce sandboxes (`demo`) or real endpoints (`run`).
//!
//! | module       | what it does                                                                        |
//! |--------------|-------------------------------------------------------------------------------------|
//! | `plan`       | periods, timeouts, batch sizes and queue settings, read from `infra/template.yaml`   |
//! | `engine`     | timers and queue consumers with Lambda's semantics, dispatching through the registry |
//! | `activity`   | what the engine saw: runs, messages, failures, the operations' report counts         |
//! | `observe`    | a store decorator noting when listings are first written (for latencies)             |

pub mod activity;
pub mod engine;
pub mod observe;
pub mod plan;

