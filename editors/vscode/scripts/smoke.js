#!/usr/bin/env node
// Smoke test of extension.js without VS Code: `vscode` and the language
// client are replaced by small fakes, then the extension is activated and
// driven: every contributed command is registered, the code-action
// middleware moves the server's command to the client's, and a translation
// result is previewed as a diff and applied with workspace.applyEdit (or not,
// when the user discards it). Exits non-zero on the first failure.
'use strict';

const assert = require('assert');
const Module = require('module');
const path = require('path');

const root = path.resolve(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));

const calls = [];
const commands = new Map();
let answer = 'Apply';
let lastClient = null;

class CodeAction {
  constructor(title, kind) {
    this.title = title;
    this.kind = kind;
  }
}

const fakeVscode = {
  CodeAction,
  CodeActionKind: { RefactorRewrite: { value: 'refactor.rewrite' } },
  ConfigurationTarget: { Global: 1 },
  Uri: {
    parse: (s) => ({ toString: () => s, path: s.replace(/^[a-z]+:\/\//, ''), scheme: s.split(':')[0] }),
    from: (o) => ({ toString: () => `${o.scheme}:${o.path}?${o.query}`, path: o.path, scheme: o.scheme }),
  },
  window: {
    createOutputChannel: () => ({ appendLine: () => {}, show: () => {}, dispose: () => {} }),
    showInformationMessage: async (msg, ...items) => {
      calls.push(['info', msg, items]);
      return items.includes(answer) ? answer : undefined;
    },
    showWarningMessage: async (msg) => { calls.push(['warn', msg]); return undefined; },
    showErrorMessage: async (msg) => { calls.push(['error', msg]); return undefined; },
    showQuickPick: async (items) => { calls.push(['pick', items]); return undefined; },
    showTextDocument: async (x) => { calls.push(['show', String(x)]); },
    setStatusBarMessage: (msg) => { calls.push(['status', msg]); },
    activeTextEditor: undefined,
  },
  workspace: {
    workspaceFolders: undefined,
    textDocuments: [],
    getConfiguration: () => ({ get: (_key, dflt) => dflt, update: async () => {} }),
    registerTextDocumentContentProvider: (scheme, provider) => {
      fakeVscode.workspace.provider = provider;
      return { dispose: () => {} };
    },
    onDidChangeConfiguration: () => ({ dispose: () => {} }),
    applyEdit: async (edit) => { calls.push(['applyEdit', edit]); return true; },
    openTextDocument: async () => ({}),
  },
  commands: {
    registerCommand: (id, fn) => {
      assert(!commands.has(id), `command ${id} registered twice`);
      commands.set(id, fn);
      return { dispose: () => {} };
    },
    executeCommand: async (id, ...args) => {
      calls.push(['exec', id, args]);
      if (id === 'vscode.diff') {
        // the preview's content is served while the diff is open
        calls.push(['previewText', fakeVscode.workspace.provider.provideTextDocumentContent(args[1])]);
      }
      return undefined;
    },
  },
};

const State = { Stopped: 1, Running: 2, Starting: 3 };
class LanguageClient {
  constructor(id, name, serverOptions, clientOptions) {
    Object.assign(this, { id, name, serverOptions, clientOptions, state: State.Stopped, requests: [] });
    this.protocol2CodeConverter = { asWorkspaceEdit: async (e) => ({ converted: e }) };
    lastClient = this;
  }

  async start() { this.state = State.Running; }

  async stop() { this.state = State.Stopped; }

  async sendRequest(type, params) {
    this.requests.push(params);
    return this.reply(params);
  }
}
const fakeClientModule = { LanguageClient, State, ExecuteCommandRequest: { type: 'workspace/executeCommand' } };

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'vscode' || request === 'vscode-languageclient/node') {
    return request;
  }
  return resolve.call(this, request, ...rest);
};
require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: fakeVscode };
require.cache['vscode-languageclient/node'] = {
  id: 'vscode-languageclient/node', filename: 'vscode-languageclient/node', loaded: true, exports: fakeClientModule,
};

