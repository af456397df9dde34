#pragma once
// From the scheduler's thread to the thread of the request it generates for. The scheduler never
// waits for a client: it posts what happened (admitted, content events, the end) and moves on; the
// request's thread takes the messages in order and calls the API layer's hooks, which may block on a
// slow socket without holding up anyone else.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <vector>

#include "cache/prompt_cache.h"
#include "engine/generator.h"
#include "util/content_events.h"

namespace hearth::serve {

struct ChannelMessage {
  enum class Kind {
    admitted,  // cache_outcome: the prompt's accounting is known
    events,    // events parsed from generated token number `token_index` (-1: the forced opening);
               // tool_calls: calls the parser had completed by then
    finished,  // result, cache_outcome, tool_calls (before the final flush), single_call_done, and
               // in events the parser's final flush (not for a cancelled request)
    failed,    // error
  };
  Kind kind = Kind::events;
  std::vector<ContentEvent> events;
  int64_t token_index = -1;
  int tool_calls = 0;
  bool single_call_done = false;
  engine::GenerateResult result;
  cache::CacheOutcome cache_outcome;
  std::exception_ptr error;
  int64_t peak_device_bytes = 0;  // finished: the model's figure, read on the scheduler's thread
};

class GenerationChannel {
 public:
  void post(ChannelMessage message) {
    {
      std::lock_guard lock(mutex_);
      messages_.push_back(std::move(message));
    }
    ready_.notify_one();
  }
  // Blocks until a message is there. The scheduler always ends with `finished` or `failed`.
  ChannelMessage take() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return !messages_.empty(); });
    ChannelMessage message = std::move(messages_.front());
    messages_.pop_front();
    return message;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<ChannelMessage> messages_;
};

}  // namespace hearth::serve
