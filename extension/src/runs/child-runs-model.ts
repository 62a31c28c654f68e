/**
 * A run's family for its detail view: the run it is part of, and its child runs (a sweep's
 * trials, an automation's steps) in the order they started, each failed one with its error.
 */
import { MlopsAPI, getRun, listRuns } from '../api';
import { fetchErrorSummaries, runLabel } from './runs-model';

/** Child runs a detail lists; past this it says how many more there are. */
export const MAX_CHILDREN = 100;

/** A related run as the detail shows it. */
export interface IRelatedRun {
  /** Run id. */
  id: string;
  /** Its name, or the start of its id. */
  label: string;
  /** Lifecycle status. */
  status: MlopsAPI.RunStatus;
  /** Seconds, null while running. */
  duration: number | null;
  /** The last line of a failed or crashed run's error; empty otherwise. */
  error: string;
}

/** What {@link loadFamily} found. */
export interface IRunFamily {
  /** The run this one is part of; null for a top-level run (or a parent since deleted). */
  parent: IRelatedRun | null;
  /** Its first {@link MAX_CHILDREN} child runs, oldest first. */
  children: IRelatedRun[];
  /** How many child runs it has in all. */
  total: number;
}

function related(run: MlopsAPI.IRunSummary, error = ''): IRelatedRun {
  return {
    id: run.id,
    label: runLabel(run),
    status: run.status,
    duration: run.duration,
    error
  };
}

/**
 * Load ``run``'s parent and child runs. A failed child's error line comes from its detail
 * once: ``knownErrors`` (kept by the caller across refreshes) gains the ones fetched.
 */
export async function loadFamily(
  run: { id: string; parent_run_id: string | null },
  knownErrors: Record<string, string> = {}
): Promise<IRunFamily> {
  const [parent, page] = await Promise.all([
    run.parent_run_id
      ? getRun(run.parent_run_id).catch(() => null)
      : Promise.resolve(null),
    listRuns({
      parent: run.id,
      order_by: ['start_time ASC'],
      limit: MAX_CHILDREN
    })
  ]);
  Object.assign(knownErrors, await fetchErrorSummaries(page.runs, knownErrors));
  return {
    parent: parent && related(parent),
    children: page.runs.map(child => related(child, knownErrors[child.id])),
    total: page.total
  };
}
