// The tokenizer parity corpus: a deterministic list of test strings (same output on every run and
// machine), covering what a chat server tokenizes. Imported by make_parity.mjs; nothing here touches
// the tokenizer.
//
// Each case is {kind, text} or, for input that is not valid UTF-8, {kind, bytes_hex} (the raw bytes).

// Small, fast, seedable PRNG (mulberry32), so the corpus never depends on Math.random.
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

// Every added token of Qwen3's tokenizer.json, special or not.
export const ADDED_TOKENS = [
  "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
  "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
  "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
  "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>",
  "</tool_response>", "<think>", "</think>",
];

// Letters and digits assigned after Unicode 14.0. PCRE2 10.42 (hearth's regex engine) classifies them
// by Unicode 14.0 tables, where they are unassigned; the JavaScript reference runs on Unicode 17.0.
export const POST_UNICODE14 = [
  "\u{31350}", // CJK Ext H ideograph, Lo, Unicode 15.0
  "\u{1E4D0}", // Nag Mundari letter, Lo, 15.0
  "\u{11F04}", // Kawi letter, Lo, 15.0
  "\u{2EBF0}", // CJK Ext I ideograph, Lo, 15.1
  "\u{1E030}", // Cyrillic modifier letter, Lm, 15.0
  "\u{11F50}", // Kawi digit zero, Nd, 15.0
];

const WORDS = {
  english: ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "Hello", "World", "function", "return",
    "Tokenizer", "server", "request", "THE", "Don", "I", "a", "an", "internationalization", "naïve", "café", "résumé"],
  german: ["Straße", "Grüße", "Übermäßig", "Fußgänger", "Äpfel", "schön", "ÖL"],
  french: ["élève", "garçon", "où", "Noël", "cœur", "déjà", "ÇA"],
  russian: ["Привет", "мир", "токенизатор", "ЁЛКА", "съешь", "ещё"],
  greek: ["Καλημέρα", "κόσμε", "ΑΘΗΝΑ", "ψυχή"],
  chinese: ["你好", "世界", "分词器", "中华人民共和国", "机器学习", "的", "我们", "繁體中文", "測試"],
  japanese: ["こんにちは", "カタカナ", "日本語", "東京都", "ｶﾀｶﾅ", "ひらがな", "漢字かな交じり"],
  korean: ["안녕하세요", "세계", "한국어", "토크나이저"],
  arabic: ["مرحبا", "بالعالم", "العربية", "كِتَابٌ", "٣٤٥"],
  hebrew: ["שלום", "עולם", "עִבְרִית"],
  hindi: ["नमस्ते", "दुनिया", "हिन्दी", "क्षत्रिय", "१२३"],
  thai: ["สวัสดี", "ชาวโลก", "ภาษาไทย", "กรุงเทพมหานคร"],
  other: ["Ελληνικά", "ქართული", "Հայերեն", "ᚠᚢᚦᚨᚱᚲ", "𐌰𐌱𐌲", "ꦗꦮ", "தமிழ்", "বাংলা", "ગુજરાતી", "ລາວ", "ខ្មែរ", "አማርኛ"],
};
const ALL_WORDS = Object.values(WORDS).flat();

const EMOJI = ["😀", "🎉", "👍", "👍🏽", "👋🏿", "❤️", "🔥", "🚀", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🏳️‍🌈", "🇺🇸", "🇯🇵", "1️⃣", "#️⃣",
  "🧑🏻‍🤝‍🧑🏿", "😶‍🌫️", "🫠", "✅", "⚠️", "™", "©", "𝕏", "🤖", "👁️‍🗨️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"];

const PUNCT = [".", ",", "!", "?", ";", ":", "...", "—", "–", "…", "(", ")", "[", "]", "{", "}", "<", ">", "\"", "'",
  "`", "```", "/", "\\", "|", "@", "#", "$", "%", "^", "&", "*", "-", "_", "=", "+", "~", "«", "»", "“", "”", "‘", "’",
  "、", "。", "，", "！", "？", "：", "；", "＂", "¿", "¡", "§", "¶", "•", "·", "→", "⇒", "≠", "≤", "∑", "√", "°", "€", "£", "¥"];

