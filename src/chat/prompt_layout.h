#pragma once
// The prompt cache's view of a rendered prompt: its message boundaries as token positions, each with
// the kind that tells the cache how later prompts will share it (cache/checkpoint_planner.h). This is the
// one place that reads the ChatML structure for the cache:
//   - the first boundary ends the static prefix when the prompt starts with a system turn (tools and
//     the system prompt);
//   - the "last user query" is the last user turn that is not only <tool_response> blocks: the Qwen
//     templates drop the reasoning of assistant turns before it, so once a new query arrives the next
//     prompt diverges from this one at the first assistant turn after it. The end of that query, or of
//     the non-assistant turns right after it (Claude Code's in-place system messages), is the anchor
//     (CheckpointKind::user_query_end);
//   - every other boundary is a plain message end.
#include <span>

#include "cache/checkpoint_planner.h"
#include "chat/renderer.h"
#include "chat/tokenizer.h"

namespace hearth::chat {

// `tokens` must be the tokenization of `prompt.text`. A boundary that does not fall between two tokens
// (which the renderers never produce) is left out rather than guessed.
cache::PromptLayout prompt_layout(const RenderedPrompt& prompt, std::span<const Token> tokens, const Tokenizer& tokenizer);

}  // namespace hearth::chat
