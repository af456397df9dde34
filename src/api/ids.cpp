#include "api/ids.h"

#include <random>

namespace hearth::api {

std::string new_id(std::string_view prefix) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::uniform_int_distribution<int> pick(0, 61);
  std::string id(prefix);
  for (int i = 0; i < 24; ++i) id.push_back(kAlphabet[pick(engine)]);
  return id;
}

std::string random_bytes(size_t count) {
  std::random_device device;
  std::string bytes;
  while (bytes.size() < count) {
    uint32_t word = device();
    for (int i = 0; i < 4 && bytes.size() < count; ++i) bytes.push_back(char(word >> (8 * i)));
  }
  return bytes;
}

}  // namespace hearth::api