const SPACES = [" ", "  ", "   ", "    ", "        ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r\n\r\n", "\r", " \n", "\n ",
  "\t\n", " \t ", "\u00A0", "\u3000", "\u2003", "\u2009", "\u202F", "\u000B", "\u000C", "\n\n\n\n", "   \n   "];

const NUMBERS = ["0", "7", "42", "123", "2024", "3.14159", "1,000,000", "1e-9", "0x1F", "0b1010", "-17", "+3",
  "99.9%", "v1.2.3", "192.168.0.1", "12:30", "2025-01-31", "١٢٣", "४५६", "٤", "Ⅻ", "ⅷ", "²", "½", "①", "１２３", "𝟙𝟚"];

// Text whose NFC form differs from the input: the normaliser must change it before pre-tokenising.
const NFC_CHANGES = [
  "e\u0301", "E\u0301cole", "a\u0308", "o\u0302", "n\u0303o", "A\u030A", "\u212B", "\u2126", "\u212Angstrom",
  "c\u0327a", "u\u0308ber", "\u1100\u1161\u11A8", "\u1112\u1161\u11AB\u1100\u1173\u11AF", "\u0041\u0301\u0302",
  "q\u0307\u0323", "\u1E0B\u0323", "\u0915\u093C", "\u00C5\u0301", "\u0387", "\u037E", "\u0340", "\u2000",
  "\uF900", "\u2F00", "\u0344", "\u0958", "\u1F80\u0301", "\u03D3", "s\u0323\u0307", "\u30AB\u3099", "\u304B\u3099",
];

const CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Re", "'rE", "'VE", "'vE", "'M",
  "'LL", "'Ll", "'lL", "'D", "'x", "'", "''", "’s", "’t"];

