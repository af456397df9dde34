#pragma once
// First-come, first-served access to the model. Up to `max_running` requests generate at once (the
// backend's parallel sequences, api/backend.h BackendStatus::parallel); up to `max_waiting` more wait
// for their turn; past that, admission fails (the server answers 529).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace hearth::api {

class RequestQueue {
 public:
  explicit RequestQueue(size_t max_waiting, size_t max_running = 1);

  // A place in line. Destroying it leaves the line (or releases the model if it had its turn).
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&& other) noexcept;
    ~Ticket();
    // Blocks until this ticket's turn, or returns false as soon as `give_up()` turns true (checked
    // every `poll`; the ticket then leaves the line).
    bool wait_turn(const std::function<bool()>& give_up,
                   std::chrono::milliseconds poll = std::chrono::milliseconds(50));

   private:
    friend class RequestQueue;
    Ticket(RequestQueue* queue, uint64_t id) : queue_(queue), id_(id) {}
    RequestQueue* queue_;
    uint64_t id_;
    bool has_turn_ = false;
  };

  // nullopt when the line is full.
  std::optional<Ticket> try_enter();

  size_t waiting() const;   // in line, not yet generating
  size_t running() const;   // generating
  size_t max_waiting() const { return max_waiting_; }
  size_t max_running() const { return max_running_; }

 private:
  void leave(uint64_t id, bool had_turn);

  const size_t max_waiting_;
  const size_t max_running_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<uint64_t> line_;
  size_t running_ = 0;
  uint64_t next_id_ = 1;
};

}  // namespace hearth::api
