// `hearth serve`: the Anthropic Messages API server. Settings come from flags, then HEARTH_*
// environment variables, then defaults (`hearth serve --help` lists each).
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_server.h"
#include "api/auth.h"
#include "app/command.h"
#include "cache/byte_size.h"
#include "cache/model_identity.h"
#include "serve/completion.h"
#include "chat/scripted_responder.h"
#include "chat/tokenizer.h"
#include "hub/hf_cache.h"
#include "metrics/metrics_log.h"
#include "metrics/server_metrics.h"
#include "util/error.h"
#if HEARTH_HAVE_ENGINE
#include "engine/demo_model.h"
#include "engine/demo_reply_end.h"
#include "engine/loader.h"
#include "app/load_progress_view.h"
#endif
#include <unistd.h>

namespace hearth::app {
namespace {

// One setting: its flag, its environment variable, its default and its help line.
struct Setting {
  std::string flag;         // "--port"
  std::string env;          // "HEARTH_PORT" ("" = flag only)
  std::string fallback;     // default as text ("" = unset)
  std::string help;
  bool is_switch = false;   // --flag alone means "true"
  std::optional<std::string> value;
};

class Settings {
 public:
  Settings() {
    add("--host", "HEARTH_HOST", "127.0.0.1", "address to listen on");
    add("--port", "HEARTH_PORT", "8080", "port to listen on (0: any free port, printed at start)");
    add("--model", "HEARTH_MODEL", "",
        "model directory (config.json, safetensors, tokenizer.json), or a Hugging Face repository id ORG/NAME[@REVISION] "
        "already in the local hub cache ($HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub); without it and --scripted: "
        "the built-in demo model");
    add("--scripted", "HEARTH_SCRIPTED", "", "serve the scripted model from this JSON script instead (tests, demos)");
    add("--load-format", "HEARTH_LOAD_FORMAT", "safetensors",
        "safetensors, or dummy: random weights of --model's config.json shape (soak tests and benchmarks on a GPU)");
    add("--tokenizer", "HEARTH_TOKENIZER", "",
        "tokenizer.json or its directory (default: the model directory; for --scripted and the demo model, the source tree's .deps/qwen3-tokenizer)");
    add("--chat-format", "HEARTH_CHAT_FORMAT", "", "qwen3_5 or qwen3 (default: from the model's config.json; qwen3_5 when scripted)");
    add("--served-model-name", "HEARTH_SERVED_MODEL_NAMES", "",
        "comma-separated names clients may request ('*' wildcards, e.g. hearth,claude-*); default: the model directory's name, or 'hearth-scripted'");
    add("--auth-token", "HEARTH_AUTH_TOKEN", "", "API key clients must send (x-api-key or Authorization: Bearer); empty: no auth");
    add("--allow-insecure-bind", "HEARTH_ALLOW_INSECURE_BIND", "false",
        "allow a non-loopback --host without --auth-token", true);
    add("--max-tokens", "HEARTH_MAX_TOKENS", "32000", "cap on a request's max_tokens");
    add("--enable-thinking", "HEARTH_ENABLE_THINKING", "true", "let the model think (requests may still disable it)", true);
    add("--prompt-cache", "HEARTH_PROMPT_CACHE", "true",
        "reuse model state (live sequence and checkpoints) for prompts that extend earlier ones", true);
    add("--cache-device-bytes", "HEARTH_CACHE_DEVICE_BYTES", "8G", "prompt-cache checkpoints in GPU memory, at most (e.g. 512M, 8G)");
    add("--cache-host-bytes", "HEARTH_CACHE_HOST_BYTES", "16G", "prompt-cache checkpoints in host memory, at most");
    add("--cache-dir", "HEARTH_CACHE_DIR", "",
        "keep static-prefix checkpoints (tools + system prompt) in this directory across restarts");
    add("--metrics-log", "HEARTH_METRICS_LOG", "", "append one JSON line per request to this file (read by hearth stats)");
    add("--max-context", "HEARTH_MAX_CONTEXT", "0",
        "positions per sequence (prompt + output); longer prompts get 400 prompt is too long. 0: the model's maximum, "
        "or the largest that fits the GPU with --parallel sequences (the banner says which); 32768 for --scripted");
    add("--max-body-bytes", "HEARTH_MAX_BODY_BYTES", "33554432", "largest request body; larger ones get 413");
    add("--queue-size", "HEARTH_QUEUE_SIZE", "16", "requests that may wait while --parallel others generate; more get 529");
    add("--parallel", "HEARTH_PARALLEL", "0",
        "requests generated at once (sequence slots, batched in one model step); 0: 4 on a GPU, 1 on the CPU and for --scripted");
    add("--step-tokens", "HEARTH_STEP_TOKENS", "512",
        "tokens one model step runs, all requests together: a long prompt is prefilled in such chunks between the "
        "other requests' decode steps");
    add("--read-timeout", "HEARTH_READ_TIMEOUT", "30", "seconds one read of a request may wait");
    add("--header-timeout", "HEARTH_HEADER_TIMEOUT", "10",
        "seconds a request's line and headers may take to arrive once it started (then 408)");
    add("--body-timeout", "HEARTH_BODY_TIMEOUT", "120", "seconds a whole request body may take to arrive (then 408)");
    add("--http-threads", "HEARTH_HTTP_THREADS", "64", "connections served at once");
    add("--device", "HEARTH_DEVICE", "auto", "where the model runs: auto (the GPU when there is one), cpu or cuda");
    add("--threads", "HEARTH_THREADS", "0", "CPU threads for the model (0: all cores)");
    add("--precision", "HEARTH_PRECISION", "fast",
        "CUDA prefill products: fast (bf16 operands, float32 accumulation) or exact (float32-faithful)");
    add("--temperature", "HEARTH_TEMPERATURE", "0.6", "sampling temperature when a request gives none");
    add("--top-p", "HEARTH_TOP_P", "0.95", "top-p when a request gives none");
    add("--top-k", "HEARTH_TOP_K", "20", "top-k when a request gives none (0: off)");
    add("--signing-key", "HEARTH_SIGNING_KEY", "",
        "secret for thinking-block signatures (default: random per start; set it to keep signatures valid across restarts)");
    add("--log-requests", "HEARTH_LOG_REQUESTS", "true", "one line per request on stderr", true);
    add("--cors-origin", "HEARTH_CORS_ORIGINS", "",
        "comma-separated browser origins allowed to call the API (e.g. http://localhost:5173; '*': any); default: none");
  }