function snippetCases() {
  // Hand-written code and markup in several languages, the bulk of what a coding agent sends.
  return [
    ["python", `def fibonacci(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n\nif __name__ == "__main__":\n    print([fibonacci(i) for i in range(10)])\n`],
    ["python", `class Cache(dict):\n\tdef __missing__(self, key):\n\t\tvalue = self[key] = compute(key)\n\t\treturn value\n`],
    ["python", `import re\nPATTERN = re.compile(r"(?P<key>\\w+)=(?P<value>[^;]*)")\nfor m in PATTERN.finditer(line):\n    out[m["key"]] = m["value"].strip()  # keep order\n`],
    ["cpp", `#include <vector>\n#include <string_view>\n\nnamespace hearth {\n\ntemplate <typename T>\nT sum(const std::vector<T>& xs) {\n  T total{};\n  for (const auto& x : xs) total += x;\n  return total;\n}\n\n}  // namespace hearth\n`],
    ["cpp", `int main(int argc, char** argv) {\n    if (argc < 2) { std::fprintf(stderr, "usage: %s FILE\\n", argv[0]); return 2; }\n    auto* p = reinterpret_cast<const uint8_t*>(argv[1]);\n    return p[0] >> 4 & 0x0F;\n}\n`],
    ["rust", `fn main() {\n    let v: Vec<u32> = (1..=10).map(|x| x * x).collect();\n    println!("{:?}", v);\n    match v.get(3) {\n        Some(&x) if x > 5 => println!("big {x}"),\n        _ => {}\n    }\n}\n`],
    ["go", `package main\n\nimport (\n\t"fmt"\n\t"strings"\n)\n\nfunc main() {\n\tfor i, w := range strings.Fields("a b  c") {\n\t\tfmt.Printf("%d:%q\\n", i, w)\n\t}\n}\n`],
    ["javascript", `export async function fetchJson(url, { retries = 3 } = {}) {\n  for (let i = 0; i < retries; i++) {\n    const res = await fetch(url);\n    if (res.ok) return res.json();\n    await new Promise((r) => setTimeout(r, 2 ** i * 100));\n  }\n  throw new Error(\`failed: \${url}\`);\n}\n`],
    ["typescript", `interface User { id: number; name?: string; tags: readonly string[] }\ntype Partial2<T> = { [K in keyof T]?: T[K] };\nconst u: User = { id: 1, tags: [] } as const satisfies User;\n`],
    ["java", `public final class Main {\n    public static void main(String[] args) throws Exception {\n        var map = new java.util.HashMap<String, Integer>();\n        map.merge("k", 1, Integer::sum);\n        System.out.println(map);\n    }\n}\n`],
    ["sql", `SELECT u.id, COUNT(*) AS n\nFROM users u\nLEFT JOIN orders o ON o.user_id = u.id\nWHERE u.created_at >= '2024-01-01'\nGROUP BY u.id\nHAVING COUNT(*) > 3\nORDER BY n DESC;\n`],
    ["html", `<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Test &amp; check</title></head>\n<body>\n  <div class="a b" data-x='1'>Hi&nbsp;there</div>\n</body>\n</html>\n`],
    ["css", `.btn:hover, .btn:focus-visible {\n  color: #fff;\n  background: linear-gradient(90deg, rgba(0,0,0,.5) 0%, #1e90ff 100%);\n  margin: 0 auto !important;\n}\n`],
    ["yaml", `version: 2\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: |\n          make -j4\n          make test\n`],
    ["makefile", `CXXFLAGS ?= -O2 -Wall\n\nall: hearth\n\nhearth: main.o util.o\n\t$(CXX) $(CXXFLAGS) -o $@ $^\n\n%.o: %.cpp\n\t$(CXX) $(CXXFLAGS) -c $< -o $@\n`],
    ["dockerfile", `FROM debian:12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends \\\n      ca-certificates curl \\\n && rm -rf /var/lib/apt/lists/*\nCOPY . /app\nWORKDIR /app\nCMD ["./hearth", "serve"]\n`],
    ["shell", `#!/usr/bin/env bash\nset -euo pipefail\nfor f in "$@"; do\n  if [[ -f "$f" ]]; then\n    wc -l -- "$f" | awk '{print $1}'\n  fi\ndone 2>/dev/null | sort -n | tail -1\n`],
    ["shell", `$ git log --oneline | head -3\na0e44f9 engine/loader.h: the model factory seam\n$ ls -la ~/.config\ntotal 8\ndrwxr-xr-x  2 user user 4096 Jan  1 00:00 .\n`],
    ["json", `{"model":"qwen3","messages":[{"role":"user","content":"Hi\\n\\tthere \\u00e9"}],"max_tokens":1024,"stream":true,"temperature":0.7,"tools":[]}`],
    ["json", `{\n  "name": "hearth",\n  "version": "0.1.0",\n  "nested": { "list": [1, 2.5, -3e10, null, true, false], "empty": {} }\n}\n`],
    ["markdown", `# Title\n\nSome *emphasis*, **bold**, and \`code\`.\n\n- item one\n- item two\n  - nested\n\n1. first\n2. second\n\n> quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[link](https://example.com/path?q=1&r=2#frag)\n`],
    ["markdown", "```python\nprint('hi')\n```\n\n~~~\nraw\n~~~\n"],
    ["latex", `\\begin{equation}\n  E = mc^2 \\quad \\forall x \\in \\mathbb{R}, \\; \\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}\n\\end{equation}\n`],
    ["diff", `diff --git a/src/x.cpp b/src/x.cpp\n--- a/src/x.cpp\n+++ b/src/x.cpp\n@@ -1,3 +1,4 @@\n #include "x.h"\n-int f() { return 1; }\n+int f() { return 2; }\n+// changed\n`],
    ["xml", `<?xml version="1.0" encoding="UTF-8"?>\n<root xmlns:x="urn:x"><x:item id="1"/><![CDATA[ <raw> & ]]></root>\n`],
    ["tool_call", `<tool_call>\n<function=Bash>\n<parameter=command>\nls -la /tmp\n</parameter>\n</function>\n</tool_call>`],
    ["tool_call", `<tool_call>\n{"name": "get_weather", "arguments": {"city": "Zürich", "unit": "celsius"}}\n</tool_call>`],
    ["chat", `<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat's 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\nSimple arithmetic.\n</think>\n\n4<|im_end|>\n`],
    ["chat", `<|im_start|>user\n<tool_response>\n{"ok": true}\n</tool_response><|im_end|>\n<|im_start|>assistant\n`],
    ["fim", `<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n    return c<|fim_middle|>c = a + b<|fim_pad|>`],
    ["repo", `<|repo_name|>hearth\n<|file_sep|>src/main.cpp\nint main() {}\n<|file_sep|>README.md\n# hearth\n<|endoftext|>`],
    ["vision", `<|vision_start|><|image_pad|><|image_pad|><|vision_end|>Describe the image.<|box_start|>(10,20),(30,40)<|box_end|><|object_ref_start|>cat<|object_ref_end|><|quad_start|>q<|quad_end|><|video_pad|><|vision_pad|>`],
  ];
}

