#!/usr/bin/env node
// Executable shim: the CLI is compiled to dist/ by `npm run build` (tsc -p tsconfig.build.json).
import "../dist/src/cli/main.js";