  // Returns false for --help.
  bool parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") return false;
      std::optional<std::string> inline_value;
      if (size_t eq = arg.find('='); eq != std::string::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
      bool negated = false;
      Setting* s = find(arg);
      if (!s && arg.rfind("--no-", 0) == 0) {
        s = find("--" + arg.substr(5));
        negated = s && s->is_switch;
        if (!negated) s = nullptr;
      }
      if (!s) throw Error("unknown option " + arg + " (see hearth serve --help)", ErrorKind::invalid_request);
      if (negated) {
        s->value = "false";
      } else if (inline_value) {
        s->value = *inline_value;
      } else if (s->is_switch) {
        s->value = "true";
      } else {
        if (i + 1 >= argc) throw Error(arg + " needs a value", ErrorKind::invalid_request);
        s->value = argv[++i];
      }
    }
    return true;
  }

  void print_help() const {
    std::printf("usage: hearth serve [options]\n\n"
                "Serves the Anthropic Messages API. Each option can also be set by its environment variable;\n"
                "flags win over the environment.\n\n");
    for (const Setting& s : settings_) {
      std::string left = s.flag + (s.is_switch ? "[=BOOL]" : " VALUE");
      std::printf("  %-28s %s\n", left.c_str(), s.help.c_str());
      std::printf("  %-28s env %s, default: %s\n", "", s.env.c_str(), s.fallback.empty() ? "(none)" : s.fallback.c_str());
    }
  }

  std::string text(const std::string& flag) const {
    const Setting& s = get(flag);
    if (s.value) return *s.value;
    if (!s.env.empty()) {
      if (const char* v = std::getenv(s.env.c_str())) return v;
      if (s.env == "HEARTH_SERVED_MODEL_NAMES") {
        if (const char* v = std::getenv("HEARTH_SERVED_MODEL_NAME")) return v;
      }
    }
    return s.fallback;
  }

  // True when the flag or its environment variable set the value (not the default).
  bool given(const std::string& flag) const {
    const Setting& s = get(flag);
    return s.value.has_value() || (!s.env.empty() && std::getenv(s.env.c_str()) != nullptr);
  }

