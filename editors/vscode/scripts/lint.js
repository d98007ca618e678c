#!/usr/bin/env node
// A dependency-free lint of the extension (CI runs it even without npm):
// node --check of every .js file, then consistency between extension.js and
// package.json: every command the code registers is contributed and vice
// versa, menus name contributed commands, every setting read is declared,
// and no client command uses the server's `paralift.server.` namespace.
'use strict';

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const problems = [];
const problem = (msg) => problems.push(msg);

for (const file of ['extension.js', 'eslint.config.js', path.join('scripts', 'lint.js'), path.join('scripts', 'smoke.js')]) {
  try {
    execFileSync(process.execPath, ['--check', path.join(root, file)], { stdio: 'pipe' });
  } catch (err) {
    problem(`${file}: syntax error: ${String(err.stderr || err.message).trim()}`);
  }
}

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const src = fs.readFileSync(path.join(root, 'extension.js'), 'utf8');
const contributes = pkg.contributes || {};
const declared = new Set((contributes.commands || []).map((c) => c.command));
const submenus = new Set((contributes.submenus || []).map((s) => s.id));
const settings = new Set(Object.keys((contributes.configuration || {}).properties || {}));

if (!/^'use strict';$/m.test(src)) {
  problem("extension.js: missing 'use strict'");
}
if (pkg.main !== './extension.js') {
  problem(`package.json: main is ${pkg.main}, expected ./extension.js`);
}

// Commands registered in code: register('id', ...) / registerCommand('id', ...)
// and the constants they are registered through.
const constants = {};
for (const m of src.matchAll(/const\s+([A-Z_]+)\s*=\s*'([^']+)'/g)) {
  constants[m[1]] = m[2];
}
const registered = new Set();
for (const m of src.matchAll(/register(?:Command)?\(\s*(?:'([^']+)'|([A-Z_]+))\s*,/g)) {
  registered.add(m[1] || constants[m[2]]);
}
for (const id of registered) {
  if (!declared.has(id)) {
    problem(`command ${id} is registered but not contributed in package.json`);
  }
  if (id.startsWith('paralift.server.')) {
    problem(`client command ${id} collides with the server's command namespace`);
  }
}
for (const id of declared) {
  if (!registered.has(id)) {
    problem(`command ${id} is contributed but never registered`);
  }
}
for (const [menu, entries] of Object.entries(contributes.menus || {})) {
  for (const e of entries) {
    if (e.command && !declared.has(e.command)) {
      problem(`menu ${menu} names unknown command ${e.command}`);
    }
    if (e.submenu && !submenus.has(e.submenu)) {
      problem(`menu ${menu} names unknown submenu ${e.submenu}`);
    }
  }
  if (menu !== 'commandPalette' && !menu.includes('/') && !submenus.has(menu)) {
    problem(`menus: ${menu} is not a contributed submenu`);
  }
}

// Settings read through getConfiguration('paralift').get('x') / cfg.get('x').
for (const m of src.matchAll(/\.get\(\s*'([\w.]+)'/g)) {
  if (!settings.has(`paralift.${m[1]}`)) {
    problem(`setting paralift.${m[1]} is read but not declared in package.json`);
  }
}
for (const lang of ['onLanguage:c', 'onLanguage:cpp', 'onLanguage:cuda-cpp']) {
  if (!(pkg.activationEvents || []).includes(lang)) {
    problem(`activationEvents lacks ${lang}`);
  }
}

if (problems.length) {
  for (const p of problems) {
    console.error(`lint: ${p}`);
  }
  process.exit(1);
}
console.log(`lint: ok (${registered.size} commands, ${settings.size} settings)`);
