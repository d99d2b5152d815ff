//! Summary statistics of a figure's samples: min, median, 95th percentile and rate.
//!
//! Definitions (stated because small sample counts make the choice visible):
//! - **median**: the middle sample, or the mean of the two middle ones for an even count;
//! - **p95**: the nearest-rank 95th percentile, the sample of rank `ceil(0.95 n)` in ascending
//!   order, so with fewer than 20 samples it is the maximum. It is never below the median;
//! - **per second**: `1 / median`, the rate of the figure's unit (one call, or one whole batch).

use std::time::Duration;

/// Why samples could not be summarised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    /// There was no sample.
    #[error("no samples to summarise")]
    Empty,
}

/// Min, median and p95 of one figure's samples, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Fastest sample.
    pub min_us: f64,
    /// Median sample.
    pub median_us: f64,
    /// Nearest-rank 95th percentile.
    pub p95_us: f64,
}

impl Summary {
    /// Summarises per-call durations.
    pub fn of(samples: &[Duration]) -> Result<Summary, StatsError> {
        let us: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        Summary::of_micros(&us)
    }

    /// Summarises samples given in microseconds.
    pub fn of_micros(samples: &[f64]) -> Result<Summary, StatsError> {
        if samples.is_empty() {
            return Err(StatsError::Empty);
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let median = if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        };
        let rank = (n * 95).div_ceil(100).max(1);
        Ok(Summary {
            min_us: s[0],
            median_us: median,
            p95_us: s[rank - 1],
        })
    }

    /// Operations per second at the median (`1 / median`); infinite for a zero median.
    pub fn per_second(&self) -> f64 {
        1e6 / self.median_us
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_inputs() {
        // Odd count, unsorted input.
        let s = Summary::of_micros(&[5.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!((s.min_us, s.median_us, s.p95_us), (1.0, 3.0, 5.0));
        // Even count: the mean of the middle pair.
        let s = Summary::of_micros(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!((s.min_us, s.median_us, s.p95_us), (1.0, 2.5, 4.0));
        // One sample: everything is that sample.
        let s = Summary::of_micros(&[7.0]).unwrap();
        assert_eq!((s.min_us, s.median_us, s.p95_us), (7.0, 7.0, 7.0));
        assert_eq!(s.per_second(), 1e6 / 7.0);
        // 1..=100: rank ceil(95) = 95.
        let hundred: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = Summary::of_micros(&hundred).unwrap();
        assert_eq!((s.min_us, s.median_us, s.p95_us), (1.0, 50.5, 95.0));
        // 1..=21: rank ceil(19.95) = 20.
        let s = Summary::of_micros(&(1..=21).map(f64::from).collect::<Vec<_>>()).unwrap();
        assert_eq!((s.median_us, s.p95_us), (11.0, 20.0));
    }

    #[test]
    fn durations_are_microseconds() {
        let s = Summary::of(&[Duration::from_millis(2), Duration::from_micros(500)]).unwrap();
        assert_eq!((s.min_us, s.median_us, s.p95_us), (500.0, 1250.0, 2000.0));
        assert_eq!(s.per_second(), 800.0);
    }

    #[test]
    fn empty_input_is_an_error() {
        assert_eq!(Summary::of(&[]), Err(StatsError::Empty));
        assert_eq!(Summary::of_micros(&[]), Err(StatsError::Empty));
    }

    #[test]
    fn ordering_holds_for_any_count() {
        for n in 1..60 {
            let v: Vec<f64> = (0..n).map(|i| ((i * 37) % 11) as f64 + 1.0).collect();
            let s = Summary::of_micros(&v).unwrap();
            assert!(
                s.min_us <= s.median_us && s.median_us <= s.p95_us,
                "{n}: {s:?}"
            );
        }
    }
}
