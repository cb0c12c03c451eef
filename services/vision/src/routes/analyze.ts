/** POST /v1/analyze: one image in, faces out. */
import { performance } from 'node:perf_hooks';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import {
  AnalyzeQuery,
  AnalyzeResponse,
  ErrorBody,
  ErrorCode,
  IMAGE_MEDIA_TYPES,
  type AnalyzeResponse as AnalyzeResponseT,
} from '@faceline/contracts';
import type { AnalyzePool } from '../app.js';
import { VisionError, notReady, overloaded } from '../errors.js';
import { GENERIC_BINARY, checkUpload } from '../image/intake.js';
import type { PipelineOptions } from '../pipeline/types.js';

export const ANALYZE_PATH = '/v1/analyze';
export const IMAGE_FIELD = 'image';

const binary = { schema: { type: 'string', format: 'binary' } };
/** OpenAPI description of the body (the route itself takes raw bytes; see app.ts) */
export const ANALYZE_REQUEST_BODY = {
  content: {
    ...Object.fromEntries([...IMAGE_MEDIA_TYPES, GENERIC_BINARY].map((t) => [t, binary])),
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: [IMAGE_FIELD],
        properties: { [IMAGE_FIELD]: { type: 'string', format: 'binary', description: 'JPEG, PNG or WebP' } },
      },
    },
  },
};

const DEFAULTS: PipelineOptions = { largestOnly: false, maxFaces: 20, embeddings: true, minFaceSize: 40 };

export const analyzeRoutes: FastifyPluginAsyncTypebox<{ pool: AnalyzePool }> = async (app, { pool }) => {
  // Fastify's built-in parsers would turn text or JSON into strings and objects; here they are
  // simply not images (415), and that is only known if they are not parsed at all
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.post(
    ANALYZE_PATH,
    {
      schema: {
        tags: ['analyze'],
        summary: 'Detect faces in one image; landmarks, quality and embeddings per face',
        description:
          'The image is the raw body (Content-Type image/jpeg, image/png, image/webp, or application/octet-stream ' +
          'with the type taken from its bytes) or the file field "image" of a multipart/form-data body. ' +
          'EXIF orientation is applied; coordinates are pixels of the upright source image. ' +
          'Embeddings are raw 128-D descriptors (not normalised): compare them with Euclidean distance. ' +
          '503 answers (OVERLOADED, NOT_READY) carry Retry-After and may be retried on another replica.',
        querystring: AnalyzeQuery,
        response: {
          200: AnalyzeResponse,
          400: ErrorBody,
          413: ErrorBody,
          415: ErrorBody,
          422: ErrorBody,
          500: ErrorBody,
          503: ErrorBody,
        },
      },
      // refuse before the body is read when the answer is already known
      onRequest: async () => {
        if (pool.stats().ready === 0) throw notReady();
        if (pool.saturated()) throw overloaded(pool.stats().queued);
      },
    },
    async (req): Promise<AnalyzeResponseT> => {
      const started = performance.now();
      const upload = req.isMultipart() ? await readMultipartImage(req) : readRawImage(req);
      const mediaType = checkUpload(upload.bytes, upload.declared);
      const q = req.query;
      const options: PipelineOptions = {
        largestOnly: q.largestOnly ?? DEFAULTS.largestOnly,
        maxFaces: q.largestOnly ? 1 : (q.maxFaces ?? DEFAULTS.maxFaces),
        embeddings: q.embeddings ?? DEFAULTS.embeddings,
        minFaceSize: q.minFaceSize ?? DEFAULTS.minFaceSize,
        texture: q.texture ?? false,
      };
      const bytes = ownedCopy(upload.bytes);
      const r = await pool.run({ bytes, mediaType, options }, [bytes.buffer]);
      const model = pool.info;
      if (!model) throw new VisionError(ErrorCode.INTERNAL, 'no model information from the workers');
      const m = app.metrics;
      m.decodeSeconds.observe(r.value.decodeMs / 1000);
      m.inferenceSeconds.observe(r.value.inferenceMs / 1000);
      m.queueWaitSeconds.observe(r.queueMs / 1000);
      m.facesPerImage.observe(r.value.faces.length);
      return {
        model,
        image: { ...r.value.image, type: mediaType },
        faces: r.value.faces,
        timings: {
          decodeMs: round(r.value.decodeMs),
          inferenceMs: round(r.value.inferenceMs),
          queueMs: round(r.queueMs),
          totalMs: round(performance.now() - started),
        },
      };
    },
  );
};

const round = (ms: number) => Math.round(ms * 100) / 100;

interface Upload {
  bytes: Uint8Array;
  declared: string | undefined;
}

function readRawImage(req: FastifyRequest): Upload {
  const body = req.body;
  // no body at all (Content-Length: 0 or none) arrives as undefined
  if (body !== undefined && body !== null && !(body instanceof Uint8Array)) {
    throw new VisionError(ErrorCode.IMAGE_UNSUPPORTED_TYPE, 'the body is not an image');
  }
  const bytes = body ?? new Uint8Array(0);
  return { bytes, declared: req.headers['content-type'] };
}

async function readMultipartImage(req: FastifyRequest): Promise<Upload> {
  let found: Upload | undefined;
  try {
    for await (const part of req.parts()) {
      if (part.type !== 'file') continue;
      const file = part as MultipartFile;
      const bytes = await file.toBuffer();
      if (file.fieldname === IMAGE_FIELD && !found) found = { bytes, declared: file.mimetype };
    }
  } catch (e) {
    // size limits keep their own 413 codes (app.ts); anything else is a malformed body
    if ((e as { statusCode?: number }).statusCode === 413) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new VisionError(ErrorCode.BAD_REQUEST, `malformed multipart/form-data body: ${message.slice(0, 200)}`);
  }
  if (!found) {
    throw new VisionError(ErrorCode.VALIDATION_FAILED, `the multipart body has no file field "${IMAGE_FIELD}"`);
  }
  return found;
}

/**
 * The bytes' buffer is transferred to a worker, which detaches it here. Fastify may hand out a
 * view into a shared pool buffer (small bodies), so transfer only a buffer this request owns.
 */
function ownedCopy(b: Uint8Array): Uint8Array<ArrayBuffer> {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer && !isPooled(b)) {
    return b as Uint8Array<ArrayBuffer>;
  }
  return new Uint8Array(b);
}

function isPooled(b: Uint8Array): boolean {
  // Buffer.allocUnsafe slabs are 8 KiB and shared; a body exactly that size could still be one
  return b.buffer.byteLength <= Buffer.poolSize;
}
