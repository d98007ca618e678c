// paralift for VS Code: a thin client. All logic lives in the language server
// (`python -m paralift.lsp`, the same code as the `paralift` CLI); this file
// starts it over stdio, turns its code actions into client commands, shows a
// diff preview of the verified translation and applies it with
// workspace.applyEdit.
//
// Command names: the server's commands are `paralift.server.*` (the language
// client registers those itself); the client's own are `paralift.*` below and
// never collide with them.
'use strict';

const path = require('path');
const vscode = require('vscode');
const { LanguageClient, ExecuteCommandRequest, State } = require('vscode-languageclient/node');

const SERVER_TRANSLATE = 'paralift.server.translate';
const SERVER_CANCEL = 'paralift.server.cancel';
const CLIENT_RUN = 'paralift.runTranslation';
const PREVIEW_SCHEME = 'paralift-preview';
const LANGUAGES = ['c', 'cpp', 'cuda-cpp'];
const TARGET_LABELS = { openmp: 'OpenMP', mpi: 'MPI', cuda: 'CUDA' };

let client = null;
let output = null;
const previews = new Map();   // preview uri -> text
let previewCounter = 0;

// ------------------------------------------------------------------ server

function settings() {
  const cfg = vscode.workspace.getConfiguration('paralift');
  return {
    backend: cfg.get('backend', []),
    model: cfg.get('model', '') || null,
    endpoint: cfg.get('endpoint', '') || null,
    samples: cfg.get('samples', null),
    timing: cfg.get('timing', true),
    hints: { enabled: cfg.get('hints.enabled', false) },
    maxJobs: cfg.get('maxJobs', 2),
    // The client previews and applies edits itself.
    applyEdits: false,
  };
}

function interpreter() {
  const configured = vscode.workspace.getConfiguration('paralift').get('interpreter', 'python3') || 'python3';
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  return configured.replace(/\$\{workspaceFolder\}/g, folder ? folder.uri.fsPath : '');
}

function makeClient() {
  const command = interpreter();
  const serverOptions = {
    command,
    args: ['-m', 'paralift.lsp'],
    options: { env: Object.assign({}, process.env, { PYTHONUNBUFFERED: '1' }) },
  };
  const documentSelector = [];
  for (const language of LANGUAGES) {
    documentSelector.push({ scheme: 'file', language });
    documentSelector.push({ scheme: 'untitled', language });
  }
  const clientOptions = {
    documentSelector,
    outputChannel: output,
    initializationOptions: settings(),
    synchronize: { configurationSection: 'paralift' },
    middleware: {
      // The server binds its code actions to its own command; run them
      // through the client's command instead, which previews the result.
      provideCodeActions: async (document, range, context, token, next) => {
        const actions = await next(document, range, context, token);
        if (!actions) {
          return actions;
        }
        for (const action of actions) {
          const cmd = action instanceof vscode.CodeAction ? action.command : action;
          if (cmd && cmd.command === SERVER_TRANSLATE) {
            cmd.command = CLIENT_RUN;
          }
        }
        return actions;
      },
    },
  };
  return new LanguageClient('paralift', 'paralift', serverOptions, clientOptions);
}

async function startClient() {
  client = makeClient();
  try {
    await client.start();
  } catch (err) {
    const choice = await vscode.window.showErrorMessage(
      `paralift: the language server did not start with "${interpreter()}" (${err.message || err}). ` +
        "Set paralift.interpreter to a Python with `pip install 'paralift[lsp]'`.",
      'Open Settings');
    if (choice === 'Open Settings') {
      vscode.commands.executeCommand('workbench.action.openSettings', 'paralift.interpreter');
    }
  }
}

async function stopClient() {
  if (client) {
    const old = client;
    client = null;
    if (old.state === State.Running) {
      await old.stop();
    }
  }
}

function ready() {
  if (!client || client.state !== State.Running) {
    vscode.window.showWarningMessage('paralift: the language server is not running (see "paralift: Show the log").');
    return false;
  }
  return true;
}

