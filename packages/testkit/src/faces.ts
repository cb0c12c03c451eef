/**
 * Access to the shared face test set (../shared/faces seen from the repository root,
 * or FACELINE_FACES_DIR). Tests call requireFaces() and get one clear message when the
 * folder is missing instead of an obscure ENOENT deep inside a test.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface CatalogEntry {
  sourceRepo: string;
  identity: string;
  /** relative to the faces folder */
  path: string;
  /** absolute path */
  file: string;
  bytes: number;
  width: number;
  height: number;
  kind: string;
  notes: string;
}

export function facesDir(): string {
  return path.resolve(process.env.FACELINE_FACES_DIR ?? path.join(REPO_ROOT, '..', 'shared', 'faces'));
}

export class FacesMissingError extends Error {
  constructor(dir: string) {
    super(
      `The face test set was not found at ${dir} (no CATALOG.tsv). ` +
        'Tests and benchmarks read real photos from there: put the shared faces folder beside the repository ' +
        '(../shared/faces) or set FACELINE_FACES_DIR to its path.',
    );
    this.name = 'FacesMissingError';
  }
}

/** Returns the faces folder, or throws FacesMissingError with a message that says what to do. */
export function requireFaces(dir = facesDir()): string {
  if (!existsSync(path.join(dir, 'CATALOG.tsv'))) throw new FacesMissingError(dir);
  return dir;
}

export function loadCatalog(dir = requireFaces()): CatalogEntry[] {
  const lines = readFileSync(path.join(dir, 'CATALOG.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  const header = lines.shift()?.split('\t') ?? [];
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`CATALOG.tsv has no column ${name}`);
    return i;
  };
  const [iRepo, iId, iPath, iBytes, iWh, iKind, iNotes] = [
    col('source_repo'),
    col('identity'),
    col('path'),
    col('bytes'),
    col('width_x_height'),
    col('kind'),
    col('notes'),
  ];
  return lines.map((line) => {
    const c = line.split('\t');
    const [w, h] = (c[iWh] ?? '0x0').split('x').map(Number);
    const rel = c[iPath] ?? '';
    return {
      sourceRepo: c[iRepo] ?? '',
      identity: c[iId] ?? '',
      path: rel,
      file: path.join(dir, rel),
      bytes: Number(c[iBytes] ?? 0),
      width: w ?? 0,
      height: h ?? 0,
      kind: c[iKind] ?? '',
      notes: c[iNotes] ?? '',
    };
  });
}