function handwrittenCases() {
  const cases = [];
  const add = (kind, text) => cases.push({ kind, text });
  // Whitespace: the look-ahead \s+(?!\S) leaves the last space to the next word.
  for (const s of ["", " ", "  ", "\t", "\n", "\r\n", "\r", " a", "a ", "a  b", "a   b", "a \n b", "a\n\n\nb", "a\t\tb",
    "  \n\n  x", "x  \n", "\n\n", " \n \n ", "\r\n\r\n\r\n", "a\r\nb", "a\rb", "a\r\r\nb", "\t\tif x:\n\t\t\treturn",
    "a \u00A0b", "a\u3000b", "a\u2028b", "a\u2029b", "end   ", "   start", "tab\tsep\tvalues\n1\t2\t3\n"]) add("whitespace", s);
  // Long runs of one kind of whitespace.
  for (const n of [8, 17, 64, 100, 257, 1000, 4096]) {
    add("whitespace_run", " ".repeat(n));
    add("whitespace_run", "x" + " ".repeat(n) + "y");
    add("whitespace_run", "\n".repeat(n % 300));
    add("whitespace_run", "\t".repeat(n % 200) + "code");
    add("whitespace_run", "a" + " \n".repeat(n % 120) + "b");
  }
  // Contractions, all case mixes, and look-alikes.
  for (const c of CONTRACTIONS) {
    add("contraction", `it${c}`);
    add("contraction", `IT${c} fine`);
    add("contraction", `${c}`);
    add("contraction", ` ${c}x`);
  }
  for (const s of ["I'M HERE", "you'Re", "WE'VE", "she'D", "they'LL", "don't", "DON'T", "can't've", "y'all'd've",
    "rock'n'roll", "'''", "O'Neil", "l'été", "'sss", "''s", "x's'", "'s's's"]) add("contraction", s);
  // The Unicode points where the JavaScript reference's regex differs from Hugging Face (Oniguruma).
  for (const s of ["it'ſ", "it'ſt", "'ſ", "'ſa", "IT'ſ good", "was'ſ"]) add("case_fold_long_s", s);
  for (const s of ["a\u0085b", "a \u0085 b", "x\u0085\u0085 y", "a\u0085\u0085", "\u0085", "line\u0085\u0085\n", "a  \u0085b",
    "\u0085\u0085\u0085word", "x \u0085y"]) add("nel", s);
  for (const s of ["\uFEFFhello", "a\uFEFF b", "a \uFEFF\uFEFF b", "\uFEFF", "x\uFEFF\uFEFF", "// \uFEFF BOM in code", "a\uFEFF\nb"]) add("bom", s);
  for (const s of ["a\u180Eb", "a \u180E b", "\u180E\u180E x"]) add("mongolian_vowel_separator", s);
  // Where the two \s definitions change the split: U+0085/U+FEFF right after spaces or before newlines.
  for (const c of ["\u0085", "\uFEFF"]) {
    for (const s of [`a  ${c}b`, `x   ${c}${c} y`, `\t${c}z`, `a ${c}1`, `if x:\n  ${c}return`, `${c}  \n`, `a${c}\r\n\r\nb`,
      `  ${c}`, `word ${c} ${c} word`, `${c}\t${c}`]) add(c === "\u0085" ? "nel" : "bom", s);
  }
  // Controls and invisible characters, common in tool output (ANSI colours) and pasted text.
  for (const s of ["a\u0000b", "\u0001\u0002\u0003", "del\u007f", "\u001b[31mred\u001b[0m plain", "\u001b[1;32m✓\u001b[0m ok",
    "bell\u0007", "back\bspace", "zero\u200Bwidth", "zw\u200Cnj", "zw\u200Dj", "word\u2060joiner", "soft\u00ADhyphen",
    "\u200Eltr\u200F", "\u2066iso\u2069", "vs\uFE0F", "\uFE0E", "pua\uE000\uF8FF", "non\uFFFEchar\uFFFF", "max\u{10FFFF}",
    "unassigned\u0378", "\uFFFD replacement", "𝐀𝐁𝐂 𝑥𝑦𝑧", "ＡＢＣ ｆｕｌｌ", "ﬁne ﬂow", "ǅungla", "ㄱㅏ", "ﾊﾝｶｸ", "x\u0300\u0301\u0302",
    "\u0301 leading mark", "\u0000"]) add("controls_invisibles", s);
  for (const c of POST_UNICODE14) {
    add("post_unicode14", `a${c}b`);
    add("post_unicode14", ` ${c}${c} x`);
    add("post_unicode14", `${c}123`);
  }
  // Numbers: Qwen splits every digit.
  for (const n of NUMBERS) {
    add("number", n);
    add("number", `x = ${n};`);
  }
  add("number", "3141592653589793238462643383279502884197169399375105820974944592307816406286");
  add("number", "1234567890".repeat(20));
  // Normalisation.
  for (const s of NFC_CHANGES) {
    add("nfc", s);
    add("nfc", `word ${s} word`);
    add("nfc", `${s}${s}`);
  }
  // Emoji, including ZWJ sequences, skin tones, flags, keycaps, tags.
  for (const e of EMOJI) {
    add("emoji", e);
    add("emoji", `Hi ${e}!`);
    add("emoji", `${e}${e}${e}`);
  }
  // Scripts.
  for (const [script, words] of Object.entries(WORDS)) {
    add(`script_${script}`, words.join(" "));
    add(`script_${script}`, words.join(""));
    add(`script_${script}`, words.join("\n"));
  }
  // Added tokens: alone, in words, adjacent, partial, nested, with whitespace around.
  for (const t of ADDED_TOKENS) {
    add("added", t);
    add("added", `x${t}y`);
    add("added", ` ${t} `);
    add("added", `${t}${t}`);
    add("added", `\n${t}\n`);
    add("added", t.slice(0, -1));
    add("added", t.slice(1));
    add("added", `${t.slice(0, 3)} ${t.slice(3)}`);
    add("added", t.toUpperCase());
  }
  for (const s of ["<|im_start|><|im_end|><|endoftext|>", "<<|im_start|>>", "<|im_start|im_end|>", "<think></think>",
    "<think>\n\n</think>\n\n", "</think >", "< think>", "<tool_call></tool_call>", "<|im_start|>assistant\n<think>\n",
    "<|im_end|>\n<|im_start|>", "text<|endoftext|>more<|endoftext|>", "<|<|im_end|>|>", "<|fim_prefix|><|fim_suffix|><|fim_middle|>"]) add("added", s);
  // Very long words (the BPE heap path), minified code, base64, hex.
  add("long_word", "a".repeat(5000));
  add("long_word", "ab".repeat(3000));
  add("long_word", "supercalifragilisticexpialidocious".repeat(40));
  add("long_word", "x".repeat(300) + " " + "y".repeat(300));
  add("long_word", "é".repeat(800));
  add("long_word", "你".repeat(1000));
  add("long_word", "😀".repeat(300));
  add("long_word", "=".repeat(2000));
  add("long_word", "-_".repeat(700));
  const r = rng(7);
  const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let k = 0; k < 6; k++) {
    let s = "";
    for (let i = 0; i < 400 + 500 * k; i++) s += b64[r.int(64)];
    add("long_word", s + "==");
  }
  for (let k = 0; k < 4; k++) {
    let s = "0x";
    for (let i = 0; i < 256 * (k + 1); i++) s += "0123456789abcdef"[r.int(16)];
    add("long_word", s);
  }
  add("long_word", "function(a,b){return a+b}".repeat(60));
  add("long_word", "https://example.com/" + "very-long-path-segment/".repeat(40) + "?q=" + "x".repeat(200));
  for (const [kind, text] of snippetCases()) add(`code_${kind}`, text);
  for (const [kind, text] of snippetCases()) add(`code_${kind}_crlf`, text.replaceAll("\n", "\r\n"));
  for (const [kind, text] of snippetCases()) add(`code_${kind}_tabs`, text.replaceAll("    ", "\t"));
  return cases;
}

