#include "bench/claude_agent.h"

namespace hearth::bench {

std::string agent_prompt(const std::string& task_statement) {
  return "You are working in the TypeScript project in the current directory (Node 20; dependencies are "
         "installed). Complete the task below by editing the files of this project; your work is judged "
         "by what is under src/ when you finish. You can run the tests with `npm test`.\n\n" +
         task_statement;
}

std::vector<std::string> agent_argv(const AgentSpec& spec, const std::string& prompt) {
  std::vector<std::string> argv = spec.command;
  argv.insert(argv.end(), {"-p", prompt, "--output-format", "stream-json", "--verbose", "--model", spec.model,
                           // As root, --dangerously-skip-permissions is refused: allow the tools by name.
                           "--allowedTools", "Bash Read Edit Write"});
  if (spec.max_turns > 0) argv.insert(argv.end(), {"--max-turns", std::to_string(spec.max_turns)});
  return argv;
}

std::map<std::string, std::string> agent_environment(const AgentSpec& spec, const AgentRunPaths& paths,
                                                     std::map<std::string, std::string> env) {
  for (auto it = env.begin(); it != env.end();) {
    const std::string& key = it->first;
    bool foreign = key.rfind("ANTHROPIC_", 0) == 0 || key.rfind("CLAUDE", 0) == 0;
    it = foreign ? env.erase(it) : std::next(it);
  }
  env["ANTHROPIC_BASE_URL"] = spec.base_url;
  env["ANTHROPIC_API_KEY"] = spec.api_key;
  env["ANTHROPIC_MODEL"] = spec.model;
  // Side requests (titles, summaries) go to the same local model: the server knows no other name.
  env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] = spec.model;
  env["ANTHROPIC_SMALL_FAST_MODEL"] = spec.model;
  env["CLAUDE_CONFIG_DIR"] = paths.config_dir.string();
  env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1";
  env["DISABLE_AUTOUPDATER"] = "1";
  env["DISABLE_TELEMETRY"] = "1";
  env["DISABLE_ERROR_REPORTING"] = "1";
  // Without the billing block the system prompt is identical across requests, so the prefix cache works.
  env["CLAUDE_CODE_ATTRIBUTION_HEADER"] = "0";
  // A slow local prefill must not be cut off by the CLI before the run's own limit.
  env["API_TIMEOUT_MS"] = std::to_string(std::chrono::milliseconds(spec.time_limit).count());
  return env;
}

ProcessResult run_agent(const AgentSpec& spec, const std::string& prompt, const AgentRunPaths& paths) {
  std::filesystem::create_directories(paths.config_dir);
  ProcessSpec p;
  p.argv = agent_argv(spec, prompt);
  p.cwd = paths.working_copy;
  p.env = agent_environment(spec, paths, current_environment());
  p.stdout_path = paths.transcript;
  p.stderr_path = paths.stderr_log;
  p.timeout = spec.time_limit;
  p.containment = paths.containment;
  return run_process(p);
}

}  // namespace hearth::bench
