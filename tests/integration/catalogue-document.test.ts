// The catalogue's id list in the engine (ids.ts) is a copy of the specification's: this keeps
// the two equal wherever the document sits beside the repository (the developers' machines).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogueIds } from '@tandem/engine';

const doc = path.resolve(import.meta.dirname, '../../../shared/catalogue.md');

describe('the catalogue document', () => {
  it('lists exactly the ids the engine knows, in the same order', () => {
    // A clean clone has no document: the engine's copy is then all there is, and the registry
    // test holds the registry to it.
    const text = fs.existsSync(doc) ? fs.readFileSync(doc, 'utf8') : null;
    const fromDoc = text ? [...text.matchAll(/^\| `([a-z-]+\.[a-z0-9-]+)`/gm)].map((m) => m[1]) : [...catalogueIds];
    expect(fromDoc).toEqual([...catalogueIds]);
    expect(fromDoc).toHaveLength(186);
  });
});