const ext = require(path.join(root, 'extension.js'));

async function main() {
  const context = { subscriptions: [] };
  await ext.activate(context);

  // every contributed command is registered, none in the server's namespace
  const contributed = pkg.contributes.commands.map((c) => c.command).sort();
  assert.deepStrictEqual([...commands.keys()].sort(), contributed);
  assert(contributed.every((c) => !c.startsWith('paralift.server.')));

  // the server is started as `<interpreter> -m paralift.lsp` over stdio
  const client = lastClient;
  assert.strictEqual(client.serverOptions.command, 'python3');
  assert.deepStrictEqual(client.serverOptions.args, ['-m', 'paralift.lsp']);
  assert.strictEqual(client.clientOptions.initializationOptions.applyEdits, false);
  const languages = new Set(client.clientOptions.documentSelector.map((s) => s.language));
  assert.deepStrictEqual([...languages].sort(), ['c', 'cpp', 'cuda-cpp']);

  // middleware: the server's command becomes the client's
  const arg = { uri: 'file:///w/saxpy.c', version: 3, function: 'saxpy', target: 'openmp' };
  const action = new CodeAction('Parallelize `saxpy` with OpenMP', 'refactor.rewrite');
  action.command = { title: action.title, command: 'paralift.server.translate', arguments: [arg] };
  const other = new CodeAction('Something else', 'quickfix');
  other.command = { title: 'x', command: 'other.command', arguments: [] };
  const out = await client.clientOptions.middleware.provideCodeActions(
    {}, {}, {}, {}, async () => [action, other]);
  assert.strictEqual(out[0].command.command, 'paralift.runTranslation');
  assert.deepStrictEqual(out[0].command.arguments, [arg]);
  assert.strictEqual(out[1].command.command, 'other.command');

  // a verified result: diff preview, then applyEdit with the converted edit
  const edit = { documentChanges: [{ textDocument: { uri: arg.uri, version: 3 }, edits: [] }] };
  client.reply = () => ({
    status: 'verified', message: 'saxpy: verified by rule, 10/10 tests', uri: arg.uri, newUri: arg.uri,
    newText: '#include <omp.h>\n...', function: 'saxpy', target: 'openmp', edit,
    candidates: [{ agent: 'rule', status: 'verified', tests: { passed: 10, total: 10 }, speedup: 1.9 }],
  });
  await commands.get('paralift.runTranslation')(arg);
  assert.deepStrictEqual(client.requests.pop(), { command: 'paralift.server.translate', arguments: [arg] });
  const diff = calls.find((c) => c[0] === 'exec' && c[1] === 'vscode.diff');
  assert(diff, 'no diff preview');
  assert.strictEqual(calls.find((c) => c[0] === 'previewText')[1], '#include <omp.h>\n...');
  const applied = calls.filter((c) => c[0] === 'applyEdit');
  assert.strictEqual(applied.length, 1);
  assert.deepStrictEqual(applied[0][1], { converted: edit });

  // discarding applies nothing
  answer = 'Discard';
  calls.length = 0;
  await commands.get('paralift.runTranslation')(arg);
  assert.strictEqual(calls.filter((c) => c[0] === 'applyEdit').length, 0);

  // a stale result is not applied, and says so
  calls.length = 0;
  client.reply = () => ({ status: 'stale', message: 'the document changed', uri: arg.uri, candidates: [], edit: null });
  await commands.get('paralift.runTranslation')(arg);
  assert.strictEqual(calls.filter((c) => c[0] === 'applyEdit').length, 0);
  assert(calls.some((c) => c[0] === 'warn' && /changed/.test(c[1])));

  await ext.deactivate();
  assert.strictEqual(client.state, State.Stopped);
  console.log('smoke: ok');
}

main().catch((err) => {
  console.error(`smoke: FAILED: ${err.stack || err}`);
  process.exit(1);
});
