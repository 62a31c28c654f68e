/**
 * The data side of a model version's "Model card" section: loading the card, the fields a
 * person edits (description, intended use, known limitations), and saving only what changed.
 */
import { MlopsAPI, getModelCard, modelCardUrl, updateModelCard } from '../api';

/** The card fields the panel edits, in display order. */
export const CARD_FIELDS = [
  'description',
  'intended_use',
  'limitations'
] as const;

/** One editable card field. */
export type CardField = (typeof CARD_FIELDS)[number];

/** What each field is called in the panel. */
export const CARD_LABELS: Record<CardField, string> = {
  description: 'Description',
  intended_use: 'Intended use',
  limitations: 'Known limitations'
};

/** The longest text a field takes (core/reports/model_card.py MAX_TEXT). */
export const MAX_CARD_TEXT = 10000;

/** The text being edited, per field. */
export type CardDraft = Record<CardField, string>;

/** The draft a card starts from: its stored text ('' for none). */
export function draftOf(card: MlopsAPI.IDescribeModelCardResponse): CardDraft {
  return {
    description: card.description ?? '',
    intended_use: card.intended_use ?? '',
    limitations: card.limitations ?? ''
  };
}

/** The PATCH body: only the fields whose trimmed text differs from the stored one. */
export function cardChanges(
  card: MlopsAPI.IDescribeModelCardResponse,
  draft: CardDraft
): MlopsAPI.IUpdateModelCardRequest {
  const stored = draftOf(card);
  const body: MlopsAPI.IUpdateModelCardRequest = {};
  for (const field of CARD_FIELDS) {
    const text = draft[field].trim();
    if (text !== stored[field].trim()) {
      body[field] = text;
    }
  }
  return body;
}

/** What the section shows. */
export interface ICardState {
  /** The stored card (null until loaded). */
  card: MlopsAPI.IDescribeModelCardResponse | null;
  /** The text being edited. */
  draft: CardDraft;
  /** A save is in flight. */
  saving: boolean;
  /** The last load or save error, for the reader. */
  error: string | null;
}

/** Loads and saves one version's card; calls `onChange` after every state change. */
export class CardModel {
  /** Called after every change of {@link state}. */
  onChange: (() => void) | null = null;
  /** The current state. */
  state: ICardState = {
    card: null,
    draft: { description: '', intended_use: '', limitations: '' },
    saving: false,
    error: null
  };

  /** @param name - the model; @param version - its version. */
  constructor(
    readonly name: string,
    readonly version: number
  ) {}

  private set(patch: Partial<ICardState>): void {
    this.state = { ...this.state, ...patch };
    this.onChange?.();
  }

  /** Load the card (the draft starts from its stored text). */
  async load(): Promise<void> {
    try {
      const card = await getModelCard(this.name, this.version);
      this.set({ card, draft: draftOf(card), error: null });
    } catch (error) {
      this.set({
        error: `Cannot load the model card: ${(error as Error).message}`
      });
    }
  }

  /**
   * Take the version's description as changed elsewhere (*Edit*, `mlops models describe`): the
   * card's description is the version's own. The draft follows unless it was being edited.
   */
  syncDescription(description: string | null): void {
    const { card, draft } = this.state;
    if (!card || (card.description ?? '') === (description ?? '')) {
      return;
    }
    const untouched =
      draft.description.trim() === (card.description ?? '').trim();
    this.set({
      card: { ...card, description },
      draft: untouched ? { ...draft, description: description ?? '' } : draft
    });
  }

  /** Change one field of the draft. */
  edit(field: CardField, text: string): void {
    this.set({ draft: { ...this.state.draft, [field]: text } });
  }

  /** Whether the draft differs from the stored card. */
  get dirty(): boolean {
    const { card, draft } = this.state;
    return card !== null && Object.keys(cardChanges(card, draft)).length > 0;
  }

  /** The URL that opens the rendered card (null until loaded). */
  get htmlUrl(): string | null {
    return this.state.card ? modelCardUrl(this.state.card) : null;
  }

  /** Save what changed; true when the server took it. */
  async save(): Promise<boolean> {
    const { card, draft } = this.state;
    if (!card) {
      return false;
    }
    const body = cardChanges(card, draft);
    const tooLong = CARD_FIELDS.find(
      f => (body[f] ?? '').length > MAX_CARD_TEXT
    );
    if (tooLong) {
      this.set({
        error: `${CARD_LABELS[tooLong]} is longer than ${MAX_CARD_TEXT} characters; shorten it.`
      });
      return false;
    }
    if (!Object.keys(body).length) {
      return true;
    }
    this.set({ saving: true, error: null });
    try {
      const saved = await updateModelCard(this.name, this.version, body);
      this.set({ card: saved, draft: draftOf(saved), saving: false });
      return true;
    } catch (error) {
      this.set({
        saving: false,
        error: `Cannot save the model card: ${(error as Error).message}`
      });
      return false;
    }
  }
}
