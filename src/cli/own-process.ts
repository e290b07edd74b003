/**
 * Whether the CLI is its own process (`bin/omni-consent.js`, `node dist/src/cli/main.js`) rather
 * than a guest in another program (the in-process tests call `runCli`): only then may a command
 * change a process-wide setting, such as the heap growth `audit sync` bounds.
 */
export const ownProcess = { value: false };
