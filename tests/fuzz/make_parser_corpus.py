#!/usr/bin/env python3
"""Writes the seed corpus of the output parser fuzz target (tests/fuzz/corpus/parser/).

Run from the repository root: python3 tests/fuzz/make_parser_corpus.py
Input format of parser_fuzz.cpp: one flag byte (1 emit_thinking, 2 starts_in_thinking, 4 no tools),
then tokens; a byte >= the piece count is an escape whose next byte is a raw byte token. Seeds spell
their text as escaped raw bytes (0xFF, byte), which stays valid whatever the piece table holds.
Files named regression-* in the corpus are inputs the fuzzer once failed on, kept as found.
"""
import pathlib

XML = ("<tool_call>\n<function=Bash>\n<parameter=command>\nls -la\n</parameter>\n"
       "<parameter=timeout>\n120\n</parameter>\n</function>\n</tool_call>")
JSON = '<tool_call>\n{"name": "Read", "arguments": {"file_path": "/a", "offset": "2"}}\n</tool_call>'
SEEDS = {
    "text": (1, "Hello, world! 2 < 3 and a<b>c"),
    "think_then_text": (1, "<think>\nStep one.\n</think>\n\nAnswer."),
    "starts_in_thinking": (3, "Plan.\n</think>\n\nDone."),
    "thinking_off": (0, "<think>\nsecret\n</think>\n\nVisible."),
    "xml_call": (1, "Let me look.\n\n" + XML),
    "json_call": (1, JSON),
    "call_in_think": (3, "I will list.\n" + XML + "\nMore.\n</think>\n\nok"),
    "several_calls": (1, XML + "\n" + JSON + "\n" + XML + "\nAfter."),
    "unknown_tool": (1, XML.replace("Bash", "Nope")),
    "no_tools": (5, XML),
    "missing_closes": (1, "<tool_call>\n<function=Bash>\n<parameter=command>\nls\n<parameter=timeout>\n5"),
    "json_missing_bracket": (1, '<tool_call>{"name": "Bash", "arguments": {"command": "ls"}</tool_call>'),
    "json_in_function": (1, '<tool_call>\n<function=Bash>\n{"command": "ls", "timeout": "3"}\n</function>\n</tool_call>'),
    "typed_values": (1, "<tool_call>\n<function=Config>\n<parameter=settings>\n{'a': True}\n</parameter>\n"
                        "<parameter=level>\nNone\n</parameter>\n<parameter=mode>\nnull\n</parameter>\n</function>"),
    "utf8": (1, "é 中文 😀 <tool_call>\n<function=Bash>\n<parameter=command>\necho 😀\n</parameter>\n</function>"),
    "bare_function": (1, "Running:\n<function=Read>\n<parameter=file_path>\n/x\n</parameter>\n</function>"),
}


def encode(flags: int, text: str) -> bytes:
    out = bytearray([flags])
    for b in text.encode("utf-8"):
        out += bytes([0xFF, b])
    return bytes(out)


def main() -> None:
    corpus = pathlib.Path(__file__).resolve().parent / "corpus" / "parser"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, (flags, text) in SEEDS.items():
        (corpus / name).write_bytes(encode(flags, text))


if __name__ == "__main__":
    main()
