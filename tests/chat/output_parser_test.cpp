// Output parser behaviour on whole generations: blocks, tool call shapes, typing, recovery. Every case
// runs in several tokenizations (output_parser_test_util.h) and checks the event invariants.
#include <gtest/gtest.h>

#include "output_parser_test_util.h"
#include "output_parser_tools.h"
#include "util/error.h"

namespace hearth::chat::parser_test {
namespace {

ParserOptions claude_code_like_tools() {
  ParserOptions o;
  o.tools.push_back(make_tool("Bash", {{"command", {{"type", "string"}}},
                                       {"timeout", {{"type", "integer"}}},
                                       {"description", {{"type", "string"}}},
                                       {"run_in_background", {{"type", "boolean"}}}}));
  o.tools.push_back(make_tool("Read", {{"file_path", {{"type", "string"}}},
                                       {"offset", {{"type", "number"}}},
                                       {"limit", {{"type", "integer"}}}}));
  o.tools.push_back(make_tool("TodoWrite", {{"todos", {{"type", "array"}, {"items", {{"type", "object"}}}}}}));
  o.tools.push_back(make_tool("Config", {{"settings", {{"type", "object"}}},
                                         {"level", {{"anyOf", {{{"type", "integer"}}, {{"type", "null"}}}}}},
                                         {"mode", {{"type", {"string", "null"}}}},
                                         {"choice", {{"enum", {1, 2, 3}}}}}));
  return o;
}

std::string xml_call(const std::string& name, const std::vector<std::pair<std::string, std::string>>& params) {
  // The template's own layout: <tool_call>\n<function=NAME>\n<parameter=K>\nV\n</parameter>\n...
  std::string s = "<tool_call>\n<function=" + name + ">\n";
  for (const auto& [k, v] : params) s += "<parameter=" + k + ">\n" + v + "\n</parameter>\n";
  return s + "</function>\n</tool_call>";
}

// ---- text and thinking -------------------------------------------------------------------------------

TEST(OutputParser, PlainTextBecomesOneTextBlock) {
  expect_blocks("Hello, world! 2 < 3 and a<b>c", {}, {text_block("Hello, world! 2 < 3 and a<b>c")});
}

TEST(OutputParser, TextIsTrimmedLikeTheTemplateTrimsContent) {
  expect_blocks("\n\n  Hello\n\nworld  \n", {}, {text_block("Hello\n\nworld")});
}

TEST(OutputParser, WhitespaceOnlyOutputEmitsNoBlock) { expect_blocks(" \n\n\t ", {}, {}); }

TEST(OutputParser, ThinkBlockBecomesThinkingWithTemplateNewlinesStripped) {
  expect_blocks("<think>\nStep one.\nStep two.\n</think>\n\nThe answer is 4.", {},
                {thinking_block("Step one.\nStep two."), text_block("The answer is 4.")});
}

TEST(OutputParser, StartsInThinkingWhenThePromptOpenedTheThinkBlock) {
  ParserOptions o;
  o.starts_in_thinking = true;
  expect_blocks("Let me think.\n</think>\n\nDone.", o, {thinking_block("Let me think."), text_block("Done.")});
}

TEST(OutputParser, ThinkingIsDroppedEntirelyWhenThinkingOutputIsOff) {
  ParserOptions o;
  o.emit_thinking = false;
  expect_blocks("<think>\nsecret plan\n</think>\n\nVisible.", o, {text_block("Visible.")});
  o.starts_in_thinking = true;
  expect_blocks("secret plan\n</think>\n\nVisible.", o, {text_block("Visible.")});
}

TEST(OutputParser, EmptyThinkingBlockIsNotEmitted) {
  expect_blocks("<think>\n\n</think>\n\nHi", {}, {text_block("Hi")});
  ParserOptions o;
  o.starts_in_thinking = true;
  expect_blocks("\n</think>\n\nHi", o, {text_block("Hi")});
}

TEST(OutputParser, StrayCloseThinkAndNestedThinkTagsAreDropped) {
  expect_blocks("a</think>b", {}, {text_block("ab")});
  expect_blocks("<think>x<think>y</think>z", {}, {thinking_block("xy"), text_block("z")});
}

TEST(OutputParser, UnclosedThinkingIsClosedAtFinish) {
  expect_blocks("<think>\nstill thinking", {}, {thinking_block("still thinking")});
}

TEST(OutputParser, TextAroundAThinkBlockSplitsIntoSeparateBlocks) {
  expect_blocks("Intro <think>why</think> outro", {},
                {text_block("Intro"), thinking_block("why"), text_block("outro")});
}

// ---- XML tool calls -----------------------------------------------------------------------------------

TEST(OutputParser, XmlToolCallBecomesToolUseWithStringParameters) {
  expect_blocks(xml_call("Bash", {{"command", "ls -la"}, {"description", "List files"}}),
                claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"ls -la","description":"List files"})")});
}

TEST(OutputParser, TemplateNewlinesAroundAValueAreStrippedExactlyOnce) {
  // The template writes "<parameter=K>\n" + V + "\n</parameter>"; further newlines belong to V.
  expect_blocks(xml_call("Bash", {{"command", "\necho a\n\necho b\n"}}), claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"\necho a\n\necho b\n"})")});
  expect_blocks("<tool_call><function=Bash><parameter=command>pwd</parameter></function></tool_call>",
                claude_code_like_tools(), {tool_block("Bash", R"({"command":"pwd"})")});
}

