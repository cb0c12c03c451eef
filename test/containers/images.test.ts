// The image recipes, read as text (building them takes Podman and minutes: `npm run
// test:containers` does that and checks the running images the same way). Every image starts
// from Node.js 22 LTS, starts node directly without an entrypoint script (the old one copied
// *_FILE secrets into the environment), and the local base-image stand-in the container check
// builds is the same Node.js line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@faceline/testkit';

const SERVICES = ['web', 'auth', 'vision'] as const;
const dockerfile = (svc: string): string => readFileSync(path.join(REPO_ROOT, 'services', svc, 'Dockerfile'), 'utf8');
/** Instructions of a Dockerfile with continuation lines joined. */
const instructions = (text: string): string[] =>
  text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
const standinVersions = (): Record<string, string> =>
  Object.fromEntries(
    readFileSync(path.join(REPO_ROOT, 'scripts', 'containers', 'standins', 'node', 'VERSIONS'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split('=') as [string, string]),
  );

describe('container images', () => {
  for (const svc of SERVICES) {
    it(`${svc}: built on node:22-bookworm-slim (Node.js 22 LTS; node 20 images are past end of life)`, () => {
      const lines = instructions(dockerfile(svc));
      assert.ok(lines.includes('ARG NODE_IMAGE=node:22-bookworm-slim'), lines.filter((l) => l.startsWith('ARG')).join('\n'));
      assert.match(dockerfile(svc), /org\.opencontainers\.image\.base\.name="docker\.io\/library\/node:22-bookworm-slim"/);
      assert.doesNotMatch(dockerfile(svc), /node:20/);
    });

    it(`${svc}: copies every workspace manifest before npm ci, and builds and ships the shared packages it imports`, () => {
      const text = dockerfile(svc);
      const workspaces = ['packages', 'services'].flatMap((d) =>
        readdirSync(path.join(REPO_ROOT, d))
          .filter((w) => existsSync(path.join(REPO_ROOT, d, w, 'package.json')))
          .map((w) => `${d}/${w}`),
      );
      for (const w of workspaces) {
        const copies = text.split('\n').filter((l) => l.trim() === `COPY ${w}/package.json ${w}/`).length;
        assert.equal(
          copies,
          2,
          `${w}/package.json must be copied in the build and the runtime stage (npm ci checks the lock file against it)`,
        );
      }
      for (const pkg of ['contracts', 'runtime']) {
        assert.match(text, new RegExp(`^COPY packages/${pkg} packages/${pkg}$`, 'm'), `the build stage compiles packages/${pkg}`);
        assert.match(
          text,
          new RegExp(`^COPY --from=build /src/packages/${pkg}/dist packages/${pkg}/dist$`, 'm'),
          `the image ships packages/${pkg}/dist`,
        );
        assert.equal(
          instructions(text).filter((l) => l.includes('npm ci') && l.includes(`--workspace @faceline/${pkg}`)).length,
          2,
          `npm ci installs @faceline/${pkg}'s dependencies in both stages`,
        );
      }
    });

    it(`${svc}: node is started directly, so no script puts *_FILE secrets into the environment`, () => {
      const lines = instructions(dockerfile(svc));
      assert.deepEqual(
        lines.filter((l) => l.startsWith('ENTRYPOINT')),
        ['ENTRYPOINT []'],
        "the official image's docker-entrypoint.sh must be switched off too",
      );
      const cmd = lines.filter((l) => l.startsWith('CMD '));
      assert.deepEqual(JSON.parse(cmd.at(-1)!.slice(4)), ['node', `services/${svc}/dist/server.js`]);
      assert.ok(!lines.some((l) => /entrypoint\.sh|faceline-entrypoint/.test(l)), 'an entrypoint script is still copied in');
      assert.ok(
        !lines.some((l) => /^ENV .*(FACELINE_MASTER_KEY|PGPASSWORD|DATABASE_URL)=/.test(l)),
        'a secret variable is set in the image',
      );
    });
  }

  it('the entrypoint script that exported secrets is gone, and the build context no longer lists it', () => {
    assert.equal(existsSync(path.join(REPO_ROOT, 'scripts', 'containers', 'entrypoint.sh')), false);
    assert.doesNotMatch(readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8'), /entrypoint/);
  });

  it('the stand-in for node:22-bookworm-slim is Node.js 22 from the npm registry, within the engines the project allows', () => {
    const { NODE_VERSION, NPM_VERSION } = standinVersions();
    assert.match(NODE_VERSION ?? '', /^22\.\d+\.\d+$/);
    assert.match(NPM_VERSION ?? '', /^10\.\d+\.\d+$/, 'the official node:22 images carry npm 10');
    const [, minor] = NODE_VERSION!.split('.').map(Number) as [number, number];
    const engines = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    assert.equal(engines, '>=20.19 <21 || >=22.12', 'npm start keeps running on Node 20.19+ and 22');
    assert.ok(minor >= 12, `Node ${NODE_VERSION} is below the engines' 22.12`);
    const script = readFileSync(path.join(REPO_ROOT, 'scripts', 'containers', 'base-images.sh'), 'utf8');
    assert.match(script, /node_tag=docker\.io\/library\/node:22-bookworm-slim/, 'the stand-in must carry the name the Dockerfiles use');
    assert.match(script, /npm pack --silent "\$node_pkg@\$NODE_VERSION" "npm@\$NPM_VERSION"/);
    assert.doesNotMatch(script, /command -v node\)/, "the stand-in must not copy the host's Node.js");
  });
});
