#pragma once
// Starts Claude Code non-interactively on one task: `claude -p PROMPT --output-format stream-json --verbose
// --model NAME --allowedTools "Bash Read Edit Write"`, pointed at a hearth server through the environment
// and isolated from the caller's own Claude Code settings and credentials.
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bench/subprocess.h"

namespace hearth::bench {

struct AgentSpec {
  std::vector<std::string> command;  // the CLI, e.g. {"tests/e2e/node_modules/.bin/claude"}
  std::string base_url;              // the server root, e.g. http://127.0.0.1:8080 (no /v1)
  std::string api_key;               // sent as x-api-key
  std::string model;                 // --model, and the model of side requests too
  std::chrono::seconds time_limit{1800};
  int max_turns = 0;                 // 0: Claude Code's own default
};

struct AgentRunPaths {
  std::filesystem::path working_copy;
  std::filesystem::path transcript;  // stdout: the stream-json transcript
  std::filesystem::path stderr_log;
  std::filesystem::path config_dir;  // CLAUDE_CONFIG_DIR: a fresh one per run
  Containment containment;           // PID namespace, hidden folders (containment.h)
};

// The prompt given to the agent: the task statement with a short preamble.
std::string agent_prompt(const std::string& task_statement);

std::vector<std::string> agent_argv(const AgentSpec& spec, const std::string& prompt);
// The caller's environment without its ANTHROPIC_* / CLAUDE* settings, plus what points the CLI at
// the server.
std::map<std::string, std::string> agent_environment(const AgentSpec& spec, const AgentRunPaths& paths,
                                                     std::map<std::string, std::string> base);

ProcessResult run_agent(const AgentSpec& spec, const std::string& prompt, const AgentRunPaths& paths);

}  // namespace hearth::bench
