"""Anthropic Messages request -> the `messages` / `tools` a Hugging Face chat template is rendered with.

A second, independent implementation of the rules in src/chat/anthropic_mapping.h (read the comment
block there for the reasons). Kept deliberately plain: one function per message role.

  tools      -> {"type": "function", "function": {"name", "description" (if not empty), "parameters"}}
  system     -> text blocks concatenated; blocks starting "x-anthropic-billing-header:" removed; a leading
                system message only when the result is not empty
  user       -> runs of tool_result blocks: one "tool" message each; runs of other blocks: one "user"
                message (text concatenated, images/documents as placeholders, thinking dropped)
  tool_result-> its content (string or blocks) concatenated; is_error prefixes the line "Error:"
  assistant  -> content = text concatenated, reasoning_content = thinking concatenated (always set, ""
                when none), tool_calls = tool_use blocks in order (arguments = input), redacted dropped
  system msg -> a "system" message in place (the template patch in make_goldens.py renders it)
"""

BILLING_PREFIX = "x-anthropic-billing-header:"
TOOL_ERROR_PREFIX = "Error:\n"


def blocks_of(content):
    """A string is one text block; None is no blocks."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return content


def placeholder(block):
    media = (block.get("source") or {}).get("media_type") or ""
    if block["type"] == "image":
        name, tail = "image", " — this model cannot see images]"
    else:
        name, tail = "document", " — this model cannot read documents]"
    return "[" + name + (": " + media if media else "") + tail


def text_part(block):
    """The text a text-like block shows the model, or None for other blocks."""
    if block["type"] == "text":
        return block["text"]
    if block["type"] in ("image", "document"):
        return placeholder(block)
    return None


def map_tool(tool):
    function = {"name": tool["name"]}
    if tool.get("description"):
        function["description"] = tool["description"]
    function["parameters"] = tool.get("input_schema", {})
    return {"type": "function", "function": function}


def tool_result_text(block):
    text = TOOL_ERROR_PREFIX if block.get("is_error") else ""
    for part in blocks_of(block.get("content")):
        part_text = text_part(part)
        if part_text is None:
            raise ValueError("unexpected block inside tool_result: " + part["type"])
        text += part_text
    return text


def map_user(message):
    blocks = blocks_of(message["content"])
    if not blocks:
        return [{"role": "user", "content": ""}]
    out = []
    current = None  # the user message collecting the current run of non-tool_result blocks
    for block in blocks:
        if block["type"] == "tool_result":
            out.append({"role": "tool", "content": tool_result_text(block)})
            current = None
        elif block["type"] in ("thinking", "redacted_thinking"):
            continue
        elif block["type"] == "tool_use":
            raise ValueError("tool_use in a user message")
        else:
            if current is None:
                current = {"role": "user", "content": ""}
                out.append(current)
            current["content"] += text_part(block)
    return out


def map_assistant(message):
    content, reasoning, calls = "", "", []
    for block in blocks_of(message["content"]):
        kind = block["type"]
        if kind == "thinking":
            reasoning += block["thinking"]
        elif kind == "redacted_thinking":
            pass
        elif kind == "tool_use":
            calls.append({"type": "function",
                          "function": {"name": block["name"], "arguments": block.get("input", {})}})
        elif kind == "tool_result":
            raise ValueError("tool_result in an assistant message")
        else:
            content += text_part(block)
    out = {"role": "assistant", "content": content, "reasoning_content": reasoning}
    if calls:
        out["tool_calls"] = calls
    return out


def map_system_message(message):
    return {"role": "system", "content": "".join(text_part(b) for b in blocks_of(message["content"]))}


def map_request(request):
    """Returns (messages, tools) for the chat template."""
    tools = [map_tool(t) for t in request.get("tools") or []]
    messages = []
    system = "".join(b["text"] for b in blocks_of(request.get("system"))
                     if not b["text"].startswith(BILLING_PREFIX))
    if system:
        messages.append({"role": "system", "content": system})
    for message in request["messages"]:
        if message["role"] == "user":
            messages.extend(map_user(message))
        elif message["role"] == "assistant":
            messages.append(map_assistant(message))
        else:
            messages.append(map_system_message(message))
    return messages, tools