// Code-like text from templates: identifiers, indentation, operators, literals, comments.
function generatedCode(r, count) {
  const idents = ["i", "j", "x", "y", "buf", "len", "count", "userId", "user_id", "HTTPServer", "parseJSON", "_private",
    "__init__", "kMaxSize", "MAX_SIZE", "tmp2", "résumé", "数据", "värde", "camelCaseName", "snake_case_name", "a1b2"];
  const ops = [" = ", " == ", " != ", " += ", " -> ", " => ", " && ", " || ", "::", ".", "->", " << ", " >> ", " ?? ", " ?. ",
    " <= ", " >= ", " % ", "**", " := ", " |> "];
  const lits = ['"hello"', "'c'", '""', "0", "1.5f", "0xFF", "1_000", "true", "nullptr", "None", "`tpl ${x}`", 'r"\\d+"',
    '"tab\\there"', '"中文"', '"emoji 🎉"', "[]", "{}", "1e10"];
  const comments = ["// TODO: fix", "# note", "/* block */", "-- sql comment", "/// doc comment", "<!-- html -->",
    "// 注释", "# NOTE(user): don't touch", ""];
  const out = [];
  for (let n = 0; n < count; n++) {
    const lines = [];
    const indentUnit = r.pick(["  ", "    ", "\t", "        "]);
    const eol = r.chance(0.15) ? "\r\n" : "\n";
    let depth = 0;
    const nLines = 1 + r.int(12);
    for (let l = 0; l < nLines; l++) {
      let line = indentUnit.repeat(depth);
      const shape = r.int(6);
      if (shape === 0) line += `${r.pick(["if", "while", "for", "fn", "def", "func"])} (${r.pick(idents)}${r.pick(ops)}${r.pick(lits)}) {`;
      else if (shape === 1) line += `${r.pick(idents)}${r.pick(ops)}${r.pick(idents)}(${r.pick(lits)}, ${r.pick(idents)});`;
      else if (shape === 2) line += `return ${r.pick(idents)}${r.pick(ops)}${r.pick(lits)};`;
      else if (shape === 3) line += r.pick(comments);
      else if (shape === 4) line += `${r.pick(idents)}[${r.int(1000)}]${r.pick(ops)}${r.pick(lits)}`;
      else line += "}";
      if (r.chance(0.2)) line += " ".repeat(1 + r.int(4)) + r.pick(comments);
      if (r.chance(0.1)) line += " ".repeat(1 + r.int(3));  // trailing spaces
      lines.push(line);
      if (shape === 0) depth++;
      else if (shape === 5 && depth > 0) depth--;
      if (r.chance(0.1)) lines.push("");
    }
    out.push({ kind: "generated_code", text: lines.join(eol) + (r.chance(0.7) ? eol : "") });
  }
  return out;
}

