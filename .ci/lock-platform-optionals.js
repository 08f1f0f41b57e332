#!/usr/bin/env node
// Records, in package-lock.json, the platform-specific optional packages that npm leaves out
// when the registry it talks to serves only this machine's platform (as the one here does).
// Without these entries `npm ci` refuses the lockfile ("Missing: ... from lock file").
// Run after every `npm install` that changes dependencies: node .ci/lock-platform-optionals.js
const fs = require('fs');
const path = require('path');

const file = path.resolve(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const pkgs = lock.packages;
const OS = /-(darwin|linux|win32|android|freebsd|openbsd|netbsd|sunos|aix)(?:-|$)/;
const CPU = /-(arm64|x64|arm|ia32|ppc64|s390x|riscv64|loong64|mips64el|wasm32)(?:-|$)/;
let added = 0;
for (const meta of Object.values(pkgs)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies || {})) {
    const key = `node_modules/${name}`;
    if (pkgs[key]) continue;
    const os = OS.exec(name);
    const cpu = CPU.exec(name);
    if (!os && !cpu) continue; // not a platform binary: npm records those itself
    const entry = { version };
    if (meta.dev) entry.dev = true;
    entry.optional = true;
    if (cpu) entry.cpu = [cpu[1]];
    if (os) entry.os = [os[1]];
    pkgs[key] = entry;
    added++;
  }
}
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`lock-platform-optionals: ${added} entr${added === 1 ? 'y' : 'ies'} added`);
