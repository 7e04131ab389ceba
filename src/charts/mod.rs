//! Charts as SVG, pure: the statistics page's charts are drawn by the server, so the page
//! works offline with no chart library (and the same SVG opens in any browser or office
//! program). Two kinds: vertical bars in groups (a series per colour, a label per group, an
//! optional dashed target line) and horizontal bars (one row per label). Every bar carries
//! a `<title>` with its exact value; every text is escaped.

use std::fmt::Write;

/// The colours of the series, in order (the pages' accent first).
const COLOURS: [&str; 4] = ["#0b6e4f", "#d97706", "#b42318", "#2563eb"];
const FONT: &str = "Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif";

/// One series of values, one per group.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// How values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Counts: 0 to the largest value, rounded up.
    Count,
    /// Shares 0 to 1, written as percentages.
    Percent,
}

impl Scale {
    fn text(self, v: f64) -> String {
        match self {
            Scale::Count if v.fract() == 0.0 => format!("{v:.0}"),
            Scale::Count => format!("{v:.1}"),
            Scale::Percent => format!("{:.1}%", v * 100.0),
        }
    }

    /// The axis' top: 100 %, or four round steps that reach the largest count (so that the
    /// grid's five lines fall on round numbers).
    fn top(self, max: f64) -> f64 {
        match self {
            Scale::Percent => 1.0,
            Scale::Count => 4.0 * nice_ceiling(max / 4.0),
        }
    }
}

/// The smallest of 1, 2, 5 × 10ⁿ at or above `v` (at least 1).
fn nice_ceiling(v: f64) -> f64 {
    if v <= 1.0 {
        return 1.0;
    }
    // Whole counts: steps of 1, 2, 5, 10, 20, …
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * magnitude)
}

/// `text` safe inside SVG text and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn open(out: &mut String, title: &str, width: u32, height: u32) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" role=\"img\" aria-label=\"{t}\" font-family=\"{FONT}\" font-size=\"12\">\
         <title>{t}</title><rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\
         <text x=\"12\" y=\"20\" font-size=\"14\" font-weight=\"600\" fill=\"#1f2933\">{t}</text>",
        t = escape(title)
    );
}

