#pragma once
// Where to save checkpoints while a prompt is prefilled, and whether the state after generation is worth
// keeping.
//
// A hybrid model's recurrent state can only be resumed where it was saved, so the cache saves it at the
// positions that the next requests of an agent loop will share:
//   - the end of the static prefix (tools + system), shared by every conversation with the same tools;
//   - message boundaries, the deepest ones (a conversation only ever grows at its end);
//   - the end of the last real user query (see below: it survives the format's rewriting);
//   - the end of the prompt, unless a boundary a few tokens before it already serves an exact repeat;
//   - the end of generation, by the rule below.
//
// The end-of-generation rule (Qwen3.5 / Qwen3 chat formats). The state after generation covers
// prompt + generated tokens. It is reusable only if the next prompt renders this assistant turn back to
// the very same tokens. The format renders an assistant turn in one of two ways:
//   - after the last real user query (a user message that is not only <tool_response> blocks):
//     "<|im_start|>assistant\n<think>\n" + reasoning + "\n</think>\n\n" + content + tool calls, which is
//     what the model generated after the generation prompt "<|im_start|>assistant\n<think>\n";
//   - before it: "<|im_start|>assistant\n" + content + tool calls, reasoning dropped.
// So the generated turn is re-rendered as generated only as long as no new real user query follows it:
//   - the turn ended with tool calls: the client's next request appends a user message of tool results
//     only, which does not move the "last user query", so the turn keeps its reasoning: SAVE;
//   - the turn ended without tool calls: the next request carries a new user query, the turn drops to
//     the second form, and the next prompt diverges from the saved state right after
//     "<|im_start|>assistant\n" of the FIRST assistant turn after the previous user query: DON'T SAVE.
//     That next prompt resumes from the user_query_end checkpoint at the end of that previous query,
//     and re-prefills the agent loop's turns without their reasoning (the tokens the format drops).
//   - the format keeps past reasoning (Qwen3.6 with preserve_thinking): always SAVE;
//   - generation stopped for another reason (max_tokens, a stop sequence, cancellation): the client
//     sends back a turn that is not what was generated (or none at all): DON'T SAVE.
// The same holds with thinking disabled: the generation prompt ends "<think>\n\n</think>\n\n", which the
// first form reproduces and the second does not. The rule is only about usefulness: a saved state is
// taken only where its tokens are exactly a prefix of the new prompt, so a wrong guess costs memory and
// never changes an output (a model that tokenizes its own output differently from the tokenizer simply
// never hits).
#include <cstdint>
#include <vector>

#include "cache/checkpoint.h"

namespace hearth::cache {

struct Boundary {
  int64_t position = 0;   // token position (tokens before it)
  CheckpointKind kind = CheckpointKind::message_end;  // static_prefix, user_query_end or message_end
};

struct PromptLayout {
  int64_t prompt_tokens = 0;
  std::vector<Boundary> boundaries;  // ascending positions, each in (0, prompt_tokens]
};

struct PlanOptions {
  // Boundaries closer than this to a position already planned or resumed from are skipped (anchors
  // excepted): a checkpoint costs a full state copy, re-prefilling a few tokens costs little.
  int64_t min_gap = 32;
  // Plain message ends checkpointed per request: the deepest ones. A long conversation's first request
  // does not need a checkpoint at every old message; later requests only extend its end.
  int max_message_checkpoints = 4;
  bool prompt_end = true;
};

struct PlannedCheckpoint {
  int64_t position = 0;
  CheckpointKind kind = CheckpointKind::message_end;
  bool operator==(const PlannedCheckpoint&) const = default;
};

// Positions in (resume_position, prompt_tokens] to checkpoint during prefill, ascending.
std::vector<PlannedCheckpoint> plan_checkpoints(const PromptLayout& layout, int64_t resume_position,
                                                const PlanOptions& options = {});

enum class GenerationStop { end_of_turn, max_tokens, stop_sequence, cancelled, error };

struct GenerationEnd {
  GenerationStop stop = GenerationStop::end_of_turn;
  int tool_calls = 0;                 // tool_use blocks the turn emitted
  bool format_keeps_reasoning = false;  // e.g. Qwen3.6 preserve_thinking
};

// The end-of-generation rule above.
bool generation_end_worth_saving(const GenerationEnd& end);

}  // namespace hearth::cache
