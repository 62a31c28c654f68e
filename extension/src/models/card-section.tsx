/**
 * The "Model card" section of a model version's detail: the card's description, intended use
 * and known limitations as editable text, the top features of its permutation importance, and
 * a link that opens the whole card (rendered HTML) in a browser tab.
 */
import React, { useEffect, useMemo, useReducer } from 'react';

import { formatValue } from '../runs/runs-model';
import { CARD_FIELDS, CARD_LABELS, CardModel } from './card-model';

/** How many importance rows the section lists (the card has them all). */
const TOP_FEATURES = 5;

/** Props of {@link CardSection}. */
export interface ICardSectionProps {
  /** Model name. */
  name: string;
  /** Version number. */
  version: number;
  /** The version's description as the detail shows it (the card's description is the same). */
  description: string | null;
  /** Called after a save, so the detail shows the new description too. */
  onSaved?: () => void;
}

/** A version's model card, editable in place. */
export function CardSection(props: ICardSectionProps): JSX.Element {
  const model = useMemo(
    () => new CardModel(props.name, props.version),
    [props.name, props.version]
  );
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    model.onChange = redraw;
    void model.load();
    return () => {
      model.onChange = null;
    };
  }, [model]);
  useEffect(() => {
    model.syncDescription(props.description);
  }, [model, props.description]);
  const { card, draft, saving, error } = model.state;
  const save = async () => {
    if (await model.save()) {
      props.onSaved?.();
    }
  };
  const features = card?.importance?.features ?? [];
  const url = model.htmlUrl;
  return (
    <section className="jp-mlops-card" aria-label="model card">
      <h4>Model card</h4>
      {CARD_FIELDS.map(field => (
        <label key={field} className="jp-mlops-card-field">
          <span className="jp-mlops-muted">{CARD_LABELS[field]}</span>
          <textarea
            className="jp-mlops-input jp-mlops-card-input"
            aria-label={CARD_LABELS[field]}
            rows={2}
            disabled={!card}
            value={draft[field]}
            onChange={e => model.edit(field, e.target.value)}
          />
        </label>
      ))}
      <div className="jp-mlops-actions">
        <button
          className="jp-mlops-button jp-mlops-primary jp-mlops-save-card"
          disabled={!model.dirty || saving}
          onClick={() => void save()}
        >
          Save card
        </button>
        {url && (
          <a
            className="jp-mlops-button jp-mlops-open-card"
            href={url}
            target="_blank"
            rel="noopener noreferrer"
          >
            Open model card
          </a>
        )}
      </div>
      {card?.importance?.error && (
        <p className="jp-mlops-muted">{card.importance.error}</p>
      )}
      {features.length > 0 && (
        <table className="jp-mlops-kv jp-mlops-card-importance">
          <caption className="jp-mlops-muted">
            What drives it (permutation importance on the{' '}
            {card?.importance?.holdout})
          </caption>
          <tbody>
            {features.slice(0, TOP_FEATURES).map(f => (
              <tr key={f.name}>
                <th>{f.name}</th>
                <td className="jp-mlops-number">{formatValue(f.mean)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {card && !card.importance && (
        <p className="jp-mlops-muted">
          What drives its predictions is computed the first time the whole card
          is made (Open model card, or `mlops models card`).
        </p>
      )}
      {error && (
        <div className="jp-mlops-error" role="alert">
          {error}
        </div>
      )}
    </section>
  );
}
