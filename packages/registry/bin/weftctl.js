#!/usr/bin/env node
// Thin launcher: the CLI is built into dist/ by `tsc -b`.
const { main } = await import('../dist/weftctl-main.js');
await main(process.argv.slice(2));
