//! Durations and sizes as people write them: `250ms`, `1.5s`, `64KiB`.
//!
//! One parser for both places a value is written, a scenario file and the
//! command line (`--set after=2s`, `--timeout 1s`, `--body-bytes 10MiB`),
//! so that what one accepts the other accepts too. The syntax is the
//! scenario lexer's: digits, optionally `.` and more digits, then a unit
//! (`.5s`, `1.s`, `1e3s` and `-1s` are refused in both).

use std::fmt;
use std::time::Duration;

/// The longest duration a value may say (`sleep`, `within`, `every`,
/// `--set`, `--timeout`): 365 days. Far beyond it a deadline
/// (`now + duration`) no longer fits the clock. Here, below the scenario
/// language, because this module is what refuses a longer one.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// [`MAX_DURATION`] as the errors say it: `8760h (365 days)`.
pub fn max_duration_text() -> String {
    let hours = MAX_DURATION.as_secs() / 3600;
    format!("{hours}h ({} days)", hours / 24)
}

/// A size as the limits say it: in the largest binary unit that divides
/// it (`16 MiB`, `1 TiB`), else in bytes.
pub fn binary_size(bytes: u64) -> String {
    let unit = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")]
        .into_iter()
        .find(|(shift, _)| bytes >= 1 << shift && bytes.is_multiple_of(1 << shift));
    match unit {
        Some((shift, name)) => format!("{} {name}", bytes >> shift),
        None => format!("{bytes} bytes"),
    }
}

/// Why a text is not a duration or a size; `Display` says it to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueError {
    /// Not digits with at most one `.` between digits, then a unit.
    NotADuration(String),
    /// A duration without its unit (`5`).
    DurationWithoutUnit(String),
    /// A suffix that is no time unit (`5x`: `x`).
    NotATimeUnit(String),
    /// Over [`MAX_DURATION`].
    DurationOverLimit(String),
    /// Not digits with an optional unit.
    NotANumber(String),
    /// A duration (`5s`) where a number or size is expected.
    DurationForNumber(String),
    /// A suffix that is no size unit (`1PB`: `PB`).
    NotASizeUnit(String),
    /// A fraction (`1.5KiB`) where a whole number is expected.
    NotWhole(String),
    /// Over `u64::MAX`.
    OverLargestNumber(String),
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::NotADuration(text) => write!(f, "`{text}` is not a duration like 250ms or 2s"),
            ValueError::DurationWithoutUnit(text) => write!(f, "`{text}` needs a unit: 250ms, 2s, 2m, 1h or 500us"),
            ValueError::NotATimeUnit(unit) => write!(f, "`{unit}` is not a time unit; use {DURATION_UNITS}"),
            ValueError::DurationOverLimit(text) => write!(
                f,
                "`{text}` is over the limit of {} for a duration",
                max_duration_text()
            ),
            ValueError::NotANumber(text) => write!(f, "`{text}` is not a number like 3 or 64KiB"),
            ValueError::DurationForNumber(text) => {
                write!(f, "`{text}` is a duration, but a number is expected here")
            }
            ValueError::NotASizeUnit(unit) => {
                let names: Vec<&str> = SIZE_UNITS.iter().map(|(name, _)| *name).collect();
                write!(f, "`{unit}` is not a size unit; use {} or none", names.join(", "))
            }
            ValueError::NotWhole(text) => write!(f, "`{text}` is not a whole number"),
            ValueError::OverLargestNumber(text) => write!(f, "`{text}` is over the largest number, {}", u64::MAX),
        }
    }
}

impl std::error::Error for ValueError {}

/// Every size unit and its multiplier, in the order the errors list them.
/// Binary units (KiB = 1024) and decimal ones (KB = 1000); `k`, `M`, `G`
/// are short for KiB, MiB, GiB.
const SIZE_UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("KB", 1000),
    ("kB", 1000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("k", 1 << 10),
    ("M", 1 << 20),
    ("G", 1 << 30),
];