TEST(OutputParser, StringValuesAreEscapedAsJson) {
  expect_blocks(xml_call("Bash", {{"command", "printf \"a\\tb\"\t\x01 é 😀"}}), claude_code_like_tools(),
                {tool_block("Bash", "{\"command\":\"printf \\\"a\\\\tb\\\"\\t\\u0001 é 😀\"}")});
}

TEST(OutputParser, ParameterValuesTakeTheTypeTheSchemaDeclares) {
  expect_blocks(xml_call("Bash", {{"command", "sleep 1"}, {"timeout", "120"}, {"run_in_background", "true"}}),
                claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"sleep 1","timeout":120,"run_in_background":true})")});
  expect_blocks(xml_call("Read", {{"file_path", "/a.txt"}, {"offset", "1.5"}, {"limit", "10.0"}}),
                claude_code_like_tools(), {tool_block("Read", R"({"file_path":"/a.txt","offset":1.5,"limit":10})")});
  expect_blocks(xml_call("TodoWrite", {{"todos", "[{\"content\": \"x\", \"status\": \"pending\"}]"}}),
                claude_code_like_tools(),
                {tool_block("TodoWrite", R"({"todos":[{"content":"x","status":"pending"}]})")});
}

TEST(OutputParser, PythonSpellingsOfBooleansAndNullAreAccepted) {
  expect_blocks(xml_call("Bash", {{"command", "x"}, {"run_in_background", "False"}}), claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"x","run_in_background":false})")});
  expect_blocks(xml_call("Config", {{"level", "None"}, {"settings", "{'debug': True, 'name': 'a'}"}}),
                claude_code_like_tools(), {tool_block("Config", R"({"level":null,"settings":{"debug":true,"name":"a"}})")});
}

TEST(OutputParser, AnyOfAndTypeArraysAndEnumsDecideTheType) {
  expect_blocks(xml_call("Config", {{"level", "5"}, {"mode", "fast"}, {"choice", "2"}}), claude_code_like_tools(),
                {tool_block("Config", R"({"level":5,"mode":"fast","choice":2})")});
  expect_blocks(xml_call("Config", {{"mode", "null"}}), claude_code_like_tools(),
                {tool_block("Config", R"({"mode":null})")});
}