// Random mixtures of every kind of fragment, including added tokens, to exercise the boundaries.
function generatedMixes(r, count) {
  const pools = [
    () => r.pick(ALL_WORDS), () => r.pick(ALL_WORDS), () => r.pick(ALL_WORDS),
    () => r.pick(PUNCT), () => r.pick(PUNCT), () => r.pick(SPACES), () => r.pick(SPACES), () => " ",
    () => r.pick(EMOJI), () => r.pick(NUMBERS), () => r.pick(NFC_CHANGES), () => r.pick(CONTRACTIONS),
    () => (r.chance(0.3) ? r.pick(ADDED_TOKENS) : " "),
    () => String.fromCodePoint(0x20 + r.int(0x5f)),
    () => String.fromCodePoint(0xa0 + r.int(0x250)),
    () => String.fromCodePoint(0x4e00 + r.int(0x5000)),
    () => String.fromCodePoint(0x0300 + r.int(0x70)),  // a lone combining mark
    () => String.fromCodePoint(0x1f300 + r.int(0x300)),
  ];
  const out = [];
  for (let n = 0; n < count; n++) {
    const parts = [];
    const len = 1 + r.int(r.chance(0.1) ? 200 : 25);
    for (let i = 0; i < len; i++) parts.push(r.pick(pools)());
    out.push({ kind: "generated_mix", text: parts.join("") });
  }
  return out;
}

