// Tokenizes protocol files with the extension's TextMate grammar, as VS Code does
// (vscode-textmate with the Oniguruma regular-expression engine), and prints one JSON line per
// token: {"file", "line", "start", "end", "text", "scopes"}. Lines and columns are 1-based, as
// in trialcode's own messages.
//
//   node test/tokenize.js FILE...
//
// tests/protocol/test_editor_grammar.py runs it and checks the scopes against trialcode's parser.
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const root = path.resolve(__dirname, "..");
const grammarPath = path.join(root, "syntaxes", "trialcode.tmLanguage.json");
const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;

async function main(files) {
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== "source.trialcode") return null;
      const text = fs.readFileSync(grammarPath, "utf8");
      return vsctm.parseRawGrammar(text, grammarPath);
    },
  });
  const grammar = await registry.loadGrammar("source.trialcode");
  const out = [];
  for (const file of files) {
    const lines = fs.readFileSync(file, "utf8").split(/\r?\n/);
    let state = vsctm.INITIAL;
    lines.forEach((line, i) => {
      const result = grammar.tokenizeLine(line, state);
      for (const token of result.tokens) {
        const text = line.substring(token.startIndex, token.endIndex);
        if (!text.trim()) continue;
        out.push(JSON.stringify({
          file, line: i + 1, start: token.startIndex + 1, end: token.endIndex + 1, text,
          scopes: token.scopes,
        }));
      }
      state = result.ruleStack;
    });
  }
  process.stdout.write(out.join("\n") + "\n");
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});
