//! The progress bar of a bench run (indicatif, on stderr).
//!
//! One bar for the whole run, one tick per sample (or per proof, request, phase), with a
//! message naming the phase. Its length is planned up front ([`super::planned_steps`]), so the
//! bar shows how far the run is; ticks are not equally long (a depth-32 key load takes seconds,
//! a Poseidon sample ten milliseconds), which is why the elapsed time is shown and no ETA.
//! indicatif draws nothing when stderr is not a terminal, so logs and pipes stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The run's progress bar. Cheap to clone; ticks may come from several threads.
#[derive(Clone, Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar of `steps` ticks drawn on stderr (hidden when stderr is not a terminal).
    pub fn stderr(steps: u64) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("[{elapsed_precise}] {bar:40} {pos}/{len} {msg}")
                .expect("valid template"),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Progress { bar }
    }

    /// A bar that draws nothing but still counts (tests, library callers).
    pub fn hidden(steps: u64) -> Progress {
        let bar = ProgressBar::hidden();
        bar.set_length(steps);
        Progress { bar }
    }

    /// Names the phase now running.
    pub fn phase(&self, message: impl Into<String>) {
        let message: String = message.into();
        self.bar.set_message(message);
    }

    /// One step done.
    pub fn tick(&self) {
        self.bar.inc(1);
    }

    /// Steps done so far.
    pub fn position(&self) -> u64 {
        self.bar.position()
    }

    /// The planned number of steps.
    pub fn length(&self) -> Option<u64> {
        self.bar.length()
    }

    /// Removes the bar from the terminal (before the table is printed).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
