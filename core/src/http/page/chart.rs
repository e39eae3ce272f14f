//! Bar charts drawn on the server as inline SVG, and the tables of counts
//! with a bar each: no script, no image request, every label escaped like
//! the rest of the page.

use maud::{html, Markup};

use super::layout::number;

/// A bar in a table cell, as long as `count` is to `max`.
pub fn inline_bar(count: u64, max: u64) -> Markup {
    let width = percent(count, max);
    html! {
        svg.inline-bar viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" {
            rect x="0" y="0" height="10" width=(format!("{width:.2}")) {}
        }
    }
}

/// One row of a table of counts.
pub struct CountRow {
    pub label: String,
    /// Where the label leads, if anywhere.
    pub link: Option<String>,
    pub count: u64,
}

/// A table of counts with a bar each, scaled to the largest.
pub fn count_table(caption: &str, what: &str, rows: &[CountRow]) -> Markup {
    let max = rows.iter().map(|r| r.count).max().unwrap_or(0).max(1);
    html! {
        table.counts {
            caption { (caption) }
            thead { tr { th scope="col" { (what) } th scope="col" { "instances" } th { } } }
            tbody {
                @for row in rows {
                    tr {
                        td {
                            @if let Some(link) = &row.link {
                                a href=(link) { (row.label) }
                            } @else {
                                (row.label)
                            }
                        }
                        td.n { (number(row.count)) }
                        td.bar { (inline_bar(row.count, max)) }
                    }
                }
                @if rows.is_empty() {
                    tr { td colspan="3" { "none recorded" } }
                }
            }
        }
    }
}

fn percent(count: u64, max: u64) -> f64 {
    if max == 0 {
        0.0
    } else {
        count as f64 * 100.0 / max as f64
    }
}

/// One bar of a [`bar_chart`].
pub struct Bar {
    pub label: String,
    pub count: u64,
    /// Where a click on the bar leads.
    pub link: String,
}

const ROW: u32 = 24;
const LABEL_WIDTH: u32 = 260;
const BAR_WIDTH: u32 = 440;
const WIDTH: u32 = LABEL_WIDTH + BAR_WIDTH + 80;

/// A horizontal bar chart, the bars in the order given, each a link; the
/// labels cut to fit and whole in the bar's title.
pub fn bar_chart(title: &str, bars: &[Bar]) -> Markup {
    let max = bars.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let height = ROW * bars.len().max(1) as u32;
    html! {
        figure.chart {
            svg.bars role="img" aria-label=(title) width=(WIDTH) height=(height)
                viewBox=(format!("0 0 {WIDTH} {height}")) {
                title { (title) }
                @for (i, bar) in bars.iter().enumerate() {
                    @let y = ROW * i as u32;
                    @let length = (percent(bar.count, max) * f64::from(BAR_WIDTH) / 100.0).max(1.0);
                    a href=(bar.link) {
                        g.bar data-version=(bar.label) data-count=(bar.count) {
                            title { (bar.label) ": " (number(bar.count)) " instances" }
                            text.label x=(LABEL_WIDTH - 8) y=(y + 16) text-anchor="end" {
                                (shorten(&bar.label, 36))
                            }
                            rect x=(LABEL_WIDTH) y=(y + 4) height=(ROW - 8)
                                width=(format!("{length:.1}")) {}
                            text.count x=(format!("{:.1}", f64::from(LABEL_WIDTH) + length + 6.0))
                                y=(y + 16) { (number(bar.count)) }
                        }
                    }
                }
            }
            figcaption { (title) }
        }
    }
}

/// At most `max` characters, an ellipsis standing for the rest.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let kept: String = s.chars().take(max - 1).collect();
        format!("{kept}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_keep_their_order() {
        let bars = [
            Bar {
                label: "1.10".into(),
                count: 5,
                link: "/a".into(),
            },
            Bar {
                label: "<b>".into(),
                count: 10,
                link: "/b?x=1&y=2".into(),
            },
        ];
        let svg = bar_chart("versions", &bars).into_string();
        let first = svg.find("data-version=\"1.10\"").unwrap();
        let second = svg.find("data-version=\"&lt;b&gt;\"").unwrap();
        assert!(first < second, "{svg}");
        assert!(svg.contains("width=\"220.0\""), "half of 440: {svg}");
        assert!(svg.contains("width=\"440.0\""), "{svg}");
        assert!(svg.contains("href=\"/b?x=1&amp;y=2\""), "{svg}");
        assert!(!svg.contains("<b>"), "{svg}");
    }

    #[test]
    fn long_labels_are_cut() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
