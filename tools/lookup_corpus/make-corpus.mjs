// Writes the test corpus of `hearth bench-lookup` (testdata/lookup/): Anthropic request bodies shaped like
// Claude Code's, built from the agent benchmark's own tasks (bench/tasks/*). For each task the "agent"
// reads the task's source and test files (Read, with Claude Code's numbered-line output), edits each file
// into the task's reference solution hunk by hunk (Edit: old_string copied from the file, new_string the
// solution's lines; a file mostly rewritten, or new, is written whole with Write), runs the tests (Bash)
// and sums up. Only the last request of each session is written: it holds every assistant turn of the
// session, and bench-lookup measures each turn once however many requests repeat it.
// Also writes synthetic/copy-turn.json: one assistant turn that repeats a user message verbatim (words
// of random letters, so the drafter's acceptance on it is known exactly: see tests/serve/bench_lookup.sh).
//
//   node tools/lookup_corpus/make-corpus.mjs testdata/lookup
import { readFileSync, writeFileSync, mkdirSync, readdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const out = process.argv[2];
if (!out) {
  console.error("usage: make-corpus.mjs OUT_DIR");
  process.exit(2);
}
const project = "/home/user/project";

const tools = [
  { name: "Read", description: "Reads a file from the local filesystem.", input_schema: { type: "object", properties: { file_path: { type: "string", description: "The absolute path to the file to read" }, offset: { type: "number" }, limit: { type: "number" } }, required: ["file_path"] } },
  { name: "Edit", description: "Performs exact string replacements in files. old_string must be unique in the file.", input_schema: { type: "object", properties: { file_path: { type: "string" }, old_string: { type: "string" }, new_string: { type: "string" }, replace_all: { type: "boolean", default: false } }, required: ["file_path", "old_string", "new_string"] } },
  { name: "Write", description: "Writes a file to the local filesystem.", input_schema: { type: "object", properties: { file_path: { type: "string" }, content: { type: "string" } }, required: ["file_path", "content"] } },
  { name: "Bash", description: "Executes a bash command.", input_schema: { type: "object", properties: { command: { type: "string" }, description: { type: "string" } }, required: ["command"] } },
];
const system = [{ type: "text", text: "You are Claude Code, an interactive CLI tool that helps users with software engineering tasks. Use the tools to read, edit and test code. Keep answers short." }];

const numbered = (text) => text.replace(/\n$/, "").split("\n").map((l, i) => `${String(i + 1).padStart(6)}→${l}`).join("\n");

// Line diff (LCS): hunks of [oldStart, oldEnd, newStart, newEnd) with changes.
function hunks(a, b) {
  const n = a.length, m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Int32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out = [];
  let i = 0, j = 0, cur = null;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      if (cur) { out.push(cur); cur = null; }
      i++; j++;
    } else {
      cur ??= { a0: i, b0: j, a1: i, b1: j };
      if (j < m && (i >= n || lcs[i][j + 1] >= lcs[i + 1][j])) j++; else i++;
      cur.a1 = i; cur.b1 = j;
    }
  }
  if (cur) out.push(cur);
  // Merge hunks closer than 3 lines: one Edit each, as an agent would make.
  const merged = [];
  for (const h of out) {
    const last = merged[merged.length - 1];
    if (last && h.a0 - last.a1 < 3) { last.a1 = h.a1; last.b1 = h.b1; } else merged.push({ ...h });
  }
  return merged;
}

// old_string / new_string for a hunk, widened by context lines until old_string is unique in the file.
function editFor(a, b, h) {
  const text = a.join("\n");
  for (let ctx = 1; ; ctx++) {
    const a0 = Math.max(0, h.a0 - ctx), a1 = Math.min(a.length, h.a1 + ctx);
    const oldString = a.slice(a0, a1).join("\n");
    const newString = [...a.slice(a0, h.a0), ...b.slice(h.b0, h.b1), ...a.slice(h.a1, a1)].join("\n");
    if (text.indexOf(oldString) === text.lastIndexOf(oldString) || (a0 === 0 && a1 === a.length)) return { oldString, newString, a0, a1 };
  }
}

