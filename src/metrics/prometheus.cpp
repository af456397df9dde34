#include "metrics/prometheus.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "util/error.h"

namespace hearth::metrics {
namespace {

bool valid_name(std::string_view name, bool label) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  // The shortest representation that reads back as the same double (0.05, not 0.050000000000000003).
  char buf[40];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string escape_help(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// Adds one label to an already formatted label set (for histogram `le`).
std::string with_label(const std::string& formatted, const std::string& name, const std::string& value) {
  std::string extra = name + "=\"" + value + "\"";
  if (formatted.empty()) return "{" + extra + "}";
  return formatted.substr(0, formatted.size() - 1) + "," + extra + "}";
}

}  // namespace

std::string format_labels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!valid_name(labels[i].first, true)) {
      throw Error("metrics: invalid label name '" + labels[i].first + "'", ErrorKind::internal);
    }
    if (i) out += ',';
    out += labels[i].first + "=\"";
    for (char c : labels[i].second) {
      if (c == '\\') out += "\\\\";
      else if (c == '"') out += "\\\"";
      else if (c == '\n') out += "\\n";
      else out += c;
    }
    out += '"';
  }
  return out + "}";
}

Registry::Family& Registry::declare(std::string name, std::string help, MetricType type) {
  if (!valid_name(name, false)) throw Error("metrics: invalid metric name '" + name + "'", ErrorKind::internal);
  if (find(name)) throw Error("metrics: '" + name + "' declared twice", ErrorKind::internal);
  Family f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  families_.push_back(std::move(f));
  return families_.back();
}

void Registry::add_counter(std::string name, std::string help) {
  std::lock_guard lock(mutex_);
  declare(std::move(name), std::move(help), MetricType::counter);
}

void Registry::add_gauge(std::string name, std::string help) {
  std::lock_guard lock(mutex_);
  declare(std::move(name), std::move(help), MetricType::gauge);
}

void Registry::add_histogram(std::string name, std::string help, std::vector<double> upper_bounds) {
  for (size_t i = 1; i < upper_bounds.size(); ++i) {
    if (!(upper_bounds[i] > upper_bounds[i - 1])) {
      throw Error("metrics: histogram buckets of '" + name + "' must increase", ErrorKind::internal);
    }
  }
  std::lock_guard lock(mutex_);
  declare(std::move(name), std::move(help), MetricType::histogram).bounds = std::move(upper_bounds);
}

const Registry::Family* Registry::find(std::string_view name) const {
  for (const Family& f : families_)
    if (f.name == name) return &f;
  return nullptr;
}

Registry::Family& Registry::family(std::string_view name, MetricType type) {
  Family* f = const_cast<Family*>(find(name));
  if (!f || f->type != type) {
    throw Error("metrics: '" + std::string(name) + "' is not a declared metric of that type", ErrorKind::internal);
  }
  return *f;
}

void Registry::increment(std::string_view name, const Labels& labels, double amount) {
  if (amount < 0) throw Error("metrics: counter '" + std::string(name) + "' cannot go down", ErrorKind::internal);
  std::string key = format_labels(labels);
  std::lock_guard lock(mutex_);
  family(name, MetricType::counter).values[key] += amount;
}

void Registry::set(std::string_view name, const Labels& labels, double value) {
  std::string key = format_labels(labels);
  std::lock_guard lock(mutex_);
  family(name, MetricType::gauge).values[key] = value;
}

void Registry::observe(std::string_view name, const Labels& labels, double value) {
  std::string key = format_labels(labels);
  std::lock_guard lock(mutex_);
  Family& f = family(name, MetricType::histogram);
  Histogram& h = f.histograms[key];
  if (h.counts.empty()) h.counts.assign(f.bounds.size() + 1, 0);
  size_t bucket = 0;
  while (bucket < f.bounds.size() && value > f.bounds[bucket]) ++bucket;
  h.counts[bucket] += 1;
  h.sum += value;
  h.count += 1;
}

double Registry::value(std::string_view name, const Labels& labels) const {
  std::string key = format_labels(labels);
  std::lock_guard lock(mutex_);
  const Family* f = find(name);
  if (!f) return 0;
  auto it = f->values.find(key);
  return it == f->values.end() ? 0 : it->second;
}

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const Family& f : families_) {
    const char* type = f.type == MetricType::counter ? "counter" : f.type == MetricType::gauge ? "gauge" : "histogram";
    out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + f.name + " " + type + "\n";
    if (f.type != MetricType::histogram) {
      for (const auto& [labels, v] : f.values) out += f.name + labels + " " + format_number(v) + "\n";
      continue;
    }
    for (const auto& [labels, h] : f.histograms) {
      double cumulative = 0;
      for (size_t b = 0; b <= f.bounds.size(); ++b) {
        cumulative += h.counts[b];
        std::string le = b < f.bounds.size() ? format_number(f.bounds[b]) : "+Inf";
        out += f.name + "_bucket" + with_label(labels, "le", le) + " " + format_number(cumulative) + "\n";
      }
      out += f.name + "_sum" + labels + " " + format_number(h.sum) + "\n";
      out += f.name + "_count" + labels + " " + format_number(h.count) + "\n";
    }
  }
  return out;
}

}  // namespace hearth::metrics