TEST(OutputParser, ValueThatFailsToConvertStaysAString) {
  expect_blocks(xml_call("Bash", {{"command", "x"}, {"timeout", "soon"}, {"run_in_background", "maybe"}}),
                claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"x","timeout":"soon","run_in_background":"maybe"})")});
  expect_blocks(xml_call("Config", {{"settings", "{broken"}, {"level", "2.5"}}), claude_code_like_tools(),
                {tool_block("Config", R"({"settings":"{broken","level":"2.5"})")});
}

TEST(OutputParser, UndeclaredParameterIsAString) {
  expect_blocks(xml_call("Bash", {{"command", "x"}, {"extra", "42"}}), claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"x","extra":"42"})")});
}

TEST(OutputParser, RepeatedParameterKeepsItsFirstValue) {
  expect_blocks(xml_call("Bash", {{"command", "first"}, {"command", "second"}}), claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"first"})")});
}

TEST(OutputParser, ParameterKeysAreEscapedAsJson) {
  expect_blocks(xml_call("Bash", {{"we\"ird", "v"}}), claude_code_like_tools(),
                {tool_block("Bash", R"({"we\"ird":"v"})")});
}

TEST(OutputParser, CallWithoutParametersHasEmptyInputObject) {
  expect_blocks("<tool_call>\n<function=Bash>\n</function>\n</tool_call>", claude_code_like_tools(),
                {tool_block("Bash", "{}")});
}

TEST(OutputParser, TextBeforeACallIsItsOwnBlockWithoutTheFormattingNewlines) {
  expect_blocks("Let me look.\n\n" + xml_call("Bash", {{"command", "ls"}}), claude_code_like_tools(),
                {text_block("Let me look."), tool_block("Bash", R"({"command":"ls"})")});
}

TEST(OutputParser, SeveralCallsInOneTurnBecomeSeveralToolUseBlocks) {
  expect_blocks(xml_call("Bash", {{"command", "ls"}}) + "\n" + xml_call("Read", {{"file_path", "/x"}}) + "\n" +
                    xml_call("Bash", {{"command", "pwd"}}),
                claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"ls"})"), tool_block("Read", R"({"file_path":"/x"})"),
                 tool_block("Bash", R"({"command":"pwd"})")});
}

TEST(OutputParser, SeveralFunctionsInsideOneToolCallTagAreSeveralCalls) {
  expect_blocks("<tool_call>\n<function=Bash>\n<parameter=command>\nls\n</parameter>\n</function>\n"
                "<function=Bash>\n<parameter=command>\npwd\n</parameter>\n</function>\n</tool_call>",
                claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"ls"})"), tool_block("Bash", R"({"command":"pwd"})")});
}

TEST(OutputParser, TextAfterTheLastCallStaysText) {
  expect_blocks(xml_call("Bash", {{"command", "ls"}}) + "\n\nI ran ls.", claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"ls"})"), text_block("I ran ls.")});
}

TEST(OutputParser, BareFunctionTagWithoutToolCallIsACall) {
  expect_blocks("Running:\n<function=Bash>\n<parameter=command>\nls\n</parameter>\n</function>",
                claude_code_like_tools(), {text_block("Running:"), tool_block("Bash", R"({"command":"ls"})")});
}

TEST(OutputParser, JsonObjectAsTheBodyOfAFunctionTagIsItsInput) {
  expect_blocks("<tool_call>\n<function=Bash>\n{\"command\": \"ls\", \"timeout\": \"30\"}\n</function>\n</tool_call>",
                claude_code_like_tools(), {tool_block("Bash", R"({"command":"ls","timeout":30})")});
}

// ---- missing closing tags -----------------------------------------------------------------------------

