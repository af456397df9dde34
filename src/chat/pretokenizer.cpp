#include "chat/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cctype>
#include <vector>

#include "util/error.h"

namespace hearth::chat {
namespace {

// Oniguruma's Unicode \s, as the members of a character class.
constexpr std::string_view kSpaceMembers = R"(\t-\r\x{85}\p{Zs}\p{Zl}\p{Zp})";
// Oniguruma's Unicode \w.
constexpr std::string_view kWordMembers = R"(\p{L}\p{M}\p{N}\p{Pc})";

size_t utf8_length(unsigned char lead) { return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4; }

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  if (pcre2_get_error_message(code, buf, sizeof buf) < 0) return "PCRE2 error " + std::to_string(code);
  return reinterpret_cast<const char*>(buf);
}

// A literal split string as a PCRE2 pattern: every ASCII punctuation character escaped.
std::string escape_literal(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && !std::isalnum(u)) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string translate_oniguruma_pattern(std::string_view p) {
  std::string out;
  out.reserve(p.size() * 2);
  bool in_class = false;
  auto unsupported = [&](const std::string& what) {
    throw Error("pre-tokenizer regex " + std::string(p) + ": " + what + " is not supported", ErrorKind::unsupported);
  };
  for (size_t i = 0; i < p.size();) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      switch (e) {
        case 's':
          out += in_class ? std::string(kSpaceMembers) : "[" + std::string(kSpaceMembers) + "]";
          i += 2;
          continue;
        case 'S':
          if (in_class) unsupported("\\S inside a character class");
          out += "[^" + std::string(kSpaceMembers) + "]";
          i += 2;
          continue;
        case 'w':
          out += in_class ? std::string(kWordMembers) : "[" + std::string(kWordMembers) + "]";
          i += 2;
          continue;
        case 'W':
          if (in_class) unsupported("\\W inside a character class");
          out += "[^" + std::string(kWordMembers) + "]";
          i += 2;
          continue;
        case 'd':
          out += "\\p{Nd}";
          i += 2;
          continue;
        default: {
          // Any other escape passes through whole, including \p{..} / \x{..} bodies.
          size_t end = i + 1 + utf8_length(static_cast<unsigned char>(e));
          if ((e == 'p' || e == 'P' || e == 'x') && end < p.size() && p[end] == '{') {
            const size_t close = p.find('}', end);
            if (close == std::string_view::npos) unsupported("unterminated \\" + std::string(1, e) + "{");
            end = close + 1;
          }
          out.append(p.substr(i, end - i));
          i = end;
          continue;
        }
      }
    }
    if (c == '[') {
      if (in_class) {
        if (i + 1 < p.size() && p[i + 1] == ':') {  // POSIX class [:alpha:] inside a class
          const size_t close = p.find(":]", i + 2);
          if (close == std::string_view::npos) unsupported("unterminated POSIX class");
          out.append(p.substr(i, close + 2 - i));
          i = close + 2;
          continue;
        }
        unsupported("a nested character class");
      }
      in_class = true;
      out += '[';
      ++i;
      if (i < p.size() && p[i] == '^') out += p[i++];
      if (i < p.size() && p[i] == ']') out += p[i++];  // a leading ']' is a literal
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    const size_t len = utf8_length(static_cast<unsigned char>(c));
    out.append(p.substr(i, len));
    i += len;
  }
  return out;
}

struct PreTokenizer::Stage {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Stage() { pcre2_code_free(code); }
};

// Per-call matching state: one match block per stage (stages nest while splitting), and a large JIT
// stack created only if a pathological input exhausts the default one.
struct PreTokenizer::Scratch {
  std::vector<pcre2_match_data*> match_data;
  pcre2_jit_stack* big_stack = nullptr;
  pcre2_match_context* big_context = nullptr;
  std::vector<std::string> prefixed;  // pieces given a prefix space, one per stage
  ~Scratch() {
    for (auto* m : match_data) pcre2_match_data_free(m);
    pcre2_match_context_free(big_context);
    pcre2_jit_stack_free(big_stack);
  }
};

PreTokenizer::PreTokenizer(const PreTokenizerSpec& spec, const std::string& source)
    : add_prefix_space_(spec.add_prefix_space), prefix_space_stage_(spec.prefix_space_stage) {
  for (const SplitSpec& split : spec.splits) {
    std::string pattern = split.is_literal ? escape_literal(split.pattern) : translate_oniguruma_pattern(split.pattern);
    int error = 0;
    PCRE2_SIZE offset = 0;
    auto stage = std::make_unique<Stage>();
    stage->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
    if (!stage->code) {
      throw Error(source + ": pre-tokenizer regex " + split.pattern + " does not compile (as " + pattern +
                      "): " + pcre2_message(error) + " at offset " + std::to_string(offset),
                  ErrorKind::unsupported);
    }
    // JIT is several times faster than the interpreter; without it (unusual platforms) matching is
    // still correct, only slower.
    stage->jit = pcre2_jit_compile(stage->code, PCRE2_JIT_COMPLETE) == 0;
    stages_.push_back(std::move(stage));
  }
}

PreTokenizer::~PreTokenizer() = default;

void PreTokenizer::split(std::string_view text, const std::function<void(std::string_view)>& emit) const {
  if (text.empty()) return;
  Scratch scratch;
  scratch.prefixed.resize(stages_.size() + 1);
  for (const auto& stage : stages_) scratch.match_data.push_back(pcre2_match_data_create_from_pattern(stage->code, nullptr));
  run_stage(0, text, scratch, emit);
}

void PreTokenizer::run_stage(size_t index, std::string_view piece, Scratch& scratch,
                             const std::function<void(std::string_view)>& emit) const {
  if (add_prefix_space_ && index == prefix_space_stage_ && piece.front() != ' ') {
    std::string& prefixed = scratch.prefixed[index];
    prefixed.assign(1, ' ');
    prefixed.append(piece);
    piece = prefixed;
  }
  if (index == stages_.size()) {
    emit(piece);
    return;
  }
  const Stage& stage = *stages_[index];
  pcre2_match_data* md = scratch.match_data[index];
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
  const size_t length = piece.size();
  size_t last = 0, pos = 0;
  auto next_piece = [&](size_t from, size_t to) {
    if (to > from) run_stage(index + 1, piece.substr(from, to - from), scratch, emit);
  };
  while (pos < length) {
    // The subject was validated once by the caller; without NO_UTF_CHECK PCRE2 would re-check the whole
    // remaining text on every call, which is quadratic.
    int rc = stage.jit ? pcre2_jit_match(stage.code, subject, length, pos, PCRE2_NO_UTF_CHECK, md, nullptr)
                       : pcre2_match(stage.code, subject, length, pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      if (!scratch.big_stack) {
        scratch.big_stack = pcre2_jit_stack_create(64 * 1024, 256 * 1024 * 1024, nullptr);
        scratch.big_context = pcre2_match_context_create(nullptr);
        pcre2_jit_stack_assign(scratch.big_context, nullptr, scratch.big_stack);
      }
      rc = pcre2_jit_match(stage.code, subject, length, pos, PCRE2_NO_UTF_CHECK, md, scratch.big_context);
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) throw Error("pre-tokenizer regex failed: " + pcre2_message(rc), ErrorKind::internal);
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t start = ov[0], end = ov[1];
    next_piece(last, start);
    next_piece(start, end);
    last = end;
    // An empty match moves on by one character, as Oniguruma's and JavaScript's match iteration do.
    pos = end > start ? end : end + utf8_length(static_cast<unsigned char>(piece[end]));
  }
  next_piece(last, length);
}

}  // namespace hearth::chat
