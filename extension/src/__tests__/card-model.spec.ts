import * as api from '../api';
import type { MlopsAPI } from '../api';
import { CardModel, cardChanges, draftOf } from '../models/card-model';

jest.mock('../api', () => ({
  getModelCard: jest.fn(),
  updateModelCard: jest.fn(),
  modelCardUrl: jest.fn()
}));

const getCard = api.getModelCard as jest.MockedFunction<
  typeof api.getModelCard
>;
const updateCard = api.updateModelCard as jest.MockedFunction<
  typeof api.updateModelCard
>;
const cardUrl = api.modelCardUrl as jest.MockedFunction<
  typeof api.modelCardUrl
>;

function card(
  patch: Partial<MlopsAPI.IDescribeModelCardResponse> = {}
): MlopsAPI.IDescribeModelCardResponse {
  return {
    name: 'churn',
    version: 7,
    description: 'Logistic regression',
    intended_use: null,
    limitations: null,
    importance: null,
    created_at: null,
    updated_at: null,
    html_path: 'models/churn/versions/7/card/html',
    ...patch
  };
}

describe('cardChanges', () => {
  it('sends only the fields whose text changed, trimmed', () => {
    const stored = card();
    const draft = {
      ...draftOf(stored),
      intended_use: '  Retention calls  ',
      description: 'Logistic regression '
    };
    expect(cardChanges(stored, draft)).toEqual({
      intended_use: 'Retention calls'
    });
  });

  it("clears a field with ''", () => {
    const stored = card({ limitations: 'EU only' });
    expect(
      cardChanges(stored, { ...draftOf(stored), limitations: '' })
    ).toEqual({
      limitations: ''
    });
  });
});

describe('CardModel', () => {
  beforeEach(() => jest.resetAllMocks());

  it('loads the card, saves the edit and takes the answer as the new state', async () => {
    getCard.mockResolvedValue(card());
    updateCard.mockResolvedValue(card({ intended_use: 'Retention calls' }));
    const model = new CardModel('churn', 7);
    await model.load();
    expect(model.state.draft.description).toBe('Logistic regression');
    expect(model.dirty).toBe(false);
    model.edit('intended_use', 'Retention calls');
    expect(model.dirty).toBe(true);
    expect(await model.save()).toBe(true);
    expect(updateCard).toHaveBeenCalledWith('churn', 7, {
      intended_use: 'Retention calls'
    });
    expect(model.state.card?.intended_use).toBe('Retention calls');
    expect(model.dirty).toBe(false);
  });

  it('keeps the draft and shows the error when the server refuses', async () => {
    getCard.mockResolvedValue(card());
    updateCard.mockRejectedValue(new Error('Nothing to change'));
    const model = new CardModel('churn', 7);
    await model.load();
    model.edit('limitations', 'EU only');
    expect(await model.save()).toBe(false);
    expect(model.state.error).toContain('Nothing to change');
    expect(model.state.draft.limitations).toBe('EU only');
  });

  it('refuses a field that is too long before sending it', async () => {
    getCard.mockResolvedValue(card());
    const model = new CardModel('churn', 7);
    await model.load();
    model.edit('description', 'x'.repeat(10001));
    expect(await model.save()).toBe(false);
    expect(updateCard).not.toHaveBeenCalled();
    expect(model.state.error).toContain('Description is longer than 10000');
  });

  it("follows the version's description changed elsewhere, unless it is being edited", async () => {
    getCard.mockResolvedValue(card());
    const model = new CardModel('churn', 7);
    model.syncDescription('ignored before the card loads');
    await model.load();
    model.syncDescription('Logistic regression, L2');
    expect(model.state.draft.description).toBe('Logistic regression, L2');
    expect(model.dirty).toBe(false);
    // someone else's change never overwrites what is being typed
    model.edit('description', 'My own words');
    model.syncDescription('Another change');
    expect(model.state.draft.description).toBe('My own words');
    expect(model.state.card?.description).toBe('Another change');
    expect(model.dirty).toBe(true);
  });

  it('links the rendered card', async () => {
    getCard.mockResolvedValue(card());
    cardUrl.mockImplementation(c => `/mlops/api/${c.html_path}`);
    const model = new CardModel('churn', 7);
    expect(model.htmlUrl).toBeNull();
    await model.load();
    expect(model.htmlUrl).toBe('/mlops/api/models/churn/versions/7/card/html');
  });
});
