//! Times and sizes for people: "3m ago", "1h02m".

use std::time::{Duration, SystemTime};

/// A duration as `45s`, `3m07s`, `2h05m`, `3d04h`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// How long ago an RFC 3339 time was: `12s ago`, `3m ago`.
pub fn age(rfc3339: &str) -> String {
    match crate::jobs::record::parse_time(rfc3339).and_then(|t| SystemTime::now().duration_since(t).ok()) {
        Some(d) => {
            let s = d.as_secs();
            let short = match s {
                0..60 => format!("{s}s"),
                60..3600 => format!("{}m", s / 60),
                3600..86_400 => format!("{}h", s / 3600),
                _ => format!("{}d", s / 86_400),
            };
            format!("{short} ago")
        }
        None => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(Duration::from_secs(5)), "5s");
        assert_eq!(duration(Duration::from_secs(187)), "3m07s");
        assert_eq!(duration(Duration::from_secs(7500)), "2h05m");
        assert_eq!(duration(Duration::from_secs(3 * 86_400 + 4 * 3600)), "3d04h");
    }

    #[test]
    fn ages_are_relative() {
        let t = humantime::format_rfc3339(SystemTime::now() - Duration::from_secs(125)).to_string();
        assert_eq!(age(&t), "2m ago");
        assert_eq!(age("not a time"), "-");
    }
}

