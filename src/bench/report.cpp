#include "bench/report.h"

#include <cstdio>
#include <sstream>

#include "bench/summary.h"

namespace hearth::bench {
namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

template <typename T>
std::string or_dash(const std::optional<T>& v, int decimals = 1) {
  return v ? fixed(static_cast<double>(*v), decimals) : "—";
}

std::string gib(const std::optional<int64_t>& bytes) {
  return bytes ? fixed(static_cast<double>(*bytes) / (1024.0 * 1024.0 * 1024.0), 2) : "—";
}

// Markdown table cells: a '|' would end the cell, a line break the row.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

std::string ratio(int part, int whole) { return std::to_string(part) + "/" + std::to_string(whole); }

}  // namespace

std::string markdown_report(const std::vector<RunRecord>& runs, const ReportOptions& options) {
  const auto models = summarize_models(runs);
  const auto matrix = pass_matrix(runs, models);
  std::ostringstream md;
  md << "# " << options.title << "\n\n";
  md << runs.size() << " runs; a run passes when the held-out tests, which the agent never saw, pass.\n\n";

  md << "## Per model\n\n";
  md << "| Model | Runs | Held-out pass | Public pass | Errors | Avg wall (s) | Median wall (s) | Avg turns | "
        "Avg tool calls | Avg prefill (tok/s) | Median decode (tok/s) | Cache hits / misses | "
        "Tokens prefilled / reused | Peak GPU memory (GiB) | Peak host memory (GiB) |\n";
  md << "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
  for (const auto& m : models) {
    const bool metrics = m.runs_with_metrics > 0;
    md << "| " << cell(m.model) << " | " << m.runs << " | " << ratio(m.heldout_passes, m.runs) << " | "
       << ratio(m.public_passes, m.runs) << " | " << m.errors << " | " << fixed(m.avg_wall_s, 1) << " | "
       << fixed(m.median_wall_s, 1) << " | " << fixed(m.avg_turns, 1) << " | " << fixed(m.avg_tool_calls, 1) << " | "
       << or_dash(m.avg_prefill_tps) << " | " << or_dash(m.median_decode_tps) << " | "
       << (metrics ? std::to_string(m.cache_hits) + " / " + std::to_string(m.cache_misses) : "—") << " | "
       << (metrics ? std::to_string(m.tokens_prefilled) + " / " + std::to_string(m.tokens_reused) : "—") << " | "
       << gib(m.peak_gpu_bytes) << " | " << gib(m.peak_host_bytes) << " |\n";
  }
  md << "\n";

  md << "## Pass matrix (held-out passes / runs; public passes in parentheses)\n\n";
  md << "| Task | Kind |";
  for (const auto& m : models) md << " " << cell(m.model) << " |";
  md << "\n|---|---|";
  for (size_t i = 0; i < models.size(); ++i) md << "--:|";
  md << "\n";
  for (const auto& row : matrix) {
    md << "| " << cell(row.task) << " | " << cell(row.kind) << " |";
    for (const auto& c : row.cells) {
      md << " " << (c.runs ? ratio(c.heldout_passes, c.runs) + " (" + std::to_string(c.public_passes) + ")" : "—") << " |";
    }
    md << "\n";
  }
  md << "\n";

  md << "## Artifacts\n\n";
  for (const auto& m : models) {
    md << "- " << cell(m.model) << ": ";
    if (m.artifacts.empty()) md << "(unknown)";
    for (size_t i = 0; i < m.artifacts.size(); ++i) md << (i ? ", " : "") << "`" << m.artifacts[i] << "`";
    md << "\n";
  }
  md << "\n";

  md << "## Runs\n\n";
  md << "| Model | Task | # | Public | Held-out | Wall (s) | Turns | Tool calls | Files changed | Note |\n";
  md << "|---|---|--:|---|---|--:|--:|--:|--:|---|\n";
  for (const auto& r : runs) {
    md << "| " << cell(r.model) << " | " << cell(r.task) << " | " << r.repeat << " | "
       << (r.evaluation.public_tests.passed ? "pass" : "fail") << " (" << r.evaluation.public_tests.pass << "/"
       << r.evaluation.public_tests.pass + r.evaluation.public_tests.fail << ") | "
       << (r.evaluation.heldout.passed ? "pass" : "fail") << " (" << r.evaluation.heldout.pass << "/"
       << r.evaluation.heldout.pass + r.evaluation.heldout.fail << ") | " << fixed(r.wall_s, 1) << " | " << r.turns
       << " | " << r.tool_calls << " | " << r.changed_files.size() << " | " << cell(r.error) << " |\n";
  }
  if (!options.chart_file.empty()) {
    md << "\n![wall time and decode speed per model](" << options.chart_file << ")\n";
  }
  return md.str();
}

