/**
 * The soak's gauges, read from outside the collector so reading them costs it nothing:
 * workerd's resident memory from /proc (Linux), Durable Object storage from the SQLite files
 * Miniflare keeps under its persistence directory, ClickHouse parts from `system.parts`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { descendantCpuMs, descendantPids } from "../../bench/cpu";
import { type ClickHouseTarget, queryNumber } from "./clickhouse-text";
import type { SoakGauges } from "./interval-recorder";

const WORKERD = /^workerd$/;

/** VmRSS of a process, bytes; null when it is gone. */
function residentBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Summed RSS of this process's workerd descendants (Miniflare runs one). */
export function workerdRssBytes(): number | null {
  const sizes = descendantPids(WORKERD)
    .map(residentBytes)
    .filter((size): size is number => size !== null);
  return sizes.length === 0 ? null : sizes.reduce((sum, size) => sum + size, 0);
}

/** SQLite's write-ahead log and its index: bounded by checkpoints, unlike the database file. */
const WAL_FILE = /-(wal|shm)$/;

interface FileBytes {
  database: number;
  wal: number;
}

function treeBytes(path: string, into: FileBytes): void {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    try {
      if (entry.isDirectory()) treeBytes(child, into);
      else if (entry.isFile()) {
        const size = statSync(child).size;
        if (WAL_FILE.test(entry.name)) into.wal += size;
        else into.database += size;
      }
    } catch {
      // A -journal or -wal file removed between listing and stat: it no longer takes space.
    }
  }
}

/**
 * Bytes per Durable Object class directory, e.g. "edgepulse-IngestShard": Miniflare keeps each
 * class in `<persist>/do/<worker>-<Class>/`, one SQLite database (plus WAL) per object.
 */
export function objectStorage(persistTo: string): Record<string, FileBytes> | null {
  const root = join(persistTo, "do");
  try {
    const byClass: Record<string, FileBytes> = {};
    for (const entry of readdirSync(root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const bytes = { database: 0, wal: 0 };
      treeBytes(join(root, entry.name), bytes);
      byClass[entry.name] = bytes;
    }
    return byClass;
  } catch {
    return null;
  }
}

export async function readGauges(persistTo: string, clickhouse: ClickHouseTarget): Promise<SoakGauges> {
  const storage = objectStorage(persistTo);
  let shardStorageBytes: number | null = null;
  let shardWalBytes: number | null = null;
  let otherStorageBytes: number | null = null;
  if (storage !== null) {
    shardStorageBytes = 0;
    shardWalBytes = 0;
    otherStorageBytes = 0;
    for (const [name, bytes] of Object.entries(storage)) {
      if (name.endsWith("IngestShard")) {
        shardStorageBytes += bytes.database;
        shardWalBytes += bytes.wal;
      } else otherStorageBytes += bytes.database + bytes.wal;
    }
  }
  const clickhouseParts = await queryNumber(
    clickhouse,
    "SELECT count() FROM system.parts WHERE active AND database = currentDatabase()",
  ).catch(() => null);
  return {
    workerdRssBytes: workerdRssBytes(),
    shardStorageBytes,
    shardWalBytes,
    otherStorageBytes,
    clickhouseParts,
    workerdCpuMs: descendantCpuMs(WORKERD),
  };
}
