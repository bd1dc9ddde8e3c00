//! indicatif progress bars for the library's `Progress` trait; hidden for
//! `--json` and when stderr is not a terminal.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use medledger_codesets::Progress;

pub struct Bars {
    hidden: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bars {
    pub fn new(hidden: bool) -> Bars {
        Bars {
            hidden,
            bar: Mutex::new(None),
        }
    }
}

impl Progress for Bars {
    fn stage(&self, label: &str, total: u64) {
        let bar = ProgressBar::new(total);
        if self.hidden {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        let style =
            ProgressStyle::with_template("{spinner} {msg:36} [{bar:30}] {percent:>3}% {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(label.to_string());
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }

    fn advance(&self, amount: u64) {
        if let Ok(b) = self.bar.lock()
            && let Some(bar) = b.as_ref()
        {
            bar.inc(amount);
        }
    }

    fn finish_stage(&self) {
        if let Ok(mut b) = self.bar.lock()
            && let Some(bar) = b.take()
        {
            bar.finish();
        }
    }
}
