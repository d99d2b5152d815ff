//! The timing loop shared by every figure.
//!
//! A figure is measured by a closure that runs the operation `calls` times and returns the
//! time those calls took, doing any untimed preparation (cloning a tree, say) itself. The
//! sampler first runs it once with one call: a warm-up (caches, lazily derived constants) that
//! also calibrates. Operations faster than [`TARGET_SAMPLE`] are then run in loops of
//! `ceil(TARGET_SAMPLE / warm-up time)` calls per sample (capped by the caller), so timer
//! resolution and loop overhead vanish; slow operations get one call per sample. Each of the
//! `iterations` samples gives one per-call duration: the loop time divided by the calls.

use std::time::Duration;

use super::progress::Progress;
use super::stats::{StatsError, Summary};

/// The shortest time a sample should take before it is trusted on its own.
pub const TARGET_SAMPLE: Duration = Duration::from_millis(10);

/// What a figure's measurement produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Per-call statistics.
    pub summary: Summary,
    /// How many calls each sample timed.
    pub calls_per_sample: usize,
}

/// Times `iterations` samples of `run` (plus one warm-up), ticking `progress` once per run.
///
/// `run(calls)` must perform the operation `calls` times and return the time they took;
/// `max_calls` caps the calls per sample (e.g. the room left in a registry tree).
pub fn measure<E>(
    iterations: usize,
    max_calls: usize,
    progress: &Progress,
    mut run: impl FnMut(usize) -> Result<Duration, E>,
) -> Result<Measured, E>
where
    E: From<StatsError>,
{
    let warm_up = run(1)?;
    progress.tick();
    let calls = calls_for(warm_up, max_calls);
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let took = run(calls)?;
        progress.tick();
        samples.push(took / calls as u32);
    }
    Ok(Measured {
        summary: Summary::of(&samples)?,
        calls_per_sample: calls,
    })
}

/// Calls per sample so that a sample takes about [`TARGET_SAMPLE`], between 1 and `max_calls`.
pub fn calls_for(one_call: Duration, max_calls: usize) -> usize {
    let wanted = if one_call >= TARGET_SAMPLE {
        1
    } else {
        let ns = one_call.as_nanos().max(1);
        TARGET_SAMPLE.as_nanos().div_ceil(ns) as usize
    };
    // u32 because `Duration / u32`; a million calls of a nanosecond operation is plenty.
    wanted.clamp(1, max_calls.clamp(1, 1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration() {
        assert_eq!(calls_for(Duration::from_secs(1), 100), 1);
        assert_eq!(calls_for(TARGET_SAMPLE, 100), 1);
        assert_eq!(calls_for(Duration::from_millis(3), 100), 4);
        assert_eq!(calls_for(Duration::from_micros(16), usize::MAX), 625);
        assert_eq!(calls_for(Duration::from_micros(16), 8), 8);
        assert_eq!(calls_for(Duration::ZERO, usize::MAX), 1_000_000);
        assert_eq!(calls_for(Duration::from_micros(1), 0), 1);
    }

    #[test]
    fn samples_are_per_call_and_ticked() {
        let progress = Progress::hidden(4);
        let mut seen = vec![];
        let m = measure::<StatsError>(3, 10, &progress, |calls| {
            seen.push(calls);
            Ok(Duration::from_micros(100) * calls as u32)
        })
        .unwrap();
        assert_eq!(seen, vec![1, 10, 10, 10]);
        assert_eq!(m.calls_per_sample, 10);
        assert_eq!(m.summary.median_us, 100.0);
        assert_eq!(progress.position(), 4);
    }

    #[test]
    fn zero_iterations_is_an_error() {
        let progress = Progress::hidden(1);
        let r = measure::<StatsError>(0, 1, &progress, |_| Ok(Duration::from_millis(1)));
        assert_eq!(r.unwrap_err(), StatsError::Empty);
    }
}
