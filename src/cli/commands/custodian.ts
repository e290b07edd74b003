import type { Command } from "commander";

import { addCustodianSubcommands } from "../../custodian/main.js";

/**
 * `omni-consent custodian start|keygen|log`: run a key custodian (src/custodian). The same
 * subcommands as `node dist/src/custodian/main.js`, so a custodian is one process either way.
 */
export function registerCustodianCommands(program: Command): void {
  addCustodianSubcommands(
    program.command("custodian").description("run a key custodian: releases shares only under consent"),
  );
}
