#pragma once
// Renders the engine's loading stages (engine/load_progress.h): on a terminal a status line per stage
// (bar, bytes, rate, ETA, tensors); otherwise one line when each stage ends.
#include "app/progress_display.h"
#include "engine/load_progress.h"

namespace hearth::app {

// The display must outlive the returned callback.
engine::LoadProgressFn load_progress_view(ProgressDisplay& display);

}  // namespace hearth::app
