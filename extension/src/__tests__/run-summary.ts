import type { MlopsAPI } from '../api';

/** A finished run summary as `GET runs` answers it, with `extra` fields replaced. */
export function runSummary(
  id: string,
  extra: Partial<MlopsAPI.IRunSummary> = {}
): MlopsAPI.IRunSummary {
  return {
    id,
    name: null,
    experiment: 'e',
    status: 'finished',
    source: 'cell',
    start_time: 1000,
    end_time: 1010,
    duration: 10,
    notebook_path: null,
    notebook_version_id: null,
    parent_run_id: null,
    params: {},
    metrics: {},
    tags: {},
    ...extra
  };
}