// Sentences of prose in several languages with varied spacing and punctuation.
function generatedProse(r, count) {
  const out = [];
  const scripts = Object.keys(WORDS);
  for (let n = 0; n < count; n++) {
    const words = WORDS[r.pick(scripts)];
    const parts = [];
    const len = 3 + r.int(30);
    for (let i = 0; i < len; i++) {
      let w = r.pick(words);
      if (r.chance(0.1)) w = w.toUpperCase();
      if (r.chance(0.1)) w = w[0].toUpperCase() + w.slice(1);
      parts.push(w);
      if (r.chance(0.15)) parts.push(r.pick([",", ".", "!", "?", ":", ";", "...", "、", "。", "，"]));
      parts.push(r.chance(0.9) ? " " : r.pick(SPACES));
    }
    out.push({ kind: "generated_prose", text: parts.join("").trimEnd() + (r.chance(0.5) ? "\n" : "") });
  }
  return out;
}

// Bytes that are not valid UTF-8, mixed with valid text. Stored as hex; the reference decodes them with
// the WHATWG UTF-8 decoder (U+FFFD per maximal subpart), the rule hearth's encode applies.
function invalidUtf8(r, count) {
  const bad = [
    [0x80], [0xbf], [0xc0], [0xc1, 0xbf], [0xc2], [0xe0, 0x80], [0xe0, 0x9f, 0xbf], [0xe2, 0x82], [0xed, 0xa0, 0x80],
    [0xed, 0xbf, 0xbf], [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x9f], [0xf0, 0x9f, 0x98], [0xf4, 0x90, 0x80, 0x80],
    [0xf5], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfe], [0xff], [0xc3, 0x28], [0xe2, 0x28, 0xa1], [0xf0, 0x28, 0x8c, 0xbc],
    [0xe1, 0x80, 0xe1, 0x80], [0x80, 0x80, 0x80],
  ];
  const good = ["abc", " ", "é", "中", "😀", "<|im_end|>", "\n", "it's", "123", "ñ"];
  const enc = new TextEncoder();
  const out = [];
  for (let n = 0; n < count; n++) {
    const bytes = [];
    const len = 1 + r.int(8);
    for (let i = 0; i < len; i++) {
      if (r.chance(0.5)) bytes.push(...r.pick(bad));
      else bytes.push(...enc.encode(r.pick(good)));
    }
    out.push({ kind: "invalid_utf8", bytes_hex: Buffer.from(bytes).toString("hex") });
  }
  for (const b of bad) out.push({ kind: "invalid_utf8", bytes_hex: Buffer.from(b).toString("hex") });
  return out;
}

export function buildCorpus() {
  const r = rng(20250131);
  return [
    ...handwrittenCases(),
    ...generatedCode(r, 600),
    ...generatedProse(r, 350),
    ...generatedMixes(r, 900),
    ...invalidUtf8(r, 120),
  ];
}
