#pragma once
// Vocabulary shared by the prompt cache's parts: why a checkpoint was taken, and where its bytes live.
#include <cstdint>
#include <string_view>

#include "engine/model.h"

namespace hearth::cache {

using engine::Token;

// Why a position was checkpointed. The kind tells eviction how likely later prompts are to share the
// position (anchor kinds are kept longest) and persistence which checkpoints are worth writing to disk.
enum class CheckpointKind : uint8_t {
  static_prefix,   // end of tools + system: shared by every conversation with the same tools/system
  user_query_end,  // end of the last real user message (and of the non-assistant messages right after
                   // it): where later prompts diverge once the chat format drops past reasoning
                   // (checkpoint_planner.h explains)
  message_end,     // end of any other message
  prompt_end,      // end of the generation prompt (exact repeats of a request)
  generation_end,  // after the generated tokens (the next agent-loop turn extends them)
};

// Anchors: positions that the chat format guarantees later prompts of the conversation keep.
constexpr bool is_anchor(CheckpointKind kind) {
  return kind == CheckpointKind::static_prefix || kind == CheckpointKind::user_query_end;
}

// Where a checkpoint's state is held. A snapshot with device_bytes() > 0 is on the device tier.
enum class Tier : uint8_t { device, host, disk };

std::string_view to_string(CheckpointKind kind);
std::string_view to_string(Tier tier);

}  // namespace hearth::cache
