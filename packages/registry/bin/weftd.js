#!/usr/bin/env node
// Thin launcher: the daemon is built into dist/ by `tsc -b`.
const { main } = await import('../dist/weftd-main.js');
await main(process.argv.slice(2));
