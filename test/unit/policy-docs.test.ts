// docs/policies.md shows each recipe of test/fixtures/policies with readable placeholders; this
// keeps the page and the fixtures (which the unit and integration tests drive) the same policies.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'policies');
const doc = fs.readFileSync(path.join(ROOT, 'docs', 'policies.md'), 'utf8');

// The page's placeholders and the fixtures' values for them.
const PLACEHOLDERS: Record<string, string> = {
  OWNER_ID: '1'.repeat(64),
  PARTNER_ID: '2'.repeat(64),
  DROPBOX_KEY_ID: 'CKDROPBOX00000000001',
  BACKUP_KEY_ID: 'CKBACKUP000000000001',
};

/** Every `<!-- fixture: NAME, bucket: BUCKET -->` marker with the JSON block that follows it. */
function recipesInDoc(): Array<{ fixture: string; bucket: string; json: string }> {
  const found = [];
  for (const m of doc.matchAll(/<!-- fixture: ([\w.-]+), bucket: ([\w.-]+) -->\n```json\n([\s\S]*?)\n```/g)) {
    found.push({ fixture: m[1]!, bucket: m[2]!, json: m[3]! });
  }
  return found;
}

it('shows every fixture once, each as the fixture with the page\'s bucket and placeholders', () => {
  const recipes = recipesInDoc();
  const fixtures = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort();
  expect(recipes.map((r) => r.fixture).sort()).toEqual(fixtures);
  for (const r of recipes) {
    let text = r.json.replaceAll(`arn:aws:s3:::${r.bucket}`, 'arn:aws:s3:::recipes');
    for (const [name, value] of Object.entries(PLACEHOLDERS)) text = text.replaceAll(name, value);
    expect(JSON.parse(text), r.fixture).toEqual(JSON.parse(fs.readFileSync(path.join(FIXTURES, r.fixture), 'utf8')));
  }
});

it('has no JSON block without its fixture marker (an untested recipe)', () => {
  const blocks = [...doc.matchAll(/```json\n/g)].length;
  expect(blocks).toBe(recipesInDoc().length);
});
