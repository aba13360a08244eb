//! Durations (`30s`, `1h30m`, `500ms`) and Kubernetes Quantities (`500m`, `1`, `1.5`).

use std::time::Duration;

use serde_json::Value;

/// A port written as a number (`9091`) or as a string of one (`"9091"`, as the SMI
/// conformance fixtures write it); `None` for anything else or out of range.
pub fn port(value: &Value) -> Option<u16> {
    match value {
        Value::Number(number) => number.as_u64().and_then(|p| u16::try_from(p).ok()),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// `1h30m`, `30s`, `1s500ms`: a duration as the repository writes it (what
/// [`parse_duration`] reads back).
pub fn format_duration(duration: Duration) -> String {
    let mut millis = duration.as_millis();
    if millis == 0 {
        return "0s".into();
    }
    let mut text = String::new();
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
        if millis >= size {
            text.push_str(&format!("{}{unit}", millis / size));
            millis %= size;
        }
    }
    text
}

/// Parses a Go-style duration: one or more `<number><unit>` with units ms, s, m, h.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("duration {text:?} lacks a unit (ms, s, m or h)"))?;
        if digits == 0 {
            return Err(format!(
                "duration {text:?} is not a number followed by a unit"
            ));
        }
        let number: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("duration {text:?} has a malformed number"))?;
        rest = &rest[digits..];
        let (unit, seconds) = if let Some(after) = rest.strip_prefix("ms") {
            (after, 0.001)
        } else if let Some(after) = rest.strip_prefix('s') {
            (after, 1.0)
        } else if let Some(after) = rest.strip_prefix('m') {
            (after, 60.0)
        } else if let Some(after) = rest.strip_prefix('h') {
            (after, 3600.0)
        } else {
            return Err(format!(
                "duration {text:?} has an unknown unit (use ms, s, m or h)"
            ));
        };
        rest = unit;
        total += Duration::from_secs_f64(number * seconds);
    }
    Ok(total)
}

/// A Quantity in thousandths: `1` → 1000, `500m` → 500, `1.5` → 1500. Negative values
/// are returned as such so that validation can name them.
pub fn parse_quantity_milli(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (number, scale) = match text.strip_suffix('m') {
        Some(number) => (number, 1.0),
        None => match text.strip_suffix('k') {
            Some(number) => (number, 1_000_000.0),
            None => (text, 1000.0),
        },
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a quantity (examples: 1, 500m, 1.5)"))?;
    let milli = value * scale;
    if milli.fract().abs() > f64::EPSILON {
        return Err(format!("{text:?} is finer than a thousandth"));
    }
    Ok(milli as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("24h").unwrap(), Duration::from_secs(86400));
        assert!(parse_duration("30").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn quantities_in_thousandths() {
        assert_eq!(parse_quantity_milli("1").unwrap(), 1000);
        assert_eq!(parse_quantity_milli("500m").unwrap(), 500);
        assert_eq!(parse_quantity_milli("1.5").unwrap(), 1500);
        assert_eq!(parse_quantity_milli("-100m").unwrap(), -100);
        assert!(parse_quantity_milli("ten").is_err());
    }
}
