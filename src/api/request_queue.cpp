#include "api/request_queue.h"

#include <algorithm>

namespace hearth::api {

RequestQueue::RequestQueue(size_t max_waiting, size_t max_running)
    : max_waiting_(max_waiting), max_running_(std::max<size_t>(1, max_running)) {}

std::optional<RequestQueue::Ticket> RequestQueue::try_enter() {
  std::lock_guard lock(mutex_);
  // Requests that will start at once (free places in front of them) never count against the line.
  const size_t free_places = max_running_ - running_;
  if (line_.size() >= free_places + max_waiting_) return std::nullopt;
  uint64_t id = next_id_++;
  line_.push_back(id);
  return Ticket(this, id);
}

size_t RequestQueue::waiting() const {
  std::lock_guard lock(mutex_);
  return line_.size();
}

size_t RequestQueue::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

void RequestQueue::leave(uint64_t id, bool had_turn) {
  {
    std::lock_guard lock(mutex_);
    if (had_turn) {
      --running_;
    } else {
      auto it = std::find(line_.begin(), line_.end(), id);
      if (it != line_.end()) line_.erase(it);
    }
  }
  changed_.notify_all();
}

RequestQueue::Ticket::Ticket(Ticket&& other) noexcept
    : queue_(other.queue_), id_(other.id_), has_turn_(other.has_turn_) {
  other.queue_ = nullptr;
}

RequestQueue::Ticket& RequestQueue::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    if (queue_) queue_->leave(id_, has_turn_);
    queue_ = other.queue_;
    id_ = other.id_;
    has_turn_ = other.has_turn_;
    other.queue_ = nullptr;
  }
  return *this;
}

RequestQueue::Ticket::~Ticket() {
  if (queue_) queue_->leave(id_, has_turn_);
}

bool RequestQueue::Ticket::wait_turn(const std::function<bool()>& give_up, std::chrono::milliseconds poll) {
  if (!queue_) return false;
  if (has_turn_) return true;
  std::unique_lock lock(queue_->mutex_);
  for (;;) {
    if (queue_->running_ < queue_->max_running_ && !queue_->line_.empty() && queue_->line_.front() == id_) {
      queue_->line_.pop_front();
      ++queue_->running_;
      has_turn_ = true;
      queue_->changed_.notify_all();  // the next in line may have a free place too
      return true;
    }
    lock.unlock();
    const bool stop = give_up && give_up();
    lock.lock();
    if (stop) {
      auto it = std::find(queue_->line_.begin(), queue_->line_.end(), id_);
      if (it != queue_->line_.end()) queue_->line_.erase(it);
      RequestQueue* queue = queue_;
      queue_ = nullptr;  // left the line; nothing to release later
      lock.unlock();
      queue->changed_.notify_all();
      return false;
    }
    queue_->changed_.wait_for(lock, poll);
  }
}

}  // namespace hearth::api
