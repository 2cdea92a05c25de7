//! The control routes every sandbox mounts under `/_sandbox/`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::exchange::{Exchange, Recorder};
use crate::faults::{FaultPlan, Faults};

#[derive(Clone)]
struct ControlState {
    recorder: Recorder,
    faults: Faults,
}

/// Routes every sandbox mounts: `GET /_sandbox/exchanges` (JSON array of [`Exchange`]),
/// `DELETE /_sandbox/exchanges`, `GET` and `PUT /_sandbox/faults` ([`FaultPlan`] JSON; `PUT` answers with
/// the plan now in force), `GET /_sandbox/health`.
pub fn control_routes(recorder: Recorder, faults: Faults) -> Router {
    Router::new()
        .route("/_sandbox/exchanges", get(list_exchanges).delete(clear_exchanges))
        .route("/_sandbox/faults", get(get_faults).put(put_faults))
        .route("/_sandbox/health", get(health))
        .with_state(ControlState { recorder, faults })
}

async fn list_exchanges(State(state): State<ControlState>) -> Json<Vec<Exchange>> {
    Json(state.recorder.snapshot())
}

async fn clear_exchanges(State(state): State<ControlState>) -> StatusCode {
    state.recorder.clear();
    StatusCode::NO_CONTENT
}

async fn get_faults(State(state): State<ControlState>) -> Json<FaultPlan> {
    Json(state.faults.get())
}

async fn put_faults(State(state): State<ControlState>, Json(plan): Json<FaultPlan>) -> Json<FaultPlan> {
    state.faults.set(plan);
    Json(state.faults.get())
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}
