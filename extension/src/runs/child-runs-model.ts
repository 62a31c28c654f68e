/**
 * A run's family for its detail view: the run it is part of, and its child runs (a sweep's
 * trials, an automation's steps) in the order they started, each failed one with its error.
 */
import { MlopsAPI, getRun, listRuns } from '../api';
import { errorSummary } from './runs-model';

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

/** The label of a run: its name, else the first 8 characters of its id. */
export function runLabel(run: { id: string; name: string | null }): string {
  return run.name || run.id.slice(0, 8);
}

function related(
  run: MlopsAPI.IRunSummary,
  error: string | null = null
): IRelatedRun {
  return {
    id: run.id,
    label: runLabel(run),
    status: run.status,
    duration: run.duration,
    error: errorSummary(error)
  };
}

function ended(status: MlopsAPI.RunStatus): boolean {
  return status === 'failed' || status === 'crashed';
}

/**
 * Load ``run``'s parent and child runs. The list answer carries no tracebacks, so each failed
 * child's error comes from its own detail (a chain stops at its first failure: few of them).
 */
export async function loadFamily(run: {
  id: string;
  parent_run_id: string | null;
}): Promise<IRunFamily> {
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
  const children = await Promise.all(
    page.runs.map(child =>
      ended(child.status)
        ? getRun(child.id).then(
            detail => related(child, detail.error),
            () => related(child)
          )
        : Promise.resolve(related(child))
    )
  );
  return {
    parent: parent && related(parent, parent.error),
    children,
    total: page.total
  };
}
