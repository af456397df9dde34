"""Anthropic requests for the renderer's golden files (make_goldens.py renders each with every template).

Each case: name -> {"request": ..., optional "variants": [options, ...]}. Options default to
{"enable_thinking": True, "add_generation_prompt": True}; make_goldens.py adds preserve_thinking for
the Qwen3.6 goldens.
"""

THINKING_VARIANTS = [
    {"enable_thinking": True},
    {"enable_thinking": False},
    {"enable_thinking": True, "add_generation_prompt": False},
]

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "units": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
}

BASH_TOOL = {
    "name": "Bash",
    "description": "Run a shell command.\nReturns stdout and stderr.",
    "input_schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "command": {"type": "string"},
            "timeout": {"type": "number", "maximum": 600000.0, "minimum": 0},
            "run_in_background": {"type": "boolean", "default": False},
        },
        "required": ["command"],
        "additionalProperties": False,
    },
}

# No description, nested schema with arrays of objects, non-alphabetical keys, a float default.
EDIT_TOOL = {
    "name": "MultiEdit",
    "input_schema": {
        "type": "object",
        "properties": {
            "file_path": {"type": "string"},
            "edits": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"old": {"type": "string"}, "new": {"type": "string"},
                                   "ratio": {"type": "number", "default": 0.5}},
                    "required": ["old", "new"],
                },
                "minItems": 1,
            },
            "options": {"type": ["object", "null"], "properties": {"dry_run": {"type": "boolean"}}},
        },
        "required": ["file_path", "edits"],
    },
}

# Characters json.dumps must treat exactly as Python does: quotes, backslash, control characters,
# HTML-significant characters (Jinja's own tojson would escape them; transformers' does not), non-ASCII.
ODD_TOOL = {
    "name": "odd_tool",
    "description": "Quotes \" and \\ backslash, tab\there, bell \u0007, <b>bold</b> & 'single', "
                   "naïve café, 日本語, emoji 🚀, DEL \u007f, NBSP\u00a0end.",
    "input_schema": {
        "type": "object",
        "properties": {"ключ": {"type": "string", "description": "Cyrillic key"},
                       "n": {"type": "integer", "examples": [1, -2, 3.25, 1e-07, 1e+16, 12345678901234567890]}},
    },
}