  int64_t integer(const std::string& flag, int64_t low, int64_t high) const {
    std::string t = text(flag);
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(t.c_str(), &end, 10);
    if (t.empty() || *end != '\0' || errno != 0 || v < low || v > high) {
      throw Error(flag + " (" + get(flag).env + "): expected an integer in [" + std::to_string(low) + ", " +
                      std::to_string(high) + "], got '" + t + "'",
                  ErrorKind::invalid_request);
    }
    return v;
  }

  double number(const std::string& flag, double low, double high) const {
    std::string t = text(flag);
    char* end = nullptr;
    double v = std::strtod(t.c_str(), &end);
    if (t.empty() || *end != '\0' || !(v >= low && v <= high)) {
      throw Error(flag + ": expected a number in [" + std::to_string(low) + ", " + std::to_string(high) + "], got '" + t + "'",
                  ErrorKind::invalid_request);
    }
    return v;
  }

  bool boolean(const std::string& flag) const {
    std::string t = text(flag);
    for (char& c : t) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (t == "1" || t == "true" || t == "yes" || t == "on") return true;
    if (t == "0" || t == "false" || t == "no" || t == "off" || t.empty()) return false;
    throw Error(flag + ": expected true or false, got '" + t + "'", ErrorKind::invalid_request);
  }

 private:
  void add(std::string flag, std::string env, std::string fallback, std::string help, bool is_switch = false) {
    settings_.push_back({std::move(flag), std::move(env), std::move(fallback), std::move(help), is_switch, {}});
  }
  Setting* find(const std::string& flag) {
    for (Setting& s : settings_) {
      if (s.flag == flag) return &s;
    }
    return nullptr;
  }
  const Setting& get(const std::string& flag) const {
    for (const Setting& s : settings_) {
      if (s.flag == flag) return s;
    }
    throw Error("internal: no setting " + flag, ErrorKind::internal);
  }
  std::vector<Setting> settings_;
};

// The Qwen3 tokenizer that scripts/install-deps.sh puts in the source tree, when this binary was built
// from one that still has it; "" otherwise.
std::string default_tokenizer_dir() {
#ifdef HEARTH_SOURCE_TOKENIZER_DIR
  if (std::filesystem::exists(std::filesystem::path(HEARTH_SOURCE_TOKENIZER_DIR) / "tokenizer.json")) {
    return HEARTH_SOURCE_TOKENIZER_DIR;
  }
#endif
  return {};
}

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string name = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (!name.empty()) out.push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string model_type_of(const std::filesystem::path& model_dir) {
  std::ifstream in(model_dir / "config.json");
  if (!in) throw Error("cannot read " + (model_dir / "config.json").string(), ErrorKind::io);
  nlohmann::json config = nlohmann::json::parse(in, nullptr, false);
  if (config.is_discarded() || !config.is_object()) {
    throw Error((model_dir / "config.json").string() + " is not a JSON object", ErrorKind::invalid_request);
  }
  if (config.contains("model_type") && config["model_type"].is_string()) return config["model_type"];
  if (config.contains("text_config") && config["text_config"].is_object() && config["text_config"].contains("model_type")) {
    return config["text_config"]["model_type"];
  }
  throw Error((model_dir / "config.json").string() + " has no model_type", ErrorKind::invalid_request);
}

// The demo model's replies end after this many tokens (engine/demo_reply_end.h): a Claude Code turn
// then takes seconds on a CPU instead of running to its 32000-token limit.
constexpr int64_t kDemoReplyTokens = 48;

#if HEARTH_HAVE_ENGINE
engine::DemoReplyEnd demo_reply_end(const chat::Tokenizer& tokenizer) {
  const auto start = tokenizer.token_id("<|im_start|>");
  const auto end = tokenizer.token_id("<|im_end|>");
  if (!start || !end) throw Error("the demo model needs a tokenizer with <|im_start|> and <|im_end|>", ErrorKind::invalid_request);
  return {*start, *end, kDemoReplyTokens};
}
#endif

// The banner's prompt-cache line: only the tiers this server has (no GPU tier when the model runs on
// the CPU, the disk tier only with --cache-dir).
std::string prompt_cache_tiers(const cache::PromptCacheConfig& cache, bool on_gpu) {
  if (!cache.enabled) return "off";
  std::string tiers;
  if (on_gpu) tiers = cache::format_byte_size(cache.store.device_budget_bytes) + " GPU + ";
  tiers += cache::format_byte_size(cache.store.host_budget_bytes) + " host";
  // On the CPU the KV pages that only checkpoints keep are host memory too, inside that budget.
  if (!on_gpu) tiers += " (states and the KV pages they keep)";
  if (!cache.store.persist.dir.empty()) tiers += ", kept in " + cache.store.persist.dir.string();
  return tiers;
}

// hearth_model_info's labels: the served name, where the weights came from, and their identity hash.
metrics::ModelArtifact model_artifact(const std::string& name, const std::optional<hub::ModelLocation>& location,
                                      const std::string& identity) {
  metrics::ModelArtifact artifact;
  artifact.name = name;
  artifact.identity = identity;
  if (!location) return artifact;
  artifact.path = location->dir.string();
  if (const auto& hub = location->from_hub) {
    artifact.repository = hub->repo;
    artifact.revision = hub->revision;
    artifact.commit = hub->commit;
  }
  return artifact;
}

// Stops the server on SIGINT/SIGTERM: the signals are blocked in every thread and taken by this one.
class SignalStopper {
 public:
  explicit SignalStopper(std::function<void()> stop) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this, stop = std::move(stop)] {
      int signal = 0;
      sigwait(&set_, &signal);
      if (signal == SIGINT || signal == SIGTERM) {
        std::fprintf(stderr, "hearth: %s received, stopping\n", signal == SIGINT ? "SIGINT" : "SIGTERM");
        stop();
      }
    });
    thread_.detach();
  }

 private:
  sigset_t set_;
  std::thread thread_;
};

