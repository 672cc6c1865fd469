/**
 * How many keys the shard keeps in each job's map. The shard keeps twice as many keys of a
 * day as it reports (capped-map.ts), so the reported top stays stable while the tail churns;
 * a window is short and its job keys go to the hub as they are, so it keeps what it reports.
 */
import { MAX_MAP_ENTRIES, MAX_VITAL_PAGES } from "../shard-to-hub/shard-live-state";

/** Distinct keys a window keeps per map (this only bounds abuse); the contract's cap. */
export const WINDOW_MAP_CAP = MAX_MAP_ENTRIES;
/** Distinct keys a day keeps per map. */
export const DAY_MAP_STORE_CAP = 2 * MAX_MAP_ENTRIES;
/** Pages of a day's web vitals kept. */
export const DAY_VITAL_PAGES_STORE_CAP = 2 * MAX_VITAL_PAGES;
