// The output parser is a state machine over decoded text. Tokens become bytes (special tokens as their
// text, so a tag that arrives as one special token and one spelled out over several ordinary tokens are
// the same thing); incomplete UTF-8 characters wait in `utf8_tail_`; `pending_` holds decoded text that
// no state has consumed yet, which between pushes is at most a possible tag prefix. Each state consumes
// what it can be sure of and hands it to the block stream.
//
// Decisions (see also output_parser_blocks.h for whitespace):
// - A tool call inside <think> is a call: the thinking block closes, the tool_use follows, and thinking
//   resumes in a new block after it (the model usually goes on to </think>).
// - A call whose tool is unknown or whose shape is unreadable is reported verbatim, tags included, as a
//   text block, wherever it appeared (also inside <think>): the user sees what the model tried.
// - Text after a tool call stays text. Claude Code accepts text after tool_use blocks and shows it;
//   dropping model output silently would hide what happened. Whitespace between calls is formatting.
// - A bare <function=NAME> without <tool_call> is a call too (Qwen3-Coder models sometimes skip it).
// - A repeated parameter keeps its first value: what was streamed cannot be taken back.
// - <|im_end|> and <|endoftext|> are never content; the generator stops on them, and the parser ignores
//   them if they are pushed anyway.
#include "chat/output_parser.h"

#include <unordered_map>

#include "chat/json_typing.h"
#include "chat/output_parser_blocks.h"
#include "chat/output_parser_scan.h"
#include "chat/tool_call_json.h"
#include "util/error.h"
#include "util/utf8.h"

namespace hearth::chat {
namespace {

enum class State {
  text,           // top level
  thinking,       // inside <think>
  call_open,      // after <tool_call>: XML or JSON follows
  function_name,  // after <function=, reading NAME up to '>'
  function_body,  // inside a known function, between parameters
  param_key,      // after <parameter=, reading KEY up to '>'
  param_value,    // a parameter value, up to </parameter>
  function_json,  // a JSON object as the whole body of <function=NAME>
  call_json,      // a Qwen3 JSON call, buffered until its value is complete
  call_close,     // after </function> or a JSON call: </tool_call> expected
  raw_call,       // an unknown or unreadable call, passed through as text up to </tool_call>
};

enum class ValueMode {
  stream_string,  // streamed as JSON string fragments as it arrives
  buffered,       // typed (number, object, ...): converted when complete
  discard,        // a repeated key
};

// Names longer than this are not tool names or parameter keys; the call is treated as unreadable.
constexpr size_t kMaxNameBytes = 256;

}  // namespace

struct OutputParser::Impl {
  Impl(const Tokenizer& t, ParserOptions o)
      : tokenizer(t), options(std::move(o)), blocks(events, options.emit_thinking), input(blocks) {
    for (const api::Tool& tool : options.tools) tools.emplace(tool.name, &tool);
    for (std::string_view piece : {"<|im_end|>", "<|endoftext|>"})
      if (auto id = tokenizer.token_id(piece)) ignored_ids.push_back(*id);
    state = context = options.starts_in_thinking ? State::thinking : State::text;
  }

  const Tokenizer& tokenizer;
  ParserOptions options;
  std::unordered_map<std::string, const api::Tool*> tools;
  std::vector<Token> ignored_ids;
  std::vector<ContentEvent> events;
  BlockStream blocks;
  ToolInputWriter input;
  bool finished = false;
  int completed_calls = 0;

  std::string utf8_tail;
  std::string pending;
  State state = State::text;
  State context = State::text;  // text or thinking: where a call returns to

  std::string call_raw;  // the call's text so far, while it may still have to be reported verbatim
  std::string name;      // function name or parameter key being read
  const api::Tool* tool = nullptr;
  ValueMode value_mode = ValueMode::stream_string;
  JsonTypeSet value_types;
  std::string key;
  std::string value;  // buffered value
  bool value_start = false;
  bool value_held_newline = false;
  JsonExtent json_extent;
  std::string json_text;

  void push(Token id);
  void finish();

