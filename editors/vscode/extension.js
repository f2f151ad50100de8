// The trialcode extension: highlighting comes from syntaxes/ (no code needed); everything
// else comes from the language server, `trialcode lsp`, started here over stdio.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace
    .getConfiguration("trialcode")
    .get("server.command", ["trialcode", "lsp"]);
  const server = { command: command[0], args: command.slice(1) };
  client = new LanguageClient(
    "trialcode",
    "trialcode",
    { run: server, debug: server },
    { documentSelector: [{ language: "trialcode" }] },
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start().catch((err) => {
    vscode.window.showErrorMessage(
      `trialcode: cannot start the language server (${command.join(" ")}): ${err.message}. ` +
        "Install trialcode, or set trialcode.server.command.",
    );
  });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
