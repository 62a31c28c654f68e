import {
  TagSyntaxError,
  parseTags,
  tagChanges,
  tagsText
} from '../runs/run-edits-model';

describe('run tag editing', () => {
  const tags = {
    team: 'vision',
    stage: 'dev',
    'mlops.source': 'cell',
    'mlops.note': 'first try'
  };

  it('shows only user tags as sorted key=value lines', () => {
    expect(tagsText(tags)).toBe('stage=dev\nteam=vision');
  });

  it('reads key=value lines, the first = splitting, blank lines skipped', () => {
    expect(parseTags(' a = 1 \n\nurl=http://x?q=1\nempty=')).toEqual({
      a: '1',
      url: 'http://x?q=1',
      empty: ''
    });
  });

  it('names the bad line and the fix', () => {
    expect(() => parseTags('team=vision\njust words')).toThrow(TagSyntaxError);
    expect(() => parseTags('team=vision\njust words')).toThrow(
      /Line 2 \("just words"\) is not key=value/
    );
    expect(() => parseTags('=x')).toThrow(/Line 1/);
    expect(() => parseTags('mlops.source=api')).toThrow(
      /belong to the tracker/
    );
  });

  it('sends only what changed: new or changed tags set, deleted lines removed', () => {
    expect(tagChanges(tags, 'team=vision\nstage=prod\nowner=ana')).toEqual({
      set_tags: { stage: 'prod', owner: 'ana' }
    });
    expect(tagChanges(tags, 'stage=dev')).toEqual({ remove_tags: ['team'] });
    expect(tagChanges(tags, tagsText(tags))).toBeNull();
  });
});