SYSTEM_BLOCKS = [
    {"type": "text", "text": "You are a coding agent."},
    {"type": "text", "text": "\nFollow the user's instructions.", "cache_control": {"type": "ephemeral"}},
]
BILLING = {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332.ea8; cc_entrypoint=sdk-cli;"}
BILLING_OTHER = {"type": "text",
                 "text": "x-anthropic-billing-header: cc_version=2.1.332.f01; cc_entrypoint=sdk-cli; cch=1a2b3;"}


def user(content):
    return {"role": "user", "content": content}


def assistant(content):
    return {"role": "assistant", "content": content}


def text(t, **extra):
    return {"type": "text", "text": t, **extra}


def thinking(t):
    return {"type": "thinking", "thinking": t, "signature": "c2lnbmF0dXJl"}


def tool_use(id_, name, input_):
    return {"type": "tool_use", "id": id_, "name": name, "input": input_}


def tool_result(id_, content, **extra):
    return {"type": "tool_result", "tool_use_id": id_, "content": content, **extra}


def image(media="image/png"):
    return {"type": "image", "source": {"type": "base64", "media_type": media, "data": "iVBORw0KGgo="}}


ARGS_EVERY_TYPE = {
    "string": "plain",
    "multiline": "line one\nline two\n",
    "empty_string": "",
    "integer": 42,
    "negative": -7,
    "zero": 0,
    "big_unsigned": 12345678901234567890,
    "min_int64": -9223372036854775808,
    "float": 1.5,
    "float_integral": 100.0,
    "float_small": 1e-07,
    "float_tiny_fixed": 0.0001,
    "float_1e-5": 1e-05,
    "float_large": 1e16,
    "float_1e15": 1e15,
    "float_sum": 0.30000000000000004,
    "negative_zero": -0.0,
    "max_double": 1.7976931348623157e308,
    "min_subnormal": 5e-324,
    "true": True,
    "false": False,
    "null": None,
    "object": {"b": 1, "a": [1, 2, {"c": None}], "unicode": "ü ✓", "quote": "say \"hi\""},
    "array": [1, "two", 3.0, False, None, {"k": "v"}, []],
    "empty_object": {},
    "empty_array": [],
    "unicode": "日本語 🚀 émoji",
    "spaces_around": "  padded  ",
}

CASES = {
    # ---- system prompt ------------------------------------------------------------------------------
    "user_only": {"request": {"messages": [user("Hello!")]}, "variants": THINKING_VARIANTS},
    "system_string": {"request": {"system": "You are helpful.", "messages": [user("Hi")]},
                      "variants": THINKING_VARIANTS},
    "system_blocks": {"request": {"system": SYSTEM_BLOCKS, "messages": [user("Hi")]}},
    "system_billing_header": {"request": {"system": [BILLING] + SYSTEM_BLOCKS, "messages": [user("Hi")]}},
    "system_billing_header_other_value": {
        "request": {"system": [BILLING_OTHER] + SYSTEM_BLOCKS, "messages": [user("Hi")]}},
    "system_billing_header_with_tools": {
        "request": {"system": [BILLING] + SYSTEM_BLOCKS, "tools": [BASH_TOOL], "messages": [user("Hi")]}},
    "system_only_billing_header": {"request": {"system": [BILLING], "messages": [user("Hi")]}},
    "system_empty_string": {"request": {"system": "", "messages": [user("Hi")]}},
    "system_whitespace_only": {"request": {"system": "  \n ", "tools": [WEATHER_TOOL], "messages": [user("Hi")]}},
    "system_with_surrounding_whitespace": {
        "request": {"system": "\n  Be brief.  \n", "messages": [user("Hi")]}},
    "system_with_surrounding_whitespace_and_tools": {
        "request": {"system": "\n  Be brief.  \n", "tools": [WEATHER_TOOL], "messages": [user("Hi")]}},
    "system_message_first_in_messages": {
        "request": {"messages": [{"role": "system", "content": "From messages."}, user("Hi")]}},
    # ---- tools --------------------------------------------------------------------------------------
    "tools_no_system": {"request": {"tools": [WEATHER_TOOL, BASH_TOOL], "messages": [user("Weather in Oslo?")]},
                        "variants": THINKING_VARIANTS},
    "tools_with_system": {"request": {"system": "You are helpful.", "tools": [WEATHER_TOOL],
                                      "messages": [user("Weather?")]}},
    "tools_nested_schema_no_description": {
        "request": {"tools": [EDIT_TOOL], "messages": [user("Edit it")]}},
    "tools_odd_characters": {"request": {"tools": [ODD_TOOL], "messages": [user("Go")]}},
    "tools_deferred_and_cache_control": {
        "request": {"tools": [dict(WEATHER_TOOL, cache_control={"type": "ephemeral"}),
                              dict(BASH_TOOL, defer_loading=True)],
                    "messages": [user("Hi")]}},
    # ---- multi-turn text and thinking -------------------------------------------------------------
    "multi_turn_text": {
        "request": {"system": "Be brief.",
                    "messages": [user("Hi"), assistant("Hello! How can I help?"), user("Tell me a joke.")]},
        "variants": THINKING_VARIANTS},
    "multi_turn_thinking": {
        "request": {"messages": [
            user("What is 2+2?"),
            assistant([thinking("Simple arithmetic."), text("4")]),
            user("And 3+3?"),
            assistant([thinking("Again simple.\n\n"), text("6")]),
            user("Thanks"),
        ]},
        "variants": THINKING_VARIANTS},
    "thinking_multiple_blocks_joined": {
        "request": {"messages": [user("Q"), assistant([thinking("First part. "), thinking("Second part."),
                                                        text("A")]), user("Q2")]}},
    "thinking_with_surrounding_newlines": {
        "request": {"messages": [user("Q"), assistant([thinking("\n\n  indented thought\n\n"), text("\n\nA\n")])]}},
    "redacted_thinking_dropped": {
        "request": {"messages": [user("Q"),
                                 assistant([{"type": "redacted_thinking", "data": "EncryptedBlob=="},
                                            thinking("Visible."), text("A")]),
                                 user("Next")]}},
    "final_assistant_message": {
        "request": {"messages": [user("Q"), assistant([thinking("Hmm."), text("Partial answer")])]},
        "variants": THINKING_VARIANTS},
    "final_assistant_message_without_thinking": {
        "request": {"messages": [user("Q"), assistant("Partial answer")]}},
    "literal_think_tags_in_text": {
        "request": {"messages": [user("Explain the tags"),
                                 assistant("The model writes <think>reasoning</think> then the answer."),
                                 user("More")]}},
    "assistant_empty_content": {"request": {"messages": [user("Q"), assistant([]), user("Again")]}},
    # ---- tool calls and results -------------------------------------------------------------------
    "tool_loop_last_message_tool_result": {
        "request": {"tools": [WEATHER_TOOL], "messages": [
            user("Weather in Oslo?"),
            assistant([thinking("Call the tool."), text("Let me check."),
                       tool_use("toolu_1", "get_weather", {"city": "Oslo"})]),
            user([tool_result("toolu_1", "Sunny, 21°C")]),
        ]},
        "variants": THINKING_VARIANTS},
    "tool_loop_multi_step": {
        "request": {"system": "You are an agent.", "tools": [BASH_TOOL, WEATHER_TOOL], "messages": [
            user("List files then check weather."),
            assistant([thinking("Start with ls."), tool_use("toolu_1", "Bash", {"command": "ls"})]),
            user([tool_result("toolu_1", "a.txt\nb.txt")]),
            assistant([thinking("Now the weather."), tool_use("toolu_2", "get_weather", {"city": "Paris"})]),
            user([tool_result("toolu_2", [text("Rain")])]),
            assistant([thinking("Summarise."), text("Files: a.txt, b.txt. Paris: rain.")]),
            user("Thanks! Now delete b.txt."),
            assistant([thinking("Delete it."), tool_use("toolu_3", "Bash", {"command": "rm b.txt"})]),
            user([tool_result("toolu_3", "")]),
        ]},
        "variants": THINKING_VARIANTS},
    "parallel_tool_calls": {
        "request": {"tools": [WEATHER_TOOL], "messages": [
            user("Weather in three cities"),
            assistant([text("Checking all three."),
                       tool_use("t1", "get_weather", {"city": "Oslo"}),
                       tool_use("t2", "get_weather", {"city": "Rome", "units": "celsius"}),
                       tool_use("t3", "get_weather", {"city": "Lima"})]),
            user([tool_result("t1", "cold"), tool_result("t2", "warm"), tool_result("t3", "mild")]),
        ]}},
    "tool_call_without_text": {
        "request": {"tools": [WEATHER_TOOL], "messages": [
            user("Oslo?"), assistant([tool_use("t1", "get_weather", {"city": "Oslo"})]),
            user([tool_result("t1", "cold")]), assistant("It is cold."), user("Ok")]}},
    "tool_call_text_after_call_moves_before": {
        "request": {"tools": [WEATHER_TOOL], "messages": [
            user("Oslo?"),
            assistant([tool_use("t1", "get_weather", {"city": "Oslo"}), text("Waiting for the result.")]),
            user([tool_result("t1", "cold")])]}},
    "tool_call_arguments_every_type": {
        "request": {"tools": [ODD_TOOL], "messages": [
            user("Call it"), assistant([tool_use("t1", "odd_tool", ARGS_EVERY_TYPE)]),
            user([tool_result("t1", "ok")])]}},
    "tool_call_empty_arguments": {
        "request": {"tools": [WEATHER_TOOL], "messages": [
            user("Go"), assistant([text("Calling."), tool_use("t1", "get_weather", {})]),
            user([tool_result("t1", "?")])]}},
    "tool_result_blocks_and_image": {
        "request": {"tools": [WEATHER_TOOL], "messages": [
            user("Look"), assistant([tool_use("t1", "get_weather", {"city": "X"})]),
            user([tool_result("t1", [text("Here is the chart:"), image("image/jpeg"), text("Done.")])])]}},
    "tool_result_error": {
        "request": {"tools": [BASH_TOOL], "messages": [
            user("Run it"), assistant([tool_use("t1", "Bash", {"command": "false"})]),
            user([tool_result("t1", "<tool_use_error>exit code 1</tool_use_error>", is_error=True)])]}},
    "tool_result_error_empty_and_false": {
        "request": {"tools": [BASH_TOOL], "messages": [
            user("Run both"),
            assistant([tool_use("t1", "Bash", {"command": "a"}), tool_use("t2", "Bash", {"command": "b"})]),
            user([tool_result("t1", [], is_error=True), tool_result("t2", "fine", is_error=False)])]}},
    "tool_result_empty_content": {
        "request": {"tools": [BASH_TOOL], "messages": [
            user("Run"),
            assistant([tool_use("t1", "Bash", {"command": "a"}), tool_use("t2", "Bash", {"command": "b"}),
                       tool_use("t3", "Bash", {"command": "c"})]),
            user([tool_result("t1", ""), tool_result("t2", []),
                  {"type": "tool_result", "tool_use_id": "t3"}])]}},
    "tool_result_with_user_text": {
        "request": {"tools": [BASH_TOOL], "messages": [
            user("Run"), assistant([thinking("Run ls."), tool_use("t1", "Bash", {"command": "ls"})]),
            user([tool_result("t1", "a.txt"), text("<system-reminder>Be careful.</system-reminder>")])]}},
    "consecutive_tool_result_messages": {
        "request": {"tools": [BASH_TOOL], "messages": [
            user("Run"),
            assistant([tool_use("t1", "Bash", {"command": "a"}), tool_use("t2", "Bash", {"command": "b"})]),
            user([tool_result("t1", "A")]), user([tool_result("t2", "B")])]}},
    "tool_results_only_no_user_query": {
        "request": {"tools": [BASH_TOOL], "messages": [user([tool_result("t0", "orphan result")])]}},
    "tool_results_only_with_system": {
        "request": {"system": "Sys", "messages": [user([tool_result("t0", "orphan result")])]}},
    "user_text_looks_like_tool_response": {
        "request": {"messages": [user("Real question"), assistant([thinking("R1"), text("A1")]),
                                 user("<tool_response>\nfake\n</tool_response>")]}},
    # ---- in-place system messages -----------------------------------------------------------------
    "in_place_system_message": {
        "request": {"system": "Main system.", "messages": [
            user("Hi"), {"role": "system", "content": "# Environment\nPlatform: linux"},
            assistant("Hello"), user("Bye")]},
        "variants": THINKING_VARIANTS},
    "in_place_system_message_blocks_with_tools": {
        "request": {"system": [BILLING] + SYSTEM_BLOCKS, "tools": [BASH_TOOL], "messages": [
            user([text("<system-reminder>\nContext.\n</system-reminder>\n"), text("Do it")]),
            {"role": "system", "content": [text("  Reminder: be careful.  ", cache_control={"type": "ephemeral"})]},
            assistant([thinking("ok"), tool_use("t1", "Bash", {"command": "ls"})]),
            user([tool_result("t1", "x")]),
            {"role": "system", "content": "Between tool turns."},
        ]}},
    "in_place_system_between_tool_results": {
        "request": {"tools": [BASH_TOOL], "messages": [
            user("Run"),
            assistant([tool_use("t1", "Bash", {"command": "a"}), tool_use("t2", "Bash", {"command": "b"})]),
            user([tool_result("t1", "A")]), {"role": "system", "content": "note"},
            user([tool_result("t2", "B")])]}},
    # ---- content shapes ---------------------------------------------------------------------------
    "string_content": {"request": {"messages": [user("Same text"), assistant("Reply"), user("Next")]}},
    "block_content_same_text": {
        "request": {"messages": [user([text("Same text", cache_control={"type": "ephemeral"})]),
                                 assistant([text("Reply")]), user([text("Next")])]}},
    "split_blocks_same_text": {
        "request": {"messages": [user([text("Same "), text("text")]), assistant([text("Re"), text("ply")]),
                                 user([text("Ne"), text("xt")])]}},
    "empty_user_content": {"request": {"messages": [user(""), assistant("?"), user([])]}},
    "images_and_documents": {
        "request": {"messages": [user([
            text("What is in these?\n"), image("image/png"), text("\nand\n"),
            {"type": "image", "source": {"type": "url", "url": "https://example.com/a.gif"}},
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"}},
        ])]}},
    "consecutive_user_messages": {"request": {"messages": [user("First"), user("Second")]}},
    "consecutive_assistant_messages": {
        "request": {"messages": [user("Q"), assistant([thinking("t1"), text("Part one.")]),
                                 assistant([thinking("t2"), text("Part two.")]), user("Q2")]}},
    "unicode_everywhere": {
        "request": {"system": "Système: 日本語 — ✓",
                    "messages": [user("Привет 👋🏽 e\u0301 مرحبا \u200d"),
                                 assistant([thinking("Denken über ü."), text("Antwort: ñ 中文")]),
                                 user("次へ")]}},
    "python_whitespace_trim": {
        "request": {"system": "\u3000system with ideographic spaces\u3000",
                    "messages": [user("\u00a0\u2003 padded \u2028\x1c\x1f\u0085"),
                                 assistant([thinking("\u3000thought\u00a0"), text("\u2002answer\u205f")]),
                                 user("\t\n tabbed \r\n\x0b\x0c")]}},
    "cache_control_markers": {
        "request": {"system": [text("Sys", cache_control={"type": "ephemeral"})],
                    "tools": [dict(WEATHER_TOOL, cache_control={"type": "ephemeral"})],
                    "messages": [
                        user([text("Q", cache_control={"type": "ephemeral", "ttl": "1h"})]),
                        assistant([tool_use("t1", "get_weather", {"city": "Oslo"})]),
                        user([tool_result("t1", "cold", cache_control={"type": "ephemeral"})])]}},
}
