/**
 * The registered jobs' day records (aggregation-job.ts DayRecordState): row field → record,
 * one per job keeping one. The shard's day accumulator holds them and runs every job over each
 * event, each closed session and each report; the day's JSON row stores them as its fields, in
 * registration order (the order the row has always had: `funnel`, then `abandoned`).
 */
import type { EnrichedEvent } from "../../protocol";
import type { SessionState } from "../ingest-shard/session-state";
import type { DayPartial } from "../shard-to-hub/shard-live-state";
import { emptyRecord } from "../shared/safe-record";
import type { DayRecordState, JobEventContext } from "./aggregation-job";
import { AGGREGATION_JOBS } from "./registered-jobs";

/** Row field → the job's record. */
export type DayRecords = Record<string, unknown>;

function registeredDayRecords(): readonly DayRecordState<unknown>[] {
  const states: DayRecordState<unknown>[] = [];
  const fields = new Set<string>();
  for (const job of AGGREGATION_JOBS) {
    const state = job.dayRecord;
    if (state === undefined) continue;
    if (fields.has(state.rowField)) throw new Error(`two day records in row field ${state.rowField}`);
    fields.add(state.rowField);
    states.push(state);
  }
  return states;
}

/** Jobs keeping a record per day, in registration order. */
export const DAY_RECORD_JOBS = registeredDayRecords();

export function emptyDayRecords(): DayRecords {
  const records = emptyRecord<unknown>();
  for (const state of DAY_RECORD_JOBS) records[state.rowField] = state.empty();
  return records;
}

/** The records as stored in a day's row; a field the row lacks (a job added since it was written) starts empty. */
export function storedDayRecords(row: Record<string, unknown>): DayRecords {
  const records = emptyRecord<unknown>();
  for (const state of DAY_RECORD_JOBS) records[state.rowField] = row[state.rowField] ?? state.empty();
  return records;
}

export function addEventToDayRecords(records: DayRecords, event: EnrichedEvent, context: JobEventContext): void {
  for (const state of DAY_RECORD_JOBS) state.add?.(records[state.rowField], event, context);
}

/** Whether closing `session` changes any day record (else the day of its close is left alone). */
export function closedSessionTouchesDay(session: SessionState): boolean {
  return DAY_RECORD_JOBS.some((state) => state.takesClosedSession?.(session) === true);
}

export function addClosedSessionToDayRecords(records: DayRecords, session: SessionState): void {
  for (const state of DAY_RECORD_JOBS)
    if (state.takesClosedSession?.(session) === true) state.sessionClosed?.(records[state.rowField], session);
}

export function reportDayRecords(records: DayRecords, partial: DayPartial): void {
  for (const state of DAY_RECORD_JOBS) state.report(records[state.rowField], partial);
}

/** A job's record, typed as the job's (for tests and tools reading one job's state). */
export function dayRecordOf<Record>(records: DayRecords, state: DayRecordState<Record> | undefined): Record {
  if (state === undefined) throw new Error("the job keeps no day record");
  return records[state.rowField] as Record;
}
