//! Reading Prometheus text exposition (what a proxy's `/metrics` serves) into numbers a
//! scenario can assert on.

use std::collections::BTreeMap;

/// One sample: metric name, labels, value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample in `text`; comment lines and lines that do not parse are skipped.
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(parse_line)
        .collect()
}

/// The sum of the samples named `name` whose labels include every pair of `labels`
/// (0 when none does): `sum(name{labels…})` in PromQL.
pub fn sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    parse(text)
        .into_iter()
        .filter(|sample| sample.name == name)
        .filter(|sample| {
            labels
                .iter()
                .all(|(key, value)| sample.labels.get(*key).is_some_and(|v| v == value))
        })
        .map(|sample| sample.value)
        .sum()
}

fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_owned();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(inner)?;
        labels = parsed;
        rest = after;
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// `a="x",b="y\"z"}` → labels and what follows the closing brace.
fn parse_labels(mut text: &str) -> Option<(BTreeMap<String, String>, &str)> {
    let mut labels = BTreeMap::new();
    loop {
        text = text.trim_start_matches([',', ' ']);
        if let Some(after) = text.strip_prefix('}') {
            return Some((labels, after));
        }
        let (key, after_key) = text.split_once("=\"")?;
        let mut value = String::new();
        let mut characters = after_key.char_indices();
        let end = loop {
            let (index, character) = characters.next()?;
            match character {
                '\\' => match characters.next()?.1 {
                    'n' => value.push('\n'),
                    escaped => value.push(escaped),
                },
                '"' => break index,
                other => value.push(other),
            }
        };
        labels.insert(key.trim().to_owned(), value);
        text = &after_key[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP meshcd_proxy_requests HTTP requests handled.
# TYPE meshcd_proxy_requests counter
meshcd_proxy_requests_total{direction="outbound",source="spiffe://cluster.local/ns/shop/sa/web",backend="api-v1"} 9
meshcd_proxy_requests_total{direction="outbound",source="spiffe://cluster.local/ns/shop/sa/web",backend="api-v2"} 1
meshcd_proxy_requests_total{direction="inbound",source="a \"quoted\", name",backend="api-v1"} 4
meshcd_proxy_upstream_connections_open 2
# EOF
"#;

    #[test]
    fn sums_the_samples_whose_labels_match() {
        assert_eq!(
            sum(
                TEXT,
                "meshcd_proxy_requests_total",
                &[("direction", "outbound")]
            ),
            10.0
        );
        assert_eq!(
            sum(
                TEXT,
                "meshcd_proxy_requests_total",
                &[("backend", "api-v1")]
            ),
            13.0
        );
        assert_eq!(
            sum(
                TEXT,
                "meshcd_proxy_requests_total",
                &[("backend", "api-v3")]
            ),
            0.0
        );
        assert_eq!(
            sum(TEXT, "meshcd_proxy_upstream_connections_open", &[]),
            2.0
        );
    }

    #[test]
    fn reads_escaped_label_values() {
        let samples = parse(TEXT);
        assert_eq!(samples[2].labels["source"], "a \"quoted\", name");
        assert_eq!(samples.len(), 4);
    }
}