/// The units a duration may have, as the errors list them.
const DURATION_UNITS: &str = "us, ms, s, m or h";

/// `text` split into its number and its unit, when the number is digits
/// with at most one `.` between digits (the lexer's syntax).
fn split(text: &str) -> Option<(&str, &str)> {
    let at = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(at);
    let mut parts = number.split('.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    let well_formed = !whole.is_empty() && fraction.is_none_or(|f| !f.is_empty()) && parts.next().is_none();
    well_formed.then_some((number, unit))
}

/// Parse a duration such as `250ms`, `2s`, `1.5m`, `1h`, `500us`.
pub fn parse_duration(text: &str) -> Result<Duration, ValueError> {
    let Some((number, unit)) = split(text) else {
        return Err(ValueError::NotADuration(text.to_string()));
    };
    let nanos_per_unit: u128 = match unit {
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "" => return Err(ValueError::DurationWithoutUnit(text.to_string())),
        _ => return Err(ValueError::NotATimeUnit(unit.to_string())),
    };
    // In integers, not f64: exact, and the static binary then carries no
    // float parsing or formatting code (about 30 KiB).
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let over = || ValueError::DurationOverLimit(text.to_string());
    let whole: u128 = whole.parse().map_err(|_| over())?;
    let mut nanos = whole.checked_mul(nanos_per_unit).ok_or_else(over)?;
    // Each fraction digit is a tenth of the one before; digits below a
    // nanosecond are dropped.
    let mut place = nanos_per_unit;
    for digit in fraction.bytes() {
        place /= 10;
        nanos += u128::from(digit - b'0') * place;
    }
    let nanos = u64::try_from(nanos).map_err(|_| over())?;
    match Duration::from_nanos(nanos) {
        duration if duration <= MAX_DURATION => Ok(duration),
        _ => Err(over()),
    }
}

/// A number with a fixed count of decimals, as `{:.N}` prints it, without
/// the standard library's float formatting (see [`parse_duration`]).
#[derive(Clone, Copy)]
pub struct Fixed {
    /// The value in units of 10^-`decimals`, rounded.
    units: u64,
    negative: bool,
    decimals: u32,
}

impl Fixed {
    /// `value` with `decimals` (at most 9) digits after the point; what is
    /// not a finite number prints as 0.
    pub fn new(value: f64, decimals: u32) -> Fixed {
        let decimals = decimals.min(9);
        let scaled = value.abs() * 10u64.pow(decimals) as f64 + 0.5;
        Fixed {
            // `as` saturates: a huge value prints as the largest, NaN as 0.
            units: if scaled.is_finite() { scaled as u64 } else { 0 },
            negative: value < 0.0,
            decimals,
        }
    }

    /// A duration in milliseconds with `decimals` (at most 6) digits.
    pub fn millis(duration: Duration, decimals: u32) -> Fixed {
        let decimals = decimals.min(6);
        let unit = 1_000_000 / 10u128.pow(decimals);
        let units = (duration.as_nanos() + unit / 2) / unit;
        Fixed {
            units: u64::try_from(units).unwrap_or(u64::MAX),
            negative: false,
            decimals,
        }
    }
}

impl std::fmt::Display for Fixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scale = 10u64.pow(self.decimals);
        let (whole, part) = (self.units / scale, self.units % scale);
        let sign = if self.negative && self.units > 0 { "-" } else { "" };
        if self.decimals == 0 {
            write!(f, "{sign}{whole}")
        } else {
            write!(f, "{sign}{whole}.{part:0width$}", width = self.decimals as usize)
        }
    }
}

