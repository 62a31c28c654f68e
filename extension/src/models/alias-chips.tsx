/**
 * A model's aliases as chips (`@production → v3`), optionally with a remove button each.
 */
import React from 'react';

/** Alias chips; with `onRemove`, each chip gets a × button. */
export function AliasChips(props: {
  aliases: [string, number | null][];
  onRemove?: (alias: string) => void;
}): JSX.Element {
  return (
    <span className="jp-mlops-chips">
      {props.aliases.map(([alias, version]) => (
        <span
          key={alias}
          className="jp-mlops-chip jp-mlops-chip-alias"
          data-alias={alias}
        >
          @{alias}
          {version !== null ? ` → v${version}` : ''}
          {props.onRemove && (
            <button
              className="jp-mlops-link"
              title={`Remove the alias ${alias}`}
              aria-label={`Remove alias ${alias}`}
              onClick={e => {
                e.stopPropagation();
                props.onRemove!(alias);
              }}
            >
              ×
            </button>
          )}
        </span>
      ))}
    </span>
  );
}