function session(taskDir) {
  const task = JSON.parse(readFileSync(join(taskDir, "task.json"), "utf8"));
  const repo = join(taskDir, "repo"), solution = join(taskDir, "solution");
  const messages = [];
  let toolId = 0;
  const call = (text, name, input, result) => {
    const id = `toolu_${String(++toolId).padStart(4, "0")}`;
    const content = [];
    if (text) content.push({ type: "text", text });
    content.push({ type: "tool_use", id, name, input });
    messages.push({ role: "assistant", content });
    messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: id, content: result }] });
  };
  messages.push({ role: "user", content: `${readFileSync(join(repo, "TASK.md"), "utf8")}\nPlease do this task in ${project}.` });

  const changed = readdirSync(join(solution, "src")).sort();
  const tests = existsSync(join(repo, "test")) ? readdirSync(join(repo, "test")).sort() : [];
  let first = true;
  for (const f of changed.filter((f) => existsSync(join(repo, "src", f)))) {
    call(first ? `I'll start by reading \`src/${f}\`.` : "", "Read", { file_path: `${project}/src/${f}` }, numbered(readFileSync(join(repo, "src", f), "utf8")));
    first = false;
  }
  for (const t of tests) call("", "Read", { file_path: `${project}/test/${t}` }, numbered(readFileSync(join(repo, "test", t), "utf8")));

  for (const f of changed) {
    const path = `${project}/src/${f}`;
    const after = readFileSync(join(solution, "src", f), "utf8");
    if (!existsSync(join(repo, "src", f))) {
      call(`Now I'll create \`src/${f}\`.`, "Write", { file_path: path, content: after }, `File created successfully at: ${path}`);
      continue;
    }
    const a = readFileSync(join(repo, "src", f), "utf8").split("\n"), b = after.split("\n");
    const hs = hunks(a, b);
    const changedLines = hs.reduce((s, h) => s + (h.a1 - h.a0), 0);
    if (changedLines > 0.6 * a.length) {
      call(`Most of \`src/${f}\` changes, so I'll rewrite it.`, "Write", { file_path: path, content: after }, `The file ${path} has been updated.`);
      continue;
    }
    // Edits top down, each hunk shifted by what the ones above added or removed; the agent re-reads
    // nothing (each tool result shows the edited snippet).
    let lines = a.slice();
    for (const [k, h] of [...hs].entries()) {
      const { oldString, newString } = editFor(lines, b, { ...h, a0: h.a0 + (lines.length - a.length), a1: h.a1 + (lines.length - a.length) });
      const text = lines.join("\n");
      const start = text.indexOf(oldString);
      const updated = text.slice(0, start) + newString + text.slice(start + oldString.length);
      const firstLine = text.slice(0, start).split("\n").length;
      const snippetLines = updated.split("\n").slice(Math.max(0, firstLine - 3), firstLine - 1 + newString.split("\n").length + 2);
      const snippet = snippetLines.map((l, i) => `${String(Math.max(1, firstLine - 2) + i).padStart(6)}→${l}`).join("\n");
      call(k === 0 ? `Fixing \`src/${f}\`: ${task.title.toLowerCase()}.` : "", "Edit", { file_path: path, old_string: oldString, new_string: newString },
        `The file ${path} has been updated. Here's the result of running \`cat -n\` on a snippet of the edited file:\n${snippet}`);
      lines = updated.split("\n");
    }
  }
  const testNames = tests.flatMap((t) => [...readFileSync(join(repo, "test", t), "utf8").matchAll(/\btest\("([^"]+)"/g)].map((m) => m[1]));
  call("Now let me run the tests.", "Bash", { command: "npm test", description: "Run the tests" },
    `> test\n> node --import tsx --test test/*.test.ts\n\n${testNames.map((n) => `✔ ${n}`).join("\n")}\nℹ tests ${testNames.length}\nℹ pass ${testNames.length}\nℹ fail 0`);
  messages.push({ role: "assistant", content: [{ type: "text", text: `All ${testNames.length} tests pass. ${task.title}: fixed in ${changed.map((f) => `\`src/${f}\``).join(", ")}.` }] });
  messages.push({ role: "user", content: "Thanks. Anything else I should know?" });
  return { model: "claude-sonnet-4-5", max_tokens: 32000, system, tools, messages, thinking: { type: "disabled" } };
}

mkdirSync(join(out, "agent"), { recursive: true });
const tasks = join(root, "bench", "tasks");
for (const name of readdirSync(tasks).sort()) {
  if (!existsSync(join(tasks, name, "solution", "src"))) continue;
  writeFileSync(join(out, "agent", `${name}.json`), JSON.stringify(session(join(tasks, name)), null, 1) + "\n");
}

// Synthetic: words of random letters (a fixed generator), no newline, so no 4-gram repeats inside.
let seed = 12345;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const words = Array.from({ length: 120 }, () => Array.from({ length: 3 + Math.floor(rand() * 5) }, () => "bcdfghjklmnpqrstvwxz"[Math.floor(rand() * 20)]).join(""));
const copied = words.join(" ");
mkdirSync(join(out, "synthetic"), { recursive: true });
writeFileSync(join(out, "synthetic", "copy-turn.json"), JSON.stringify({
  model: "m", max_tokens: 100, thinking: { type: "disabled" },
  messages: [
    { role: "user", content: copied },
    { role: "assistant", content: copied },
    { role: "user", content: "ok" },
  ],
}, null, 1) + "\n");