// ------------------------------------------------------------------ translation

// `arg` is the server command's argument: {uri, version, function, target}.
async function runTranslation(arg) {
  if (!ready() || !arg || typeof arg !== 'object') {
    return undefined;
  }
  const label = `${arg.function} → ${TARGET_LABELS[arg.target] || arg.target}`;
  output.appendLine(`[paralift] translating ${label} (${arg.uri}, version ${arg.version})`);
  let result;
  try {
    // The server reports work-done progress (with a cancel button) itself.
    result = await client.sendRequest(ExecuteCommandRequest.type, { command: SERVER_TRANSLATE, arguments: [arg] });
  } catch (err) {
    if (!/cancel/i.test(String(err.message || err))) {
      vscode.window.showErrorMessage(`paralift: ${label}: ${err.message || err}`);
    }
    return undefined;
  }
  logResult(label, result);
  await present(label, result);
  return result;
}

function logResult(label, result) {
  output.appendLine(`[paralift] ${label}: ${result.status}: ${result.message}`);
  for (const c of result.candidates || []) {
    const tests = c.tests ? `${c.tests.passed}/${c.tests.total} tests` : '';
    const speedup = typeof c.speedup === 'number' ? `, ${c.speedup.toFixed(2)}x` : '';
    output.appendLine(`    ${c.agent}${c.model ? ' (' + c.model + ')' : ''}: ${c.status}, ${tests}${speedup}` +
      (c.reason ? ` — ${c.reason}` : ''));
  }
}

async function present(label, result) {
  switch (result.status) {
    case 'verified':
      return offerEdit(label, result);
    case 'stale': {
      const again = await vscode.window.showWarningMessage(`paralift: ${result.message}`, 'Run Again');
      if (again) {
        const doc = findDocument(result.uri);
        if (doc) {
          return runTranslation({ uri: result.uri, version: doc.version, function: result.function, target: result.target });
        }
      }
      return undefined;
    }
    case 'cancelled':
      vscode.window.setStatusBarMessage(`paralift: ${label} cancelled`, 4000);
      return undefined;
    case 'error':
      return undefined;   // the server has shown the message
    default: {
      const pick = await vscode.window.showWarningMessage(`paralift: ${result.message}`, 'Show Candidates');
      if (pick) {
        await showCandidates(label, result);
      }
      return undefined;
    }
  }
}

function findDocument(uri) {
  return vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
}

async function offerEdit(label, result) {
  if (!result.edit) {
    const pick = await vscode.window.showInformationMessage(`paralift: ${result.message}`, 'Open Result');
    if (pick) {
      const doc = await vscode.workspace.openTextDocument({ content: result.newText || '', language: 'cuda-cpp' });
      await vscode.window.showTextDocument(doc);
    }
    return undefined;
  }
  const preview = vscode.workspace.getConfiguration('paralift').get('previewBeforeApply', true);
  if (preview) {
    const source = vscode.Uri.parse(result.uri);
    const target = result.newUri ? vscode.Uri.parse(result.newUri) : source;
    const name = path.posix.basename(target.path);
    const right = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: '/' + name, query: String(++previewCounter) });
    previews.set(right.toString(), result.newText || '');
    await vscode.commands.executeCommand('vscode.diff', source, right, `${name}: ${label} (paralift, preview)`,
      { preview: true });
    const choice = await vscode.window.showInformationMessage(`paralift: ${result.message}`, 'Apply', 'Show Candidates',
      'Discard');
    previews.delete(right.toString());
    if (choice === 'Show Candidates') {
      await showCandidates(label, result);
      return offerEdit(label, Object.assign({}, result));
    }
    if (choice !== 'Apply') {
      return undefined;
    }
  }
  const edit = await client.protocol2CodeConverter.asWorkspaceEdit(result.edit);
  const applied = await vscode.workspace.applyEdit(edit);
  if (!applied) {
    // A versioned edit is refused when the document changed since.
    vscode.window.showWarningMessage(`paralift: ${label}: not applied (the document changed); run it again.`);
    return undefined;
  }
  if (result.newUri && result.newUri !== result.uri) {
    await vscode.window.showTextDocument(vscode.Uri.parse(result.newUri));
  }
  return applied;
}