/// Parse a count or a size: `3`, `13`, `64KiB`, `1MiB`, `10KB`, `1TiB`.
pub fn parse_size(text: &str) -> Result<u64, ValueError> {
    let Some((number, unit)) = split(text) else {
        return Err(ValueError::NotANumber(text.to_string()));
    };
    let scale = match SIZE_UNITS.iter().find(|(name, _)| *name == unit) {
        Some((_, scale)) => *scale,
        None if unit.is_empty() => 1,
        None if ["us", "ms", "s", "m", "h"].contains(&unit) => {
            return Err(ValueError::DurationForNumber(text.to_string()));
        }
        None => return Err(ValueError::NotASizeUnit(unit.to_string())),
    };
    if number.contains('.') {
        return Err(ValueError::NotWhole(text.to_string()));
    }
    number
        .parse::<u64>()
        .ok()
        .and_then(|value| value.checked_mul(scale))
        .ok_or_else(|| ValueError::OverLargestNumber(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_lexers_syntax_only() {
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500us"), Ok(Duration::from_micros(500)));
        for bad in [".5s", "1.s", "1..5s", "1.2.3s", "-1s", "+1s", "inf", "s", "", "1 s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(
            parse_duration("1e3s")
                .unwrap_err()
                .to_string()
                .contains("not a time unit")
        );
        assert!(
            parse_duration("8761h")
                .unwrap_err()
                .to_string()
                .contains("over the limit")
        );
        assert_eq!(parse_duration("8760h"), Ok(MAX_DURATION));
        assert_eq!(parse_duration("0.000000001s"), Ok(Duration::from_nanos(1)));
        assert_eq!(parse_duration("1.0000000009s"), Ok(Duration::from_nanos(1_000_000_000)));
        assert_eq!(parse_duration("0.25m"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("2.5us"), Ok(Duration::from_nanos(2_500)));
        assert!(parse_duration("99999999999999999999999999999999999999999h").is_err());
    }

    #[test]
    fn limits_are_said_from_their_constants() {
        assert_eq!(max_duration_text(), "8760h (365 days)");
        assert_eq!(binary_size(1 << 40), "1 TiB");
        assert_eq!(binary_size(16 << 20), "16 MiB");
        assert_eq!(binary_size(1 << 20), "1 MiB");
        assert_eq!(binary_size(1536), "1536 bytes");
        assert_eq!(binary_size(0), "0 bytes");
    }

    #[test]
    fn fixed_prints_as_the_float_format_does() {
        for (value, decimals) in [
            (0.0, 3),
            (1.5, 1),
            (12.3456, 3),
            (999.95, 1),
            (0.0004, 3),
            (-2.25, 1),
            (7.0, 0),
        ] {
            let ours = Fixed::new(value, decimals).to_string();
            let std = format!("{value:.prec$}", prec = decimals as usize);
            // Halves may round either way in binary; all else is equal.
            assert!(
                ours == std || (value * 10f64.powi(decimals as i32)).fract().abs() == 0.5,
                "{value}: {ours} vs {std}"
            );
        }
        assert_eq!(Fixed::new(f64::NAN, 2).to_string(), "0.00");
        assert_eq!(
            Fixed::millis(Duration::from_micros(1_234_567), 3).to_string(),
            "1234.567"
        );
        assert_eq!(Fixed::millis(Duration::from_nanos(1_500), 3).to_string(), "0.002");
        assert_eq!(Fixed::millis(Duration::ZERO, 1).to_string(), "0.0");
    }

    #[test]
    fn sizes_list_exactly_the_units_they_accept() {
        for (name, scale) in SIZE_UNITS {
            assert_eq!(parse_size(&format!("2{name}")), Ok(2 * scale), "{name}");
        }
        assert_eq!(parse_size("1TiB"), Ok(1 << 40));
        let error = parse_size("1PB").unwrap_err().to_string();
        assert_eq!(
            error,
            "`PB` is not a size unit; use B, KiB, MiB, GiB, TiB, KB, kB, MB, GB, TB, k, M, G or none"
        );
        assert!(parse_size("1.5KiB").unwrap_err().to_string().contains("whole number"));
        assert!(parse_size(".5").is_err());
        assert!(parse_size("2s").unwrap_err().to_string().contains("is a duration"));
        assert!(
            parse_size("18446744073709551616")
                .unwrap_err()
                .to_string()
                .contains("largest number")
        );
    }
}
