//! The admin API's commands and reads besides `/status`: canary actions and the traffic
//! window of `GET /traffic`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};

use super::{Admin, text};

/// `POST /canaries/<namespace>/<name>/<promote|abort|pause|resume>`.
pub async fn canary_command(admin: &Admin, path: &str) -> Response<Full<Bytes>> {
    use crate::canary::controller::Command;
    let Some(&[namespace, name, action]) = super::auth::canary_segments(path).as_deref() else {
        return text(
            StatusCode::NOT_FOUND,
            "use /canaries/<namespace>/<name>/<promote|abort|pause|resume>\n",
        );
    };
    let command = match action {
        "promote" => Command::Promote,
        "abort" => Command::Abort,
        "pause" => Command::Pause,
        "resume" => Command::Resume,
        _ => {
            return text(
                StatusCode::NOT_FOUND,
                "the action is promote, abort, pause or resume\n",
            );
        }
    };
    match admin.canaries.command(namespace, name, command).await {
        Ok(message) => text(StatusCode::OK, format!("{message}\n")),
        Err(message) => text(StatusCode::CONFLICT, format!("{message}\n")),
    }
}

/// The default window of `GET /traffic`: long enough to smooth one-second reports.
const TRAFFIC_WINDOW: Duration = Duration::from_secs(10);
/// Reports are kept ten minutes; a longer window would silently mean the same thing.
const TRAFFIC_WINDOW_MAX: Duration = Duration::from_secs(600);

/// `?window=SECONDS`, default [`TRAFFIC_WINDOW`].
pub fn traffic_window(query: Option<&str>) -> Result<Duration, String> {
    let Some(value) = query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("window="))
    else {
        return Ok(TRAFFIC_WINDOW);
    };
    let seconds: u64 = value
        .parse()
        .map_err(|_| format!("window={value}: expected whole seconds, e.g. window=30"))?;
    let window = Duration::from_secs(seconds);
    if seconds == 0 || window > TRAFFIC_WINDOW_MAX {
        return Err(format!(
            "window={value}: must be between 1 and {} seconds",
            TRAFFIC_WINDOW_MAX.as_secs()
        ));
    }
    Ok(window)
}

/// The JSON document of `GET /traffic`: calls per (caller identity, backend) and per
/// (serving identity, service) over a window.
pub fn traffic_document(admin: &Admin, window: Duration) -> serde_json::Value {
    serde_json::to_value(crate::control::traffic::TrafficDocument {
        window_seconds: window.as_secs(),
        edges: admin.mesh.traffic.edges(window),
        served: admin.mesh.traffic.served(window),
    })
    .unwrap_or_default()
}