TEST(OutputParser, MissingClosingTagsAreCompletedAtFinish) {
  expect_blocks("<tool_call>\n<function=Bash>\n<parameter=command>\nls -la\n", claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"ls -la"})")});
  expect_blocks("<tool_call>\n<function=Bash>\n<parameter=timeout>\n12", claude_code_like_tools(),
                {tool_block("Bash", R"({"timeout":12})")});
  expect_blocks("<tool_call>\n<function=Bash>\n<parameter=command>\nls\n</parameter>\n", claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"ls"})")});
  expect_blocks("<tool_call>\n<function=Bash>\n<parameter=comm", claude_code_like_tools(), {tool_block("Bash", "{}")});
}

TEST(OutputParser, MissingParameterCloseEndsTheValueAtTheNextTag) {
  expect_blocks("<tool_call>\n<function=Bash>\n<parameter=command>\nls\n<parameter=timeout>\n5\n</function>\n</tool_call>",
                claude_code_like_tools(), {tool_block("Bash", R"({"command":"ls","timeout":5})")});
  expect_blocks("<tool_call>\n<function=Bash>\n<parameter=command>\nls\n</tool_call>", claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"ls"})")});
}

TEST(OutputParser, MissingToolCallCloseBeforeTheNextCallStillGivesBothCalls) {
  expect_blocks("<tool_call>\n<function=Bash>\n<parameter=command>\nls\n</parameter>\n</function>\n" +
                    xml_call("Bash", {{"command", "pwd"}}),
                claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"ls"})"), tool_block("Bash", R"({"command":"pwd"})")});
}

TEST(OutputParser, ToolCallTagCutOffBeforeAnyContentIsReportedAsText) {
  expect_blocks("Trying <tool_call>\n<function=Ba", claude_code_like_tools(),
                {text_block("Trying <tool_call>\n<function=Ba")});
}

TEST(OutputParser, OverlongFunctionNameIsNotANameAndTheCallIsText) {
  const std::string call = "<tool_call>\n<function=" + std::string(300, 'x') + ">\n</function>\n</tool_call>";
  expect_blocks(call, claude_code_like_tools(), {text_block(call)});
}

TEST(OutputParser, OverlongParameterKeyIsSkippedAndTheCallGoesOn) {
  expect_blocks("<tool_call>\n<function=Bash>\n<parameter=" + std::string(300, 'k') +
                    ">\nv\n</parameter>\n<parameter=command>\nls\n</parameter>\n</function>\n</tool_call>",
                claude_code_like_tools(), {tool_block("Bash", R"({"command":"ls"})")});
}

// ---- JSON tool calls ------------------------------------------------------------------------------------

TEST(OutputParser, Qwen3JsonToolCallBecomesToolUse) {
  expect_blocks("<tool_call>\n{\"name\": \"Bash\", \"arguments\": {\"command\": \"ls\", \"timeout\": 60}}\n</tool_call>",
                claude_code_like_tools(), {tool_block("Bash", R"({"command":"ls","timeout":60})")});
}

TEST(OutputParser, JsonCallArgumentsAreCoercedToSchemaTypes) {
  expect_blocks("<tool_call>\n{\"name\": \"Bash\", \"arguments\": {\"timeout\": \"60\", \"command\": 7}}\n</tool_call>",
                claude_code_like_tools(), {tool_block("Bash", R"({"timeout":60,"command":"7"})")});
}

TEST(OutputParser, JsonCallArgumentsGivenAsAStringAreParsed) {
  expect_blocks(R"(<tool_call>{"name": "Read", "arguments": "{\"file_path\": \"/a\"}"}</tool_call>)",
                claude_code_like_tools(), {tool_block("Read", R"({"file_path":"/a"})")});
}

TEST(OutputParser, JsonAndXmlCallsAreBothAcceptedInOneTurn) {
  expect_blocks("<tool_call>\n{\"name\": \"Read\", \"arguments\": {\"file_path\": \"/a\"}}\n</tool_call>\n" +
                    xml_call("Bash", {{"command", "ls"}}),
                claude_code_like_tools(),
                {tool_block("Read", R"({"file_path":"/a"})"), tool_block("Bash", R"({"command":"ls"})")});
}