 private:
  void decode(Token id);
  void run(bool at_end);
  bool step(bool at_end);
  bool step_context(bool at_end);
  bool step_call_open(bool at_end);
  bool step_name(bool at_end);
  bool step_function_body(bool at_end);
  bool step_param_value(bool at_end);
  bool step_json(bool at_end);
  bool step_call_close(bool at_end);
  bool step_raw_call(bool at_end);

  BlockKind context_kind() const { return context == State::thinking ? BlockKind::thinking : BlockKind::text; }
  void consume(size_t n) { pending.erase(0, n); }
  void start_call(std::string_view opening_tag, State next);
  void report_raw();
  void start_tool(const std::string& tool_name);
  void end_tool();
  void begin_parameter();
  void value_content(std::string_view s);
  void end_parameter();
  void finish_json_call(bool complete, bool closed_by_tag);
  void merge_function_json();
  JsonTypeSet types_of(std::string_view param) const;
};

void OutputParser::Impl::push(Token id) {
  if (finished) throw Error("output parser: push() after finish()", ErrorKind::internal);
  if (id < 0 || id >= tokenizer.vocab_size())
    throw Error("output parser: token id " + std::to_string(id) + " is outside the vocabulary (size " +
                    std::to_string(tokenizer.vocab_size()) + ")",
                ErrorKind::internal);
  for (Token ignored : ignored_ids)
    if (id == ignored) return;
  decode(id);
  run(/*at_end=*/false);
}

void OutputParser::Impl::finish() {
  if (finished) return;
  finished = true;
  pending += utf8::sanitize(utf8_tail);
  utf8_tail.clear();
  run(/*at_end=*/true);
  switch (state) {
    case State::call_json:  // cut off before its JSON completed: not safe to run, so shown as text
      call_raw += json_text;
      json_text.clear();
      report_raw();
      break;
    case State::call_open:
    case State::function_name:
      report_raw();
      break;
    case State::param_value:
      end_parameter();
      end_tool();
      break;
    case State::function_json:
      merge_function_json();
      end_tool();
      break;
    case State::function_body:
    case State::param_key:
      end_tool();
      break;
    default: break;
  }
  blocks.close();
}

// Appends the token's bytes to `pending`, keeping back an incomplete UTF-8 character and replacing
// invalid bytes with U+FFFD, so that everything downstream is valid UTF-8.
void OutputParser::Impl::decode(Token id) {
  utf8_tail += tokenizer.token_bytes(id);
  const size_t complete = utf8::complete_prefix_length(utf8_tail);
  if (complete == 0) return;
  const std::string_view done(utf8_tail.data(), complete);
  if (utf8::is_valid(done)) {
    pending.append(done);
  } else {
    pending += utf8::sanitize(done);
  }
  utf8_tail.erase(0, complete);
}

void OutputParser::Impl::run(bool at_end) {
  // Every step consumes text or moves to a state that will; the bound is a guard against a bug turning
  // into a hang (each byte can pass through only a few states).
  size_t guard = 8 * pending.size() + 64;
  while (step(at_end)) {
    if (--guard == 0) throw Error("output parser: no progress (bug)", ErrorKind::internal);
  }
}

bool OutputParser::Impl::step(bool at_end) {
  switch (state) {
    case State::text:
    case State::thinking: return step_context(at_end);
    case State::call_open: return step_call_open(at_end);
    case State::function_name:
    case State::param_key: return step_name(at_end);
    case State::function_body: return step_function_body(at_end);
    case State::param_value: return step_param_value(at_end);
    case State::function_json:
    case State::call_json: return step_json(at_end);
    case State::call_close: return step_call_close(at_end);
    case State::raw_call: return step_raw_call(at_end);
  }
  return false;
}

bool OutputParser::Impl::step_context(bool at_end) {
  if (pending.empty()) return false;
  const bool thinking = state == State::thinking;
  const TagMatch m = find_tag(pending, {tag::think_open, tag::think_close, tag::call_open, tag::function_open},
                              at_end);
  blocks.content(thinking ? BlockKind::thinking : BlockKind::text, std::string_view(pending).substr(0, m.pos));
  consume(m.pos);
  if (!m.found()) return false;  // all consumed, or a possible tag prefix waits for more
  consume(m.tag.size());
  // A real <think> or </think> is a block boundary even when thinking output is off, so the text on
  // either side never merges into one block. A nested <think> or a stray </think> is dropped.
  if (m.tag == tag::think_open) {
    if (!thinking) blocks.close();
    state = State::thinking;
  } else if (m.tag == tag::think_close) {
    if (thinking) blocks.close();
    state = State::text;
  } else {
    context = state;
    start_call(m.tag, m.tag == tag::call_open ? State::call_open : State::function_name);
  }
  if (state == State::text || state == State::thinking) context = state;
  return true;
}

void OutputParser::Impl::start_call(std::string_view opening_tag, State next) {
  call_raw.assign(opening_tag);
  name.clear();
  tool = nullptr;
  state = next;
}

// The call so far becomes text; what follows it up to </tool_call> is text too (raw_call).
void OutputParser::Impl::report_raw() {
  blocks.content(BlockKind::text, call_raw);
  call_raw.clear();
  state = State::raw_call;
}

bool OutputParser::Impl::step_call_open(bool at_end) {
  size_t n = 0;
  while (n < pending.size() && is_space(pending[n])) ++n;
  call_raw.append(pending, 0, n);
  consume(n);
  if (pending.empty()) return n > 0;
  const char c = pending[0];
  if (c == '{' || c == '[') {
    json_extent.reset();
    json_text.clear();
    state = State::call_json;
    return true;
  }
  const TagMatch m = match_tag_at_start(pending, {tag::function_open, tag::call_close, tag::call_open}, at_end);
  if (m.partial) return n > 0;
  if (m.tag == tag::function_open) {
    call_raw += m.tag;
    consume(m.tag.size());
    state = State::function_name;
  } else if (m.tag == tag::call_close) {  // an empty call
    call_raw += m.tag;
    consume(m.tag.size());
    report_raw();
    state = context;
  } else if (m.tag == tag::call_open) {  // a second opening: the first was not a call
    report_raw();
    call_raw += m.tag;
    consume(m.tag.size());
    state = State::call_open;
  } else {
    report_raw();  // neither XML nor JSON
  }
  return true;
}

// Reads a function name or a parameter key up to '>'.
bool OutputParser::Impl::step_name(bool at_end) {
  if (pending.empty()) return false;
  const bool is_function = state == State::function_name;
  const size_t stop = pending.find_first_of("<>");
  size_t take = stop == std::string::npos ? pending.size() : stop;
  // The name ends before the character that would take it over the limit, wherever the tokens split.
  bool too_long = false;
  if (const size_t room = kMaxNameBytes - name.size(); take > room) {
    take = room;
    while (take > 0 && (static_cast<unsigned char>(pending[take]) & 0xC0) == 0x80) --take;
    too_long = true;
  }
  name.append(pending, 0, take);
  if (is_function) call_raw.append(pending, 0, take);
  consume(take);
  if (stop == std::string::npos && !too_long) return take > 0;
  if (too_long || pending[0] == '<') {
    // Not a name: an unreadable call is shown as text; a broken parameter is skipped.
    if (is_function) {
      report_raw();
    } else {
      state = State::function_body;
    }
    name.clear();
    return true;
  }
  consume(1);  // '>'
  const std::string trimmed(trim_space(name));
  name.clear();
  if (!is_function) {
    key = trimmed;
    begin_parameter();
    return true;
  }
  call_raw += '>';
  auto it = tools.find(trimmed);
  if (it == tools.end()) {
    report_raw();
  } else {
    tool = it->second;
    start_tool(trimmed);
    state = State::function_body;
  }
  return true;
}

void OutputParser::Impl::start_tool(const std::string& tool_name) {
  call_raw.clear();
  input.begin(tool_name);
}

void OutputParser::Impl::end_tool() {
  input.end();
  ++completed_calls;
  tool = nullptr;
}

JsonTypeSet OutputParser::Impl::types_of(std::string_view param) const {
  if (tool == nullptr) return {};
  const api::Json* schema = property_schema(tool->input_schema, param);
  return schema == nullptr ? JsonTypeSet{} : allowed_types(*schema);
}

bool OutputParser::Impl::step_function_body(bool at_end) {
  size_t n = 0;
  while (n < pending.size() && is_space(pending[n])) ++n;
  consume(n);
  if (pending.empty()) return n > 0;
  if (pending[0] == '{' && !input.has_members()) {
    json_extent.reset();
    json_text.clear();
    state = State::function_json;
    return true;
  }
  const TagMatch m = find_tag(pending,
                              {tag::parameter_open, tag::function_close, tag::call_close, tag::call_open,
                               tag::function_open},
                              at_end);
  // Stray text between parameters carries no value. It is dropped only up to a '{' that may still open
  // a JSON body, so that the outcome never depends on where the tokens split.
  const size_t brace = input.has_members() ? std::string::npos : pending.find('{');
  if (brace < m.pos) {
    consume(brace);
    return true;
  }
  consume(m.pos);
  if (!m.found()) return m.pos > 0 || n > 0;
  consume(m.tag.size());
  if (m.tag == tag::parameter_open) {
    name.clear();
    state = State::param_key;
    return true;
  }
  end_tool();
  if (m.tag == tag::function_close) {
    state = State::call_close;
  } else if (m.tag == tag::call_close) {
    state = context;
  } else {  // the next call began without closing this one
    start_call(m.tag, m.tag == tag::call_open ? State::call_open : State::function_name);
  }
  return true;
}

void OutputParser::Impl::begin_parameter() {
  value.clear();
  value_start = true;
  value_held_newline = false;
  state = State::param_value;
  if (key.empty() || input.has(key)) {
    value_mode = ValueMode::discard;
    return;
  }
  value_types = types_of(key);
  if (value_types.empty() || value_types.only_string()) {
    value_mode = ValueMode::stream_string;
    input.member(key);
    input.value("\"");
  } else {
    value_mode = ValueMode::buffered;
  }
}

// Value text, minus the one "\n" the template writes before </parameter> (held back until it is
// known not to be the last byte).
void OutputParser::Impl::value_content(std::string_view s) {
  if (s.empty()) return;
  std::string text;
  if (value_held_newline) text.push_back('\n');
  text.append(s);
  value_held_newline = text.back() == '\n';
  if (value_held_newline) text.pop_back();
  if (text.empty()) return;
  if (value_mode == ValueMode::stream_string) {
    std::string escaped;
    append_json_escaped(escaped, text);
    input.value(escaped);
  } else if (value_mode == ValueMode::buffered) {
    value += text;
  }
}

void OutputParser::Impl::end_parameter() {
  if (value_mode == ValueMode::stream_string) {
    input.value("\"");
  } else if (value_mode == ValueMode::buffered) {
    input.member(key);
    input.value(dump_json(convert_parameter(value, value_types)));
  }
  value.clear();
  value_mode = ValueMode::discard;
}

bool OutputParser::Impl::step_param_value(bool at_end) {
  if (pending.empty()) return false;
  if (value_start) {  // the template's "\n" after <parameter=KEY>
    value_start = false;
    if (pending[0] == '\n') consume(1);
    return true;
  }
  const TagMatch m = find_tag(pending,
                              {tag::parameter_close, tag::parameter_open, tag::function_close, tag::call_close},
                              at_end);
  value_content(std::string_view(pending).substr(0, m.pos));
  consume(m.pos);
  if (!m.found()) return false;
  consume(m.tag.size());
  end_parameter();
  if (m.tag == tag::parameter_close) {
    state = State::function_body;
  } else if (m.tag == tag::parameter_open) {  // </parameter> was missing
    name.clear();
    state = State::param_key;
  } else {
    end_tool();
    state = m.tag == tag::function_close ? State::call_close : context;
  }
  return true;
}

// JSON text (a Qwen3 call, or the body of <function=NAME>) up to the end of its value. A '<' outside a
// string cannot be JSON, so a tag there ends the value early.
bool OutputParser::Impl::step_json(bool at_end) {
  const bool is_call = state == State::call_json;
  size_t i = 0;
  for (; i < pending.size(); ++i) {
    const char c = pending[i];
    if (c == '<' && !json_extent.in_string()) {
      const TagMatch m = match_tag_at_start(std::string_view(pending).substr(i),
                                            {tag::call_close, tag::call_open, tag::function_close,
                                             tag::parameter_open},
                                            at_end);
      if (m.partial) break;
      json_text.append(pending, 0, i);
      consume(i);
      if (is_call) {
        finish_json_call(/*complete=*/false, /*closed_by_tag=*/m.tag == tag::call_close);
      } else {
        merge_function_json();
        state = State::function_body;
      }
      return true;
    }
    if (json_extent.feed(c) == JsonExtent::Status::complete) {
      json_text.append(pending, 0, i + 1);
      consume(i + 1);
      if (is_call) {
        finish_json_call(/*complete=*/true, /*closed_by_tag=*/false);
      } else {
        merge_function_json();
        state = State::function_body;
      }
      return true;
    }
  }
  json_text.append(pending, 0, i);
  consume(i);
  return i > 0;
}

void OutputParser::Impl::finish_json_call(bool complete, bool closed_by_tag) {
  std::string text = json_text;
  // The model closed the call with </tool_call> but forgot a closing bracket: it considered the call
  // done, so the brackets are completed. A value cut off by the end of generation is not.
  if (!complete && closed_by_tag && !json_extent.in_string()) text += json_extent.missing_closers();
  auto calls = parse_json_tool_calls(text);
  bool all_known = calls.has_value();
  if (calls)
    for (const JsonToolCall& call : *calls) all_known = all_known && tools.count(call.name) != 0;
  if (!all_known) {
    call_raw += json_text;
    json_text.clear();
    report_raw();
    return;
  }
  json_text.clear();
  for (JsonToolCall& call : *calls) {
    tool = tools.at(call.name);
    start_tool(call.name);
    for (auto& [k, v] : call.arguments.items()) {
      if (!input.member(k)) continue;
      input.value(dump_json(coerce_value(v, types_of(k))));
    }
    end_tool();
  }
  state = State::call_close;
}

// Members of a JSON object written as the body of <function=NAME>; unreadable JSON carries no value.
void OutputParser::Impl::merge_function_json() {
  api::Json v = api::Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  json_text.clear();
  if (v.is_discarded() || !v.is_object()) return;
  for (auto& [k, member] : v.items()) {
    if (!input.member(k)) continue;
    input.value(dump_json(coerce_value(member, types_of(k))));
  }
}

bool OutputParser::Impl::step_call_close(bool at_end) {
  size_t n = 0;
  while (n < pending.size() && is_space(pending[n])) ++n;
  consume(n);
  if (pending.empty()) return n > 0;
  const TagMatch m = match_tag_at_start(pending, {tag::call_close, tag::function_open, tag::call_open}, at_end);
  if (m.partial) return n > 0;
  if (m.tag == tag::call_close) {
    consume(m.tag.size());
    state = context;
  } else if (m.tag == tag::function_open) {  // several functions in one <tool_call>
    consume(m.tag.size());
    start_call(m.tag, State::function_name);
  } else {
    state = context;  // </tool_call> is missing; the context handles what follows
  }
  return true;
}

bool OutputParser::Impl::step_raw_call(bool at_end) {
  if (pending.empty()) return false;
  const TagMatch m = find_tag(pending,
                              {tag::call_close, tag::call_open, tag::function_open, tag::think_open,
                               tag::think_close},
                              at_end);
  const size_t take = m.tag == tag::call_close ? m.pos + m.tag.size() : m.pos;
  blocks.content(BlockKind::text, std::string_view(pending).substr(0, take));
  consume(take);
  if (!m.found()) return false;
  state = context;  // after </tool_call>, or leave the other tag to the context
  return true;
}

OutputParser::OutputParser(const Tokenizer& tokenizer, ParserOptions options)
    : impl_(std::make_unique<Impl>(tokenizer, std::move(options))) {}
OutputParser::~OutputParser() = default;

std::vector<ContentEvent> OutputParser::push(Token id) {
  impl_->push(id);
  return std::exchange(impl_->events, {});
}

std::vector<ContentEvent> OutputParser::finish() {
  impl_->finish();
  return std::exchange(impl_->events, {});
}

int OutputParser::tool_calls() const { return impl_->completed_calls; }

}  // namespace hearth::chat
