"""The language server, `trialcode lsp`: the parser and the checker of `trialcode check`, for
editors (diagnostics as you type, hover, go to definition, references, rename, completion,
outline, formatting, quick fixes). See docs/editor.md."""