/// Grouped vertical bars: a group per label, a bar per series; `target` draws a dashed line.
pub fn bars(
    title: &str,
    labels: &[String],
    series: &[Series],
    scale: Scale,
    target: Option<f64>,
) -> String {
    let (width, height) = (760u32, 300u32);
    let (left, right, top, bottom) = (56.0, 12.0, 52.0, 56.0);
    let plot_w = width as f64 - left - right;
    let plot_h = height as f64 - top - bottom;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .chain(target)
        .fold(0.0, f64::max);
    let y_top = scale.top(max);
    let y = |v: f64| top + plot_h - (v.clamp(0.0, y_top) / y_top) * plot_h;
    let mut out = String::new();
    open(&mut out, title, width, height);
    // The legend.
    let mut lx = left;
    for (i, s) in series.iter().enumerate() {
        let _ = write!(
            out,
            "<rect x=\"{lx:.1}\" y=\"30\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"39\" fill=\"#1f2933\">{}</text>",
            COLOURS[i % COLOURS.len()],
            lx + 14.0,
            escape(&s.name)
        );
        lx += 24.0 + 13.0 * s.name.chars().count() as f64;
    }
    // The axis and grid: five steps.
    for step in 0..=4 {
        let v = y_top * step as f64 / 4.0;
        let _ = write!(
            out,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d9e2ec\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#616e7c\">{}</text>",
            left + plot_w,
            left - 6.0,
            y(v) + 4.0,
            scale.text(v),
            y = y(v)
        );
    }
    let groups = labels.len().max(1) as f64;
    let group_w = plot_w / groups;
    let bar_w = (group_w * 0.8 / series.len().max(1) as f64).max(1.0);
    // Labels thinned so that they do not overlap (one in every `every`).
    let every = ((labels.len() as f64 * 40.0 / plot_w).ceil() as usize).max(1);
    for (g, label) in labels.iter().enumerate() {
        let gx = left + g as f64 * group_w + group_w * 0.1;
        for (i, s) in series.iter().enumerate() {
            let v = s.values.get(g).copied().unwrap_or(0.0);
            let (x, by) = (gx + i as f64 * bar_w, y(v));
            let _ = write!(
                out,
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{by:.1}\" width=\"{bw:.1}\" height=\"{h:.1}\" fill=\"{c}\">\
                 <title>{l} {n}: {t}</title></rect>",
                bw = (bar_w - 1.0).max(0.5),
                h = top + plot_h - by,
                c = COLOURS[i % COLOURS.len()],
                l = escape(label),
                n = escape(&s.name),
                t = scale.text(v)
            );
        }
        if g % every == 0 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#616e7c\">{}</text>",
                left + (g as f64 + 0.5) * group_w,
                top + plot_h + 16.0,
                escape(label)
            );
        }
    }
    if let Some(t) = target {
        let _ = write!(
            out,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\" stroke=\"#b42318\" \
             stroke-dasharray=\"6 4\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" \
             fill=\"#b42318\">目标 {}</text>",
            left + plot_w,
            left + plot_w,
            y(t) - 4.0,
            scale.text(t),
            ty = y(t)
        );
    }
    if labels.is_empty() {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#616e7c\">本期无数据</text>",
            left + plot_w / 2.0,
            top + plot_h / 2.0
        );
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars, one row per (label, value), in the order given.
pub fn rows(title: &str, rows: &[(String, f64)], scale: Scale) -> String {
    let row_h = 24.0;
    let (left, right, top) = (150.0, 70.0, 36.0);
    let width = 760u32;
    let height = (top + row_h * rows.len().max(1) as f64 + 12.0) as u32;
    let plot_w = width as f64 - left - right;
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max);
    let x_top = scale.top(max);
    let mut out = String::new();
    open(&mut out, title, width, height);
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let w = (v.clamp(0.0, x_top) / x_top) * plot_w;
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#1f2933\">{l}</text>\
             <rect class=\"bar\" x=\"{left}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{}\">\
             <title>{l}: {t}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#616e7c\">{t}</text>",
            left - 8.0,
            y + 16.0,
            y + 4.0,
            row_h - 8.0,
            COLOURS[0],
            left + w + 6.0,
            y + 16.0,
            l = escape(label),
            t = scale.text(*v)
        );
    }
    if rows.is_empty() {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#616e7c\">本期无数据</text>",
            left,
            top + 16.0
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_draw_one_rect_per_value_with_its_value() {
        let labels: Vec<String> = ["09:00", "10:00"].map(String::from).to_vec();
        let svg = bars(
            "每小时来电",
            &labels,
            &[
                Series {
                    name: "呼入".into(),
                    values: vec![4.0, 7.0],
                },
                Series {
                    name: "放弃".into(),
                    values: vec![1.0, 0.0],
                },
            ],
            Scale::Count,
            None,
        );
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"bar\"").count(), 4);
        assert!(svg.contains("<title>10:00 呼入: 7</title>"));
        // The axis goes to 8 in steps of 2, the round steps that reach 7.
        assert!(
            svg.contains(">8</text>") && svg.contains(">2</text>"),
            "{svg}"
        );
        assert!(!svg.contains(">10</text>"));
        let sl = bars(
            "服务水平",
            &labels,
            &[Series {
                name: "15 秒接通率".into(),
                values: vec![0.5, 1.0],
            }],
            Scale::Percent,
            Some(0.9),
        );
        assert!(sl.contains("目标 90.0%"));
        assert!(sl.contains("<title>09:00 15 秒接通率: 50.0%</title>"));
    }

    #[test]
    fn text_is_escaped_and_empty_charts_say_so() {
        let svg = rows("热点", &[("<script>&".into(), 3.0)], Scale::Count);
        assert!(svg.contains("&lt;script&gt;&amp;"));
        assert!(!svg.contains("<script>"));
        assert!(rows("热点", &[], Scale::Count).contains("本期无数据"));
        assert!(bars("x", &[], &[], Scale::Count, None).contains("本期无数据"));
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
    }
}
