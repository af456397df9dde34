#pragma once
// A small metrics registry rendered in the Prometheus text exposition format (version 0.0.4): counters,
// gauges and histograms, each a family of series told apart by label values. Thread-safe.
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hearth::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { counter, gauge, histogram };

class Registry {
 public:
  // Declares a family. Throws hearth::Error(internal) for an invalid name, a name declared twice, or
  // histogram buckets that are not strictly increasing.
  void add_counter(std::string name, std::string help);
  void add_gauge(std::string name, std::string help);
  void add_histogram(std::string name, std::string help, std::vector<double> upper_bounds);

  // Series are created on first use. Counters only go up (a negative amount throws).
  void increment(std::string_view name, const Labels& labels = {}, double amount = 1);
  void set(std::string_view name, const Labels& labels, double value);
  void observe(std::string_view name, const Labels& labels, double value);

  // Current value of a counter/gauge series (0 when absent): for tests and derived gauges.
  double value(std::string_view name, const Labels& labels = {}) const;

  std::string render() const;

 private:
  struct Histogram {
    std::vector<double> counts;  // one per bucket (non-cumulative), +Inf last
    double sum = 0;
    double count = 0;
  };
  struct Family {
    std::string name;
    std::string help;
    MetricType type = MetricType::counter;
    std::vector<double> bounds;
    std::map<std::string, double> values;        // key: rendered label set
    std::map<std::string, Histogram> histograms;
  };
  Family& declare(std::string name, std::string help, MetricType type);
  Family& family(std::string_view name, MetricType type);
  const Family* find(std::string_view name) const;

  mutable std::mutex mutex_;
  std::vector<Family> families_;  // in declaration order
};

// `{a="x",b="y"}` with Prometheus escaping, or "" for no labels.
std::string format_labels(const Labels& labels);

}  // namespace hearth::metrics