TEST(OutputParser, JsonCallWithoutClosingTagIsCompletedAtFinish) {
  expect_blocks("<tool_call>\n{\"name\": \"Bash\", \"arguments\": {\"command\": \"ls\"}}\n", claude_code_like_tools(),
                {tool_block("Bash", R"({"command":"ls"})")});
}

TEST(OutputParser, JsonCallCutOffMidValueIsReportedAsText) {
  expect_blocks("<tool_call>\n{\"name\": \"Bash\", \"arguments\": {\"command\": \"rm -r", claude_code_like_tools(),
                {text_block("<tool_call>\n{\"name\": \"Bash\", \"arguments\": {\"command\": \"rm -r")});
}

TEST(OutputParser, JsonCallClosedByTagWithAMissingBracketIsCompleted) {
  expect_blocks("<tool_call>\n{\"name\": \"Bash\", \"arguments\": {\"command\": \"ls\"}\n</tool_call>",
                claude_code_like_tools(), {tool_block("Bash", R"({"command":"ls"})")});
}

TEST(OutputParser, JsonStringContainingTagsDoesNotEndTheCall) {
  expect_blocks(R"(<tool_call>{"name": "Bash", "arguments": {"command": "echo '</tool_call>' {"}}</tool_call>)",
                claude_code_like_tools(), {tool_block("Bash", R"({"command":"echo '</tool_call>' {"})")});
}

// ---- unknown tools and unreadable calls ----------------------------------------------------------------

TEST(OutputParser, UnknownToolNameIsReportedVerbatimAsText) {
  const std::string call = xml_call("Nope", {{"x", "1"}});
  expect_blocks("Calling.\n" + call, claude_code_like_tools(), {text_block("Calling.\n" + call)});
  const std::string json = "<tool_call>\n{\"name\": \"Nope\", \"arguments\": {}}\n</tool_call>";
  expect_blocks(json, claude_code_like_tools(), {text_block(json)});
}

TEST(OutputParser, WithoutToolsEveryCallIsText) {
  const std::string call = xml_call("Bash", {{"command", "ls"}});
  expect_blocks(call, {}, {text_block(call)});
}

TEST(OutputParser, UnreadableCallIsReportedVerbatimAsText) {
  expect_blocks("<tool_call>\nBash ls\n</tool_call>\nok", claude_code_like_tools(),
                {text_block("<tool_call>\nBash ls\n</tool_call>\nok")});
  expect_blocks("<tool_call>\n{not json}\n</tool_call>", claude_code_like_tools(),
                {text_block("<tool_call>\n{not json}\n</tool_call>")});
}

TEST(OutputParser, KnownCallAfterAnUnknownOneIsStillACall) {
  const std::string unknown = xml_call("Nope", {{"x", "1"}});
  expect_blocks(unknown + "\n" + xml_call("Bash", {{"command", "ls"}}), claude_code_like_tools(),
                {text_block(unknown), tool_block("Bash", R"({"command":"ls"})")});
}

// ---- calls inside <think> ----------------------------------------------------------------------------

TEST(OutputParser, CallInsideThinkClosesTheThinkingBlockFirst) {
  expect_blocks("<think>\nI should list files.\n" + xml_call("Bash", {{"command", "ls"}}), claude_code_like_tools(),
                {thinking_block("I should list files."), tool_block("Bash", R"({"command":"ls"})")});
}

TEST(OutputParser, ThinkingResumesAfterACallInsideThink) {
  ParserOptions o = claude_code_like_tools();
  o.starts_in_thinking = true;
  expect_blocks("Plan.\n" + xml_call("Bash", {{"command", "ls"}}) + "\nMore.\n</think>\n\nDone.", o,
                {thinking_block("Plan."), tool_block("Bash", R"({"command":"ls"})"), thinking_block("More."),
                 text_block("Done.")});
  o.emit_thinking = false;
  expect_blocks("Plan.\n" + xml_call("Bash", {{"command", "ls"}}) + "\nMore.\n</think>\n\nDone.", o,
                {tool_block("Bash", R"({"command":"ls"})"), text_block("Done.")});
}

TEST(OutputParser, JsonCallInsideThinkIsACall) {
  expect_blocks("<think>\nhm\n<tool_call>\n{\"name\": \"Read\", \"arguments\": {\"file_path\": \"/a\"}}\n</tool_call>",
                claude_code_like_tools(), {thinking_block("hm"), tool_block("Read", R"({"file_path":"/a"})")});
}

TEST(OutputParser, UnknownCallInsideThinkIsReportedAsText) {
  ParserOptions o = claude_code_like_tools();
  o.emit_thinking = false;
  const std::string call = xml_call("Nope", {{"x", "1"}});
  expect_blocks("<think>\nhm\n" + call + "\n</think>\n\nok", o, {text_block(call), text_block("ok")});
}

// ---- token level: special tokens, UTF-8, errors --------------------------------------------------------

TEST(OutputParser, EndOfTurnTokensAreIgnored) {
  FakeTokenizer tok;
  std::vector<Token> ids = tok.encode("Hi");
  ids.push_back(*tok.token_id("<|im_end|>"));
  ids.push_back(*tok.token_id("<|endoftext|>"));
  const ParseRun run = run_ids(tok, ids, {});
  EXPECT_EQ(run.violation, "");
  EXPECT_EQ(run.blocks, std::vector<Block>{text_block("Hi")});
}

TEST(OutputParser, SpecialTagTokensAndSpelledOutTagsParseTheSame) {
  FakeTokenizer tok;
  const Token think = *tok.token_id("<think>");
  const Token end_think = *tok.token_id("</think>");
  ASSERT_TRUE(tok.is_special(think));
  std::vector<Token> special = {think, tok.intern("why"), end_think, tok.intern("ok")};
  std::vector<Token> spelled = {tok.intern("<th"), tok.intern("ink>why</"), tok.intern("think"), tok.intern(">ok")};
  const std::vector<Block> expected = {thinking_block("why"), text_block("ok")};
  EXPECT_EQ(run_ids(tok, special, {}).blocks, expected);
  EXPECT_EQ(run_ids(tok, spelled, {}).blocks, expected);
}

TEST(OutputParser, MultiByteCharactersSplitAcrossTokensAreNeverSplitInEvents) {
  FakeTokenizer tok;
  // 😀 = F0 9F 98 80 and 中 = E4 B8 AD, each fed as two tokens.
  std::vector<Token> ids = {tok.intern("a"), tok.intern("\xF0\x9F"), tok.intern("\x98\x80"), tok.intern("\xE4\xB8"),
                            tok.intern("\xAD")};
  const ParseRun run = run_ids(tok, ids, {});
  EXPECT_EQ(run.violation, "");  // checks every event is valid UTF-8
  EXPECT_EQ(run.blocks, std::vector<Block>{text_block("a😀中")});
  EXPECT_TRUE(run.per_push[1].empty()) << "half an emoji must be held back";
}

TEST(OutputParser, InvalidBytesBecomeReplacementCharacters) {
  expect_blocks("a\xFF" "b\xE4", {}, {text_block("a\xEF\xBF\xBD" "b\xEF\xBF\xBD")});
}

TEST(OutputParser, TokenOutsideTheVocabularyIsAHearthError) {
  FakeTokenizer tok;
  OutputParser parser(tok, {});
  EXPECT_THROW(parser.push(static_cast<Token>(tok.vocab_size())), hearth::Error);
  EXPECT_THROW(parser.push(-1), hearth::Error);
}

TEST(OutputParser, PushAfterFinishIsAHearthError) {
  FakeTokenizer tok;
  OutputParser parser(tok, {});
  parser.finish();
  EXPECT_THROW(parser.push(tok.intern("x")), hearth::Error);
}

}  // namespace
}  // namespace hearth::chat::parser_test
