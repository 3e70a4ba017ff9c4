// The fabric between workers: mailboxes deliver every message once, in the
// order each sender sent it, across segment boundaries and from several
// sender threads at once; a parked receiver wakes on delivery, never by
// the timeout; undelivered messages are freed with the mailbox.
#include "engine/fabric.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace diffmesh {
namespace {

TEST(MailboxTest, DeliversInOrderPerSenderAcrossSegments) {
  Fabric fabric(3);
  auto box = fabric.Channel<Mailbox<std::pair<int, int>>>(ChannelKey{0, 0, 0});
  EXPECT_FALSE(box->HasMessages(2));
  for (int i = 0; i < 100; ++i) {
    box->Push(0, 2, {0, i});
    box->Push(1, 2, {1, i});
  }
  box->Push(2, 0, {2, 0});
  EXPECT_TRUE(box->HasMessages(2));
  EXPECT_TRUE(box->HasMessages(0));
  EXPECT_FALSE(box->HasMessages(1));
  std::vector<std::pair<int, int>> got;
  box->DrainInto(2, &got);
  EXPECT_FALSE(box->HasMessages(2));
  ASSERT_EQ(got.size(), 200u);
  int next[2] = {0, 0};
  for (const auto& [from, i] : got) EXPECT_EQ(i, next[from]++);
  EXPECT_EQ(next[0], 100);
  EXPECT_EQ(next[1], 100);
  // Later messages continue where the drained ones stopped.
  box->Push(0, 2, {0, 100});
  got.clear();
  box->DrainInto(2, &got);
  EXPECT_EQ(got, (std::vector<std::pair<int, int>>{{0, 100}}));
}

TEST(MailboxTest, ConcurrentSendersLoseNothing) {
  constexpr int kSenders = 3, kMessages = 20000;
  Fabric fabric(kSenders + 1);
  auto box = fabric.Channel<Mailbox<std::pair<int, int>>>(ChannelKey{0, 0, 0});
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&, s] {
      for (int i = 0; i < kMessages; ++i) box->Push(s, kSenders, {s, i});
    });
  }
  Doorbell& doorbell = fabric.doorbell(kSenders);
  std::vector<int> next(kSenders, 0);
  int received = 0;
  std::vector<std::pair<int, int>> got;
  while (received < kSenders * kMessages) {
    uint64_t seen = doorbell.Seen();
    got.clear();
    box->DrainInto(kSenders, &got);
    for (const auto& [from, i] : got) {
      ASSERT_EQ(i, next[from]) << "from " << from;
      ++next[from];
    }
    received += static_cast<int>(got.size());
    if (got.empty()) doorbell.Wait(seen);
  }
  for (std::thread& t : senders) t.join();
  EXPECT_FALSE(box->HasMessages(kSenders));
  for (int s = 0; s < kSenders; ++s) EXPECT_EQ(next[s], kMessages);
}

TEST(MailboxTest, UndeliveredMessagesAreFreedWithTheMailbox) {
  // Heap-owning messages (strings too long to be stored inline) left in
  // several segments (LeakSanitizer checks).
  Fabric fabric(2);
  auto text = [](int i) { return std::string(40, 'x') + std::to_string(i); };
  {
    auto box = fabric.Channel<Mailbox<std::string>>(ChannelKey{0, 1, 0});
    for (int i = 0; i < 100; ++i) box->Push(0, 1, text(i));
    std::vector<std::string> got;
    box->DrainInto(1, &got);
    ASSERT_EQ(got.size(), 100u);
    EXPECT_EQ(got[99], text(99));
    for (int i = 0; i < 70; ++i) box->Push(0, 1, text(i));
  }
}

TEST(DoorbellTest, ParkedReceiverWakesOnRing) {
  Doorbell doorbell;
  uint64_t seen = doorbell.Seen();
  std::thread ringer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    doorbell.Ring();
  });
  doorbell.Wait(seen);  // spins, yields, then parks until the ring
  EXPECT_NE(doorbell.Seen(), seen);
  ringer.join();
}

// Two threads ring each other's doorbell back and forth, each ring a
// little late so the other is asleep: every sleep must end by the ring,
// none by the timeout that would hide a lost wake-up. The threads call the
// sleeping phase itself (Sleep), so they sleep however busy the machine.
TEST(DoorbellTest, NoWakeUpIsLost) {
  Doorbell a, b;
  constexpr int kRounds = 60;
  // Read before the thread starts: a ring before it would be missed.
  const uint64_t b_start = b.Seen();
  std::thread other([&] {
    uint64_t seen = b_start;
    for (int i = 0; i < kRounds; ++i) {
      while (b.Seen() == seen) b.Sleep(seen);
      seen = b.Seen();
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      a.Ring();
    }
  });
  uint64_t seen = a.Seen();
  for (int i = 0; i < kRounds; ++i) {
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    b.Ring();
    while (a.Seen() == seen) a.Sleep(seen);
    seen = a.Seen();
  }
  other.join();
  // Most rounds sleep (a ring that comes before its waiter looks needs no
  // sleep, which a busy machine makes happen now and then).
  EXPECT_GE(a.sleeps() + b.sleeps(), uint64_t{kRounds});
  EXPECT_EQ(a.late_wakeups() + b.late_wakeups(), 0u);
}

}  // namespace
}  // namespace diffmesh