int run_serve(int argc, char** argv) {
  Settings settings;
  if (!settings.parse(argc, argv)) {
    settings.print_help();
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server

  const std::string host = settings.text("--host");
  const std::string auth_token = settings.text("--auth-token");
  if (!api::is_loopback_host(host) && auth_token.empty() && !settings.boolean("--allow-insecure-bind")) {
    throw Error("refusing to listen on " + host +
                    " without an auth token: anyone who can reach it could use the model. Set --auth-token "
                    "(HEARTH_AUTH_TOKEN), or pass --allow-insecure-bind if that is really intended",
                ErrorKind::invalid_request);
  }

  const std::string model_argument = settings.text("--model");
  const std::string script_path = settings.text("--scripted");
  if (!model_argument.empty() && !script_path.empty()) {
    throw Error("give --model DIR (HEARTH_MODEL) or --scripted SCRIPT.json, not both", ErrorKind::invalid_request);
  }
  // Neither: the built-in demo model (random weights, the real tokenizer), to try the server anywhere.
  const bool demo = model_argument.empty() && script_path.empty();
  // A directory, or a repository id found in the local Hugging Face cache.
  std::optional<hub::ModelLocation> location;
  if (!model_argument.empty()) location = hub::locate_model(model_argument);
  const std::string model_dir = location ? location->dir.string() : std::string();
  std::string tokenizer_path = settings.text("--tokenizer");
  if (tokenizer_path.empty()) tokenizer_path = model_dir.empty() ? default_tokenizer_dir() : model_dir;
  if (tokenizer_path.empty()) {
    throw Error("--scripted and the demo model need --tokenizer (HEARTH_TOKENIZER): a tokenizer.json or its directory",
                ErrorKind::invalid_request);
  }

  const int64_t max_context = settings.integer("--max-context", 0, int64_t(1) << 24);
  if (max_context == 1) throw Error("--max-context: at least 2 positions (or 0 for automatic)", ErrorKind::invalid_request);
  serve::CompletionSettings completion;
  completion.enable_thinking = settings.boolean("--enable-thinking");
  completion.max_output_tokens = settings.integer("--max-tokens", 1, int64_t(1) << 24);
  completion.max_context = max_context;
  completion.step_tokens = settings.integer("--step-tokens", 1, int64_t(1) << 20);
  const int32_t parallel = int32_t(settings.integer("--parallel", 0, 256));
  completion.prompt_cache.enabled = settings.boolean("--prompt-cache");
  completion.prompt_cache.store.device_budget_bytes =
      cache::parse_byte_size(settings.text("--cache-device-bytes"), "--cache-device-bytes");
  completion.prompt_cache.store.host_budget_bytes =
      cache::parse_byte_size(settings.text("--cache-host-bytes"), "--cache-host-bytes");
  completion.prompt_cache.store.persist.dir = settings.text("--cache-dir");
  completion.sampling.temperature = float(settings.number("--temperature", 0, 2));
  completion.sampling.top_p = float(settings.number("--top-p", 0, 1));
  completion.sampling.top_k = int32_t(settings.integer("--top-k", 0, 1 << 20));

  std::string chat_format = settings.text("--chat-format");
  auto tokenizer = chat::Tokenizer::load(tokenizer_path);
  std::unique_ptr<engine::Model> model;
  bool on_gpu = false;  // where the model (and so the prompt cache's first tier) lives
  std::string default_name;
  std::string source;
  if (!script_path.empty()) {
    model = chat::make_scripted_model(tokenizer, chat::load_script(script_path), max_context > 0 ? max_context : 32768,
                                      std::max(parallel, 1));
    completion.prompt_cache.store.persist.model_identity = cache::identity_of_files("scripted", {script_path});
    default_name = "hearth-scripted";
    source = "scripted: " + script_path;
    if (chat_format.empty()) chat_format = "qwen3_5";
  } else if (demo) {
#if HEARTH_HAVE_ENGINE
    const auto dir = engine::write_demo_model_dir(std::filesystem::temp_directory_path() /
                                                  ("hearth-demo-model-" + std::to_string(::getpid())),
                                                  tokenizer->vocab_size());
    engine::LoadOptions load;
    load.model_dir = dir;
    load.format = engine::LoadFormat::dummy;
    load.max_context = max_context;
    load.slots = parallel;
    load.device = engine::parse_device(settings.text("--device"));
    load.threads = int(settings.integer("--threads", 0, 4096));
    load.precision = engine::parse_precision(settings.text("--precision"));
    model = engine::end_demo_replies(engine::load_model(load), demo_reply_end(*tokenizer));
    on_gpu = engine::resolve_device(load.device) == engine::Device::cuda;
    std::filesystem::remove_all(dir);
    completion.prompt_cache.store.persist.dir.clear();  // random weights: nothing worth keeping
    // Random weights never close <think>: thinking would fill the whole reply. A request can't turn it
    // back on; --enable-thinking can.
    if (!settings.given("--enable-thinking")) completion.enable_thinking = false;
#else
    throw Error("this build of hearth has no model engine; use --scripted SCRIPT.json", ErrorKind::unsupported);
#endif
    default_name = "hearth-demo";
    source = "built-in demo model: random weights, replies are gibberish; for a real model: hearth serve --model DIR";
    if (chat_format.empty()) chat_format = "qwen3_5";
  } else {
    if (chat_format.empty()) chat_format = model_type_of(model_dir);
#if HEARTH_HAVE_ENGINE
    engine::LoadOptions load;
    load.model_dir = model_dir;
    load.max_context = max_context;
    load.slots = parallel;
    load.device = engine::parse_device(settings.text("--device"));
    load.threads = int(settings.integer("--threads", 0, 4096));
    load.precision = engine::parse_precision(settings.text("--precision"));
    app::ProgressDisplay load_display;
    load.progress = app::load_progress_view(load_display);
    const std::string load_format = settings.text("--load-format");
    if (load_format == "dummy") {
      load.format = engine::LoadFormat::dummy;  // random weights of the config's shape (soak, benchmarks)
    } else if (load_format != "safetensors") {
      throw Error("--load-format must be safetensors or dummy", ErrorKind::invalid_request);
    }
    model = engine::load_model(load);
    on_gpu = engine::resolve_device(load.device) == engine::Device::cuda;
    completion.prompt_cache.store.persist.model_identity =
        cache::identity_of_files(model->info().architecture, cache::model_state_files(model_dir));
    if (load.format == engine::LoadFormat::dummy) completion.prompt_cache.store.persist.dir.clear();  // random weights
#else
    throw Error("this build of hearth has no model engine yet; use --scripted SCRIPT.json", ErrorKind::unsupported);
#endif
    if (location->from_hub) {
      default_name = location->from_hub->name();
      source = location->from_hub->describe() + " in " + model_dir;
    } else {
      default_name = std::filesystem::path(model_dir).filename().string();
      if (default_name.empty()) default_name = std::filesystem::path(model_dir).parent_path().filename().string();
      source = model_dir;
    }
  }
  completion.format = chat::chat_format_for_model_type(chat_format);
  const std::string description = model->info().description;
  serve::Completion backend(tokenizer, std::move(model), completion);
  for (const std::string& warning : backend.prompt_cache().store().warnings()) {
    std::fprintf(stderr, "hearth: prompt cache: %s\n", warning.c_str());
  }

  api::ApiConfig config;
  config.served_model_names = split_names(settings.text("--served-model-name"));
  if (config.served_model_names.empty()) config.served_model_names = {default_name};
  config.auth_token = auth_token;
  config.queue_size = size_t(settings.integer("--queue-size", 0, 1 << 20));
  config.signing_key = settings.text("--signing-key");
  config.log_requests = settings.boolean("--log-requests");
  config.max_output_tokens = completion.max_output_tokens;
  metrics::ServerMetrics server_metrics;
  std::unique_ptr<metrics::MetricsLog> metrics_log;
  if (const std::string path = settings.text("--metrics-log"); !path.empty()) {
    metrics_log = std::make_unique<metrics::MetricsLog>(path);
  }
  config.metrics = &server_metrics;
  server_metrics.set_model(model_artifact(config.served_model_names.front(), location,
                                          completion.prompt_cache.store.persist.model_identity));
  config.metrics_log = metrics_log.get();
  config.refresh_metrics = [&backend, tokenizer](metrics::ServerMetrics& m) {
    const cache::StoreStats s = backend.cache_stats();
    m.set_cache_state({s.device_bytes, s.host_bytes, s.disk_bytes, s.device_checkpoints, s.host_checkpoints,
                       s.disk_only_checkpoints, s.evicted, s.demoted, s.host_page_bytes, tokenizer->cache_bytes()});
  };

  api::HttpServerOptions http;
  http.host = host;
  http.port = int(settings.integer("--port", 0, 65535));
  http.max_body_bytes = size_t(settings.integer("--max-body-bytes", 1024, int64_t(1) << 40));
  http.read_timeout_seconds = int(settings.integer("--read-timeout", 1, 3600));
  http.body_deadline_seconds = int(settings.integer("--body-timeout", 1, 86400));
  http.header_deadline_seconds = int(settings.integer("--header-timeout", 1, 3600));
  http.threads = size_t(settings.integer("--http-threads", 4, 4096));
  http.cors_origins = split_names(settings.text("--cors-origin"));
  // Enough connection threads that /health answers while the queue is full.
  http.threads = std::max(http.threads, config.queue_size + size_t(backend.status().parallel) + 8);

  api::ApiServer server(config, http, backend);
  const int port = server.bind();
  SignalStopper stopper([&server] { server.stop(); });

  const std::string url = "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                          std::to_string(port);
  std::printf("hearth serve\n");
  std::printf("  model        %s (%s)\n", config.served_model_names.front().c_str(), source.c_str());
  std::printf("               %s\n", description.c_str());
  std::printf("  names        %s\n", api::ServedModels(config.served_model_names).describe().c_str());
  std::printf("  chat format  %s, thinking %s, max tokens %lld, context %lld%s\n", chat_format.c_str(),
              completion.enable_thinking ? "on" : "off", (long long)completion.max_output_tokens,
              (long long)backend.max_context(),
              max_context > 0 ? "" : " (automatic: the model's maximum, or the largest that fits the GPU)");
  std::printf("  requests     %d at once (%lld tokens per step), %zu waiting at most; body limit %zu bytes\n",
              int(backend.status().parallel), (long long)completion.step_tokens, config.queue_size, http.max_body_bytes);
  std::printf("  auth         %s\n", auth_token.empty() ? "off (no token set)" : "API key required");
  if (demo) {
    std::printf("  demo         thinking %s, replies end after %lld tokens (random weights never end a turn)\n",
                completion.enable_thinking ? "on" : "off", (long long)kDemoReplyTokens);
  }
  std::printf("  prompt cache %s\n", prompt_cache_tiers(completion.prompt_cache, on_gpu).c_str());
  std::printf("  CORS         %s\n", http.cors_origins.empty() ? "off (no --cors-origin)" : settings.text("--cors-origin").c_str());
  std::printf("  metrics      GET /metrics%s%s\n", metrics_log ? "; log " : "", metrics_log ? metrics_log->path().c_str() : "");
  std::printf("  Claude Code  ANTHROPIC_BASE_URL=%s ANTHROPIC_API_KEY=%s claude --model %s\n", url.c_str(),
              auth_token.empty() ? "any" : "<your token>", config.served_model_names.front().c_str());
  std::printf("hearth: listening on %s\n", url.c_str());
  std::fflush(stdout);
  server.run();
  return 0;
}

const CommandRegistration registration{"serve", "Run the Anthropic Messages API server", run_serve};

}  // namespace
}  // namespace hearth::app
