// The model queue: up to max_running at a time, first come first served, bounded line, leaving the
// line early.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "api/request_queue.h"

namespace hearth::api {
namespace {

TEST(RequestQueue, AdmitsOneRunningPlusMaxWaitingThenRefuses) {
  RequestQueue q(2);
  auto a = q.try_enter();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->wait_turn({}));
  auto b = q.try_enter();
  auto c = q.try_enter();
  EXPECT_TRUE(b && c);
  EXPECT_FALSE(q.try_enter());
  EXPECT_EQ(q.waiting(), 2u);
  EXPECT_TRUE(q.running() > 0);
}

TEST(RequestQueue, AdmitsMaxRunningPlusMaxWaitingThenRefuses) {
  RequestQueue q(1, 2);
  auto a = q.try_enter();
  auto b = q.try_enter();
  auto c = q.try_enter();
  ASSERT_TRUE(a && b && c);
  EXPECT_FALSE(q.try_enter());  // two places to run + one to wait are taken
  ASSERT_TRUE(a->wait_turn({}));
  ASSERT_TRUE(b->wait_turn({}));  // both run at once
  EXPECT_EQ(q.running(), 2u);
  EXPECT_EQ(q.waiting(), 1u);
  EXPECT_FALSE(q.try_enter());
  a.reset();  // one finishes: c takes its place, and the line has room again
  ASSERT_TRUE(c->wait_turn({}));
  EXPECT_EQ(q.running(), 2u);
  EXPECT_TRUE(q.try_enter());
}

TEST(RequestQueue, ZeroSizeStillServesOneAtATime) {
  RequestQueue q(0);
  auto a = q.try_enter();
  ASSERT_TRUE(a);
  a->wait_turn({});
  EXPECT_FALSE(q.try_enter());
  a.reset();
  EXPECT_TRUE(q.try_enter());
}

TEST(RequestQueue, TurnsFollowArrivalOrder) {
  RequestQueue q(8);
  auto first = q.try_enter();
  first->wait_turn({});
  std::vector<int> order;
  std::mutex m;
  std::vector<std::thread> threads;
  std::vector<std::optional<RequestQueue::Ticket>> tickets;
  for (int i = 0; i < 4; ++i) tickets.push_back(q.try_enter());
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto& t = tickets[size_t(i)];
      t->wait_turn({}, std::chrono::milliseconds(5));
      {
        std::lock_guard lock(m);
        order.push_back(i);
      }
      t.reset();
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  first.reset();
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_FALSE(q.running() > 0);
  EXPECT_EQ(q.waiting(), 0u);
}

TEST(RequestQueue, GivingUpLeavesTheLineAndFreesTheSlot) {
  RequestQueue q(1);
  auto running = q.try_enter();
  running->wait_turn({});
  auto waiting = q.try_enter();
  ASSERT_TRUE(waiting);
  EXPECT_FALSE(q.try_enter());
  std::atomic<bool> gone{false};
  std::thread t([&] { EXPECT_FALSE(waiting->wait_turn([&] { return gone.load(); }, std::chrono::milliseconds(2))); });
  gone = true;
  t.join();
  EXPECT_EQ(q.waiting(), 0u);
  EXPECT_TRUE(q.try_enter());
}

}  // namespace
}  // namespace hearth::api
