/**
 * What the panel's views share: a way to run a palette command (every action of a view is a
 * command, so it confirms and reports in one place).
 */
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import type { CommandID } from '../tokens';

/** Run a palette command with its arguments. */
export type ExecuteCommand = (
  id: CommandID,
  args?: ReadonlyPartialJSONObject
) => void;
