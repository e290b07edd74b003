import { createContext } from "preact";
import { useContext } from "preact/hooks";

import type { NameBook } from "./data.js";
import type { ViewNames } from "./names.js";

/**
 * What every component of a view needs beside its data: whose names to show, the time relative
 * forms are said from, whose report it is ("you"), and how many rows a table shows. The static
 * report and the live app each provide it once at the top (`<ViewSettings.Provider value=…>`).
 */
export interface ViewSettingsValue {
  names: ViewNames;
  /** Unix seconds: "in 23 h" / "3 days ago" are said from here (the report's as-of time; the app's clock). */
  now: number;
  /** The owner whose report this is: their address reads "you". Lowercase hex. */
  self?: string;
  /** Rows per table (the rest is in the JSON / CSV report); undefined: every row. */
  rowLimit?: number;
}

/** No names known: every account and data id shows as short hex (the full hex one click away). */
export const NO_NAMES: NameBook = { nameOf: () => undefined, labelOf: () => undefined };

export const ViewSettings = createContext<ViewSettingsValue>({ names: NO_NAMES, now: Math.floor(Date.now() / 1000) });

export const useViewSettings = () => useContext(ViewSettings);
