/**
 * The views (browser-safe): one home per view for the subject-access report, the Art. 30 record
 * and the owner's dashboard (issue 15). Build the data with `ViewBuilder` from decoded events,
 * names with `viewNames`, charts with `renderCharts`, then render the components (statically
 * with `renderOwnerHtml` / `renderRopaHtml`, or live in a Preact app inside `ViewSettings.Provider`).
 */
export * from "./build.js";
export * from "./charts.js";
export * from "./context.js";
export * from "./data.js";
export * from "./format.js";
export * from "./from-logs.js";
export * from "./names.js";
export * from "./owner.js";
export * from "./page.js";
export * from "./primitives.js";
export * from "./render.js";
export * from "./ropa.js";
export * from "./styles.js";