async function showCandidates(label, result) {
  const items = (result.candidates || []).map((c) => ({
    label: `${c.status === 'verified' ? '$(pass)' : '$(error)'} ${c.agent}${c.model ? ' · ' + c.model : ''}`,
    description: `${c.tests ? c.tests.passed + '/' + c.tests.total + ' tests' : ''}` +
      (typeof c.speedup === 'number' ? ` · ${c.speedup.toFixed(2)}x` : ''),
    detail: c.reason || c.status,
  }));
  if (!items.length) {
    items.push({ label: 'no candidate', detail: result.message });
  }
  await vscode.window.showQuickPick(items, { title: `paralift: candidates for ${label}` });
}

// Ask the server for its code actions at the selection and run one of them.
async function parallelizeSelection(target) {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !LANGUAGES.includes(editor.document.languageId)) {
    vscode.window.showInformationMessage('paralift: open a C, C++ or CUDA file and select a loop or a function.');
    return undefined;
  }
  if (!ready()) {
    return undefined;
  }
  const actions = await vscode.commands.executeCommand('vscode.executeCodeActionProvider',
    editor.document.uri, editor.selection, vscode.CodeActionKind.RefactorRewrite.value) || [];
  const ours = actions.filter((a) => a.command && a.command.command === CLIENT_RUN && a.command.arguments &&
    (!target || a.command.arguments[0].target === target));
  const disabled = actions.find((a) => a.disabled && /paralift/.test(a.disabled.reason || ''));
  if (!ours.length) {
    vscode.window.showInformationMessage(disabled ? disabled.disabled.reason :
      'paralift: no function to parallelize at the selection (place it inside a function other than main).');
    return undefined;
  }
  let chosen = ours[0];
  if (ours.length > 1) {
    const pick = await vscode.window.showQuickPick(ours.map((a) => ({ label: a.title, action: a })),
      { title: 'paralift: parallelize' });
    if (!pick) {
      return undefined;
    }
    chosen = pick.action;
  }
  return runTranslation(chosen.command.arguments[0]);
}

// ------------------------------------------------------------------ activation

function activate(context) {
  output = vscode.window.createOutputChannel('paralift');
  context.subscriptions.push(output);
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, {
    provideTextDocumentContent: (uri) => previews.get(uri.toString()) || '',
  }));
  const register = (id, fn) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  register(CLIENT_RUN, runTranslation);
  register('paralift.parallelize', () => parallelizeSelection(null));
  register('paralift.parallelizeOpenMP', () => parallelizeSelection('openmp'));
  register('paralift.parallelizeMPI', () => parallelizeSelection('mpi'));
  register('paralift.parallelizeCUDA', () => parallelizeSelection('cuda'));
  register('paralift.cancelAll', async () => {
    if (ready()) {
      const r = await client.sendRequest(ExecuteCommandRequest.type, { command: SERVER_CANCEL, arguments: [] });
      vscode.window.setStatusBarMessage(`paralift: cancelled ${r ? r.cancelled : 0} translation(s)`, 4000);
    }
  });
  register('paralift.toggleHints', async () => {
    const cfg = vscode.workspace.getConfiguration('paralift');
    await cfg.update('hints.enabled', !cfg.get('hints.enabled', false), vscode.ConfigurationTarget.Global);
  });
  register('paralift.restartServer', async () => {
    await stopClient();
    await startClient();
  });
  register('paralift.showOutput', () => output.show());
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration(async (e) => {
    if (e.affectsConfiguration('paralift.interpreter')) {
      await stopClient();
      await startClient();
    }
  }));
  return startClient();
}

function deactivate() {
  return stopClient();
}

module.exports = { activate, deactivate };
