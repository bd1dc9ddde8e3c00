//! Bar charts of report rows, as SVG (written directly: text is left to
//! the viewer, so no font file is needed) and PNG (plotters' bitmap
//! backend; labels are drawn with DejaVu Sans when a TTF is found, from
//! `MEDLEDGER_FONT` or the Debian `fonts-dejavu-core` path, and left out
//! otherwise so the bars still render).

use crate::{AnalyticsError, Result};
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// A bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Title.
    pub title: String,
    /// What the bars measure.
    pub y_label: String,
    /// `(label, value)` per bar.
    pub bars: Vec<(String, f64)>,
    /// Values are fractions shown as percentages.
    pub percent: bool,
}

const W: u32 = 900;
const H: u32 = 480;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Chart {
    fn y_max(&self) -> f64 {
        let m = self.bars.iter().map(|b| b.1).fold(0.0f64, f64::max);
        if self.percent {
            1.0f64.max(m)
        } else if m > 0.0 {
            m * 1.1
        } else {
            1.0
        }
    }

    fn fmt(&self, v: f64) -> String {
        if self.percent {
            format!("{:.1}%", v * 100.0)
        } else if v.abs() >= 100.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.2}")
        }
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self) -> String {
        let (left, right, top, bottom) = (70.0, 20.0, 40.0, 90.0);
        let (w, h) = (f64::from(W), f64::from(H));
        let (pw, ph) = (w - left - right, h - top - bottom);
        let ymax = self.y_max();
        let n = self.bars.len().max(1) as f64;
        let slot = pw / n;
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{:.1}\" y=\"24\" font-size=\"16\" text-anchor=\"middle\">{}</text>\n",
            w / 2.0,
            escape(&self.title)
        );
        for i in 0..=4 {
            let v = ymax * f64::from(i) / 4.0;
            let y = top + ph - ph * f64::from(i) / 4.0;
            s += &format!(
                "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>\n",
                left + pw,
                left - 6.0,
                y + 4.0,
                escape(&self.fmt(v))
            );
        }
        for (i, (label, v)) in self.bars.iter().enumerate() {
            let bh = if ymax > 0.0 {
                (v / ymax).clamp(0.0, 1.0) * ph
            } else {
                0.0
            };
            let x = left + slot * i as f64 + slot * 0.1;
            let cx = left + slot * (i as f64 + 0.5);
            s += &format!(
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#3b6ea5\"><title>{}: {}</title></rect>\n<text x=\"{cx:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" transform=\"rotate(-45 {cx:.1} {:.1})\">{}</text>\n",
                top + ph - bh,
                slot * 0.8,
                escape(label),
                escape(&self.fmt(*v)),
                top + ph + 14.0,
                top + ph + 14.0,
                escape(label)
            );
        }
        s += &format!(
            "<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"black\"/>\n<text x=\"16\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 16 {:.1})\">{}</text>\n</svg>\n",
            top + ph,
            left + pw,
            top + ph,
            top + ph / 2.0,
            top + ph / 2.0,
            escape(&self.y_label)
        );
        s
    }

    /// Writes the chart as SVG.
    pub fn write_svg(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_svg()).map_err(|source| AnalyticsError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Writes the chart as PNG; returns whether text labels were drawn.
    pub fn write_png(&self, path: &Path) -> Result<bool> {
        let fonts = font_loaded();
        let err = |e: String| AnalyticsError::Chart(format!("{}: {e}", path.display()));
        let root = BitMapBackend::new(path, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let n = self.bars.len().max(1);
        let ymax = self.y_max();
        let mut b = ChartBuilder::on(&root);
        b.margin(16);
        if fonts {
            b.caption(&self.title, ("sans-serif", 18))
                .x_label_area_size(80)
                .y_label_area_size(70);
        }
        let mut chart = b
            .build_cartesian_2d(0f64..n as f64, 0f64..ymax)
            .map_err(|e| err(e.to_string()))?;
        if fonts {
            let labels: Vec<String> = self.bars.iter().map(|b| b.0.clone()).collect();
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n.min(40))
                .x_label_formatter(&|x| {
                    let i = x.floor() as usize;
                    if (x - x.floor() - 0.5).abs() < 0.26 {
                        labels.get(i).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .y_label_formatter(&|v| self.fmt(*v))
                .y_desc(self.y_label.as_str())
                .draw()
                .map_err(|e| err(e.to_string()))?;
        }
        chart
            .draw_series(self.bars.iter().enumerate().map(|(i, (_, v))| {
                Rectangle::new(
                    [(i as f64 + 0.1, 0.0), (i as f64 + 0.9, v.clamp(0.0, ymax))],
                    RGBColor(0x3b, 0x6e, 0xa5).filled(),
                )
            }))
            .map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
        Ok(fonts)
    }
}

/// Where a TTF is looked for, in order.
pub fn font_candidates() -> Vec<std::path::PathBuf> {
    let mut v: Vec<std::path::PathBuf> = std::env::var_os("MEDLEDGER_FONT")
        .map(Into::into)
        .into_iter()
        .collect();
    v.push("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf".into());
    v.push("/usr/share/fonts/TTF/DejaVuSans.ttf".into());
    v
}

fn font_loaded() -> bool {
    static LOADED: OnceLock<bool> = OnceLock::new();
    *LOADED.get_or_init(|| {
        font_candidates().into_iter().any(|p| {
            std::fs::read(&p).ok().is_some_and(|bytes| {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
            })
        })
    })
}

/// The clean-claims report's chart: first-pass clean rate per group.
pub fn clean_claims_chart(r: &crate::metrics::Report<crate::metrics::CleanClaimsRow>) -> Chart {
    Chart {
        title: format!("First-pass clean-claim rate by {}", r.spec.by),
        y_label: "clean ÷ answered".into(),
        bars: r
            .groups
            .iter()
            .map(|g| (g.key.clone(), g.first_pass_clean_rate))
            .collect(),
        percent: true,
    }
}

/// The denials report's chart: initial denial rate per group.
pub fn denials_chart(r: &crate::metrics::DenialsReport) -> Chart {
    Chart {
        title: format!("Initial denial rate by {}", r.report.spec.by),
        y_label: "denied ÷ adjudicated".into(),
        bars: r
            .report
            .groups
            .iter()
            .map(|g| (g.key.clone(), g.denial_rate))
            .collect(),
        percent: true,
    }
}

/// The A/R report's chart: open A/R per aging bucket (all groups).
pub fn ar_chart(r: &crate::metrics::Report<crate::metrics::ArRow>) -> Chart {
    Chart {
        title: format!(
            "Open A/R by age as of {}",
            crate::history::date(r.spec.as_of)
        ),
        y_label: "dollars".into(),
        bars: crate::metrics::AGING_BUCKETS
            .iter()
            .zip(r.total.aging_cents)
            .map(|(b, c)| (format!("{b} days"), c as f64 / 100.0))
            .collect(),
        percent: false,
    }
}

/// The gold-card report's chart: projected approval rate per standing.
pub fn gold_card_chart(r: &crate::goldcard::GoldCardReport) -> Chart {
    Chart {
        title: "Projected prior-auth approval rate".into(),
        y_label: "approved ÷ requests".into(),
        bars: r
            .standings
            .iter()
            .map(|s| {
                (
                    format!("{} {} {}", s.payer, s.program, s.provider),
                    s.projected.approval_rate,
                )
            })
            .collect(),
        percent: true,
    }
}

/// The drift report's chart: precision per chapter/range family and week.
pub fn drift_chart(r: &crate::drift::DriftReport) -> Chart {
    Chart {
        title: "Engine precision per family and ISO week".into(),
        y_label: "accepted ÷ decided".into(),
        bars: r
            .weeks
            .iter()
            .filter(|w| w.level != "category" && w.decided > 0)
            .map(|w| (format!("{} {}", w.family, w.week), w.precision))
            .collect(),
        percent: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Chart {
        Chart {
            title: "Clean claims <by payer>".into(),
            y_label: "rate".into(),
            bars: vec![("A&B".into(), 0.25), ("C".into(), 0.75)],
            percent: true,
        }
    }

    #[test]
    fn svg_has_bars_and_escapes() {
        let s = chart().to_svg();
        assert_eq!(s.matches("<rect x=").count(), 2);
        assert!(s.contains("Clean claims &lt;by payer&gt;") && s.contains("A&amp;B: 25.0%"));
        // The 0.75 bar is three times the 0.25 bar (plot height 350 at y max 1.0).
        assert!(s.contains("height=\"262.5\"") && s.contains("height=\"87.5\""));
    }

    #[test]
    fn png_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.png");
        chart().write_png(&p).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    }
}
