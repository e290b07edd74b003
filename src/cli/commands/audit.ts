import type { Command } from "commander";

/**
 * Registers the auditor commands (`sync`, `state`, `verify`, `report`) on the
 * given commander program. Implementation lands in follow-up commits.
 */
export function registerAuditCommands(program: Command): void {
  program
    .command("audit-placeholder", { hidden: true })
    .description("auditor toolkit (being implemented)")
    .action(() => {
      throw new Error("audit commands are not implemented yet");
    });
}