namespace {

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

struct Panel {
  std::string title;
  std::string unit;
  std::vector<std::optional<double>> values;  // one per model; nothing: no data
  const char* color;
};

// One bar panel at (x0, y0) of the given size; bars labelled with their values and the model names.
void draw_panel(std::ostringstream& svg, const Panel& panel, const std::vector<std::string>& names, double x0,
                double y0, double width, double height) {
  const double top = y0 + 30, bottom = y0 + height - 40, left = x0 + 10, right = x0 + width - 10;
  double max = 0;
  for (const auto& v : panel.values) max = std::max(max, v.value_or(0));
  if (max <= 0) max = 1;
  svg << "<text x=\"" << fixed(x0 + width / 2, 1) << "\" y=\"" << fixed(y0 + 18, 1)
      << "\" text-anchor=\"middle\" font-weight=\"bold\">" << xml_escape(panel.title) << "</text>\n";
  svg << "<line x1=\"" << fixed(left, 1) << "\" y1=\"" << fixed(bottom, 1) << "\" x2=\"" << fixed(right, 1)
      << "\" y2=\"" << fixed(bottom, 1) << "\" stroke=\"#444\"/>\n";
  const double slot = (right - left) / static_cast<double>(std::max<size_t>(names.size(), 1));
  for (size_t i = 0; i < names.size(); ++i) {
    const double cx = left + slot * (static_cast<double>(i) + 0.5);
    const double bar_w = std::min(60.0, slot * 0.6);
    const auto& v = panel.values[i];
    if (v) {
      const double h = (bottom - top - 16) * (*v / max);
      svg << "<rect x=\"" << fixed(cx - bar_w / 2, 1) << "\" y=\"" << fixed(bottom - h, 1) << "\" width=\""
          << fixed(bar_w, 1) << "\" height=\"" << fixed(h, 1) << "\" fill=\"" << panel.color << "\"/>\n";
      svg << "<text x=\"" << fixed(cx, 1) << "\" y=\"" << fixed(bottom - h - 4, 1) << "\" text-anchor=\"middle\">"
          << fixed(*v, 1) << " " << xml_escape(panel.unit) << "</text>\n";
    } else {
      svg << "<text x=\"" << fixed(cx, 1) << "\" y=\"" << fixed(bottom - 6, 1)
          << "\" text-anchor=\"middle\" fill=\"#888\">no data</text>\n";
    }
    svg << "<text x=\"" << fixed(cx, 1) << "\" y=\"" << fixed(bottom + 16, 1) << "\" text-anchor=\"middle\">"
        << xml_escape(names[i]) << "</text>\n";
  }
}

}  // namespace

std::string svg_chart(const std::vector<RunRecord>& runs) {
  const auto models = summarize_models(runs);
  std::vector<std::string> names;
  Panel wall{"Average wall time per run", "s", {}, "#4e79a7"};
  Panel decode{"Median decode speed", "tok/s", {}, "#f28e2b"};
  for (const auto& m : models) {
    names.push_back(m.model);
    wall.values.push_back(m.avg_wall_s);
    decode.values.push_back(m.median_decode_tps);
  }
  const double panel_w = std::max(320.0, 110.0 * static_cast<double>(names.size()) + 40);
  const double width = 2 * panel_w, height = 300;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << fixed(width, 0) << "\" height=\"" << fixed(height, 0)
      << "\" viewBox=\"0 0 " << fixed(width, 0) << " " << fixed(height, 0)
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  draw_panel(svg, wall, names, 0, 0, panel_w, height);
  draw_panel(svg, decode, names, panel_w, 0, panel_w, height);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace hearth::bench
