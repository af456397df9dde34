#!/usr/bin/env python3
"""Golden prompts for hearth's native chat renderers, rendered by the models' real Jinja templates.

  python3 tools/render/make_goldens.py \\
      --qwen3_5-template ../shared/reference/qwen3.5-moe.chat_template.jinja \\
      --qwen3-tokenizer-config .deps/qwen3-tokenizer/tokenizer_config.json \\
      --session testdata/chat/claude_session.jsonl --out testdata/render

For every request in tools/render/cases.py (and every request of the recorded Claude Code session), it
maps the Anthropic request to chat-template messages with tools/render/mapping.py (the Python twin of
src/chat/anthropic_mapping.cpp) and renders it with python3-jinja2 set up as transformers'
apply_chat_template sets it up: ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
loopcontrols), `tojson` = json.dumps(ensure_ascii=False, sort_keys=False), raise_exception raising
TemplateError. It writes testdata/render/<template>/<case>[.<variant>].json:
  {"generated_by", "template", "case", "options", "request" | "request_file"+"request_index",
   "expected_text" | "expected_error"}

Templates:
  qwen3_5  the Qwen3.5 template given on the command line (byte-exact copy of the model's file), with one
           patch: a role "system" message after the first renders in place as
           "<|im_start|>system\\n" + content + "<|im_end|>\\n" instead of raising (hearth's one
           deliberate deviation, see src/chat/anthropic_mapping.h).
  qwen3_6  qwen3_5 plus Qwen3.6's one difference: past assistant turns keep their reasoning when
           preserve_thinking is true (the condition becomes
           "(preserve_thinking is defined and preserve_thinking is true) or (loop.index0 >
           ns.last_query_index)"). Rendered with preserve_thinking=true; with false it must equal qwen3_5 (checked here).
  qwen3    the chat_template of Qwen3's tokenizer_config.json, unpatched (it renders later system
           messages in place itself).
"""
import argparse
import json
import os
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import CASES  # noqa: E402
from mapping import map_request  # noqa: E402

SYSTEM_RAISE = "{{- raise_exception('System message must be at the beginning.') }}"
SYSTEM_IN_PLACE = "{{- '<|im_start|>system\\n' + content + '<|im_end|>\\n' }}"
QUERY_CONDITION = "{%- if loop.index0 > ns.last_query_index %}"
PRESERVE_CONDITION = ("{%- if (preserve_thinking is defined and preserve_thinking is true) or "
                      "(loop.index0 > ns.last_query_index) %}")


def patch_once(source, old, new, what):
    if source.count(old) != 1:
        raise SystemExit(f"make_goldens: cannot apply the {what} patch: the template does not contain "
                         f"exactly one {old!r}")
    return source.replace(old, new)


def make_environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def load_templates(qwen3_5_path, qwen3_config_path):
    env = make_environment()
    with open(qwen3_5_path, encoding="utf-8") as f:
        qwen3_5 = f.read()
    qwen3_5 = patch_once(qwen3_5, SYSTEM_RAISE, SYSTEM_IN_PLACE, "in-place system message")
    qwen3_6 = patch_once(qwen3_5, QUERY_CONDITION, PRESERVE_CONDITION, "Qwen3.6 preserve_thinking")
    with open(qwen3_config_path, encoding="utf-8") as f:
        qwen3 = json.load(f)["chat_template"]
    return {name: env.from_string(src) for name, src in
            (("qwen3_5", qwen3_5), ("qwen3_6", qwen3_6), ("qwen3", qwen3))}


def render(template, request, options):
    messages, tools = map_request(request)
    return template.render(messages=messages, tools=tools or None,
                           add_generation_prompt=options["add_generation_prompt"],
                           enable_thinking=options["enable_thinking"],
                           preserve_thinking=options["preserve_thinking"])


def full_options(variant, preserve):
    return {"enable_thinking": variant.get("enable_thinking", True),
            "preserve_thinking": preserve,
            "add_generation_prompt": variant.get("add_generation_prompt", True)}


def variant_suffix(options):
    parts = []
    if not options["enable_thinking"]:
        parts.append("thinking_off")
    if not options["add_generation_prompt"]:
        parts.append("no_generation_prompt")
    if options["preserve_thinking"]:
        parts.append("preserve_thinking")
    return "." + ".".join(parts) if parts else ""


def renders_for(template_name, variants):
    """Options to render with: Qwen3.6 goldens are the preserve_thinking=true renders (with false, the
    3.6 template equals 3.5's, which main() checks instead of writing duplicate files)."""
    return [full_options(variant, template_name == "qwen3_6") for variant in variants]


def check_qwen3_6_without_preserve_equals_qwen3_5(templates, jobs):
    for name, request, _, variants in jobs:
        for variant in variants:
            options = full_options(variant, False)
            try:
                a = render(templates["qwen3_5"], request, options)
            except jinja2.exceptions.TemplateError as e:
                a = "error: " + str(e)
            try:
                b = render(templates["qwen3_6"], request, options)
            except jinja2.exceptions.TemplateError as e:
                b = "error: " + str(e)
            if a != b:
                raise SystemExit(f"make_goldens: Qwen3.6 patch changes {name} without preserve_thinking")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qwen3_5-template", required=True, dest="qwen3_5")
    ap.add_argument("--qwen3-tokenizer-config", required=True, dest="qwen3")
    ap.add_argument("--session", help="recorded Claude Code session (JSONL of requests)")
    ap.add_argument("--out", default="testdata/render")
    args = ap.parse_args()

    command = ("python3 tools/render/make_goldens.py --qwen3_5-template " +
               "<shared>/reference/qwen3.5-moe.chat_template.jinja --qwen3-tokenizer-config " +
               ".deps/qwen3-tokenizer/tokenizer_config.json --session testdata/chat/claude_session.jsonl " +
               "--out testdata/render")
    templates = load_templates(args.qwen3_5, args.qwen3)

    jobs = []  # (case name, request, request source fields, variants)
    for name, case in CASES.items():
        jobs.append((name, case["request"], {"request": case["request"]}, case.get("variants", [{}])))
    if args.session:
        with open(args.session, encoding="utf-8") as f:
            session = [json.loads(line) for line in f if line.strip()]
        for index, request in enumerate(session):
            source = {"request_file": "chat/" + os.path.basename(args.session), "request_index": index}
            jobs.append((f"claude_session_{index}", request, source, [{}]))

    check_qwen3_6_without_preserve_equals_qwen3_5(templates, jobs)
    counts = {}
    for template_name, template in templates.items():
        directory = os.path.join(args.out, template_name)
        os.makedirs(directory, exist_ok=True)
        for old in os.listdir(directory):
            if old.endswith(".json"):
                os.remove(os.path.join(directory, old))
        for name, request, source, variants in jobs:
            for options in renders_for(template_name, variants):
                golden = {"generated_by": command, "template": template_name, "case": name,
                          "options": options, **source}
                try:
                    golden["expected_text"] = render(template, request, options)
                except jinja2.exceptions.TemplateError as e:
                    golden["expected_error"] = str(e)
                path = os.path.join(directory, name + variant_suffix(options) + ".json")
                with open(path, "w", encoding="utf-8") as f:
                    json.dump(golden, f, ensure_ascii=False, indent=1)
                    f.write("\n")
                counts[template_name] = counts.get(template_name, 0) + 1
    for template_name, n in counts.items():
        print(f"{template_name}: {n} golden files")


if __name__ == "__main__":
    main()
